import { createKafka, topicNames } from '@hub/infra';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTopic } from '../support/stack.ts';
import { createDelinkHarness, type DelinkHarness, type Story } from './harness.ts';

// MTN numbers (0803…) churned in 2024 with a previous owner's NIN and BVN linked in 2019.
const story = (n: number, churned: string | null = '2024-01-05', operator = 'MTN'): Story => ({
  msisdn: `23480377${String(n).padStart(5, '0')}`,
  nin: `1${String(n).padStart(6, '0')}${String(1000 + n).slice(-4)}`,
  bvn: `2${String(n).padStart(6, '0')}${String(5000 + n).slice(-4)}`,
  operator,
  churned,
});

const LIFE = story(1);
const REJECT = story(2);
const CANCEL = story(3);
const REFUSE = story(4);
const DUP = story(5);
const NOT_RECYCLED = story(6, null);
const AIRTEL = { ...story(7), msisdn: '2348027700007', operator: 'AIRTEL' };
const LATE = story(8);
const LIVE = story(9);
const ALL = [LIFE, REJECT, CANCEL, REFUSE, DUP, NOT_RECYCLED, AIRTEL];

let d: DelinkHarness;

beforeAll(async () => {
  d = await createDelinkHarness('delink', [...ALL, LATE, LIVE]);
  await d.seed(ALL);
  await d.startWorker();
}, 120_000);

afterAll(async () => {
  await d?.close();
}, 60_000);

const plus = (m: string) => `+${m}`;

async function simOf(msisdn: string) {
  const page = await d.call('GET', '/api/v1/recycled-sims?limit=100', d.tokens.auditor);
  return (page.body.items as { id: string; msisdn: string }[]).find((s) => s.msisdn === plus(msisdn));
}

async function untilStatus(id: string, status: string) {
  return d.waitFor(`request ${id} ${status}`, async () => {
    const r = await d.call('GET', `/api/v1/delink-requests/${id}`, d.tokens.auditor);
    return r.body.status === status ? r.body : null;
  });
}

async function request(msisdn: string, token = d.tokens.maker) {
  const r = await d.call('POST', '/api/v1/delink-requests', token, {
    msisdn,
    reason: 'number recycled in 2024',
  });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body;
}

