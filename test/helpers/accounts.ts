// Accounts and positions for the per-account rule tests (consumer/ledger.ts).
import type { Account, Hold, Position } from '../../consumer/ledger.js';
import type { AccountStatus } from '../../common/types.js';
import { deepFreeze } from './tx.js';

export const MAX = Number.MAX_SAFE_INTEGER;

/** Where the decision under test sits in the log. */
export const pos: Position = { partition: 3, offset: 42, clock: 5_000 };

/** A frozen account with these holds, its `reserved` their sum: a rule that mutates it throws. */
export function account(balance: number, holds: Hold[] = [], updatedAt = 1): Account {
  const reserved = holds.reduce((s, h) => s + h.amount, 0);
  return deepFreeze({ balance, reserved, updatedAt, holds });
}

export const hold = (id: string, amount: number, expiresAt = MAX): Hold => ({ id, amount, expiresAt });

/** A frozen account with settings: `overdraftLimit` and `status` as given (pass none for the defaults' absence). */
export function configured(balance: number, settings: { overdraftLimit?: number; status?: AccountStatus }, holds: Hold[] = []): Account {
  const reserved = holds.reduce((s, h) => s + h.amount, 0);
  return deepFreeze({ balance, reserved, updatedAt: 1, holds, ...settings });
}
