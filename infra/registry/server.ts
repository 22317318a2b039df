import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type avro from 'avsc';
import {
  type CompatibilityLevel,
  compatibilityProblems,
  isCompatibilityLevel,
  type NamedTypes,
  parseAvro,
} from './compatibility.ts';
import type { RegistryStore, SchemaReference, StoredSchema, SubjectState } from './store.ts';

/**
 * A small schema registry speaking the Confluent REST API (the subset the hub
 * and @kafkajs/confluent-schema-registry use), for local development and tests
 * only: one process, one JSON file, no auth, AVRO only.
 */

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
  }
}

const subjectNotFound = (subject: string) => new HttpError(404, 40401, `Subject '${subject}' not found.`);
const versionNotFound = (version: string) => new HttpError(404, 40402, `Version ${version} not found.`);
const schemaNotFound = () => new HttpError(404, 40403, 'Schema not found');
const invalidSchema = (why: string) => new HttpError(422, 42201, `Invalid schema: ${why}`);
const invalidVersion = (version: string) =>
  new HttpError(422, 42202, `The specified version '${version}' is not a valid version id.`);
const invalidLevel = (level: unknown) =>
  new HttpError(422, 42203, `Invalid compatibility level ${JSON.stringify(level)}.`);

interface RegisterBody {
  schema: string;
  references: SchemaReference[];
}

function parseRegisterBody(body: unknown): RegisterBody {
  if (typeof body !== 'object' || body === null) throw invalidSchema('request body must be a JSON object');
  const { schema, schemaType, references } = body as Record<string, unknown>;
  if (schemaType !== undefined && schemaType !== null && schemaType !== 'AVRO') {
    throw invalidSchema(
      `schemaType ${String(schemaType)} is not supported by the local registry (AVRO only)`,
    );
  }
  if (typeof schema !== 'string') throw invalidSchema('"schema" must be a string');
  const refs = references ?? [];
  if (!Array.isArray(refs)) throw invalidSchema('"references" must be an array');
  return { schema, references: refs as SchemaReference[] };
}

export class Registry {
  constructor(private readonly store: RegistryStore) {}

  private get data() {
    return this.store.data;
  }

  private subject(name: string): SubjectState {
    const subject = this.data.subjects[name];
    if (!subject || subject.versions.every((v) => v === null)) throw subjectNotFound(name);
    return subject;
  }

  private schemaById(id: number): StoredSchema {
    const schema = this.data.schemas.find((s) => s.id === id);
    if (!schema) throw schemaNotFound();
    return schema;
  }

  /** Live versions as [version, schema id]. */
  private liveVersions(subject: SubjectState): [number, number][] {
    return subject.versions.flatMap((id, index) =>
      id === null ? [] : [[index + 1, id] as [number, number]],
    );
  }

  private resolveVersion(subjectName: string, version: string): [number, number] {
    const subject = this.subject(subjectName);
    const live = this.liveVersions(subject);
    if (version === 'latest' || version === '-1') {
      const latest = live.at(-1);
      if (!latest) throw versionNotFound(version);
      return latest;
    }
    if (!/^\d+$/.test(version) || Number(version) < 1) throw invalidVersion(version);
    const found = live.find(([v]) => v === Number(version));
    if (!found) throw versionNotFound(version);
    return found;
  }

  /** Parses a schema with the named types its references bring in. */
  private parse(schema: string, references: SchemaReference[], depth = 0): avro.Type {
    return parseAvro(schema, this.referencedTypes(references, depth));
  }

  private referencedTypes(references: SchemaReference[], depth: number): NamedTypes {
    if (depth > 32) throw invalidSchema('schema references nest too deeply');
    const types: NamedTypes = {};
    for (const ref of references) {
      let stored: StoredSchema;
      try {
        stored = this.schemaById(this.resolveVersion(ref.subject, String(ref.version))[1]);
      } catch {
        throw invalidSchema(`reference ${ref.name} -> ${ref.subject} v${ref.version} does not exist`);
      }
      const nested = this.referencedTypes(stored.references, depth + 1);
      Object.assign(types, nested);
      const type = parseAvro(stored.schema, nested);
      if (type.name) types[type.name] = type;
    }
    return types;
  }

  private normalise(body: RegisterBody): { schema: string; type: avro.Type } {
    let type: avro.Type;
    try {
      type = this.parse(body.schema, body.references);
    } catch (error) {
      if (error instanceof HttpError) throw error;
      throw invalidSchema(error instanceof Error ? error.message : String(error));
    }
    return { schema: JSON.stringify(JSON.parse(body.schema)), type };
  }

