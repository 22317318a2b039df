import { createRoute, z } from '@hono/zod-openapi';
import { jsonBody, reconixError, reconixErrors, requireApiKey } from '@hub/ingest';
import { mask, nationalForm, tokenise } from '@hub/schemas';
import type { StateView } from '@hub/state';
import type { Context, MiddlewareHandler } from 'hono';
import type { ApiApp, ApiContext, ApiEnv } from '../context.ts';
import { historyDayField, identifierField, queryRows, recordUse } from '../identity/http.ts';
import {
  OKRA_DEFAULT_LIMIT,
  OKRA_MAX_LIMIT,
  OkraPaginationSchema,
  okraPage,
  okraPagination,
} from '../identity/okra.ts';
import {
  customerProfiles,
  IdentityProfile,
  type IdentityProfileOut,
  profilesOf,
  recordsById,
} from '../identity/profiles.ts';
import { auditRead, purposeField } from '../identity/read-audit.ts';
import {
  customerField,
  dayRangeProblem,
  holderNinTokensQuery,
  identitiesFirstSeenCountQuery,
  identitiesFirstSeenQuery,
  identityRecordId,
  lagosDayBounds,
  MAX_RANGE_DAYS,
  RECORD_ID,
} from '../identity/records.ts';
import { numbersByTokenQuery } from '../identity/sql.ts';

/**
 * The rest of Okra's identity operations (seed 002) over the hub's own data: by id, by customer,
 * by date, by customer and date, and verify customer. Paths follow the lookups' convention
 * (`/api/v1/lookups/<operation>`); answers are Okra's envelope with its pagination block.
 */

const BASE = '/api/v1/lookups';
const BODY_BYTES = 4 * 1024;
const json = <T extends z.ZodType>(schema: T) => ({ 'application/json': { schema } });

const Pagination = OkraPaginationSchema;

const ProfilesResponse = z
  .object({
    status: z.enum(['success']),
    message: z.string().openapi({ example: 'Identity retrieved successfully' }),
    data: z.object({ pagination: Pagination, identity: z.array(IdentityProfile) }),
  })
  .openapi('OkraIdentityProfiles');

const VerifyCustomerResponse = z
  .object({
    status: z.enum(['success']),
    message: z.string().openapi({ example: 'Identity successfully retrieved' }),
    data: IdentityProfile.omit({ customer: true }).extend({
      customer: z.string().openapi({ example: '140afb3ddecee700130acbc4' }),
      record: z.string().nullable().openapi({ description: 'The record id (as `id`)' }),
    }),
  })
  .openapi('OkraVerifyCustomer');

const PAGE = `must be an integer from 1 to`;
const pageField = (max: number, fallback: number) =>
  z
    .number({ error: `${PAGE} ${max}` })
    .int({ error: `${PAGE} ${max}` })
    .min(1, { error: `${PAGE} ${max}` })
    .max(max, { error: `${PAGE} ${max}` })
    .nullish()
    .transform((n) => n ?? fallback);

const pageFields = {
  page: pageField(Number.MAX_SAFE_INTEGER, 1).openapi({ description: 'Default 1', example: 1 }),
  limit: pageField(OKRA_MAX_LIMIT, OKRA_DEFAULT_LIMIT).openapi({
    description: `Default ${OKRA_DEFAULT_LIMIT}, at most ${OKRA_MAX_LIMIT}`,
    example: OKRA_DEFAULT_LIMIT,
  }),
  purpose: purposeField(),
};

const RECORD = 'must be a record id of 24 hex digits';
const recordIdField = () =>
  z.string({ error: RECORD }).trim().toLowerCase().regex(RECORD_ID, { error: RECORD }).openapi({
    description: 'An identity record id, as every lookup returns it',
    example: '9720204445e30d7927fb6009',
  });

const rangeFields = {
  from: historyDayField().openapi({
    description: 'First day (YYYY-MM-DD, Lagos calendar) an identity was first seen',
    example: '2025-07-01',
  }),
  to: historyDayField().openapi({
    description: `Last day (inclusive); the range spans at most ${MAX_RANGE_DAYS} days`,
    example: '2025-07-10',
  }),
};

