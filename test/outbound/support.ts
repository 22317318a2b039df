import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type Config,
  createClickHouse,
  createProducer,
  createRedis,
  createSchemaRegistry,
  topicNames,
} from '@hub/infra';
import { OutboundWorker, outboundKeys } from '@hub/outbound';
import { EventCodec, type StateChangeEvent, type VerificationEvent } from '@hub/schemas';
import type { Kafka, Producer } from 'kafkajs';
import type { Harness } from '../security/harness.ts';

export interface Received {
  at: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A local webhook receiver; `answer` decides each response (status, and a delay before it). */
export async function receiver(
  answer: (n: number, r: Received) => { status: number; delayMs?: number } = () => ({ status: 200 }),
): Promise<{ url: string; got: Received[]; close(): Promise<void> }> {
  const got: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { at: Date.now(), headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      got.push(r);
      const a = answer(got.length, r);
      const reply = () => {
        if (!res.destroyed)
          res.writeHead(a.status, { 'content-type': 'text/plain' }).end(`answer ${a.status}`);
      };
      if (a.delayMs) setTimeout(reply, a.delayMs);
      else reply();
    });
  });
  // Node's default (5 s), as most receivers keep it. Under 2 s, Node's client agent takes the
  // server's `Keep-Alive: timeout=1` hint as too short to reuse a socket and opens one per request.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    got,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Publishes verifications and state changes the way the API and the state builder do. */
export class Facts {
  private version = new Map<string, number>();

  private constructor(
    private readonly producer: Producer,
    private readonly codec: EventCodec,
    private readonly topics: ReturnType<typeof topicNames>,
  ) {}

  static async create(config: Config, kafka: Kafka): Promise<Facts> {
    const producer = createProducer(kafka);
    await producer.connect();
    const codec = new EventCodec(createSchemaRegistry(config));
    const topics = topicNames(config.TOPIC_PREFIX);
    await codec.register('verification', topics.verifications);
    await codec.register('state-change', topics.stateChanges);
    return new Facts(producer, codec, topics);
  }

  async verified(
    organisation: string,
    msisdn: string,
    telecomStatus: string | null = 'NORMAL',
  ): Promise<void> {
    const now = Date.now();
    const e: VerificationEvent = {
      eventId: randomUUID(),
      source: 'HTTP',
      requestId: randomUUID(),
      organisation,
      msisdn,
      channel: 'SINGLE',
      verificationStatus: 'VERIFIED',
      telecomStatus,
      lifecycleStatus: 'ACTIVE',
      occurredAt: now,
      receivedAt: now,
    };
    await this.producer.send({
      topic: this.topics.verifications,
      acks: -1,
      messages: [{ key: msisdn, value: this.codec.encode('verification', e) }],
    });
  }

  change(msisdn: string, telecomStatus: string, extra: Partial<StateChangeEvent> = {}): StateChangeEvent {
    const version = (this.version.get(msisdn) ?? 1) + 1;
    this.version.set(msisdn, version);
    const now = Date.now();
    return {
      eventId: randomUUID(),
      source: 'HTTP',
      msisdn,
      version,
      operator: 'MTN',
      telecomStatus,
      statusDate: '2026-12-01',
      reassignmentDate: null,
      lastSwappedDate: null,
      lastChurnedDate: telecomStatus === 'CHURNED' ? '2026-12-01' : null,
      lastReassignedDate: null,
      lifecycleStatus: 'ACTIVE',
      isRecycled: false,
      activeNinLinkages: 0,
      activeBvnLinkages: 0,
      cleanupStatus: 'NONE',
      canAssignToNewUser: false,
      conflicts: [],
      causeTopic: this.topics.statusUpdates,
      causeEventId: randomUUID(),
      occurredAt: now,
      receivedAt: now,
      ...extra,
    };
  }

  async publish(changes: StateChangeEvent[]): Promise<void> {
    await this.producer.send({
      topic: this.topics.stateChanges,
      acks: -1,
      messages: changes.map((c) => ({ key: c.msisdn, value: this.codec.encode('state-change', c) })),
    });
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
  }
}

/** The delivery worker in this process, against the test's topics, keys and database. */
export async function startWorker(config: Config, kafka: Kafka, groupPrefix = config.TOPIC_PREFIX) {
  const producer = createProducer(kafka);
  await producer.connect();
  const redis = createRedis(config);
  const clickhouse = createClickHouse(config);
  const worker = new OutboundWorker({
    config,
    kafka,
    producer,
    redis,
    clickhouse,
    groupPrefix,
    breakerOpenMs: 1_000,
    pollMs: 20,
  });
  await worker.start();
  const keys = outboundKeys(config.REDIS_KEY_PREFIX);
  return {
    worker,
    /**
     * Waits until the worker has applied `subscriptions` and watches `msisdn` for `organisation`,
     * so a change published next is fanned out (under load the projections can lag a while).
     */
    async ready(msisdn: string, organisation: string, subscriptions: readonly string[] = []) {
      await waitFor(`the worker to know ${subscriptions.join(', ')}`, () =>
        subscriptions.every((id) => worker.subscription(id)),
      );
      const deadline = Date.now() + 15_000;
      while ((await redis.hget(keys.watch(msisdn), organisation)) === null) {
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for ${organisation} to watch ${msisdn}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async stop() {
      await worker.stop();
      await producer.disconnect();
      await clickhouse.close();
      redis.disconnect();
    },
  };
}

/**
 * Registers organisations for an outbound test: no number ranges and limits high enough that a
 * test never meets them. Answers the organisation's API key.
 */
export function organisationsOf(h: Pick<Harness, 'organisation'>) {
  return (id: string, type: 'OPERATOR' | 'SERVICE_PROVIDER' | 'HUB', operatorCode: string | null) =>
    h.organisation({
      id,
      name: id,
      type,
      operatorCode,
      ranges: [],
      verifyPerMinute: 10_000,
      generalPerMinute: 10_000,
    });
}
