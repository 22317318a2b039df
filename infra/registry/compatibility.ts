import avro from 'avsc';

export const COMPATIBILITY_LEVELS = [
  'NONE',
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
] as const;

export type CompatibilityLevel = (typeof COMPATIBILITY_LEVELS)[number];

export function isCompatibilityLevel(value: unknown): value is CompatibilityLevel {
  return typeof value === 'string' && (COMPATIBILITY_LEVELS as readonly string[]).includes(value);
}

/** Named types already defined by a schema's references, for parsing it. */
export type NamedTypes = Record<string, avro.Type>;

export function parseAvro(schema: string, references: NamedTypes = {}): avro.Type {
  // A copy: avsc adds the types it defines to the registry it is given.
  return avro.Type.forSchema(JSON.parse(schema) as avro.Schema, { registry: { ...references } });
}

/** Why `reader` cannot read data written with `writer`, or undefined when it can. */
export function readProblem(reader: avro.Type, writer: avro.Type): string | undefined {
  try {
    reader.createResolver(writer);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/**
 * Checks a candidate schema against the existing versions (oldest first),
 * with Confluent's meaning of each level:
 * BACKWARD: the new schema reads data written with the latest one;
 * FORWARD: the latest schema reads data written with the new one;
 * FULL: both; *_TRANSITIVE: against every version, not only the latest.
 * Returns the problems found; empty means compatible.
 */
export function compatibilityProblems(
  level: CompatibilityLevel,
  candidate: avro.Type,
  existing: readonly avro.Type[],
): string[] {
  if (level === 'NONE' || existing.length === 0) return [];
  const against = level.endsWith('_TRANSITIVE') ? existing : existing.slice(-1);
  const backward = level.startsWith('BACKWARD') || level.startsWith('FULL');
  const forward = level.startsWith('FORWARD') || level.startsWith('FULL');
  const problems: string[] = [];
  for (const old of against) {
    const version = existing.indexOf(old) + 1;
    if (backward) {
      const problem = readProblem(candidate, old);
      if (problem) problems.push(`new schema cannot read data written with version ${version}: ${problem}`);
    }
    if (forward) {
      const problem = readProblem(old, candidate);
      if (problem)
        problems.push(`version ${version} cannot read data written with the new schema: ${problem}`);
    }
  }
  return problems;
}
