import {
  type BvnLinkageEvent,
  checkDate,
  checkIdentifier,
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
  const date = checkDate(r.date);
  if (!date.ok) problems.push({ field: 'date', message: r.date === undefined ? 'is required' : date.reason });
  else if (date.date > todayInLagos(receivedAt))
    problems.push({ field: 'date', message: `'${date.date}' is in the future` });

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

  const linkAction = action as 'LINK' | 'UNLINK';
  const envelope = { source: via, occurredAt: dateToEpochMs(date.date), receivedAt };
  if (source === 'NIMC') {
    const ninToken = tokenise('NIN', id.value, secret);
    return {
      ok: true,
      event: {
        kind: 'nin-linkage',
        value: {
          ...envelope,
          eventId: contentEventId('nin', msisdn.msisdn, linkAction, ninToken, date.date),
          msisdn: msisdn.msisdn,
          action: linkAction,
          ninToken,
          ninMasked: mask(id.value),
          linkDate: date.date,
        },
      },
    };
  }
  const bvnToken = tokenise('BVN', id.value, secret);
  return {
    ok: true,
    event: {
      kind: 'bvn-linkage',
      value: {
        ...envelope,
        eventId: contentEventId('bvn', msisdn.msisdn, linkAction, bvnToken, date.date),
        msisdn: msisdn.msisdn,
        action: linkAction,
        bvnToken,
        bvnMasked: mask(id.value),
        holderNinToken: holderNin ? tokenise('NIN', holderNin, secret) : null,
        nubanToken: nuban ? tokenise('NUBAN', nuban, secret) : null,
        nubanMasked: nuban ? mask(nuban) : null,
        bankCode,
        linkDate: date.date,
      },
    },
  };
}
