import { ConfigError, loadConfig } from '@hub/infra';
import { describe, expect, it } from 'vitest';
import { normaliseAddress, TrustedProxies } from './client-address.ts';

describe('client address behind trusted proxies', () => {
  const proxies = new TrustedProxies(['10.0.0.0/8', '192.168.1.7', 'fd00::/8']);

  it('uses the socket address when no proxy is trusted, whatever X-Forwarded-For says', () => {
    const none = new TrustedProxies([]);
    expect(none.clientAddress('10.1.2.3', '203.0.113.9')).toBe('10.1.2.3');
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', () => {
    expect(proxies.clientAddress('198.51.100.4', '203.0.113.9')).toBe('198.51.100.4');
  });

  it('takes the forwarded address when the peer is a trusted proxy', () => {
    expect(proxies.clientAddress('10.0.0.5', '203.0.113.9')).toBe('203.0.113.9');
    expect(proxies.clientAddress('::ffff:192.168.1.7', '203.0.113.9')).toBe('203.0.113.9');
  });

  it('reads the chain from the right past trusted hops, so a client-written left part never counts', () => {
    // The client sent "1.1.1.1" itself; the proxy appended the address it saw.
    expect(proxies.clientAddress('10.0.0.5', '1.1.1.1, 203.0.113.9, 10.0.0.6')).toBe('203.0.113.9');
  });

  it('stops at a hop that is not an address and keeps the last trusted one', () => {
    expect(proxies.clientAddress('10.0.0.5', 'not-an-ip')).toBe('10.0.0.5');
    expect(proxies.clientAddress('10.0.0.5', '203.0.113.9, junk, 10.0.0.6')).toBe('10.0.0.6');
  });

  it('takes the leftmost address when every hop is trusted', () => {
    expect(proxies.clientAddress('10.0.0.5', '10.9.9.9, 10.0.0.6')).toBe('10.9.9.9');
  });

  it('understands IPv6 proxies and clients', () => {
    expect(proxies.clientAddress('fd00::1', '2001:db8::7')).toBe('2001:db8::7');
  });

  it('normalises IPv4-mapped IPv6 addresses', () => {
    expect(normaliseAddress('::FFFF:127.0.0.1')).toBe('127.0.0.1');
    expect(normaliseAddress(' 2001:DB8::1 ')).toBe('2001:db8::1');
  });

  it('refuses an entry that is not an address', () => {
    expect(() => new TrustedProxies(['lb.internal'])).toThrow(/not an IP address/);
  });
});

describe('TRUSTED_PROXIES', () => {
  it('parses addresses and CIDRs, and is empty by default', () => {
    expect(loadConfig({}).TRUSTED_PROXIES).toEqual([]);
    expect(loadConfig({ TRUSTED_PROXIES: ' 10.0.0.0/8, 192.168.1.7 ,fd00::/8' }).TRUSTED_PROXIES).toEqual([
      '10.0.0.0/8',
      '192.168.1.7',
      'fd00::/8',
    ]);
  });

  it('names the variable and the entry that is not an address or CIDR', () => {
    for (const bad of ['lb.internal', '10.0.0.0/33', '10.0.0.1/8/2', 'fd00::/129']) {
      try {
        loadConfig({ TRUSTED_PROXIES: `10.0.0.1,${bad}` });
        expect.unreachable(`${bad} accepted`);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        expect((err as ConfigError).problems[0]?.variable).toBe('TRUSTED_PROXIES');
        expect((err as ConfigError).problems[0]?.message).toContain(`"${bad}"`);
      }
    }
  });
});
