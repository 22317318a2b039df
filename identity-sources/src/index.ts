import type { Config } from '@hub/infra';
import { NibssClient } from './nibss-client.ts';
import { NimcClient } from './nimc-client.ts';

export { CircuitBreaker, CircuitOpenError, type CircuitState } from './circuit-breaker.ts';
export { type DelinkAnswer, type DelinkOrder, lastFour } from './delink.ts';
export { SourceClient, SourceError, type SourceFailure } from './http.ts';
export { type NibssBvnRecord, NibssClient, type NipAccount } from './nibss-client.ts';
export { NimcClient, type NimcNinRecord, type NimcPerson } from './nimc-client.ts';

/** The external identity sources the corroboration asks live. */
export interface IdentitySources {
  nimc: NimcClient;
  nibss: NibssClient;
}

/** The NIMC and NIBSS clients from configuration: the corroborate path and the delink dispatcher share them. */
export function createIdentitySources(
  config: Pick<Config, 'NIMC_URL' | 'NIBSS_URL' | 'NIBSS_USERNAME' | 'NIBSS_PASSWORD'>,
): IdentitySources {
  return {
    nimc: new NimcClient(config.NIMC_URL),
    nibss: new NibssClient(config.NIBSS_URL, {
      credentials: { userName: config.NIBSS_USERNAME, password: config.NIBSS_PASSWORD },
    }),
  };
}
