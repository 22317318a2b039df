import { createRoute, z } from '@hono/zod-openapi';
import {
  actorOf,
  jsonBody,
  optionalJsonBody,
  type Principal,
  ROLES,
  reconixError,
  reconixErrors,
  requireAuth,
} from '@hub/ingest';
import { type ApiKeyRecord, requestMeta, SecurityError } from '@hub/security';
import type { Context, MiddlewareHandler } from 'hono';
import type { ApiApp, ApiContext, ApiEnv } from '../context.ts';
import { PageQuery } from '../pagination.ts';

const BODY_BYTES = 16 * 1024;
const MAX_OVERLAP_SECONDS = 7 * 24 * 3600;
const DEFAULT_OVERLAP_SECONDS = 3600;

const security = [{ Bearer: [] }];
const json = <T extends z.ZodType>(schema: T) => ({ 'application/json': { schema } });
const readBody = jsonBody(BODY_BYTES);
type Guard = MiddlewareHandler<ApiEnv>;

/** The error answers of a route: who may call it (401, 403, 429) plus those it names. */
const errors = <const S extends 400 | 404 | 409 | 413 | 415>(...statuses: S[]) =>
  reconixErrors([401, 403, 429, ...statuses], {
    403: 'Role not allowed',
    404: 'Not found (a key of another organisation is reported as absent)',
    409: 'Conflicts with the current state',
  });

const ApiKeyView = z
  .object({
    id: z.string(),
    organisation: z.string(),
    name: z.string(),
    prefix: z.string().openapi({ example: 'hub_3f9a1c2e', description: 'Non-secret start of the key' }),
    createdAt: z.string(),
    createdBy: z.string(),
    expiresAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
    active: z.boolean(),
  })
  .openapi('ApiKey');
const IssuedKey = ApiKeyView.extend({
  key: z.string().openapi({ description: 'The key itself: shown once, never again' }),
}).openapi('IssuedApiKey');
const CreateKey = z
  .object({
    name: z.string().min(1).max(100).openapi({ example: 'production verifier' }),
    organisation: z.string().max(32).optional().openapi({ description: 'Admins only: another organisation' }),
  })
  .strict();
const RotateKey = z
  .object({
    overlapSeconds: z
      .number()
      .int()
      .min(0)
      .max(MAX_OVERLAP_SECONDS)
      .optional()
      .openapi({
        description: `How long the old key keeps working after rotation; default ${DEFAULT_OVERLAP_SECONDS}`,
      }),
  })
  .strict();
const OrganisationBody = z
  .object({
    id: z
      .string()
      .regex(/^[A-Z0-9][A-Z0-9_-]{1,31}$/)
      .openapi({ example: 'FIRSTBANK' }),
    name: z.string().min(1).max(200),
    type: z.enum(['OPERATOR', 'SERVICE_PROVIDER', 'IDENTITY_SOURCE', 'HUB']),
    operatorCode: z.string().max(16).nullable().optional(),
    ranges: z
      .array(z.string().regex(/^\d{2,10}$/))
      .max(1000)
      .optional(),
    verifyPerMinute: z.number().int().min(1).max(10_000_000).optional(),
    generalPerMinute: z.number().int().min(1).max(10_000_000).optional(),
  })
  .strict()
  .openapi('Organisation');
const UserBody = z
  .object({
    organisation: z.string().max(32),
    email: z.string().min(3).max(254),
    name: z.string().min(1).max(200),
    role: z.enum(ROLES),
    password: z.string().min(1).max(256),
  })
  .strict()
  .openapi('NewUser');

const KeyId = z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' } }) });

const listKeysRoute = (guards: Guard[]) =>
  createRoute({
    method: 'get',
    path: '/api/v1/api-keys',
    tags: ['API keys'],
    summary: "List an organisation's API keys (never the keys themselves)",
    security,
    middleware: guards,
    request: { query: z.object({ organisation: z.string().optional(), ...PageQuery }) },
    responses: {
      200: {
        description: 'Page of keys',
        content: json(
          z.object({
            items: z.array(ApiKeyView),
            total: z.number(),
            skip: z.number(),
            limit: z.number(),
          }),
        ),
      },
      ...errors(400),
    },
  });
