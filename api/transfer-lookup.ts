// A transfer by id (GET /v1/transfers/:id): the debit is found as any
// transaction is (api/readmodel.ts), by the registry of ids across accounts
// while it holds the id, else in the ledger among the documents of type
// `transfer`; of a two-phase transfer posted or voided, the post or void
// that ended its hold, from the ledger by the transfer's id; then its credit
// on `to` and, for a refused credit, its return on `from`, each by the id its
// owner gave it (api/transfer-view.ts), from the read model while it holds
// them, else from the ledger.
import { creditId, returnId } from '../common/transfer-ids.js';
import type { Outcome } from '../common/types.js';
import type { ReadModel } from './readmodel.js';
import { moneyLeg, transferView, type TransferLegs, type TransferView } from './transfer-view.js';

export type TransferReader = Pick<ReadModel, 'transaction' | 'accountTransaction' | 'settlement'>;

/** The transfer's view; null when neither the registry nor the ledger knows it. */
export async function lookUpTransfer(reader: TransferReader, id: string): Promise<TransferView | null> {
  const found = await reader.transaction(id, 'transfer');
  if (!found) return null;
  const debit = found.outcome;
  if (!debit) return transferView({ id, from: found.accountId }, {});
  return transferView({ id, from: debit.accountId }, await legsAfter(reader, debit));
}

/** The legs known after `debit`, the transfer's own decision. */
export async function legsAfter(reader: TransferReader, debit: Outcome, settledAlready?: Outcome): Promise<TransferLegs> {
  const legs: TransferLegs = { debit };
  const ended = debit.status === 'posted' || debit.status === 'voided';
  const settled = settledAlready ?? (debit.pending && ended ? await reader.settlement(debit.accountId, debit.id, debit.decidedAt) : null);
  if (settled) legs.settled = settled;
  const taken = moneyLeg(legs);
  if (!taken || debit.counterparty === undefined) return legs;
  const credit = (await reader.accountTransaction(debit.counterparty, creditId(debit.id, debit.accountId, taken.decidedAt)))?.outcome;
  if (!credit) return legs;
  legs.credit = credit;
  if (credit.status === 'applied') return legs;
  const returned = (await reader.accountTransaction(debit.accountId, returnId(debit.id, taken.decidedAt)))?.outcome;
  if (returned) legs.returned = returned;
  return legs;
}
