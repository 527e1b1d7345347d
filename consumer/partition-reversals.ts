// What a partition adds around the rule of a reversal (consumer/ledger-reversals.ts,
// docs/transfers.md Reversals): the original it names, read as a repeat of
// the original would read it (from memory while its documents may not be in
// the ledger, else from what the batch looked up), and, once a reversal is
// applied, the original's total reversed, which its repeats answer from then
// on. Kept beside the original's remembered outcome as a cancel's mark is
// kept beside its request's (`PartitionLedger.markRequest`): held in memory
// until the reversal's document is in the ledger, then read back from the
// applied reversals that name the original (common/ledger-outcome.ts).
import { remember } from '../common/remembered.js';
import type { Outcome, TxMessage } from '../common/types.js';
import { ledgerId } from './ledger.js';
import type { Lookup, RememberedIds } from './remembered-ids.js';

/** The original a reversal at `offset` names, as the partition remembers it; undefined for any other message, or one not remembered. */
export function reversalOriginal(ids: RememberedIds, msg: TxMessage, offset: number, lookup: Lookup): Outcome | undefined {
  if (msg.type !== 'reversal' || msg.requestId === undefined) return undefined;
  return ids.firstOutcome(ledgerId(msg.accountId, msg.requestId), offset, lookup);
}

/**
 * After the reversal at `offset` was decided as `outcome`: an applied one adds
 * its amount to its original's total reversed. Returns the original's outcome
 * as its repeats answer it from now on (a change to announce and store), or
 * undefined when nothing changed.
 */
export function recordReversal(ids: RememberedIds, original: Outcome | undefined, outcome: Outcome, offset: number): Outcome | undefined {
  if (original === undefined || outcome.type !== 'reversal' || outcome.status !== 'applied') return undefined;
  const changed: Outcome = { ...original, reversed: (original.reversed ?? 0) + outcome.amount! };
  ids.changed(ledgerId(original.accountId, original.id), remember(changed), offset);
  return changed;
}
