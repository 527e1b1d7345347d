// The local stack that npm start runs: every component is up and answers for
// real, NGINX's own errors are problem+json, and the supervisor brings back a
// component that dies or hangs.
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import t from 'tap';
import { rawRequest } from '../helpers/raw-http.js';
import { baseUrl, config, isAlive, killComponent, pidOf, readStack, waitFor, waitHttpOk, waitRestarted } from '../helpers/stack.js';

const stack = readStack();
const names = (kind: string) => stack.components.filter((c) => c.kind === kind).map((c) => c.name);

/** Lines of the supervisor's log written since `since`, parsed. */
function supervisorLog(since: number): { component?: string; msg: string; time: number; reason?: string }[] {
  return readFileSync(stack.supervisorLog, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line))
    .filter((entry) => entry.time >= since);
}

t.test('every component of the stack is running', async (t) => {
  t.ok(isAlive(stack.pid), `supervisor pid ${stack.pid} alive`);
  for (const c of stack.components) {
    const pid = pidOf(c.name);
    t.ok(pid !== undefined && isAlive(pid), `${c.name} pid ${pid} alive`);
  }
  t.equal(names('api').length, config.apiReplicas, 'one api component per replica');
  t.equal(names('consumer').length, config.consumers, 'one consumer component per configured consumer');
  t.equal(names('webhooks').length, config.webhooksEnabled && config.eventsEnabled ? 1 : 0, 'one webhook dispatcher while webhooks and events are on');
});

t.test('Kafka has the topics with the configured partitions', async (t) => {
  const admin = new Kafka({ clientId: 'teller-stack-test', brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  const meta = await admin.fetchTopicMetadata({ topics: [config.topic, config.dlqTopic] });
  const partitions = Object.fromEntries(meta.topics.map((tp) => [tp.name, tp.partitions.length]));
  t.equal(partitions[config.topic], config.partitions, `${config.topic} has ${config.partitions} partitions`);
  t.ok((partitions[config.dlqTopic] ?? 0) >= 1, `${config.dlqTopic} exists`);
  for (const tp of meta.topics) t.ok(tp.partitions.every((p) => p.leader >= 0), `every partition of ${tp.name} has a leader`);
});

t.test('the MongoDB-compatible server answers a real query', async (t) => {
  const client = new MongoClient(stack.mongoUri, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  t.teardown(() => client.close());
  const coll = client.db(config.mongoDb).collection<{ _id: string; n: number }>('_stack_test');
  const _id = `probe-${process.pid}-${Date.now()}`;
  await coll.insertOne({ _id, n: 42 });
  t.same(await coll.findOne({ _id }), { _id, n: 42 }, 'a document written is read back');
  await coll.deleteOne({ _id });
  t.equal(await coll.findOne({ _id }), null, 'and deleted');
});

t.test('Redis answers PING', async (t) => {
  const redis = new Redis(stack.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  t.teardown(() => redis.disconnect());
  t.equal(await redis.ping(), 'PONG');
});

t.test('NGINX proxies to the api and answers its own errors as problem+json', async (t) => {
  const ready = await fetch(`${baseUrl}/readyz`);
  await ready.arrayBuffer();
  t.equal(ready.status, 200, '/readyz through NGINX');
  t.equal(ready.headers.get('connection'), 'keep-alive', 'client connections are kept alive');

  // NGINX itself refuses a body over 16 KiB, before any replica sees it.
  const big = await fetch(`${baseUrl}/transaction`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ pad: 'x'.repeat(20 * 1024) }),
  });
  t.equal(big.status, 413);
  t.match(big.headers.get('content-type'), /^application\/problem\+json/);
  t.match(await big.json(), { type: 'about:blank', title: 'Payload Too Large', status: 413, detail: String });

  // An unknown route reaches a replica, whose 404 passes through untouched.
  const missing = await fetch(`${baseUrl}/no-such-route`);
  t.equal(missing.status, 404);
  t.match(missing.headers.get('content-type'), /^application\/problem\+json/);
  t.match(await missing.json(), { status: 404, title: String });
});

t.test('requests NGINX refuses before any replica sees them are problem+json too', async (t) => {
  const cases: [what: string, head: string, status: number][] = [
    ['dot segments above the root', 'GET /../../v1/accounts/a HTTP/1.1', 400],
    ['a URI longer than the header buffers', `GET /v1/accounts/${'a'.repeat(10_000)} HTTP/1.1`, 414],
    ['a header larger than the header buffers', `GET /v1/accounts/a HTTP/1.1\r\nX-Pad: ${'p'.repeat(10_000)}`, 400],
  ];
  for (const [what, head, status] of cases) {
    const reply = await rawRequest(head);
    t.equal(reply.status, status, `${what}: ${status}`);
    t.match(reply.headers['content-type'], /^application\/problem\+json/, `${what}: problem+json`);
    t.match(JSON.parse(reply.body), { status, title: String, detail: String }, `${what}: a problem body`);
  }
});

t.test('an api replica killed with SIGKILL is restarted, and the restart is logged', async (t) => {
  const name = names('api')[0]!;
  const port = readStack().components.find((c) => c.name === name)!.port!;
  const since = Date.now();
  const oldPid = killComponent(name, 'SIGKILL');
  const newPid = await waitRestarted(name, oldPid);
  t.not(newPid, oldPid, `${name} runs again as pid ${newPid}`);
  await waitHttpOk(`http://127.0.0.1:${port}/healthz`);
  t.pass(`${name} answers /healthz again`);
  const log = supervisorLog(since).filter((e) => e.component === name);
  t.ok(log.some((e) => /exited on SIGKILL/.test(e.msg)), 'the exit is logged');
  t.ok(log.some((e) => /^restarting /.test(e.msg)), 'the restart is logged');
  await waitHttpOk(`${baseUrl}/readyz`);
});

t.test('a FerretDB that stops answering is restarted by the watchdog', async (t) => {
  const since = Date.now();
  // SIGSTOP freezes it: the port stays open but no query is ever answered, as when a database is wedged.
  const oldPid = killComponent('ferretdb', 'SIGSTOP');
  t.teardown(() => {
    if (isAlive(oldPid)) process.kill(oldPid, 'SIGCONT');
  });
  const newPid = await waitRestarted('ferretdb', oldPid, 90_000);
  t.not(newPid, oldPid, `ferretdb runs again as pid ${newPid}`);
  const log = supervisorLog(since).filter((e) => e.component === 'ferretdb');
  t.ok(log.some((e) => e.msg === 'FerretDB probe failed'), 'the failed probes are logged');
  t.ok(log.some((e) => /^restarting ferretdb: /.test(e.msg)), 'the restart is logged with its reason');

  const client = new MongoClient(stack.mongoUri, { serverSelectionTimeoutMS: 5000 });
  t.teardown(() => client.close());
  await waitFor(() => client.db(config.mongoDb).collection('_probe').findOne({}), { what: 'FerretDB answering', timeoutMs: 30_000 });
  t.pass('FerretDB answers queries again');
  await waitHttpOk(`${baseUrl}/readyz`, 60_000);
  t.pass('the stack is ready again');
});
