// A transfer by id (GET /v1/transfers/:id): the debit is found as any
// transaction is (api/readmodel.ts), by the registry of ids across accounts
// while it holds the id, else in the ledger among the documents of type
// `transfer`; then its credit on `to` and, for a refused credit, its return on
// `from`, each by the id its owner gave it (api/transfer-view.ts), from the
// read model while it holds them, else from the ledger.
import type { ReadModel } from './readmodel.js';
import { creditIdOf, returnIdOf, transferView, type TransferView } from './transfer-view.js';

export type TransferReader = Pick<ReadModel, 'transaction' | 'accountTransaction'>;

/** The transfer's view; null when neither the registry nor the ledger knows it. */
export async function lookUpTransfer(reader: TransferReader, id: string): Promise<TransferView | null> {
  const found = await reader.transaction(id, 'transfer');
  if (!found) return null;
  const debit = found.outcome;
  if (!debit) return transferView({ id, from: found.accountId }, {});
  if (debit.status !== 'applied' || debit.counterparty === undefined) return transferView({ id, from: debit.accountId }, { debit });
  const credit = (await reader.accountTransaction(debit.counterparty, creditIdOf(debit)))?.outcome;
  if (!credit || credit.status === 'applied') return transferView({ id, from: debit.accountId }, credit ? { debit, credit } : { debit });
  const returned = (await reader.accountTransaction(debit.accountId, returnIdOf(debit)))?.outcome;
  return transferView({ id, from: debit.accountId }, returned ? { debit, credit, returned } : { debit, credit });
}
