import { createRoute, z } from '@hono/zod-openapi';
import { type FieldError, readJsonBody, reconixError, requireApiKey } from '@hub/ingest';
import { checkIdentifier, type IdentifierKind, nationalForm, tokenise } from '@hub/schemas';
import { isOld, type NinLink, type StateView } from '@hub/state';
import type { Context } from 'hono';
import type { ApiApp, ApiContext, ApiEnv } from '../context.ts';
import {
  asObject,
  checkMsisdn,
  errorResponses,
  fieldErrors,
  historyUnavailable,
  queryRows,
  recordUse,
} from '../identity/http.ts';
import { bvnLinkageOut, linkageOut, plusForm } from '../identity/mapping.ts';
import { OKRA_DEFAULT_LIMIT, OKRA_MAX_LIMIT, okraPage } from '../identity/okra.ts';
import { numbersByTokenQuery, type TokenColumn } from '../identity/sql.ts';

const BASE = '/api/v1/lookups';
const BODY_BYTES = 16 * 1024;
const json = <T extends z.ZodType>(schema: T) => ({ 'application/json': { schema } });

const Pagination = z
  .object({
    totalDocs: z.number().int(),
    limit: z.number().int(),
    hasPrevPage: z.boolean(),
    hasNextPage: z.boolean(),
    page: z.number().int(),
    totalPages: z.number().int(),
    pagingCounter: z.number().int(),
    prevPage: z.number().int().nullable(),
    nextPage: z.number().int().nullable(),
  })
  .openapi('OkraPagination');

const NumberLink = z
  .object({
    msisdn: z.string().openapi({ example: '+2348012345678' }),
    phone: z.string().openapi({ description: 'National form', example: '08012345678' }),
    operator_code: z.string().nullable().openapi({ example: 'MTN' }),
    lifecycle_status: z.string().nullable().openapi({ example: 'ACTIVE' }),
    masked: z.string().openapi({ description: 'The identifier, masked', example: '*******1234' }),
    active: z.boolean().openapi({ description: 'Linked to the number now (live state)' }),
    stale: z
      .boolean()
      .openapi({ description: "Active but linked before the number's last churn/reassignment" }),
    link_date: z.string().openapi({ description: 'Latest link date', example: '2021-03-04' }),
    first_link_date: z.string().openapi({ example: '2020-12-01' }),
    cleared_date: z.string().nullable(),
    bank_codes: z
      .array(z.string())
      .optional()
      .openapi({ description: 'BVN/NUBAN lookups: banks on the linkage events' }),
  })
  .openapi('IdentityNumberLink');

const PhoneIdentity = z
  .object({
    type: z.enum(['NIN', 'BVN']),
    masked: z.string().openapi({ example: '*******1234' }),
    link_date: z.string(),
    active: z.boolean(),
    cleared_date: z.string().nullable(),
    old_owner: z.boolean(),
    stale: z.boolean(),
    holder_nin_matches: z.boolean().nullable().optional(),
  })
  .openapi('PhoneIdentity');

const okraResponse = <T extends z.ZodType>(name: string, item: T) =>
  z
    .object({
      status: z.enum(['success']),
      message: z.string().openapi({ example: 'Identity retrieved successfully' }),
      data: z.object({ pagination: Pagination, identity: z.array(item) }),
    })
    .openapi(name);

const pageFields = {
  page: z.number().int().min(1).optional().openapi({ description: 'Default 1', example: 1 }),
  limit: z.number().int().min(1).max(OKRA_MAX_LIMIT).optional().openapi({ example: OKRA_DEFAULT_LIMIT }),
};

type By = 'nin' | 'bvn' | 'nuban' | 'phone';
const KIND: Record<Exclude<By, 'phone'>, IdentifierKind> = { nin: 'NIN', bvn: 'BVN', nuban: 'NUBAN' };
const COLUMN: Record<Exclude<By, 'phone'>, TokenColumn> = {
  nin: 'nin_token',
  bvn: 'bvn_token',
  nuban: 'nuban_token',
};

