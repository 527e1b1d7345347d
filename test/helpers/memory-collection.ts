// A MongoDB collection in memory for the api's reads of the ledger and of cuts:
// `find` with the filters those reads build (equalities, `$in`, `$lt`, `$lte`,
// `$gte`, `$exists`, a top-level `$or`), sorted by one field, limited and
// projected as MongoDB does them; `insertOne` refusing a second `_id` and
// `findOne`. Each query is recorded, so a test can see what the reader asked.
import type { Document } from 'mongodb';

type Condition = Record<string, unknown>;

/** Whether `doc` matches `filter`, as MongoDB reads the operators this supports (and throws on any other). */
export function matches(doc: Document, filter: Document): boolean {
  for (const [field, wanted] of Object.entries(filter)) {
    if (field === '$or') {
      if (!(wanted as Document[]).some((branch) => matches(doc, branch))) return false;
    } else if (!fieldMatches(doc[field], wanted)) {
      return false;
    }
  }
  return true;
}

function fieldMatches(value: unknown, wanted: unknown): boolean {
  if (wanted === null || typeof wanted !== 'object' || Array.isArray(wanted)) return value === wanted;
  for (const [op, operand] of Object.entries(wanted as Condition)) {
    const number = operand as number;
    const ok =
      op === '$in' ? (operand as unknown[]).includes(value)
      : op === '$exists' ? (value !== undefined) === operand
      : op === '$lt' ? typeof value === 'number' && value < number
      : op === '$lte' ? typeof value === 'number' && value <= number
      : op === '$gte' ? typeof value === 'number' && value >= number
      : fail(op);
    if (!ok) return false;
  }
  return true;
}

function fail(op: string): never {
  throw new Error(`the in-memory collection has no ${op}`);
}

export interface FindOptions {
  sort?: Record<string, 1 | -1>;
  limit?: number;
  projection?: Record<string, 0>;
}

export class MemoryCollection<T extends Document & { _id: string }> {
  readonly docs: T[] = [];
  /** Every filter `find` and `findOne` were given, in order. */
  readonly queries: Document[] = [];
  /** When set, every call fails with it (the database down). */
  failing: Error | undefined;

  constructor(docs: Iterable<T> = []) {
    for (const doc of docs) this.docs.push(structuredClone(doc));
  }

  find(filter: Document, options: FindOptions = {}) {
    this.queries.push(filter);
    const run = (): T[] => {
      if (this.failing) throw this.failing;
      let hit = this.docs.filter((doc) => matches(doc, filter));
      const [field, direction] = Object.entries(options.sort ?? {})[0] ?? [];
      if (field !== undefined) hit = hit.sort((a, b) => ((a[field] as number) - (b[field] as number)) * direction!);
      if (options.limit) hit = hit.slice(0, options.limit);
      return hit.map((doc) => project(structuredClone(doc), options.projection));
    };
    return { toArray: async () => run() };
  }

  async findOne(filter: Document): Promise<T | null> {
    this.queries.push(filter);
    if (this.failing) throw this.failing;
    const doc = this.docs.find((d) => matches(d, filter));
    return doc === undefined ? null : structuredClone(doc);
  }

  async insertOne(doc: T): Promise<{ acknowledged: true; insertedId: string }> {
    if (this.failing) throw this.failing;
    if (this.docs.some((d) => d._id === doc._id)) throw new Error(`E11000 duplicate key: ${doc._id}`);
    this.docs.push(structuredClone(doc));
    return { acknowledged: true, insertedId: doc._id };
  }
}

function project<T extends Document>(doc: T, projection: Record<string, 0> | undefined): T {
  for (const field of Object.keys(projection ?? {})) delete doc[field];
  return doc;
}
