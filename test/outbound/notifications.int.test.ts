import { createKafka } from '@hub/infra';
import { EmailAdapter, mailNotifier } from '@hub/outbound';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../dev-tools/src/simulators/server.ts';
import { createSmsGateway } from '../../dev-tools/src/simulators/sms-gateway.ts';
import { startSmtpSink } from '../../dev-tools/src/simulators/smtp-sink.ts';
import { createHarness, type Harness } from '../security/harness.ts';
import { organisationsOf, receiver, startWorker, waitFor } from './support.ts';

let h: Harness;
let worker: Awaited<ReturnType<typeof startWorker>>;
let sms: Awaited<ReturnType<typeof startSimulator>>;
let gateway: ReturnType<typeof createSmsGateway>;
let sink: Awaited<ReturnType<typeof startSmtpSink>>;
let admin: string;
let bank: string;
let hook: Awaited<ReturnType<typeof receiver>>;

async function session(org: string, role: Parameters<Harness['user']>[1]): Promise<string> {
  const u = await h.user(org, role);
  return ((await (await h.login(u.email, u.password)).json()) as { access_token: string }).access_token;
}

async function settled(id: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const res = await h.call('GET', `/api/v1/notifications/${id}`, { token: admin });
    if (res.status === 200) {
      const n = (await res.json()) as Record<string, unknown>;
      if (n.status === 'DELIVERED' || n.status === 'FAILED') return n;
    }
    if (Date.now() > deadline) throw new Error(`notification ${id} did not settle`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  gateway = createSmsGateway({ failing: ['2348039999999'] });
  sms = await startSimulator(gateway.app, 0);
  sink = await startSmtpSink(0, 0);
  process.env.SMS_GATEWAY_URL = sms.url;
  process.env.SMTP_URL = `smtp://127.0.0.1:${sink.smtpPort}`;
  h = await createHarness('notifications');
  const org = organisationsOf(h);
  await org('HUBOPS', 'HUB', null);
  const mtnKey = await org('MTNNG', 'OPERATOR', 'MTN');
  await org('ABANK', 'SERVICE_PROVIDER', null);
  admin = await session('HUBOPS', 'Admin');
  bank = await session('ABANK', 'ServiceProvider');
  worker = await startWorker(h.config, createKafka(h.config));
  hook = await receiver();
  const reg = await h.call('POST', '/api/v1/webhooks/register', {
    token: mtnKey,
    body: { url: hook.url, events: ['RECYCLED'] },
  });
  expect(reg.status).toBe(201);
});

afterAll(async () => {
  await worker?.stop();
  await hook?.close();
  await h?.close();
  await sms?.close();
  await sink?.close();
});

