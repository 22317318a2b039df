/**
 * Every Redis key of the outbound package. A subscription's queue keys share the hash tag
 * `{<subscription id>}`, so each queue script touches one Redis Cluster slot.
 */
export function outboundKeys(prefix: string) {
  return {
    /** Hash: organisation -> watch expiry (base-36 epoch seconds), `_` -> last statuses seen. */
    watch: (msisdn: string) => `${prefix}w:${msisdn}`,
    /** Subscription snapshot: hash { o: topic offset, v: JSON }. */
    subscription: (id: string) => `${prefix}wh:sub:${id}`,
    /** Set of every subscription id. */
    subscriptions: `${prefix}wh:subs`,
    /** Due messages of one subscription: sorted set of webhook ids by due time (ms). */
    queue: (sub: string) => `${prefix}wh:{${sub}}:q`,
    /** One queued message: hash { b: body, a: attempts made, t, n, s, f: first queued }. */
    message: (sub: string, id: string) => `${prefix}wh:{${sub}}:m:${id}`,
    /**
     * A subscription's delivered messages: sorted set of webhook ids by delivery time (ms), its
     * newest ones kept, so a replay after a crash does not send them again.
     */
    delivered: (sub: string) => `${prefix}wh:{${sub}}:done`,
    /** The per-message delivered marker older workers set (3-day expiry): still honoured, no longer written. */
    deliveredMarker: (sub: string, id: string) => `${prefix}wh:{${sub}}:d:${id}`,
    /** Endpoint health: hash { since: start of the current failure streak (ms) }. */
    health: (sub: string) => `${prefix}wh:{${sub}}:h`,
  };
}

export type OutboundKeys = ReturnType<typeof outboundKeys>;
