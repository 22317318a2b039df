import { type DelinkAnswer, type DelinkOrder, lastFour } from './delink.ts';
import { DEFAULT_SOURCE_OPTIONS, SourceClient, type SourceClientOptions, SourceError } from './http.ts';

export interface NimcPerson {
  nin: string;
  firstName: string;
  surname: string;
  dateOfBirth: string;
}

export interface NimcNinRecord extends NimcPerson {
  /** The phone NIMC has the NIN linked to, canonical, or null. */
  phoneNumber: string | null;
}

type Options = Partial<Omit<SourceClientOptions, 'source' | 'baseUrl'>>;

/** NIMC's NIN verification service (the local simulator by default: config NIMC_URL). */
export class NimcClient {
  readonly http: SourceClient;

  constructor(baseUrl: string, options: Options = {}) {
    this.http = new SourceClient({ ...DEFAULT_SOURCE_OPTIONS, ...options, source: 'NIMC', baseUrl });
  }

  /** The holder of a NIN, or null when NIMC does not know it. */
  async verifyNin(raw: string): Promise<NimcNinRecord | null> {
    const res = await this.http.request('GET', `/nimc/v1/nin/${encodeURIComponent(raw)}`);
    if (res.status === 404) return null;
    const body = expectOk(res.status, res.body) as { phoneNumber?: unknown };
    if (!isPerson(body)) throw bad('NIN record');
    const { nin, firstName, surname, dateOfBirth } = body;
    const phoneNumber = typeof body.phoneNumber === 'string' ? body.phoneNumber : null;
    return { nin, firstName, surname, dateOfBirth, phoneNumber };
  }

  /** The NINs NIMC has linked to a canonical MSISDN (possibly none). */
  async ninsOfPhone(msisdn: string): Promise<NimcPerson[]> {
    const res = await this.http.request('GET', `/nimc/v1/phone/${encodeURIComponent(msisdn)}/nins`);
    const body = expectOk(res.status, res.body) as { nins?: unknown };
    if (!Array.isArray(body.nins) || !body.nins.every(isPerson)) throw bad('NIN list');
    return body.nins;
  }

  /**
   * Asks NIMC to unlink the NIN ending in the order's last four digits from the number. 202: it
   * will, and confirms with an UNLINK on its feed; 404/409/422: it will not, with its message.
   */
  async unlinkNin(order: DelinkOrder): Promise<DelinkAnswer> {
    const res = await this.http.request(
      'POST',
      `/nimc/v1/phone/${encodeURIComponent(order.msisdn)}/unlink`,
      { ninLast4: lastFour(order.masked), linkDate: order.linkDate, reason: order.reason },
      { 'idempotency-key': order.idempotencyKey },
    );
    const body = (typeof res.body === 'object' && res.body !== null ? res.body : {}) as {
      reference?: unknown;
      message?: unknown;
    };
    if (res.status === 202 || res.status === 200) {
      if (typeof body.reference !== 'string') throw bad('unlink answer');
      return { outcome: 'ACCEPTED', reference: body.reference };
    }
    if (res.status === 404 || res.status === 409 || res.status === 422) {
      const message = typeof body.message === 'string' ? body.message : `HTTP ${res.status}`;
      return { outcome: 'REFUSED', reason: `NIMC: ${message}` };
    }
    throw new SourceError(
      'NIMC',
      'bad-response',
      `NIMC answered HTTP ${res.status} to an unlink`,
      res.status,
    );
  }
}

function isPerson(v: unknown): v is NimcPerson {
  const p = v as Partial<NimcPerson> | null;
  return typeof p === 'object' && p !== null && typeof p.nin === 'string' && /^\d{11}$/.test(p.nin);
}

function expectOk(status: number, body: unknown): object {
  if (status !== 200 || typeof body !== 'object' || body === null) {
    throw new SourceError('NIMC', 'bad-response', `NIMC answered HTTP ${status}`, status);
  }
  return body;
}

const bad = (what: string) => new SourceError('NIMC', 'bad-response', `NIMC sent a malformed ${what}`);
