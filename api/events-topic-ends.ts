// The events topic's end offsets, read when a webhook endpoint is registered:
// they become the endpoint's start (common/webhooks.ts, startOffsets), so it
// receives exactly the events published after its registration.
import type { Admin } from 'kafkajs';
import { endsByPartition } from '../common/webhooks.js';
import type { EventsTopicEnds } from './webhook-store.js';

/** A registration waits this long for Kafka at most, then answers 503. */
const READ_TIMEOUT_MS = 5000;

/** Reads through `admin`, connecting it on first use (a connected admin's connect returns at once). */
export function eventsTopicEnds(admin: Pick<Admin, 'connect' | 'fetchTopicOffsets'>, topic: string): EventsTopicEnds {
  return async () => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the offsets of ${topic} were not read within ${READ_TIMEOUT_MS} ms`)), READ_TIMEOUT_MS);
    });
    try {
      const offsets = await Promise.race([admin.connect().then(() => admin.fetchTopicOffsets(topic)), late]);
      return endsByPartition(offsets);
    } finally {
      clearTimeout(timer);
    }
  };
}
