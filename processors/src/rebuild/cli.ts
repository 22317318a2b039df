import { parseArgs } from 'node:util';
import { createRedis, loadConfig } from '@hub/infra';
import { rebuildingKey } from '@hub/state/keys';
import { jsonLog } from '../kafka/logger.ts';
import { checksumState, dropState } from './projection.ts';
import { type ReplayProgress, replayIntoRedis } from './replay.ts';

/**
 * Rebuilds a projection from Kafka and proves the rebuild is exact.
 *
 *   tsx processors/src/rebuild/cli.ts redis [--threads N]
 *
 * Checksums every state record under REDIS_KEY_PREFIX, drops them (only that prefix's state keys),
 * replays the four input topics from the beginning with a fresh consumer group, checksums again and
 * exits 1 unless the two checksums are equal. Stop the live state builder first: both would write
 * the same records, and the replay (replay.ts) writes each number's record outright, without the
 * live builder's compare-and-set, since it starts from the dropped projection; the first checksum
 * would be a moving target too. REBUILD_GROUP overrides the consumer group. `--threads N` replays
 * with N members of the group on worker threads, each with partition p of every input for p mod N
 * (default 1).
 */
const USAGE = 'usage: tsx processors/src/rebuild/cli.ts redis [--threads N]';

function bar(p: ReplayProgress): string {
  const ratio = p.total === 0 ? 1 : p.done / p.total;
  const width = 30;
  const filled = Math.round(ratio * width);
  return `\rreplay [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(ratio * 100).toFixed(1).padStart(5)}% ${p.done}/${p.total} records`;
}

function usage(problem: string): never {
  process.stderr.write(`${problem}\n${USAGE}\n`);
  process.exit(2);
}

const parsed = (() => {
  try {
    return parseArgs({ options: { threads: { type: 'string' } }, allowPositionals: true });
  } catch (err) {
    return usage((err as Error).message);
  }
})();
const target = parsed.positionals[0];
if (target !== 'redis') usage(target === undefined ? 'missing projection' : `unknown projection '${target}'`);
const threads = Number(parsed.values.threads ?? 1);
if (!Number.isInteger(threads) || threads < 1 || threads > 64)
  usage(`--threads must be a whole number from 1 to 64, got '${parsed.values.threads}'`);

const config = loadConfig();
const log = jsonLog('rebuild', config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL);
const redis = createRedis(config);
try {
  const before = await checksumState(redis, config.REDIS_KEY_PREFIX);
  process.stderr.write(`before: ${before.records} records, checksum ${before.digest}\n`);
  // Readers answer 503 from here until the replayed projection has been checked equal.
  await redis.set(
    rebuildingKey(config.REDIS_KEY_PREFIX),
    JSON.stringify({ since: new Date().toISOString(), pid: process.pid }),
  );
  const dropped = await dropState(redis, config.REDIS_KEY_PREFIX);
  process.stderr.write(`dropped ${dropped} state buckets under '${config.REDIS_KEY_PREFIX}'\n`);
  const started = performance.now();
  const groupId = config.REBUILD_GROUP ?? `${config.TOPIC_PREFIX}state-rebuild-${Date.now()}`;
  const progress = await replayIntoRedis(config, {
    groupId,
    log,
    threads,
    onProgress: (p) => process.stderr.write(bar(p)),
  });
  const seconds = (performance.now() - started) / 1000;
  process.stderr.write(
    `\nreplayed ${progress.total} records in ${seconds.toFixed(1)} s (group ${groupId}, ${threads} thread${threads === 1 ? '' : 's'})\n`,
  );
  const after = await checksumState(redis, config.REDIS_KEY_PREFIX);
  process.stderr.write(`after:  ${after.records} records, checksum ${after.digest}\n`);
  const equal = before.records === after.records && before.digest === after.digest;
  process.stdout.write(`${JSON.stringify({ equal, before, after, replayed: progress.total, seconds })}\n`);
  // A projection that does not match stays marked: serving it would give wrong answers.
  if (equal) await redis.del(rebuildingKey(config.REDIS_KEY_PREFIX));
  process.exitCode = equal ? 0 : 1;
} finally {
  await redis.quit();
}
