import { normaliseMsisdn } from '@hub/schemas';
import { Hono } from 'hono';
import { DELINK_ADMIN_PATH, DelinkDesk } from './delink.ts';
import { ADMIN_PATH, Faults } from './faults.ts';
import type { IdentityIndex } from './identities.ts';

/** Base path of the simulated NIMC verification service. */
export const NIMC_BASE = '/nimc/v1';

/**
 * A stand-in for NIMC's NIN verification service: a NIN → its holder and linked phone (404 when
 * unknown), and the NINs linked to a phone number — the question the hub can ask without holding
 * raw NINs.
 */
export function createNimcSimulator(
  index: IdentityIndex,
  faults = new Faults(),
  desk = new DelinkDesk('NIMC', null),
): Hono {
  const app = new Hono();
  app.get('/health', (c) => c.json({ status: 'ok', nins: Object.keys(index.seed.nins).length }));
  app.all(ADMIN_PATH, (c) => faults.admin(c));
  app.all(DELINK_ADMIN_PATH, (c) => desk.admin(c));
  app.use(`${NIMC_BASE}/*`, faults.middleware());

  // Delink: unlink the NIN ending in ninLast4 from the phone; 202 now, the UNLINK on the feed later.
  app.post(`${NIMC_BASE}/phone/:msisdn/unlink`, async (c) => {
    const check = normaliseMsisdn(c.req.param('msisdn'));
    if (!check.ok) return c.json({ status: 'error', message: `phone number ${check.reason}` }, 400);
    const key = c.req.header('idempotency-key');
    if (!key || key.length > 200)
      return c.json({ status: 'error', message: 'Idempotency-Key header is required' }, 400);
    const body = (await c.req.json().catch(() => null)) as { ninLast4?: unknown } | null;
    const last4 = body?.ninLast4;
    if (typeof last4 !== 'string' || !/^\d{4}$/.test(last4))
      return c.json({ status: 'error', message: 'ninLast4 must be 4 digits' }, 400);
    const msisdn = check.msisdn;
    const answer = desk.handle(
      key,
      msisdn,
      () => index.ninsOfPhone(msisdn).find((nin) => nin.endsWith(last4)) ?? null,
      (nin) => index.unlinkNin(msisdn, nin),
      'nin',
    );
    await desk.answerDelay();
    return c.json(answer.body, answer.status);
  });

  app.get(`${NIMC_BASE}/nin/:nin`, (c) => {
    const nin = c.req.param('nin');
    if (!/^\d{11}$/.test(nin)) return c.json({ status: 'error', message: 'NIN must be 11 digits' }, 400);
    const person = index.person(nin);
    if (!person) return c.json({ status: 'not_found', message: 'NIN not found' }, 404);
    return c.json({
      status: 'found',
      nin,
      firstName: person.firstName,
      surname: person.surname,
      dateOfBirth: person.dateOfBirth,
      phoneNumber: person.msisdn,
    });
  });

  app.get(`${NIMC_BASE}/phone/:msisdn/nins`, (c) => {
    const check = normaliseMsisdn(c.req.param('msisdn'));
    if (!check.ok) return c.json({ status: 'error', message: `phone number ${check.reason}` }, 400);
    const nins = index.ninsOfPhone(check.msisdn).map((nin) => {
      const p = index.person(nin)!;
      return { nin, firstName: p.firstName, surname: p.surname, dateOfBirth: p.dateOfBirth };
    });
    return c.json({ status: 'found', phoneNumber: check.msisdn, nins });
  });
  return app;
}
