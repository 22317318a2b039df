import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../security/harness.ts';

// Reading people's data is an action: identity lookups and corroborate calls each leave an audit
// entry with who, which number or identifier (masked) and why, against the real stack.

let h: Harness;
let bankKey: string;
let adminToken: string;

interface AuditRow {
  actor: string;
  organisation: string | null;
  action: string;
  target: string | null;
  details: Record<string, unknown>;
}

async function eventually(action: string, ok: (rows: AuditRow[]) => boolean): Promise<AuditRow[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const res = await h.call('GET', `/api/v1/audit-logs?action=${action}&limit=100`, { token: adminToken });
    expect(res.status).toBe(200);
    const rows = ((await res.json()) as { items: AuditRow[] }).items;
    if (ok(rows) || Date.now() > deadline) return rows;
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  h = await createHarness('auditedreads');
  await h.organisation({ id: 'HUB', name: 'Hub', type: 'HUB' });
  bankKey = await h.organisation({ id: 'BANKA', name: 'Bank A', type: 'SERVICE_PROVIDER' });
  const admin = await h.user('HUB', 'Admin');
  adminToken = ((await (await h.login(admin.email, admin.password)).json()) as { access_token: string })
    .access_token;
  await h.startHistorySink();
});

afterAll(async () => {
  await h?.close();
});

describe('audited identity reads', () => {
  it('records a NIN lookup with the caller, the masked NIN and the stated purpose, never the raw NIN', async () => {
    const res = await h.call('POST', '/api/v1/lookups/nin', {
      token: bankKey,
      body: { nin: '12345678901', purpose: 'onboarding KYC' },
    });
    expect(res.status).toBe(200);
    const rows = await eventually('IDENTITY_LOOKUP', (r) => r.some((x) => x.target === 'nin:*******8901'));
    const row = rows.find((x) => x.target === 'nin:*******8901');
    expect(row).toBeDefined();
    expect(row?.organisation).toBe('BANKA');
    expect(row?.details).toMatchObject({
      operation: 'lookup by nin',
      purpose: 'onboarding KYC',
      found: false,
    });
    expect(JSON.stringify(rows)).not.toContain('12345678901');
  });

  it('records a phone lookup and a BVN lookup', async () => {
    expect(
      (await h.call('POST', '/api/v1/lookups/phone', { token: bankKey, body: { phone: '08031234567' } }))
        .status,
    ).toBe(200);
    expect(
      (await h.call('POST', '/api/v1/lookups/bvn', { token: bankKey, body: { bvn: '22165416979' } })).status,
    ).toBe(200);
    const rows = await eventually(
      'IDENTITY_LOOKUP',
      (r) =>
        r.some((x) => x.target === 'msisdn:+2348031234567') && r.some((x) => x.target === 'bvn:*******6979'),
    );
    expect(rows.find((x) => x.target === 'msisdn:+2348031234567')?.details).toMatchObject({
      operation: 'lookup by phone',
      purpose: null,
    });
    expect(rows.some((x) => x.target === 'bvn:*******6979')).toBe(true);
  });

  it('records a corroborate call, whatever the sources answered', async () => {
    const res = await h.call(
      'GET',
      '/api/v1/identity/corroborate?msisdn=08031234568&purpose=fraud%20review',
      {
        token: adminToken,
      },
    );
    expect(res.status).toBe(200);
    const rows = await eventually('IDENTITY_CORROBORATE', (r) =>
      r.some((x) => x.target === 'msisdn:+2348031234568'),
    );
    const row = rows.find((x) => x.target === 'msisdn:+2348031234568');
    expect(row?.actor).toMatch(/^user:/);
    expect(row?.details).toMatchObject({
      operation: 'corroborate with NIMC and NIBSS',
      purpose: 'fraud review',
    });
  });

  it('answers 400 naming purpose when it is empty or too long', async () => {
    const res = await h.call('POST', '/api/v1/lookups/nin', {
      token: bankKey,
      body: { nin: '12345678901', purpose: 'x'.repeat(201) },
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain('purpose');
  });
});