const createKeyRoute = (guards: Guard[]) =>
  createRoute({
    method: 'post',
    path: '/api/v1/api-keys',
    tags: ['API keys'],
    summary: 'Generate an API key for the organisation (signed-in organisation admins and hub Admins)',
    security,
    middleware: [...guards, readBody],
    request: { body: { content: json(CreateKey), required: true } },
    responses: {
      201: { description: 'Issued; the key is in this answer only', content: json(IssuedKey) },
      ...errors(400, 404, 409, 413, 415),
    },
  });
const rotateKeyRoute = (guards: Guard[]) =>
  createRoute({
    method: 'post',
    path: '/api/v1/api-keys/{id}/rotate',
    tags: ['API keys'],
    summary: 'Issue a successor key; the old one keeps working for overlapSeconds',
    security,
    middleware: [...guards, optionalJsonBody(BODY_BYTES)],
    request: { params: KeyId, body: { content: json(RotateKey), required: false } },
    responses: {
      201: { description: 'Successor issued', content: json(IssuedKey.extend({ previous: ApiKeyView })) },
      ...errors(400, 404, 409, 413, 415),
    },
  });
const revokeKeyRoute = (guards: Guard[]) =>
  createRoute({
    method: 'delete',
    path: '/api/v1/api-keys/{id}',
    tags: ['API keys'],
    summary: 'Revoke a key with immediate effect',
    security,
    middleware: guards,
    request: { params: KeyId },
    responses: {
      200: { description: 'Revoked', content: json(ApiKeyView) },
      ...errors(404),
    },
  });
const listOrganisationsRoute = (guards: Guard[]) =>
  createRoute({
    method: 'get',
    path: '/api/v1/organisations',
    tags: ['Organisations'],
    summary: 'List organisations (Admin, Auditor)',
    security,
    middleware: guards,
    request: { query: z.object(PageQuery) },
    responses: {
      200: {
        description: 'Page of organisations',
        content: json(
          z.object({
            items: z.array(OrganisationBody),
            total: z.number(),
            skip: z.number(),
            limit: z.number(),
          }),
        ),
      },
      ...errors(400),
    },
  });
const createOrganisationRoute = (guards: Guard[]) =>
  createRoute({
    method: 'post',
    path: '/api/v1/organisations',
    tags: ['Organisations'],
    summary: 'Register an organisation (Admin)',
    security,
    middleware: [...guards, readBody],
    request: { body: { content: json(OrganisationBody), required: true } },
    responses: {
      201: { description: 'Registered', content: json(OrganisationBody) },
      ...errors(400, 404, 409, 413, 415),
    },
  });
const createUserRoute = (guards: Guard[]) =>
  createRoute({
    method: 'post',
    path: '/api/v1/users',
    tags: ['Organisations'],
    summary: 'Create a user of an organisation (Admin)',
    security,
    middleware: [...guards, readBody],
    request: { body: { content: json(UserBody), required: true } },
    responses: {
      201: {
        description: 'Created',
        content: json(
          z.object({ id: z.string(), email: z.string(), role: z.string(), organisation: z.string() }),
        ),
      },
      ...errors(400, 404, 409, 413, 415),
    },
  });

const UserChangeBody = z
  .object({
    role: z.enum(ROLES).optional().openapi({ description: 'A new role; ends every session of the user' }),
    active: z.boolean().optional().openapi({ description: 'false disables the user and ends every session' }),
  })
  .strict()
  .refine((b) => b.role !== undefined || b.active !== undefined, {
    error: 'name at least one of role, active',
  })
  .openapi('UserChange');
const UserView = z
  .object({
    id: z.string(),
    organisation: z.string(),
    email: z.string(),
    name: z.string(),
    role: z.enum(ROLES),
    active: z.boolean(),
  })
  .openapi('User');
