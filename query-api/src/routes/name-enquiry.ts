import { createRoute, z } from '@hono/zod-openapi';
import { createIdentitySources, SourceError } from '@hub/identity-sources';
import { jsonBody, reconixError, reconixErrors, requireAuth, rolesOf } from '@hub/ingest';
import { mask } from '@hub/schemas';
import type { MiddlewareHandler } from 'hono';
import type { ApiApp, ApiContext, ApiEnv } from '../context.ts';
import { identifierField } from '../identity/http.ts';
import { auditRead, purposeField } from '../identity/read-audit.ts';

const PATH = '/api/v1/lookups/nuban/name-verify';
const BODY_BYTES = 4 * 1024;
const BANK_CODE = 'must be a CBN bank code of 3 to 6 digits';
/** Okra's bank ids are 24-hex-digit object ids; the hub takes CBN codes. */
const OKRA_ID = /^[0-9a-f]{24}$/i;

/** The NUBAN masked as Okra shows it: first two and last digit, `06*****4`... of ten digits. */
export function okraMaskedNuban(nuban: string): string {
  return `${nuban.slice(0, 2)}${'*'.repeat(Math.max(0, nuban.length - 3))}${nuban.slice(-1)}`;
}

const NameVerifyRequest = z
  .object({
    nuban: identifierField('NUBAN').openapi({ example: '0114542453' }),
    bank: z
      .string({ error: BANK_CODE })
      .regex(/^(?:\d{3,6}|[0-9a-fA-F]{24})$/, { error: BANK_CODE })
      .openapi({ description: 'CBN bank code (not an Okra bank id)', example: '058' }),
    success: z
      .boolean({ error: 'must be true or false' })
      .optional()
      .openapi({ description: 'Sandbox (simulator) only: force a success (true) or a failure (false)' }),
    no_bvn: z
      .boolean({ error: 'must be true or false' })
      .optional()
      .openapi({ description: 'Sandbox (simulator) only: true answers without the BVN' }),
    purpose: purposeField(),
  })
  .openapi('NubanNameVerifyRequest');

const NameVerifyResponse = z
  .object({
    success: z.boolean(),
    message: z.string().openapi({ example: 'Account Retrieved successfully' }),
    data: z.object({
      identity: z.object({
        name: z.string().openapi({ example: 'BUFFAY, PHOEBE' }),
        nuban: z.string().openapi({ example: '01*******3' }),
        bank: z.string().openapi({ example: '058' }),
        bvn: z.string().nullable().openapi({
          description:
            'The BVN behind the account, masked; null when the role may not see it or NIBSS gave none',
          example: '*******6979',
        }),
      }),
      nip: z.object({
        responseCode: z.string().openapi({ example: '00' }),
        responseMessage: z.string().openapi({ example: 'Approved or completed successfully' }),
      }),
    }),
  })
  .openapi('NubanNameVerifyResponse');

const routeOf = (allowed: MiddlewareHandler<ApiEnv>) =>
  createRoute({
    method: 'post',
    path: PATH,
    tags: ['Identity lookups'],
    summary: 'Okra "Nuban Name Verify": NIP name enquiry (GetNIPAccount) through the NIBSS adapter',
    description:
      'Asks NIBSS (the simulator locally: NIBSS_URL) for the account name of a NUBAN at a CBN bank code. The NUBAN comes back masked as Okra shows it; the BVN (masked) only for Admin and ServiceProvider roles. success and no_bvn are sandbox switches, refused outside development and test (NODE_ENV). Every call is an audit entry.',
    security: [{ ApiKey: [] }],
    middleware: [allowed, jsonBody(BODY_BYTES)],
    request: { body: { content: { 'application/json': { schema: NameVerifyRequest } }, required: true } },
    responses: {
      200: {
        description: 'The name enquiry answer (success false when NIBSS did not approve)',
        content: { 'application/json': { schema: NameVerifyResponse } },
      },
      ...reconixErrors([400, 401, 403, 413, 415, 429, 503]),
    },
  });

const SEE_BVN = new Set(['Admin', 'ServiceProvider']);

export function registerNameEnquiryRoutes(app: ApiApp, ctx: ApiContext): void {
  const sources = ctx.identitySources ?? createIdentitySources(ctx.config);
  const sandbox = ctx.config.NODE_ENV !== 'production';
  const allowed = requireAuth<ApiEnv>(ctx.ingest, { roles: ['Admin', 'ServiceProvider', 'Auditor'] });
  app.openapi(routeOf(allowed), async (c) => {
    const body = c.req.valid('json');
    if (OKRA_ID.test(body.bank)) {
      const message = 'is an Okra bank id; this hub takes CBN bank codes (e.g. 058 for GTBank), not Okra ids';
      return reconixError(c, 'VALIDATION_ERROR', `bank: ${message}`, [{ field: 'bank', message }]);
    }
    if (!sandbox && (body.success !== undefined || body.no_bvn !== undefined)) {
      const field = body.success !== undefined ? 'success' : 'no_bvn';
      return reconixError(
        c,
        'VALIDATION_ERROR',
        `${field}: is a sandbox switch, only honoured against the simulator`,
        [{ field, message: 'is a sandbox switch, only honoured against the simulator' }],
      );
    }
    const sandboxSwitches = sandbox ? { success: body.success, no_bvn: body.no_bvn } : undefined;
    let answer: Awaited<ReturnType<typeof sources.nibss.nameEnquiry>>;
    try {
      answer = await sources.nibss.nameEnquiry(body.nuban, body.bank, sandboxSwitches);
    } catch (err) {
      if (!(err instanceof SourceError)) throw err;
      c.header('Retry-After', '30');
      return reconixError(c, 'SERVICE_UNAVAILABLE', `NIBSS name enquiry failed: ${err.message}`);
    }
    const approved = answer.responseCode === '00';
    const seesBvn = rolesOf(c.get('principal')).some((r) => SEE_BVN.has(r));
    auditRead(c, ctx, 'NAME_ENQUIRY', {
      target: `nuban:${mask(body.nuban)}@${body.bank}`,
      operation: 'nuban name verify (NIP GetNIPAccount)',
      purpose: body.purpose,
      found: approved,
      details: { responseCode: answer.responseCode },
    });
    return c.json(
      {
        success: approved,
        message: approved
          ? 'Account Retrieved successfully'
          : `Account not retrieved: ${answer.responseMessage}`,
        data: {
          identity: {
            name: approved ? answer.accountName : '',
            nuban: okraMaskedNuban(body.nuban),
            bank: body.bank,
            bvn: approved && seesBvn && answer.bvn ? mask(answer.bvn) : null,
          },
          nip: { responseCode: answer.responseCode, responseMessage: answer.responseMessage },
        },
      },
      200,
    );
  });
}
