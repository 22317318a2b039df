import { dateToDays, daysToDate, OPERATORS, TELECOM_STATUSES, type TelecomStatus } from '@hub/schemas';
import { DATE_EPOCH } from './machine.ts';
import {
  type CompletedDelink,
  DELINK_SCOPES,
  HISTORY_LIMIT,
  INPUTS,
  LINKAGE_LIMIT,
  OFFSET_MAX,
  type OpenDelinkAction,
  type StateRecord,
  type StoredBvnLink,
  type StoredNinLink,
  TEXT_LIMIT,
} from './record.ts';

/**
 * Compact binary form of a StateRecord, the value stored in Redis (typically ~45-55 bytes, so a
 * bucket of 100 numbers stays a listpack-encoded hash). Layout, format 1:
 *
 *   u8 flags      bits 0-2 telecom status (0 none, else index in TELECOM_STATUSES + 1),
 *                 bit 3 reassignmentDate, bit 4 lastSwappedDate, bit 5 lastChurnedDate,
 *                 bit 6 lastReassignedDate present, bit 7 extension byte follows
 *   [u8 ext]      bits 0-1 open delink (0 none, 1 REQUESTED, 2 APPROVED), bit 2 custom operator,
 *                 bit 3 reserved (0), bits 4-7 format - 1 (absent byte = format 1 with all zero)
 *   varint        version
 *   u8 operator   0 none, else index in OPERATORS + 1; with custom operator: varint length + UTF-8
 *   [u16 days]    statusDate (when a status is present), then each present optional date in bit order
 *   4 × varint    offset + 1 per input topic (status, nin, bvn, delink); 0 = none
 *   varint n      NIN linkages, each: 8-byte token, u16 linkDate, u16 mask word, [u16 clearedDate]
 *   varint n      BVN linkages, each: 8-byte token, u16 linkDate, u16 mask word, [8-byte holder NIN
 *                 token], [u16 clearedDate]
 *   [open delink] u8 0 + 16 bytes (UUID request id) or u8 1 + varint length + UTF-8
 *
 * Dates are days since 1990-01-01 (u16, big-endian). A mask word holds the last 4 digits of the
 * masked identifier in bits 0-13, "has holder NIN token" in bit 14 and "unlinked" in bit 15 (the
 * date that follows is the UNLINK's; clearing by a delink is derived, never stored per linkage).
 *
 * Format 2 (ext bits 4-7 = 1) is format 1 followed by the history section's content (below,
 * without its tag); it is what a record with recycle/delink history and nothing else is written in.
 *
 * Format 3 (ext bits 4-7 = 2) is format 1 followed by tagged sections, each a u8 tag then its
 * content, tags strictly ascending, each written only when it holds something, and at least one
 * beyond the history (a record needing only the history is format 2):
 *
 *   tag 1 history   u8 bits 0-3 number of extra recycle dates, bits 4-7 number of ALL completed
 *                   delinks; u8 bits 0-3 NIN, bits 4-7 BVN completed delinks; then u16 days × n:
 *                   the extra recycle dates, then the ALL, NIN and BVN delink dates, each ascending
 *   tag 2 dropped   varint NIN linkages dropped, varint BVN linkages dropped (record.ts
 *                   LINKAGE_LIMIT), not both 0
 *
 * The extra recycle dates are `recycleDates` without lastChurnedDate and lastReassignedDate, which
 * are already stored; the decoder adds them back and keeps the most recent HISTORY_LIMIT. A record
 * with neither history nor another section is written in format 1 (the extension byte is then only
 * there when format 1 needed it), so the common record pays nothing for either, and records that
 * need no new section keep the bytes they had before format 3. New facts (a cleanup status, an
 * erasure marker) get the next tag: a decoder refuses a tag it does not know rather than drop a
 * fact it would then overwrite.
 *
 * Records written before format 2 existed are format 1 whose "cleared" linkages may have been
 * cleared by a delink; they decode with those dates as UNLINK dates, so they read the same. A
 * rebuild from the topics (processors rebuild) rewrites them with the exact facts.
 *
 * Bounds (the encoder refuses what the decoder would refuse, and the decoder accepts only what the
 * encoder writes, checked by encoding.test.ts): version 0..2^53-1; offsets 0..2^63-1; operator and
 * request id 1..TEXT_LIMIT characters of well-formed text, a known operator only as its index and a
 * lowercase UUID only as 16 bytes; at most LINKAGE_LIMIT linkages per kind with distinct tokens;
 * dropped counts 0..2^53-1; at most HISTORY_LIMIT recycle dates and completed delinks per scope;
 * dates 1990-01-01..2169-06-06.
 */

