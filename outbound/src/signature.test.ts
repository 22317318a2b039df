import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { newSigningSecret } from './secrets.ts';
import { Signer } from './signature.ts';

describe('webhook signature', () => {
  it('is the signature the standardwebhooks library computes and verifies', () => {
    for (const body of [
      '{}',
      '{"data":{"phoneNumber":"2348031234567","note":"ünïcødé ✓"}}',
      JSON.stringify({ pad: 'x'.repeat(5000) }),
    ]) {
      const secret = newSigningSecret();
      const id = `msg_${Math.random().toString(36).slice(2)}`;
      const at = new Date(Math.floor(Date.now() / 1000) * 1000);
      const mine = new Signer(secret).sign(id, at.getTime() / 1000, body);
      expect(mine).toBe(new Webhook(secret).sign(id, at, body));
      const headers = {
        'webhook-id': id,
        'webhook-timestamp': String(at.getTime() / 1000),
        'webhook-signature': mine,
      };
      expect(() => new Webhook(secret).verify(body, headers)).not.toThrow();
      expect(() => new Webhook(newSigningSecret()).verify(body, headers)).toThrow();
    }
  });
});
