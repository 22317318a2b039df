import { BlockList, isIP } from 'node:net';

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) is `10.0.0.1`. */
export function normaliseAddress(address: string): string {
  const trimmed = address.trim();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(trimmed);
  return mapped?.[1] ?? trimmed.toLowerCase();
}

/**
 * The load balancers whose `X-Forwarded-For` is believed (TRUSTED_PROXIES: addresses and CIDRs).
 * A request's client is its socket address, unless that address is a trusted proxy: then the
 * forwarded chain is read from the right (the hop the proxy itself saw) past every trusted proxy,
 * and the first address that is not one is the client. Anything left of it was written by the
 * client and could be anything, so it never counts.
 */
export class TrustedProxies {
  private readonly list = new BlockList();
  readonly size: number;

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const [address = '', prefix] = entry.split('/');
      const normalised = normaliseAddress(address);
      const family = isIP(normalised) === 6 ? 'ipv6' : 'ipv4';
      if (isIP(normalised) === 0) throw new Error(`trusted proxy "${entry}" is not an IP address or CIDR`);
      if (prefix === undefined) this.list.addAddress(normalised, family);
      else this.list.addSubnet(normalised, Number(prefix), family);
    }
    this.size = entries.length;
  }

  trusts(address: string): boolean {
    if (this.size === 0) return false;
    const normalised = normaliseAddress(address);
    const family = isIP(normalised);
    return family !== 0 && this.list.check(normalised, family === 6 ? 'ipv6' : 'ipv4');
  }

  /** The client of a request that arrived from `socket` carrying `forwardedFor`. */
  clientAddress(socket: string | undefined, forwardedFor: string | undefined): string {
    if (!socket) return 'unknown';
    let client = normaliseAddress(socket);
    if (!forwardedFor || !this.trusts(client)) return client;
    const hops = forwardedFor.split(',');
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = normaliseAddress(hops[i] ?? '');
      // A hop that is not an address: the proxy that passed it on is as far as the chain is known.
      if (isIP(hop) === 0) break;
      client = hop;
      if (!this.trusts(hop)) break;
    }
    return client;
  }
}
