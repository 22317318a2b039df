import { describe, expect, it } from 'vitest';
import { todayInLagos } from '../dates.ts';
import { checkStatusUpdate } from './tirms.ts';

const valid = {
  status: 'BARRED',
  phoneNumber: '07059316841',
  reassignmentDate: '2025-09-15',
  occurrenceOfStatusDate: '2025-09-15',
  remarks: 'Number reassigned to new user',
};

function problems(input: unknown) {
  const r = checkStatusUpdate(input);
  return r.ok ? [] : r.problems;
}

describe('status update record', () => {
  it('accepts the documented sample and folds BARRED into BLACKLISTED', () => {
    const r = checkStatusUpdate(valid);
    expect(r).toEqual({
      ok: true,
      value: {
        msisdn: '2347059316841',
        submittedNumber: '07059316841',
        submittedStatus: 'BARRED',
        status: 'BLACKLISTED',
        occurrenceDate: '2025-09-15',
        reassignmentDate: '2025-09-15',
        remarks: 'Number reassigned to new user',
      },
    });
  });

  it('accepts uid in place of phoneNumber', () => {
    const { phoneNumber: _, ...rest } = valid;
    const r = checkStatusUpdate({ ...rest, uid: '2347059316841' });
    expect(r.ok && r.value.msisdn).toBe('2347059316841');
  });

  it('requires reassignmentDate for SWAPPED and CHURNED only', () => {
    const { reassignmentDate: _, ...rest } = valid;
    expect(problems({ ...rest, status: 'SWAPPED' })).toEqual([
      { field: 'reassignmentDate', message: 'is required when status is SWAPPED' },
    ]);
    expect(problems({ ...rest, status: 'CHURNED' })[0]?.field).toBe('reassignmentDate');
    expect(problems({ ...rest, status: 'NORMAL' })).toEqual([]);
  });

  it('names every bad field at once', () => {
    const found = problems({
      status: 'LOST',
      phoneNumber: '28123456789',
      occurrenceOfStatusDate: '2025-02-30',
    });
    expect(found.map((p) => p.field).sort()).toEqual(['occurrenceOfStatusDate', 'phoneNumber', 'status']);
    expect(found.find((p) => p.field === 'status')?.message).toContain('must be one of');
    expect(found.find((p) => p.field === 'occurrenceOfStatusDate')?.message).toContain(
      'not a real calendar date',
    );
  });

  it('requires occurrenceOfStatusDate and rejects future ones', () => {
    const { occurrenceOfStatusDate: _, ...rest } = valid;
    expect(problems(rest)).toEqual([{ field: 'occurrenceOfStatusDate', message: 'is required' }]);
    const tomorrow = new Date(Date.parse(`${todayInLagos()}T00:00:00Z`) + 86_400_000)
      .toISOString()
      .slice(0, 10);
    expect(problems({ ...valid, occurrenceOfStatusDate: tomorrow })[0]?.message).toContain(
      'is in the future',
    );
  });

  it('refuses dates outside what the hub stores, naming the field (1950 was acknowledged, then dead-lettered)', () => {
    expect(problems({ ...valid, occurrenceOfStatusDate: '1950-03-01' })).toEqual([
      {
        field: 'occurrenceOfStatusDate',
        message: "'1950-03-01' is outside the supported range 1990-01-01..2105-12-31",
      },
    ]);
    expect(problems({ ...valid, reassignmentDate: '2150-01-01' })).toEqual([
      {
        field: 'reassignmentDate',
        message: "'2150-01-01' is outside the supported range 1990-01-01..2105-12-31",
      },
    ]);
    expect(
      problems({ ...valid, occurrenceOfStatusDate: '1990-01-01', reassignmentDate: '2105-12-31' }),
    ).toEqual([]);
  });

  it('rejects wrong types with the expected type named', () => {
    expect(problems({ ...valid, phoneNumber: 7059316841 })[0]).toEqual({
      field: 'phoneNumber',
      message: 'must be a string (10, 11 or 13 digits)',
    });
    expect(problems({ ...valid, remarks: 5 })[0]?.field).toBe('remarks');
    expect(problems('x')).toEqual([{ field: '', message: 'must be a JSON object' }]);
    expect(problems(null)).toEqual([{ field: '', message: 'must be a JSON object' }]);
  });

  it('requires a phone number', () => {
    const { phoneNumber: _, ...rest } = valid;
    expect(problems(rest)).toEqual([{ field: 'phoneNumber', message: 'is required' }]);
  });
});
