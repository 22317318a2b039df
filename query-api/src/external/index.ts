import type { Config } from '@hub/infra';
import { NibssClient } from './nibss-client.ts';
import { NimcClient } from './nimc-client.ts';

export { CircuitBreaker, CircuitOpenError, type CircuitState } from './circuit-breaker.ts';
export { SourceClient, SourceError, type SourceFailure } from './http.ts';
export { type NibssBvnRecord, NibssClient, type NipAccount } from './nibss-client.ts';
export { NimcClient, type NimcNinRecord, type NimcPerson } from './nimc-client.ts';

/** The external identity sources the corroboration asks live. */
export interface IdentitySources {
  nimc: NimcClient;
  nibss: NibssClient;
}

export function createIdentitySources(config: Pick<Config, 'NIMC_URL' | 'NIBSS_URL'>): IdentitySources {
  return { nimc: new NimcClient(config.NIMC_URL), nibss: new NibssClient(config.NIBSS_URL) };
}
