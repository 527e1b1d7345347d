// `npm run topics`: creates Teller's topics with the configured partition
// count, idempotently, and describes them:
//   node dist/scripts/operations/topics.js create | describe | add-partitions N [--force]
// (add-partitions refuses without --force: see scripts/operations/add-partitions.ts).
import { pathToFileURL } from 'node:url';
import { loadConfigOrExit, type Config } from '../../common/config.js';
import { withAdmin } from '../shared/kafka-admin.js';
import { createTopics, topicNames } from '../stack/kafka-topics.js';
import { ADD_PARTITIONS_WARNING, addPartitions } from './add-partitions.js';

export async function describeTopics(config: Config, brokers: string[] = config.kafkaBrokers) {
  return withAdmin(
    brokers,
    async (admin) => {
      const meta = await admin.fetchTopicMetadata({ topics: topicNames(config) });
      const result = [];
      for (const t of meta.topics) {
        const offsets = await admin.fetchTopicOffsets(t.name);
        const messages = offsets.reduce((sum, o) => sum + Number(o.high) - Number(o.low), 0);
        result.push({ topic: t.name, partitions: t.partitions.length, messages, leaders: [...new Set(t.partitions.map((p) => p.leader))] });
      }
      return result;
    },
    'teller-topics',
  );
}

async function cli(command: string | undefined, args: string[]): Promise<void> {
  const config = loadConfigOrExit();
  if (command === 'create') console.log(JSON.stringify(await createTopics(config), null, 2));
  else if (command === 'describe') console.log(JSON.stringify(await describeTopics(config), null, 2));
  else if (command === 'add-partitions' && args[0] !== undefined) {
    const result = await addPartitions(config, Number(args[0]), args.includes('--force'));
    console.error(`WARNING: ${ADD_PARTITIONS_WARNING}`);
    console.log(JSON.stringify(result, null, 2));
  } else {
    console.error('usage: node dist/scripts/operations/topics.js create | describe | add-partitions N [--force]');
    process.exit(2);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  cli(process.argv[2], process.argv.slice(3)).catch((err: Error) => {
    console.error(`topics: ${err.message}`);
    process.exit(1);
  });
}
