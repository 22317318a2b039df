import { normaliseMsisdn } from '@hub/schemas';
import { Hono } from 'hono';
import { ADMIN_PATH, Faults } from './faults.ts';
import type { IdentityIndex } from './identities.ts';

/** Base path of the simulated NIMC verification service. */
export const NIMC_BASE = '/nimc/v1';

/**
 * A stand-in for NIMC's NIN verification service: a NIN → its holder and linked phone (404 when
 * unknown), and the NINs linked to a phone number — the question the hub can ask without holding
 * raw NINs.
 */
export function createNimcSimulator(index: IdentityIndex, faults = new Faults()): Hono {
  const app = new Hono();
  app.get('/health', (c) => c.json({ status: 'ok', nins: Object.keys(index.seed.nins).length }));
  app.all(ADMIN_PATH, (c) => faults.admin(c));
  app.use(`${NIMC_BASE}/*`, faults.middleware());

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
