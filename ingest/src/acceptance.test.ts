import { describe, expect, it } from 'vitest';
import { incompleteSummary, indexRanges, kafkaOutcome } from './acceptance.ts';
import { PublishIncompleteError } from './publisher.ts';

describe('partial acceptance', () => {
  it('folds request indexes into inclusive ranges', () => {
    expect(indexRanges([])).toEqual([]);
    expect(indexRanges([0, 1, 2, 4, 5, 9])).toEqual([
      [0, 2],
      [4, 5],
      [9, 9],
    ]);
  });

  it('maps published, unconfirmed and unsent events back to their request indexes, skipping rejected records', () => {
    // Records 2 and 6 were rejected; events are the other seven, published in chunks of 2.
    const indexes = [0, 1, 3, 4, 5, 7, 8];
    const err = new PublishIncompleteError(7, 2, 2, new Error('Connection error'));
    expect(kafkaOutcome(err, indexes)).toEqual({
      published: [[0, 1]],
      unconfirmed: [[3, 4]],
      notSent: [
        [5, 5],
        [7, 8],
      ],
    });
    expect(err.notSent).toBe(3);
    expect(incompleteSummary(err)).toBe(
      '2 of 7 valid records are on Kafka, 2 unconfirmed (they may or may not be on Kafka), 3 not sent',
    );
    expect(incompleteSummary(new PublishIncompleteError(7, 0, 0, new Error('down')))).toBe(
      'none of the 7 valid records was sent',
    );
  });
});