describe('recycled SIMs and the delink workflow', () => {
  it('detect → register → request → maker-checker refusal → approve → dispatch → feed confirmations → COMPLETED → assignable', async () => {
    // Detection: a background job over every stored number; the recycled ones with stale linkages are flagged.
    const started = await d.call('POST', '/api/v1/recycled-sims/detect', d.tokens.maker);
    expect(started.status).toBe(202);
    const job = await d.waitFor('detection job', async () => {
      const r = await d.call('GET', `/api/v1/recycled-sims/detect/${started.body.job_id}`, d.tokens.maker);
      return r.body.status === 'completed' ? r.body : null;
    });
    expect(job.scanned).toBe(ALL.length);
    const recycled = ALL.filter((s) => s.churned);
    expect(job.flagged).toBe(recycled.length);
    const detected = await d.waitFor('registry entry', () => simOf(LIFE.msisdn));
    const before = await d.call('GET', `/api/v1/recycled-sims/${detected.id}`, d.tokens.auditor);
    expect(before.body.origin).toBe('DETECTED');
    expect(before.body.status).toMatchObject({
      is_recycled: true,
      can_assign_to_new_user: false,
      cleanup_status: 'pending',
    });
    expect(before.body.stale_linkages.map((l: { type: string }) => l.type).sort()).toEqual(['BVN', 'NIN']);
    expect(before.body.stale_linkages[0].masked).toMatch(/^\*{7}\d{4}$/);

    // Idempotent: a second scan flags nothing twice. The scan reads the registry, which the
    // workflow projector fills from the recycled-SIMs topic a moment after the first scan's
    // events are acknowledged: wait until every flag is in it.
    await d.waitFor(
      'every first-scan flag in the registry',
      async () => (await Promise.all(recycled.map((s) => simOf(s.msisdn)))).every(Boolean) || null,
    );
    const again = await d.call('POST', '/api/v1/recycled-sims/detect', d.tokens.maker);
    const second = await d.waitFor('second detection job', async () => {
      const r = await d.call('GET', `/api/v1/recycled-sims/detect/${again.body.job_id}`, d.tokens.maker);
      return r.body.status === 'completed' ? r.body : null;
    });
    expect(second).toMatchObject({ flagged: 0, already_flagged: recycled.length });

    // The operator registers the detected number (its registration's facts are kept).
    const reg = await d.call('POST', '/api/v1/recycled-sims', d.keys.operator, {
      msisdn: `0${LIFE.msisdn.slice(3)}`,
    });
    expect(reg.status, JSON.stringify(reg.body)).toBe(201);
    expect(reg.body).toMatchObject({ id: detected.id, origin: 'REGISTERED', recycle_date: '2024-01-05' });
    const twice = await d.call('POST', '/api/v1/recycled-sims', d.keys.operator, { msisdn: LIFE.msisdn });
    expect(twice.status).toBe(409);
    expect(twice.body.code).toBe('ALREADY_REGISTERED');

    // Request: by default every stale linkage; the maker cannot approve it.
    const created = await request(LIFE.msisdn);
    expect(created).toMatchObject({
      status: 'PENDING',
      msisdn: plus(LIFE.msisdn),
      recycled_sim_id: detected.id,
    });
    expect(created.linkages).toHaveLength(2);
    const own = await d.call('POST', `/api/v1/delink-requests/${created.id}/approve`, d.tokens.maker, {
      decision: 'approve',
      reason: 'my own',
    });
    expect(own.status).toBe(403);
    expect(own.body.code).toBe('MAKER_CANNOT_APPROVE');

    const approvedAt = Date.now();
    const approved = await d.call('POST', `/api/v1/delink-requests/${created.id}/approve`, d.tokens.checker, {
      decision: 'approve',
      reason: 'checked with MTN',
    });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body.status).toBe('APPROVED');

    // Dispatch, the sources' UNLINKs through their feeds, the state builder, completion.
    const done = await untilStatus(created.id, 'COMPLETED');
    expect(Date.now() - approvedAt).toBeLessThan(20_000);
    expect(done.transitions.map((t: { action: string }) => t.action)).toEqual([
      'REQUESTED',
      'APPROVED',
      'PROCESSING',
      'DISPATCHED',
      'DISPATCHED',
      'COMPLETED',
    ]);
    expect(done.transitions[1]).toMatchObject({
      from: 'PENDING',
      to: 'APPROVED',
      reason: 'checked with MTN',
    });
    expect(done.dispatches.map((x: { outcome: string }) => x.outcome)).toEqual(['ACCEPTED', 'ACCEPTED']);

    const status = await d.waitFor('assignable', async () => {
      const r = await d.call('GET', `/api/v1/identity/msisdn/${LIFE.msisdn}/status`, d.tokens.auditor);
      return r.body.can_assign_to_new_user ? r.body : null;
    });
    expect(status).toMatchObject({
      cleanup_status: 'completed',
      active_nin_linkages: 0,
      active_bvn_linkages: 0,
    });
    const sim = await d.waitFor('registry completed', async () => {
      const r = await d.call('GET', `/api/v1/recycled-sims/${detected.id}`, d.tokens.auditor);
      return r.body.cleanup_status === 'completed' ? r.body : null;
    });
    expect(sim.stale_linkages).toEqual([]);
    expect(sim.cleanup_history.map((h: { to: string }) => h.to)).toEqual([
      'pending',
      'pending',
      'in_progress',
      'completed',
    ]);
    expect(sim.delink_requests.map((r: { status: string }) => r.status)).toEqual(['COMPLETED']);

    // Each source saw each linkage once, under its idempotency key, and acted once.
    for (const desk of [d.nimcDesk, d.nibssDesk]) {
      const keys = Object.entries(desk.snapshot().keys).filter(([k]) => k.startsWith(created.id));
      expect(keys).toHaveLength(1);
      expect(keys[0]![1]).toMatchObject({ calls: 1, effects: 1, status: 202 });
    }

    // Notification intents for the outbound worker: the subscriber on approval, operator and NIBSS on completion.
    const notices = await readTopic(
      createKafka(d.h.config),
      topicNames(d.h.config.TOPIC_PREFIX).notifications,
      3,
    );
    expect([...new Set(notices.map((m) => m.message.key?.toString()))].sort()).toEqual(
      [
        `${created.id}:approved:subscriber`,
        `${created.id}:completed:nibss`,
        `${created.id}:completed:operator`,
      ].sort(),
    );

    // The list filters by state.
    const completed = await d.call(
      'GET',
      `/api/v1/delink-requests?status=COMPLETED&msisdn=${LIFE.msisdn}`,
      d.tokens.auditor,
    );
    expect(completed.body).toMatchObject({ total: 1, skip: 0, limit: 50 });
  }, 90_000);

  it('rejects: a rejected request cannot then be approved', async () => {
    const created = await request(REJECT.msisdn);
    const rejected = await d.call('POST', `/api/v1/delink-requests/${created.id}/approve`, d.tokens.checker, {
      decision: 'reject',
      reason: 'not the operator’s number',
    });
    expect(rejected.status).toBe(200);
    expect(rejected.body.status).toBe('REJECTED');
    const late = await d.call('POST', `/api/v1/delink-requests/${created.id}/approve`, d.tokens.checker, {
      decision: 'approve',
      reason: 'changed my mind',
    });
    expect(late.status).toBe(409);
    expect(late.body).toMatchObject({ code: 'ILLEGAL_TRANSITION' });
    expect(late.body.detail).toContain('REJECTED');
    // A rejected request is closed: a new one for the same linkages is allowed.
    expect((await request(REJECT.msisdn)).status).toBe('PENDING');
  }, 60_000);

  it('cancels a pending request (operator, no body), and not twice', async () => {
    const created = await request(CANCEL.msisdn);
    const res = await fetch(`${d.url}/api/v1/delink-requests/${created.id}/cancel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${d.keys.operator}` },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { status: string }).status).toBe('CANCELLED');
    const again = await d.call('POST', `/api/v1/delink-requests/${created.id}/cancel`, d.tokens.maker, {});
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('ILLEGAL_TRANSITION');
  }, 60_000);

  it('a source refusal fails the request with its reason; an Admin retry completes it', async () => {
    d.nimcDesk.settings.refuseNext = 1;
    const created = await request(REFUSE.msisdn);
    await d.call('POST', `/api/v1/delink-requests/${created.id}/approve`, d.tokens.checker, {
      decision: 'approve',
      reason: 'go',
    });
    const failed = await untilStatus(created.id, 'FAILED');
    expect(failed.failure_reason).toContain('legal hold');
    expect(failed.dispatches.map((x: { outcome: string }) => x.outcome).sort()).toEqual([
      'ACCEPTED',
      'REFUSED',
    ]);
    const retried = await d.call('POST', `/api/v1/delink-requests/${created.id}/approve`, d.tokens.checker, {
      decision: 'approve',
      reason: 'NIMC lifted the hold',
    });
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ status: 'APPROVED', attempt: 2 });
    const done = await untilStatus(created.id, 'COMPLETED');
    // The NIN is asked again under the new attempt's key; the BVN accepted in attempt 1 is not re-sent.
    expect(
      done.dispatches.map((x: { attempt: number; outcome: string }) => `${x.attempt}:${x.outcome}`).sort(),
    ).toEqual(['1:ACCEPTED', '1:REFUSED', '2:ACCEPTED']);
    const nimcKeys = Object.keys(d.nimcDesk.snapshot().keys).filter((k) => k.startsWith(created.id));
    expect(nimcKeys.sort()).toEqual(
      [`${created.id}:1:${done.linkages[0].id}`, `${created.id}:2:${done.linkages[0].id}`].sort(),
    );
  }, 60_000);

  it('refuses a duplicate open request for the same linkages', async () => {
    const first = await request(DUP.msisdn);
    const dup = await d.call('POST', '/api/v1/delink-requests', d.tokens.checker, {
      msisdn: DUP.msisdn,
      linkages: [first.linkages[0].id],
      reason: 'again',
    });
    expect(dup.status).toBe(409);
    expect(dup.body.code).toBe('DUPLICATE_REQUEST');
    expect(dup.body.detail).toContain(first.id);
  }, 30_000);

  it('answers bad input with specific errors in the Reconix envelope', async () => {
    const post = (body: unknown, token = d.tokens.maker) =>
      d.call('POST', '/api/v1/recycled-sims', token, body);
    const unknown = await post({ msisdn: '08039999999' });
    expect(unknown).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
    const notRecycled = await post({ msisdn: NOT_RECYCLED.msisdn });
    expect(notRecycled).toMatchObject({ status: 409, body: { code: 'NOT_RECYCLED' } });
    const outside = await post({ msisdn: AIRTEL.msisdn }, d.keys.operator);
    expect(outside.status).toBe(403);
    expect(outside.body.detail).toContain('MTN');
    const malformed = await d.call('GET', '/api/v1/recycled-sims/not-a-uuid', d.tokens.auditor);
    expect(malformed).toMatchObject({
      status: 400,
      body: { code: 'VALIDATION_ERROR', errors: [{ field: 'id' }] },
    });
    const badNumber = await post({ msisdn: '0803123' });
    expect(badNumber.status).toBe(400);
    expect(badNumber.body.errors[0].field).toBe('msisdn');
    const badLimit = await d.call('GET', '/api/v1/recycled-sims?limit=101', d.tokens.auditor);
    expect(badLimit.body.errors[0].field).toBe('limit');
    const requestNotRecycled = await d.call('POST', '/api/v1/delink-requests', d.tokens.maker, {
      msisdn: NOT_RECYCLED.msisdn,
      reason: 'x',
    });
    expect(requestNotRecycled).toMatchObject({ status: 409, body: { code: 'NOT_RECYCLED' } });
    const missingReason = await d.call('POST', '/api/v1/delink-requests', d.tokens.maker, {
      msisdn: LIFE.msisdn,
    });
    expect(missingReason.body.errors).toEqual([{ field: 'reason', message: 'is required' }]);
    const byAuditor = await d.call('POST', '/api/v1/recycled-sims/detect', d.tokens.auditor);
    expect(byAuditor.status).toBe(403);
    const unknownRequest = await d.call(
      'GET',
      '/api/v1/delink-requests/6f9619ff-8b86-4d11-b42d-00c04fc964ff',
      d.tokens.auditor,
    );
    expect(unknownRequest).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });

    // Cleanup status: only legal changes; completed needs the stale linkages gone.
    const sim = await simOf(DUP.msisdn);
    const early = await d.call('PATCH', `/api/v1/recycled-sims/${sim!.id}`, d.tokens.maker, {
      cleanup_status: 'completed',
    });
    expect(early).toMatchObject({ status: 409, body: { code: 'STALE_LINKAGES_REMAIN' } });
    const progress = await d.call('PATCH', `/api/v1/recycled-sims/${sim!.id}`, d.keys.operator, {
      cleanup_status: 'in_progress',
    });
    expect(progress.status, JSON.stringify(progress.body)).toBe(200);
    const same = await d.call('PATCH', `/api/v1/recycled-sims/${sim!.id}`, d.tokens.maker, {
      cleanup_status: 'in_progress',
    });
    expect(same.status).toBe(409);
    expect(same.body).toMatchObject({ code: 'ILLEGAL_TRANSITION' });
    expect(same.body.detail).toContain('from in_progress to in_progress');
  }, 60_000);

  it('flags a number the moment its churn lands (continuous detection), without a scan', async () => {
    await d.seed([LIVE]);
    const sim = await d.waitFor('continuous detection', () => simOf(LIVE.msisdn));
    const detail = await d.call('GET', `/api/v1/recycled-sims/${sim.id}`, d.tokens.auditor);
    expect(detail.body).toMatchObject({
      origin: 'DETECTED',
      cleanup_status: 'pending',
      recycle_date: '2024-01-05',
    });
    expect(detail.body.cleanup_history[0]).toMatchObject({
      actor: 'system:continuous-detection',
      to: 'pending',
    });
  }, 60_000);

  it('adds the workflow figures to the dashboard stats, from the ClickHouse history', async () => {
    const stats = await d.waitFor(
      'delink figures in ClickHouse',
      async () => {
        const r = await d.call('GET', '/api/v1/dashboard/stats', d.tokens.auditor);
        const failures = (r.body.delink_failure_reasons ?? []) as { key: string }[];
        const pending = (r.body.delink_open_requests ?? []) as { key: string; key2: string; value: number }[];
        // The history sink writes each topic partition on its own: wait until every step is in.
        return failures.some((f) => f.key.includes('legal hold')) &&
          r.body.delink_detection_to_cleared?.numbers >= 2 &&
          pending.some((o) => o.key === 'PENDING' && o.key2 === 'MTN' && o.value === 2)
          ? r.body
          : null;
      },
      60_000,
    );
    expect(stats.delink_detection_to_cleared.p50_seconds).toBeGreaterThanOrEqual(0);
    const open = stats.delink_open_requests as { key: string; key2: string; value: number }[];
    // DUP's and REJECT's second request are PENDING; CANCEL's, LIFE's and REFUSE's are closed.
    expect(open.find((o) => o.key === 'PENDING' && o.key2 === 'MTN')?.value).toBe(2);
    const trends = await d.waitFor(
      'COMPLETED in the delink trend',
      async () => {
        const r = await d.call(
          'GET',
          '/api/v1/dashboard/trends?metric=delink_events&dimension=status&granularity=day',
          d.tokens.auditor,
        );
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        return JSON.stringify(r.body).includes('COMPLETED') ? r : null;
      },
      30_000,
    );
    expect(JSON.stringify(trends.body)).toContain('COMPLETED');
  }, 90_000);

  it('documents every workflow route in the OpenAPI document, with examples', async () => {
    const res = await fetch(`${d.url}/openapi.json`);
    const doc = (await res.json()) as { paths: Record<string, Record<string, unknown>> };
    const expected: [string, string][] = [
      ['/api/v1/recycled-sims', 'get'],
      ['/api/v1/recycled-sims', 'post'],
      ['/api/v1/recycled-sims/bulk', 'post'],
      ['/api/v1/recycled-sims/detect', 'post'],
      ['/api/v1/recycled-sims/detect/{job_id}', 'get'],
      ['/api/v1/recycled-sims/{id}', 'get'],
      ['/api/v1/recycled-sims/{id}', 'patch'],
      ['/api/v1/delink-requests', 'get'],
      ['/api/v1/delink-requests', 'post'],
      ['/api/v1/delink-requests/{id}', 'get'],
      ['/api/v1/delink-requests/{id}/approve', 'post'],
      ['/api/v1/delink-requests/{id}/cancel', 'post'],
    ];
    for (const [path, method] of expected)
      expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    const text = JSON.stringify(doc);
    for (const code of ['MAKER_CANNOT_APPROVE', 'NOT_RECYCLED', 'ILLEGAL_TRANSITION', 'DUPLICATE_REQUEST'])
      expect(text).toContain(code);
    expect(text).toContain('"example":"08031234567"');
  }, 30_000);

  it('bulk: every row its own result, a bad row never sinks the good ones; 10,001 rows → 400', async () => {
    await d.seed([LATE]);
    const res = await d.call('POST', '/api/v1/recycled-sims/bulk', d.tokens.maker, {
      items: [
        { msisdn: LATE.msisdn },
        { msisdn: '0803123' },
        { msisdn: NOT_RECYCLED.msisdn },
        { msisdn: LATE.msisdn },
      ],
    });
    expect(res.status).toBe(200);
    expect(
      res.body.items.map((i: { outcome: string; code: string | null }) => `${i.outcome}:${i.code}`),
    ).toEqual([
      'registered:null',
      'rejected:VALIDATION_ERROR',
      'rejected:NOT_RECYCLED',
      'rejected:ALREADY_REGISTERED',
    ]);
    const tooMany = await d.call('POST', '/api/v1/recycled-sims/bulk', d.tokens.maker, {
      items: Array.from({ length: 10_001 }, () => ({ msisdn: LATE.msisdn })),
    });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.errors[0].field).toBe('items');
    const byOperator = await d.call('POST', '/api/v1/recycled-sims/bulk', d.keys.operator, {
      items: [{ msisdn: LATE.msisdn }],
    });
    expect(byOperator.status).toBe(403);
  }, 60_000);
});
