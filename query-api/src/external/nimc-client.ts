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
