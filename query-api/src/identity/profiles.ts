import { z } from '@hono/zod-openapi';
import { nationalForm } from '@hub/schemas';
import { isOld, type StateView } from '@hub/state';
import type { ApiContext } from '../context.ts';
import { queryRows } from './http.ts';
import { plusForm } from './mapping.ts';
import {
  customerNumbersQuery,
  identityRecordId,
  identityRecordsQuery,
  numbersOfNinTokensQuery,
} from './records.ts';

/**
 * Okra-style identity profiles over what the hub holds: one profile per identity (NIN token),
 * with the numbers linked to it and each number's live status. The hub holds no names, addresses
 * or photos (only tokens and masked identifiers), so a profile is its record id, the masked NIN,
 * when the hub first saw it, and its numbers.
 */

export const IdentityNumber = z
  .object({
    msisdn: z.string().openapi({ example: '+2348038811523' }),
    phone: z.string().openapi({ description: 'National form', example: '08038811523' }),
    operator_code: z.string().nullable().openapi({ example: 'MTN' }),
    telecom_status: z.string().nullable().openapi({ example: 'NORMAL' }),
    lifecycle_status: z.string().nullable().openapi({ example: 'ACTIVE' }),
    is_recycled: z.boolean().nullable(),
    linked: z.boolean().nullable().openapi({
      description:
        'The identity is linked to the number now (live state); null when the hub knows no NIN for the number',
    }),
    stale: z.boolean().openapi({
      description: "Linked, but before the number's last churn/reassignment (a previous owner's)",
    }),
    link_date: z.string().nullable().openapi({ example: '2021-03-04' }),
    first_link_date: z.string().nullable().openapi({ example: '2020-12-01' }),
    cleared_date: z.string().nullable(),
    last_checked_at: z.string().optional().openapi({
      description:
        'By customer: when your organisation last verified or looked the number up for the customer',
      example: '2025-07-01T09:00:00.000Z',
    }),
    checks: z.number().int().optional().openapi({ description: 'By customer: how many times', example: 2 }),
  })
  .openapi('OkraIdentityNumber');

export const IdentityProfile = z
  .object({
    id: z.string().nullable().openapi({
      description:
        "The identity's record id (stable, derived from the NIN token); null for a customer's numbers the hub knows no NIN for",
      example: '9720204445e30d7927fb6009',
    }),
    nin: z.string().nullable().openapi({ description: 'Masked', example: '*******1234' }),
    bvn: z.string().nullable().openapi({ description: 'Masked (verify customer only)', example: null }),
    customer: z
      .object({ _id: z.string() })
      .nullable()
      .openapi({ description: 'The customer reference it was asked for', example: null }),
    verification_country: z.literal('NG'),
    created_at: z.string().nullable().openapi({
      description: 'When the hub first received a linkage of the identity',
      example: '2025-06-30T10:18:57.000Z',
    }),
    phone: z
      .array(z.string())
      .openapi({ description: 'National forms of the numbers linked now', example: ['08038811523'] }),
    numbers: z.array(IdentityNumber),
  })
  .openapi('OkraIdentityProfile');

export type IdentityProfileOut = z.infer<typeof IdentityProfile>;
export type IdentityNumberOut = z.infer<typeof IdentityNumber>;

export interface IdentityRecordRow {
  record_id: string;
  nin_token: string;
  masked: string;
  seen: string | number;
}

interface TokenNumberRow {
  nin_token: string;
  msisdn: string;
  masked: string;
  first_link_date: string;
  last_link_date: string;
}

const iso = (seconds: string | number) => new Date(Number(seconds) * 1000).toISOString();

function numberOut(
  msisdn: string,
  view: StateView | null,
  token: string | null,
  dates: { first: string | null; last: string | null },
): IdentityNumberOut {
  const link = token ? (view?.ninLinkages.find((l) => l.token === token) ?? null) : null;
  const linked = token === null ? null : link !== null && link.clearedDate === null;
  return {
    msisdn: plusForm(msisdn),
    phone: nationalForm(msisdn),
    operator_code: view?.operator ?? null,
    telecom_status: view?.telecomStatus ?? null,
    lifecycle_status: view?.lifecycleStatus ?? null,
    is_recycled: view?.isRecycled ?? null,
    linked,
    stale: link !== null && linked === true && isOld(link, view?.recycleDate ?? null),
    link_date: link?.linkDate ?? dates.last,
    first_link_date: dates.first,
    cleared_date: link?.clearedDate ?? null,
  };
}

function profile(
  id: string | null,
  masked: string | null,
  createdAt: string | null,
  numbers: IdentityNumberOut[],
  customer: string | null,
): IdentityProfileOut {
  return {
    id,
    nin: masked,
    bvn: null,
    customer: customer === null ? null : { _id: customer },
    verification_country: 'NG',
    created_at: createdAt,
    phone: numbers.filter((n) => n.linked === true).map((n) => n.phone),
    numbers,
  };
}

