import { randomBytes } from 'node:crypto';
import { createKafka, deleteTopicsWithPrefix, loadConfig } from '@hub/infra';

/** Names this integration run; the workers inherit it, and every test's topics carry it. */
export const TEST_RUN_VARIABLE = 'HUB_TEST_RUN';

/**
 * Every test has topics of its own (`test.<run>.<name>_<id>.`, `test-<run>.<id>.`). Once the run
 * is over they are deleted, so the local broker does not keep a partition directory, and its open
 * files, for every test ever run. Only this run's: another run on the same broker keeps its own.
 */
export default function setup(): () => Promise<void> {
  const run = randomBytes(3).toString('hex');
  process.env[TEST_RUN_VARIABLE] = run;
  return async () => {
    const admin = createKafka(loadConfig({ ...process.env, LOG_LEVEL: 'error' })).admin();
    try {
      await admin.connect();
      await deleteTopicsWithPrefix(admin, `test.${run}.`, `test-${run}.`);
    } catch (err) {
      console.warn(`could not delete run ${run}'s test topics: ${String(err)}`);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  };
}
