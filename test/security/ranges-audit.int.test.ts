import { prefixesOf } from '@hub/schemas';
import { emptyRecord, encodeState, stateSlot } from '@hub/state';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from './harness.ts';

const TIRMS = '/api/v1/phone/api';
const numberOf = (operator: string, suffix: string) =>
  `234${prefixesOf(operator)[0]}${suffix}`.slice(0, 13).padEnd(13, '0');
const MTN_NUMBER = numberOf('MTN', '1234567');
const GLO_NUMBER = numberOf('GLO', '7654321');
const PORTED_NUMBER = numberOf('GLO', '1111111');

const update = (phoneNumber: string) => ({
  status: 'BARRED',
  phoneNumber,
  reassignmentDate: '2025-09-15',
  occurrenceOfStatusDate: '2025-09-15',
  remarks: 'test',
});

let h: Harness;
let mtnKey: string;
let adminToken: string;

interface AuditPage {
  items: {
    actor: string;
    organisation: string | null;
    action: string;
    target: string | null;
    outcome: string;
    details: Record<string, unknown>;
  }[];
  total: number;
  skip: number;
  limit: number;
}

async function auditLogs(query: string): Promise<AuditPage> {
  const res = await h.call('GET', `/api/v1/audit-logs?${query}`, { token: adminToken });
  expect(res.status).toBe(200);
  return (await res.json()) as AuditPage;
}

/** Audit rows reach ClickHouse through Kafka and the history sink: poll until `ok`. */
async function eventually(query: string, ok: (p: AuditPage) => boolean): Promise<AuditPage> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const page = await auditLogs(query);
    if (ok(page) || Date.now() > deadline) return page;
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  h = await createHarness('ranges');
  await h.organisation({ id: 'HUB', name: 'Hub', type: 'HUB' });
  mtnKey = await h.organisation({ id: 'MTN', name: 'MTN', type: 'OPERATOR', operatorCode: 'MTN' });
  const admin = await h.user('HUB', 'Admin');
  adminToken = ((await (await h.login(admin.email, admin.password)).json()) as { access_token: string })
    .access_token;
  // A GLO-allocated number whose current state says MTN serves it (ported in).
  const record = { ...emptyRecord(), operator: 'MTN' };
  const slot = stateSlot(h.config.REDIS_KEY_PREFIX, PORTED_NUMBER);
  await h.resources.ctx.redis.hset(slot.key, slot.field, encodeState(record));
  await h.startHistorySink();
});

afterAll(async () => {
  await h?.close();
});

describe('operator ranges', () => {
  it('accepts an update for a number in the operator’s allocated ranges', async () => {
    const res = await h.call('PUT', `${TIRMS}/phone-numbers/status`, {
      token: mtnKey,
      body: update(MTN_NUMBER),
    });
    expect(res.status).toBe(200);
  });

  it('refuses a number allocated to another operator with 403', async () => {
    const res = await h.call('PUT', `${TIRMS}/phone-numbers/status`, {
      token: mtnKey,
      body: update(GLO_NUMBER),
    });
    expect(res.status).toBe(403);
    const body = (await res.json()) as { data: { message: string } };
    expect(body.data.message).toContain('allocated to GLO');
  });

  it('accepts a number ported in: its current state names the operator as serving it', async () => {
    const res = await h.call('PUT', `${TIRMS}/phone-numbers/status`, {
      token: mtnKey,
      body: update(PORTED_NUMBER),
    });
    expect(res.status).toBe(200);
  });

  it('rejects out-of-range records one by one in a bulk request and accepts the rest', async () => {
    const res = await h.call('PUT', `${TIRMS}/phone-numbers/status/bulk`, {
      token: mtnKey,
      body: [update(MTN_NUMBER), update(GLO_NUMBER), update(PORTED_NUMBER)],
    });
    expect(res.status).toBe(202);
    const link = ((await res.json()) as { data: { link: string } }).data.link;
    const report = (await (await h.call('GET', link, { token: mtnKey })).json()) as {
      data: { accepted: number; rejected: number; rejections: { index: number; field: string }[] };
    };
    expect(report.data).toMatchObject({ accepted: 2, rejected: 1 });
    expect(report.data.rejections).toEqual([expect.objectContaining({ index: 1, field: 'phoneNumber' })]);
  });
});

