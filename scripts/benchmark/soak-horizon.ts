// Redis read past the outcome horizon. What Redis keeps per id (an outcome, a
// registration across accounts) lives OUTCOME_TTL_SECONDS, longer than a soak
// of minutes, so its used_memory right after the load counts the last
// horizon's ids. Once the horizon has passed since the last write, those keys
// have expired, and what Redis still holds is what it retains.
import type { Redis } from 'ioredis';
import { withTimeout } from '../shared/wait.js';
import { redisUsedMemory } from './soak-memory.js';

/**
 * Past the horizon, the time Redis is given to free the expired keys: it
 * deletes them in a background cycle (20 keys sampled at a time, ten times a
 * second, sampling again while more than a tenth of a sample had expired),
 * not at the second each expires.
 */
export const EXPIRY_GRACE_MS = 30_000;

/** Milliseconds from `now` until `ttlS` and the grace have passed since `writesDoneAt`; 0 when they have. */
function msUntilPastHorizon(writesDoneAt: number, ttlS: number, now: number): number {
  return Math.max(0, writesDoneAt + ttlS * 1000 + EXPIRY_GRACE_MS - now);
}

/** How long to wait, from `now`, until the horizon and the grace have passed; null when that is more than `maxWaitS`. */
export function horizonWaitMs(writesDoneAt: number, ttlS: number, maxWaitS: number, now: number): number | null {
  const waitMs = msUntilPastHorizon(writesDoneAt, ttlS, now);
  return waitMs > maxWaitS * 1000 ? null : waitMs;
}

/** Keys with a time to live, over every database of a Redis `INFO keyspace` text. */
export function keysWithTtlOf(info: string): number {
  let total = 0;
  for (const m of info.matchAll(/^db\d+:keys=\d+,expires=(\d+)/gm)) total += Number(m[1]);
  return total;
}

/** A note when many keys still had a time to live past the horizon (more than one for a hundred ids added). */
export function keysWithTtlNote(keysWithTtl: number | null, idsAdded: number | null | undefined, ttlS: number): string[] {
  if (keysWithTtl === null || !idsAdded || keysWithTtl <= idsAdded / 100) return [];
  return [`${keysWithTtl} keys still had a time to live past the horizon: is the stack's OUTCOME_TTL_SECONDS longer than ${ttlS} s?`];
}

export interface PastHorizon {
  /** used_memory past the horizon; null when not read. */
  usedBytes: number | null;
  /** Keys still with a time to live then: many mean the stack's OUTCOME_TTL_SECONDS is longer than the benchmark's. */
  keysWithTtl: number | null;
  notes: string[];
}

/** Waits out the horizon (at most `maxWaitS`, saying how long through `onWait`), then reads Redis's used_memory and its keys with a time to live. */
export async function readPastHorizon(redis: Redis, writesDoneAt: number, ttlS: number, maxWaitS: number, onWait: (message: string) => void): Promise<PastHorizon> {
  const now = Date.now();
  const waitMs = horizonWaitMs(writesDoneAt, ttlS, maxWaitS, now);
  if (waitMs === null) {
    const offS = Math.ceil(msUntilPastHorizon(writesDoneAt, ttlS, now) / 1000);
    return { usedBytes: null, keysWithTtl: null, notes: [`Redis was not read past the outcome horizon: that was ${offS} s off, more than --soak-horizon-wait ${maxWaitS} s`] };
  }
  onWait(`${Math.ceil(waitMs / 1000)} s until OUTCOME_TTL_SECONDS (${ttlS} s) and ${EXPIRY_GRACE_MS / 1000} s have passed since the last write, then Redis is read again`);
  await new Promise((resolve) => setTimeout(resolve, waitMs));
  const usedBytes = await redisUsedMemory(redis);
  const keysWithTtl = await withTimeout(redis.info('keyspace'), 2000, 'redis INFO keyspace').then(keysWithTtlOf, () => null);
  const notes = usedBytes === null ? ['Redis did not answer its reading past the outcome horizon'] : [];
  return { usedBytes, keysWithTtl, notes };
}
