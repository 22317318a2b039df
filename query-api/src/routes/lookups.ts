import { createRoute, z } from '@hono/zod-openapi';
import { jsonBody, reconixErrors, requireApiKey } from '@hub/ingest';
import { type IdentifierKind, mask, nationalForm, tokenise } from '@hub/schemas';
import { type BvnLink, isOld, type NinLink, type StateView } from '@hub/state';
import type { Context, MiddlewareHandler } from 'hono';
import type { ApiApp, ApiContext, ApiEnv } from '../context.ts';
import { identifierField, msisdnField, queryRows, recordUse } from '../identity/http.ts';
import { bvnLinkageOut, linkageOut, plusForm } from '../identity/mapping.ts';
import { OKRA_DEFAULT_LIMIT, OKRA_MAX_LIMIT, OkraPaginationSchema, okraPage } from '../identity/okra.ts';
import { auditRead, msisdnTarget, purposeField } from '../identity/read-audit.ts';
import { cbnBankCodeField, customerField, identityRecordId } from '../identity/records.ts';
import { numbersByTokenQuery, type TokenColumn } from '../identity/sql.ts';

const BASE = '/api/v1/lookups';
const BODY_BYTES = 16 * 1024;
const json = <T extends z.ZodType>(schema: T) => ({ 'application/json': { schema } });

const Pagination = OkraPaginationSchema;

const recordIdField = z.string().nullable().openapi({
  description:
    'Record id of the identity (one NIN) behind the linkage, for by id; null when the hub knows no NIN for it',
  example: '9720204445e30d7927fb6009',
});

