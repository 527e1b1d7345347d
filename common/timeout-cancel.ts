// The cancel that releases a withdrawal request whose waiting caller was
// answered 402 `timeout`: published by the api that answered, and by the
// request's owner when it approved the request well after that answer
// (consumer/late-cancel.ts). Both publish this same message, so whichever
// comes second is a replay of the first: same id, same body.
import type { TxMessage } from './types.js';

/** The cancel of request `requestId` on `accountId`, taken at `receivedAt`. */
export function timeoutCancel(accountId: string, requestId: string, receivedAt: number): TxMessage {
  return { v: 1, id: `${requestId}~timeout`, type: 'cancel', accountId, requestId, receivedAt };
}