export class StateEncodingError extends Error {
  override readonly name = 'StateEncodingError';
}

const EPOCH_DAYS = dateToDays(DATE_EPOCH);
const MASK_PREFIX = '*******';
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const OPERATOR_INDEX = new Map(OPERATORS.map((o, i) => [o.code, i + 1]));
const OPEN_ACTIONS: readonly OpenDelinkAction[] = ['REQUESTED', 'APPROVED'];
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const SECTION_HISTORY = 1;
const SECTION_DROPPED = 2;

/** Stored day numbers of the dates seen so far: records repeat a few thousand distinct days. */
const STORED_DAYS = new Map<string, number>();
const MAX_STORED_DAYS = 100_000;

/** Days since DATE_EPOCH of a YYYY-MM-DD date (NaN when it is not one), as dateToDays gives. */
function storedDays(d: string): number {
  let days = STORED_DAYS.get(d);
  if (days === undefined) {
    days = dateToDays(d) - EPOCH_DAYS;
    if (STORED_DAYS.size >= MAX_STORED_DAYS) STORED_DAYS.clear();
    STORED_DAYS.set(d, days);
  }
  return days;
}

/** Masked identifiers by their 4 digits, made on first use. */
const MASKS: string[] = [];

/** The value of a lowercase hex digit's char code (the caller has checked it is one). */
function nibble(c: number): number {
  return c <= 57 ? c - 48 : c - 87;
}

/** Why a stored text (operator, request id) is out of bounds, or null. */
function textProblem(s: string): string | null {
  if (s.length === 0) return 'is empty';
  if (s.length > TEXT_LIMIT) return `is longer than ${TEXT_LIMIT} characters`;
  if (LONE_SURROGATE.test(s)) return 'is not well-formed text (lone surrogate)';
  return null;
}

/** Scratch space of the writer, reused by every encodeState (which is synchronous). */
let scratch = Buffer.allocUnsafe(256);

class Writer {
  private buf = scratch;
  private pos = 0;

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
    scratch = bigger;
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    this.room(2);
    this.buf[this.pos++] = v >>> 8;
    this.buf[this.pos++] = v & 0xff;
  }

  varint(v: bigint | number): void {
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) {
      this.room(8);
      while (v >= 0x80) {
        this.buf[this.pos++] = (v % 0x80) | 0x80;
        v = Math.floor(v / 0x80);
      }
      this.buf[this.pos++] = v;
      return;
    }
    let n = BigInt(v);
    if (n < 0n) throw new StateEncodingError(`cannot encode negative varint ${n}`);
    if (n <= BigInt(Number.MAX_SAFE_INTEGER)) {
      this.varint(Number(n));
      return;
    }
    do {
      let byte = Number(n & 0x7fn);
      n >>= 7n;
      if (n > 0n) byte |= 0x80;
      this.u8(byte);
    } while (n > 0n);
  }

  bytes(b: Buffer): void {
    this.room(b.length);
    b.copy(this.buf, this.pos);
    this.pos += b.length;
  }

  text(s: string, what: string): void {
    const problem = textProblem(s);
    if (problem) throw new StateEncodingError(`${what} ${problem}`);
    const b = Buffer.from(s, 'utf8');
    this.varint(b.length);
    this.bytes(b);
  }

  count(n: number, what: string): void {
    if (!Number.isSafeInteger(n) || n < 0)
      throw new StateEncodingError(`${what} ${n} is not an integer in 0..2^53-1`);
    this.varint(n);
  }

  date(d: string): void {
    const days = storedDays(d);
    if (!Number.isInteger(days) || days < 0 || days > 0xffff) {
      throw new StateEncodingError(`date '${d}' is outside the storable range`);
    }
    this.u16(days);
  }

  token(t: string): void {
    if (!/^[0-9a-f]{16}$/.test(t))
      throw new StateEncodingError(`token '${t}' is not 16 lowercase hex characters`);
    this.room(8);
    for (let i = 0; i < 16; i += 2) {
      this.buf[this.pos++] = (nibble(t.charCodeAt(i)) << 4) | nibble(t.charCodeAt(i + 1));
    }
  }

  done(): Buffer {
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    return out;
  }
}

