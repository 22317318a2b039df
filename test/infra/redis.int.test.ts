import { afterAll, describe, expect, it } from 'vitest';
import { createRedis, loadConfig } from '../../infra/src/index.ts';
import { uniqueId } from './helpers.ts';

const config = loadConfig();
const redis = createRedis(config);
const prefix = `${config.REDIS_KEY_PREFIX}it:${uniqueId()}:`;

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

describe('redis', () => {
  it('round-trips strings and hashes, and pipelines a bulk read in one trip', async () => {
    expect(await redis.ping()).toBe('PONG');
    await redis.set(`${prefix}a`, 'one');
    await redis.hset(`${prefix}msisdn:2348012345678`, { status: 'CHURNED', nin: 2 });
    expect(await redis.get(`${prefix}a`)).toBe('one');
    expect(await redis.hgetall(`${prefix}msisdn:2348012345678`)).toEqual({ status: 'CHURNED', nin: '2' });
    const results = await redis
      .pipeline()
      .get(`${prefix}a`)
      .hget(`${prefix}msisdn:2348012345678`, 'status')
      .exec();
    expect(results?.map(([, value]) => value)).toEqual(['one', 'CHURNED']);
  });

  it('keeps data in an append-only file', async () => {
    expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
  });
});
