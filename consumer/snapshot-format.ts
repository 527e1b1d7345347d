// The snapshot contract: how a partition's state (a PartitionSnapshot) is
// laid out in the documents of one snapshot collection, which
// consumer/snapshots.ts names, chains and prunes. A collection holds chunks
// of the state, then a `meta` document written last. Every document says the
// format it was written in; a reader decodes each by that format and refuses
// a format it does not know rather than guess at it.
//
// Format 4, written by this code: a chunk's accounts and the ids added since
// the snapshot a delta lies over are JSON (FerretDB refuses nested arrays),
// deflated; a whole snapshot's filter of the window's ids
// (consumer/id-filter.ts) is raw bytes, cut into pieces, one a chunk, in
// order. Format 2 carried every remembered id with its decision packed
// (common/remembered.ts) instead of a filter; its ids read as ids added with
// their decision times, and their decisions are in the ledger. Format 3 is
// the account deltas' (consumer/snapshot-merge.ts).
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
export const SNAPSHOT_FORMAT = 4;
/** Remembered ids with their decisions, no filter. */
export const SEEN_FORMAT = 2;

/**
 * Documents without a `format` field are format 1: every snapshot saved from
 * bb52fa9 (a collection a snapshot) to a59883d. That code changed its
 * encoding twice without marking it, so within format 1 only the shape tells
 * the two apart: chunk fields were JSON text until d31115c deflated them, and
 * a remembered id was an `{fp, outcome, at}` object until 39fb87c packed it.
 */
export const UNMARKED_FORMAT = 1;
const READABLE_FORMATS = [UNMARKED_FORMAT, SEEN_FORMAT, SNAPSHOT_FORMAT];

export interface SnapshotChunk {
  _id: number;
  /** Absent in format 1. */
  format?: number;
  /** Deflated JSON; plain JSON text in format 1 chunks saved before d31115c. */
  accounts: Binary | string;
  /** Formats 1 and 2: the remembered ids with their decisions. */
  seen?: Binary | string;
  /** Format 4: the ids added after the filter (or since the base), deflated JSON. */
  ids?: Binary;
  /** Format 4: this chunk's piece of the filter's bytes, in a whole snapshot. */
  filter?: Binary;
}

export interface SnapshotMeta {
  _id: 'meta';
  /** Absent in format 1. */
  format?: number;
  partition: number;
  offset: number;
  clock: number;
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
export function encodeMeta(snapshot: Pick<PartitionSnapshot, 'partition' | 'offset' | 'clock'>, chunks: number): SnapshotMeta {
  const { partition, offset, clock } = snapshot;
  return { _id: 'meta', format: SNAPSHOT_FORMAT, partition, offset, clock, chunks };
}

/** The format `document` (named `what` in errors) was written in; refuses one this code cannot read. */
export function formatOf(document: { _id: unknown; format?: unknown }, what: string): number {
  const format = document.format ?? UNMARKED_FORMAT;
  if (typeof format !== 'number' || !READABLE_FORMATS.includes(format)) throw unknownFormat(what, format, READABLE_FORMATS);
  return format;
}

/** A chunk's accounts, ids and piece of the filter, read by the chunk's own format. */
export async function decodeChunk(chunk: SnapshotChunk, what: string): Promise<ChunkState> {
  const format = formatOf(chunk, what);
  const accounts = await unpack<ChunkState['accounts']>(chunk.accounts, format, what);
  if (format === SNAPSHOT_FORMAT) {
    const ids = chunk.ids === undefined ? [] : await unpack<ChunkState['ids']>(chunk.ids, format, what);
    return chunk.filter === undefined ? { accounts, ids } : { accounts, ids, filter: chunk.filter.buffer };
  }
  if (chunk.seen === undefined) throw new TypeError(`${what}: a format ${format} chunk without its remembered ids`);
  const seen = await unpack<[string, unknown][]>(chunk.seen, format, what);
  // The decisions are in the ledger: what the state keeps of them is the id and when it was decided.
  return { accounts, ids: seen.map(([key, value]) => [key, rememberedAt(rememberedFromSnapshot(value, format))]) };
}

/**
 * A remembered id as a snapshot of `format` holds it: format 2 holds the
 * packed string only; format 1 held either that or an `{fp, outcome, at}`
 * object, which is packed here.
 */
export function rememberedFromSnapshot(value: unknown, format: number): Remembered {
  if (format !== UNMARKED_FORMAT && format !== SEEN_FORMAT) throw unknownFormat('a snapshot of remembered decisions', format, [UNMARKED_FORMAT, SEEN_FORMAT]);
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