class Reader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}

  private need(n: number, what: string): void {
    if (this.pos + n > this.buf.length) {
      throw new StateEncodingError(
        `state record truncated reading ${what} at byte ${this.pos} of ${this.buf.length}`,
      );
    }
  }

  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }

  u16(what: string): number {
    this.need(2, what);
    const v = (this.buf[this.pos]! << 8) | this.buf[this.pos + 1]!;
    this.pos += 2;
    return v;
  }

  varint(what: string): bigint {
    const start = this.pos;
    const n = this.shortVarint(what);
    if (n !== -1) return BigInt(n);
    this.pos = start;
    return this.longVarint(what);
  }

  /** A varint of at most 7 bytes (49 bits) as a number, or -1 (position then undefined) when longer. */
  private shortVarint(what: string): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 7; i++) {
      const byte = this.u8(what);
      if (byte === 0 && i > 0) throw new StateEncodingError(`varint ${what} is not minimally encoded`);
      result += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return result;
      scale *= 0x80;
    }
    return -1;
  }

  private longVarint(what: string): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = this.u8(what);
      // The encoder writes the shortest form: a final zero byte after the first is an overlong one.
      if (byte === 0 && shift > 0n) throw new StateEncodingError(`varint ${what} is not minimally encoded`);
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw new StateEncodingError(`varint ${what} is longer than 64 bits`);
    }
  }

  /** An offset + 1 varint as the offset, or null for 0. */
  offset(what: string): bigint | null {
    const start = this.pos;
    const n = this.shortVarint(what);
    if (n !== -1) return n === 0 ? null : BigInt(n - 1);
    this.pos = start;
    const v = this.longVarint(what);
    if (v - 1n > OFFSET_MAX) throw new StateEncodingError(`${what} ${v - 1n} is outside 0..2^63-1`);
    return v - 1n;
  }

  smallInt(what: string, max: number): number {
    const start = this.pos;
    const n = this.shortVarint(what);
    if (n !== -1) {
      if (n > max) throw new StateEncodingError(`${what} ${n} exceeds ${max}`);
      return n;
    }
    this.pos = start;
    const v = this.longVarint(what);
    if (v > BigInt(max)) throw new StateEncodingError(`${what} ${v} exceeds ${max}`);
    return Number(v);
  }

  bytes(n: number, what: string): Buffer {
    this.need(n, what);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  text(what: string): string {
    const bytes = this.bytes(this.smallInt(`${what} length`, TEXT_LIMIT * 3), what);
    let s: string;
    try {
      s = UTF8.decode(bytes);
    } catch {
      throw new StateEncodingError(`${what} is not valid UTF-8`);
    }
    const problem = textProblem(s);
    if (problem) throw new StateEncodingError(`${what} ${problem}`);
    return s;
  }

  date(what: string): string {
    return daysToDate(EPOCH_DAYS + this.u16(what));
  }

  token(what: string): string {
    this.need(8, what);
    const t = this.buf.toString('hex', this.pos, this.pos + 8);
    this.pos += 8;
    return t;
  }

  atEnd(): boolean {
    return this.pos === this.buf.length;
  }

  end(): void {
    if (this.pos !== this.buf.length) {
      throw new StateEncodingError(`state record has ${this.buf.length - this.pos} trailing bytes`);
    }
  }
}

function maskDigits(masked: string): number {
  let digits = 0;
  if (masked.length === 11 && masked.startsWith(MASK_PREFIX)) {
    for (let i = 7; i < 11; i++) {
      const d = masked.charCodeAt(i) - 48;
      if (d < 0 || d > 9) {
        digits = -1;
        break;
      }
      digits = digits * 10 + d;
    }
  } else digits = -1;
  if (digits === -1) throw new StateEncodingError(`mask '${masked}' is not 7 '*' and 4 digits`);
  return digits;
}