  private sameSchema(stored: StoredSchema, schema: string, references: SchemaReference[]): boolean {
    return stored.schema === schema && JSON.stringify(stored.references) === JSON.stringify(references);
  }

  level(subjectName?: string): CompatibilityLevel {
    return (subjectName && this.data.subjects[subjectName]?.compatibility) || this.data.compatibility;
  }

  register(subjectName: string, body: unknown): { id: number } {
    const request = parseRegisterBody(body);
    const { schema, type } = this.normalise(request);
    const subject = this.data.subjects[subjectName] ?? { versions: [] };
    const live = this.liveVersions(subject);
    const already = live.find(([, id]) => this.sameSchema(this.schemaById(id), schema, request.references));
    if (already) return { id: already[1] };

    const existing = live.map(([, id]) => {
      const stored = this.schemaById(id);
      return this.parse(stored.schema, stored.references);
    });
    const problems = compatibilityProblems(this.level(subjectName), type, existing);
    if (problems.length > 0) {
      throw new HttpError(
        409,
        409,
        `Schema being registered is incompatible with an earlier schema for subject "${subjectName}" ` +
          `(${this.level(subjectName)}): ${problems.join('; ')}`,
      );
    }
    let stored = this.data.schemas.find((s) => this.sameSchema(s, schema, request.references));
    if (!stored) {
      stored = { id: this.data.nextId++, schema, references: request.references };
      this.data.schemas.push(stored);
    }
    subject.versions.push(stored.id);
    this.data.subjects[subjectName] = subject;
    this.store.save();
    return { id: stored.id };
  }

  lookup(subjectName: string, body: unknown) {
    const request = parseRegisterBody(body);
    const { schema } = this.normalise(request);
    const subject = this.subject(subjectName);
    const found = this.liveVersions(subject).find(([, id]) =>
      this.sameSchema(this.schemaById(id), schema, request.references),
    );
    if (!found) throw schemaNotFound();
    return this.versionBody(subjectName, found);
  }

  private versionBody(subjectName: string, [version, id]: [number, number]) {
    const stored = this.schemaById(id);
    return {
      subject: subjectName,
      version,
      id,
      schema: stored.schema,
      ...(stored.references.length > 0 ? { references: stored.references } : {}),
    };
  }

  subjects(): string[] {
    return Object.keys(this.data.subjects).filter((name) =>
      this.data.subjects[name]?.versions.some((v) => v !== null),
    );
  }

  versions(subjectName: string): number[] {
    return this.liveVersions(this.subject(subjectName)).map(([v]) => v);
  }

  version(subjectName: string, version: string) {
    return this.versionBody(subjectName, this.resolveVersion(subjectName, version));
  }

  schema(id: number) {
    const stored = this.schemaById(id);
    return {
      schema: stored.schema,
      ...(stored.references.length > 0 ? { references: stored.references } : {}),
    };
  }

  checkCompatibility(subjectName: string, version: string, body: unknown, verbose: boolean) {
    const request = parseRegisterBody(body);
    const { type } = this.normalise(request);
    const subject = this.data.subjects[subjectName];
    let against: [number, number][];
    if (!subject || this.liveVersions(subject).length === 0) {
      if (version !== 'latest') throw subjectNotFound(subjectName);
      against = [];
    } else if (version === 'latest' || version === '-1') {
      against = this.liveVersions(subject);
    } else {
      against = [this.resolveVersion(subjectName, version)];
    }
    const existing = against.map(([, id]) => {
      const stored = this.schemaById(id);
      return this.parse(stored.schema, stored.references);
    });
    const problems = compatibilityProblems(this.level(subjectName), type, existing);
    return { is_compatible: problems.length === 0, ...(verbose ? { messages: problems } : {}) };
  }

  deleteSubject(subjectName: string): number[] {
    const versions = this.versions(subjectName);
    delete this.data.subjects[subjectName];
    this.store.save();
    return versions;
  }

  deleteVersion(subjectName: string, version: string): number {
    const [v] = this.resolveVersion(subjectName, version);
    const subject = this.subject(subjectName);
    subject.versions[v - 1] = null;
    this.store.save();
    return v;
  }

  getConfig(subjectName?: string, defaultToGlobal = false) {
    if (subjectName === undefined) return { compatibilityLevel: this.data.compatibility };
    const own = this.data.subjects[subjectName]?.compatibility;
    if (!own && !defaultToGlobal) {
      throw new HttpError(
        404,
        40408,
        `Subject '${subjectName}' does not have subject-level compatibility configured`,
      );
    }
    return { compatibilityLevel: own ?? this.data.compatibility };
  }

