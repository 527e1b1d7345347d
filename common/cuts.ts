// The contract of a cut as MongoDB keeps it (collection `cuts`): written by
// the api replica that takes it, read by any replica after (docs/history.md).
// A cut is the ledger consumer group's committed offset of every partition of
// the transaction topic at one moment: below it, every ledger document is in
// the ledger and can never change.
import { randomBytes } from 'node:crypto';
import { unknownFormat } from './format-version.js';

/** The version this code writes and the only one it reads. */
export const CUT_FORMAT_VERSION = 1;

export const CUTS_COLLECTION = 'cuts';

/** `cut_<UTC time to the millisecond, digits only>_<12 hex digits>`: sorts by time, and two replicas taking one at once still differ. */
export const CUT_ID_PATTERN = '^cut_\\d{8}T\\d{9}Z_[0-9a-f]{12}$';

export interface Cut {
  id: string;
  /** When it was taken, by the taking replica's clock, ms since the epoch. */
  createdAt: number;
  /** Per partition, the first offset past the cut: every document below it is in the ledger. */
  offsets: ReadonlyMap<number, number>;
}

/** A cut in MongoDB: `_id` is its id; the offsets as a list, since partitions are numbers and field names are not. */
export interface CutDoc {
  _id: string;
  v: typeof CUT_FORMAT_VERSION;
  createdAt: number;
  /** The topic and consumer group whose offsets these are. */
  topic: string;
  groupId: string;
  offsets: { partition: number; offset: number }[];
}

/** A new cut id for a cut taken at `createdAt`. */
export function newCutId(createdAt: number, random: () => string = () => randomBytes(6).toString('hex')): string {
  const time = new Date(createdAt).toISOString().replace(/[-:.]/g, '');
  return `cut_${time}_${random()}`;
}

export function cutDocument(cut: Cut, source: { topic: string; groupId: string }): CutDoc {
  const offsets = [...cut.offsets].sort(([a], [b]) => a - b).map(([partition, offset]) => ({ partition, offset }));
  return { _id: cut.id, v: CUT_FORMAT_VERSION, createdAt: cut.createdAt, topic: source.topic, groupId: source.groupId, offsets };
}

/** The cut a document holds; TELLER_ERR_UNKNOWN_FORMAT for a version this code does not read. */
export function cutOfDocument(doc: CutDoc): Cut {
  if (doc.v !== CUT_FORMAT_VERSION) throw unknownFormat(`cut ${doc._id}`, doc.v, [CUT_FORMAT_VERSION]);
  return { id: doc._id, createdAt: doc.createdAt, offsets: new Map(doc.offsets.map(({ partition, offset }) => [partition, offset])) };
}
