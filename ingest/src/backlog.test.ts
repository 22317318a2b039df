import { describe, expect, it } from 'vitest';
import { slices } from './backlog.ts';

describe('slices', () => {
  it('bounds each slice by record count and by bytes, keeping order', () => {
    const sizes = [400, 400, 400, 100, 1_500, 10, 10];
    const out = slices(sizes, 3, 1_000, (n) => n);
    expect(out).toEqual([[400, 400], [400, 100], [1_500], [10, 10]]);
    expect(slices([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(slices([], 2)).toEqual([]);
  });
});
