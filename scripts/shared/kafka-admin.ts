// A short-lived kafkajs admin client for the operator scripts (topics, lag,
// dead-letter redrive): quiet logs, connected for one job and closed after it.
import { Kafka, logLevel, type Admin } from 'kafkajs';

export function operatorKafka(brokers: string[], clientId: string): Kafka {
  return new Kafka({ clientId, brokers, logLevel: logLevel.NOTHING, connectionTimeout: 3000, requestTimeout: 10000 });
}

export async function withAdmin<T>(brokers: string[], fn: (admin: Admin) => Promise<T>, clientId = 'teller-ops'): Promise<T> {
  const admin = operatorKafka(brokers, clientId).admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}
