// Refused calls looked up after a load: a call refused with 503 overloaded
// took nothing, so neither the read model nor the ledger may know its id on
// its account (GET /v1/accounts/:accountId/transactions/:id answers 404).
// Used by the overload benchmark phase and the overload chaos case.

export interface RefusedCall {
  id: string;
  accountId: string;
}

/** `checked`: lookups answered 200 or 404; `found`: those answered 200 (the call was taken after all). */
export async function lookUpRefused(baseUrl: string, refused: readonly RefusedCall[]): Promise<{ checked: number; found: number }> {
  let checked = 0;
  let found = 0;
  for (const { id, accountId } of refused) {
    try {
      const res = await fetch(`${baseUrl}/v1/accounts/${encodeURIComponent(accountId)}/transactions/${encodeURIComponent(id)}`, { signal: AbortSignal.timeout(10_000) });
      await res.arrayBuffer();
      if (res.status === 404 || res.status === 200) checked++;
      if (res.status === 200) found++;
    } catch {
      // unanswered: not counted as checked
    }
  }
  return { checked, found };
}
