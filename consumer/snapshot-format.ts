// The snapshot contract: how a partition's state (a PartitionSnapshot) is
// laid out in the documents of one snapshot collection, which
// consumer/snapshots.ts names, chains and prunes. A collection holds chunks
// of the state, then a `meta` document written last. Every document says the
// format it was written in; a reader decodes each by that format and refuses
// a format it does not know rather than guess at it.
//
// Format 2: a chunk's accounts and remembered ids are JSON (FerretDB refuses
// nested arrays), deflated; a remembered id is the packed string of
// common/remembered.ts. A delta carries every account whole.
//
// Format 3: as format 2, except that a delta carries only the accounts
// changed since its base, and the meta document carries the partition's
// clock source when it is not `receivedAt`. A reader of format 2 would take a
// format 3 delta's accounts for all of them, and replay the log by the api's
// clocks after the partition moved to the broker's: it must refuse these, so
// the number changed.
//
// Format 5, written by this code: as format 3 (changed accounts in a delta,
// the clock source in the meta document), except that a partition no longer
// keeps its remembered ids with their decisions: a chunk carries the ids
// added since the snapshot a delta lies over (or after the filter, in a whole
// one) as deflated JSON, and a whole snapshot carries the filter of the
// window's ids (consumer/id-filter.ts) as raw bytes, cut into pieces, one a
// chunk, in order. The remembered ids of formats 1 to 3 read as ids added at
// their decision times: their decisions are in the ledger already (a
// snapshot is saved only once they are). Format 4 (the filter with every
// account in a delta) was never deployed and is not read.
//
// It lives with the consumer, not in common/: only the consumer writes and
// reads snapshots, and they hold its ledger's own state.
import { promisify } from 'node:util';
import { deflateRaw, inflateRaw } from 'node:zlib';
import { Binary } from 'mongodb';
import { unknownFormat } from '../common/format-version.js';
import { remember, rememberedAt, type Remembered } from '../common/remembered.js';
import type { Outcome } from '../common/types.js';
import type { PartitionSnapshot } from './partition.js';

/** The format this code writes into every chunk and meta document. */
export const SNAPSHOT_FORMAT = 5;
/** The format whose deltas carried every account whole (and remembered ids with their decisions). */
export const WHOLE_ACCOUNTS_FORMAT = 2;
/** The first format whose deltas carry only the accounts changed (it still carried remembered ids with their decisions). */
export const CHANGED_ACCOUNTS_FORMAT = 3;

/**
 * Documents without a `format` field are format 1: every snapshot saved from
 * bb52fa9 (a collection a snapshot) to a59883d. That code changed its
 * encoding twice without marking it, so within format 1 only the shape tells
 * the two apart: chunk fields were JSON text until d31115c deflated them, and
 * a remembered id was an `{fp, outcome, at}` object until 39fb87c packed it.
 */
export const UNMARKED_FORMAT = 1;
const READABLE_FORMATS = [UNMARKED_FORMAT, WHOLE_ACCOUNTS_FORMAT, CHANGED_ACCOUNTS_FORMAT, SNAPSHOT_FORMAT];
/** The formats that carry remembered ids with their decisions rather than a filter. */
const SEEN_FORMATS = [UNMARKED_FORMAT, WHOLE_ACCOUNTS_FORMAT, CHANGED_ACCOUNTS_FORMAT];

export interface SnapshotChunk {
  _id: number;
  /** Absent in format 1. */
  format?: number;
  /** Deflated JSON; plain JSON text in format 1 chunks saved before d31115c. */
  accounts: Binary | string;
  /** Formats 1 to 3: the remembered ids with their decisions. */
  seen?: Binary | string;
  /** Format 5: the ids added after the filter (or since the base), deflated JSON. */
  ids?: Binary;
  /** Format 5: this chunk's piece of the filter's bytes, in a whole snapshot. */
  filter?: Binary;
}

export interface SnapshotMeta {
  _id: 'meta';
  /** Absent in format 1. */
  format?: number;
  partition: number;
  offset: number;
  clock: number;
  /** Formats 3 and 5: present when the partition's clock is the broker's append time; absent, `receivedAt`. */
  clockSource?: 'log-append-time';
  chunks: number;
}

/** What one chunk holds: a slice of the state's accounts, of its ids, and of its filter's bytes. */
export interface ChunkState {
  accounts: PartitionSnapshot['accounts'];
  ids: PartitionSnapshot['ids'];
  filter?: Uint8Array;
}

const deflate = promisify(deflateRaw);
const inflate = promisify(inflateRaw);