function maskFrom(word: number): string {
  const digits = word & 0x3fff;
  if (digits > 9999) throw new StateEncodingError(`mask digits ${digits} exceed 9999`);
  let m = MASKS[digits];
  if (m === undefined) {
    m = `${MASK_PREFIX}${String(digits).padStart(4, '0')}`;
    MASKS[digits] = m;
  }
  return m;
}

export function encodeState(r: StateRecord): Buffer {
  const w = new Writer();
  const statusCode = r.telecomStatus === null ? 0 : TELECOM_STATUSES.indexOf(r.telecomStatus) + 1;
  if (statusCode < 0) throw new StateEncodingError(`unknown telecom status ${r.telecomStatus}`);
  if ((r.telecomStatus === null) !== (r.statusDate === null)) {
    throw new StateEncodingError('telecomStatus and statusDate must be both set or both null');
  }
  const operatorIndex = r.operator === null ? 0 : (OPERATOR_INDEX.get(r.operator) ?? -1);
  const openCode = r.openDelink === null ? 0 : OPEN_ACTIONS.indexOf(r.openDelink.action) + 1;
  if (openCode < 0) throw new StateEncodingError(`open delink action ${r.openDelink?.action} is unknown`);
  checkLinkages('NIN', r.nin);
  checkLinkages('BVN', r.bvn);
  const history = historyOf(r);
  const dropped = r.droppedLinkages.nin !== 0 || r.droppedLinkages.bvn !== 0;
  // Format 2 for history alone keeps those records byte-identical to what was written before format 3.
  const format = dropped ? 3 : history !== null ? 2 : 1;
  const ext = openCode | (operatorIndex === -1 ? 0b100 : 0) | ((format - 1) << 4);
  const flags =
    statusCode |
    (r.reassignmentDate !== null ? 1 << 3 : 0) |
    (r.lastSwappedDate !== null ? 1 << 4 : 0) |
    (r.lastChurnedDate !== null ? 1 << 5 : 0) |
    (r.lastReassignedDate !== null ? 1 << 6 : 0) |
    (ext !== 0 ? 1 << 7 : 0);
  w.u8(flags);
  if (ext !== 0) w.u8(ext);
  w.count(r.version, 'version');
  if (operatorIndex === -1) w.text(r.operator!, 'operator');
  else w.u8(operatorIndex);
  if (r.statusDate !== null) w.date(r.statusDate);
  if (r.reassignmentDate !== null) w.date(r.reassignmentDate);
  if (r.lastSwappedDate !== null) w.date(r.lastSwappedDate);
  if (r.lastChurnedDate !== null) w.date(r.lastChurnedDate);
  if (r.lastReassignedDate !== null) w.date(r.lastReassignedDate);
  for (const input of INPUTS) {
    const o = r.offsets[input];
    if (o !== null && (o < 0n || o > OFFSET_MAX)) {
      throw new StateEncodingError(`${input} offset ${o} is outside 0..2^63-1`);
    }
    w.varint(o === null ? 0 : o + 1n);
  }
  w.varint(r.nin.length);
  for (const l of r.nin) {
    w.token(l.token);
    w.date(l.linkDate);
    w.u16(maskDigits(l.masked) | (l.unlinkedDate !== null ? 0x8000 : 0));
    if (l.unlinkedDate !== null) w.date(l.unlinkedDate);
  }
  w.varint(r.bvn.length);
  for (const l of r.bvn) {
    w.token(l.token);
    w.date(l.linkDate);
    w.u16(
      maskDigits(l.masked) |
        (l.holderNinToken !== null ? 0x4000 : 0) |
        (l.unlinkedDate !== null ? 0x8000 : 0),
    );
    if (l.holderNinToken !== null) w.token(l.holderNinToken);
    if (l.unlinkedDate !== null) w.date(l.unlinkedDate);
  }
  if (r.openDelink !== null) {
    const id = r.openDelink.requestId;
    if (UUID_RE.test(id)) {
      w.u8(0);
      w.bytes(Buffer.from(id.replaceAll('-', ''), 'hex'));
    } else {
      w.u8(1);
      w.text(id, 'delink request id');
    }
  }
  if (history !== null) {
    if (format === 3) w.u8(SECTION_HISTORY);
    const [extra, all, nin, bvn] = history;
    w.u8(extra.length | (all.length << 4));
    w.u8(nin.length | (bvn.length << 4));
    for (const list of history) for (const d of list) w.date(d);
  }
  if (dropped) {
    w.u8(SECTION_DROPPED);
    w.count(r.droppedLinkages.nin, 'dropped NIN linkages');
    w.count(r.droppedLinkages.bvn, 'dropped BVN linkages');
  }
  return w.done();
}

