import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CompatibilityLevel } from './compatibility.ts';

export interface SchemaReference {
  name: string;
  subject: string;
  version: number;
}

export interface StoredSchema {
  id: number;
  /** As registered, re-serialised without whitespace so equal schemas compare equal. */
  schema: string;
  references: SchemaReference[];
}

export interface SubjectState {
  /** Schema ids by version; version n is at index n-1 (null once deleted). */
  versions: (number | null)[];
  compatibility?: CompatibilityLevel;
}

export interface RegistryData {
  nextId: number;
  compatibility: CompatibilityLevel;
  schemas: StoredSchema[];
  subjects: Record<string, SubjectState>;
}

function empty(): RegistryData {
  return { nextId: 1, compatibility: 'BACKWARD', schemas: [], subjects: {} };
}

/** The registry's state in one JSON file, replaced atomically (write aside, then rename) on each change. */
export class RegistryStore {
  readonly data: RegistryData;

  constructor(private readonly file?: string) {
    this.data = file && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as RegistryData) : empty();
  }

  save(): void {
    if (!this.file) return;
    mkdirSync(dirname(this.file), { recursive: true });
    const temporary = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(this.data, null, 1)}\n`);
    renameSync(temporary, this.file);
  }
}
