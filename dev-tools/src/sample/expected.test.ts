import { describe, expect, it } from 'vitest';
import { Replay } from './arrival-replay.ts';
import { toSampleEvent } from './events.ts';
import { type ExpectedState, expectedStateOf } from './expected.ts';
import type { DelinkTruth, SampleNumber, StatusTruth, TruthEvent } from './truth.ts';

const MSISDN = '2348031234567';
let ids = 0;
const base = (day: string) => ({ id: `e${++ids}`, day, occurredAt: Date.parse(`${day}T10:00:00Z`) });

const status = (day: string, s: StatusTruth['status'], operator = 'MTN'): StatusTruth => ({
  kind: 'status-update',
  ...base(day),
  status: s,
  operator,
  reassignmentDate: s === 'SWAPPED' || s === 'CHURNED' || s === 'REASSIGNED' ? day : null,
  remarks: null,
  filedAs: s,
  numberForm: 'national',
});
const nin = (day: string, action: 'LINK' | 'UNLINK', raw: string): TruthEvent => ({
  kind: 'nin-linkage',
  ...base(day),
  action,
  nin: raw,
});
const bvn = (day: string, action: 'LINK' | 'UNLINK', raw: string, holderNin: string | null): TruthEvent => ({
  kind: 'bvn-linkage',
  ...base(day),
  action,
  bvn: raw,
  holderNin,
  nuban: '0123456789',
  bankCode: '058',
});
const delink = (
  day: string,
  action: DelinkTruth['action'],
  scope: DelinkTruth['scope'] = 'ALL',
): TruthEvent => ({
  kind: 'delink',
  ...base(day),
  requestId: 'req-1',
  action,
  scope,
  actor: 'admin@ncc.hub',
  reason: null,
});

/** Plain "tokens" so expectations are readable. */
const tokenOf = (kind: 'NIN' | 'BVN' | 'NUBAN', raw: string) => `${kind}:${raw}`;

function numberOf(truth: TruthEvent[], arrival: number[] = truth.map((_, i) => i)): SampleNumber {
  return { msisdn: MSISDN, allocatedOperator: 'MTN', truth, arrival, traits: [] };
}

/**
 * The oracle's answer, after checking that a literal replay of the rules agrees, both in arrival
 * order and topic after topic with the delinks first (another interleaving Kafka may produce: each
 * topic keeps its own order, nothing more).
 */
function expected(number: SampleNumber): ExpectedState {
  const oracle = expectedStateOf(number, tokenOf);
  const deliveries = number.arrival.map((i) => {
    const e = number.truth[i];
    if (!e) throw new Error(`no event ${i}`);
    return toSampleEvent(number, e, 0, tokenOf);
  });
  const topicOrder = ['delink', 'bvn-linkage', 'nin-linkage', 'status-update'];
  for (const order of [deliveries, topicOrder.flatMap((k) => deliveries.filter((d) => d.kind === k))]) {
    const replay = new Replay(() => number.allocatedOperator);
    for (const d of order) replay.apply(d);
    expect(replay.state(number.msisdn)).toEqual(oracle);
  }
  return oracle;
}

