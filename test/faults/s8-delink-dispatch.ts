import { createDelinkHarness, type Story } from '../delink/harness.ts';
import { type Child, killChild, sleep, startChild, stopChild, waitReady } from './env.ts';
import { Rand, type Scenario } from './scenario.ts';

const WORKER = 'delink/src/main.ts';

/**
 * kill -9 of the delink dispatcher while it dispatches a batch of approved requests to slow NIMC
 * and NIBSS simulators, restarted each time. Afterwards every request must be COMPLETED (nothing
 * lost) and every linkage acted on exactly once by its source (nothing repeated): the simulators
 * count calls and effects per idempotency key, and a call re-sent after a crash must be answered
 * without a second effect.
 */
export const delinkDispatchScenario: Scenario = {
  id: 8,
  title: 'kill -9 of the delink dispatcher mid-dispatch: 0 lost, 0 repeated dispatches',
  stopsServices: false,
  async run(ctx, report) {
    const rand = new Rand(ctx.seed ^ 0x8888);
    const n = ctx.quick ? 20 : 60;
    const kills = ctx.quick ? 3 : 6;
    const stories: Story[] = Array.from({ length: n }, (_, i) => ({
      msisdn: `23480388${String(i).padStart(5, '0')}`,
      nin: `3${String(i).padStart(6, '0')}${String(1000 + i).slice(-4)}`,
      bvn: `4${String(i).padStart(6, '0')}${String(3000 + i).slice(-4)}`,
      operator: 'MTN',
      churned: '2024-02-01',
    }));
    const d = await createDelinkHarness('faults8', stories);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TOPIC_PREFIX: d.h.config.TOPIC_PREFIX,
      REDIS_KEY_PREFIX: d.h.config.REDIS_KEY_PREFIX,
      CLICKHOUSE_DATABASE: d.h.config.CLICKHOUSE_DATABASE,
      KAFKA_PARTITIONS: String(d.h.config.KAFKA_PARTITIONS),
      NIMC_URL: d.nimcUrl,
      NIBSS_URL: d.nibssUrl,
      LOG_LEVEL: 'info',
    };
    const start = (): Child => startChild(`s8-${ctx.run}-delink`, WORKER, env, 'delink worker running');
    let worker: Child | null = null;
    try {
      await d.seed(stories);
      report.step(
        `${n} recycled numbers, each with a previous owner's NIN and BVN; topics ${env.TOPIC_PREFIX}*`,
      );
      worker = start();
      await waitReady(worker);
      const reg = await d.call('POST', '/api/v1/recycled-sims/bulk', d.tokens.maker, {
        items: stories.map((s) => ({ msisdn: s.msisdn })),
      });
      if (reg.body.registered !== n)
        throw new Error(
          `registered ${reg.body.registered} of ${n}: ${JSON.stringify(reg.body).slice(0, 300)}`,
        );
      const ids: string[] = [];
      for (const s of stories) {
        const r = await d.call('POST', '/api/v1/delink-requests', d.tokens.maker, {
          msisdn: s.msisdn,
          reason: 'recycled',
        });
        if (r.status !== 201)
          throw new Error(`request for ${s.msisdn}: ${r.status} ${JSON.stringify(r.body)}`);
        ids.push(r.body.id);
      }
      // Slow sources that act at once and answer 400 ms later: a kill in between leaves a call the
      // source acted on and the dispatcher never recorded, which it must send again under the same key.
      // Confirmations are held until the kills are over, so a linkage acted on but not recorded is
      // still active when the dispatcher comes back, and is asked again under the same key.
      for (const desk of [d.nimcDesk, d.nibssDesk])
        desk.configure({ answerDelayMs: 400, holdConfirmations: true });
      for (const id of ids) {
        const r = await d.call('POST', `/api/v1/delink-requests/${id}/approve`, d.tokens.checker, {
          decision: 'approve',
          reason: 'fault run',
        });
        if (r.status !== 200) throw new Error(`approve ${id}: ${r.status} ${JSON.stringify(r.body)}`);
      }
      report.step(`${n} requests approved; sources act at once and answer after 400 ms`);
      const dispatched = () =>
        Object.keys(d.nimcDesk.snapshot().keys).length + Object.keys(d.nibssDesk.snapshot().keys).length;
      for (let k = 0; k < kills; k++) {
        const before = dispatched();
        if (before >= 2 * n) break;
        // Let it get a few linkages further, then SIGKILL at a random moment.
        await d.waitFor('dispatch progress', async () => dispatched() >= before + 2 || null, 60_000);
        await sleep(rand.int(50, 350));
        await killChild(worker);
        report.step(`kill -9 #${k + 1} after ${dispatched()} of ${2 * n} linkages reached a source`);
        worker = start();
        await waitReady(worker);
      }
      for (const desk of [d.nimcDesk, d.nibssDesk])
        desk.configure({ answerDelayMs: 0, confirmDelayMs: 20, holdConfirmations: false });
      const done = await d
        .waitFor(
          'every request COMPLETED',
          async () => {
            const page = await d.call(
              'GET',
              '/api/v1/delink-requests?status=COMPLETED&limit=100',
              d.tokens.auditor,
            );
            return page.body.total >= n ? page.body.total : null;
          },
          300_000,
        )
        .catch(() => null);
      const completed = (
        await d.call('GET', '/api/v1/delink-requests?status=COMPLETED&limit=100', d.tokens.auditor)
      ).body.total as number;
      report.check(
        completed === n,
        `${completed} of ${n} requests COMPLETED`,
        `only ${completed} of ${n} requests COMPLETED (${done})`,
      );

      const keys = [
        ...Object.entries(d.nimcDesk.snapshot().keys),
        ...Object.entries(d.nibssDesk.snapshot().keys),
      ];
      const expected = new Set<string>();
      let unrecorded = 0;
      for (const id of ids) {
        const r = await d.call('GET', `/api/v1/delink-requests/${id}`, d.tokens.auditor);
        for (const l of r.body.linkages as { id: string }[]) expected.add(`${id}:1:${l.id}`);
        const dispatches = (r.body.dispatches as unknown[]).length;
        // A linkage whose source confirmed before the dispatcher came back is not asked again: it
        // has no recorded outcome, only its clearing. More than one outcome per linkage is a repeat.
        if (dispatches > 2) report.fail(`request ${id} records ${dispatches} dispatches for 2 linkages`);
        unrecorded += 2 - dispatches;
      }
      const lost = [...expected].filter((k) => !keys.some(([key, v]) => key === k && v.effects === 1));
      const repeated = keys.filter(([, v]) => v.effects > 1);
      const unexpected = keys.filter(([key]) => !expected.has(key));
      const resent = keys.reduce((sum, [, v]) => sum + v.calls - 1, 0);
      report.check(
        lost.length === 0,
        `0 lost: all ${expected.size} linkages acted on by their source`,
        `${lost.length} linkages never acted on: ${lost.slice(0, 3).join(', ')}`,
      );
      report.check(
        repeated.length === 0,
        '0 repeated dispatches: no idempotency key acted on twice',
        `${repeated.length} keys acted on more than once`,
      );
      report.check(
        unexpected.length === 0,
        'no dispatch outside the approved attempt',
        `${unexpected.length} unexpected keys`,
      );
      report.fact(`${resent} calls re-sent after a crash, each answered from the source's record of its key`);
      report.fact(
        `${unrecorded} linkages confirmed by their source's feed before the restarted dispatcher reached them`,
      );
      const assignable = await d.h.resources.ctx.readState(stories.map((s) => s.msisdn));
      const free = assignable.filter((r) => r.view?.canAssignToNewUser).length;
      report.check(
        free === n,
        `${free} of ${n} numbers can_assign_to_new_user`,
        `only ${free} of ${n} numbers assignable`,
      );
    } finally {
      if (worker) await stopChild(worker, 10_000);
      await d.close();
    }
  },
};