const UserId = z.object({
  id: z
    .string()
    .min(1, { error: 'must be 1-64 characters' })
    .max(64, { error: 'must be 1-64 characters' })
    .openapi({ param: { name: 'id', in: 'path' }, description: 'User id' }),
});
const updateUserRoute = (guards: Guard[]) =>
  createRoute({
    method: 'patch',
    path: '/api/v1/users/{id}',
    tags: ['Organisations'],
    summary: "Change a user's role or disable them (Admin); either ends every session of the user",
    security,
    middleware: [...guards, readBody],
    request: { params: UserId, body: { content: json(UserChangeBody), required: true } },
    responses: {
      200: { description: 'Changed', content: json(UserView) },
      ...errors(400, 404, 409, 413, 415),
    },
  });
const deleteUserRoute = (guards: Guard[]) =>
  createRoute({
    method: 'delete',
    path: '/api/v1/users/{id}',
    tags: ['Organisations'],
    summary: 'Delete a user (Admin): a tombstone on the accounts topic, every session ends',
    security,
    middleware: guards,
    request: { params: UserId },
    responses: {
      200: {
        description: 'Deleted',
        content: json(z.object({ status: z.boolean(), message: z.string() })),
      },
      ...errors(400, 404, 409),
    },
  });

function view(k: ApiKeyRecord, now: number): z.infer<typeof ApiKeyView> {
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return {
    id: k.id,
    organisation: k.organisationId,
    name: k.name,
    prefix: k.prefix,
    createdAt: new Date(k.createdAt).toISOString(),
    createdBy: k.createdBy,
    expiresAt: iso(k.expiresAt),
    revokedAt: iso(k.revokedAt),
    active: k.revokedAt === null && (k.expiresAt === null || k.expiresAt > now),
  };
}

function failure(c: Context<ApiEnv>, err: unknown) {
  if (!(err instanceof SecurityError)) throw err;
  return reconixError(c, err.code, err.message);
}

/** Keys are managed by people only: a leaked key must not be able to mint or keep keys alive. */
const peopleOnly: Guard = async (c, next) => {
  if (!c.get('principal').userId)
    return reconixError(c, 'FORBIDDEN', 'API keys are managed by signed-in people, not by API keys');
  await next();
};

/** The organisation whose keys the caller manages: its own, or (hub Admins) the one requested. */
function keyManager(
  c: Context<ApiEnv>,
  requested: string | undefined,
): { ok: true; organisation: string } | { ok: false; response: Response } {
  const p: Principal = c.get('principal');
  const isAdmin = p.roles?.includes('Admin') ?? false;
  if (requested && requested !== p.organisation && !isAdmin)
    return {
      ok: false,
      response: reconixError(c, 'FORBIDDEN', 'only hub Admins manage keys of other organisations'),
    };
  return { ok: true, organisation: requested ?? p.organisation };
}

/**
 * API keys, organisations and users. Every change is published on the accounts topic (the
 * system of record) and answered once this instance's projection holds it.
 */
