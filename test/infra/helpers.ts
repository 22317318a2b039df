import { randomBytes } from 'node:crypto';

/** A per-test suffix so tests can share the local services and run in parallel. */
export function uniqueId(): string {
  return randomBytes(4).toString('hex');
}
