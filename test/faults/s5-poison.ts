import { encodeSampleEvent, type SampleEvent } from '@hub/dev-tools/sample/index';
import { partitionFor } from '@hub/infra/partitioning';
import { RAW_TABLES } from '@hub/state/history/tables';
import { DEAD_LETTER_HEADERS } from '../../processors/src/kafka/dead-letters.ts';
import { groupLag } from '../../processors/src/state-builder/test-env.ts';
import {
  type Child,
  createFaultEnv,
  killChild,
  scalar,
  sleep,
  startHistorySink,
  startStateBuilder,
  stopChild,
  waitReady,
} from './env.ts';
import {
  compareState,
  makeSample,
  sampleProducer,
  scanTopic,
  stateProblems,
  waitForHistory,
} from './oracle.ts';
import type { Scenario } from './scenario.ts';

interface Poison {
  topic: string;
  partition: number;
  offset: string;
  kind: string;
  key: Buffer | null;
  value: Buffer | null;
}

/**
 * Undecodable and poison records on every source topic, on every partition, ahead of valid
 * events: each must be dead-lettered (original bytes, provenance headers) and the valid events
 * behind it must still be applied and stored.
 */
export const poisonScenario: Scenario = {
  id: 5,
  title: 'poison and undecodable records on every source topic',
  stopsServices: false,
  async run(ctx, report) {
    const env = await createFaultEnv(ctx.run, 's5');
    const partitions = env.config.KAFKA_PARTITIONS;
    const sample = makeSample(ctx.quick ? 400 : 1000, ctx.seed + 5, env.config.TOKEN_SECRET);
    const producer = await sampleProducer(env);
    const builder: Child = startStateBuilder(env);
    const sink: Child = startHistorySink(env);
    try {
      await Promise.all([waitReady(builder), waitReady(sink)]);
      const keyFor = (p: number) => {
        for (let i = 0; ; i++) {
          const m = `2348030${String(900_000 + i).padStart(6, '0')}`;
          if (partitionFor(m, partitions) === p) return m;
        }
      };
      const valid = (kind: SampleEvent['kind']) => sample.events.find((e) => e.kind === kind)!;
      const inputs: [string, SampleEvent['kind'] | null][] = [
        [env.topics.statusUpdates, 'status-update'],
        [env.topics.ninLinkages, 'nin-linkage'],
        [env.topics.bvnLinkages, 'bvn-linkage'],
        [env.topics.delink, 'delink'],
        [env.topics.verifications, null],
        [env.topics.audit, null],
      ];
      const poisons: Poison[] = [];
      const sent: Omit<Poison, 'offset'>[] = [];
      for (const [topic, kind] of inputs) {
        for (let p = 0; p < partitions; p++) {
          const key = Buffer.from(keyFor(p));
          const good = kind ? encodeSampleEvent(producer.codec, valid(kind)) : null;
          const variants: [string, Buffer | null][] = [
            ['not Avro (no magic byte)', Buffer.from('{"msisdn":"2348031234567","status":"SWAPPED"}')],
            [
              'unknown schema id',
              Buffer.concat([Buffer.from([0, 0x7f, 0xff, 0xff, 0x01]), Buffer.from('garbage')]),
            ],
            ['empty value', Buffer.alloc(0)],
            ['null value (tombstone)', null],
            ['magic byte only', Buffer.from([0])],
          ];
          if (good)
            variants.push(['truncated Avro', good.subarray(0, Math.max(6, Math.floor(good.length / 2)))]);
          if (kind) {
            const e = valid(kind);
            const hostile = {
              ...e,
              msisdn: 'abc',
              value: { ...e.value, msisdn: "abc'; DROP TABLE x; --" },
            } as SampleEvent;
            variants.push(['valid Avro, invalid MSISDN', encodeSampleEvent(producer.codec, hostile)]);
          }
          for (const [label, value] of variants) sent.push({ topic, partition: p, kind: label, key, value });
        }
        if (kind) {
          // A valid event on a partition its key does not hash to: re-routed or dead-lettered.
          const e = valid(kind);
          const right = partitionFor(e.msisdn, partitions);
          sent.push({
            topic,
            partition: (right + 1) % partitions,
            kind: 'valid event on the wrong partition',
            key: Buffer.from(e.msisdn),
            value: encodeSampleEvent(producer.codec, e),
          });
        }
      }
      for (const s of sent) {
        const [meta] = await producer.producer.send({
          topic: s.topic,
          messages: [{ key: s.key, value: s.value, partition: s.partition }],
        });
        poisons.push({ ...s, offset: String(meta?.baseOffset ?? '-1') });
      }
      report.step(
        `produced ${poisons.length} poison records (${[...new Set(poisons.map((p) => p.kind))].join('; ')}) on ${inputs.length} topics × ${partitions} partitions, then ${sample.events.length} valid deliveries behind them`,
      );
      await producer.send(sample.events);

      const groupId = `${env.config.TOPIC_PREFIX}state-builder`;
      const deadline = Date.now() + 120_000;
      let lag = await groupLag(env.admin, env.topics, groupId);
      while (lag > 0 && Date.now() < deadline) {
        await sleep(500);
        lag = await groupLag(env.admin, env.topics, groupId);
      }
      report.check(
        lag === 0,
        'state builder consumed past every poison record (lag 0)',
        `state builder stuck ${lag} records behind`,
      );
      const cmp = await compareState(env, sample.expected, null);
      const sp = stateProblems(cmp);
      for (const p of sp) report.fail(`valid events behind the poison: ${p}`);
      if (sp.length === 0)
        report.fact(
          `all ${cmp.compared} numbers of the valid events behind the poison match the expected state`,
        );
      const pairs: [string, string][] = [
        [env.topics.statusUpdates, RAW_TABLES['status-update']],
        [env.topics.ninLinkages, RAW_TABLES['nin-linkage']],
        [env.topics.bvnLinkages, RAW_TABLES['bvn-linkage']],
        [env.topics.delink, RAW_TABLES.delink],
      ];
      const perTopic = (topic: string) =>
        poisons.filter(
          (p) =>
            p.topic === topic &&
            p.kind !== 'valid event on the wrong partition' &&
            p.kind !== 'valid Avro, invalid MSISDN',
        ).length;
      const late = await waitForHistory(
        env,
        pairs,
        120_000,
        Object.fromEntries(pairs.map(([t]) => [t, poisons.filter((p) => p.topic === t).length])),
      );
      if (late) report.fail(`history sink did not store the valid events behind the poison: ${late}`);
      for (const [topic, table] of pairs) {
        const ids = sample.events.filter((e) => RAW_TABLES[e.kind] === table).map((e) => e.value.eventId);
        const stored = await scalar(
          env.clickhouse,
          `SELECT uniqExact(event_id) FROM ${env.db}.${table} WHERE event_id IN (${[...new Set(ids)].map((i) => `'${i}'`).join(',')})`,
        );
        report.check(
          stored === new Set(ids).size,
          `${table}: all ${stored} valid events behind ${perTopic(topic)} undecodable records stored`,
          `${table}: ${stored} of ${new Set(ids).size} valid events stored`,
        );
      }
      // Every poison record must be in its topic's dead-letter topic with provenance. The history
      // sink owns the dead letters of the topics with no valid event behind the poison (verifications,
      // audit), so nothing above waited for it there: read until every letter is in, or 60 s.
      const readLetters = async () => {
        const letters = new Map<string, { headers: Record<string, string>; value: Buffer | null }[]>();
        for (const [topic] of inputs) {
          for (const m of await scanTopic(env.kafka, env.admin, `${topic}.dlq`)) {
            const h: Record<string, string> = {};
            for (const [k, v] of Object.entries(m.message.headers ?? {})) h[k] = String(v ?? '');
            const id = `${h[DEAD_LETTER_HEADERS.sourceTopic]}/${h[DEAD_LETTER_HEADERS.sourcePartition]}/${h[DEAD_LETTER_HEADERS.sourceOffset]}`;
            const list = letters.get(id) ?? [];
            list.push({ headers: h, value: m.message.value });
            letters.set(id, list);
          }
        }
        return letters;
      };
      const lettersDeadline = Date.now() + 60_000;
      let letters = new Map<string, { headers: Record<string, string>; value: Buffer | null }[]>();
      for (;;) {
        letters = await readLetters().catch(() => letters);
        const missing = poisons.filter(
          (p) =>
            p.kind !== 'valid event on the wrong partition' &&
            !letters.has(`${p.topic}/${p.partition}/${p.offset}`),
        );
        if (missing.length === 0 || Date.now() > lettersDeadline) break;
        await sleep(1000);
      }
      // A letter written twice would show by now.
      await sleep(2000);
      letters = await readLetters();
      const { EventCodec } = await import('@hub/schemas');
      const { createSchemaRegistry } = await import('@hub/infra');
      const codec = new EventCodec(createSchemaRegistry(env.config));
      let good = 0;
      const reasons = new Map<string, string>();
      for (const p of poisons) {
        const list = letters.get(`${p.topic}/${p.partition}/${p.offset}`) ?? [];
        const where = `${p.kind} on ${p.topic.slice(env.config.TOPIC_PREFIX.length)}[${p.partition}]@${p.offset}`;
        if (list.length === 0) {
          if (p.kind === 'valid event on the wrong partition') {
            // Re-routing is the other accepted outcome: a copy on the partition the key hashes to.
            const copies = (await scanTopic(env.kafka, env.admin, p.topic)).filter(
              (m) => m.partition === partitionFor(p.key!, partitions) && m.message.value?.equals(p.value!),
            );
            if (copies.length > 0) {
              good++;
              reasons.set(p.kind, 're-routed to its partition');
              continue;
            }
          }
          report.fail(`no dead letter for ${where}`);
          continue;
        }
        const problems: string[] = [];
        // Both consumer groups decode the input topics; only the topic's owner dead-letters
        // (processors/src/kafka/dead-letters.ts decodeDeadLetterOwner).
        if (list.length > 1)
          problems.push(
            `dead-lettered ${list.length} times (${list.map((l) => l.headers[DEAD_LETTER_HEADERS.step]).join(', ')})`,
          );
        for (const l of list) {
          for (const h of Object.values(DEAD_LETTER_HEADERS))
            if (!l.headers[h]) problems.push(`header ${h} missing`);
          try {
            const letter = await codec.decode('dead-letter', l.value);
            const original = (letter as { value: Buffer | null }).value;
            const same =
              p.value === null ? original === null || original?.length === 0 : original?.equals(p.value);
            if (!same) problems.push('original bytes not kept');
          } catch (err) {
            problems.push(`dead letter undecodable: ${String(err)}`);
          }
        }
        if (problems.length > 0)
          report.fail(`dead letter for ${where}: ${[...new Set(problems)].join(', ')}`);
        else {
          good++;
          reasons.set(
            p.kind,
            `${list[0]!.headers[DEAD_LETTER_HEADERS.step]}: ${list[0]!.headers[DEAD_LETTER_HEADERS.reason]}`.slice(
              0,
              140,
            ),
          );
        }
      }
      report.fact(
        `${good} of ${poisons.length} poison records dead-lettered once with reason, step, source topic/partition/offset, time and original bytes (or re-routed)`,
      );
      for (const [kind, reason] of reasons) report.fact(`${kind} → ${reason}`);
      report.check(
        !builder.exited() && !sink.exited(),
        'both consumers stayed up',
        'a consumer process exited on poison input',
      );
      await stopChild(builder);
      await stopChild(sink);
      await env.close({ drop: report.problems.length === 0 });
    } finally {
      await killChild(builder).catch(() => undefined);
      await killChild(sink).catch(() => undefined);
      await producer.close().catch(() => undefined);
      await env.close().catch(() => undefined);
    }
  },
};