export function registerApiKeyRoutes(app: ApiApp, ctx: ApiContext): void {
  const { security: sec } = ctx;
  const managers = [
    requireAuth<ApiEnv>(ctx.ingest, { roles: ['Admin', 'Operator', 'ServiceProvider'] }),
    peopleOnly,
  ];
  const admins = [requireAuth<ApiEnv>(ctx.ingest, { roles: ['Admin'] })];
  const readers = [requireAuth<ApiEnv>(ctx.ingest, { roles: ['Admin', 'Auditor'] })];

  /** The key `id` when the caller may manage it; someone else's key is reported as absent. */
  async function managedKey(c: Context<ApiEnv>, id: string) {
    const principal = c.get('principal');
    const key = await sec.store.apiKeyById(id);
    const isAdmin = principal.roles?.includes('Admin') ?? false;
    if (!key || (!isAdmin && key.organisationId !== principal.organisation))
      return { ok: false as const, response: reconixError(c, 'NOT_FOUND', `no API key ${id}`) };
    return { ok: true as const, key };
  }

  app.openapi(listKeysRoute(managers), async (c) => {
    const { organisation, skip, limit } = c.req.valid('query');
    const m = keyManager(c, organisation);
    if (!m.ok) return m.response as never;
    const keys = await sec.store.organisationKeys(m.organisation);
    const now = sec.now();
    return c.json(
      { items: keys.slice(skip, skip + limit).map((k) => view(k, now)), total: keys.length, skip, limit },
      200,
    );
  });

  app.openapi(createKeyRoute(managers), async (c) => {
    const { name, organisation } = c.req.valid('json');
    const m = keyManager(c, organisation);
    if (!m.ok) return m.response as never;
    try {
      const issued = await sec.issueKey(actorOf(c.get('principal')), m.organisation, name, requestMeta(c));
      return c.json({ ...view(issued.record, sec.now()), key: issued.key }, 201);
    } catch (err) {
      return failure(c, err);
    }
  });

  app.openapi(rotateKeyRoute(managers), async (c) => {
    const managed = await managedKey(c, c.req.valid('param').id);
    if (!managed.ok) return managed.response;
    const { key } = managed;
    // Without a body the validator is skipped (no Content-Type), so the default is applied here.
    const overlapSeconds = c.req.valid('json').overlapSeconds ?? DEFAULT_OVERLAP_SECONDS;
    if (key.revokedAt !== null)
      return reconixError(c, 'CONFLICT', 'a revoked key cannot be rotated; issue a new one');
    const rotated = await sec.rotateKey(actorOf(c.get('principal')), key, overlapSeconds, requestMeta(c));
    const now = sec.now();
    return c.json(
      { ...view(rotated.record, now), key: rotated.key, previous: view(rotated.previous, now) },
      201,
    );
  });

  app.openapi(revokeKeyRoute(managers), async (c) => {
    const managed = await managedKey(c, c.req.valid('param').id);
    if (!managed.ok) return managed.response;
    const revoked = await sec.revokeKey(actorOf(c.get('principal')), managed.key, requestMeta(c));
    return c.json(view(revoked, sec.now()), 200);
  });

  app.openapi(listOrganisationsRoute(readers), async (c) => {
    const { skip, limit } = c.req.valid('query');
    const orgs = await sec.store.organisations();
    return c.json({ items: orgs.slice(skip, skip + limit), total: orgs.length, skip, limit }, 200);
  });

  app.openapi(createOrganisationRoute(admins), async (c) => {
    try {
      const { operatorCode, ...rest } = c.req.valid('json');
      return c.json(
        await sec.createOrganisation(actorOf(c.get('principal')), {
          ...rest,
          operatorCode: operatorCode ?? null,
        }),
        201,
      );
    } catch (err) {
      return failure(c, err);
    }
  });

  app.openapi(createUserRoute(admins), async (c) => {
    const body = c.req.valid('json');
    try {
      const user = await sec.createUser(actorOf(c.get('principal')), {
        ...body,
        organisationId: body.organisation,
      });
      return c.json(
        { id: user.id, email: user.email, role: user.role, organisation: user.organisationId },
        201,
      );
    } catch (err) {
      return failure(c, err);
    }
  });

  app.openapi(updateUserRoute(admins), async (c) => {
    const { id } = c.req.valid('param');
    try {
      const user = await sec.updateUser(actorOf(c.get('principal')), id, c.req.valid('json'), requestMeta(c));
      return c.json(
        {
          id: user.id,
          organisation: user.organisationId,
          email: user.email,
          name: user.name,
          role: user.role,
          active: user.active,
        },
        200,
      );
    } catch (err) {
      return failure(c, err);
    }
  });

  app.openapi(deleteUserRoute(admins), async (c) => {
    const { id } = c.req.valid('param');
    try {
      await sec.deleteUser(actorOf(c.get('principal')), id, requestMeta(c));
      return c.json({ status: true, message: `user ${id} deleted; every session ended` }, 200);
    } catch (err) {
      return failure(c, err);
    }
  });
}
