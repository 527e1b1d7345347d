// The operator scripts against the real stack: topics (add-partitions refused
// without --force, done with it on a throwaway topic), the lag report, and the
// dead-letter redrive after a fix.
import { join } from 'node:path';
import { execa } from 'execa';
import { Kafka, logLevel } from 'kafkajs';
import t from 'tap';
import { encodeMessage } from '../../common/message.js';
import type { TxMessage } from '../../common/types.js';
import { root } from '../../scripts/stack/paths.js';
import { uniq } from '../helpers/http.js';
import { config, readStack, waitFor } from '../helpers/stack.js';
import { v1 } from '../helpers/v1.js';

const stack = readStack();
const kafka = new Kafka({ clientId: 'teller-ops-test', brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING });

function script(name: string, args: string[], env: Record<string, string> = {}) {
  return execa(process.execPath, [join(root, 'dist', 'scripts', 'operations', `${name}.js`), ...args], {
    reject: false,
    env: { KAFKA_BROKERS: stack.kafkaBrokers.join(','), REDIS_URL: stack.redisUrl, MONGODB_URI: stack.mongoUri, ...env },
    timeout: 120_000,
  });
}

async function partitionCount(topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions.length;
  } finally {
    await admin.disconnect();
  }
}

t.test('topics: describe, and add-partitions refused without --force', async (t) => {
  const d = await script('topics', ['describe']);
  t.equal(d.exitCode, 0);
  const topics = JSON.parse(d.stdout) as { topic: string; partitions: number }[];
  t.match(topics.find((x) => x.topic === config.topic), { partitions: config.partitions });
  t.match(topics.find((x) => x.topic === config.eventsTopic), { partitions: config.partitions }, 'the events topic, with as many partitions');

  const refused = await script('topics', ['add-partitions', String(config.partitions + 4)]);
  t.equal(refused.exitCode, 1, 'refused');
  t.match(refused.stderr, /refusing to add partitions/);
  t.match(refused.stderr, /moves accounts between partitions/);
  t.match(refused.stderr, /--force/);
  t.equal(await partitionCount(config.topic), config.partitions, 'the topic is unchanged');

  const smaller = await script('topics', ['add-partitions', '1', '--force']);
  t.equal(smaller.exitCode, 1, 'a count that does not grow is refused even with --force');
  t.equal(await partitionCount(config.topic), config.partitions);
});

t.test('topics: create and add-partitions --force on a throwaway topic', async (t) => {
  const topic = `teller.test.${uniq('topics')}`;
  const env = { KAFKA_TOPIC: topic, KAFKA_DLQ_TOPIC: `${topic}.dlq`, EVENTS_TOPIC: `${topic}.events`, KAFKA_PARTITIONS: '2' };
  t.teardown(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic, `${topic}.dlq`, `${topic}.events`] }).catch(() => undefined);
    await admin.disconnect();
  });
  const created = await script('topics', ['create'], env);
  t.equal(created.exitCode, 0, created.stderr);
  t.equal(await partitionCount(topic), 2);
  t.equal(await partitionCount(`${topic}.events`), 2, 'its events topic too');
  const added = await script('topics', ['add-partitions', '3', '--force'], env);
  t.equal(added.exitCode, 0, added.stderr);
  t.same(JSON.parse(added.stdout), { topic, from: 2, to: 3 });
  t.match(added.stderr, /WARNING: Adding partitions moves accounts between partitions/, 'the warning is printed even when forced');
  await waitFor(async () => (await partitionCount(topic)) === 3, { what: '3 partitions', timeoutMs: 10_000 });
  await waitFor(async () => (await partitionCount(`${topic}.events`)) === 3, { what: '3 events partitions', timeoutMs: 10_000 });
  t.pass('the topic and its events topic have 3 partitions');
});

t.test('lag: one row per partition, each with its owner', async (t) => {
  const r = await script('kafka-lag', ['--json']);
  t.equal(r.exitCode, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as { partition: number; committed: number; end: number; lag: number; owner: string | null }[];
  t.same(
    rows.map((x) => x.partition),
    Array.from({ length: config.partitions }, (_, i) => i),
  );
  for (const row of rows) {
    t.ok(row.lag >= 0 && row.end >= row.committed, `partition ${row.partition}: committed ${row.committed}, end ${row.end}, lag ${row.lag}`);
    t.match(row.owner, /^teller-consumer-\d+ /, `partition ${row.partition} is owned by ${row.owner}`);
  }
  const table = await script('kafka-lag', []);
  t.match(table.stdout, /partition\s+committed\s+end\s+lag\s+owner/);
  t.match(table.stdout, /total\s+\d+/);
});

t.test('dlq:redrive: revalidates, republishes what now passes, skips what does not, and only once', async (t) => {
  const a = uniq('redrive');
  const valid: TxMessage = { v: 1, id: `${a}-d`, type: 'deposit', accountId: a, amount: 42, receivedAt: Date.now(), replyTo: 'api-gone' };
  const producer = kafka.producer();
  await producer.connect();
  // As if dead-lettered by an older, stricter version: the current schema accepts the first.
  await producer.send({
    topic: config.dlqTopic,
    messages: [
      { key: a, value: encodeMessage(valid), headers: { 'teller-dlq-reason': 'schema: (an older rule)' } },
      { key: a, value: JSON.stringify({ v: 2, id: `${a}-x`, type: 'deposit', accountId: a, amount: 1, receivedAt: 1 }) },
      { key: a, value: '{"not json' },
    ],
  });
  await producer.disconnect();

  const dry = await script('dlq-redrive', ['--dry-run']);
  t.equal(dry.exitCode, 0, dry.stderr);
  const dryReport = JSON.parse(dry.stdout);
  t.match(dryReport, { dryRun: true });
  t.ok(dryReport.redriven >= 1 && dryReport.skipped >= 2, `a dry run counts (${dry.stderr.trim()})`);
  t.equal((await v1.account(a)).status, 404, 'and sends nothing');

  const run = await script('dlq-redrive', []);
  t.equal(run.exitCode, 0, run.stderr);
  const report = JSON.parse(run.stdout);
  t.ok(report.redriven >= 1, `redriven ${report.redriven}`);
  t.ok(report.skipped >= 2, `skipped ${report.skipped}: ${JSON.stringify(report.reasons)}`);
  t.ok(report.reasons['not JSON'] >= 1, 'the unparseable one is skipped as not JSON');
  t.ok(Object.keys(report.reasons).some((r) => r.startsWith('schema:')), 'the off-schema one is skipped with its reason');
  await waitFor(async () => (await v1.account(a)).body?.balance === 42, { what: 'the redriven deposit applied', timeoutMs: 20_000 });
  t.pass('the redriven deposit is applied');
  const status = await v1.transaction(`${a}-d`);
  t.match(status.body, { status: 'applied', amount: 42 });

  const again = await script('dlq-redrive', []);
  t.equal(again.exitCode, 0, again.stderr);
  t.match(JSON.parse(again.stdout), { read: 0, redriven: 0 }, 'a second run finds nothing new');
  t.equal((await v1.account(a)).body.balance, 42, 'applied once');
});
