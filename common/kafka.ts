// One place that builds kafkajs clients, so both sides log through pino and
// share broker settings.
import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import type { Logger } from 'pino';
import type { Config } from './config.js';

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** `requestTimeoutMs` replaces the 10 s each request may wait for its answer (the api's, PRODUCER_REQUEST_TIMEOUT_MS). */
export function createKafka(config: Config, clientId: string, log: Logger, options: { requestTimeoutMs?: number } = {}): Kafka {
  const kafkaLog = log.child({ component: 'kafkajs' });
  return new Kafka({
    clientId,
    brokers: config.kafkaBrokers,
    connectionTimeout: 3000,
    requestTimeout: options.requestTimeoutMs ?? 10000,
    retry: { initialRetryTime: 100, maxRetryTime: 2000, retries: 8 },
    // kafkajs logs at INFO on every rebalance and reconnect; WARN keeps the logs readable.
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...rest } = entry;
        kafkaLog[LEVELS[level] ?? 'info'](rest, message);
      },
  });
}
