// The invariants of docs/ledger-rules.md, checked over ledger documents, and the
// comparison of the ledger with a replay of the log. Pure: the audit script
// does the reading.
import type { LedgerDoc } from '../../common/types.js';

export interface Violation {
  check: string;
  detail: string;
  ids: string[];
}

export interface AccountState {
  balance: number;
  reserved: number;
}

/**
 * Ledger documents, in log order, give each account's newest state. An account comes into
 * being with its first change: a decision that leaves an unknown account empty (a denied
 * request, a cancel that finds nothing) is in the ledger, but the account is not in the read
 * model, so it is not listed here either.
 */
export function newestStates(docs: LedgerDoc[]): Map<string, AccountState> {
  const states = new Map<string, AccountState>();
  for (const d of sortByLog(docs)) {
    if (!states.has(d.accountId) && d.balanceAfter === 0 && d.reservedAfter === 0) continue;
    states.set(d.accountId, { balance: d.balanceAfter, reserved: d.reservedAfter });
  }
  return states;
}

export function sortByLog(docs: LedgerDoc[]): LedgerDoc[] {
  return [...docs].sort((a, b) => a.partition - b.partition || a.offset - b.offset || (a.type === 'expire' ? -1 : 0) - (b.type === 'expire' ? -1 : 0));
}

/**
 * The invariants of docs/ledger-rules.md over ledger documents. `idWindowMs`: how long the owners
 * remember ids. An id re-sent after the window is a new transaction with a document of its own,
 * so `each-id-once` flags only a repeat that came within the window of the id's previous decision
 * (judged by receivedAt, close to the log clock that the owners judge by; the comparison with a
 * replay of the log is exact). Without it, any repeat is flagged.
 */
export function checkInvariants(docs: LedgerDoc[], idWindowMs = Infinity): Violation[] {
  const violations: Violation[] = [];
  const add = (check: string, detail: string, ids: string[]) => violations.push({ check, detail, ids });
  const flow = new Map<string, number>();
  const previous = new Map<string, AccountState>();
  const byId = new Map<string, { accountId: string; receivedAt: number }[]>();

  for (const d of sortByLog(docs)) {
    const before = previous.get(d.accountId) ?? { balance: 0, reserved: 0 };
    if (d.status === 'applied' && d.type === 'deposit') flow.set(d.accountId, (flow.get(d.accountId) ?? 0) + d.amount);
    if (d.status === 'applied' && d.type === 'withdraw') flow.set(d.accountId, (flow.get(d.accountId) ?? 0) - d.amount);
    // Conservation at every step: the balance is always what deposits minus withdrawals made it.
    const expected = flow.get(d.accountId) ?? 0;
    if (d.balanceAfter !== expected) add('conservation', `${d.accountId} balance ${d.balanceAfter} but deposits - withdrawals = ${expected}`, [d.id]);
    if (d.reservedAfter < 0) add('reserved-never-negative', `${d.accountId} reserved ${d.reservedAfter}`, [d.id]);
    if (d.type === 'withdraw_request' && d.status === 'approved' && d.balanceAfter - d.reservedAfter < 0) {
      add('no-approval-beyond-available', `${d.accountId} available ${d.balanceAfter - d.reservedAfter} after approval`, [d.id]);
    }
    const wentNegative = d.balanceAfter < 0 && d.balanceAfter < before.balance;
    if (wentNegative && !(d.type === 'withdraw' && d.overdraft)) {
      add('negative-only-by-flagged-overdraft', `${d.accountId} fell to ${d.balanceAfter} by ${d.type}`, [d.id]);
    }
    if (d.type === 'withdraw' && d.status === 'applied' && Boolean(d.overdraft) !== d.balanceAfter < 0) {
      add('overdraft-flag-correct', `${d.accountId} withdrawal to ${d.balanceAfter} flagged ${Boolean(d.overdraft)}`, [d.id]);
    }
    if (d.type !== 'expire') {
      const decisions = byId.get(d.id) ?? [];
      decisions.push({ accountId: d.accountId, receivedAt: d.receivedAt });
      byId.set(d.id, decisions);
    }
    previous.set(d.accountId, { balance: d.balanceAfter, reserved: d.reservedAfter });
  }
  for (const [id, decisions] of byId) {
    if (decisions.length < 2) continue;
    decisions.sort((a, b) => a.receivedAt - b.receivedAt);
    const repeats = decisions.filter((d, i) => i > 0 && d.receivedAt - decisions[i - 1]!.receivedAt <= idWindowMs).length;
    if (repeats > 0) {
      const accounts = decisions.map((d) => d.accountId).join(', ');
      add('each-id-once', `${id} applied ${decisions.length} times, ${repeats} within the id window (${accounts})`, [id]);
    }
  }
  return violations;
}

/** Every acknowledged id must be in the ledger. */
export function checkAcknowledged(docs: LedgerDoc[], acknowledged: { id: string; accountId: string }[]): Violation[] {
  const present = new Set(docs.map((d) => `${d.accountId}/${d.id}`));
  const missing = acknowledged.filter((a) => !present.has(`${a.accountId}/${a.id}`)).map((a) => a.id);
  return missing.length ? [{ check: 'acknowledged-present', detail: `${missing.length} acknowledged calls missing from the ledger`, ids: missing }] : [];
}

/** The read model must equal the ledger's newest state of every account. */
export function checkReadModel(ledgerStates: Map<string, AccountState>, readModel: Map<string, AccountState | undefined>): Violation[] {
  const wrong: string[] = [];
  for (const [accountId, s] of ledgerStates) {
    const r = readModel.get(accountId);
    if (!r || r.balance !== s.balance || r.reserved !== s.reserved) wrong.push(accountId);
  }
  return wrong.length
    ? [{ check: 'read-model-equals-ledger', detail: `${wrong.length} accounts differ between Redis and the ledger`, ids: wrong }]
    : [];
}

const COMPARED: (keyof LedgerDoc)[] = [
  'id',
  'accountId',
  'type',
  'amount',
  'requestId',
  'status',
  'reason',
  'overdraft',
  'balanceAfter',
  'reservedAfter',
  'partition',
  'offset',
  'receivedAt',
];

/** The ledger must equal, document by document, what a replay of the log through the rules writes. */
export function compareWithReplay(stored: LedgerDoc[], replayed: LedgerDoc[]): Violation[] {
  const byId = new Map(stored.map((d) => [d._id, d]));
  const missing: string[] = [];
  const differ: string[] = [];
  for (const r of replayed) {
    const s = byId.get(r._id);
    byId.delete(r._id);
    if (!s) missing.push(r._id);
    else if (COMPARED.some((k) => (s[k] ?? null) !== (r[k] ?? null))) differ.push(r._id);
  }
  const extra = [...byId.keys()];
  const out: Violation[] = [];
  if (missing.length) out.push({ check: 'replay-missing', detail: `${missing.length} documents of the replay are not in the ledger`, ids: missing });
  if (differ.length) out.push({ check: 'replay-differs', detail: `${differ.length} documents differ from the replay`, ids: differ });
  if (extra.length) out.push({ check: 'replay-extra', detail: `${extra.length} ledger documents no replay produces`, ids: extra });
  return out;
}
