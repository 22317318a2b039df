import { createRoute, z } from '@hono/zod-openapi';
import {
  actorOf,
  type Principal,
  ReconixErrorBody,
  ROLES,
  readJsonBody,
  reconixError,
  requireAuth,
  summarise,
} from '@hub/ingest';
import { type ApiKeyRecord, requestMeta, SecurityError } from '@hub/security';
import type { Context } from 'hono';
import type { ApiApp, ApiContext, ApiEnv } from '../context.ts';
import { pageParams } from '../pagination.ts';

const BODY_BYTES = 16 * 1024;
const MAX_OVERLAP_SECONDS = 7 * 24 * 3600;

// The one Reconix error body, with the runtime's code enum.
const ErrorBody = ReconixErrorBody;
const errorContent = { 'application/json': { schema: ErrorBody } };
const security = [{ Bearer: [] }];
const denied = {
  401: { description: 'Missing or invalid credentials', content: errorContent },
  403: { description: 'Role not allowed', content: errorContent },
} as const;

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
    overlapSeconds: z.number().int().min(0).max(MAX_OVERLAP_SECONDS).default(3600).openapi({
      description: 'How long the old key keeps working after rotation',
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

const listKeys = createRoute({
  method: 'get',
  path: '/api/v1/api-keys',
  tags: ['API keys'],
  summary: "List an organisation's API keys (never the keys themselves)",
  security,
  request: {
    query: z.object({
      organisation: z.string().optional(),
      skip: z.string().optional(),
      limit: z.string().optional(),
    }),
  },
  responses: {
    200: {
      description: 'Page of keys',
      content: {
        'application/json': {
          schema: z.object({
            items: z.array(ApiKeyView),
            total: z.number(),
            skip: z.number(),
            limit: z.number(),
          }),
        },
      },
    },
    ...denied,
  },
});
const createKey = createRoute({
  method: 'post',
  path: '/api/v1/api-keys',
  tags: ['API keys'],
  summary: 'Generate an API key for the organisation (signed-in organisation admins and hub Admins)',
  security,
  request: { body: { content: { 'application/json': { schema: CreateKey } }, required: true } },
  responses: {
    201: {
      description: 'Issued; the key is in this answer only',
      content: { 'application/json': { schema: IssuedKey } },
    },
    ...denied,
  },
});
const rotateKey = createRoute({
  method: 'post',
  path: '/api/v1/api-keys/{id}/rotate',
  tags: ['API keys'],
  summary: 'Issue a successor key; the old one keeps working for overlapSeconds',
  security,
  request: {
    params: z.object({ id: z.string() }),
    body: { content: { 'application/json': { schema: RotateKey } } },
  },
  responses: {
    201: {
      description: 'Successor issued',
      content: { 'application/json': { schema: IssuedKey.extend({ previous: ApiKeyView }) } },
    },
    ...denied,
    404: { description: 'No such key in the organisation', content: errorContent },
  },
});
const revokeKey = createRoute({
  method: 'delete',
  path: '/api/v1/api-keys/{id}',
  tags: ['API keys'],
  summary: 'Revoke a key with immediate effect',
  security,
  request: { params: z.object({ id: z.string() }) },
  responses: {
    200: { description: 'Revoked', content: { 'application/json': { schema: ApiKeyView } } },
    ...denied,
    404: { description: 'No such key in the organisation', content: errorContent },
  },
});
const listOrganisations = createRoute({
  method: 'get',
  path: '/api/v1/organisations',
  tags: ['Organisations'],
  summary: 'List organisations (Admin, Auditor)',
  security,
  request: { query: z.object({ skip: z.string().optional(), limit: z.string().optional() }) },
  responses: {
    200: {
      description: 'Page of organisations',
      content: {
        'application/json': {
          schema: z.object({
            items: z.array(OrganisationBody),
            total: z.number(),
            skip: z.number(),
            limit: z.number(),
          }),
        },
      },
    },
    ...denied,
  },
});
const createOrganisation = createRoute({
  method: 'post',
  path: '/api/v1/organisations',
  tags: ['Organisations'],
  summary: 'Register an organisation (Admin)',
  security,
  request: { body: { content: { 'application/json': { schema: OrganisationBody } }, required: true } },
  responses: {
    201: { description: 'Registered', content: { 'application/json': { schema: OrganisationBody } } },
    ...denied,
  },
});
const createUser = createRoute({
  method: 'post',
  path: '/api/v1/users',
  tags: ['Organisations'],
  summary: 'Create a user of an organisation (Admin)',
  security,
  request: { body: { content: { 'application/json': { schema: UserBody } }, required: true } },
  responses: {
    201: {
      description: 'Created',
      content: {
        'application/json': { schema: z.object({ id: z.string(), email: z.string(), role: z.string() }) },
      },
    },
    ...denied,
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
const UserId = z.object({ id: z.string().min(1).max(64).openapi({ description: 'User id' }) });
const updateUser = createRoute({
  method: 'patch',
  path: '/api/v1/users/{id}',
  tags: ['Organisations'],
  summary: "Change a user's role or disable them (Admin); either ends every session of the user",
  security,
  request: {
    params: UserId,
    body: { content: { 'application/json': { schema: UserChangeBody } }, required: true },
  },
  responses: {
    200: { description: 'Changed', content: { 'application/json': { schema: UserView } } },
    400: { description: 'Invalid body or a role the organisation type does not hold', content: errorContent },
    ...denied,
    404: { description: 'No such user', content: errorContent },
  },
});
const deleteUser = createRoute({
  method: 'delete',
  path: '/api/v1/users/{id}',
  tags: ['Organisations'],
  summary: 'Delete a user (Admin): a tombstone on the accounts topic, every session ends',
  security,
  request: { params: UserId },
  responses: {
    200: {
      description: 'Deleted',
      content: { 'application/json': { schema: z.object({ status: z.boolean(), message: z.string() }) } },
    },
    ...denied,
    404: { description: 'No such user', content: errorContent },
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

async function body<T extends z.ZodType>(
  c: Context<ApiEnv>,
  schema: T,
  optional = false,
): Promise<{ ok: true; value: z.infer<T> } | { ok: false; response: Response }> {
  let value: unknown = {};
  if (!optional || c.req.header('content-length') !== undefined || c.req.header('content-type')) {
    const read = await readJsonBody(c, BODY_BYTES);
    if (!read.ok) return { ok: false, response: reconixError(c, read.code, read.message) };
    value = read.value;
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const errors = parsed.error.issues.map((i) => ({
      field: i.path.join('.') || 'body',
      message: i.message,
    }));
    return { ok: false, response: reconixError(c, 'VALIDATION_ERROR', summarise(errors), errors) };
  }
  return { ok: true, value: parsed.data };
}

function failure(c: Context<ApiEnv>, err: unknown) {
  if (!(err instanceof SecurityError)) throw err;
  return reconixError(c, err.code, err.message);
}

/** Keys are managed by people only: a leaked key must not be able to mint or keep keys alive. */
function keyManager(
  c: Context<ApiEnv>,
  requested: string | undefined,
): { ok: true; organisation: string } | { ok: false; response: Response } {
  const p: Principal = c.get('principal');
  if (!p.userId)
    return {
      ok: false,
      response: reconixError(c, 'FORBIDDEN', 'API keys are managed by signed-in people, not by API keys'),
    };
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
  for (const r of [
    listKeys,
    createKey,
    rotateKey,
    revokeKey,
    listOrganisations,
    createOrganisation,
    createUser,
    updateUser,
    deleteUser,
  ])
    app.openAPIRegistry.registerPath(r);
  const { security: sec } = ctx;
  const managers = requireAuth<ApiEnv>(ctx.ingest, { roles: ['Admin', 'Operator', 'ServiceProvider'] });
  const admins = requireAuth<ApiEnv>(ctx.ingest, { roles: ['Admin'] });
  const readers = requireAuth<ApiEnv>(ctx.ingest, { roles: ['Admin', 'Auditor'] });

  /** The key `id` when the caller may manage it; someone else's key is reported as absent. */
  async function managedKey(c: Context<ApiEnv>, id: string): Promise<ApiKeyRecord | Response> {
    const m = keyManager(c, undefined);
    if (!m.ok) return m.response;
    const key = await sec.store.apiKeyById(id);
    const isAdmin = c.get('principal').roles?.includes('Admin') ?? false;
    if (!key || (!isAdmin && key.organisationId !== m.organisation))
      return reconixError(c, 'NOT_FOUND', `no API key ${id}`);
    return key;
  }

  app.get(listKeys.path, managers, async (c) => {
    const m = keyManager(c, c.req.query('organisation'));
    if (!m.ok) return m.response;
    const page = pageParams(c.req.query());
    if (!page.ok) return reconixError(c, 'VALIDATION_ERROR', summarise(page.errors), page.errors);
    const keys = await sec.store.organisationKeys(m.organisation);
    const now = sec.now();
    return c.json(
      {
        items: keys.slice(page.skip, page.skip + page.limit).map((k) => view(k, now)),
        total: keys.length,
        skip: page.skip,
        limit: page.limit,
      },
      200,
    );
  });

  app.post(createKey.path, managers, async (c) => {
    const caller = keyManager(c, undefined);
    if (!caller.ok) return caller.response;
    const b = await body(c, CreateKey);
    if (!b.ok) return b.response;
    const m = keyManager(c, b.value.organisation);
    if (!m.ok) return m.response;
    try {
      const issued = await sec.issueKey(
        actorOf(c.get('principal')),
        m.organisation,
        b.value.name,
        requestMeta(c),
      );
      return c.json({ ...view(issued.record, sec.now()), key: issued.key }, 201);
    } catch (err) {
      return failure(c, err);
    }
  });

  app.post('/api/v1/api-keys/:id/rotate', managers, async (c) => {
    const key = await managedKey(c, c.req.param('id'));
    if (key instanceof Response) return key;
    const b = await body(c, RotateKey, true);
    if (!b.ok) return b.response;
    if (key.revokedAt !== null)
      return reconixError(c, 'CONFLICT', 'a revoked key cannot be rotated; issue a new one');
    const rotated = await sec.rotateKey(
      actorOf(c.get('principal')),
      key,
      b.value.overlapSeconds,
      requestMeta(c),
    );
    const now = sec.now();
    return c.json(
      { ...view(rotated.record, now), key: rotated.key, previous: view(rotated.previous, now) },
      201,
    );
  });

  app.delete('/api/v1/api-keys/:id', managers, async (c) => {
    const key = await managedKey(c, c.req.param('id'));
    if (key instanceof Response) return key;
    const revoked = await sec.revokeKey(actorOf(c.get('principal')), key, requestMeta(c));
    return c.json(view(revoked, sec.now()), 200);
  });

  app.get(listOrganisations.path, readers, async (c) => {
    const page = pageParams(c.req.query());
    if (!page.ok) return reconixError(c, 'VALIDATION_ERROR', summarise(page.errors), page.errors);
    const orgs = await sec.store.organisations();
    return c.json(
      {
        items: orgs.slice(page.skip, page.skip + page.limit),
        total: orgs.length,
        skip: page.skip,
        limit: page.limit,
      },
      200,
    );
  });

  app.post(createOrganisation.path, admins, async (c) => {
    const b = await body(c, OrganisationBody);
    if (!b.ok) return b.response;
    try {
      const { operatorCode, ...rest } = b.value;
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

  app.post(createUser.path, admins, async (c) => {
    const b = await body(c, UserBody);
    if (!b.ok) return b.response;
    try {
      const user = await sec.createUser(actorOf(c.get('principal')), {
        ...b.value,
        organisationId: b.value.organisation,
      });
      return c.json(
        { id: user.id, email: user.email, role: user.role, organisation: user.organisationId },
        201,
      );
    } catch (err) {
      return failure(c, err);
    }
  });

  app.patch('/api/v1/users/:id', admins, async (c) => {
    const id = UserId.safeParse({ id: c.req.param('id') });
    if (!id.success) return reconixError(c, 'VALIDATION_ERROR', 'id: must be 1-64 characters');
    const b = await body(c, UserChangeBody);
    if (!b.ok) return b.response;
    try {
      const user = await sec.updateUser(actorOf(c.get('principal')), id.data.id, b.value, requestMeta(c));
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

  app.delete('/api/v1/users/:id', admins, async (c) => {
    const id = UserId.safeParse({ id: c.req.param('id') });
    if (!id.success) return reconixError(c, 'VALIDATION_ERROR', 'id: must be 1-64 characters');
    try {
      await sec.deleteUser(actorOf(c.get('principal')), id.data.id, requestMeta(c));
      return c.json({ status: true, message: `user ${id.data.id} deleted; every session ended` }, 200);
    } catch (err) {
      return failure(c, err);
    }
  });
}
