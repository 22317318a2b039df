import { readState } from '@hub/state/read';
import { LINKAGE_LIMIT } from '@hub/state/record';
import { groupLag } from '../../processors/src/state-builder/test-env.ts';
import {
  createCredentials,
  createFaultEnv,
  killChild,
  sleep,
  startApi,
  startStateBuilder,
  stopChild,
  waitReady,
} from './env.ts';
import { compareState, makeSample, sampleProducer, stateProblems } from './oracle.ts';
import type { Scenario } from './scenario.ts';

const TIRMS = '/api/v1/phone/api/phone-numbers';
/** As many NIN links for one number as once crash-looped the state builder ("NIN count 10050 exceeds 10000"). */
const FLOOD = 10_050;
/** Events per webhook request (the route takes up to 10,000). */
const PER_REQUEST = 1_000;

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 10) / 10;
}

/**
 * One number flooded with NIN linkages through the identity-feed webhook while a sample streams
 * in and operators keep updating other numbers: no partition may stall, updates must stay fresh
 * (acknowledged → visible to verify, p99 reported), and the flooded number must verify without a
 * 5xx, its record bounded (LINKAGE_LIMIT kept, the rest counted).
 */
export const floodScenario: Scenario = {
  id: 7,
  title: 'one number flooded with linkages while the sample streams',
  stopsServices: false,
  async run(ctx, report) {
    const started = Date.now();
    const env = await createFaultEnv(ctx.run, 's7');
    const sample = makeSample(ctx.quick ? 400 : 2000, ctx.seed + 7, env.config.TOKEN_SECRET);
    const sampleNumbers = new Set(sample.expected.map((e) => e.msisdn));
    let flooded = 2348039990001;
    while (sampleNumbers.has(String(flooded))) flooded++;
    const msisdn = String(flooded);
    const tEnv = Date.now();
    const producer = await sampleProducer(env);
    const creds = await createCredentials(env);
    const tCreds = Date.now();
    const builder = startStateBuilder(env);
    let api: Awaited<ReturnType<typeof startApi>> | null = null;
    try {
      let tBuilder = 0;
      [api] = await Promise.all([startApi(env), waitReady(builder).then(() => (tBuilder = Date.now()))]);
      const secs = (a: number, b: number) => ((b - a) / 1000).toFixed(1);
      report.step(
        `slice ready in ${secs(started, tEnv)} s, credentials in ${secs(tEnv, tCreds)} s, state builder in ${secs(tCreds, tBuilder)} s and API in ${secs(tCreds, Date.now())} s`,
      );
      const base = api.base;
      const post = (path: string, token: string, body: unknown, method = 'POST') =>
        fetch(`${base}${path}`, {
          method,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });

      // The flood: FLOOD distinct NINs linked to one number, over the webhook, in PER_REQUEST batches.
      const nin = (i: number) => String(70_000_000_000 + i * 7919);
      const day = (i: number) =>
        new Date(Date.UTC(2016, 0, 1) + (i % 3000) * 86_400_000).toISOString().slice(0, 10);
      const flood = async (): Promise<{ accepted: number; statuses: number[] }> => {
        const statuses: number[] = [];
        let accepted = 0;
        let token = creds.nimcKey;
        for (let start = 0; start < FLOOD; start += PER_REQUEST) {
          const events = Array.from({ length: Math.min(PER_REQUEST, FLOOD - start) }, (_, k) => ({
            msisdn: `0${msisdn.slice(3)}`,
            action: 'LINK',
            nin: nin(start + k),
            date: day(start + k),
          }));
          let res = await post('/api/v1/webhooks/receive', token, { source: 'NIMC', events });
          if (res.status === 403 && token !== creds.hubKey) {
            await res.text();
            token = creds.hubKey;
            res = await post('/api/v1/webhooks/receive', token, { source: 'NIMC', events });
          }
          statuses.push(res.status);
          const body = (await res.json().catch(() => ({}))) as { accepted?: number };
          if (res.status === 202) accepted += body.accepted ?? events.length;
        }
        return { accepted, statuses };
      };

      // Freshness probes: a status update for a number nobody else touches, acknowledged, then
      // polled through verify until it shows; meanwhile the flood and the sample stream.
      const fresh: number[] = [];
      const probeProblems: string[] = [];
      const probes = ctx.quick ? 40 : 150;
      const today = new Date(Date.now() + 3_600_000).toISOString().slice(0, 10);
      const probe = async () => {
        for (let i = 0; i < probes; i++) {
          const phoneNumber = `0803${String(7_700_000 + i)}`;
          const put = await post(
            `${TIRMS}/status`,
            creds.operatorKey,
            { phoneNumber, status: 'BARRED', occurrenceOfStatusDate: today },
            'PUT',
          );
          const text = await put.text();
          if (put.status !== 200) {
            probeProblems.push(`status update ${phoneNumber} answered ${put.status}: ${text.slice(0, 200)}`);
            continue;
          }
          const acked = performance.now();
          for (;;) {
            const res = await post(`${TIRMS}/verify`, creds.bankKey, { phoneNumber });
            const body = (await res.json().catch(() => ({}))) as { data?: { status?: string } };
            if (body.data?.status === 'BLACKLISTED') {
              fresh.push(performance.now() - acked);
              break;
            }
            if (performance.now() - acked > 30_000) {
              probeProblems.push(`${phoneNumber} not visible to verify 30 s after its update`);
              break;
            }
            await sleep(2);
          }
          await sleep(20);
        }
      };

      const t0 = Date.now();
      const [flooding] = await Promise.all([flood(), producer.send(sample.events), probe()]);
      report.step(
        `sent ${FLOOD} NIN links for ${msisdn} in ${flooding.statuses.length} webhook requests (answers ${[...new Set(flooding.statuses)].join(', ')}), ${sample.events.length} sample deliveries and ${probes} status updates, in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
      );
      report.check(
        flooding.accepted === FLOOD,
        `the webhook accepted all ${FLOOD} links`,
        `the webhook accepted ${flooding.accepted} of ${FLOOD} links (answers ${flooding.statuses.join(', ')})`,
      );
      for (const p of probeProblems) report.fail(p);

      // No stalled partition: every partition of every input topic consumed to its end.
      const groupId = `${env.config.TOPIC_PREFIX}state-builder`;
      const deadline = Date.now() + (ctx.quick ? 30_000 : 90_000);
      while ((await groupLag(env.admin, env.topics, groupId)) > 0 && Date.now() < deadline) await sleep(250);
      const inputs = [
        env.topics.statusUpdates,
        env.topics.ninLinkages,
        env.topics.bvnLinkages,
        env.topics.delink,
      ];
      const committed = await env.admin.fetchOffsets({ groupId, topics: inputs });
      const stalled: string[] = [];
      let partitions = 0;
      for (const topic of inputs) {
        const at = new Map(
          (committed.find((c) => c.topic === topic)?.partitions ?? []).map((p) => [
            p.partition,
            BigInt(p.offset),
          ]),
        );
        for (const p of await env.admin.fetchTopicOffsets(topic)) {
          partitions++;
          const c = at.get(p.partition) ?? -1n;
          const done = c < 0n ? BigInt(p.high) === BigInt(p.low) : c >= BigInt(p.high);
          if (!done)
            stalled.push(
              `${topic.slice(env.config.TOPIC_PREFIX.length)}[${p.partition}] at ${c} of ${p.high}`,
            );
        }
      }
      report.check(
        stalled.length === 0,
        `0 stalled partitions: all ${partitions} input partitions consumed to their end`,
        `${stalled.length} stalled partitions: ${stalled.join(', ')}`,
      );
      fresh.sort((a, b) => a - b);
      report.fact(
        `freshness (status update acknowledged → visible to verify) during the flood: p50 ${percentile(fresh, 0.5)} ms, p99 ${percentile(fresh, 0.99)} ms, max ${percentile(fresh, 1)} ms over ${fresh.length} updates`,
      );

      const cmp = await compareState(env, sample.expected, null);
      const sp = stateProblems(cmp);
      for (const p of sp) report.fail(`sample numbers streamed beside the flood: ${p}`);
      if (sp.length === 0) report.fact(`all ${cmp.compared} sample numbers match the expected state`);

      // The flooded number: bounded record, and verify / identity answer without a 5xx.
      const [reading] = await readState(env.redis, env.config.REDIS_KEY_PREFIX, [msisdn]);
      const kept = reading?.record?.nin.length ?? 0;
      const dropped = reading?.record?.droppedLinkages.nin ?? 0;
      report.check(
        kept === LINKAGE_LIMIT && dropped === FLOOD - LINKAGE_LIMIT && reading?.record?.version === FLOOD,
        `${msisdn}: record bounded, ${kept} NIN linkages kept and ${dropped} counted as dropped, version ${reading?.record?.version}`,
        `${msisdn}: record holds ${kept} NIN linkages, ${dropped} dropped, version ${reading?.record?.version} (expected ${LINKAGE_LIMIT}, ${FLOOD - LINKAGE_LIMIT}, ${FLOOD})`,
      );
      const verify = await post(`${TIRMS}/verify`, creds.bankKey, { phoneNumber: `0${msisdn.slice(3)}` });
      const verifyText = await verify.text();
      const identity = await fetch(`${base}/api/v1/identity/msisdn/${msisdn}/status`, {
        headers: { authorization: `Bearer ${creds.hubKey}` },
      });
      const identityText = await identity.text();
      report.check(
        verify.status < 500 && identity.status < 500,
        `${msisdn} verifies without a 5xx (verify ${verify.status}, identity status ${identity.status})`,
        `${msisdn}: verify answered ${verify.status} ${verifyText.slice(0, 200)}; identity status ${identity.status} ${identityText.slice(0, 200)}`,
      );
      report.check(
        !builder.exited(),
        'the state builder stayed up',
        'the state builder exited during the flood',
      );
      await stopChild(builder);
      await stopChild(api.child);
      await env.close({ drop: report.problems.length === 0 });
    } finally {
      await killChild(builder).catch(() => undefined);
      if (api) await killChild(api.child).catch(() => undefined);
      await producer.close().catch(() => undefined);
      await creds.close().catch(() => undefined);
      await env.close().catch(() => undefined);
    }
  },
};
