import ranges from '../data/number-ranges.json' with { type: 'json' };

export interface Operator {
  code: string;
  /** Display name, as TIRMS shows it in `mobileNetwork`. */
  name: string;
  /** Approximate share of active lines, used by the synthetic population. */
  share: number;
}

export const OPERATORS: readonly Operator[] = ranges.operators;
export const NUMBER_RANGE_SOURCE: string = ranges.source;

const byCode = new Map(OPERATORS.map((o) => [o.code, o]));
const prefixes = ranges.prefixes as Record<string, string>;
const prefixLengths = [...new Set(Object.keys(prefixes).map((p) => p.length))].sort((a, b) => b - a);

/** The allocated operator of a canonical MSISDN (234 + 10 digits), by longest prefix; undefined if unallocated. */
export function allocatedOperator(msisdn: string): Operator | undefined {
  const national = msisdn.slice(3);
  for (const len of prefixLengths) {
    const code = prefixes[national.slice(0, len)];
    if (code) return byCode.get(code);
  }
  return undefined;
}

export function operatorByCode(code: string): Operator | undefined {
  return byCode.get(code);
}

/** The national prefixes (without trunk 0) allocated to an operator. */
export function prefixesOf(code: string): string[] {
  return Object.entries(prefixes)
    .filter(([, c]) => c === code)
    .map(([p]) => p)
    .sort();
}
