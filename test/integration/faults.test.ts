// The pipeline under faults, on the real stack: a consumer killed between its
// decisions and its commits, a poison record, and a takeover from a snapshot.
import t from 'tap';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { readConfig } from '../../common/config.js';
import { partitionOf } from '../../common/message.js';
import { balanceOf, get, tx, uniq, type Reply, type TxType } from '../helpers/http.js';
import { closeLedger, ledger } from '../helpers/ledger.js';
import { activeConsumer, consumerMetrics, partitionsOwned } from '../../scripts/operations/active-consumers.js';
import { sumOf } from '../../scripts/shared/prometheus-text.js';
import { killComponent, readStack, waitFor, waitRestarted } from '../helpers/stack.js';

const config = readConfig();
const kafka = new Kafka({ clientId: 'teller-tests', brokers: config.kafkaBrokers, logLevel: logLevel.NOTHING });

t.teardown(closeLedger);

/** Sends a call until it is accepted (2xx or 402), as a client with its own books would. */
async function until2xx(id: string, type: TxType, amount: number, accountId: string): Promise<Reply> {
  let last: Reply | undefined;
  await waitFor(
    async () => {
      last = await tx(id, type, amount, accountId).catch(() => undefined);
      return last !== undefined && ((last.status >= 200 && last.status < 300) || last.status === 402);
    },
    { timeoutMs: 60_000, intervalMs: 250, what: `${id} accepted` },
  );
  return last!;
}

async function partitionsCount(): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const meta = await admin.fetchTopicMetadata({ topics: [config.topic] });
    return meta.topics[0]!.partitions.length;
  } finally {
    await admin.disconnect();
  }
}