/** Profiles of identity records (one ClickHouse read for their numbers, one Redis round trip). */
export async function profilesOf(
  ctx: ApiContext,
  records: readonly IdentityRecordRow[],
  customer: string | null = null,
): Promise<IdentityProfileOut[]> {
  if (records.length === 0) return [];
  const database = ctx.config.CLICKHOUSE_DATABASE;
  const rows = await queryRows<TokenNumberRow>(
    ctx.clickhouse,
    numbersOfNinTokensQuery(
      database,
      records.map((r) => r.nin_token),
    ),
  );
  const msisdns = [...new Set(rows.map((r) => r.msisdn))];
  const readings = await ctx.readState(msisdns);
  const views = new Map(msisdns.map((m, i) => [m, readings[i]?.view ?? null]));
  return records.map((r) => {
    const numbers = rows
      .filter((row) => row.nin_token === r.nin_token)
      .map((row) =>
        numberOut(row.msisdn, views.get(row.msisdn) ?? null, r.nin_token, {
          first: row.first_link_date,
          last: row.last_link_date,
        }),
      );
    return profile(r.record_id, r.masked, iso(r.seen), numbers, customer);
  });
}

/** The identity records of these ids (unknown ids are left out). */
export function recordsById(ctx: ApiContext, ids: readonly string[]): Promise<IdentityRecordRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return queryRows<IdentityRecordRow>(
    ctx.clickhouse,
    identityRecordsQuery(ctx.config.CLICKHOUSE_DATABASE, ids),
  );
}

interface CustomerNumberRow {
  msisdn: string;
  first_at: string | number;
  last_at: string | number;
  calls: string | number;
}

export interface CustomerProfiles {
  profiles: IdentityProfileOut[];
  /** Epoch ms each profile is dated by (created_at, or the first check of unlinked numbers). */
  datedAt: number[];
  /** The customer's numbers, their live state, for verify customer. */
  numbers: { msisdn: string; view: StateView | null }[];
}

/**
 * What `organisation` verified or looked up for `customer`: the identities linked now to those
 * numbers (one profile per NIN, listing the customer's numbers under it), and one profile with a
 * null id for the customer's numbers the hub knows no NIN for. Newest first.
 */
export async function customerProfiles(
  ctx: ApiContext,
  organisation: string,
  customer: string,
): Promise<CustomerProfiles> {
  const rows = await queryRows<CustomerNumberRow>(
    ctx.clickhouse,
    customerNumbersQuery(ctx.config.CLICKHOUSE_DATABASE, organisation, customer),
  );
  const readings = await ctx.readState(rows.map((r) => r.msisdn));
  const byToken = new Map<string, { masked: string; numbers: IdentityNumberOut[] }>();
  const unlinked: IdentityNumberOut[] = [];
  let unlinkedFirst = Number.POSITIVE_INFINITY;
  rows.forEach((row, i) => {
    const view = readings[i]?.view ?? null;
    const checked = { last_checked_at: iso(row.last_at), checks: Number(row.calls) };
    const active = (view?.ninLinkages ?? []).filter((l) => l.clearedDate === null);
    if (active.length === 0) {
      unlinked.push({ ...numberOut(row.msisdn, view, null, { first: null, last: null }), ...checked });
      unlinkedFirst = Math.min(unlinkedFirst, Number(row.first_at) * 1000);
      return;
    }
    for (const link of active) {
      const entry = byToken.get(link.token) ?? { masked: link.masked, numbers: [] };
      entry.numbers.push({
        ...numberOut(row.msisdn, view, link.token, { first: link.linkDate, last: link.linkDate }),
        ...checked,
      });
      byToken.set(link.token, entry);
    }
  });
  const ids = [...byToken.keys()].map(identityRecordId);
  const seen = new Map((await recordsById(ctx, ids)).map((r) => [r.nin_token, Number(r.seen) * 1000]));
  const dated: { profile: IdentityProfileOut; at: number }[] = [...byToken].map(([token, e]) => {
    const at = seen.get(token) ?? null;
    return {
      profile: profile(
        identityRecordId(token),
        e.masked,
        at === null ? null : new Date(at).toISOString(),
        e.numbers,
        customer,
      ),
      at: at ?? 0,
    };
  });
  if (unlinked.length > 0) {
    dated.push({
      profile: profile(null, null, new Date(unlinkedFirst).toISOString(), unlinked, customer),
      at: unlinkedFirst,
    });
  }
  dated.sort((a, b) => b.at - a.at || String(a.profile.id).localeCompare(String(b.profile.id)));
  return {
    profiles: dated.map((d) => d.profile),
    datedAt: dated.map((d) => d.at),
    numbers: rows.map((r, i) => ({ msisdn: r.msisdn, view: readings[i]?.view ?? null })),
  };
}