  setConfig(subjectName: string | undefined, body: unknown) {
    const level = (body as { compatibility?: unknown } | null)?.compatibility;
    const upper = typeof level === 'string' ? level.toUpperCase() : level;
    if (!isCompatibilityLevel(upper)) throw invalidLevel(level);
    if (subjectName === undefined) {
      this.data.compatibility = upper;
    } else {
      const subject = this.data.subjects[subjectName] ?? { versions: [] };
      subject.compatibility = upper;
      this.data.subjects[subjectName] = subject;
    }
    this.store.save();
    return { compatibility: upper };
  }

  deleteConfig(subjectName: string) {
    const subject = this.data.subjects[subjectName];
    const previous = subject?.compatibility ?? this.data.compatibility;
    if (subject) {
      delete subject.compatibility;
      this.store.save();
    }
    return { compatibilityLevel: previous };
  }
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 400, 'Request body is not valid JSON');
  }
}

type Handler = (
  registry: Registry,
  params: string[],
  req: IncomingMessage,
  query: URLSearchParams,
) => unknown;

interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
}

const SEGMENT = '([^/]+)';
const route = (method: string, path: string, handler: Handler): Route => ({
  method,
  pattern: new RegExp(`^${path.replaceAll('{}', SEGMENT)}/?$`),
  handler,
});

const id = (value: string | undefined): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw schemaNotFound();
  return n;
};

const routes: Route[] = [
  route('GET', '', () => ({})),
  route('GET', '/subjects', (r) => r.subjects()),
  route('GET', '/schemas/types', () => ['AVRO']),
  route('GET', '/schemas/ids/{}', (r, [i]) => r.schema(id(i))),
  route('GET', '/schemas/ids/{}/schema', (r, [i]) => JSON.parse(r.schema(id(i)).schema)),
  route('POST', '/subjects/{}/versions', async (r, [s], req) => r.register(s!, await readBody(req))),
  route('POST', '/subjects/{}', async (r, [s], req) => r.lookup(s!, await readBody(req))),
  route('GET', '/subjects/{}/versions', (r, [s]) => r.versions(s!)),
  route('GET', '/subjects/{}/versions/{}', (r, [s, v]) => r.version(s!, v!)),
  route('GET', '/subjects/{}/versions/{}/schema', (r, [s, v]) => JSON.parse(r.version(s!, v!).schema)),
  route('DELETE', '/subjects/{}', (r, [s]) => r.deleteSubject(s!)),
  route('DELETE', '/subjects/{}/versions/{}', (r, [s, v]) => r.deleteVersion(s!, v!)),
  route('POST', '/compatibility/subjects/{}/versions/{}', async (r, [s, v], req, q) =>
    r.checkCompatibility(s!, v!, await readBody(req), q.get('verbose') === 'true'),
  ),
  route('POST', '/compatibility/subjects/{}/versions', async (r, [s], req, q) =>
    r.checkCompatibility(s!, 'latest', await readBody(req), q.get('verbose') === 'true'),
  ),
  route('GET', '/config', (r) => r.getConfig()),
  route('PUT', '/config', async (r, _, req) => r.setConfig(undefined, await readBody(req))),
  route('GET', '/config/{}', (r, [s], _, q) => r.getConfig(s!, q.get('defaultToGlobal') === 'true')),
  route('PUT', '/config/{}', async (r, [s], req) => r.setConfig(s!, await readBody(req))),
  route('DELETE', '/config/{}', (r, [s]) => r.deleteConfig(s!)),
];

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': CONTENT_TYPE, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function createRegistryServer(registry: Registry): Server {
  return createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://registry.local');
    const path = url.pathname.replace(/\/+$/, '');
    try {
      let methodAllowed = false;
      for (const r of routes) {
        const match = r.pattern.exec(path);
        if (!match) continue;
        methodAllowed = true;
        if (r.method !== req.method) continue;
        const params = match.slice(1).map((p) => decodeURIComponent(p));
        send(res, 200, await r.handler(registry, params, req, url.searchParams));
        return;
      }
      if (methodAllowed) throw new HttpError(405, 405, `Method ${req.method} not allowed on ${path}`);
      throw new HttpError(404, 404, `No such resource: ${path}`);
    } catch (error) {
      if (error instanceof HttpError) {
        send(res, error.status, { error_code: error.errorCode, message: error.message });
      } else {
        send(res, 500, {
          error_code: 50001,
          message: error instanceof Error ? error.message : String(error),
        });
      }
    }
  });
}