const requests = {
  id: z
    .object({ id: recordIdField(), customer: customerField().optional(), ...pageFields })
    .openapi('LookupById', { example: { id: '9720204445e30d7927fb6009' } }),
  customer: z
    .object({ customer: customerField(), ...pageFields })
    .openapi('LookupByCustomer', { example: { customer: '140afb3ddecee700130acbc4' } }),
  date: z
    .object({ ...rangeFields, ...pageFields })
    .openapi('LookupByDate', { example: { from: '2025-07-01', to: '2025-07-10' } }),
  customerDate: z
    .object({ ...rangeFields, customer: customerField(), ...pageFields })
    .openapi('LookupByCustomerDate', {
      example: { from: '2025-07-01', to: '2025-07-10', customer: 1234567890 },
    }),
  verifyCustomer: z
    .object({
      customer: customerField(),
      bvn: identifierField('BVN').optional().openapi({
        description:
          "The customer's BVN as your organisation holds it; absent: the one BVN linked to the numbers you checked for the customer",
        example: '22165416979',
      }),
      purpose: purposeField(),
    })
    .openapi('VerifyCustomer', { example: { customer: '140afb3ddecee700130acbc4' } }),
};

const RANGE_NOTE = ` \`from\` after \`to\`, or a range over ${MAX_RANGE_DAYS} days, is a 400 naming the field.`;
const PRIVACY =
  ' Identifiers are masked; the hub holds no names or addresses, only tokens, masked identifiers and numbers. Auth: HUB and SERVICE_PROVIDER organisations (API key); every call is an audit entry.';

const route = <S extends z.ZodType, R extends z.ZodType>(o: {
  path: string;
  okra: string;
  summary: string;
  description: string;
  body: S;
  response: R;
  allowed: MiddlewareHandler<ApiEnv>;
  example: unknown;
}) =>
  createRoute({
    method: 'post',
    path: `${BASE}/${o.path}`,
    tags: ['Identity lookups'],
    summary: `Okra "${o.okra}": ${o.summary}`,
    description: o.description + PRIVACY,
    security: [{ ApiKey: [] }],
    middleware: [o.allowed, jsonBody(BODY_BYTES)],
    request: { body: { content: json(o.body), required: true } },
    responses: {
      200: {
        description: 'Okra envelope',
        content: { 'application/json': { schema: o.response, example: o.example } },
      },
      ...reconixErrors([400, 401, 403, 404, 409, 413, 415, 429, 503]),
    },
  });

const EXAMPLE_PROFILE: IdentityProfileOut = {
  id: '9720204445e30d7927fb6009',
  nin: '*******0011',
  bvn: null,
  customer: null,
  verification_country: 'NG',
  created_at: '2025-07-01T09:00:00.000Z',
  phone: ['08099000011'],
  numbers: [
    {
      msisdn: '+2348099000011',
      phone: '08099000011',
      operator_code: 'MTN',
      telecom_status: 'NORMAL',
      lifecycle_status: 'ACTIVE',
      is_recycled: false,
      linked: true,
      stale: false,
      link_date: '2025-06-01',
      first_link_date: '2025-06-01',
      cleared_date: null,
    },
  ],
};
const exampleOf = (profiles: IdentityProfileOut[]) => ({
  status: 'success',
  message: 'Identity retrieved successfully',
  data: { pagination: okraPagination(profiles.length, 1, OKRA_DEFAULT_LIMIT), identity: profiles },
});

const answer = (profiles: readonly IdentityProfileOut[], total: number, page: number, limit: number) => ({
  status: 'success' as const,
  message: total > 0 ? 'Identity retrieved successfully' : 'No identity found',
  data: { pagination: okraPagination(total, page, limit), identity: [...profiles] },
});

function rangeFailure(c: Context<ApiEnv>, from: string, to: string) {
  const problem = dayRangeProblem(from, to);
  if (!problem) return null;
  return reconixError(c, 'VALIDATION_ERROR', `${problem.field}: ${problem.message}`, [problem]);
}

