import { Agent, request as httpRequest } from 'node:http';
import { EMPTY_SEED, IdentityIndex } from '@hub/dev-tools/simulators/identities';
import { createNibssSimulator } from '@hub/dev-tools/simulators/nibss';
import { createNimcSimulator } from '@hub/dev-tools/simulators/nimc';
import { startSimulator } from '@hub/dev-tools/simulators/server';
import { type Credential, createCredentials, createFaultEnv, killChild, startApi, stopChild } from './env.ts';
import { Rand, type Scenario } from './scenario.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

interface SchemaObject {
  type?: string | string[];
  properties?: Record<string, SchemaObject>;
  items?: SchemaObject;
  required?: string[];
  enum?: Json[];
  example?: Json;
  format?: string;
  $ref?: string;
  anyOf?: SchemaObject[];
  oneOf?: SchemaObject[];
  allOf?: SchemaObject[];
  nullable?: boolean;
}

interface Operation {
  method: string;
  path: string;
  pathParams: string[];
  query: { name: string; schema: SchemaObject; required: boolean }[];
  body: SchemaObject | null;
}

interface FuzzRequest {
  op: Operation;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
  /** The field the mutation targeted, when there is one. */
  field: string | null;
  mutation: string;
  who: string;
}

interface Finding {
  req: FuzzRequest;
  status: number;
  response: string;
  problem: string;
}

/** Strings that have broken parsers, SQL, shells, paths and headers somewhere. */
const HOSTILE = [
  "' OR '1'='1",
  "'; DROP TABLE status_events_v1; --",
  '" OR 1=1 --',
  "\\'",
  '\\',
  '%27',
  '%00',
  '\u0000',
  '../../../../etc/passwd',
  '..%2F..%2Fetc%2Fpasswd',
  '<script>alert(1)</script>',
  ['$', '{jndi:ldap://x/a}'].join(''),
  '{{7*7}}',
  '$(reboot)',
  '`id`',
  '\r\nX-Injected: 1',
  'null',
  'undefined',
  'NaN',
  '-1',
  '0',
  '1e309',
  '9'.repeat(400),
  '+2348031234567',
  '08031234567',
  '2348031234567',
  '080312345678901234',
  '+-234803',
  '０８０３１２３４５６７',
  'ṕḧöñè',
  '😀😀😀',
  '2025-02-30',
  '2025-13-01',
  '0000-00-00',
  '9999-12-31T99:99:99Z',
  '1961-10-01',
  '2025-06-01T10:00:00+25:00',
  ' ',
  '',
  'a'.repeat(5000),
  '__proto__',
  'constructor',
  '{"$gt":""}',
  'SELECT * FROM system.users',
  "x' FORMAT JSON --",
];

const WRONG_TYPES: Json[] = [
  null,
  true,
  0,
  -1,
  1.5,
  1e308,
  'x',
  [],
  [null],
  {},
  { $ne: null },
  { __proto__: { admin: true } } as Json,
];

/** One request over a given keep-alive agent (node:http), so a test can see what happens to its socket. */
function viaAgent(
  agent: Agent,
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; connection: string; text: string }> {
  return new Promise((resolve, reject) => {
    const sized =
      body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) };
    const req = httpRequest(url, { method, headers: sized, agent }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString();
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, connection: String(res.headers.connection ?? ''), text }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error('timeout')));
    req.end(body);
  });
}

