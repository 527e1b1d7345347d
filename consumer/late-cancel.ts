// The cancel of a withdrawal request approved after its caller was answered.
// A caller that waits for a withdrawal request is told 402 `timeout` when no
// decision came by the request's `answerBy` (the answer itself reaches it by
// `answerBy` + PRODUCER_SEND_TIMEOUT_MS at the latest: the request's own send,
// then the cancel's, may take that long), and the api publishes a cancel of
// it; should that publish fail for good, the funds would stay held
// for the request's whole time to live. So the owner that approves a request
// well past its `answerBy` publishes the same cancel itself, before the
// batch's offset is committed: a crash before the commit decides the batch
// again and publishes it again, and a second copy of the cancel (or the api's)
// is a replay of the same id and body, which changes nothing. The cancel is a
// message in the log, so a replay of the log still decides exactly as the
// first pass did.
import { timeoutCancel } from '../common/timeout-cancel.js';
import type { TxMessage } from '../common/types.js';
import type { Approval } from './batch-decision.js';

/**
 * The cancels owed for `approvals` decided at `now` by the owner's clock:
 * those past their `answerBy` by more than `marginMs`. The margin covers the
 * skew between the api's clock and the owner's: while they differ by less
 * than it, a request the api answered 201 in time is never cancelled.
 */
export function lateCancels(approvals: readonly Approval[], now: number, marginMs: number): TxMessage[] {
  return approvals.filter((approval) => now > approval.answerBy + marginMs).map((approval) => timeoutCancel(approval.accountId, approval.id, now));
}
