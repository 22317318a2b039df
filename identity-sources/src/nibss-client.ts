import { type DelinkAnswer, type DelinkOrder, lastFour } from './delink.ts';
import { DEFAULT_SOURCE_OPTIONS, SourceClient, type SourceClientOptions, SourceError } from './http.ts';

export interface NibssBvnRecord {
  bvn: string;
  /** NIN of the BVN's holder, when NIBSS has it. */
  nin: string | null;
  firstName: string;
  surname: string;
  dateOfBirth: string;
  phoneNumber: string | null;
  kycLevel: string | null;
}

/** GetNIPAccount's answer, as the NIP name-enquiry document shapes it. */
export interface NipAccount {
  bankCode: string;
  accountName: string;
  transactionReference: string;
  bvn: string;
  kycLevel: string;
  responseMessage: string;
  accountNumber: string;
  responseCode: string;
}

type Options = Partial<Omit<SourceClientOptions, 'source' | 'baseUrl'>> & {
  /** NIP credentials sent in the request body, as the document does (config NIBSS_USERNAME/PASSWORD). */
  credentials: { userName: string; password: string };
};

/** NIBSS: NIP name enquiry and BVN lookups (the local simulator by default: config NIBSS_URL). */
export class NibssClient {
  readonly http: SourceClient;
  private readonly credentials: { userName: string; password: string };

  constructor(baseUrl: string, options: Options) {
    const { credentials, ...rest } = options;
    this.http = new SourceClient({ ...DEFAULT_SOURCE_OPTIONS, ...rest, source: 'NIBSS', baseUrl });
    this.credentials = credentials;
  }

  /**
   * Asks NIBSS to unlink the BVN ending in the order's last four digits from the number. 202
   * (responseCode 00): it will, and confirms with an UNLINK on its feed; 404/409/422: it will not.
   */
  async unlinkBvn(order: DelinkOrder): Promise<DelinkAnswer> {
    const res = await this.http.request(
      'POST',
      `/bvn/v1/phone/${encodeURIComponent(order.msisdn)}/unlink`,
      {
        bvnLast4: lastFour(order.masked),
        linkDate: order.linkDate,
        reason: order.reason,
        ...this.credentials,
      },
      { 'idempotency-key': order.idempotencyKey },
    );
    const body = (typeof res.body === 'object' && res.body !== null ? res.body : {}) as {
      reference?: unknown;
      message?: unknown;
      responseCode?: unknown;
    };
    if (res.status === 202 || res.status === 200) {
      if (typeof body.reference !== 'string') throw bad('unlink answer');
      return { outcome: 'ACCEPTED', reference: body.reference };
    }
    if (res.status === 404 || res.status === 409 || res.status === 422) {
      const message = typeof body.message === 'string' ? body.message : `HTTP ${res.status}`;
      const code = typeof body.responseCode === 'string' ? ` (${body.responseCode})` : '';
      return { outcome: 'REFUSED', reason: `NIBSS${code}: ${message}` };
    }
    throw new SourceError(
      'NIBSS',
      'bad-response',
      `NIBSS answered HTTP ${res.status} to an unlink`,
      res.status,
    );
  }

  /**
   * Name enquiry: '00' with the account name and BVN, '25' when the account is unknown, etc.
   * `sandbox` (Okra's success / no_bvn switches) is sent only when given, which callers do only
   * against the simulator; the request is otherwise the document's.
   */
  async nameEnquiry(
    accountNumber: string,
    bankCode: string,
    sandbox?: { success?: boolean | undefined; no_bvn?: boolean | undefined },
  ): Promise<NipAccount> {
    const switches = Object.fromEntries(Object.entries(sandbox ?? {}).filter(([, v]) => v !== undefined));
    const res = await this.http.request('POST', '/postingrest/GetNIPAccount', {
      accountNumber,
      beneficiaryBank: bankCode,
      ...this.credentials,
      ...(Object.keys(switches).length > 0 ? { sandbox: switches } : {}),
    });
    const body = expectOk(res.status, res.body) as Partial<NipAccount>;
    if (typeof body.responseCode !== 'string') throw bad('NIP answer');
    return {
      bankCode: String(body.bankCode ?? bankCode),
      accountName: String(body.accountName ?? ''),
      transactionReference: String(body.transactionReference ?? ''),
      bvn: String(body.bvn ?? ''),
      kycLevel: String(body.kycLevel ?? ''),
      responseMessage: String(body.responseMessage ?? ''),
      accountNumber: String(body.accountNumber ?? accountNumber),
      responseCode: body.responseCode,
    };
  }

  /** The holder of a BVN, or null when NIBSS does not know it. */
  async lookupBvn(bvn: string): Promise<NibssBvnRecord | null> {
    const res = await this.http.request('GET', `/bvn/v1/bvn/${encodeURIComponent(bvn)}`);
    if (res.status === 404) return null;
    return toRecord(expectOk(res.status, res.body));
  }

  /** BVNs registered with a canonical MSISDN (possibly none). */
  async bvnsOfPhone(msisdn: string): Promise<NibssBvnRecord[]> {
    const res = await this.http.request('GET', `/bvn/v1/phone/${encodeURIComponent(msisdn)}/bvns`);
    const body = expectOk(res.status, res.body) as { bvns?: unknown };
    if (!Array.isArray(body.bvns)) throw bad('BVN list');
    return body.bvns.map(toRecord);
  }
}

function toRecord(v: unknown): NibssBvnRecord {
  const r = v as Record<string, unknown> | null;
  if (typeof r !== 'object' || r === null || typeof r.bvn !== 'string' || !/^\d{11}$/.test(r.bvn)) {
    throw bad('BVN record');
  }
  const str = (x: unknown) => (typeof x === 'string' && x !== '' ? x : null);
  return {
    bvn: r.bvn,
    nin: str(r.nin),
    firstName: String(r.firstName ?? ''),
    surname: String(r.surname ?? ''),
    dateOfBirth: String(r.dateOfBirth ?? ''),
    phoneNumber: str(r.phoneNumber),
    kycLevel: str(r.kycLevel),
  };
}

function expectOk(status: number, body: unknown): object {
  if (status !== 200 || typeof body !== 'object' || body === null) {
    throw new SourceError('NIBSS', 'bad-response', `NIBSS answered HTTP ${status}`, status);
  }
  return body;
}

const bad = (what: string) => new SourceError('NIBSS', 'bad-response', `NIBSS sent a malformed ${what}`);