export const fuzzScenario: Scenario = {
  id: 6,
  title: 'fuzzer: malformed and hostile requests to every route of /openapi.json',
  stopsServices: false,
  async run(ctx, report) {
    const total = 10_000;
    const rand = new Rand(ctx.seed ^ 0x6666);
    // The name enquiry asks NIBSS live and NIN verify with refresh asks NIMC live, so simulators
    // stand where NIBSS and NIMC would.
    const nibss = await startSimulator(createNibssSimulator(new IdentityIndex(EMPTY_SEED)), 0);
    const nimc = await startSimulator(createNimcSimulator(new IdentityIndex(EMPTY_SEED)), 0);
    const env = await createFaultEnv(ctx.run, 's6', { NIBSS_URL: nibss.url, NIMC_URL: nimc.url });
    const creds = await createCredentials(env);
    const api = await startApi(env);
    try {
      const doc = (await (await fetch(`${api.base}/openapi.json`)).json()) as {
        paths: Record<string, Record<string, { parameters?: unknown[]; requestBody?: unknown }>>;
        components?: { schemas?: Record<string, SchemaObject> };
      };
      const resolve = (s: SchemaObject | undefined, depth = 0): SchemaObject => {
        if (!s || depth > 20) return {};
        if (s.$ref) return resolve(doc.components?.schemas?.[s.$ref.split('/').pop() ?? ''], depth + 1);
        if (s.allOf) {
          const merged: SchemaObject = { properties: {} };
          for (const part of s.allOf) {
            const r = resolve(part, depth + 1);
            Object.assign(merged.properties!, r.properties);
            merged.required = [...(merged.required ?? []), ...(r.required ?? [])];
            if (r.type) merged.type = r.type;
          }
          return merged;
        }
        if (s.anyOf ?? s.oneOf) return resolve((s.anyOf ?? s.oneOf)![0], depth + 1);
        return s;
      };
      const ops: Operation[] = [];
      for (const [path, methods] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(methods)) {
          if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
          const params = (op.parameters ?? []) as {
            in: string;
            name: string;
            required?: boolean;
            schema?: SchemaObject;
          }[];
          const body = op.requestBody as { content?: Record<string, { schema?: SchemaObject }> } | undefined;
          ops.push({
            method: method.toUpperCase(),
            path,
            pathParams: params.filter((p) => p.in === 'path').map((p) => p.name),
            query: params
              .filter((p) => p.in === 'query')
              .map((p) => ({ name: p.name, schema: resolve(p.schema), required: p.required === true })),
            body: body?.content?.['application/json']?.schema
              ? resolve(body.content['application/json'].schema)
              : null,
          });
        }
      }
      report.step(
        `${ops.length} operations in /openapi.json; ${total} requests, seed ${ctx.seed}; ${creds.all.length} credentials (${creds.all.map((c) => c.label).join(', ')}) plus none and garbage`,
      );

      const sampleOf = (s: SchemaObject, depth = 0): Json => {
        const r = resolve(s);
        if (r.example !== undefined) return r.example;
        if (r.enum?.length) return r.enum[0]!;
        const type = Array.isArray(r.type) ? r.type[0] : r.type;
        if (depth > 6) return null;
        switch (type) {
          case 'object': {
            const o: Record<string, Json> = {};
            for (const [k, v] of Object.entries(r.properties ?? {})) o[k] = sampleOf(v, depth + 1);
            return o;
          }
          case 'array':
            return r.items ? [sampleOf(r.items, depth + 1)] : [];
          case 'integer':
          case 'number':
            return 1;
          case 'boolean':
            return true;
          case 'string':
            return r.format === 'date'
              ? '2025-06-01'
              : r.format === 'date-time'
                ? '2025-06-01T10:00:00Z'
                : 'x';
          default:
            return r.properties ? sampleOf({ ...r, type: 'object' }, depth) : 'x';
        }
      };
      const hostile = () => rand.pick(HOSTILE);
      const validPathValue = (name: string) =>
        /number|msisdn|phone/i.test(name)
          ? '2348031234567'
          : /nin/i.test(name)
            ? '12345678901'
            : /bvn/i.test(name)
              ? '22345678901'
              : 'x';

      const credentialHeader = (): { who: string; headers: Record<string, string> } => {
        const r = rand.next();
        if (r < 0.1) return { who: 'none', headers: {} };
        if (r < 0.25) {
          const garbage = rand.pick([
            'Bearer',
            'Bearer ',
            'Bearer hub_deadbeef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
            'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiIsInJvbGUiOiJBZG1pbiJ9.',
            `Bearer ${'x'.repeat(8000)}`,
            'Basic YWRtaW46YWRtaW4=',
            "Bearer ' OR '1'='1",
            'bearer hub_',
            'Bearer \u00e9\u00e9',
          ]);
          return { who: `garbage:${garbage.slice(0, 20)}`, headers: { authorization: garbage } };
        }
        const c: Credential = rand.pick(creds.all);
        const headers: Record<string, string> = { authorization: `Bearer ${c.token}` };
        if (c.label === 'key:nimc' && rand.chance(0.5))
          return { who: c.label, headers: { 'x-api-key': c.token } };
        return { who: c.label, headers };
      };

      const build = (): FuzzRequest => {
        const op = rand.pick(ops);
        let field: string | null = null;
        let mutation = 'none';
        const { who, headers } = credentialHeader();
        // Path
        let path = op.path;
        for (const name of op.pathParams) {
          const r = rand.next();
          let value: string;
          if (r < 0.35) value = validPathValue(name);
          else {
            value = hostile();
            mutation = `path ${name}`;
          }
          path = path.replace(
            `{${name}}`,
            rand.chance(0.8) ? encodeURIComponent(value) : value.replace(/[\s#?]/g, '_'),
          );
        }
        // Query
        const query: string[] = [];
        for (const q of op.query) {
          const r = rand.next();
          if (r < 0.3) continue;
          let value: string;
          if (r < 0.55) value = String(sampleOf(q.schema));
          else if (r < 0.8) {
            value = hostile();
            field = q.name;
            mutation = `query ${q.name} hostile`;
          } else {
            value = rand.pick(['-5', '1e9', 'abc', '0x10', '99999999999999999999', '[]', 'true', '1.5']);
            field = q.name;
            mutation = `query ${q.name} wrong type`;
          }
          query.push(`${encodeURIComponent(q.name)}=${encodeURIComponent(value)}`);
        }
        if (rand.chance(0.1)) query.push(`${encodeURIComponent(hostile())}=${encodeURIComponent(hostile())}`);
        const url = `${api.base}${path}${query.length ? `?${query.join('&')}` : ''}`;
        // Body
        let body: string | undefined;
        const method = rand.chance(0.03)
          ? rand.pick(['PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'TRACE'])
          : op.method;
        if (method === 'TRACE')
          return { op, method: 'GET', url, headers, body, field, mutation: 'method', who };
        if (op.body && method !== 'GET' && method !== 'HEAD') {
          headers['content-type'] = 'application/json';
          const base = sampleOf(op.body);
          const r = rand.next();
          if (r < 0.08) {
            body = rand.pick([
              '{',
              '{"a":',
              '[1,2',
              'not json',
              '{"a":1}}',
              "{'a':1}",
              '\u0000',
              '{"a":NaN}',
              '',
            ]);
            mutation = 'bad JSON';
          } else if (r < 0.11) {
            body = JSON.stringify({ pad: 'x'.repeat(rand.pick([1_100_000, 3_000_000])) });
            mutation = 'huge body';
          } else if (r < 0.13) {
            body = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
            mutation = 'deep nesting';
          } else if (r < 0.16) {
            headers['content-type'] = rand.pick([
              'text/plain',
              'application/xml',
              'multipart/form-data; boundary=x',
              'application/json; charset=utf-16',
            ]);
            body = JSON.stringify(base);
            mutation = `content-type ${headers['content-type']}`;
          } else if (r < 0.22) {
            body = JSON.stringify(rand.pick([null, 1, 'x', [], true, [base, base]] as Json[]));
            mutation = 'top-level wrong type';
          } else if (
            typeof base === 'object' &&
            base !== null &&
            !Array.isArray(base) &&
            Object.keys(base).length > 0
          ) {
            const o = { ...base } as Record<string, Json>;
            const k = rand.pick(Object.keys(o));
            const m = rand.next();
            field = k;
            if (m < 0.2) {
              delete o[k];
              mutation = `body ${k} missing`;
            } else if (m < 0.55) {
              o[k] = rand.pick(WRONG_TYPES);
              mutation = `body ${k} wrong type`;
            } else if (m < 0.9) {
              o[k] = hostile();
              mutation = `body ${k} hostile`;
            } else {
              o[k] = Array.from(
                { length: rand.pick([501, 2000, 100_001]) },
                (_, i) => `0803${String(i).padStart(7, '0')}`,
              );
              mutation = `body ${k} huge array`;
            }
            body = JSON.stringify(o);
          } else if (Array.isArray(base)) {
            const item = base[0] ?? {};
            const items = Array.from({ length: rand.pick([0, 1, 3, 100_001]) }, () =>
              typeof item === 'object' && item !== null && !Array.isArray(item) && rand.chance(0.5)
                ? {
                    ...item,
                    [rand.pick(Object.keys(item).concat(['x']))]: rand.chance(0.5)
                      ? hostile()
                      : rand.pick(WRONG_TYPES),
                  }
                : rand.pick(WRONG_TYPES),
            );
            body = JSON.stringify(items);
            mutation = `array body of ${items.length}`;
          } else {
            body = JSON.stringify(base);
          }
        } else if (rand.chance(0.1) && method !== 'GET' && method !== 'HEAD') {
          headers['content-type'] = 'application/json';
          body = '{"unexpected": true}';
          mutation = 'unexpected body';
        }
        return { op, method, url, headers, body, field, mutation, who };
      };

      const findings: Finding[] = [];
      const statuses = new Map<number, number>();
      const fieldNames = (op: Operation): string[] => [
        ...Object.keys(resolve(op.body ?? undefined).properties ?? {}),
        ...op.query.map((q) => q.name),
        ...op.pathParams,
      ];
      const messageOf = (text: string): string | null => {
        try {
          const found: string[] = [];
          const walk = (v: unknown, key: string) => {
            if (typeof v === 'string' && /message|detail|error|title|reason/i.test(key) && v.trim())
              found.push(v);
            else if (Array.isArray(v)) for (const x of v) walk(x, key);
            else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k);
          };
          walk(JSON.parse(text), '');
          return found.length > 0 ? found.join(' | ') : null;
        } catch {
          return null;
        }
      };
      let sent = 0;
      const started = Date.now();
      const worker = async () => {
        let previous = '';
        while (sent < total) {
          const n = ++sent;
          if (n % 400 === 0) await creds.refreshSessions();
          const req = build();
          let status = 0;
          let text = '';
          if (req.mutation === 'huge body' || req.mutation.endsWith('huge array')) {
            // On a connection of its own, followed by a second request on the same socket: an
            // early answer to a large body must not leave a half-read keep-alive connection.
            const agent = new Agent({ keepAlive: true, maxSockets: 1 });
            try {
              const first = await viaAgent(agent, req.url, req.method, req.headers, req.body);
              status = first.status;
              text = first.text;
              try {
                await viaAgent(agent, `${api.base}/health/live`, 'GET', {});
              } catch (err) {
                findings.push({
                  req,
                  status,
                  response: `${text.slice(0, 200)} (Connection: ${first.connection}); the next request on the same connection failed: ${String(err)}`,
                  problem: `answered ${status} with Connection: ${first.connection || '(none)'}, then closed the socket under the next request`,
                });
              }
            } catch (err) {
              findings.push({ req, status: 0, response: String(err), problem: 'no HTTP answer' });
              agent.destroy();
              continue;
            }
            agent.destroy();
          } else
            try {
              const res = await fetch(req.url, {
                method: req.method,
                headers: req.headers,
                body: req.body,
                signal: AbortSignal.timeout(30_000),
              });
              status = res.status;
              text = await res.text();
            } catch (err) {
              const cause = (err as { cause?: { code?: string; message?: string } }).cause;
              findings.push({
                req,
                status: 0,
                response: `${String(err)} (${cause?.code ?? ''} ${cause?.message ?? ''}); previous request on this worker: ${previous}`,
                problem: 'no HTTP answer',
              });
              previous = `${req.method} ${req.op.path} [${req.mutation}] → no answer`;
              continue;
            }
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          previous = `${req.method} ${req.op.path} [${req.mutation}] → ${status}`;
          if (status >= 500) findings.push({ req, status, response: text, problem: `answered ${status}` });
          else if (status >= 400 && req.method !== 'HEAD') {
            const message = messageOf(text);
            if (!message)
              findings.push({ req, status, response: text, problem: `${status} without a message/detail` });
            // A 400 refuses the request's shape, so it names the field it refused. A 422 is a
            // well-formed request the domain cannot act on (a number and NIN that match no
            // subject): it answers with its own code, and the mutated field may be innocent.
            else if (status === 422 && !/"code"\s*:/.test(text))
              findings.push({ req, status, response: text, problem: '422 without a code' });
            else if (status === 400 && req.field) {
              const names = fieldNames(req.op);
              const mentions = text.includes(req.field) || names.some((f) => text.includes(f));
              if (!mentions)
                findings.push({
                  req,
                  status,
                  response: text,
                  problem: `400 does not name the field (${req.field})`,
                });
            }
          }
        }
      };
      await Promise.all(Array.from({ length: 8 }, () => worker()));
      const seconds = (Date.now() - started) / 1000;
      report.step(`sent ${total} requests in ${seconds.toFixed(0)} s (${Math.round(total / seconds)}/s)`);
      report.fact(
        `statuses: ${[...statuses]
          .sort((a, b) => a[0] - b[0])
          .map(([s, n]) => `${s}×${n}`)
          .join(', ')}`,
      );
      const byProblem = new Map<string, Finding[]>();
      for (const f of findings) {
        const key = `${f.problem} — ${f.req.method} ${f.req.op.path}`;
        byProblem.set(key, [...(byProblem.get(key) ?? []), f]);
      }
      for (const [key, list] of byProblem) {
        const f = list[0]!;
        report.fail(
          `${list.length}× ${key}\n        e.g. ${f.req.method} ${f.req.url.slice(0, 300)} as ${f.req.who} [${f.req.mutation}] body ${(f.req.body ?? '').slice(0, 200)}\n        → ${f.status} ${f.response.slice(0, 300)}`,
        );
      }
      if (findings.length === 0) report.fact('0 responses ≥ 500; every 4xx names the problem');
      report.check(
        !api.child.exited(),
        'API process still up',
        `API process died:\n${api.child.tail().slice(-1000)}`,
      );
      await stopChild(api.child);
      await env.close({ drop: true });
    } finally {
      await killChild(api.child).catch(() => undefined);
      await creds.close().catch(() => undefined);
      await env.close().catch(() => undefined);
      await nibss.close().catch(() => undefined);
      await nimc.close().catch(() => undefined);
    }
  },
};