describe('notifications', () => {
  it('sends a subscriber SMS through the gateway: QUEUED → SENT → DELIVERED', async () => {
    const res = await h.call('POST', '/api/v1/notifications', {
      token: admin,
      body: { recipient_type: 'SUBSCRIBER', msisdn: '08031234567', template: 'DELINK_APPROVED' },
    });
    expect(res.status).toBe(202);
    const queued = (await res.json()) as { id: string; status: string; recipient: string };
    expect(queued.status).toBe('QUEUED');
    expect(queued.recipient).toBe('2348031234567');
    const n = await settled(queued.id);
    expect(n).toMatchObject({ status: 'DELIVERED', attempts: 1, channel: 'SMS' });
    const got = (await (await fetch(`${sms.url}/messages?to=2348031234567`)).json()) as {
      items: { text: string }[];
    };
    expect(got.items[0]?.text).toContain('Old identity linkages of 2348031234567 are being removed');
  });

  it('e-mails a next of kin through SMTP, and records a gateway refusal as FAILED', async () => {
    const mail = await h.call('POST', '/api/v1/notifications', {
      token: admin,
      body: {
        recipient_type: 'NEXT_OF_KIN',
        channel: 'EMAIL',
        recipient: 'kin@example.ng',
        msisdn: '2348031234567',
        subject: 'About your relative',
        message: 'The number was reassigned.',
      },
    });
    expect(mail.status).toBe(202);
    const n = await settled(((await mail.json()) as { id: string }).id);
    expect(n.status).toBe('DELIVERED');
    const inbox = (await (await fetch(`${sink.httpUrl}/messages?to=kin@example.ng`)).json()) as {
      items: { subject: string; raw: string }[];
    };
    expect(inbox.items[0]?.subject).toBe('About your relative');
    expect(inbox.items[0]?.raw).toContain('The number was reassigned.');

    const failing = await h.call('POST', '/api/v1/notifications', {
      token: admin,
      body: { recipient_type: 'SUBSCRIBER', msisdn: '2348039999999', message: 'hello' },
    });
    const f = await settled(((await failing.json()) as { id: string }).id);
    expect(f).toMatchObject({ status: 'FAILED', last_error: 'gateway reports the message undeliverable' });
  });

  it("notifies an operator over its webhook, found from the number's range", async () => {
    const res = await h.call('POST', '/api/v1/notifications', {
      token: admin,
      body: { recipient_type: 'OPERATOR', msisdn: '08031234567', template: 'RECYCLED_SIM_DETECTED' },
    });
    expect(res.status).toBe(202);
    const n = (await res.json()) as { id: string; recipient: string };
    expect(n.recipient).toBe('MTNNG');
    // DELIVERED once the operator's endpoint took it (from the webhook delivery log), not at queueing.
    expect(await settled(n.id)).toMatchObject({ status: 'DELIVERED', attempts: 1 });
    const got = await waitFor('the operator webhook', () => hook.got[0]);
    expect(JSON.parse(got.body)).toMatchObject({
      type: 'ng.hub.notification',
      data: { notificationId: n.id },
    });
  });

  it('refuses bad requests with the field named, and lets only Admin/Operator send', async () => {
    const badType = await h.call('POST', '/api/v1/notifications', {
      token: admin,
      body: { recipient_type: 'NEIGHBOUR', message: 'x', recipient: '2348031234567' },
    });
    expect(badType.status).toBe(400);
    expect(((await badType.json()) as { errors: { field: string; message: string }[] }).errors[0]).toEqual({
      field: 'recipient_type',
      message: "must be one of SUBSCRIBER, OPERATOR, NEXT_OF_KIN, NIBSS; got 'NEIGHBOUR'",
    });
    const noText = await h.call('POST', '/api/v1/notifications', {
      token: admin,
      body: { recipient_type: 'SUBSCRIBER', msisdn: '2348031234567' },
    });
    expect(((await noText.json()) as { errors: { field: string }[] }).errors[0]?.field).toBe('message');
    const badNumber = await h.call('POST', '/api/v1/notifications', {
      token: admin,
      body: { recipient_type: 'SUBSCRIBER', msisdn: '0803', message: 'x' },
    });
    expect(((await badNumber.json()) as { errors: { field: string }[] }).errors[0]?.field).toBe('msisdn');
    const byBank = await h.call('POST', '/api/v1/notifications', {
      token: bank,
      body: { recipient_type: 'SUBSCRIBER', msisdn: '2348031234567', message: 'x' },
    });
    expect(byBank.status).toBe(403);
  });

  it('lists with filters and pagination', async () => {
    const page = (await (
      await h.call('GET', '/api/v1/notifications?status=DELIVERED&channel=SMS&limit=5', { token: admin })
    ).json()) as { items: { status: string; channel: string }[]; total: number; limit: number };
    expect(page.total).toBeGreaterThanOrEqual(1);
    expect(page.limit).toBe(5);
    expect(page.items.every((i) => i.status === 'DELIVERED' && i.channel === 'SMS')).toBe(true);
    const bankView = (await (await h.call('GET', '/api/v1/notifications', { token: bank })).json()) as {
      total: number;
    };
    expect(bankView.total).toBe(0);
    const bad = await h.call('GET', '/api/v1/notifications?status=LOST', { token: admin });
    expect(bad.status).toBe(400);
  });

  it('sends password-reset mail over SMTP', async () => {
    await mailNotifier(new EmailAdapter(`smtp://127.0.0.1:${sink.smtpPort}`, 'hub@localhost'))({
      to: 'user@bank.example',
      subject: 'Password reset',
      body: 'code 123456',
    });
    const inbox = (await (await fetch(`${sink.httpUrl}/messages?to=user@bank.example`)).json()) as {
      items: { raw: string }[];
    };
    expect(inbox.items[0]?.raw).toContain('code 123456');
  });
});
