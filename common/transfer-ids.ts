// The ids the owners mint for a transfer's credit and return (docs/transfers.md,
// The legs). Each holds `~`, which a client's id cannot, and the debit's
// `decidedAt`, which keeps a transfer whose id comes back after the id window
// apart from the first. Transfer ids and account ids hold no `~`, so the parts
// of a credit's id are its `~`-separated fields.

/** The id of the credit of transfer `transferId` debited from `from` at `decidedAt` (the log clock of `from`'s partition). */
export function creditId(transferId: string, from: string, decidedAt: number): string {
  return `${transferId}~credit~${from}~${decidedAt}`;
}

/** The id of the return of that transfer, on `from`: the debit's `decidedAt` again. */
export function returnId(transferId: string, decidedAt: number): string {
  return `${transferId}~return~${decidedAt}`;
}

export interface CreditIdParts {
  transferId: string;
  from: string;
  decidedAt: number;
}

/** The parts of an id `creditId` made; undefined for any other id. */
export function parseCreditId(id: string): CreditIdParts | undefined {
  const parts = id.split('~');
  if (parts.length !== 4 || parts[1] !== 'credit') return undefined;
  const [transferId, , from, decidedAtText] = parts as [string, string, string, string];
  if (transferId === '' || from === '' || !/^\d{1,16}$/.test(decidedAtText)) return undefined;
  const decidedAt = Number(decidedAtText);
  return Number.isSafeInteger(decidedAt) ? { transferId, from, decidedAt } : undefined;
}

/** The transfer and the debit's `decidedAt` of an id `returnId` made; undefined for any other id. */
export function parseReturnId(id: string): Omit<CreditIdParts, 'from'> | undefined {
  const parts = id.split('~');
  if (parts.length !== 3 || parts[1] !== 'return') return undefined;
  const [transferId, , decidedAtText] = parts as [string, string, string];
  if (transferId === '' || !/^\d{1,16}$/.test(decidedAtText)) return undefined;
  const decidedAt = Number(decidedAtText);
  return Number.isSafeInteger(decidedAt) ? { transferId, decidedAt } : undefined;
}
