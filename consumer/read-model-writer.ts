// Writes the read model and announces outcomes, one Lua call per partition
// batch, so the write and the announcement are atomic and in order. Every
// account write is guarded by the offset of the change: a stale owner waking
// up, or a replay, cannot overwrite newer state.
import type { ClientContext, Redis, Result } from 'ioredis';
import { keys } from '../common/redis-keys.js';
import { remember } from '../common/remembered.js';
import type { Outcome } from '../common/types.js';
import type { Account } from './ledger.js';

// ARGV: partition, n, then n x (accountKey, balance, reserved, updatedAt, offset),
//       ttl, m, then m x (outcomeKey, outcome packed as common/remembered.ts packs it),
//       c, then c x (channel, json). Returns 1 when the partition's readiness
//       marker is present (Redis has its whole state).
const APPLY = `
local i = 2
local n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do
  local cur = redis.call('HGET', ARGV[i], 'o')
  if (not cur) or tonumber(cur) < tonumber(ARGV[i + 4]) then
    redis.call('HSET', ARGV[i], 'b', ARGV[i + 1], 'r', ARGV[i + 2], 'u', ARGV[i + 3], 'o', ARGV[i + 4])
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

export interface AccountWrite {
  accountId: string;
  account: Account;
  offset: number;
}

export interface Announcement {
  outcome: Outcome;
  replyTo: string | undefined;
}

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
    for (const a of accounts) {
      args.push(keys.account(a.accountId), a.account.balance, a.account.reserved, a.account.updatedAt, a.offset);
    }
    args.push(this.outcomeTtlSeconds, stored.length);
    for (const o of stored) args.push(keys.outcome(o.accountId, o.id), remember(o));
    const byReplica = new Map<string, Outcome[]>();
    for (const a of announced) {
      if (a.replyTo === undefined) continue;
      const list = byReplica.get(a.replyTo);
      if (list) list.push(a.outcome);
      else byReplica.set(a.replyTo, [a.outcome]);
    }
    args.push(byReplica.size);
    for (const [replica, outcomes] of byReplica) args.push(keys.replyChannel(replica), JSON.stringify(outcomes));
    return (await this.redis.tellerApply(...args)) === 1;
  }

  /** Writes remembered outcomes and their ids back into the registry, after Redis lost them. */
  async restoreOutcomes(outcomes: Outcome[], registryTtlSeconds: number): Promise<void> {
    const pipeline = this.redis.pipeline();
    for (const o of outcomes) {
      pipeline.set(keys.outcome(o.accountId, o.id), remember(o), 'EX', this.outcomeTtlSeconds);
      if (!o.id.includes('~')) pipeline.set(keys.txId(o.id), o.accountId, 'EX', registryTtlSeconds);
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
