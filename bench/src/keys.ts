import { randomBytes } from 'node:crypto';
import type { Config } from '@hub/infra';
import { generateApiKey, Security } from '@hub/security';

export interface BenchKeys {
  /** A service provider (bank) key: verification calls. */
  bank: string;
  /** An MTN operator key: status updates for MTN's ranges. */
  operator: string;
}

/** Rate limits far above anything a benchmark sends: the benchmarks measure the hub, not its limits. */
const UNLIMITED = 100_000_000;

/**
 * Organisations and API keys for a benchmark's own topic prefix, published on its accounts topic
 * through the security layer (the API process projects them when it starts), as the demo seed does.
 */
export async function issueBenchKeys(config: Config): Promise<BenchKeys> {
  const security = await Security.create(config, { project: false });
  try {
    const actor = 'system:bench';
    await security.createOrganisation(actor, {
      id: 'BENCHBANK',
      name: 'Bench Bank',
      type: 'SERVICE_PROVIDER',
      verifyPerMinute: UNLIMITED,
      generalPerMinute: UNLIMITED,
    });
    await security.createOrganisation(actor, {
      id: 'BENCHMTN',
      name: 'Bench MTN',
      type: 'OPERATOR',
      operatorCode: 'MTN',
      verifyPerMinute: UNLIMITED,
      generalPerMinute: UNLIMITED,
    });
    const issue = async (organisationId: string): Promise<string> => {
      const generated = generateApiKey();
      const now = Date.now();
      // The organisation is not in a projection yet (this tool does not run one): publish the key event.
      await security.publish('API_KEY_ISSUED', actor, {
        apiKey: {
          id: randomBytes(16).toString('hex'),
          organisationId,
          name: `${organisationId} bench key`,
          prefix: generated.prefix,
          hash: generated.hash,
          createdAt: now,
          createdBy: actor,
          expiresAt: null,
          revokedAt: null,
        },
      });
      return generated.key;
    };
    return { bank: await issue('BENCHBANK'), operator: await issue('BENCHMTN') };
  } finally {
    await security.close();
  }
}
