import { describe, expect, it } from 'vitest';
import { compatibilityProblems, parseAvro } from './compatibility.ts';

const record = (fields: object[]) =>
  JSON.stringify({ type: 'record', name: 'StatusUpdate', namespace: 't', fields });
const v1 = parseAvro(record([{ name: 'msisdn', type: 'string' }]));
const withDefault = parseAvro(
  record([
    { name: 'msisdn', type: 'string' },
    { name: 'operator', type: 'string', default: 'UNKNOWN' },
  ]),
);
const withoutDefault = parseAvro(
  record([
    { name: 'msisdn', type: 'string' },
    { name: 'operator', type: 'string' },
  ]),
);
const renamedType = parseAvro(record([{ name: 'msisdn', type: 'long' }]));

describe('BACKWARD compatibility', () => {
  it('accepts a new field with a default', () => {
    expect(compatibilityProblems('BACKWARD', withDefault, [v1])).toEqual([]);
  });

  it('refuses a new field without a default, saying why', () => {
    const problems = compatibilityProblems('BACKWARD', withoutDefault, [v1]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/cannot read data written with version 1/);
  });

  it('refuses a field whose type changes incompatibly', () => {
    expect(compatibilityProblems('BACKWARD', renamedType, [v1])).toHaveLength(1);
  });

  it('accepts removing a field (the new reader ignores it)', () => {
    expect(compatibilityProblems('BACKWARD', v1, [withoutDefault])).toEqual([]);
  });

  it('checks only the latest version unless transitive', () => {
    expect(compatibilityProblems('BACKWARD', withoutDefault, [v1, withoutDefault])).toEqual([]);
    expect(compatibilityProblems('BACKWARD_TRANSITIVE', withoutDefault, [v1, withoutDefault])).toHaveLength(
      1,
    );
  });
});

describe('other levels', () => {
  it('FORWARD refuses removing a field the old reader needs', () => {
    expect(compatibilityProblems('FORWARD', v1, [withoutDefault])).toHaveLength(1);
    expect(compatibilityProblems('FORWARD', withoutDefault, [v1])).toEqual([]);
  });

  it('FULL needs both directions', () => {
    expect(compatibilityProblems('FULL', withDefault, [v1])).toEqual([]);
    expect(compatibilityProblems('FULL', withoutDefault, [v1])).toHaveLength(1);
  });

  it('NONE accepts anything, and a first version is always compatible', () => {
    expect(compatibilityProblems('NONE', renamedType, [v1])).toEqual([]);
    expect(compatibilityProblems('BACKWARD', renamedType, [])).toEqual([]);
  });
});