const NumberLink = z
  .object({
    id: recordIdField,
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
    id: recordIdField,
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

const pageField = (max: number, fallback: number) =>
  z
    .number({ error: `must be an integer from 1 to ${max}` })
    .int({ error: `must be an integer from 1 to ${max}` })
    .min(1, { error: `must be an integer from 1 to ${max}` })
    .max(max, { error: `must be an integer from 1 to ${max}` })
    .nullish()
    .transform((n) => n ?? fallback);

const pageFields = {
  page: pageField(Number.MAX_SAFE_INTEGER, 1).openapi({ description: 'Default 1', example: 1 }),
  limit: pageField(OKRA_MAX_LIMIT, OKRA_DEFAULT_LIMIT).openapi({
    description: `Default ${OKRA_DEFAULT_LIMIT}`,
    example: OKRA_DEFAULT_LIMIT,
  }),
  purpose: purposeField(),
  customer: customerField().optional(),
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
    .object({ nin: identifierField('NIN').openapi({ example: '12345678901' }), ...pageFields })
    .openapi('LookupByNin'),
  bvn: z
    .object({ bvn: identifierField('BVN').openapi({ example: '22165416979' }), ...pageFields })
    .openapi('LookupByBvn'),
  nuban: z
    .object({
      nuban: identifierField('NUBAN').openapi({ example: '0114542453' }),
      bank: cbnBankCodeField()
        .optional()
        .openapi({ description: 'CBN bank code (not an Okra bank id); narrows the match', example: '058' }),
      ...pageFields,
    })
    .openapi('LookupByNuban'),
  phone: z
    .object({ phone: msisdnField().openapi({ example: '08038811523' }), ...pageFields })
    .openapi('LookupByPhone'),
};

const routeOf = <S extends z.ZodType>(by: By, body: S, allowed: MiddlewareHandler<ApiEnv>) =>
  createRoute({
    method: 'post',
    path: `${BASE}/${by}`,
    tags: ['Identity lookups'],
    summary:
      by === 'phone'
        ? 'Okra "Get identity by Phone Number": identities (NIN and BVN linkages, masked) of a phone number'
        : `Okra "Get identity by ${KIND[by]}": numbers linked to a ${KIND[by]}, active or not, with dates (masked)`,
    description:
      'Okra-style response (status, message, data with a pagination block). Each item carries the record id (`id`) of the identity behind it, for by id. The raw identifier is tokenised and never stored or echoed. An optional `customer` (your own customer reference) files the lookup under that customer for by customer. Auth: HUB and SERVICE_PROVIDER organisations; every lookup is recorded.',
    security: [{ ApiKey: [] }],
    middleware: [allowed, jsonBody(BODY_BYTES)],
    request: { body: { content: { 'application/json': { schema: body } }, required: true } },
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
      ...reconixErrors([400, 401, 403, 413, 415, 429, 503]),
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
  // Identity lookups expose who holds which numbers: the hub and the banks only.
  const allowed = requireApiKey<ApiEnv>(ctx.ingest, ['HUB', 'SERVICE_PROVIDER']);
  const secret = ctx.config.TOKEN_SECRET;

  app.openapi(routeOf('nin', requests.nin, allowed), async (c) => {
    const { nin, page, limit, purpose, customer } = c.req.valid('json');
    const read = { target: `nin:${mask(nin)}`, purpose, customer };
    return answerByToken(c, ctx, 'nin', tokenise('NIN', nin, secret), null, page, limit, read);
  });
  app.openapi(routeOf('bvn', requests.bvn, allowed), async (c) => {
    const { bvn, page, limit, purpose, customer } = c.req.valid('json');
    const read = { target: `bvn:${mask(bvn)}`, purpose, customer };
    return answerByToken(c, ctx, 'bvn', tokenise('BVN', bvn, secret), null, page, limit, read);
  });
  app.openapi(routeOf('nuban', requests.nuban, allowed), async (c) => {
    const { nuban, bank, page, limit, purpose, customer } = c.req.valid('json');
    const read = { target: `nuban:${mask(nuban)}`, purpose, customer };
    const token = tokenise('NUBAN', nuban, secret);
    return answerByToken(c, ctx, 'nuban', token, bank ?? null, page, limit, read);
  });

  app.openapi(routeOf('phone', requests.phone, allowed), async (c) => {
    const { phone: msisdn, page, limit, purpose, customer } = c.req.valid('json');
    const [reading] = await ctx.readState([msisdn]);
    const view = reading?.view ?? null;
    // Linkages stay in the record once cleared, so the record alone gives the number's full list.
    const identities = view
      ? [
          ...view.ninLinkages.map((l) => ({
            id: identityRecordId(l.token),
            type: 'NIN' as const,
            ...linkageOut(l, view.recycleDate),
          })),
          ...view.bvnLinkages.map((l) => ({
            id: l.holderNinToken ? identityRecordId(l.holderNinToken) : null,
            type: 'BVN' as const,
            ...bvnLinkageOut(l, view),
          })),
        ]
      : [];
    recordUse(c, ctx, 'LOOKUP', [{ msisdn, view, found: identities.length > 0 }], customer);
    auditRead(c, ctx, 'IDENTITY_LOOKUP', {
      target: msisdnTarget(msisdn),
      operation: 'lookup by phone',
      purpose,
      found: identities.length > 0,
      ...(customer ? { details: { customer } } : {}),
    });
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
  read: { target: string; purpose: string | undefined; customer: string | undefined },
) {
  // A history store that cannot answer throws HistoryUnavailableError: onError's 503.
  let rows = await queryRows<TokenRow>(
    ctx.clickhouse,
    numbersByTokenQuery(ctx.config.CLICKHOUSE_DATABASE, COLUMN[by], token),
  );
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
    // The identity behind a BVN is its holder's NIN, when NIBSS gave it.
    const holder = by === 'nin' ? token : ((link as BvnLink | null)?.holderNinToken ?? null);
    return {
      id: holder ? identityRecordId(holder) : null,
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
    read.customer,
  );
  auditRead(c, ctx, 'IDENTITY_LOOKUP', {
    target: read.target,
    purpose: read.purpose,
    operation: `lookup by ${by}`,
    found: items.length > 0,
    details: { numbers: items.length, ...(read.customer ? { customer: read.customer } : {}) },
  });
  return c.json(ok(items, page, limit), 200);
}