/** The linkage list bounds the decoder also checks: at most LINKAGE_LIMIT entries, distinct tokens. */
function checkLinkages(kind: 'NIN' | 'BVN', links: readonly StoredNinLink[]): void {
  if (links.length > LINKAGE_LIMIT) {
    throw new StateEncodingError(`${kind} linkages ${links.length} exceed ${LINKAGE_LIMIT}`);
  }
  if (repeatsToken(links)) throw new StateEncodingError(`${kind} linkages repeat a token`);
}

function repeatsToken(links: readonly StoredNinLink[]): boolean {
  for (let i = 1; i < links.length; i++) {
    const t = links[i]!.token;
    for (let j = 0; j < i; j++) if (links[j]!.token === t) return true;
  }
  return false;
}

/** Recycle dates implied by the last churned/reassigned dates plus `extra`: the most recent HISTORY_LIMIT. */
function recycleDatesFrom(extra: readonly string[], churned: string | null, reassigned: string | null) {
  if (extra.length === 0) {
    if (churned === null) return reassigned === null ? [] : [reassigned];
    if (reassigned === null || reassigned === churned) return [churned];
    return churned < reassigned ? [churned, reassigned] : [reassigned, churned];
  }
  const all = new Set(extra);
  if (churned !== null) all.add(churned);
  if (reassigned !== null) all.add(reassigned);
  return [...all].sort().slice(-HISTORY_LIMIT);
}

function ascendingDistinct(list: readonly string[]): boolean {
  return list.every((d, i) => i === 0 || list[i - 1]! < d);
}

/**
 * The history section's date lists (extra recycle dates, ALL, NIN, BVN delink dates), or null when
 * the record needs none. Throws when the lists break the record's invariants, since they would not
 * decode back to the same record.
 */
function historyOf(r: StateRecord): [string[], string[], string[], string[]] | null {
  // The common record: no history beyond what the last churned/reassigned dates imply.
  if (r.completedDelinks.length === 0 && r.recycleDates.length <= 2) {
    const implied = recycleDatesFrom([], r.lastChurnedDate, r.lastReassignedDate);
    if (implied.length === r.recycleDates.length && implied.every((d, i) => d === r.recycleDates[i]))
      return null;
  }
  const extra = r.recycleDates.filter((d) => d !== r.lastChurnedDate && d !== r.lastReassignedDate);
  const implied = recycleDatesFrom(extra, r.lastChurnedDate, r.lastReassignedDate);
  if (
    r.recycleDates.length > HISTORY_LIMIT ||
    !ascendingDistinct(r.recycleDates) ||
    implied.join() !== r.recycleDates.join()
  ) {
    throw new StateEncodingError(
      `recycleDates [${r.recycleDates.join(', ')}] do not agree with lastChurnedDate ${r.lastChurnedDate} and lastReassignedDate ${r.lastReassignedDate}`,
    );
  }
  const byScope = DELINK_SCOPES.map((scope) =>
    r.completedDelinks.filter((d) => d.scope === scope).map((d) => d.date),
  );
  const canonical = DELINK_SCOPES.flatMap((scope, i) => byScope[i]!.map((date) => ({ date, scope })));
  const sorted = sortDelinks(canonical);
  if (
    byScope.some((l) => l.length > HISTORY_LIMIT || !ascendingDistinct(l)) ||
    canonical.length !== r.completedDelinks.length ||
    sorted.some((d, i) => d.date !== r.completedDelinks[i]?.date || d.scope !== r.completedDelinks[i]?.scope)
  ) {
    throw new StateEncodingError('completedDelinks are not distinct, sorted and within the limit per scope');
  }
  if (extra.length === 0 && r.completedDelinks.length === 0) return null;
  return [extra, byScope[0]!, byScope[1]!, byScope[2]!];
}