describe('expected state from a simulated life', () => {
  it('knows nothing of a number without events: null status, allocated operator, ACTIVE', () => {
    const s = expected(numberOf([]));
    expect(s).toMatchObject({
      operator: 'MTN',
      telecomStatus: null,
      statusDate: null,
      isRecycled: false,
      lifecycleStatus: 'ACTIVE',
      cleanupStatus: 'not_required',
      canAssignToNewUser: false,
      conflicts: [],
      deliveries: 0,
    });
  });

  it('keeps the newest status when an older one arrives late, but still counts its recency date', () => {
    const truth = [
      status('2023-05-01', 'CHURNED'),
      status('2024-01-10', 'REASSIGNED'),
      status('2024-03-01', 'SWAPPED'),
    ];
    // The churn arrives last, after two newer events.
    const s = expected(numberOf(truth, [1, 2, 0]));
    expect(s).toMatchObject({
      telecomStatus: 'SWAPPED',
      statusDate: '2024-03-01',
      reassignmentDate: '2024-03-01',
      lastChurnedDate: '2023-05-01',
      lastReassignedDate: '2024-01-10',
      lastSwappedDate: '2024-03-01',
      isRecycled: true,
      lifecycleStatus: 'ACTIVE',
      cleanupStatus: 'completed',
      canAssignToNewUser: true,
    });
  });

  it('gives the same facts when events are delivered twice, and counts every delivery', () => {
    const truth = [nin('2022-01-01', 'LINK', '11111111111'), status('2023-01-01', 'CHURNED')];
    const once = expected(numberOf(truth));
    const twice = expected(numberOf(truth, [0, 0, 1, 1]));
    expect({ ...twice, deliveries: 2 }).toEqual(once);
    expect(twice.deliveries).toBe(4);
  });

  it("flags the old owner's linkage left active after a reassignment as stale, since the reassignment", () => {
    const truth = [
      nin('2022-01-01', 'LINK', '11111111111'),
      status('2023-01-01', 'CHURNED'),
      status('2023-03-01', 'REASSIGNED'),
      nin('2023-03-01', 'LINK', '22222222222'),
    ];
    const s = expected(numberOf(truth));
    expect(s.activeNinTokens).toEqual(['NIN:11111111111', 'NIN:22222222222']);
    expect(s.conflicts).toEqual([
      { code: 'STALE_LINKAGE', since: '2023-03-01' },
      { code: 'MULTIPLE_ACTIVE_NIN', since: '2023-03-01' },
    ]);
    // MULTIPLE_ACTIVE_NIN is a conflict other than STALE_LINKAGE, so CONFLICTED wins over RECYCLED.
    expect(s).toMatchObject({
      lifecycleStatus: 'CONFLICTED',
      cleanupStatus: 'pending',
      canAssignToNewUser: false,
    });
  });

  it('is RECYCLED when only the stale linkage is wrong', () => {
    const truth = [bvn('2021-05-05', 'LINK', '33333333333', null), status('2023-01-01', 'CHURNED')];
    const s = expected(numberOf(truth));
    expect(s.conflicts).toEqual([{ code: 'STALE_LINKAGE', since: '2023-01-01' }]);
    expect(s).toMatchObject({ lifecycleStatus: 'RECYCLED', cleanupStatus: 'pending', activeBvnLinkages: 1 });
  });

  it('moves cleanup to in_progress when the delink request is approved, and stays pending while only requested', () => {
    const head = [nin('2022-01-01', 'LINK', '11111111111'), status('2023-01-01', 'CHURNED')];
    expect(expected(numberOf([...head, delink('2023-02-01', 'REQUESTED')])).cleanupStatus).toBe('pending');
    const approved = expected(
      numberOf([...head, delink('2023-02-01', 'REQUESTED'), delink('2023-02-05', 'APPROVED')]),
    );
    expect(approved).toMatchObject({
      cleanupStatus: 'in_progress',
      openDelink: { requestId: 'req-1', action: 'APPROVED' },
      lifecycleStatus: 'RECYCLED',
    });
  });

  it('makes a churned number AVAILABLE and assignable once the delink completes', () => {
    const truth = [
      nin('2022-01-01', 'LINK', '11111111111'),
      bvn('2022-02-01', 'LINK', '33333333333', '11111111111'),
      status('2023-01-01', 'CHURNED'),
      delink('2023-02-01', 'REQUESTED'),
      delink('2023-02-05', 'APPROVED'),
      delink('2023-03-01', 'COMPLETED'),
    ];
    const s = expected(numberOf(truth));
    expect(s).toMatchObject({
      telecomStatus: 'CHURNED',
      activeNinLinkages: 0,
      activeBvnLinkages: 0,
      conflicts: [],
      cleanupStatus: 'completed',
      canAssignToNewUser: true,
      lifecycleStatus: 'AVAILABLE',
      openDelink: null,
    });
  });

  it("never clears the new owner's linkages made on or after the reassignment date", () => {
    const truth = [
      nin('2022-01-01', 'LINK', '11111111111'),
      status('2023-01-01', 'CHURNED'),
      status('2023-03-01', 'REASSIGNED'),
      nin('2023-03-01', 'LINK', '22222222222'),
      delink('2023-04-01', 'COMPLETED'),
    ];
    const s = expected(numberOf(truth));
    expect(s.activeNinTokens).toEqual(['NIN:22222222222']);
    expect(s).toMatchObject({
      lifecycleStatus: 'ACTIVE',
      cleanupStatus: 'completed',
      canAssignToNewUser: true,
    });
  });

  it('clears only the scope of the delink: a NIN delink leaves the stale BVN pending', () => {
    const truth = [
      nin('2022-01-01', 'LINK', '11111111111'),
      bvn('2022-02-01', 'LINK', '33333333333', null),
      status('2023-01-01', 'CHURNED'),
      delink('2023-03-01', 'COMPLETED', 'NIN'),
    ];
    const s = expected(numberOf(truth));
    expect(s).toMatchObject({ activeNinLinkages: 0, activeBvnLinkages: 1, cleanupStatus: 'pending' });
    expect(s.conflicts).toEqual([{ code: 'STALE_LINKAGE', since: '2023-01-01' }]);
  });

  it("clears a later owner's linkages only with a completion after a later recycle", () => {
    const life = [
      nin('2018-01-01', 'LINK', '11111111111'),
      bvn('2018-02-01', 'LINK', '33333333333', '11111111111'),
      status('2020-01-10', 'CHURNED'),
      delink('2020-02-01', 'COMPLETED'),
      status('2020-06-01', 'REASSIGNED'),
      nin('2020-06-02', 'LINK', '22222222222'),
      status('2023-01-10', 'CHURNED'),
    ];
    // The 2020 completion cleared the first owner's; the second owner's NIN is stale after 2023.
    const s = expected(numberOf(life));
    expect(s.activeNinTokens).toEqual(['NIN:22222222222']);
    expect(s).toMatchObject({ activeBvnLinkages: 0, lifecycleStatus: 'RECYCLED', cleanupStatus: 'pending' });
    const done = expected(numberOf([...life, delink('2023-02-01', 'COMPLETED', 'NIN')]));
    expect(done).toMatchObject({
      activeNinLinkages: 0,
      lifecycleStatus: 'AVAILABLE',
      cleanupStatus: 'completed',
    });
  });

  it('clears nothing with a completion dated before every recycle', () => {
    const truth = [
      nin('2018-01-01', 'LINK', '11111111111'),
      delink('2019-01-01', 'COMPLETED'),
      status('2020-01-10', 'CHURNED'),
    ];
    expect(expected(numberOf(truth))).toMatchObject({ activeNinLinkages: 1, lifecycleStatus: 'RECYCLED' });
  });

  it("reports NIN_BVN_MISMATCH since the later link date when NIBSS's holder NIN is not an active NIN", () => {
    const truth = [
      nin('2021-01-01', 'LINK', '11111111111'),
      bvn('2021-06-01', 'LINK', '33333333333', '99999999999'),
    ];
    expect(expected(numberOf(truth)).conflicts).toEqual([{ code: 'NIN_BVN_MISMATCH', since: '2021-06-01' }]);
    const unknownHolder = [
      nin('2021-01-01', 'LINK', '11111111111'),
      bvn('2021-06-01', 'LINK', '33333333333', null),
    ];
    expect(expected(numberOf(unknownHolder)).conflicts).toEqual([]);
    const noNin = [bvn('2021-06-01', 'LINK', '33333333333', '99999999999')];
    expect(expected(numberOf(noNin)).conflicts).toEqual([]);
  });

  it('blocks a blacklisted number, with a conflict since the status date while linkages are active', () => {
    const truth = [nin('2021-01-01', 'LINK', '11111111111'), status('2024-02-02', 'BLACKLISTED')];
    const s = expected(numberOf(truth));
    expect(s.conflicts).toEqual([{ code: 'BLACKLISTED_WITH_LINKAGES', since: '2024-02-02' }]);
    expect(s).toMatchObject({ lifecycleStatus: 'BLOCKED', canAssignToNewUser: false });
    const recycled = [
      status('2023-01-01', 'CHURNED'),
      status('2023-06-01', 'REASSIGNED'),
      status('2024-02-02', 'BLACKLISTED'),
    ];
    expect(expected(numberOf(recycled))).toMatchObject({
      lifecycleStatus: 'BLOCKED',
      canAssignToNewUser: false,
      conflicts: [],
    });
  });

  it('ignores an UNLINK of an unknown token and re-activates a re-linked token with its new date', () => {
    const truth = [
      nin('2021-01-01', 'UNLINK', '55555555555'),
      nin('2021-02-01', 'LINK', '11111111111'),
      nin('2021-03-01', 'UNLINK', '11111111111'),
      status('2022-01-01', 'CHURNED'),
      nin('2022-05-01', 'LINK', '11111111111'),
    ];
    const s = expected(numberOf(truth));
    expect(s.activeNinTokens).toEqual(['NIN:11111111111']);
    // Re-linked after the churn, so it is not stale.
    expect(s).toMatchObject({ conflicts: [], lifecycleStatus: 'AVAILABLE', cleanupStatus: 'completed' });
  });

  it('takes the serving operator from the newest status event, even when a ported-from event arrives late', () => {
    const truth = [status('2020-01-01', 'NORMAL', 'MTN'), status('2021-01-01', 'NORMAL', 'AIRTEL')];
    expect(expected(numberOf(truth, [1, 0])).operator).toBe('AIRTEL');
  });
});
