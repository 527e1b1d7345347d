// `npm run lag`: how far the ledger consumers are behind, per partition: the
// group's committed offset against the end of the log, and which member owns
// the partition now. `--json` prints the rows as JSON.
//
// Committed trails decided by design (the answers go out before the ledger
// insert and its commit), so a lag of a few messages under load is normal;
// a lag that grows, or a partition with no owner, is not.
import { pathToFileURL } from 'node:url';
import { AssignerProtocol, type Admin } from 'kafkajs';
import { loadConfigOrExit, type Config } from '../../common/config.js';
import { withAdmin } from '../shared/kafka-admin.js';

export interface LagRow {
  partition: number;
  /** Next offset the group will read; -1 when it never committed. */
  committed: number;
  end: number;
  lag: number;
  owner: string | null;
}

async function owners(admin: Admin, config: Config): Promise<Map<number, string>> {
  const byPartition = new Map<number, string>();
  const { groups } = await admin.describeGroups([config.groupId]);
  for (const member of groups[0]?.members ?? []) {
    const assignment = AssignerProtocol.MemberAssignment.decode(member.memberAssignment);
    for (const p of assignment?.assignment[config.topic] ?? []) byPartition.set(p, `${member.clientId} (${member.clientHost.replace(/^\//, '')})`);
  }
  return byPartition;
}

export async function lagReport(config: Config): Promise<LagRow[]> {
  return withAdmin(config.kafkaBrokers, async (admin) => {
    const [ends, committed, owned] = await Promise.all([
      admin.fetchTopicOffsets(config.topic),
      admin.fetchOffsets({ groupId: config.groupId, topics: [config.topic] }),
      owners(admin, config),
    ]);
    const done = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
    return ends
      .map((e) => {
        const end = Number(e.high);
        const c = done.get(e.partition) ?? -1;
        // Never committed: everything still in the log is behind.
        const lag = c < 0 ? end - Number(e.low) : Math.max(0, end - c);
        return { partition: e.partition, committed: c, end, lag, owner: owned.get(e.partition) ?? null };
      })
      .sort((a, b) => a.partition - b.partition);
  });
}

function table(rows: LagRow[]): string {
  const header = ['partition', 'committed', 'end', 'lag', 'owner'];
  const cells = rows.map((r) => [String(r.partition), String(r.committed), String(r.end), String(r.lag), r.owner ?? '(none)']);
  const total = rows.reduce((s, r) => s + r.lag, 0);
  cells.push(['total', '', '', String(total), '']);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => (i === 4 ? v : v.padStart(widths[i]!))).join('  ');
  return [line(header), ...cells.map(line)].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const config = loadConfigOrExit();
  lagReport(config)
    .then((rows) => {
      if (process.argv.includes('--json')) console.log(JSON.stringify(rows, null, 2));
      else console.log(`${config.topic}, group ${config.groupId}\n${table(rows)}`);
    })
    .catch((err: Error) => {
      console.error(`lag: ${err.message}`);
      process.exit(1);
    });
}
