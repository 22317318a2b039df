import { createRoute, z } from '@hono/zod-openapi';
import { createIdentitySources, type NimcNinRecord, SourceError } from '@hub/identity-sources';
import { checkFeedRecord, jsonBody, reconixError, reconixErrors, requireApiKey } from '@hub/ingest';
import {
  mask,
  type NinLinkageEvent,
  nationalForm,
  normaliseMsisdn,
  todayInLagos,
  tokenise,
} from '@hub/schemas';
import type { MiddlewareHandler } from 'hono';
import type { ApiApp, ApiContext, ApiEnv } from '../context.ts';
import { identifierField, recordUse } from '../identity/http.ts';
import { IdentityNumber, profilesOf, recordsById } from '../identity/profiles.ts';
import { auditRead, purposeField } from '../identity/read-audit.ts';
import { customerField, identityRecordId } from '../identity/records.ts';

const PATH = '/api/v1/lookups/nin/verify';
const BODY_BYTES = 4 * 1024;

const NinVerifyRequest = z
  .object({
    nin: identifierField('NIN').openapi({ example: '70000000011' }),
    refresh: z.boolean({ error: 'must be true or false' }).optional().openapi({
      description:
        "true: ask NIMC live (through the NIMC adapter) and turn every difference from the hub's linkages into a NIN linkage event; false or absent: answer from the hub's state",
      example: true,
    }),
    testing: z.boolean({ error: 'must be true or false' }).optional().openapi({
      description:
        'With refresh: compare with NIMC and list the differences, but publish no linkage event (a dry run)',
      example: false,
    }),
    customer: customerField().optional(),
    purpose: purposeField(),
  })
  .openapi('NinVerifyRequest', { example: { nin: '70000000011', refresh: true } });

const Change = z
  .object({
    msisdn: z.string().openapi({ example: '+2348099000011' }),
    action: z.enum(['LINK', 'UNLINK']),
    date: z.string().openapi({ example: '2025-07-01' }),
  })
  .openapi('NinVerifyChange');

const NinVerifyResponse = z
  .object({
    success: z.boolean(),
    message: z.string().openapi({ example: 'Identity retrieved successfully' }),
    data: z.object({
      identity: z.object({
        _id: z
          .string()
          .openapi({ description: 'The identity record id', example: '9720204445e30d7927fb6009' }),
        nin: z.string().openapi({ description: 'Masked', example: '*******0011' }),
        firstname: z
          .string()
          .nullable()
          .openapi({ description: 'From NIMC (refresh only)', example: 'Phoebe' }),
        lastname: z.string().nullable().openapi({ example: 'Buffay' }),
        fullname: z.string().nullable().openapi({ example: 'Phoebe Buffay' }),
        dob: z.string().nullable().openapi({ example: '1989-04-16' }),
        phone: z
          .array(z.string())
          .openapi({ description: 'National forms of the numbers linked now', example: ['08099000011'] }),
        numbers: z.array(IdentityNumber),
        record: z.array(z.string()).openapi({ description: 'Okra lists record ids; here the one record' }),
        customer: z.string().nullable(),
        verification_country: z.literal('NG'),
        created_at: z.string().nullable(),
      }),
      refresh: z.object({
        asked_nimc: z.boolean(),
        changes: z.array(Change).openapi({
          description:
            "Differences NIMC showed from the hub's linkages, each published as a NIN linkage event (none with testing); the state reflects them once processed",
        }),
        published: z.boolean(),
      }),
    }),
  })
  .openapi('NinVerifyResponse');

const routeOf = (allowed: MiddlewareHandler<ApiEnv>) =>
  createRoute({
    method: 'post',
    path: PATH,
    tags: ['Identity lookups'],
    summary: 'Okra "NIN Verify": a NIN\'s identity, from the hub\'s state or refreshed live from NIMC',
    description:
      "refresh false (default): the identity as the hub holds it (record id, masked NIN, linked numbers with live status; no names: the hub holds none). refresh true: asks NIMC through the NIMC adapter (NIMC_URL; the simulator locally) for the NIN's holder and its phone, and for each number the hub links the NIN to whether NIMC still does; every difference becomes a NIN linkage event (LINK or UNLINK, dated today, Lagos) published through the identity-feed path, and the holder's name comes back from NIMC (not stored). NIMC unreachable: 503 with Retry-After. A NIN NIMC does not know: 404. Auth: HUB and SERVICE_PROVIDER organisations (API key); every call is an audit entry.",
    security: [{ ApiKey: [] }],
    middleware: [allowed, jsonBody(BODY_BYTES)],
    request: { body: { content: { 'application/json': { schema: NinVerifyRequest } }, required: true } },
    responses: {
      200: {
        description: 'The identity',
        content: {
          'application/json': {
            schema: NinVerifyResponse,
            example: {
              success: true,
              message: 'Identity retrieved successfully',
              data: {
                identity: {
                  _id: '9720204445e30d7927fb6009',
                  nin: '*******0011',
                  firstname: 'Phoebe',
                  lastname: 'Buffay',
                  fullname: 'Phoebe Buffay',
                  dob: '1989-04-16',
                  phone: ['08099000011'],
                  numbers: [],
                  record: ['9720204445e30d7927fb6009'],
                  customer: null,
                  verification_country: 'NG',
                  created_at: '2025-07-01T09:00:00.000Z',
                },
                refresh: {
                  asked_nimc: true,
                  changes: [{ msisdn: '+2348099000011', action: 'LINK', date: '2025-07-01' }],
                  published: true,
                },
              },
            },
          },
        },
      },
      ...reconixErrors([400, 401, 403, 404, 413, 415, 429, 503], {
        404: 'NIMC has no record of the NIN (refresh true)',
        503: 'NIMC, Kafka or a hub store is unavailable; retry after Retry-After',
      }),
    },
  });