const requests = {
  nin: z
    .object({ nin: z.string().openapi({ example: '12345678901' }), ...pageFields })
    .openapi('LookupByNin'),
  bvn: z
    .object({ bvn: z.string().openapi({ example: '22165416979' }), ...pageFields })
    .openapi('LookupByBvn'),
  nuban: z
    .object({
      nuban: z.string().openapi({ example: '0114542453' }),
      bank: z
        .string()
        .optional()
        .openapi({ description: 'CBN bank code; narrows the match', example: '058' }),
      ...pageFields,
    })
    .openapi('LookupByNuban'),
  phone: z
    .object({ phone: z.string().openapi({ example: '08038811523' }), ...pageFields })
    .openapi('LookupByPhone'),
};

const routeOf = (by: By) =>
  createRoute({
    method: 'post',
    path: `${BASE}/${by}`,
    tags: ['Identity lookups'],
    summary:
      by === 'phone'
        ? 'Identities (NIN and BVN linkages, masked) of a phone number'
        : `Numbers linked to a ${KIND[by]}, active or not, with dates (masked)`,
    description:
      'Okra-style response (status, message, data with a pagination block). The raw identifier is tokenised and never stored or echoed. Auth: HUB and SERVICE_PROVIDER organisations; every lookup is recorded.',
    security: [{ ApiKey: [] }],
    request: { body: { content: json(requests[by]), required: true } },
    responses: {
      200: {
        description: 'Matches (an empty list when none)',
        content: json(
          by === 'phone'
            ? okraResponse('PhoneLookupResponse', PhoneIdentity)
            : okraResponse(
                `${KIND[by] === 'NUBAN' ? 'Nuban' : KIND[by] === 'NIN' ? 'Nin' : 'Bvn'}LookupResponse`,
                NumberLink,
              ),
        ),
      },
      ...errorResponses,
    },
  });

interface TokenRow {
  msisdn: string;
  masked: string;
  first_link_date: string;
  last_link_date: string;
  bvn_token?: string;
  bank_codes?: string[];
}

function pageOf(body: Record<string, unknown>, errors: FieldError[]): { page: number; limit: number } {
  const int = (name: 'page' | 'limit', fallback: number, max: number): number => {
    const raw = body[name];
    if (raw === undefined || raw === null) return fallback;
    if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 1 || raw > max) {
      errors.push({ field: name, message: `must be an integer from 1 to ${max}` });
      return fallback;
    }
    return raw;
  };
  return {
    page: int('page', 1, Number.MAX_SAFE_INTEGER),
    limit: int('limit', OKRA_DEFAULT_LIMIT, OKRA_MAX_LIMIT),
  };
}

const ok = <T>(items: readonly T[], page: number, limit: number) => {
  const { pagination, items: identity } = okraPage(items, page, limit);
  return {
    status: 'success' as const,
    message: items.length > 0 ? 'Identity retrieved successfully' : 'No identity found',
    data: { pagination, identity },
  };
};

