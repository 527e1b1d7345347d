// How a load generator counts an answer under overload: accepted, refused
// (took nothing, says when to retry), or a failure of the target. Shared by
// the overload benchmark phase and the overload chaos case.

export type AnswerClass = 'accepted' | 'refused' | 'other';

export const OVERLOADED = 'urn:teller:problem:overloaded';

/** Problem types of a 503 that took nothing: the replica's admission control, and the producer refusing unsent. */
const REFUSALS = new Set([OVERLOADED, 'urn:teller:problem:unavailable']);

/**
 * Accepted: a decision or an acceptance (200, 201, 402, 202). Refused: a
 * refusal that took nothing and says when to retry (NGINX's 429, a replica's
 * 503 overloaded or unavailable). Anything else (NGINX's own 502, 503 or
 * 504, a 503 `unconfirmed`, a 500, a 4xx) is a failure of the target under
 * load, as are timeouts and broken connections.
 */
export function classify(status: number, problemType?: string): AnswerClass {
  if (status === 200 || status === 201 || status === 202 || status === 402) return 'accepted';
  if (status === 429) return 'refused';
  if (status === 503 && problemType !== undefined && REFUSALS.has(problemType)) return 'refused';
  return 'other';
}