export function registerOkraIdentityRoutes(app: ApiApp, ctx: ApiContext): void {
  const allowed = requireApiKey<ApiEnv>(ctx.ingest, ['HUB', 'SERVICE_PROVIDER']);
  const database = ctx.config.CLICKHOUSE_DATABASE;

  app.openapi(
    route({
      path: 'id',
      okra: 'Get identity by id',
      summary: "an identity's linked numbers and linkages by its record id",
      description:
        'The record id is the `id` every lookup (by NIN, BVN, NUBAN, phone, customer, date) returns for an identity (one NIN). Answers the masked NIN, when the hub first saw it, and every number linked to it, active or not, with its live status.',
      body: requests.id,
      response: ProfilesResponse,
      allowed,
      example: exampleOf([EXAMPLE_PROFILE]),
    }),
    async (c) => {
      const { id, customer, page, limit, purpose } = c.req.valid('json');
      const profiles = await profilesOf(ctx, await recordsById(ctx, [id]), customer ?? null);
      const numbers = profiles.flatMap((p) => p.numbers);
      const readings = numbers.length > 0 ? await ctx.readState(numbers.map((n) => n.msisdn.slice(1))) : [];
      recordUse(
        c,
        ctx,
        'LOOKUP',
        numbers.length > 0
          ? numbers.map((n, i) => ({
              msisdn: n.msisdn.slice(1),
              view: readings[i]?.view ?? null,
              found: true,
            }))
          : [{ msisdn: '', view: null, found: false }],
        customer,
      );
      auditRead(c, ctx, 'IDENTITY_LOOKUP', {
        target: `record:${id}`,
        operation: 'lookup by id',
        purpose,
        found: profiles.length > 0,
        details: { numbers: numbers.length, ...(customer ? { customer } : {}) },
      });
      const { items } = okraPage(profiles, page, limit);
      return c.json(answer(items, profiles.length, page, limit), 200);
    },
  );

  app.openapi(
    route({
      path: 'customer',
      okra: 'Get identity by customer',
      summary: 'what your organisation verified or looked up for one of your customers',
      description:
        "Every number your organisation verified or looked up with this `customer` reference (the optional `customer` field of verify and lookup calls), grouped by the identity (NIN) linked to it now, with each number's live status and when you last checked it. Numbers the hub knows no NIN for come in one profile with a null id. Only the calling organisation's records are read. Newest identity first.",
      body: requests.customer,
      response: ProfilesResponse,
      allowed,
      example: exampleOf([{ ...EXAMPLE_PROFILE, customer: { _id: '140afb3ddecee700130acbc4' } }]),
    }),
    async (c) => {
      const { customer, page, limit, purpose } = c.req.valid('json');
      const organisation = c.get('principal').organisation;
      const { profiles } = await customerProfiles(ctx, organisation, customer);
      auditRead(c, ctx, 'IDENTITY_LOOKUP', {
        target: `customer:${customer}`,
        operation: 'lookup by customer',
        purpose,
        found: profiles.length > 0,
        details: { identities: profiles.length },
      });
      const { items } = okraPage(profiles, page, limit);
      return c.json(answer(items, profiles.length, page, limit), 200);
    },
  );

  app.openapi(
    route({
      path: 'date',
      okra: 'Get identity by date',
      summary: 'identities the hub first saw in a range of days',
      description: `Identities (one per NIN) whose first linkage event reached the hub (Okra's created_at) on a day from \`from\` to \`to\`, inclusive, Lagos calendar; newest first.${RANGE_NOTE}`,
      body: requests.date,
      response: ProfilesResponse,
      allowed,
      example: exampleOf([EXAMPLE_PROFILE]),
    }),
    async (c) => {
      const { from, to, page, limit, purpose } = c.req.valid('json');
      const refused = rangeFailure(c, from, to);
      if (refused) return refused;
      const { start, end } = lagosDayBounds(from, to);
      const [count] = await queryRows<{ total: string | number }>(
        ctx.clickhouse,
        identitiesFirstSeenCountQuery(database, start, end),
      );
      const total = Number(count?.total ?? 0);
      const skip = (page - 1) * limit;
      const records =
        skip < total
          ? await queryRows<{ record_id: string; nin_token: string; masked: string; seen: string }>(
              ctx.clickhouse,
              identitiesFirstSeenQuery(database, start, end, skip, limit),
            )
          : [];
      const profiles = await profilesOf(ctx, records);
      auditRead(c, ctx, 'IDENTITY_LOOKUP', {
        target: `date:${from}..${to}`,
        operation: 'lookup by date',
        purpose,
        found: total > 0,
        details: { identities: total },
      });
      return c.json(answer(profiles, total, page, limit), 200);
    },
  );

  app.openapi(
    route({
      path: 'customer/date',
      okra: 'Get identity by customer date',
      summary: 'by customer, for identities first seen in a range of days',
      description: `By customer, keeping the identities first seen (created_at) from \`from\` to \`to\`, inclusive, Lagos calendar; a customer's numbers with no known NIN are dated by your first check of them.${RANGE_NOTE}`,
      body: requests.customerDate,
      response: ProfilesResponse,
      allowed,
      example: exampleOf([{ ...EXAMPLE_PROFILE, customer: { _id: '1234567890' } }]),
    }),
    async (c) => {
      const { customer, from, to, page, limit, purpose } = c.req.valid('json');
      const refused = rangeFailure(c, from, to);
      if (refused) return refused;
      const { start, end } = lagosDayBounds(from, to);
      const organisation = c.get('principal').organisation;
      const all = await customerProfiles(ctx, organisation, customer);
      const profiles = all.profiles.filter((_, i) => {
        const at = all.datedAt[i] ?? 0;
        return at >= start && at < end;
      });
      auditRead(c, ctx, 'IDENTITY_LOOKUP', {
        target: `customer:${customer}`,
        operation: 'lookup by customer and date',
        purpose,
        found: profiles.length > 0,
        details: { identities: profiles.length, from, to },
      });
      const { items } = okraPage(profiles, page, limit);
      return c.json(answer(items, profiles.length, page, limit), 200);
    },
  );

  app.openapi(
    route({
      path: 'customer/verify',
      okra: 'Verify customer',
      summary: "a customer's identity through the BVN you hold for them",
      description:
        "Resolves the identity behind the customer's BVN: the BVN sent (`bvn`), or else the one BVN linked now to the numbers your organisation checked for the customer (404 when there is none, 409 when there are several: send `bvn`). The identity is the BVN holder's NIN as NIBSS gave it; its numbers are the BVN's and the NIN's. The call files the BVN's numbers under the customer, as a lookup with `customer` does.",
      body: requests.verifyCustomer,
      response: VerifyCustomerResponse,
      allowed,
      example: {
        status: 'success',
        message: 'Identity successfully retrieved',
        data: {
          ...EXAMPLE_PROFILE,
          bvn: '*******0011',
          customer: '140afb3ddecee700130acbc4',
          record: EXAMPLE_PROFILE.id,
        },
      },
    }),
    async (c) => {
      const { customer, bvn, purpose } = c.req.valid('json');
      const organisation = c.get('principal').organisation;
      let bvnToken: string;
      if (bvn !== undefined) bvnToken = tokenise('BVN', bvn, ctx.config.TOKEN_SECRET);
      else {
        const { numbers } = await customerProfiles(ctx, organisation, customer);
        const tokens = new Set(
          numbers.flatMap(({ view }) =>
            (view?.bvnLinkages ?? []).filter((l) => l.clearedDate === null).map((l) => l.token),
          ),
        );
        if (tokens.size === 0) {
          const message =
            'no BVN is linked to the numbers your organisation checked for this customer; send bvn';
          return reconixError(c, 'NOT_FOUND', `customer: ${message}`, [{ field: 'customer', message }]);
        }
        if (tokens.size > 1) {
          const message = `the numbers checked for this customer are linked to ${tokens.size} BVNs; send bvn to say which`;
          return reconixError(c, 'CONFLICT', `customer: ${message}`, [{ field: 'customer', message }]);
        }
        bvnToken = [...tokens][0]!;
      }
      const rows = await queryRows<{ msisdn: string; masked: string }>(
        ctx.clickhouse,
        numbersByTokenQuery(database, 'bvn_token', bvnToken),
      );
      const readings = await ctx.readState(rows.map((r) => r.msisdn));
      const bvnLinks = readings.flatMap((r) =>
        (r.view?.bvnLinkages ?? []).filter((l) => l.token === bvnToken),
      );
      const masked = bvnLinks[0]?.masked ?? rows[0]?.masked ?? (bvn ? mask(bvn) : null);
      let holder = bvnLinks.find((l) => l.holderNinToken)?.holderNinToken ?? null;
      if (!holder && rows.length > 0) {
        const found = await queryRows<{ token: string }>(
          ctx.clickhouse,
          holderNinTokensQuery(
            database,
            bvnToken,
            rows.map((r) => r.msisdn),
          ),
        );
        holder = found[0]?.token ?? null;
      }
      const audit = (found: boolean, details: Record<string, unknown>) =>
        auditRead(c, ctx, 'IDENTITY_LOOKUP', {
          target: `customer:${customer}`,
          operation: 'verify customer',
          purpose,
          found,
          details: { bvn: masked, ...details },
        });
      if (rows.length === 0) {
        audit(false, {});
        const message = 'the hub holds no number linked to this BVN';
        return reconixError(c, 'NOT_FOUND', `bvn: ${message}`, [
          { field: bvn ? 'bvn' : 'customer', message },
        ]);
      }
      const id = holder ? identityRecordId(holder) : null;
      const [identity] = id ? await profilesOf(ctx, await recordsById(ctx, [id])) : [];
      const views = new Map<string, StateView | null>(
        rows.map((r, i) => [r.msisdn, readings[i]?.view ?? null]),
      );
      recordUse(
        c,
        ctx,
        'LOOKUP',
        rows.map((r) => ({ msisdn: r.msisdn, view: views.get(r.msisdn) ?? null, found: true })),
        customer,
      );
      audit(true, { record: id, numbers: rows.length });
      const base: IdentityProfileOut = identity ?? {
        id,
        nin: null,
        bvn: null,
        customer: null,
        verification_country: 'NG',
        created_at: null,
        phone: [],
        numbers: [],
      };
      const bvnNumbers = rows.map((r) => plusOf(r.msisdn));
      // The BVN's numbers the NIN's list misses (a BVN registered with another line).
      const extra = bvnNumbers.filter((m) => !base.numbers.some((n) => n.msisdn === m));
      const { customer: _c, ...rest } = base;
      return c.json(
        {
          status: 'success' as const,
          message: 'Identity successfully retrieved',
          data: {
            ...rest,
            bvn: masked,
            customer,
            record: id,
            numbers: [
              ...base.numbers,
              ...extra.map((m) => bvnNumberOut(m, views.get(m.slice(1)) ?? null, bvnToken)),
            ],
          },
        },
        200,
      );
    },
  );
}

const plusOf = (msisdn: string) => `+${msisdn}`;

/** A number of the BVN that is not among the NIN's numbers: linked means the BVN link is active. */
function bvnNumberOut(msisdn: string, view: StateView | null, bvnToken: string) {
  const link = view?.bvnLinkages.find((l) => l.token === bvnToken) ?? null;
  return {
    msisdn,
    phone: nationalForm(msisdn.slice(1)),
    operator_code: view?.operator ?? null,
    telecom_status: view?.telecomStatus ?? null,
    lifecycle_status: view?.lifecycleStatus ?? null,
    is_recycled: view?.isRecycled ?? null,
    linked: link !== null && link.clearedDate === null,
    stale: false,
    link_date: link?.linkDate ?? null,
    first_link_date: null,
    cleared_date: link?.clearedDate ?? null,
  };
}
