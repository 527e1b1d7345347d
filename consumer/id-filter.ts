// The ids a partition remembers for its id window, as a Bloom filter sliced by
// log time. The decisions themselves are in the ledger (MongoDB); the filter
// only tells which ids might be there, so that a message whose id the filter
// has never seen is decided without reading the database, and one it may have
// seen is looked up (consumer/id-lookup.ts). A Bloom filter answers "maybe"
// for every id it holds and "no" for most others, never "no" for an id it
// holds: a false "maybe" costs a lookup that finds nothing, never a decision.
//
// An id goes into the slice of its decision time (SLICES_PER_WINDOW slices a
// window); a slice whose whole span has left the window is dropped at once,
// so the filter forgets as the partition does, a slice at a time, and never
// an id still in the window. A slice holds sub-filters: when one holds its
// design count of ids, the slice grows another of twice the capacity. A new
// slice is sized from the one before it, so a steady rate fills one
// sub-filter a slice.
//
// Everything the filter holds follows from the ids added, their times and
// their order, which are the log's: the same log gives the same filter, and a
// restored one (`deserialize`) answers as the one it was saved from.

/** Slices a window is cut into: the filter holds at most one more than this. */
export const SLICES_PER_WINDOW = 8;
/** Each slice counts its ids in this many equal spans, for `countSince`. */
const COUNTS_PER_SLICE = 8;
/**
 * 16 bits an id and 11 hashes: a full sub-filter answers "maybe" for about
 * 1 id in 2,000 it does not hold ((1 - e^(-11/16))^11).
 */
const BITS_PER_ID = 16;
const HASHES = 11;
/** Ids the first sub-filter of a slice is made for when nothing says more. */
export const MIN_CAPACITY = 1024;
/** A slice after a fuller one starts with room for this much more than that one held. */
const PRESIZE = 1.25;

/** One Bloom filter made for `capacity` ids, holding `count`. */
interface SubFilter {
  capacity: number;
  count: number;
  bits: Uint8Array;
}

interface Slice {
  subFilters: SubFilter[];
  /** Ids added in each of the slice's COUNTS_PER_SLICE spans. */
  counts: number[];
}

/** What `serialize` writes before the bits: the shape of every slice and sub-filter. */
interface Header {
  width: number;
  /** [slice index, counts, [capacity, count] of each sub-filter]. */
  slices: [number, number[], [number, number][]][];
}

export class IdFilter {
  /** Log time a slice spans. */
  readonly width: number;
  /** Live slices by index (decision time / width), oldest first. */
  private slices = new Map<number, Slice>();

  constructor(windowMs: number) {
    this.width = Math.max(1, Math.ceil(windowMs / SLICES_PER_WINDOW));
  }

  /** Adds `key`, decided at log time `at`. */
  add(key: string, at: number): void {
    const index = Math.floor(at / this.width);
    const slice = this.slices.get(index) ?? this.newSlice(index);
    let last = slice.subFilters[slice.subFilters.length - 1]!;
    if (last.count >= last.capacity) {
      last = subFilter(last.capacity * 2);
      slice.subFilters.push(last);
    }
    const [h1, h2] = hashes(key);
    setBits(last, h1, h2);
    last.count++;
    const span = Math.min(COUNTS_PER_SLICE - 1, Math.floor(((at - index * this.width) * COUNTS_PER_SLICE) / this.width));
    slice.counts[span]!++;
  }

  /** False when `key` was certainly not added (or only to slices dropped since); true when it may have been. */
  mayContain(key: string): boolean {
    const [h1, h2] = hashes(key);
    for (const slice of this.slices.values()) {
      for (const sub of slice.subFilters) if (allBitsSet(sub, h1, h2)) return true;
    }
    return false;
  }

  /** Drops every slice whose span ends at or before `horizon`: all its ids were decided before it. */
  forgetBefore(horizon: number): void {
    for (const index of this.slices.keys()) {
      if ((index + 1) * this.width > horizon) break;
      this.slices.delete(index);
    }
  }

  /**
   * Ids added at `horizon` or later, to within a span (an eighth of a slice):
   * a span that `horizon` cuts counts whole.
   */
  countSince(horizon: number): number {
    const spanWidth = this.width / COUNTS_PER_SLICE;
    let total = 0;
    for (const [index, slice] of this.slices) {
      slice.counts.forEach((count, span) => {
        if (index * this.width + (span + 1) * spanWidth > horizon) total += count;
      });
    }
    return total;
  }

