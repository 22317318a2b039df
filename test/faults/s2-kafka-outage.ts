import { prefixesOf } from '@hub/schemas';
import { readState } from '@hub/state/read';
import { groupLag } from '../../processors/src/state-builder/test-env.ts';
import {
  type Child,
  createCredentials,
  createFaultEnv,
  killChild,
  sleep,
  startApi,
  startService,
  startStateBuilder,
  stopChild,
  stopService,
  waitReady,
} from './env.ts';
import { scanTopic } from './oracle.ts';
import { Rand, type Scenario } from './scenario.ts';

interface Write {
  /** The tag each record carries in `remarks`, to find it in Kafka. */
  tags: { tag: string; msisdn: string; status: string }[];
  kind: 'single' | 'bulk';
  start: number;
  end: number;
  status: number | 'no answer';
  retryAfter: string | null;
  body: string;
}

const STATUS_OF: Record<string, string> = {
  NORMAL: 'NORMAL',
  BARRED: 'BLACKLISTED',
  BLACKLISTED: 'BLACKLISTED',
};

/**
 * An operator's client writes single and bulk TIRMS status updates through the real API process
 * while Kafka is stopped and restarted. Every acknowledged write must be in Kafka and in the final
 * state; writes during the outage must get 503 with Retry-After, never 200 and never silence.
 */
