// The stable names of the rows of the outcome tables (docs/ledger-rules.md and
// docs/transfers.md): the rule that decided a message. Every decision names
// its rule (`Decision.rule`, consumer/ledger-decision.ts `settle`), the
// partition names the rules it applies around them (a repeat, a conflict, a
// lapse), and an explanation of a decision answers it (docs/explanations.md,
// which lists each name with its row). A name, once given, keeps its meaning:
// a client may key on it.

export const RULE_NAMES = [
  // Around the per-account rules (consumer/partition.ts).
  'repeat',
  'id-reused',
  'hold-lapsed',
  // The account's status, before any other check.
  'debit-account-frozen',
  'debit-account-closed',
  'credit-account-closed',
  // Deposits and a transfer's credit.
  'deposit-out-of-range',
  'deposit',
  'transfer-credit-out-of-range',
  'transfer-credit',
  // Withdrawal requests.
  'request-hold-limit',
  'request-insufficient-funds',
  'request-approved',
  // Withdrawals.
  'withdrawal-out-of-range',
  'withdrawal-settles-hold',
  'withdrawal-request-not-held',
  'withdrawal-consumes-holds',
  // Cancels.
  'cancel-releases-hold',
  'cancel-not-held',
  // Transfers: the debit, the return.
  'transfer-debit-insufficient-funds',
  'transfer-debit',
  'transfer-return',
  // Two-phase transfers.
  'pending-transfer-insufficient-funds',
  'pending-transfer-held',
  'post-not-held',
  'post-exceeds-pending',
  'post-out-of-range',
  'post-applied',
  'void-not-held',
  'void-applied',
  // Settings.
  'settings-account-not-empty',
  'settings-applied',
  // Reversals.
  'reversal-original-not-found',
  'reversal-not-reversible',
  'reversal-exceeds-original',
  'reversal-out-of-range',
  'reversal-applied',
] as const;

export type RuleName = (typeof RULE_NAMES)[number];

/** The rule of a debit refused by the account's status (consumer/ledger-settings.ts `debitRefusal`). */
export function debitRefusalRule(reason: 'account_frozen' | 'account_closed'): RuleName {
  return reason === 'account_frozen' ? 'debit-account-frozen' : 'debit-account-closed';
}
