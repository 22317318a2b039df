import {
  type BvnLinkageEvent,
  type ContractProblem,
  checkBvnLinkageEvent,
  checkDate,
  checkEventDate,
  checkIdentifier,
  checkNinLinkageEvent,
  dateToEpochMs,
  mask,
  type NinLinkageEvent,
  normaliseMsisdn,
  todayInLagos,
  tokenise,
} from '@hub/schemas';
import type { FieldError } from './envelope.ts';
import { contentEventId } from './event-ids.ts';

export type FeedSource = 'NIMC' | 'NIBSS';

export type FeedEvent =
  | { kind: 'nin-linkage'; value: NinLinkageEvent }
  | { kind: 'bvn-linkage'; value: BvnLinkageEvent };

export type FeedCheck = { ok: true; event: FeedEvent } | { ok: false; problems: FieldError[] };

/**
 * Validates one identity-feed record as NIMC (`msisdn, action, nin, date`) or NIBSS
 * (`msisdn, action, bvn, holderNin?, nuban?, bankCode?, date`) send it, and turns it into an event
 * with every identifier tokenised and masked. Raw identifiers go no further than this function.
 */
export function checkFeedRecord(
  source: FeedSource,
  input: unknown,
  secret: string,
  via: string,
  receivedAt: number,
): FeedCheck {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, problems: [{ field: '', message: 'must be a JSON object' }] };
  }
  const r = input as Record<string, unknown>;
  const problems: FieldError[] = [];
  const msisdn = normaliseMsisdn(r.msisdn);
  if (!msisdn.ok)
    problems.push({ field: 'msisdn', message: r.msisdn === undefined ? 'is required' : msisdn.reason });
  const action = r.action;
  if (action !== 'LINK' && action !== 'UNLINK') {
    problems.push({
      field: 'action',
      message: action === undefined ? 'is required' : 'must be LINK or UNLINK',
    });
  }
  // The same date rule as the state machine's (schemas/src/contract.ts), so what is accepted here applies.
  const date = checkEventDate(r.date);
  const real = checkDate(r.date);
  // A future date is the more useful answer than the range (which it may also break).
  if (real.ok && real.date > todayInLagos(receivedAt))
    problems.push({ field: 'date', message: `'${real.date}' is in the future` });
  else if (!date.ok)
    problems.push({ field: 'date', message: r.date === undefined ? 'is required' : date.reason });

  const idField = source === 'NIMC' ? 'nin' : 'bvn';
  const id = checkIdentifier(source === 'NIMC' ? 'NIN' : 'BVN', r[idField]);
  if (!id.ok)
    problems.push({ field: idField, message: r[idField] === undefined ? 'is required' : id.reason });
  const optional = (field: string, kind: 'NIN' | 'NUBAN') => {
    if (r[field] === undefined || r[field] === null) return null;
    const check = checkIdentifier(kind, r[field]);
    if (!check.ok) {
      problems.push({ field, message: check.reason });
      return null;
    }
    return check.value;
  };
  const holderNin = source === 'NIBSS' ? optional('holderNin', 'NIN') : null;
  const nuban = source === 'NIBSS' ? optional('nuban', 'NUBAN') : null;
  let bankCode: string | null = null;
  if (source === 'NIBSS' && r.bankCode !== undefined && r.bankCode !== null) {
    if (typeof r.bankCode !== 'string' || !/^\d{3,6}$/.test(r.bankCode))
      problems.push({ field: 'bankCode', message: 'must be 3 to 6 digits' });
    else bankCode = r.bankCode;
  }
  if (problems.length > 0 || !msisdn.ok || !date.ok || !id.ok) return { ok: false, problems };

  const event = toFeedEvent(source, {
    msisdn: msisdn.msisdn,
    action: action as 'LINK' | 'UNLINK',
    date: date.date,
    id: id.value,
    holderNin,
    nuban,
    bankCode,
    secret,
    via,
    receivedAt,
  });
  // The whole event against the contract the state machine applies (schemas/src/contract.ts): a
  // field the checks above let through would otherwise be acknowledged here, then dead-lettered.
  const refused =
    event.kind === 'nin-linkage' ? checkNinLinkageEvent(event.value) : checkBvnLinkageEvent(event.value);
  if (refused) return { ok: false, problems: [requestProblem(refused)] };
  return { ok: true, event };
}

/** The request field an event field comes from, so a 400 names what the client sent. */
const REQUEST_FIELDS: Record<string, string> = {
  linkDate: 'date',
  occurredAt: 'date',
  receivedAt: '',
  ninToken: 'nin',
  ninMasked: 'nin',
  bvnToken: 'bvn',
  bvnMasked: 'bvn',
  holderNinToken: 'holderNin',
  nubanToken: 'nuban',
  nubanMasked: 'nuban',
};

function requestProblem(p: ContractProblem): FieldError {
  return { field: REQUEST_FIELDS[p.field] ?? p.field, message: p.message };
}

interface CheckedFeedRecord {
  msisdn: string;
  action: 'LINK' | 'UNLINK';
  date: string;
  id: string;
  holderNin: string | null;
  nuban: string | null;
  bankCode: string | null;
  secret: string;
  via: string;
  receivedAt: number;
}

function toFeedEvent(source: FeedSource, f: CheckedFeedRecord): FeedEvent {
  const envelope = { source: f.via, occurredAt: dateToEpochMs(f.date), receivedAt: f.receivedAt };
  if (source === 'NIMC') {
    const ninToken = tokenise('NIN', f.id, f.secret);
    return {
      kind: 'nin-linkage',
      value: {
        ...envelope,
        eventId: contentEventId('nin', f.msisdn, f.action, ninToken, f.date),
        msisdn: f.msisdn,
        action: f.action,
        ninToken,
        ninMasked: mask(f.id),
        linkDate: f.date,
      },
    };
  }
  const bvnToken = tokenise('BVN', f.id, f.secret);
  return {
    kind: 'bvn-linkage',
    value: {
      ...envelope,
      eventId: contentEventId('bvn', f.msisdn, f.action, bvnToken, f.date),
      msisdn: f.msisdn,
      action: f.action,
      bvnToken,
      bvnMasked: mask(f.id),
      holderNinToken: f.holderNin ? tokenise('NIN', f.holderNin, f.secret) : null,
      nubanToken: f.nuban ? tokenise('NUBAN', f.nuban, f.secret) : null,
      nubanMasked: f.nuban ? mask(f.nuban) : null,
      bankCode: f.bankCode,
      linkDate: f.date,
    },
  };
}
