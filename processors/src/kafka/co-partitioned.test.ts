import { describe, expect, it } from 'vitest';
import { assignCoPartitioned } from './co-partitioned.ts';

const six = [0, 1, 2, 3, 4, 5];
const topics = new Map([
  ['status', six],
  ['nin', six],
  ['bvn', six],
]);

describe('assignCoPartitioned', () => {
  it('gives partition p of every topic to the same member', () => {
    for (const count of [1, 2, 3, 4, 5, 7]) {
      const members = Array.from({ length: count }, (_, i) => `m-${String.fromCharCode(122 - i)}`);
      const out = assignCoPartitioned(members, topics, count);
      const owners = new Map<number, string>();
      let assigned = 0;
      for (const [member, byTopic] of out) {
        for (const [, ps] of Object.entries(byTopic)) {
          for (const p of ps) {
            assigned++;
            expect(owners.get(p) ?? member, `partition ${p} with ${count} members`).toBe(member);
            owners.set(p, member);
          }
        }
      }
      expect(assigned, `${count} members`).toBe(18);
      expect(owners.size).toBe(6);
    }
  });

  it('spreads the partitions evenly over the members, by sorted member id', () => {
    const out = assignCoPartitioned(['b', 'a'], topics, 2);
    expect(out.get('a')).toEqual({ status: [0, 2, 4], nin: [0, 2, 4], bvn: [0, 2, 4] });
    expect(out.get('b')).toEqual({ status: [1, 3, 5], nin: [1, 3, 5], bvn: [1, 3, 5] });
  });

  it('assigns nothing until the expected members have joined', () => {
    const out = assignCoPartitioned(['a'], topics, 2);
    expect([...out]).toEqual([['a', {}]]);
  });
});
