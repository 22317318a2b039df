import { Redis, type RedisOptions } from 'ioredis';
import type { Config } from '../config.ts';

/**
 * No `keyPrefix` is set here: ioredis does not apply it to SCAN patterns or
 * to keys built inside Lua, so key shapes (with REDIS_KEY_PREFIX) are built
 * explicitly where they are defined.
 */
export function createRedis(
  config: Pick<Config, 'REDIS_URL' | 'KAFKA_CLIENT_ID'>,
  overrides: RedisOptions = {},
): Redis {
  return new Redis(config.REDIS_URL, { connectionName: config.KAFKA_CLIENT_ID, ...overrides });
}
