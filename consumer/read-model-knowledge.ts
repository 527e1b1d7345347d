// What an owner knows of its partition's read model in Redis, and what each
// write asks Redis to prove. Redis can miss a write (a dropped connection, a
// write refused at its memory limit) or lose writes it acknowledged (an
// external Redis restarted from an older persistence file, or empty). The
// first the owner sees as a failed call; the second only through the
// partition's written marker (common/read-model.ts `keys.written`), which each
// of its writes compares with what the owner last recorded there. Either way
// the owner writes the partition back whole (consumer/read-model-restorer.ts).

/** How Redis answered a read-model write or check (consumer/read-model-writer.ts). */
export type ReadModelAnswer =
  /** Redis holds the partition through the mark's `expected`, and its ready marker is there. */
  | 'whole'
  /** The ready marker is gone (Redis restarted empty, or a write-back is under way). */
  | 'missing'
  /** The written marker is below the mark's `expected`: Redis lacks writes, and the call withdrew the ready marker. */
  | 'behind';

/** What a write or a check asks of Redis, made by `PartitionOwner.readModelMark`. */
export interface WrittenMark {
  /** Redis must hold the partition through this offset (its written marker at least this), or it is behind. */
  expected: number;
  /** The offset to raise the written marker to when Redis is not behind; -1: leave it. */
  record: number;
  /** The owner's count of losses when the mark was made (see `ReadModelKnowledge.losses`). */
  losses: number;
}

/**
 * - `unknown`: just loaded or given the partition again; whole if Redis holds
 *   what earlier owners wrote (checked by the first write or upkeep round).
 * - `whole`: Redis holds every write of the partition through `through`, and
 *   every write of this owner since.
 * - `missed`: a write failed or Redis lost some; the partition is to be written back whole.
 */
type Standing = 'unknown' | 'whole' | 'missed';

export class ReadModelKnowledge {
  #standing: Standing = 'unknown';
  /** The highest offset this owner raised the written marker to, or found it at: Redis must hold at least this much. */
  #through = -1;
  #losses = 0;

  /** Whether Redis is known to hold the partition's whole state. */
  get whole(): boolean {
    return this.#standing === 'whole';
  }

  /**
   * Writes Redis failed or lost so far: a write-back that began before one of
   * them may not cover it, so it leaves the read model `missed`.
   */
  get losses(): number {
    return this.#losses;
  }

  /**
   * The mark of a write of a batch through `lastOffset` (-1 for a check).
   * `required`: what earlier owners must have written, for an owner that does
   * not know yet. An owner that missed writes records nothing, and expects no
   * more than it recorded: its write-back decides what Redis holds.
   */
  mark(required: number, lastOffset: number): WrittenMark {
    switch (this.#standing) {
      case 'unknown':
        return { expected: Math.max(this.#through, required), record: lastOffset, losses: this.#losses };
      case 'whole':
        return { expected: this.#through, record: lastOffset, losses: this.#losses };
      case 'missed':
        return { expected: this.#through, record: -1, losses: this.#losses };
    }
  }

  /** Redis answered a write or check made with `mark`. */
  answered(mark: WrittenMark, answer: ReadModelAnswer): void {
    if (answer === 'whole') {
      this.#through = Math.max(this.#through, mark.expected, mark.record);
      if (this.#standing === 'unknown' && mark.losses === this.#losses) this.#standing = 'whole';
      return;
    }
    // A write-back is due or under way: it sets the ready marker again itself.
    if (answer === 'missing' && this.#standing === 'missed') return;
    this.lost(answer);
  }

  /** A write failed: Redis may not hold it. */
  failed(): void {
    this.lost('missing');
  }

  /**
   * A write-back that began at losses `losses` wrote the partition as of
   * `offset` and answered: `whole` when it set the ready marker, `behind` when
   * Redis lost writes meanwhile.
   */
  writtenBack(losses: number, offset: number, answer: ReadModelAnswer): void {
    if (answer !== 'whole') {
      this.lost(answer);
      return;
    }
    this.#through = Math.max(this.#through, offset);
    if (losses === this.#losses) this.#standing = 'whole';
  }

  /** Given the partition again: another member may have written it meanwhile, and missed writes. */
  resumed(): void {
    if (this.#standing === 'whole') this.#standing = 'unknown';
  }

  /**
   * Redis does not hold some of the partition. When it is `behind`, what it
   * holds is unknown until the write-back: writes meanwhile expect nothing,
   * rather than each find Redis behind again and void the write-back.
   */
  private lost(answer: ReadModelAnswer): void {
    this.#standing = 'missed';
    this.#losses++;
    if (answer === 'behind') this.#through = -1;
  }
}