describe('audit trail', () => {
  it('records status updates, range denials, bulk uploads, logins and key creation in ClickHouse', async () => {
    const denied = await eventually('action=STATUS_UPDATE&outcome=DENIED', (p) => p.total >= 1);
    expect(denied.items[0]).toMatchObject({ organisation: 'MTN', target: GLO_NUMBER, outcome: 'DENIED' });
    expect((await eventually('action=STATUS_UPDATE&outcome=SUCCESS', (p) => p.total >= 2)).total).toBe(2);
    const bulk = await eventually('action=BULK_STATUS_UPDATE', (p) => p.total >= 1);
    expect(bulk.items[0]?.details).toMatchObject({ accepted: 2, rejected: 1, outOfRange: 1 });
    expect(
      (await eventually('action=LOGIN&outcome=SUCCESS', (p) => p.total >= 1)).total,
    ).toBeGreaterThanOrEqual(1);
    expect((await eventually('action=API_KEY_CREATED', (p) => p.total >= 2)).total).toBe(2);
  });

  it('names e-mail addresses by a pseudonym, never the address, and finds them by the address', async () => {
    const address = 'Someone.Unknown@Example.test';
    expect((await h.login(address, 'not the password')).status).toBe(401);
    const byTarget = await eventually(
      `action=LOGIN&target=${encodeURIComponent(address)}`,
      (p) => p.total >= 1,
    );
    expect(byTarget.items[0]).toMatchObject({
      actor: expect.stringMatching(/^email:[0-9a-f]{16}$/),
      target: expect.stringMatching(/^email:[0-9a-f]{16}$/),
      outcome: 'FAILURE',
    });
    expect(byTarget.items[0]?.target).toBe(byTarget.items[0]?.actor);
    const byActor = await auditLogs(`actor=${encodeURIComponent(`email:${address.toLowerCase()}`)}`);
    expect(byActor.total).toBe(byTarget.total);
    const everything = await auditLogs('limit=100');
    expect(JSON.stringify(everything.items)).not.toMatch(/@/);
  });

  it('pages with {items,total,skip,limit} and filters by actor and date range', async () => {
    const all = await eventually('limit=2', (p) => p.total >= 5);
    expect(all.items).toHaveLength(2);
    expect(all).toMatchObject({ skip: 0, limit: 2 });
    const today = new Date().toISOString().slice(0, 10);
    expect((await auditLogs(`from=${today}&to=${today}&limit=100`)).total).toBe(all.total);
    expect((await auditLogs('to=2000-01-01')).total).toBe(0);
    const actor = all.items[0]?.actor ?? '';
    const byActor = await auditLogs(`actor=${encodeURIComponent(actor)}&limit=100`);
    expect(byActor.items.every((i) => i.actor === actor)).toBe(true);
    // Values reach SQL escaped: an injection attempt is just an actor nobody is.
    expect((await auditLogs(`actor=${encodeURIComponent("x' OR 1=1 --")}`)).total).toBe(0);
  });

  it('answers 400 to an unknown outcome or a malformed date', async () => {
    expect((await h.call('GET', '/api/v1/audit-logs?outcome=MAYBE', { token: adminToken })).status).toBe(400);
    expect((await h.call('GET', '/api/v1/audit-logs?from=yesterday', { token: adminToken })).status).toBe(
      400,
    );
  });

  it('offers no way to change or delete an audit record', async () => {
    const before = (await auditLogs('limit=1')).total;
    const id = 'any-record';
    for (const [method, path] of [
      ['PUT', '/api/v1/audit-logs'],
      ['PATCH', '/api/v1/audit-logs'],
      ['DELETE', '/api/v1/audit-logs'],
      ['POST', '/api/v1/audit-logs'],
      ['DELETE', `/api/v1/audit-logs/${id}`],
      ['PATCH', `/api/v1/audit-logs/${id}`],
    ] as const) {
      const res = await h.call(method, path, { token: adminToken, body: {} });
      expect([404, 405]).toContain(res.status);
    }
    expect((await auditLogs('limit=1')).total).toBeGreaterThanOrEqual(before);
  });
});
