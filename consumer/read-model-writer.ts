// Writes the read model and announces outcomes, one Lua call per partition
// batch, so the write and the announcement are atomic and in order. Every
// account write is guarded by the offset of the change: a stale owner waking
// up, or a replay, cannot overwrite newer state. Every call also compares the
// partition's written marker with what the owner expects Redis to hold
// (consumer/read-model-knowledge.ts). What is written where is the
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
import type { ReadModelAnswer, WrittenMark } from './read-model-knowledge.js';

// The head every write shares: ARGV[1] the partition's ready key, ARGV[2] its written key,
// ARGV[3] the offset Redis must hold the partition through. Below it, Redis lacks writes (it
// lost some it acknowledged, or an earlier owner's failed): the ready marker is withdrawn at
// once, so reads of the partition wait (503) rather than serve state older than answers given.
const BEHIND_HEAD = `
local written = tonumber(redis.call('GET', ARGV[2]) or '-1')
local behind = written < tonumber(ARGV[3])
if behind then redis.call('DEL', ARGV[1]) end
`;

// ARGV: the head's three, the offset to raise the written marker to (-1: none),
//       n, then n x (accountKey, balance, reserved, updatedAt, offset, overdraftLimit, status),
//       a setting '' at its default, deleted from the hash rather than written (common/read-model.ts),
//       ttl, m, then m x (outcomeKey, stored outcome), c, then c x (channel, payload).
// Returns -1 when Redis was behind, else 1 when the ready marker is present, 0 when not.
const APPLY = `${BEHIND_HEAD}
local i = 5
local n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do
  local cur = redis.call('HGET', ARGV[i], '${ACCOUNT_FIELDS.offset}')
  if (not cur) or tonumber(cur) < tonumber(ARGV[i + 4]) then
    redis.call('HSET', ARGV[i], '${ACCOUNT_FIELDS.balance}', ARGV[i + 1], '${ACCOUNT_FIELDS.reserved}', ARGV[i + 2], '${ACCOUNT_FIELDS.updatedAt}', ARGV[i + 3], '${ACCOUNT_FIELDS.offset}', ARGV[i + 4])
    if ARGV[i + 5] == '' then redis.call('HDEL', ARGV[i], '${ACCOUNT_FIELDS.overdraftLimit}') else redis.call('HSET', ARGV[i], '${ACCOUNT_FIELDS.overdraftLimit}', ARGV[i + 5]) end
    if ARGV[i + 6] == '' then redis.call('HDEL', ARGV[i], '${ACCOUNT_FIELDS.status}') else redis.call('HSET', ARGV[i], '${ACCOUNT_FIELDS.status}', ARGV[i + 6]) end
  end
  i = i + 7
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
if behind then return -1 end
if tonumber(ARGV[4]) > written then redis.call('SET', ARGV[2], ARGV[4]) end
return redis.call('EXISTS', ARGV[1])
`;

// The end of a write-back. ARGV: the head's three, the offset the partition was written as of,
// the owner's name. A written marker gone since the write-back began (Redis restarted empty)
// counts as behind. Returns -1 when behind, 1 once the ready marker is set.
const FINISH_WRITE_BACK = `
if redis.call('EXISTS', ARGV[2]) == 0 then
  redis.call('DEL', ARGV[1])
  return -1
end
${BEHIND_HEAD}
if behind then return -1 end
if tonumber(ARGV[4]) > written then redis.call('SET', ARGV[2], ARGV[4]) end
redis.call('SET', ARGV[1], ARGV[5])
return 1
`;

declare module 'ioredis' {
  interface RedisCommander<Context extends ClientContext = { type: 'default' }> {
    /** One array, not spread: ioredis flattens it, and a batch's arguments can outnumber what a call's stack holds. */
    tellerApply(args: (string | number)[]): Result<number, Context>;
    tellerFinishWriteBack(...args: (string | number)[]): Result<number, Context>;
  }
}

export class ReadModelWriter {
  constructor(
    private readonly redis: Redis,
    private readonly outcomeTtlSeconds: number,
  ) {
    redis.defineCommand('tellerApply', { numberOfKeys: 0, lua: APPLY });
    redis.defineCommand('tellerFinishWriteBack', { numberOfKeys: 0, lua: FINISH_WRITE_BACK });
  }

  /**
   * Writes accounts and outcomes, publishes the outcomes to the replicas
   * waiting for them, raises the partition's written marker to `mark.record`
   * unless Redis is behind `mark.expected`, and tells what Redis holds.
   */
  async apply(partition: number, accounts: AccountWrite[], stored: Outcome[], announced: Announcement[], mark: WrittenMark): Promise<ReadModelAnswer> {
    const args: (string | number)[] = [keys.ready(partition), keys.written(partition), mark.expected, mark.record, accounts.length];
    for (const a of accounts) args.push(keys.account(a.accountId), ...encodeAccount(a));
    args.push(this.outcomeTtlSeconds, stored.length);
    for (const o of stored) args.push(keys.outcome(o.accountId, o.id), encodeStoredOutcome(o));
    const messages = announcementMessages(announced);
    args.push(messages.length);
    for (const [channel, payload] of messages) args.push(channel, payload);
    return answerOf(await this.redis.tellerApply(args));
  }

  /** What Redis holds of the partition against `mark`, writing nothing but the withdrawal of a ready marker Redis is behind. */
  check(partition: number, mark: WrittenMark): Promise<ReadModelAnswer> {
    return this.apply(partition, [], [], [], { ...mark, record: -1 });
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

  /**
   * Before a partition is written back: answers its written marker, setting
   * it when there is none, so that its end can tell whether Redis lost
   * writes meanwhile (the marker lower, or gone after a restart).
   */
  async beginWriteBack(partition: number): Promise<number> {
    const previous = await this.redis.set(keys.written(partition), -1, 'NX', 'GET');
    return previous === null ? -1 : Number(previous);
  }

  /**
   * Ends a write-back of the partition as of `offset`: raises the written
   * marker to it and sets the ready marker (reads of unknown accounts may now
   * answer 0), unless the marker is gone or below `expected`, what
   * `beginWriteBack` answered.
   */
  async finishWriteBack(partition: number, expected: number, offset: number, owner: string): Promise<ReadModelAnswer> {
    return answerOf(await this.redis.tellerFinishWriteBack(keys.ready(partition), keys.written(partition), expected, offset, owner));
  }
}

function answerOf(reply: number): ReadModelAnswer {
  return reply === 1 ? 'whole' : reply === 0 ? 'missing' : 'behind';
}