export const kafkaOutageScenario: Scenario = {
  id: 2,
  title: 'Kafka stopped and restarted while the API takes TIRMS single and bulk writes',
  stopsServices: true,
  async run(ctx, report) {
    const rand = new Rand(ctx.seed ^ 0x2222);
    const outageMs = ctx.quick ? 20_000 : 45_000;
    const env = await createFaultEnv(ctx.run, 's2');
    const creds = await createCredentials(env);
    let builder: Child = startStateBuilder(env);
    const { child: api, base } = await startApi(env);
    await waitReady(builder);
    const prefixes = prefixesOf('MTN');
    let serial = 0;
    const nextNumber = () => {
      serial++;
      const prefix = prefixes[serial % prefixes.length]!;
      const national = `${prefix}${String(1_000_000 + serial).padStart(10 - prefix.length, '0')}`.slice(
        0,
        10,
      );
      return `234${national}`;
    };
    const writes: Write[] = [];
    let phase: 'before' | 'outage' | 'after' = 'before';
    let outageFrom = 0;
    let outageTo = Number.POSITIVE_INFINITY;
    let running = true;
    const client = async (worker: number) => {
      while (running) {
        const bulk = rand.chance(0.4);
        const n = bulk ? rand.int(2, 25) : 1;
        const tags = Array.from({ length: n }, () => {
          const msisdn = nextNumber();
          const submitted = rand.pick(['NORMAL', 'BARRED', 'BLACKLISTED']);
          return { tag: `faults-${ctx.run}-${worker}-${serial}`, msisdn, status: submitted };
        });
        const records = tags.map((t) => ({
          phoneNumber: `0${t.msisdn.slice(3)}`,
          status: t.status,
          occurrenceOfStatusDate: '2025-06-01',
          remarks: t.tag,
        }));
        const w: Write = {
          tags,
          kind: bulk ? 'bulk' : 'single',
          start: Date.now(),
          end: 0,
          status: 'no answer',
          retryAfter: null,
          body: '',
        };
        writes.push(w);
        try {
          const res = await fetch(`${base}/api/v1/phone/api/phone-numbers/status${bulk ? '/bulk' : ''}`, {
            method: 'PUT',
            headers: { authorization: `Bearer ${creds.operatorKey}`, 'content-type': 'application/json' },
            body: JSON.stringify(bulk ? records : records[0]),
            signal: AbortSignal.timeout(30_000),
          });
          w.status = res.status;
          w.retryAfter = res.headers.get('retry-after');
          w.body = (await res.text()).slice(0, 300);
        } catch (err) {
          w.body = String(err).slice(0, 300);
          await sleep(200);
        }
        w.end = Date.now();
        await sleep(rand.int(20, 120));
      }
    };
    try {
      const clients = [0, 1, 2, 3].map((i) => client(i));
      await sleep(6_000);
      phase = 'outage';
      report.step(`client loop running (4 workers, singles and bulks of 2–25); stopping Kafka`);
      await stopService('kafka');
      outageFrom = Date.now();
      await sleep(outageMs);
      outageTo = Date.now();
      report.step(`Kafka down for ${(outageMs / 1000).toFixed(0)} s; starting it again`);
      await startService('kafka');
      const back = Date.now();
      report.step(`Kafka back after ${((back - outageTo) / 1000).toFixed(0)} s of start-up`);
      phase = 'after';
      // Keep writing until the API has accepted writes again for a while.
      const deadline = Date.now() + 90_000;
      while (Date.now() < deadline) {
        const recent = writes.filter((w) => w.start > back + 1000 && (w.status === 200 || w.status === 202));
        if (recent.length >= 30) break;
        await sleep(1000);
      }
      await sleep(3000);
      running = false;
      await Promise.all(clients);
      void phase;

      const by = (f: (w: Write) => boolean) => writes.filter(f);
      const acked = by((w) => w.status === 200 || w.status === 202);
      // Sent after Kafka stopped and answered before it was being started again.
      const during = by((w) => w.start >= outageFrom && w.end > 0 && w.end <= outageTo);
      const tally = (list: Write[]) => {
        const m = new Map<string, number>();
        for (const w of list) m.set(String(w.status), (m.get(String(w.status)) ?? 0) + 1);
        return [...m].map(([k, v]) => `${k}×${v}`).join(', ');
      };
      report.fact(`${writes.length} requests: ${tally(writes)}`);
      report.fact(`requests sent and answered inside the outage: ${during.length} (${tally(during)})`);
      const lies = during.filter((w) => w.status === 200 || w.status === 202);
      if (lies.length > 0)
        report.fail(
          `${lies.length} writes acknowledged while Kafka was down, e.g. ${JSON.stringify(lies[0])}`,
        );
      const not503 = during.filter((w) => w.status !== 503);
      if (not503.length > 0) {
        report.fail(
          `${not503.length} writes during the outage were not answered 503: ${tally(not503)}; e.g. ${not503
            .slice(0, 2)
            .map((w) => `${w.kind} → ${w.status} ${w.body}`)
            .join(' | ')}`,
        );
      }
      if (during.length === 0)
        report.fail(
          'no request was both sent and answered inside the outage: the check above proved nothing',
        );
      const noRetryAfter = by((w) => w.status === 503 && !w.retryAfter);
      report.check(
        noRetryAfter.length === 0,
        `every 503 carried Retry-After (${by((w) => w.status === 503).length} answers)`,
        `${noRetryAfter.length} 503 answers without Retry-After`,
      );
      const silent = by((w) => w.status === 'no answer');
      if (silent.length > 0)
        report.fail(
          `${silent.length} requests got no HTTP answer, e.g. ${silent[0]!.kind}: ${silent[0]!.body}`,
        );
      const slowest = Math.max(0, ...writes.filter((w) => w.end > 0).map((w) => w.end - w.start));
      report.fact(`slowest answer ${slowest} ms`);
      if (api.exited()) report.fail(`the API process exited during the outage:\n${api.tail().slice(-1500)}`);
      if (builder.exited()) {
        report.fail(`the state builder process exited during the outage:\n${builder.tail().slice(-1500)}`);
        builder = startStateBuilder(env);
        await waitReady(builder).catch(() => undefined);
      }

      // Every acknowledged record must be in Kafka.
      const inKafka = new Set<string>();
      const codecScan = await scanTopic(env.kafka, env.admin, env.topics.statusUpdates, 120_000);
      const { EventCodec } = await import('@hub/schemas');
      const { createSchemaRegistry } = await import('@hub/infra');
      const codec = new EventCodec(createSchemaRegistry(env.config));
      for (const m of codecScan) {
        const e = await codec.decode('status-update', m.message.value);
        if (e.remarks) inKafka.add(`${e.msisdn}|${e.remarks}`);
      }
      const ackedRecords = acked.flatMap((w) => w.tags);
      const lost = ackedRecords.filter((t) => !inKafka.has(`${t.msisdn}|${t.tag}`));
      report.check(
        lost.length === 0,
        `all ${ackedRecords.length} acknowledged records are in Kafka (${codecScan.length} records in the topic)`,
        `${lost.length} of ${ackedRecords.length} acknowledged records are missing from Kafka, e.g. ${JSON.stringify(lost.slice(0, 3))}`,
      );
      const refused = by((w) => w.status === 503).flatMap((w) => w.tags);
      const refusedButStored = refused.filter((t) => inKafka.has(`${t.msisdn}|${t.tag}`));
      report.fact(
        `${refusedButStored.length} of ${refused.length} records answered 503 reached Kafka anyway (a producer retry after the API gave up: the client's retry makes a duplicate, deduplicated by number/date downstream)`,
      );

      // And in the final state.
      const groupId = `${env.config.TOPIC_PREFIX}state-builder`;
      const deadline2 = Date.now() + 120_000;
      let lag = await groupLag(env.admin, env.topics, groupId);
      while (lag > 0 && Date.now() < deadline2) {
        await sleep(500);
        lag = await groupLag(env.admin, env.topics, groupId);
      }
      report.check(
        lag === 0,
        'state builder caught up after the outage',
        `state builder ${lag} records behind`,
      );
      const readings = await readState(
        env.redis,
        env.config.REDIS_KEY_PREFIX,
        ackedRecords.map((t) => t.msisdn),
      );
      const wrong = ackedRecords.filter((t, i) => readings[i]?.view?.telecomStatus !== STATUS_OF[t.status]);
      report.check(
        wrong.length === 0,
        `all ${ackedRecords.length} acknowledged records are in the final state`,
        `${wrong.length} acknowledged records are not in the final state, e.g. ${wrong
          .slice(0, 3)
          .map((t) => `${t.msisdn} want ${STATUS_OF[t.status]}`)
          .join(', ')}`,
      );
      await stopChild(api);
      await stopChild(builder);
      await env.close({ drop: report.problems.length === 0 });
    } finally {
      running = false;
      await killChild(api).catch(() => undefined);
      await killChild(builder).catch(() => undefined);
      await creds.close().catch(() => undefined);
      await env.close().catch(() => undefined);
    }
  },
};