function sortDelinks(list: CompletedDelink[]): CompletedDelink[] {
  return list.sort((a, b) =>
    a.date !== b.date
      ? a.date < b.date
        ? -1
        : 1
      : DELINK_SCOPES.indexOf(a.scope) - DELINK_SCOPES.indexOf(b.scope),
  );
}

function uuidFrom(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function readLinkageCount(r: Reader, kind: 'NIN' | 'BVN'): number {
  return r.smallInt(`${kind} linkages`, LINKAGE_LIMIT);
}

function distinctTokens(kind: 'NIN' | 'BVN', links: readonly StoredNinLink[]): void {
  if (repeatsToken(links)) throw new StateEncodingError(`${kind} linkages repeat a token`);
}

/** The history section's content: extra recycle dates and completed delinks. */
function readHistory(r: Reader): { extra: string[]; completedDelinks: CompletedDelink[] } {
  const a = r.u8('history counts');
  const b = r.u8('history counts');
  const counts = [a & 0xf, a >> 4, b & 0xf, b >> 4];
  if (counts.some((n) => n > HISTORY_LIMIT)) {
    throw new StateEncodingError(`history counts ${counts.join('/')} exceed ${HISTORY_LIMIT}`);
  }
  const lists = counts.map((n, i) => Array.from({ length: n }, () => r.date(`history list ${i}`)));
  if (lists.some((l) => !ascendingDistinct(l))) {
    throw new StateEncodingError('history dates are not ascending and distinct');
  }
  const completedDelinks: CompletedDelink[] = [];
  DELINK_SCOPES.forEach((scope, i) => {
    for (const date of lists[i + 1]!) completedDelinks.push({ date, scope });
  });
  sortDelinks(completedDelinks);
  return { extra: lists[0]!, completedDelinks };
}

export function decodeState(bytes: Buffer): StateRecord {
  const r = new Reader(bytes);
  const flags = r.u8('flags');
  const ext = flags & 0x80 ? r.u8('extension') : 0;
  if (flags & 0x80 && ext === 0) throw new StateEncodingError('state record has an empty extension byte');
  const format = (ext >> 4) + 1;
  if (format > 3) throw new StateEncodingError(`state record format ${format} is not supported`);
  if (ext & 0b1000) throw new StateEncodingError('state record extension has reserved bit 3 set');
  const statusCode = flags & 0b111;
  const telecomStatus: TelecomStatus | null =
    statusCode === 0 ? null : (TELECOM_STATUSES[statusCode - 1] ?? null);
  if (statusCode !== 0 && telecomStatus === null)
    throw new StateEncodingError(`status code ${statusCode} is unknown`);
  const openCode = ext & 0b11;
  if (openCode === 3) throw new StateEncodingError('open delink code 3 is unknown');
  const version = r.smallInt('version', Number.MAX_SAFE_INTEGER);
  let operator: string | null;
  if (ext & 0b100) {
    operator = r.text('operator');
    if (OPERATOR_INDEX.has(operator))
      throw new StateEncodingError(`operator '${operator}' is stored as text but is a known operator`);
  } else {
    const idx = r.u8('operator');
    if (idx > OPERATORS.length) throw new StateEncodingError(`operator index ${idx} is unknown`);
    operator = idx === 0 ? null : OPERATORS[idx - 1]!.code;
  }
  const statusDate = telecomStatus === null ? null : r.date('statusDate');
  const reassignmentDate = flags & (1 << 3) ? r.date('reassignmentDate') : null;
  const lastSwappedDate = flags & (1 << 4) ? r.date('lastSwappedDate') : null;
  const lastChurnedDate = flags & (1 << 5) ? r.date('lastChurnedDate') : null;
  const lastReassignedDate = flags & (1 << 6) ? r.date('lastReassignedDate') : null;
  const offsets = { status: null, nin: null, bvn: null, delink: null } as StateRecord['offsets'];
  offsets.status = r.offset('status offset');
  offsets.nin = r.offset('nin offset');
  offsets.bvn = r.offset('bvn offset');
  offsets.delink = r.offset('delink offset');
  const nin: StoredNinLink[] = [];
  const ninCount = readLinkageCount(r, 'NIN');
  for (let i = 0; i < ninCount; i++) {
    const token = r.token('NIN token');
    const linkDate = r.date('NIN linkDate');
    const word = r.u16('NIN mask');
    if (word & 0x4000) throw new StateEncodingError('NIN linkage has the holder bit set');
    const unlinkedDate = word & 0x8000 ? r.date('NIN unlinkedDate') : null;
    nin.push({ token, masked: maskFrom(word), linkDate, unlinkedDate });
  }
  distinctTokens('NIN', nin);
  const bvn: StoredBvnLink[] = [];
  const bvnCount = readLinkageCount(r, 'BVN');
  for (let i = 0; i < bvnCount; i++) {
    const token = r.token('BVN token');
    const linkDate = r.date('BVN linkDate');
    const word = r.u16('BVN mask');
    const holderNinToken = word & 0x4000 ? r.token('BVN holder NIN token') : null;
    const unlinkedDate = word & 0x8000 ? r.date('BVN unlinkedDate') : null;
    bvn.push({ token, masked: maskFrom(word), holderNinToken, linkDate, unlinkedDate });
  }
  distinctTokens('BVN', bvn);
  let openDelink: StateRecord['openDelink'] = null;
  if (openCode !== 0) {
    const tag = r.u8('delink request id tag');
    let requestId: string;
    if (tag === 0) requestId = uuidFrom(r.bytes(16, 'delink request id'));
    else if (tag === 1) {
      requestId = r.text('delink request id');
      if (UUID_RE.test(requestId)) throw new StateEncodingError('delink request id is a UUID stored as text');
    } else throw new StateEncodingError(`delink request id tag ${tag} is unknown`);
    openDelink = { requestId, action: OPEN_ACTIONS[openCode - 1]! };
  }
  let extra: string[] = [];
  let completedDelinks: CompletedDelink[] = [];
  const droppedLinkages = { nin: 0, bvn: 0 };
  if (format === 2) {
    ({ extra, completedDelinks } = readHistory(r));
  } else if (format === 3) {
    let last = 0;
    do {
      const tag = r.u8('section tag');
      if (tag <= last) throw new StateEncodingError(`section tag ${tag} follows tag ${last}`);
      last = tag;
      if (tag === SECTION_HISTORY) {
        ({ extra, completedDelinks } = readHistory(r));
        if (extra.length === 0 && completedDelinks.length === 0)
          throw new StateEncodingError('history section is empty');
      } else if (tag === SECTION_DROPPED) {
        droppedLinkages.nin = r.smallInt('dropped NIN linkages', Number.MAX_SAFE_INTEGER);
        droppedLinkages.bvn = r.smallInt('dropped BVN linkages', Number.MAX_SAFE_INTEGER);
        if (droppedLinkages.nin === 0 && droppedLinkages.bvn === 0)
          throw new StateEncodingError('dropped-linkages section is empty');
      } else {
        throw new StateEncodingError(`section tag ${tag} is unknown`);
      }
    } while (!r.atEnd());
    if (last === SECTION_HISTORY) throw new StateEncodingError('format 3 with only a history section');
  }
  r.end();
  const recycleDates = recycleDatesFrom(extra, lastChurnedDate, lastReassignedDate);
  const keptExtra =
    extra.length === 0
      ? extra
      : recycleDates.filter((d) => d !== lastChurnedDate && d !== lastReassignedDate);
  if (keptExtra.length !== extra.length || keptExtra.some((d, i) => d !== extra[i])) {
    throw new StateEncodingError(
      'history recycle dates repeat the last churned or reassigned date or exceed the limit',
    );
  }
  return {
    version,
    operator,
    telecomStatus,
    statusDate,
    reassignmentDate,
    lastSwappedDate,
    lastChurnedDate,
    lastReassignedDate,
    recycleDates,
    nin,
    bvn,
    droppedLinkages,
    completedDelinks,
    openDelink,
    offsets,
  };
}