/** Chunk `index` of a snapshot, in SNAPSHOT_FORMAT. */
export async function encodeChunk(index: number, state: ChunkState): Promise<SnapshotChunk> {
  const chunk: SnapshotChunk = { _id: index, format: SNAPSHOT_FORMAT, accounts: await pack(state.accounts), ids: await pack(state.ids) };
  // Not deflated: a Bloom filter's bits are as good as random.
  if (state.filter !== undefined && state.filter.length > 0) chunk.filter = new Binary(state.filter);
  return chunk;
}

/** The meta document of a snapshot of `chunks` chunks, in SNAPSHOT_FORMAT. */
export function encodeMeta(snapshot: Pick<PartitionSnapshot, 'partition' | 'offset' | 'clock' | 'clockSource'>, chunks: number): SnapshotMeta {
  const { partition, offset, clock, clockSource } = snapshot;
  const meta: SnapshotMeta = { _id: 'meta', format: SNAPSHOT_FORMAT, partition, offset, clock, chunks };
  if (clockSource !== undefined) meta.clockSource = clockSource;
  return meta;
}

/** The format `document` (named `what` in errors) was written in; refuses one this code cannot read. */
export function formatOf(document: { _id: unknown; format?: unknown }, what: string): number {
  const format = document.format ?? UNMARKED_FORMAT;
  if (typeof format !== 'number' || !READABLE_FORMATS.includes(format)) throw unknownFormat(what, format, READABLE_FORMATS);
  return format;
}

/** Whether a delta saved in `format` carries only the accounts changed since its base (else every account whole). */
export function deltaCarriesChangedAccountsOnly(format: number): boolean {
  return format >= CHANGED_ACCOUNTS_FORMAT;
}

/** The clock source a meta document of a readable format names; refuses a value this code does not know. */
export function clockSourceOf(meta: SnapshotMeta, what: string): SnapshotMeta['clockSource'] {
  const { clockSource } = meta;
  if (clockSource === undefined || clockSource === 'log-append-time') return clockSource;
  throw new TypeError(`${what}: unknown clock source ${JSON.stringify(clockSource)}`);
}

/** A chunk's accounts, ids and piece of the filter, read by the chunk's own format. */
export async function decodeChunk(chunk: SnapshotChunk, what: string): Promise<ChunkState> {
  const format = formatOf(chunk, what);
  const accounts = await unpack<ChunkState['accounts']>(chunk.accounts, format, what);
  if (!SEEN_FORMATS.includes(format)) {
    const ids = chunk.ids === undefined ? [] : await unpack<ChunkState['ids']>(chunk.ids, format, what);
    return chunk.filter === undefined ? { accounts, ids } : { accounts, ids, filter: chunk.filter.buffer };
  }
  if (chunk.seen === undefined) throw new TypeError(`${what}: a format ${format} chunk without its remembered ids`);
  const seen = await unpack<[string, unknown][]>(chunk.seen, format, what);
  // The decisions are in the ledger: what the state keeps of them is the id and when it was decided.
  return { accounts, ids: seen.map(([key, value]) => [key, rememberedAt(rememberedFromSnapshot(value, format))]) };
}

/**
 * A remembered id as a snapshot of `format` holds it: formats 2 and 3 hold
 * the packed string only; format 1 held either that or an `{fp, outcome, at}`
 * object, which is packed here.
 */
export function rememberedFromSnapshot(value: unknown, format: number): Remembered {
  if (!SEEN_FORMATS.includes(format)) throw unknownFormat('a snapshot of remembered decisions', format, SEEN_FORMATS);
  if (typeof value === 'string') return value;
  const unpacked = value as { outcome?: Outcome } | null;
  if (format === UNMARKED_FORMAT && unpacked?.outcome && typeof unpacked.outcome.decidedAt === 'number') {
    return remember(unpacked.outcome);
  }
  throw new TypeError(`not a remembered decision of a format ${format} snapshot: ${JSON.stringify(value)}`);
}

/** Level 1: most of the size gone (ids and outcomes repeat their keys) for little CPU on the owner. */
async function pack(value: unknown): Promise<Binary> {
  return new Binary(await deflate(JSON.stringify(value), { level: 1 }));
}

async function unpack<T>(field: Binary | string, format: number, what: string): Promise<T> {
  if (typeof field !== 'string') return JSON.parse((await inflate(field.buffer)).toString('utf8')) as T;
  if (format !== UNMARKED_FORMAT) throw new TypeError(`${what}: a format ${format} chunk is deflated, not JSON text`);
  return JSON.parse(field) as T;
}
