import { createRoute, z } from '@hono/zod-openapi';
import { ANY_ROLE, checkItem, itemsOf, jsonBody, reconixErrors, requireAuth } from '@hub/ingest';
import { mask, tokenise } from '@hub/schemas';
import type { StateView } from '@hub/state';
import type { Context } from 'hono';
import type { ApiApp, ApiContext, ApiEnv } from '../context.ts';
import { identifierField, msisdnField, recordUse } from '../identity/http.ts';
import { type LinkageCheck, linkageCheckOf } from '../identity/mapping.ts';

export const MAX_BULK_CHECK = 100;
const BODY_BYTES = 64 * 1024;

type Kind = 'NIN' | 'BVN';
const FIELD: Record<Kind, 'nin' | 'bvn'> = { NIN: 'nin', BVN: 'bvn' };

const checkSchema = (kind: Kind) =>
  z
    .object({
      msisdn: z.string().openapi({ example: '+2348012345678' }),
      masked: z.string().openapi({ description: `The ${kind}, masked`, example: '*******1234' }),
      linked: z.boolean().openapi({ description: `Whether this ${kind} is actively linked to the number` }),
      stale: z.boolean().openapi({
        description: "Actively linked but a previous owner's (linked before the last churn/reassignment)",
      }),
      link_date: z.string().nullable().openapi({ example: '2021-03-04' }),
      cleared_date: z.string().nullable().openapi({ description: 'Set when the linkage was cleared' }),
      lifecycle_status: z.string().nullable().openapi({ description: 'Null when the hub holds nothing' }),
      active_linkages: z
        .number()
        .int()
        .openapi({ description: `Active ${kind} linkages of the number` }),
    })
    .openapi(`${kind === 'NIN' ? 'Nin' : 'Bvn'}LinkageCheck`);

const ERRORS = reconixErrors([400, 401, 403, 413, 415, 429, 503]);

function routesOf(kind: Kind, anyone: ReturnType<typeof requireAuth<ApiEnv>>) {
  const field = FIELD[kind];
  const base = `/api/v1/${field}-linkages`;
  const Check = checkSchema(kind);
  const requestName = `${kind === 'NIN' ? 'Nin' : 'Bvn'}LinkageRequest`;
  const Request = z
    .object({
      msisdn: msisdnField().openapi({ example: '08012345678' }),
      [field]: identifierField(kind).openapi({
        description: `The raw ${kind} (11 digits); never stored or echoed`,
        example: '12345678901',
      }),
    } as { msisdn: ReturnType<typeof msisdnField>; nin: ReturnType<typeof identifierField> })
    .openapi(requestName);
  const BulkRequest = z
    .object({
      items: itemsOf(requestName, {
        min: 1,
        max: MAX_BULK_CHECK,
        tooFew: 'must contain at least one pair',
        tooMany: (n) => `has ${n} pairs; at most ${MAX_BULK_CHECK} per request`,
      }),
    })
    .openapi(`${kind === 'NIN' ? 'Nin' : 'Bvn'}BulkCheckRequest`);
  const BulkItem = z.object({
    index: z.number().int(),
    result: Check.nullable(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).nullable(),
  });
  const BulkResponse = z
    .object({ items: z.array(BulkItem), total: z.number().int(), linked: z.number().int() })
    .openapi(`${kind === 'NIN' ? 'Nin' : 'Bvn'}BulkCheckResponse`);
  const tags = [`${kind} linkages`];
  const verify = createRoute({
    method: 'post',
    path: `${base}/verify`,
    tags,
    summary: `Verify ${kind} linkage for an MSISDN`,
    description: `Tokenises the ${kind} and checks it against the number's live state (one Redis read). Auth: any authenticated organisation (Reconix "Bearer").`,
    security: [{ ApiKey: [] }],
    middleware: [anyone, jsonBody(BODY_BYTES)],
    request: { body: { content: { 'application/json': { schema: Request } }, required: true } },
    responses: {
      200: { description: 'The finding', content: { 'application/json': { schema: Check } } },
      ...ERRORS,
    },
  });
  const bulk = createRoute({
    method: 'post',
    path: `${base}/bulk-check`,
    tags,
    summary: `Batch ${kind} check (up to ${MAX_BULK_CHECK} pairs, single state read)`,
    description:
      'All pairs are answered from one Redis round trip (no N+1). Invalid pairs are per-item errors naming the field.',
    security: [{ ApiKey: [] }],
    middleware: [anyone, jsonBody(BODY_BYTES)],
    request: { body: { content: { 'application/json': { schema: BulkRequest } }, required: true } },
    responses: {
      200: {
        description: 'One item per pair, in input order',
        content: { 'application/json': { schema: BulkResponse } },
      },
      ...ERRORS,
    },
  });
  return { Request, verify, bulk };
}

/** Reconix NIN and BVN linkage checks: single verify and bulk check, from the live state. */
export function registerLinkageRoutes(app: ApiApp, ctx: ApiContext): void {
  // Reconix "Bearer": any role.
  const anyone = requireAuth<ApiEnv>(ctx.ingest, { roles: ANY_ROLE });
  const secret = ctx.config.TOKEN_SECRET;
  for (const kind of ['NIN', 'BVN'] as const) {
    const { Request, verify, bulk } = routesOf(kind, anyone);
    const field = FIELD[kind];
    const pairOf = (value: { msisdn: string; nin: string }) => {
      const raw = (value as unknown as Record<string, string>)[field] ?? '';
      return { msisdn: value.msisdn, token: tokenise(kind, raw, secret), masked: mask(raw) };
    };

    app.openapi(verify, async (c) => {
      const [result] = await answer(c, ctx, kind, [pairOf(c.req.valid('json'))]);
      return c.json(result!, 200);
    });

    app.openapi(bulk, async (c) => {
      const pairs = c.req.valid('json').items.map((item, i) => checkItem(Request, item, ['items', i]));
      const valid = pairs.flatMap((p) => (p.ok ? [pairOf(p.value)] : []));
      const results = await answer(c, ctx, kind, valid);
      let next = 0;
      const out = pairs.map((p, index) =>
        p.ok
          ? { index, result: results[next++] ?? null, errors: null }
          : { index, result: null, errors: p.errors },
      );
      return c.json({ items: out, total: out.length, linked: results.filter((r) => r.linked).length }, 200);
    });
  }
}
/** Answers valid pairs from ONE state read and records each check. */
async function answer(
  c: Context<ApiEnv>,
  ctx: ApiContext,
  kind: Kind,
  pairs: { msisdn: string; token: string; masked: string }[],
): Promise<LinkageCheck[]> {
  if (pairs.length === 0) return [];
  const readings = await ctx.readState(pairs.map((p) => p.msisdn));
  const views: (StateView | null)[] = readings.map((r) => r.view);
  const results = pairs.map((p, i) => linkageCheckOf(p.msisdn, views[i] ?? null, kind, p.token, p.masked));
  recordUse(
    c,
    ctx,
    'LINKAGE',
    pairs.map((p, i) => ({ msisdn: p.msisdn, view: views[i] ?? null, found: results[i]?.linked ?? false })),
  );
  return results;
}
