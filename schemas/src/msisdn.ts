export type MsisdnCheck = { ok: true; msisdn: string } | { ok: false; reason: string };

/**
 * Canonical MSISDN: 13 digits, 234 + 10 national digits. Accepts the TIRMS forms
 * 8012345678 (10), 08012345678 (11) and 2348012345678 (13), each with or without a leading +.
 */
export function normaliseMsisdn(input: unknown): MsisdnCheck {
  if (typeof input === 'number') {
    return { ok: false, reason: 'must be a string of digits (a JSON number loses leading zeros)' };
  }
  if (typeof input !== 'string') return { ok: false, reason: 'must be a string of 10, 11 or 13 digits' };
  if (input.length === 0) return { ok: false, reason: 'must not be empty' };
  const digits = input.startsWith('+') ? input.slice(1) : input;
  if (!/^\d+$/.test(digits)) {
    return { ok: false, reason: `'${shown(input)}' must contain only digits, optionally after a leading +` };
  }
  let national: string;
  switch (digits.length) {
    case 10:
      if (digits.startsWith('0')) {
        return {
          ok: false,
          reason: `'${input}' has 10 digits and starts with 0: a 10-digit number omits the 0`,
        };
      }
      national = digits;
      break;
    case 11:
      if (!digits.startsWith('0')) {
        return { ok: false, reason: `'${input}' has 11 digits but does not start with 0` };
      }
      national = digits.slice(1);
      break;
    case 13:
      if (!digits.startsWith('234')) {
        return { ok: false, reason: `'${input}' has 13 digits but does not start with country code 234` };
      }
      national = digits.slice(3);
      break;
    default:
      return { ok: false, reason: `'${shown(input)}' has ${digits.length} digits; expected 10, 11 or 13` };
  }
  if (national.startsWith('0')) {
    return { ok: false, reason: `'${input}' has a 0 after the country or trunk code` };
  }
  // A number outside the published allocations is still a well-formed number: it verifies as
  // unknown network rather than failing, and no operator may update it (see allocatedOperator).
  return { ok: true, msisdn: `234${national}` };
}

/** The 11-digit national form (0 + 10 digits) of a canonical MSISDN. */
export function nationalForm(msisdn: string): string {
  return `0${msisdn.slice(3)}`;
}

function shown(s: string): string {
  return s.length > 20 ? `${s.slice(0, 20)}…` : s;
}
