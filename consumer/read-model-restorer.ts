// Writes a partition's whole state back into Redis once its readiness marker
// is gone (Redis restarted empty): every account, then every remembered
// decision with its id, then the marker, so reads of unknown accounts are
// answered again only once Redis holds all of the partition.
import type { Logger } from 'pino';
import type { Outcome } from '../common/types.js';
import type { PartitionOwner } from './owner.js';
import type { AccountWrite } from '../common/read-model.js';
import type { ReadModelWriter } from './read-model-writer.js';

const ACCOUNTS_PER_WRITE = 1000;
const OUTCOMES_PER_WRITE = 5000;

export interface ReadModelRestorerOptions {
  consumerId: string;
  idWindowMs: number;
}

export class ReadModelRestorer {
  constructor(
    private readonly readModel: Pick<ReadModelWriter, 'apply' | 'restoreOutcomes' | 'isReady' | 'markReady'>,
    private readonly log: Logger,
    /** True once the consumer is stopping: a restore under way ends between writes, leaving the marker unset. */
    private readonly stopping: () => boolean,
    private readonly options: ReadModelRestorerOptions,
  ) {}

  /** Makes sure Redis holds all of the owner's partition; a no-op when its marker is there. */
  async restore(partition: number, owner: PartitionOwner): Promise<void> {
    if (await this.readModel.isReady(partition)) {
      owner.readModelRestored();
      return;
    }
    if (!(await this.writeAccounts(partition, owner))) return;
    if (!(await this.writeOutcomes(owner))) return;
    await this.readModel.markReady(partition, this.options.consumerId);
    owner.readModelRestored();
    this.log.info({ partition, accounts: owner.ledger.size }, 'read model of the partition written whole');
  }

  /** Whether every account was written (false: the consumer began stopping). */
  private async writeAccounts(partition: number, owner: PartitionOwner): Promise<boolean> {
    const offset = owner.nextOffset - 1;
    let accounts: AccountWrite[] = [];
    for (const accountId of owner.ledger.accountIds()) {
      accounts.push({ accountId, offset, account: owner.ledger.account(accountId)! });
      if (accounts.length === ACCOUNTS_PER_WRITE) {
        if (this.stopping()) return false;
        await this.readModel.apply(partition, accounts, [], []);
        accounts = [];
      }
    }
    await this.readModel.apply(partition, accounts, [], []);
    return true;
  }

  /** Whether every remembered decision was written (false: the consumer began stopping). */
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