  /** Bytes of the filter's bits: what it costs in memory, beside a few objects a slice. */
  get bytes(): number {
    let total = 0;
    for (const slice of this.slices.values()) for (const sub of slice.subFilters) total += sub.bits.length;
    return total;
  }

  /** The whole filter as bytes: a header's length (4 bytes), the header as JSON, then every sub-filter's bits in order. */
  serialize(): Buffer {
    const header: Header = { width: this.width, slices: [] };
    const parts: Uint8Array[] = [];
    for (const [index, slice] of this.slices) {
      header.slices.push([index, slice.counts, slice.subFilters.map((s) => [s.capacity, s.count])]);
      for (const sub of slice.subFilters) parts.push(sub.bits);
    }
    const json = Buffer.from(JSON.stringify(header), 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(json.length);
    return Buffer.concat([length, json, ...parts]);
  }

  /**
   * The filter `serialize` wrote, with the slices it was made with (a filter
   * saved under another window still holds every id of its own, and forgets
   * by whatever horizon it is given); throws on bytes of another shape.
   */
  static deserialize(bytes: Uint8Array): IdFilter {
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const length = buffer.readUInt32BE(0);
    const header = JSON.parse(buffer.subarray(4, 4 + length).toString('utf8')) as Header;
    const filter = new IdFilter(header.width * SLICES_PER_WINDOW);
    let at = 4 + length;
    for (const [index, counts, subFilters] of header.slices) {
      const slice: Slice = { subFilters: [], counts: [...counts] };
      for (const [capacity, count] of subFilters) {
        const sub = subFilter(capacity);
        sub.count = count;
        sub.bits.set(buffer.subarray(at, at + sub.bits.length));
        at += sub.bits.length;
        slice.subFilters.push(sub);
      }
      filter.slices.set(index, slice);
    }
    if (at !== buffer.length) throw new TypeError(`an id filter of ${buffer.length} bytes whose header names ${at}`);
    return filter;
  }

  /** Slices are created in index order (decision times never go back), which `forgetBefore` relies on. */
  private newSlice(index: number): Slice {
    const before = this.slices.get(index - 1);
    const held = before ? before.counts.reduce((a, b) => a + b, 0) : 0;
    const slice: Slice = { subFilters: [subFilter(Math.max(MIN_CAPACITY, Math.ceil(held * PRESIZE)))], counts: new Array<number>(COUNTS_PER_SLICE).fill(0) };
    this.slices.set(index, slice);
    return slice;
  }
}

/**
 * The filter a snapshot holds: its bytes (base64) when it has them, else an
 * empty one for `windowMs`, with the ids listed after it added in order.
 */
export function restoreFilter(serialized: string | undefined, ids: readonly [string, number][], windowMs: number): IdFilter {
  const filter = serialized === undefined ? new IdFilter(windowMs) : IdFilter.deserialize(Buffer.from(serialized, 'base64'));
  for (const [key, at] of ids) filter.add(key, at);
  return filter;
}

function subFilter(capacity: number): SubFilter {
  return { capacity, count: 0, bits: new Uint8Array(Math.ceil((capacity * BITS_PER_ID) / 8)) };
}

/** Bit i of the k bits of an id is (h1 + i * h2) mod the filter's bits (double hashing). */
function setBits(sub: SubFilter, h1: number, h2: number): void {
  const m = sub.bits.length * 8;
  for (let i = 0; i < HASHES; i++) {
    const bit = (h1 + i * h2) % m;
    sub.bits[bit >>> 3]! |= 1 << (bit & 7);
  }
}

function allBitsSet(sub: SubFilter, h1: number, h2: number): boolean {
  const m = sub.bits.length * 8;
  for (let i = 0; i < HASHES; i++) {
    const bit = (h1 + i * h2) % m;
    if ((sub.bits[bit >>> 3]! & (1 << (bit & 7))) === 0) return false;
  }
  return true;
}

/** Two independent 32-bit hashes of `key` (FNV-1a and a multiply-shift one, each finished by murmur3's mix); the second is odd. */
export function hashes(key: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return [mix(a), (mix(b) | 1) >>> 0];
}

function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