/** Okra-style identity lookups by NIN, BVN, NUBAN and phone over the linkages the hub holds. */
export function registerLookupRoutes(app: ApiApp, ctx: ApiContext): void {
  const byRoutes = (['nin', 'bvn', 'nuban', 'phone'] as const).map((by) => [by, routeOf(by)] as const);
  for (const [, route] of byRoutes) app.openAPIRegistry.registerPath(route);
  // Identity lookups expose who holds which numbers: the hub and the banks only.
  const allowed = requireApiKey<ApiEnv>(ctx.ingest, ['HUB', 'SERVICE_PROVIDER']);

  for (const by of ['nin', 'bvn', 'nuban'] as const) {
    app.post(`${BASE}/${by}`, allowed, async (c) => {
      const body = await readJsonBody(c, BODY_BYTES);
      if (!body.ok) return reconixError(c, body.code, body.message, body.errors);
      const obj = asObject(body.value);
      if (!obj) return fieldErrors(c, [{ field: 'body', message: 'must be a JSON object' }]);
      const errors: FieldError[] = [];
      const id = obj[by] === undefined ? null : checkIdentifier(KIND[by], obj[by]);
      if (id === null) errors.push({ field: by, message: 'is required' });
      else if (!id.ok) errors.push({ field: by, message: id.reason });
      const bank = obj.bank;
      if (by === 'nuban' && bank !== undefined && (typeof bank !== 'string' || !/^\d{3,6}$/.test(bank))) {
        errors.push({ field: 'bank', message: 'must be a CBN bank code of 3 to 6 digits' });
      }
      const { page, limit } = pageOf(obj, errors);
      if (errors.length > 0 || !id?.ok) return fieldErrors(c, errors);
      const token = tokenise(KIND[by], id.value, ctx.config.TOKEN_SECRET);
      return answerByToken(c, ctx, by, token, typeof bank === 'string' ? bank : null, page, limit);
    });
  }

  app.post(`${BASE}/phone`, allowed, async (c) => {
    const body = await readJsonBody(c, BODY_BYTES);
    if (!body.ok) return reconixError(c, body.code, body.message, body.errors);
    const obj = asObject(body.value);
    if (!obj) return fieldErrors(c, [{ field: 'body', message: 'must be a JSON object' }]);
    const errors: FieldError[] = [];
    const number = checkMsisdn(obj.phone, 'phone');
    if (!number.ok) errors.push(number.error);
    const { page, limit } = pageOf(obj, errors);
    if (errors.length > 0 || !number.ok) return fieldErrors(c, errors);
    const [reading] = await ctx.readState([number.value]);
    const view = reading?.view ?? null;
    // Linkages stay in the record once cleared, so the record alone gives the number's full list.
    const identities = view
      ? [
          ...view.ninLinkages.map((l) => ({ type: 'NIN' as const, ...linkageOut(l, view.recycleDate) })),
          ...view.bvnLinkages.map((l) => ({ type: 'BVN' as const, ...bvnLinkageOut(l, view) })),
        ]
      : [];
    recordUse(c, ctx, 'LOOKUP', [{ msisdn: number.value, view, found: identities.length > 0 }]);
    return c.json(ok(identities, page, limit), 200);
  });
}

async function answerByToken(
  c: Context<ApiEnv>,
  ctx: ApiContext,
  by: 'nin' | 'bvn' | 'nuban',
  token: string,
  bank: string | null,
  page: number,
  limit: number,
) {
  let rows: TokenRow[];
  try {
    rows = await queryRows<TokenRow>(
      ctx.clickhouse,
      numbersByTokenQuery(ctx.config.CLICKHOUSE_DATABASE, COLUMN[by], token),
    );
  } catch (err) {
    return historyUnavailable(c, err);
  }
  if (bank !== null) rows = rows.filter((r) => r.bank_codes?.includes(bank));
  // One Redis round trip for every matched number: whether each link is active now.
  const readings = await ctx.readState(rows.map((r) => r.msisdn));
  const items = rows.map((row, i) => {
    const view: StateView | null = readings[i]?.view ?? null;
    // A NUBAN lookup matches BVN linkage events: the BVN on them names the live linkage.
    const linkToken = by === 'nuban' ? (row.bvn_token ?? '') : token;
    const links: NinLink[] = view ? (by === 'nin' ? view.ninLinkages : view.bvnLinkages) : [];
    const link = links.find((l) => l.token === linkToken) ?? null;
    const active = link !== null && link.clearedDate === null;
    return {
      msisdn: plusForm(row.msisdn),
      phone: nationalForm(row.msisdn),
      operator_code: view?.operator ?? null,
      lifecycle_status: view?.lifecycleStatus ?? null,
      masked: link?.masked ?? row.masked,
      active,
      stale: link !== null && active && isOld(link, view?.recycleDate ?? null),
      link_date: link?.linkDate ?? row.last_link_date,
      first_link_date: row.first_link_date,
      cleared_date: link?.clearedDate ?? null,
      ...(by === 'nin' ? {} : { bank_codes: (row.bank_codes ?? []).filter((b) => b !== '').sort() }),
    };
  });
  recordUse(
    c,
    ctx,
    'LOOKUP',
    items.length > 0
      ? rows.map((r, i) => ({ msisdn: r.msisdn, view: readings[i]?.view ?? null, found: true }))
      : [{ msisdn: '', view: null, found: false }],
  );
  return c.json(ok(items, page, limit), 200);
}
