// Moving owned partitions to the broker's clock: a marker goes only to
// partitions still on receivedAt, only once the topic reads LogAppendTime, and
// not again while one is on its way; the topic is set to LogAppendTime keeping
// its own settings (scripts/stack/kafka-topics.ts).
import t from 'tap';
import { pino } from 'pino';
import kafkajs, { type DescribeConfigResponse, type IResourceConfig } from 'kafkajs';
import { ClockSwitch, CONFIG_CHECK_INTERVAL_MS, LOG_APPEND_TIME, MARK_AGAIN_AFTER_MS, TIMESTAMP_TYPE } from '../../consumer/clock-switch.js';
import { PartitionOwner } from '../../consumer/owner.js';
import { PartitionLedger } from '../../consumer/partition.js';
import { appendWithLogAppendTime, logAppendTimeRefusal } from '../../scripts/stack/kafka-topics.js';

const DAY = 86_400_000;
const { ConfigSource } = kafkajs;

function entry(configName: string, configValue: string, configSource = ConfigSource.TOPIC_CONFIG, isSensitive = false) {
  return { configName, configValue, isDefault: false, configSource, isSensitive, readOnly: false, configSynonyms: [] };
}

/** A topic's settings as describeConfigs answers them, and the alterations asked for. */
function topicAdmin(entries: ReturnType<typeof entry>[]) {
  const altered: IResourceConfig[][] = [];
  let described = 0;
  const admin = {
    describeConfigs: async (): Promise<DescribeConfigResponse> => {
      described++;
      return { resources: [{ configEntries: entries, errorCode: 0, errorMessage: '', resourceName: 't', resourceType: 2 }], throttleTime: 0 };
    },
    alterConfigs: async ({ resources }: { resources: IResourceConfig[] }) => {
      altered.push(resources);
    },
  };
  return { admin, altered, described: () => described };
}

function owners(ledgers: Map<number, PartitionLedger>) {
  const pending = new Map([...ledgers].map(([p, ledger]) => [p, Promise.resolve(new PartitionOwner(ledger, 0))]));
  return { entries: () => [...pending], isCurrent: () => true };
}

function setup(timestampType: string) {
  const topic = topicAdmin([entry(TIMESTAMP_TYPE, timestampType)]);
  const ledgers = new Map([0, 1, 2].map((p) => [p, new PartitionLedger(p, DAY)]));
  const published: number[][] = [];
  const warnings: string[] = [];
  let now = 1_000_000;
  const log = pino({ level: 'warn' }, { write: (line: string) => warnings.push(line) });
  const clockSwitch = new ClockSwitch(
    {
      owners: owners(ledgers),
      admin: topic.admin,
      publish: async (partitions) => {
        published.push(partitions);
        return true;
      },
      log,
      stopping: () => false,
      now: () => now,
    },
    'teller.transactions',
  );
  return { clockSwitch, ledgers, published, warnings, topic, advance: (ms: number) => (now += ms) };
}

t.test('a marker goes to each partition still on receivedAt once the topic appends with LogAppendTime, then not again', async (t) => {
  const { clockSwitch, ledgers, published, advance } = setup(LOG_APPEND_TIME);
  ledgers.get(1)!.apply({ v: 1, type: 'clock', source: 'log-append-time', receivedAt: 1 }, 0, 1);
  await clockSwitch.round();
  t.same(published, [[0, 2]], 'partitions 0 and 2: partition 1 reads the broker clock already');
  advance(MARK_AGAIN_AFTER_MS - 1);
  await clockSwitch.round();
  t.equal(published.length, 1, 'not again while the first is on its way');
  ledgers.get(0)!.apply({ v: 1, type: 'clock', source: 'log-append-time', receivedAt: 1 }, 0, 1);
  advance(1);
  await clockSwitch.round();
  t.same(published, [[0, 2], [2]], 'partition 2 has not read its marker yet: it gets another, which changes nothing more');
});

t.test('on a topic that keeps the producers\' times, no marker, one warning, and the topic is read again later', async (t) => {
  const { clockSwitch, published, warnings, topic, advance } = setup('CreateTime');
  await clockSwitch.round();
  await clockSwitch.round();
  t.same(published, [], 'no marker');
  t.equal(warnings.length, 1, 'warned once');
  t.match(warnings[0], /message\.timestamp\.type is not LogAppendTime/);
  t.equal(topic.described(), 1, 'read once within the interval');
  advance(CONFIG_CHECK_INTERVAL_MS);
  await clockSwitch.round();
  t.equal(topic.described(), 2, 'read again after it');
});

t.test("the topic's own settings go along with the new timestamp type; a topic with it already is left alone", async (t) => {
  const createTime = topicAdmin([
    entry('retention.ms', '86400000'),
    entry(TIMESTAMP_TYPE, 'CreateTime'),
    entry('cleanup.policy', 'delete', ConfigSource.DEFAULT_CONFIG),
  ]);
  t.equal(await appendWithLogAppendTime(createTime.admin, 't'), undefined);
  t.same(createTime.altered, [
    [
      {
        type: 2,
        name: 't',
        configEntries: [
          { name: 'retention.ms', value: '86400000' },
          { name: TIMESTAMP_TYPE, value: LOG_APPEND_TIME },
        ],
      },
    ],
  ]);

  const already = topicAdmin([entry(TIMESTAMP_TYPE, LOG_APPEND_TIME)]);
  t.equal(await appendWithLogAppendTime(already.admin, 't'), undefined);
  t.same(already.altered, [], 'nothing altered: the call is idempotent');

  const secret = topicAdmin([entry('sasl.thing', '', ConfigSource.TOPIC_CONFIG, true), entry(TIMESTAMP_TYPE, 'CreateTime')]);
  t.match(await appendWithLogAppendTime(secret.admin, 't'), /sasl\.thing cannot be read back/);
  t.same(secret.altered, [], 'a setting that cannot be kept is not wiped');
});

t.test('a node that does not know the new topic yet is tried again; a refusal that will not change is reported', async (t) => {
  const failing = (error: Error) => ({
    describeConfigs: async () => {
      throw error;
    },
    alterConfigs: async () => undefined,
  });
  const unknown = Object.assign(new Error('This server does not host this topic-partition'), { name: 'KafkaJSProtocolError', retriable: true });
  await t.rejects(logAppendTimeRefusal(failing(unknown), 't'), unknown, 'thrown, for start.ts to try the topics again');
  const denied = Object.assign(new Error('Topic authorization failed'), { name: 'KafkaJSProtocolError', retriable: false });
  t.equal(await logAppendTimeRefusal(failing(denied), 't'), 'Topic authorization failed');
  t.equal(await logAppendTimeRefusal(topicAdmin([entry(TIMESTAMP_TYPE, LOG_APPEND_TIME)]).admin, 't'), undefined);
});
