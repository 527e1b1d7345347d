// A partition's log clock and its source (docs/ledger-rules.md, The log
// clock), moved one record at a time. The partition's state machine moves its
// clock with these, and so does its guess, before a batch, of the clock the
// batch will reach (`PartitionLedger.lookupsFor`): both must agree.
import type { ClockSource, LogMessage } from '../common/types.js';

/** The clock source after `msg`: a clock marker moves it to the broker's append time, for good. */
export function sourceAfter(source: ClockSource, msg: LogMessage): ClockSource {
  return msg.type === 'clock' ? 'log-append-time' : source;
}

/**
 * The clock after a record, `source` being the source after it
 * (`sourceAfter`). The clock never goes back. A clock marker's own timestamp
 * does not count: it is published right after its owner read the topic's
 * timestamp type, so it is the record most likely stamped by a broker that
 * had not applied that setting yet. A record without a timestamp leaves the
 * clock where it is.
 */
export function clockAfter(clock: number, source: ClockSource, msg: LogMessage, timestamp: number | undefined): number {
  if (msg.type === 'clock') return clock;
  const time = source === 'receivedAt' ? msg.receivedAt : timestamp;
  return time !== undefined && time > clock ? time : clock;
}
