// Redis as the partition owners use it (consumer/read-model-writer.ts), in
// memory: the offset-guarded account writes, stored outcomes, the id registry,
// and the ready and written markers, with the same answers as the Lua scripts.
// It can refuse writes, as Redis does at its memory limit (reads and the
// withdrawal of a ready marker still go through), and lose writes, as a Redis
// restarted from an older persistence file does.
import type { AccountWrite, Announcement } from '../../common/read-model.js';
import type { Outcome } from '../../common/types.js';
import type { ReadModelAnswer, WrittenMark } from '../../consumer/read-model-knowledge.js';
import type { RestorerReadModel } from '../../consumer/read-model-restorer.js';

export class MemoryReadModel implements RestorerReadModel {
  readonly accounts = new Map<string, AccountWrite>();
  /** Stored outcomes by `<accountId>/<id>`. */
  readonly outcomes = new Map<string, Outcome>();
  /** The id registry: id -> account. */
  readonly registry = new Map<string, string>();
  /** Ready markers: partition -> the owner that set it. */
  readonly ready = new Map<number, string>();
  readonly written = new Map<number, number>();
  /** Every account id sent to be written, in order (guarded or not). */
  readonly accountsSent: string[] = [];
  readonly announced: Announcement[] = [];
  /** True: every call that writes fails, as Redis refusing writes at its memory limit. */
  refusingWrites = false;

  async apply(partition: number, accounts: AccountWrite[], stored: Outcome[], announced: Announcement[], mark: WrittenMark): Promise<ReadModelAnswer> {
    const written = this.written.get(partition) ?? -1;
    if (accounts.length > 0 || stored.length > 0 || mark.record > written) this.refuse();
    const behind = written < mark.expected;
    if (behind) this.ready.delete(partition);
    for (const write of accounts) {
      this.accountsSent.push(write.accountId);
      const current = this.accounts.get(write.accountId);
      if (!current || current.offset < write.offset) this.accounts.set(write.accountId, write);
    }
    for (const outcome of stored) this.outcomes.set(`${outcome.accountId}/${outcome.id}`, outcome);
    this.announced.push(...announced);
    if (behind) return 'behind';
    if (mark.record > written) this.written.set(partition, mark.record);
    return this.ready.has(partition) ? 'whole' : 'missing';
  }

  check(partition: number, mark: WrittenMark): Promise<ReadModelAnswer> {
    return this.apply(partition, [], [], [], { ...mark, record: -1 });
  }

  async restoreOutcomes(outcomes: Outcome[]): Promise<void> {
    if (outcomes.length > 0) this.refuse();
    for (const outcome of outcomes) {
      this.outcomes.set(`${outcome.accountId}/${outcome.id}`, outcome);
      if (!outcome.id.includes('~')) this.registry.set(outcome.id, outcome.accountId);
    }
  }

  async beginWriteBack(partition: number): Promise<number> {
    this.refuse();
    if (!this.written.has(partition)) this.written.set(partition, -1);
    return this.written.get(partition)!;
  }

  async finishWriteBack(partition: number, expected: number, offset: number, owner: string): Promise<ReadModelAnswer> {
    this.refuse();
    const written = this.written.get(partition);
    if (written === undefined || written < expected) {
      this.ready.delete(partition);
      return 'behind';
    }
    this.written.set(partition, Math.max(written, offset));
    this.ready.set(partition, owner);
    return 'whole';
  }

  /** The balance Redis serves for `accountId`, if it holds the account. */
  balance(accountId: string): number | undefined {
    return this.accounts.get(accountId)?.account.balance;
  }

  private refuse(): void {
    if (this.refusingWrites) throw new Error("OOM command not allowed when used memory > 'maxmemory'.");
  }
}
