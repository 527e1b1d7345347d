// Writes the read model and announces outcomes, one Lua call per partition
// batch, so the write and the announcement are atomic and in order. Every
// account write is guarded by the offset of the change: a stale owner waking
// up, or a replay, cannot overwrite newer state. What is written where is the
// contract's (common/read-model.ts); this file holds the script and the I/O.
import type { ClientContext, Redis, Result } from 'ioredis';
import {
  ACCOUNT_FIELDS,
  announcementMessages,
  encodeAccount,
  encodeStoredOutcome,
  keys,
  type AccountWrite,
  type Announcement,
} from '../common/read-model.js';
import type { Outcome } from '../common/types.js';

// ARGV: partition's readiness key, n, then n x (accountKey, balance, reserved, updatedAt, offset),
//       ttl, m, then m x (outcomeKey, stored outcome), c, then c x (channel, payload).
//       Returns 1 when the partition's readiness marker is present (Redis has its whole state).
const APPLY = `
local i = 2
local n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do
  local cur = redis.call('HGET', ARGV[i], '${ACCOUNT_FIELDS.offset}')
  if (not cur) or tonumber(cur) < tonumber(ARGV[i + 4]) then
    redis.call('HSET', ARGV[i], '${ACCOUNT_FIELDS.balance}', ARGV[i + 1], '${ACCOUNT_FIELDS.reserved}', ARGV[i + 2], '${ACCOUNT_FIELDS.updatedAt}', ARGV[i + 3], '${ACCOUNT_FIELDS.offset}', ARGV[i + 4])
  end
  i = i + 5
end
local ttl = ARGV[i]; i = i + 1
local m = tonumber(ARGV[i]); i = i + 1
for _ = 1, m do
  redis.call('SET', ARGV[i], ARGV[i + 1], 'EX', ttl)
  i = i + 2
end
local c = tonumber(ARGV[i]); i = i + 1
for _ = 1, c do
  redis.call('PUBLISH', ARGV[i], ARGV[i + 1])
  i = i + 2
end
return redis.call('EXISTS', ARGV[1])
`;

declare module 'ioredis' {
  interface RedisCommander<Context extends ClientContext = { type: 'default' }> {
    tellerApply(...args: (string | number)[]): Result<number, Context>;
  }
}

export class ReadModelWriter {
  constructor(
    private readonly redis: Redis,
    private readonly outcomeTtlSeconds: number,
  ) {
    redis.defineCommand('tellerApply', { numberOfKeys: 0, lua: APPLY });
  }

  /**
   * Writes accounts and outcomes, publishes the outcomes to the replicas
   * waiting for them, and tells whether the partition's read model is whole.
   */
  async apply(partition: number, accounts: AccountWrite[], stored: Outcome[], announced: Announcement[]): Promise<boolean> {
    const args: (string | number)[] = [keys.ready(partition), accounts.length];
    for (const a of accounts) args.push(keys.account(a.accountId), ...encodeAccount(a));
    args.push(this.outcomeTtlSeconds, stored.length);
    for (const o of stored) args.push(keys.outcome(o.accountId, o.id), encodeStoredOutcome(o));
    const messages = announcementMessages(announced);
    args.push(messages.length);
    for (const [channel, payload] of messages) args.push(channel, payload);
    return (await this.redis.tellerApply(...args)) === 1;
  }

  /** Writes remembered outcomes and their ids back into the registry, after Redis lost them. */
  async restoreOutcomes(outcomes: Outcome[], registryTtlSeconds: number): Promise<void> {
    const pipeline = this.redis.pipeline();
    // The registry keeps an id no longer than its outcome: Redis holds nothing an id past that horizon.
    const registrySeconds = Math.min(registryTtlSeconds, this.outcomeTtlSeconds);
    for (const o of outcomes) {
      pipeline.set(keys.outcome(o.accountId, o.id), encodeStoredOutcome(o), 'EX', this.outcomeTtlSeconds);
      if (!o.id.includes('~')) pipeline.set(keys.txId(o.id), o.accountId, 'EX', registrySeconds);
    }
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([err]) => err);
    if (failed) throw failed[0];
  }

  async isReady(partition: number): Promise<boolean> {
    return (await this.redis.exists(keys.ready(partition))) === 1;
  }

  /** Marks the partition's read model whole: reads of unknown accounts may now answer 0. */
  async markReady(partition: number, owner: string): Promise<void> {
    await this.redis.set(keys.ready(partition), owner);
  }
}
