import { describe, expect, it } from 'vitest';
import { checkTargetUrl } from './target-url.ts';

const resolve = async (host: string) => (host === 'internal.example' ? ['10.1.2.3'] : ['93.184.216.34']);
const dev = { production: false, allowlist: ['127.0.0.0/8', '::1', 'localhost'], resolve };
const prod = { production: true, allowlist: [], resolve };

describe('webhook target URLs', () => {
  it('accepts a public https URL in production and refuses http there', async () => {
    expect((await checkTargetUrl('https://bank.example/hooks', prod)).ok).toBe(true);
    expect(await checkTargetUrl('http://bank.example/hooks', prod)).toEqual({
      ok: false,
      reason: 'must use https',
    });
  });

  it('refuses loopback and private addresses unless allowlisted', async () => {
    const refused = await checkTargetUrl('https://127.0.0.1:9000/x', prod);
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.reason).toContain('127.0.0.1 is a loopback or private address');
    expect((await checkTargetUrl('http://127.0.0.1:9000/x', dev)).ok).toBe(true);
    expect((await checkTargetUrl('http://[::1]:9000/x', dev)).ok).toBe(true);
    const internal = await checkTargetUrl('https://internal.example/x', dev);
    expect(!internal.ok && internal.reason).toContain('internal.example resolves to 10.1.2.3');
    expect((await checkTargetUrl('http://169.254.169.254/latest', dev)).ok).toBe(false);
    expect((await checkTargetUrl('http://[::ffff:127.0.0.1]/x', prod)).ok).toBe(false);
  });

  it('refuses other schemes, credentials and non-URLs', async () => {
    expect(await checkTargetUrl('ftp://bank.example/', dev)).toEqual({
      ok: false,
      reason: 'must use http or https, not ftp',
    });
    expect((await checkTargetUrl('https://u:p@bank.example/', dev)).ok).toBe(false);
    expect(await checkTargetUrl('bank.example/hook', dev)).toEqual({
      ok: false,
      reason: 'is not an absolute URL',
    });
  });
});
