// Which group members apply partitions (ACTIVE_CONSUMERS) and which stand by:
// the pure choice, the claim each member sends, and the kafkajs assigner that
// carries them, decoded the way a member decodes its assignment.
import t from 'tap';
import { AssignerProtocol } from 'kafkajs';
import { activeStandbyAssigner, assignPartitions, chooseActive, decodeClaim, Membership, type MemberClaim } from '../../consumer/assigner.js';

const P12 = Array.from({ length: 12 }, (_, i) => i);
const claim = (memberId: string, startedAt: number, assignedAt: number | null = null): MemberClaim => ({ memberId, startedAt, assignedAt });
const ids = (ms: MemberClaim[]) => ms.map((m) => m.memberId);

t.test('one active member: the owner keeps every partition, the others get none', async (t) => {
  const members = [claim('b', 100, 500), claim('a', 50), claim('c', 10)];
  const out = assignPartitions(members, P12, 1);
  t.same(out.get('b'), P12, 'the member applying partitions keeps all of them');
  t.same(out.get('a'), [], 'an older member standing by stays standing by');
  t.same(out.get('c'), []);
  t.same([...out.keys()].sort(), ['a', 'b', 'c'], 'every member gets an assignment, empty or not');
});

t.test('no owner (first start, or the owner died): the oldest process becomes active', async (t) => {
  t.same(ids(chooseActive([claim('young', 300), claim('old', 100), claim('mid', 200)], 1)), ['old']);
  t.same(ids(chooseActive([claim('b', 100), claim('a', 100)], 1)), ['a'], 'same start: member id decides, so every leader agrees');
  const out = assignPartitions([claim('restarted', 900), claim('standby', 100)], P12, 1);
  t.same(out.get('standby'), P12, 'a restarted member stands by behind the one that took over');
});

t.test('two claimants (a stalled owner came back): the most recently assigned wins', async (t) => {
  const members = [claim('stalled', 10, 1_000), claim('took-over', 20, 9_000)];
  t.same(ids(chooseActive(members, 1)), ['took-over']);
  t.same(assignPartitions(members, P12, 1).get('stalled'), []);
});

t.test('several active members share the partitions round robin; the rest stand by', async (t) => {
  const members = [claim('a', 1), claim('b', 2), claim('c', 3), claim('d', 4)];
  const out = assignPartitions(members, P12, 2);
  t.same(out.get('a'), [0, 2, 4, 6, 8, 10]);
  t.same(out.get('b'), [1, 3, 5, 7, 9, 11]);
  t.same(out.get('c'), []);
  t.same(out.get('d'), []);
  const all = assignPartitions(members, P12, 0);
  t.same(
    [...all.values()].map((p) => p.length),
    [3, 3, 3, 3],
    '0 makes every member active',
  );
  t.same([...all.values()].flat().sort((x, y) => x - y), P12, 'each partition exactly once');
  t.same([...assignPartitions([claim('a', 1)], P12, 5).values()], [P12], 'more active slots than members: all members work');
});

t.test('each partition goes to exactly one member, whatever the claims', async (t) => {
  for (let seed = 1; seed <= 200; seed++) {
    const rnd = mulberry32(seed);
    const n = 1 + Math.floor(rnd() * 6);
    const members = Array.from({ length: n }, (_, i) => claim(`m${i}`, Math.floor(rnd() * 5), rnd() < 0.4 ? Math.floor(rnd() * 5) : null));
    const active = Math.floor(rnd() * 4);
    const out = assignPartitions(members, P12, active);
    t.same([...out.values()].flat().sort((x, y) => x - y), P12, `seed ${seed}: every partition once`);
    const working = [...out.values()].filter((p) => p.length > 0).length;
    t.equal(working, Math.min(active === 0 ? n : active, n, 12), `seed ${seed}: ${working} members work`);
  }
});

t.test('a claim survives the wire; garbage reads as a new member applying nothing', async (t) => {
  let now = 5_000;
  const m = new Membership(1_234, () => now);
  t.same(decodeClaim('x', m.encode(), 0), claim('x', 1_234, null));
  m.noteAssignment(6);
  t.same(decodeClaim('x', m.encode(), 0), claim('x', 1_234, 5_000));
  now = 6_000;
  m.noteAssignment(0);
  t.same(decodeClaim('x', m.encode(), 0), claim('x', 1_234, null), 'an empty assignment withdraws the claim');
  t.same(decodeClaim('y', Buffer.from('not json'), 77), claim('y', 77, null));
  t.same(decodeClaim('y', Buffer.alloc(0), 77), claim('y', 77, null));
  t.same(decodeClaim('y', Buffer.from('{"startedAt":"soon","assignedAt":{}}'), 77), claim('y', 77, null));
});

t.test('the kafkajs assigner: protocol metadata in, member assignments out', async (t) => {
  const cluster = { findTopicPartitionMetadata: () => P12.map((partitionId) => ({ partitionId })) };
  const owner = new Membership(200, () => 300);
  owner.noteAssignment(12);
  const standby = new Membership(100);
  const assigner = (m: Membership) => activeStandbyAssigner(m, 1)({ cluster, groupId: 'g', logger: {} } as never);
  const members = [
    { memberId: 'owner', memberMetadata: assigner(owner).protocol({ topics: ['t'] }).metadata },
    { memberId: 'standby', memberMetadata: assigner(standby).protocol({ topics: ['t'] }).metadata },
  ];
  t.equal(assigner(owner).protocol({ topics: ['t'] }).name, 'TellerActiveStandby');
  const out = await assigner(standby).assign({ members, topics: ['t'] });
  const decoded = new Map(out.map((a) => [a.memberId, AssignerProtocol.MemberAssignment.decode(a.memberAssignment)!.assignment]));
  t.same(decoded.get('owner'), { t: P12 }, 'the owner keeps the topic, whoever leads the group');
  t.same(decoded.get('standby'), { t: [] });
});

function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
