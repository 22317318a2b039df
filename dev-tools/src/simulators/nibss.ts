import { normaliseMsisdn } from '@hub/schemas';
import { Hono } from 'hono';
import { DELINK_ADMIN_PATH, DelinkDesk } from './delink.ts';
import { ADMIN_PATH, Faults } from './faults.ts';
import type { IdentityIndex } from './identities.ts';

/** NIP name-enquiry response codes the simulator uses (NIBSS NIP codes). */
export const NIP_CODES = {
  '00': 'Approved or completed successfully',
  '07': 'Invalid Account',
  '25': 'Unable to locate record',
  '63': 'Security violation',
  '91': 'Beneficiary Bank not available',
} as const;
export type NipCode = keyof typeof NIP_CODES;

export interface NibssCredentials {
  userName: string;
  password: string;
}

/** BVN lookups live under this base; the NIP call keeps the document's path. */
export const NIBSS_BVN_BASE = '/bvn/v1';
export const NIP_PATH = '/postingrest/GetNIPAccount';

/** KYC tier 1–3, fixed per BVN so repeated enquiries agree. */
export function kycLevelOf(bvn: string): string {
  return String((Number(bvn.slice(-1)) % 3) + 1);
}

/**
 * A stand-in for NIBSS: the NIP name enquiry (GetNIPAccount, as the merchant API document shows it:
 * account number and bank code → account name, BVN, response code), a BVN lookup, and the BVNs
 * registered with a phone number.
 */
export function createNibssSimulator(
  index: IdentityIndex,
  faults = new Faults(),
  credentials: NibssCredentials = { userName: 'test', password: 'test' },
  desk = new DelinkDesk('NIBSS', null),
): Hono {
  const app = new Hono();
  app.get('/health', (c) => c.json({ status: 'ok', bvns: Object.keys(index.seed.bvns).length }));
  app.all(ADMIN_PATH, (c) => faults.admin(c));
  app.all(DELINK_ADMIN_PATH, (c) => desk.admin(c));
  app.use(`${NIBSS_BVN_BASE}/*`, faults.middleware());
  app.use(NIP_PATH, faults.middleware());

  // Delink: unlink the BVN ending in bvnLast4 from the phone; 202 now, the UNLINK on the feed later.
  app.post(`${NIBSS_BVN_BASE}/phone/:msisdn/unlink`, async (c) => {
    const check = normaliseMsisdn(c.req.param('msisdn'));
    if (!check.ok) return c.json({ responseCode: '07', message: `phone number ${check.reason}` }, 400);
    const key = c.req.header('idempotency-key');
    if (!key || key.length > 200)
      return c.json({ responseCode: '07', message: 'Idempotency-Key header is required' }, 400);
    const body = (await c.req.json().catch(() => null)) as Record<string, unknown> | null;
    if (body?.userName !== credentials.userName || body?.password !== credentials.password)
      return c.json({ responseCode: '63', message: NIP_CODES['63'] }, 401);
    const last4 = body.bvnLast4;
    if (typeof last4 !== 'string' || !/^\d{4}$/.test(last4))
      return c.json({ responseCode: '07', message: 'bvnLast4 must be 4 digits' }, 400);
    const msisdn = check.msisdn;
    const answer = desk.handle(
      key,
      msisdn,
      () => index.bvnsOfPhone(msisdn).find((bvn) => bvn.endsWith(last4)) ?? null,
      (bvn) => index.unlinkBvn(msisdn, bvn),
      'bvn',
    );
    await desk.answerDelay();
    return c.json(answer.body, answer.status);
  });

  app.post(NIP_PATH, async (c) => {
    let body: Record<string, unknown>;
    try {
      const parsed: unknown = await c.req.json();
      body = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
    } catch {
      body = {};
    }
    const accountNumber = typeof body.accountNumber === 'string' ? body.accountNumber : '';
    const bankCode = typeof body.beneficiaryBank === 'string' ? body.beneficiaryBank : '';
    const answer = (code: NipCode, found?: { accountName: string; bvn: string; kycLevel: string }) =>
      c.json({
        bankCode,
        accountName: found?.accountName ?? '',
        transactionReference: '',
        bvn: found?.bvn ?? '',
        kycLevel: found?.kycLevel ?? '',
        responseMessage: NIP_CODES[code],
        accountNumber,
        responseCode: code,
      });
    if (body.userName !== credentials.userName || body.password !== credentials.password) return answer('63');
    if (!/^\d{10}$/.test(accountNumber)) return answer('07');
    if (!/^\d{3,6}$/.test(bankCode)) return answer('91');
    // Okra's sandbox switches (success, no_bvn), which the hub forwards only to this simulator.
    const sandbox = (typeof body.sandbox === 'object' && body.sandbox !== null ? body.sandbox : {}) as {
      success?: unknown;
      no_bvn?: unknown;
    };
    if (sandbox.success === false) return answer('25');
    const bvn = index.bvnOfAccount(bankCode, accountNumber);
    const holder = bvn === undefined ? undefined : index.bvn(bvn);
    if (!bvn || !holder) {
      if (sandbox.success === true)
        return answer('00', { accountName: 'SANDBOX, ACCOUNT HOLDER', bvn: '', kycLevel: '1' });
      return answer('25');
    }
    return answer('00', {
      accountName: `${holder.surname.toUpperCase()}, ${holder.firstName.toUpperCase()}`,
      bvn: sandbox.no_bvn === true ? '' : bvn,
      kycLevel: kycLevelOf(bvn),
    });
  });

  app.get(`${NIBSS_BVN_BASE}/bvn/:bvn`, (c) => {
    const bvn = c.req.param('bvn');
    if (!/^\d{11}$/.test(bvn)) return c.json({ responseCode: '07', message: 'BVN must be 11 digits' }, 400);
    const holder = index.bvn(bvn);
    if (!holder) return c.json({ responseCode: '25', message: 'Unable to locate record' }, 404);
    return c.json({ responseCode: '00', ...bvnRecord(bvn, holder) });
  });

  app.get(`${NIBSS_BVN_BASE}/phone/:msisdn/bvns`, (c) => {
    const check = normaliseMsisdn(c.req.param('msisdn'));
    if (!check.ok) return c.json({ responseCode: '07', message: `phone number ${check.reason}` }, 400);
    const bvns = index.bvnsOfPhone(check.msisdn).map((bvn) => bvnRecord(bvn, index.bvn(bvn)!));
    return c.json({ responseCode: '00', phoneNumber: check.msisdn, bvns });
  });
  return app;
}

function bvnRecord(bvn: string, holder: NonNullable<ReturnType<IdentityIndex['bvn']>>) {
  return {
    bvn,
    nin: holder.nin,
    firstName: holder.firstName,
    surname: holder.surname,
    dateOfBirth: holder.dateOfBirth,
    phoneNumber: holder.msisdn,
    kycLevel: kycLevelOf(bvn),
    accounts: holder.accounts.length,
  };
}
