import { repoRoot } from '@hub/infra';
import { run as runProcess } from '../../infra/local/process.ts';
import { checksumState } from '../../processors/src/rebuild/projection.ts';
import { groupLag } from '../../processors/src/state-builder/test-env.ts';
import {
  createCredentials,
  createFaultEnv,
  entries,
  killChild,
  sleep,
  startApi,
  startStateBuilder,
  stopChild,
  waitReady,
} from './env.ts';
import { compareState, makeSample, sampleProducer, stateProblems } from './oracle.ts';
import { Rand, type Scenario } from './scenario.ts';

interface Probe {
  route: 'identity' | 'verify';
  msisdn: string;
  at: number;
  status: number;
  verdict: '503' | 'correct' | 'wrong';
  detail: string;
}

/**
 * Flush this slice's Redis projection and rebuild it from Kafka with processors/src/rebuild: the
 * checksum must come back identical, and while the projection is being rebuilt the API must answer
 * 503 rather than "unknown number" or a half-built record.
 */
export const rebuildScenario: Scenario = {
  id: 4,
  title: 'Redis projection flushed and rebuilt while the API answers verifications',
  stopsServices: false,
  async run(ctx, report) {
    const rand = new Rand(ctx.seed ^ 0x4444);
    const numbers = ctx.quick ? 3000 : 6000;
    const env = await createFaultEnv(ctx.run, 's4');
    const sample = makeSample(numbers, ctx.seed + 4, env.config.TOKEN_SECRET);
    const producer = await sampleProducer(env);
    const creds = await createCredentials(env);
    const builder = startStateBuilder(env);
    let api: Awaited<ReturnType<typeof startApi>> | null = null;
    let rebuilding = true;
    try {
      await waitReady(builder);
      await producer.send(sample.events);
      const groupId = `${env.config.TOPIC_PREFIX}state-builder`;
      const deadline = Date.now() + 180_000;
      while ((await groupLag(env.admin, env.topics, groupId)) > 0 && Date.now() < deadline) await sleep(500);
      await stopChild(builder);
      const built = await compareState(env, sample.expected, null);
      for (const p of stateProblems(built)) report.fail(`before the flush: ${p}`);
      const before = await checksumState(env.redis, env.config.REDIS_KEY_PREFIX);
      report.step(
        `built ${before.records} records from ${sample.events.length} deliveries; checksum ${before.digest}; live state builder stopped`,
      );
      api = await startApi(env);
      const known = sample.expected.filter((e) => e.deliveries > 0);
      const probes: Probe[] = [];
      rebuilding = true;
      const probe = async () => {
        while (rebuilding) {
          const e = rand.pick(known);
          const useVerify = rand.chance(0.5);
          const at = Date.now();
          try {
            if (useVerify) {
              const res = await fetch(`${api!.base}/api/v1/phone/api/phone-numbers/verify`, {
                method: 'POST',
                headers: { authorization: `Bearer ${creds.bankKey}`, 'content-type': 'application/json' },
                body: JSON.stringify({ phoneNumber: `0${e.msisdn.slice(3)}` }),
              });
              const text = await res.text();
              let verdict: Probe['verdict'] = 'wrong';
              if (res.status === 503) verdict = '503';
              else if (res.status === 200) {
                const body = JSON.parse(text) as { data?: { status?: string } };
                const got = body.data?.status;
                verdict = got === (e.telecomStatus ?? 'NULL') ? 'correct' : 'wrong';
              }
              probes.push({
                route: 'verify',
                msisdn: e.msisdn,
                at,
                status: res.status,
                verdict,
                detail: text.slice(0, 240),
              });
            } else {
              const res = await fetch(`${api!.base}/api/v1/identity/msisdn/${e.msisdn}/status`, {
                headers: { authorization: `Bearer ${creds.hubKey}` },
              });
              const text = await res.text();
              let verdict: Probe['verdict'] = 'wrong';
              if (res.status === 503) verdict = '503';
              else if (res.status === 200) {
                const body = JSON.parse(text) as Record<string, unknown>;
                verdict =
                  body.status === e.lifecycleStatus &&
                  body.active_nin_linkages === e.activeNinLinkages &&
                  body.active_bvn_linkages === e.activeBvnLinkages
                    ? 'correct'
                    : 'wrong';
              }
              probes.push({
                route: 'identity',
                msisdn: e.msisdn,
                at,
                status: res.status,
                verdict,
                detail: text.slice(0, 240),
              });
            }
          } catch (err) {
            probes.push({
              route: useVerify ? 'verify' : 'identity',
              msisdn: e.msisdn,
              at,
              status: 0,
              verdict: 'wrong',
              detail: String(err),
            });
          }
          await sleep(5);
        }
      };
      // The API serves correct data before the flush.
      const warm = probe();
      await sleep(1500);
      rebuilding = false;
      await warm;
      const warmWrong = probes.filter((p) => p.verdict !== 'correct');
      report.check(
        warmWrong.length === 0,
        `before the flush the API answered ${probes.length} probes correctly`,
        `before the flush ${warmWrong.length} of ${probes.length} probes were not correct, e.g. ${JSON.stringify(warmWrong[0])}`,
      );
      probes.length = 0;

      // The rebuild CLI checksums, drops only this prefix's state buckets, replays, checksums.
      rebuilding = true;
      const started = Date.now();
      const probing = Promise.all([probe(), probe()]);
      const run = await runProcess(process.execPath, ['--import', 'tsx', entries.rebuild, 'redis'], {
        cwd: repoRoot,
        env: { ...env.env, LOG_LEVEL: 'warn' },
      });
      rebuilding = false;
      await probing;
      const seconds = (Date.now() - started) / 1000;
      report.step(
        `flushed ${env.config.REDIS_KEY_PREFIX} state and ran processors/src/rebuild/cli.ts redis: exit ${run.code} in ${seconds.toFixed(1)} s`,
      );
      const parsed = (() => {
        try {
          return JSON.parse(run.stdout) as {
            equal: boolean;
            before: unknown;
            after: unknown;
            replayed: number;
          };
        } catch {
          return null;
        }
      })();
      const after = await checksumState(env.redis, env.config.REDIS_KEY_PREFIX);
      report.check(
        run.code === 0 &&
          parsed?.equal === true &&
          after.digest === before.digest &&
          after.records === before.records,
        `checksum identical after the rebuild (${after.records} records, ${after.digest}; replayed ${parsed?.replayed})`,
        `rebuild not identical: exit ${run.code}, report ${run.stdout.trim()} ${run.stderr.slice(-400)}; after ${JSON.stringify(after)} before ${JSON.stringify(before)}`,
      );
      const rebuilt = await compareState(env, sample.expected, null);
      for (const p of stateProblems(rebuilt)) report.fail(`after the rebuild: ${p}`);

      const tally = (list: Probe[]) => {
        const m = new Map<string, number>();
        for (const p of list)
          m.set(
            `${p.route} ${p.status} ${p.verdict}`,
            (m.get(`${p.route} ${p.status} ${p.verdict}`) ?? 0) + 1,
          );
        return [...m].map(([k, v]) => `${k}×${v}`).join(', ');
      };
      report.fact(`${probes.length} probes during the rebuild: ${tally(probes)}`);
      const wrong = probes.filter((p) => p.verdict === 'wrong');
      const unavailable = probes.filter((p) => p.verdict === '503');
      if (wrong.length > 0) {
        const first = wrong[0]!;
        report.fail(
          `the API answered with wrong data while the projection was rebuilding (${wrong.length} of ${probes.length} probes; ${unavailable.length} got 503). ` +
            `It has no "projection rebuilding" signal: the rebuild CLI drops the state buckets and replays without marking the prefix as rebuilding, ` +
            `and the verify/identity routes treat a missing record as "unknown number". ` +
            `E.g. ${first.route === 'verify' ? 'POST /api/v1/phone/api/phone-numbers/verify' : `GET /api/v1/identity/msisdn/${first.msisdn}/status`} ` +
            `for ${first.msisdn} (known to the hub) → ${first.status} ${first.detail}`,
        );
        for (const route of ['verify', 'identity'] as const) {
          const w = wrong.find((p) => p.route === route && p.status === 200);
          if (w) report.fact(`e.g. ${route} for ${w.msisdn} during the rebuild → 200 ${w.detail}`);
        }
      } else if (unavailable.length === 0) {
        report.fact('no probe landed inside the rebuild window with a missing record');
      }
      await stopChild(api.child);
      await env.close({ drop: report.problems.length === 0 });
    } finally {
      rebuilding = false;
      await killChild(builder).catch(() => undefined);
      if (api) await killChild(api.child).catch(() => undefined);
      await producer.close().catch(() => undefined);
      await creds.close().catch(() => undefined);
      await env.close().catch(() => undefined);
    }
  },
};
