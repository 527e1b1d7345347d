// Which group members apply which partitions. Only the first ACTIVE_CONSUMERS
// members get partitions; the others join the group, heartbeat and stand by
// until a rebalance needs them (kafkajs 2.2 heartbeats from the fetch loop even
// with nothing assigned, so an idle member stays in the group).
//
// Why not spread every partition over every member: each consumer pays for its
// own fetches, inserts, commits and Redis round trips per batch, so two of them
// sharing a load pay those per-batch costs twice over batches half the size.
// On a machine with a core or two that nearly doubles the consumers' CPU a
// call (the per-component CPU of `npm run bench -- --phases contract`, the
// README's benchmark section), while a standby gives the same takeover when
// the active one dies.
import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

export const ASSIGNER_NAME = 'TellerActiveStandby';

/** What a member tells the group leader about itself when it joins. */
export interface MemberClaim {
  memberId: string;
  /** When its process started (ms): older members are preferred, so a restarted one stands by. */
  startedAt: number;
  /** When it last received a non-empty assignment, or null if it applies nothing now. */
  assignedAt: number | null;
}

/**
 * The members that get partitions, in order. Members applying partitions now
 * come first, so a member joining or rejoining never moves a partition off a
 * live owner; among them the most recently assigned first (a member that
 * stalled past its session and comes back still claims what another took over
 * since). Then the members standing by, oldest process first.
 */
export function chooseActive(members: MemberClaim[], active: number): MemberClaim[] {
  const owning = members.filter((m) => m.assignedAt !== null).sort((a, b) => b.assignedAt! - a.assignedAt! || byAge(a, b));
  const standing = members.filter((m) => m.assignedAt === null).sort(byAge);
  const limit = active === 0 ? members.length : Math.min(active, members.length);
  return [...owning, ...standing].slice(0, limit);
}

function byAge(a: MemberClaim, b: MemberClaim): number {
  return a.startedAt - b.startedAt || (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0);
}

/** Partitions dealt round robin over the chosen members, in member id order; every member listed, with [] for those standing by. */
export function assignPartitions(members: MemberClaim[], partitions: number[], active: number): Map<string, number[]> {
  const chosen = chooseActive(members, active)
    .map((m) => m.memberId)
    .sort();
  const out = new Map<string, number[]>(members.map((m) => [m.memberId, []]));
  [...partitions].sort((a, b) => a - b).forEach((p, i) => out.get(chosen[i % chosen.length]!)!.push(p));
  return out;
}

/** This member's side of the claim: kept up to date from the assignments it receives. */
export class Membership {
  private assignedAt: number | null = null;

  constructor(
    readonly startedAt: number = Date.now(),
    private readonly now: () => number = Date.now,
  ) {}

  noteAssignment(partitionCount: number): void {
    this.assignedAt = partitionCount > 0 ? this.now() : null;
  }

  encode(): Buffer {
    return Buffer.from(JSON.stringify({ startedAt: this.startedAt, assignedAt: this.assignedAt }));
  }
}

/** Reads a member's claim; anything unreadable counts as a member started now that applies nothing. */
export function decodeClaim(memberId: string, userData: Buffer | null | undefined, now: number): MemberClaim {
  try {
    const o = JSON.parse((userData ?? Buffer.alloc(0)).toString()) as { startedAt?: unknown; assignedAt?: unknown };
    const startedAt = typeof o.startedAt === 'number' ? o.startedAt : now;
    const assignedAt = typeof o.assignedAt === 'number' ? o.assignedAt : null;
    return { memberId, startedAt, assignedAt };
  } catch {
    return { memberId, startedAt: now, assignedAt: null };
  }
}

/** The kafkajs side: the group leader runs `assign` for everyone with what each member's `protocol` sent. */
export function activeStandbyAssigner(membership: Membership, active: number): PartitionAssigner {
  return ({ cluster }) => ({
    name: ASSIGNER_NAME,
    version: 0,
    async assign({ members, topics }) {
      const now = Date.now();
      const claims = members.map((m) => decodeClaim(m.memberId, AssignerProtocol.MemberMetadata.decode(m.memberMetadata)?.userData, now));
      const byMember = new Map<string, Record<string, number[]>>(members.map((m) => [m.memberId, {}]));
      for (const topic of topics) {
        const partitions = cluster.findTopicPartitionMetadata(topic).map((p) => p.partitionId);
        for (const [memberId, owned] of assignPartitions(claims, partitions, active)) byMember.get(memberId)![topic] = owned;
      }
      return [...byMember].map(([memberId, assignment]) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 0, assignment, userData: Buffer.alloc(0) }),
      }));
    },
    protocol({ topics }) {
      return {
        name: ASSIGNER_NAME,
        metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: membership.encode() }),
      };
    },
  });
}
