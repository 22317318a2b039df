/** Every Redis key the security layer uses, in one place. `{…}` hash tags keep a session family on one slot. */
export function securityKeys(prefix: string) {
  const p = `${prefix}sec:`;
  return {
    organisation: (id: string) => `${p}org:${id}`,
    organisations: `${p}orgs`,
    user: (id: string) => `${p}user:${id}`,
    userByEmail: (email: string) => `${p}email:${email}`,
    /** API key record, found by the SHA-256 of the key. */
    apiKey: (hash: string) => `${p}key:${hash}`,
    apiKeyId: (id: string) => `${p}keyid:${id}`,
    /** Hash of key id → key hash, one per organisation, for listings. */
    organisationKeys: (organisationId: string) => `${p}orgkeys:${organisationId}`,
    rateLimit: (scope: string, subject: string) => `${p}rl:${scope}:${subject}`,
    loginFailures: (email: string) => `${p}login-fail:${email}`,
    loginLock: (email: string) => `${p}login-lock:${email}`,
    revokedAccess: (jti: string) => `${p}revoked:${jti}`,
    sessionFamily: (family: string) => `${p}family:{${family}}`,
    refreshToken: (family: string, jti: string) => `${p}refresh:{${family}}:${jti}`,
    resetCode: (hash: string) => `${p}reset:${hash}`,
    /** When every session of a user issued before it ended (ms): password, role, disabled, deleted. */
    sessionsEnded: (userId: string) => `${p}sessions-ended:${userId}`,
  };
}

export type SecurityKeys = ReturnType<typeof securityKeys>;