type Change = z.infer<typeof Change>;

export function registerNinVerifyRoutes(app: ApiApp, ctx: ApiContext): void {
  const sources = ctx.identitySources ?? createIdentitySources(ctx.config);
  const allowed = requireApiKey<ApiEnv>(ctx.ingest, ['HUB', 'SERVICE_PROVIDER']);
  const secret = ctx.config.TOKEN_SECRET;

  app.openapi(routeOf(allowed), async (c) => {
    const { nin, refresh = false, testing = false, customer, purpose } = c.req.valid('json');
    const token = tokenise('NIN', nin, secret);
    const id = identityRecordId(token);
    const [before] = await profilesOf(ctx, await recordsById(ctx, [id]), customer ?? null);
    const linkedNow = (before?.numbers ?? []).filter((n) => n.linked === true).map((n) => n.msisdn.slice(1));

    let holder: NimcNinRecord | null = null;
    const changes: Change[] = [];
    if (refresh) {
      try {
        holder = await sources.nimc.verifyNin(nin);
        if (holder) {
          const phone = holder.phoneNumber ? normaliseMsisdn(holder.phoneNumber) : null;
          const nimcPhone = phone?.ok ? phone.msisdn : null;
          const date = todayInLagos(ctx.now());
          if (nimcPhone && !linkedNow.includes(nimcPhone))
            changes.push({ msisdn: `+${nimcPhone}`, action: 'LINK', date });
          // NIMC's record names one phone; each other number the hub links the NIN to is asked about.
          for (const msisdn of linkedNow) {
            if (msisdn === nimcPhone) continue;
            const nins = await sources.nimc.ninsOfPhone(msisdn);
            if (!nins.some((p) => p.nin === nin))
              changes.push({ msisdn: `+${msisdn}`, action: 'UNLINK', date });
          }
        }
      } catch (err) {
        if (!(err instanceof SourceError)) throw err;
        c.header('Retry-After', '30');
        return reconixError(c, 'SERVICE_UNAVAILABLE', `NIMC could not be asked: ${err.message}`);
      }
      if (!holder) {
        auditRead(c, ctx, 'NIN_VERIFY', {
          target: `nin:${mask(nin)}`,
          operation: 'nin verify (refresh from NIMC)',
          purpose,
          found: false,
        });
        const message = 'NIMC has no record of this NIN';
        return reconixError(c, 'NOT_FOUND', `nin: ${message}`, [{ field: 'nin', message }]);
      }
    }

    let published = false;
    if (changes.length > 0 && !testing) {
      const receivedAt = ctx.now();
      const events: { key: string; value: NinLinkageEvent }[] = [];
      for (const change of changes) {
        // The identity feed's own check and event shape: the change enters as NIMC's feed would send it.
        const check = checkFeedRecord(
          'NIMC',
          { msisdn: change.msisdn.slice(1), action: change.action, nin, date: change.date },
          secret,
          'API',
          receivedAt,
        );
        if (!check.ok || check.event.kind !== 'nin-linkage')
          throw new Error(`NIMC refresh made an event the feed check refuses: ${JSON.stringify(check)}`);
        events.push({ key: check.event.value.msisdn, value: check.event.value });
      }
      // Kafka unavailable: KafkaUnavailableError, answered as a 503 by onError.
      await ctx.ingest.publisher.publish('nin-linkage', ctx.ingest.topics.ninLinkages, events);
      published = true;
    }

    const numbers = before?.numbers ?? [];
    recordUse(
      c,
      ctx,
      'LOOKUP',
      numbers.length > 0
        ? numbers.map((n) => ({ msisdn: n.msisdn.slice(1), view: null, found: true }))
        : [{ msisdn: '', view: null, found: holder !== null }],
      customer,
    );
    auditRead(c, ctx, 'NIN_VERIFY', {
      target: `nin:${mask(nin)}`,
      operation: refresh ? 'nin verify (refresh from NIMC)' : 'nin verify (hub state)',
      purpose,
      found: before !== undefined || holder !== null,
      details: {
        refresh,
        testing,
        changes: changes.map((ch) => `${ch.action} ${ch.msisdn}`),
        ...(customer ? { customer } : {}),
      },
    });
    const linked = new Set(before?.phone ?? []);
    for (const ch of changes) {
      const national = nationalForm(ch.msisdn.slice(1));
      if (ch.action === 'LINK') linked.add(national);
      else linked.delete(national);
    }
    const known = before !== undefined || holder !== null;
    return c.json(
      {
        success: known,
        message: known ? 'Identity retrieved successfully' : 'No identity found',
        data: {
          identity: {
            _id: id,
            nin: mask(nin),
            firstname: holder?.firstName ?? null,
            lastname: holder?.surname ?? null,
            fullname: holder ? `${holder.firstName} ${holder.surname}`.trim() : null,
            dob: holder?.dateOfBirth ?? null,
            phone: published ? [...linked] : (before?.phone ?? []),
            numbers,
            record: known ? [id] : [],
            customer: customer ?? null,
            verification_country: 'NG' as const,
            created_at: before?.created_at ?? null,
          },
          refresh: { asked_nimc: refresh, changes, published },
        },
      },
      200,
    );
  });
}
