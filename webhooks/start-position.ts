// Where an endpoint's consumer group reads from (docs/webhooks.md): a
// partition the group has committed goes on from its commit; one it has not
// (a new endpoint, or a partition it never had an event of) starts at the
// end offset the api recorded when the endpoint was registered, so the
// endpoint receives exactly the events published after its registration; a
// partition added since starts at 0. The group is positioned with the admin
// client before its consumer joins: kafkajs sets offsets only for a group
// with no running member.
import type { Admin } from 'kafkajs';

/** A partition's committed offset as kafkajs's admin reads it: "-1" for none. */
export interface CommittedOffset {
  partition: number;
  offset: string;
}

/** For each partition of the topic: the offset to set (if uncommitted) and the next offset the group reads. */
export function startPositions(partitions: readonly number[], committed: readonly CommittedOffset[], startOffsets: readonly number[]) {
  const done = new Map(committed.filter((c) => Number(c.offset) >= 0).map((c) => [c.partition, Number(c.offset)]));
  const toSet: { partition: number; offset: string }[] = [];
  const next = new Map<number, number>();
  for (const partition of partitions) {
    const offset = done.get(partition) ?? startOffsets[partition] ?? 0;
    if (!done.has(partition)) toSet.push({ partition, offset: String(offset) });
    next.set(partition, offset);
  }
  return { toSet, next };
}

/** Sets the uncommitted partitions of `groupId` to their start; answers each partition's next offset. */
export async function positionGroup(
  admin: Pick<Admin, 'fetchTopicOffsets' | 'fetchOffsets' | 'setOffsets'>,
  groupId: string,
  topic: string,
  startOffsets: readonly number[],
): Promise<Map<number, number>> {
  const partitions = (await admin.fetchTopicOffsets(topic)).map((p) => p.partition);
  const committed = (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]?.partitions ?? [];
  const { toSet, next } = startPositions(partitions, committed, startOffsets);
  if (toSet.length > 0) await admin.setOffsets({ groupId, topic, partitions: toSet });
  return next;
}
