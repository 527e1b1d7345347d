// Checks, once a second, that Redis holds all of a partition, and writes the
// partition's whole state back when it may not: every account, then every
// decision memory holds with its id (the ledger answers for those it let go
// of), then the written and ready markers. Redis
// may not hold it after a write it failed (the ready marker still there), or
// after it lost writes (Redis restarted empty, or from an older persistence
// file: the ready marker gone or withdrawn, so reads of the partition wait
// until the write-back ends). Rewriting is safe: account writes are guarded by
// offset.
import type { Logger } from 'pino';
import type { Outcome } from '../common/types.js';
import type { PartitionOwner } from './owner.js';
import type { AccountWrite } from '../common/read-model.js';
import type { WrittenMark } from './read-model-knowledge.js';
import type { ReadModelWriter } from './read-model-writer.js';

const ACCOUNTS_PER_WRITE = 1000;
const OUTCOMES_PER_WRITE = 5000;
/** The chunks of a write-back expect nothing and record nothing: its end does both. */
const WRITE_BACK_CHUNK: WrittenMark = { expected: -1, record: -1, losses: 0 };

export type RestorerReadModel = Pick<ReadModelWriter, 'apply' | 'check' | 'restoreOutcomes' | 'beginWriteBack' | 'finishWriteBack'>;

export interface ReadModelRestorerOptions {
  consumerId: string;
  idWindowMs: number;
}

export class ReadModelRestorer {
  constructor(
    private readonly readModel: RestorerReadModel,
    private readonly log: Logger,
    /** True once the consumer is stopping: a restore under way ends between writes, leaving the marker unset. */
    private readonly stopping: () => boolean,
    private readonly options: ReadModelRestorerOptions,
  ) {}

  /**
   * Makes sure Redis holds all of the owner's partition: checks the markers
   * against what the owner wrote, and writes the partition back unless Redis
   * is known to hold it whole.
   */
  async restore(partition: number, owner: PartitionOwner): Promise<void> {
    const mark = owner.readModelMark();
    const answer = await this.readModel.check(partition, mark);
    owner.readModel.answered(mark, answer);
    if (answer === 'behind') {
      this.log.warn({ partition, expected: mark.expected }, 'Redis does not hold the partition through the offset expected; reads of it wait for the write-back');
    }
    if (!owner.readModel.whole) await this.writeBack(partition, owner);
  }

  private async writeBack(partition: number, owner: PartitionOwner): Promise<void> {
    const losses = owner.readModel.losses;
    // The state as of this offset at least: accounts are read as the write-back goes, so some may be newer.
    const offset = owner.nextOffset - 1;
    const written = await this.readModel.beginWriteBack(partition);
    if (!(await this.writeAccounts(partition, owner, offset))) return;
    if (!(await this.writeOutcomes(owner))) return;
    const answer = await this.readModel.finishWriteBack(partition, written, offset, this.options.consumerId);
    owner.readModel.writtenBack(losses, offset, answer);
    if (answer === 'behind') this.log.warn({ partition }, 'Redis lost writes during the write-back; writing the partition again');
    else this.log.info({ partition, accounts: owner.ledger.size, whole: owner.readModel.whole }, 'read model of the partition written back');
  }

  /** Whether every account was written (false: the consumer began stopping). */
  private async writeAccounts(partition: number, owner: PartitionOwner, offset: number): Promise<boolean> {
    let accounts: AccountWrite[] = [];
    for (const accountId of owner.ledger.accountIds()) {
      accounts.push({ accountId, offset, account: owner.ledger.account(accountId)! });
      if (accounts.length === ACCOUNTS_PER_WRITE) {
        if (this.stopping()) return false;
        await this.readModel.apply(partition, accounts, [], [], WRITE_BACK_CHUNK);
        accounts = [];
      }
    }
    await this.readModel.apply(partition, accounts, [], [], WRITE_BACK_CHUNK);
    return true;
  }

  /** Whether every decision memory holds was written (false: the consumer began stopping). */
  private async writeOutcomes(owner: PartitionOwner): Promise<boolean> {
    const registryTtlSeconds = this.options.idWindowMs / 1000;
    let outcomes: Outcome[] = [];
    for (const outcome of owner.ledger.outcomes()) {
      outcomes.push(outcome);
      if (outcomes.length === OUTCOMES_PER_WRITE) {
        if (this.stopping()) return false;
        await this.readModel.restoreOutcomes(outcomes, registryTtlSeconds);
        outcomes = [];
      }
    }
    await this.readModel.restoreOutcomes(outcomes, registryTtlSeconds);
    return true;
  }
}