t.test('a consumer killed with SIGKILL mid-flow applies nothing twice and loses nothing', async (t) => {
  const accounts = Array.from({ length: 8 }, () => uniq('kill'));
  const expected = new Map(accounts.map((a) => [a, 0]));
  const ids: string[] = [];
  let sent = 0;
  const total = 400;
  let killed: number | undefined;
  const victim = await activeConsumer(readStack());
  const worker = async () => {
    while (sent < total) {
      const n = sent++;
      const a = accounts[n % accounts.length]!;
      const id = `${a}-${n}`;
      ids.push(id);
      if (n === 120 && killed === undefined) killed = killComponent(victim, 'SIGKILL');
      await until2xx(id, 'deposit', 3, a);
      expected.set(a, expected.get(a)! + 3);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  t.ok(killed, `${victim}, an owner of partitions, was killed under load`);
  await waitRestarted(victim, killed!);

  for (const a of accounts) {
    await waitFor(async () => (await balanceOf(a).catch(() => -1)) === expected.get(a), {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: `balance of ${a} reaches ${expected.get(a)}`,
    });
    t.equal(await balanceOf(a), expected.get(a), `${a}: balance equals the client's books`);
  }
  const c = await ledger();
  await waitFor(async () => (await c.countDocuments({ accountId: { $in: accounts } })) >= total, {
    timeoutMs: 60_000,
    intervalMs: 500,
    what: 'every deposit in the ledger',
  });
  const docs = await c.find({ accountId: { $in: accounts } }).toArray();
  t.equal(docs.length, total, 'one ledger document per call');
  t.equal(new Set(docs.map((d) => d.id)).size, total, 'each id once');
  t.same(new Set(docs.map((d) => d.id)), new Set(ids), 'every acknowledged id is there');
});

t.test("only ACTIVE_CONSUMERS members own partitions; the others stand by and take over a killed owner's", async (t) => {
  const stack = readStack();
  const consumers = stack.components.filter((c) => c.kind === 'consumer').length;
  const active = config.activeConsumers === 0 ? consumers : Math.min(config.activeConsumers, consumers);
  // Settled: every consumer answers and each partition has one owner; who owns them is asserted after.
  const settled = async () => {
    const owned = await partitionsOwned(stack);
    const total = [...owned.values()].reduce((n, c) => n + c, 0);
    return owned.size === consumers && total === config.partitions ? owned : undefined;
  };
  const owners = (owned: Map<string, number>) => [...owned].filter(([, c]) => c > 0).map(([name]) => name);
  const before = await waitFor(settled, { timeoutMs: 60_000, intervalMs: 250, what: `all ${config.partitions} partitions owned` });
  t.equal(owners(before).length, active, `${active} of ${consumers} consumers own partitions`);
  t.equal([...before.values()].filter((c) => c === 0).length, consumers - active, `${consumers - active} consumer(s) stand by`);

  const victim = owners(before)[0]!;
  await waitRestarted(victim, killComponent(victim, 'SIGKILL'));
  const after = await waitFor(settled, { timeoutMs: 60_000, intervalMs: 250, what: 'every partition owned again' });
  t.equal(owners(after).length, active, `${active} consumer(s) own partitions after the takeover`);
  if (active < consumers) t.equal(after.get(victim), 0, `${victim}, restarted, stands by: the partitions stayed with the member that took them over`);
  const a = uniq('standby');
  t.equal((await tx(`${a}-d`, 'deposit', 7, a)).status, 200, 'a call is decided again after the takeover');
  if (active === consumers) return;

  // A member leaving and joining again moves nothing: the owners keep their partitions and their state.
  const owner = owners(after)[0]!;
  const standby = [...after].find(([, c]) => c === 0)![0];
  const counters = async () => {
    const samples = (await consumerMetrics(stack)).get(owner);
    return samples && { joins: sumOf(samples, 'teller_consumer_group_joins_total'), loads: sumOf(samples, 'teller_consumer_partition_loads_total') };
  };
  const start = (await counters())!;
  await waitRestarted(standby, killComponent(standby, 'SIGTERM'));
  await waitFor(async () => ((await counters())?.joins ?? 0) > start.joins, { timeoutMs: 60_000, intervalMs: 250, what: `${owner} through a rebalance` });
  const again = await waitFor(settled, { timeoutMs: 60_000, intervalMs: 250, what: 'every partition owned after the rebalance' });
  t.strictSame(owners(again), owners(after), 'the same members own partitions');
  t.equal(again.get(owner), after.get(owner), `${owner} owns as many partitions as before`);
  const b = uniq('rejoin');
  t.equal((await tx(`${b}-d`, 'deposit', 9, b)).status, 200, 'calls are decided through the rebalance');
  t.equal((await tx(`${a}-d`, 'deposit', 7, a)).status, 200, 'a repeat from before the rebalance is answered');
  t.equal(await balanceOf(a), 7, 'and applied once');
  t.equal((await counters())!.loads, start.loads, `${owner} loaded no partition again: it kept their state`);
});

t.test('a poison record goes to the dead-letter topic and the partition keeps flowing', async (t) => {
  const a = uniq('poison');
  const partition = partitionOf(a, await partitionsCount());
  const marker = uniq('garbage');
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  await producer.send({
    topic: config.topic,
    messages: [
      { key: a, partition, value: `{"not": "a transaction", "marker": "${marker}"` },
      { key: a, partition, value: JSON.stringify({ v: 1, id: marker, type: 'deposit', accountId: a, amount: '5', receivedAt: Date.now() }) },
    ],
  });
  await producer.disconnect();

  const r = await tx(`${a}-after`, 'deposit', 40, a);
  t.equal(r.status, 200, 'the partition still decides calls after the poison');
  t.equal(r.body.balance, 40, 'the poison changed nothing');

  const found = new Map<string, string>();
  const consumer = kafka.consumer({ groupId: uniq('dlq-reader') });
  await consumer.connect();
  await consumer.subscribe({ topic: config.dlqTopic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const value = message.value?.toString() ?? '';
      if (value.includes(marker)) found.set(value, message.headers?.['teller-dlq-reason']?.toString() ?? '');
    },
  });
  try {
    await waitFor(async () => found.size === 2, { timeoutMs: 30_000, intervalMs: 200, what: 'both poison records dead-lettered' });
  } finally {
    await consumer.disconnect();
  }
  const reasons = [...found.values()];
  t.ok(reasons.some((x) => x.startsWith('not JSON')), `one is not JSON: ${reasons}`);
  t.ok(reasons.some((x) => x.startsWith('schema')), `one breaks the schema: ${reasons}`);
});

t.test('a partition taken over from a snapshot plus a replay has the same state', async (t) => {
  const accounts = Array.from({ length: 12 }, () => uniq('takeover'));
  for (const a of accounts) {
    t.equal((await tx(`${a}-d`, 'deposit', 100, a)).status, 200);
    t.equal((await tx(`${a}-r`, 'withdraw_request', 60, a)).status, 201);
  }
  // Snapshots are taken every SNAPSHOT_INTERVAL_MS: wait until each partition involved has one.
  const partitions = await partitionsCount();
  const wanted = new Set(accounts.map((a) => partitionOf(a, partitions)));
  const client = await MongoClient.connect(config.mongoUri);
  try {
    await waitFor(
      async () => {
        const names = (await client.db(config.mongoDb).listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name);
        return [...wanted].every((p) => names.some((n) => n.startsWith(`snapshot.p${p}.`)));
      },
      { timeoutMs: 90_000, intervalMs: 1000, what: 'a snapshot of every partition involved' },
    );
  } finally {
    await client.close();
  }
  // Calls after the snapshot, which only a replay of the log can bring back.
  for (const a of accounts) t.equal((await tx(`${a}-d2`, 'deposit', 5, a)).status, 200);

  const old1 = killComponent('consumer-1', 'SIGKILL');
  const old2 = killComponent('consumer-2', 'SIGKILL');
  await waitRestarted('consumer-1', old1);
  await waitRestarted('consumer-2', old2);

  for (const a of accounts) {
    // Retried until decided (a 202 during the takeover becomes a replayed 200 once the owner is back).
    await waitFor(async () => (await tx(`${a}-d3`, 'deposit', 1, a)).status === 200, {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: `${a} served again`,
    });
    // balance 106 - reserved 60 = 46 available: only an owner that rebuilt the hold and both
    // later deposits from the snapshot and the log denies 47 and approves 46.
    const denied = await tx(`${a}-r2`, 'withdraw_request', 47, a);
    t.equal(denied.status, 402, `${a}: the hold survived the takeover`);
    t.match(denied.body, { reason: 'insufficient_funds', balance: 106, reserved: 60 });
    const approved = await tx(`${a}-r3`, 'withdraw_request', 46, a);
    t.equal(approved.status, 201, `${a}: exactly what is available can still be held`);
    t.match(approved.body, { balance: 106, reserved: 106 });
    t.equal((await get(`/account/${a}`)).body.balance, 106);
  }
});

t.test('a withdrawal request not decided in time is denied, and its hold is released', async (t) => {
  const a = uniq('late');
  t.equal((await tx(`${a}-d`, 'deposit', 100, a)).status, 200);
  // Both owners stall for less than the session timeout: no takeover, just a late decision.
  const stalled = ['consumer-1', 'consumer-2'].map((name) => killComponent(name, 'SIGSTOP'));
  let late;
  try {
    late = await tx(`${a}-r`, 'withdraw_request', 100, a);
  } finally {
    for (const pid of stalled) process.kill(pid, 'SIGCONT');
  }
  t.equal(late.status, 402, 'not decided within the deadline -> 402');
  t.match(late.body, { status: 'denied', reason: 'timeout' });

  // The request is decided late (approved), then the cancel published after the timeout releases it.
  let attempt = 0;
  await waitFor(async () => (await tx(`${a}-r2-${attempt++}`, 'withdraw_request', 100, a)).status === 201, {
    timeoutMs: 30_000,
    intervalMs: 250,
    what: 'the whole balance can be held again',
  });
  const retry = await tx(`${a}-r`, 'withdraw_request', 100, a);
  t.equal(retry.status, 402, 'a retry of the timed-out request stays denied');
  t.match(retry.body, { status: 'cancelled', replayed: true });
  t.equal(await balanceOf(a), 100, 'no money moved');
});
