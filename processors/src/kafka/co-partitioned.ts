import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

/**
 * Partition p of every topic to one member: the members sorted by id, p to member p mod count.
 * The input topics are keyed by MSISDN with the same partition count, so a member then holds all
 * of a number's events, whichever topic they came on. With fewer members than `expected` joined,
 * no member gets anything: a consumer that folds in memory (the rebuild) must never see a partition
 * move to another member under it, which early joins and the rebalances after them would do.
 */
export function assignCoPartitioned(
  memberIds: readonly string[],
  partitions: ReadonlyMap<string, readonly number[]>,
  expected = 1,
): Map<string, Record<string, number[]>> {
  const members = [...memberIds].sort();
  const out = new Map<string, Record<string, number[]>>(members.map((m) => [m, {}]));
  if (members.length < expected) return out;
  for (const [topic, ids] of partitions) {
    for (const p of ids) {
      const owner = out.get(members[p % members.length]!)!;
      const list = owner[topic] ?? [];
      list.push(p);
      owner[topic] = list;
    }
  }
  return out;
}

/** A kafkajs partition assigner applying `assignCoPartitioned`; every member must use it. */
export function coPartitionedAssigner(expected = 1): PartitionAssigner {
  return ({ cluster }) => ({
    name: 'CoPartitionedAssigner',
    version: 0,
    async assign({ members, topics }) {
      const partitions = new Map(
        topics.map((t) => [t, cluster.findTopicPartitionMetadata(t).map((m) => m.partitionId)]),
      );
      const assignment = assignCoPartitioned(
        members.map((m) => m.memberId),
        partitions,
        expected,
      );
      return [...assignment].map(([memberId, topicPartitions]) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 0,
          assignment: topicPartitions,
          userData: Buffer.alloc(0),
        }),
      }));
    },
    protocol({ topics }) {
      return {
        name: 'CoPartitionedAssigner',
        metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }),
      };
    },
  });
}
