import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/** Addresses a webhook may not reach unless the allowlist names them (SSRF). */
const PRIVATE = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv6');

export type UrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

export interface UrlPolicy {
  production: boolean;
  /** Hostnames, IPs or CIDRs (`127.0.0.0/8`) that may be reached although private. */
  allowlist: readonly string[];
  resolve?: (host: string) => Promise<string[]>;
}

function allowlisted(allowlist: readonly string[], host: string, address: string | null): boolean {
  const list = new BlockList();
  const names = new Set<string>();
  for (const entry of allowlist) {
    const [net, bits] = entry.split('/');
    const family = net ? isIP(net) : 0;
    if (family === 0) names.add(entry);
    else if (bits === undefined) list.addAddress(net!, family === 6 ? 'ipv6' : 'ipv4');
    else list.addSubnet(net!, Number(bits), family === 6 ? 'ipv6' : 'ipv4');
  }
  if (names.has(host.toLowerCase())) return true;
  if (address === null) return false;
  return list.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
}

/** `::ffff:7f00:1` (an IPv4-mapped IPv6 address) as the IPv4 address it stands for. */
function unmapped(address: string): string {
  const m = /^::ffff:(?:([0-9a-f]{1,4}):([0-9a-f]{1,4})|(\d+\.\d+\.\d+\.\d+))$/i.exec(address);
  if (!m) return address;
  if (m[3]) return m[3];
  const hi = Number.parseInt(m[1]!, 16);
  const lo = Number.parseInt(m[2]!, 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

const defaultResolve = async (host: string) => (await lookup(host, { all: true })).map((a) => a.address);

/**
 * Whether a webhook may be sent to `raw`: https only in production, http(s) otherwise; no
 * credentials in the URL; and neither the host nor any address it resolves to may be loopback,
 * private, link-local or otherwise internal unless the allowlist names it. Checked at
 * registration (the 400 says why) and again before each attempt (DNS may have changed).
 */
export async function checkTargetUrl(raw: string, policy: UrlPolicy): Promise<UrlCheck> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'is not an absolute URL' };
  }
  if (policy.production ? url.protocol !== 'https:' : !['https:', 'http:'].includes(url.protocol))
    return {
      ok: false,
      reason: policy.production
        ? 'must use https'
        : `must use http or https, not ${url.protocol.slice(0, -1)}`,
    };
  if (url.username || url.password) return { ok: false, reason: 'must not carry credentials' };
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = await (policy.resolve ?? defaultResolve)(host);
    } catch {
      return { ok: false, reason: `host ${host} does not resolve` };
    }
  }
  for (const found of addresses) {
    const address = unmapped(found);
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (PRIVATE.check(address, family) && !allowlisted(policy.allowlist, host, address))
      return {
        ok: false,
        reason: `${host === address ? address : `${host} resolves to ${address}, which`} is a loopback or private address; WEBHOOK_URL_ALLOWLIST does not name it`,
      };
  }
  return { ok: true, url };
}
