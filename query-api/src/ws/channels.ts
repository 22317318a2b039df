import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { type Config, createSchemaRegistry, topicNames } from '@hub/infra';
import { type Principal, rolesOf } from '@hub/ingest';
import { OutboundCodec, type SubscriptionEvent } from '@hub/outbound';
import { allocatedOperator, type DelinkEvent, EventCodec, type StateChangeEvent } from '@hub/schemas';
import type { Consumer, Kafka } from 'kafkajs';
import { type WebSocket, WebSocketServer } from 'ws';

/** The Reconix WebSocket channels. */
export const CHANNELS = ['notifications', 'delink_updates', 'sim_alerts', 'system'] as const;
export type Channel = (typeof CHANNELS)[number];

/**
 * Close codes (RFC 6455 private range), documented in the OpenAPI description:
 * 4401 the token stopped being valid (checked again at every heartbeat);
 * 4008 the client reads too slowly (more than WS_MAX_BUFFERED_BYTES queued for it);
 * 1001 the server is shutting down. A client that misses a heartbeat pong is terminated.
 */
export const CLOSE = { UNAUTHORIZED: 4401, TOO_SLOW: 4008, GOING_AWAY: 1001 } as const;

/** Who a message is for, beyond the channel: a number's operator, or one organisation. */
export interface Audience {
  operator?: string | null;
  organisation?: string | null;
}

export interface ChannelMessage {
  channel: Channel;
  type: string;
  at: string;
  data: Record<string, unknown>;
}

/**
 * What a role may see. Admins and Auditors see every channel; an Analyst the SIM alerts; an
 * Operator its own numbers' SIM alerts and delink updates and its own notifications; a service
 * provider (a bank) its own notifications and system messages about its own webhooks.
 */
const CHANNEL_ROLES: Record<Channel, readonly string[]> = {
  notifications: ['Admin', 'Auditor', 'Operator', 'ServiceProvider'],
  delink_updates: ['Admin', 'Auditor', 'Operator'],
  sim_alerts: ['Admin', 'Auditor', 'Analyst', 'Operator'],
  system: ['Admin', 'Auditor', 'ServiceProvider'],
};

export function mayJoin(p: Principal, channel: Channel): boolean {
  return rolesOf(p).some((r) => CHANNEL_ROLES[channel].includes(r));
}

/** Whether `p` may see a message with `audience` on a channel it joined. */
export function maySee(p: Principal, audience: Audience): boolean {
  const roles = rolesOf(p);
  if (roles.includes('Admin') || roles.includes('Auditor') || roles.includes('Analyst')) return true;
  if (audience.organisation && audience.organisation === p.organisation) return true;
  if (roles.includes('Operator') && audience.operator && audience.operator === p.operatorCode) return true;
  return false;
}

interface Client {
  ws: WebSocket;
  principal: Principal;
  token: string;
  channel: Channel;
  alive: boolean;
}

export interface ChannelHubOptions {
  config: Config;
  kafka: Kafka;
  authenticate(authorization: string | undefined): Promise<Principal | null>;
  log?: (level: 'info' | 'warn', message: string, fields?: Record<string, unknown>) => void;
}

function refuse(socket: Duplex, status: number, reason: string, detail: string): void {
  const body = JSON.stringify({ detail, code: reason });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

const PATH = /^\/(?:api\/v1\/)?ws\/([^/?]+)\/?$/;

/**
 * WebSocket channels on the API's own HTTP server (`ws://host/ws/{channel}?token=<jwt>`, also
 * under /api/v1). Each API instance reads the topics that feed the channels with a consumer group
 * of its own, starting at their end, so any instance serves any client; nothing is kept per
 * client beyond its socket. The token is checked before the upgrade.
 */
export class ChannelHub {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  private readonly clients = new Set<Client>();
  private consumer: Consumer | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private beating = false;
  private readonly codec: EventCodec;
  private readonly subscriptionCodec: OutboundCodec<SubscriptionEvent>;
  private readonly notificationCodec: OutboundCodec<Record<string, unknown>>;
  readonly topics;

  constructor(private readonly o: ChannelHubOptions) {
    const registry = createSchemaRegistry(o.config);
    this.codec = new EventCodec(registry);
    this.subscriptionCodec = new OutboundCodec(registry, 'webhook-subscription');
    this.notificationCodec = new OutboundCodec(registry, 'notification');
    this.topics = topicNames(o.config.TOPIC_PREFIX);
  }

  /** Starts reading the feeding topics from their current end. */
  async start(): Promise<void> {
    const t = this.topics;
    const feeds = [t.stateChanges, t.delink, t.notifications, t.webhookSubscriptions];
    const groupId = `${this.o.config.TOPIC_PREFIX}ws-${process.pid}-${randomUUID().slice(0, 8)}`;
    const admin = this.o.kafka.admin();
    await admin.connect();
    try {
      for (const topic of feeds) {
        const ends = await admin.fetchTopicOffsets(topic);
        await admin.setOffsets({
          groupId,
          topic,
          partitions: ends.map((e) => ({ partition: e.partition, offset: e.high })),
        });
      }
    } finally {
      await admin.disconnect();
    }
    const consumer = this.o.kafka.consumer({ groupId, maxWaitTimeInMs: 50, allowAutoTopicCreation: false });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: feeds, fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, message }) => {
        try {
          await this.route(topic, message.value);
        } catch (err) {
          this.o.log?.('warn', 'websocket feed record skipped', {
            topic,
            offset: message.offset,
            error: (err as Error).message,
          });
        }
      },
    });
    this.heartbeat = setInterval(() => void this.beat(), this.o.config.WS_PING_INTERVAL_MS);
    this.heartbeat.unref();
  }

  private async route(topic: string, value: Buffer | null): Promise<void> {
    const t = this.topics;
    const at = new Date().toISOString();
    if (topic === t.stateChanges) {
      const c =
        this.codec.decodeCached('state-change', value) ?? (await this.codec.decode('state-change', value));
      const alert = simAlertOf(c);
      if (!alert) return;
      this.publish(
        { channel: 'sim_alerts', type: alert, at, data: simAlertData(c) },
        { operator: c.operator ?? allocatedOperator(c.msisdn)?.code ?? null },
      );
    } else if (topic === t.delink) {
      const d = (await this.codec.decode('delink', value)) as DelinkEvent;
      this.publish(
        {
          channel: 'delink_updates',
          type: `DELINK_${d.action}`,
          at,
          data: {
            requestId: d.requestId,
            msisdn: d.msisdn,
            action: d.action,
            scope: d.scope,
            actor: d.actor,
            reason: d.reason,
          },
        },
        { operator: d.operator ?? allocatedOperator(d.msisdn)?.code ?? null },
      );
    } else if (topic === t.notifications) {
      const n = await this.notificationCodec.decode(value);
      this.publish(
        { channel: 'notifications', type: `NOTIFICATION_${String(n.status)}`, at, data: notificationData(n) },
        {
          organisation: (n.organisation as string | null) ?? null,
          operator: (n.organisation as string | null) ?? null,
        },
      );
    } else if (topic === t.webhookSubscriptions) {
      const e = await this.subscriptionCodec.decode(value);
      if (e.type !== 'DISABLED') return;
      this.publish(
        {
          channel: 'system',
          type: 'WEBHOOK_ENDPOINT_DISABLED',
          at,
          data: {
            subscriptionId: e.subscription.id,
            organisation: e.subscription.organisation,
            url: e.subscription.url,
            reason: e.subscription.disabledReason,
          },
        },
        { organisation: e.subscription.organisation },
      );
    }
  }

  /** Sends a message to every client on its channel allowed to see it; a client too far behind is closed. */
  publish(message: ChannelMessage, audience: Audience): number {
    const text = JSON.stringify(message);
    let sent = 0;
    for (const c of this.clients) {
      if (c.channel !== message.channel || !maySee(c.principal, audience)) continue;
      if (c.ws.bufferedAmount > this.o.config.WS_MAX_BUFFERED_BYTES) {
        this.drop(c, CLOSE.TOO_SLOW, `too slow: over ${this.o.config.WS_MAX_BUFFERED_BYTES} bytes queued`);
        continue;
      }
      c.ws.send(text);
      sent++;
    }
    return sent;
  }

  private drop(c: Client, code: number, reason: string): void {
    this.clients.delete(c);
    c.ws.close(code, reason);
    // A client that does not read will not read the close frame either.
    setTimeout(() => c.ws.terminate(), 1000).unref();
  }

  /**
   * One heartbeat: every client that answered the previous ping is pinged again, one that did not
   * is terminated; then every token is checked again (concurrently). A beat still checking tokens
   * when the next is due makes that one skip, so a slow beat never terminates a client before its
   * ping could be answered.
   */
  private async beat(): Promise<void> {
    if (this.beating) return;
    this.beating = true;
    try {
      const pinged: Client[] = [];
      for (const c of this.clients) {
        if (!c.alive) {
          this.clients.delete(c);
          c.ws.terminate();
          continue;
        }
        c.alive = false;
        c.ws.ping();
        pinged.push(c);
      }
      await Promise.all(
        pinged.map(async (c) => {
          const still = await this.o.authenticate(`Bearer ${c.token}`).catch(() => c.principal);
          if (!still && this.clients.has(c)) this.drop(c, CLOSE.UNAUTHORIZED, 'token no longer valid');
        }),
      );
    } finally {
      this.beating = false;
    }
  }

  /** Handles upgrades on `server` for the channel paths; any other path is answered 404. */
  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      void this.upgrade(req, socket, head).catch(() => socket.destroy());
    });
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const m = PATH.exec(url.pathname);
    if (!m) return refuse(socket, 404, 'NOT_FOUND', `no WebSocket endpoint at ${url.pathname}`);
    const channel = decodeURIComponent(m[1]!) as Channel;
    if (!CHANNELS.includes(channel))
      return refuse(
        socket,
        404,
        'NOT_FOUND',
        `no channel ${channel.slice(0, 40)}; channels are ${CHANNELS.join(', ')}`,
      );
    const header = req.headers.authorization;
    const token = url.searchParams.get('token') ?? (header?.startsWith('Bearer ') ? header.slice(7) : null);
    if (!token) return refuse(socket, 401, 'UNAUTHORIZED', 'token is missing; connect with ?token=<jwt>');
    const principal = await this.o.authenticate(`Bearer ${token}`).catch(() => null);
    if (!principal)
      return refuse(socket, 401, 'UNAUTHORIZED', 'token is not valid (unknown, expired or revoked)');
    if (!mayJoin(principal, channel))
      return refuse(
        socket,
        403,
        'FORBIDDEN',
        `channel ${channel} is not open to ${rolesOf(principal).join(', ') || 'this caller'}`,
      );
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const client: Client = { ws, principal, token, channel, alive: true };
      this.clients.add(client);
      ws.on('pong', () => {
        client.alive = true;
      });
      ws.on('close', () => this.clients.delete(client));
      ws.on('error', () => this.clients.delete(client));
      ws.send(
        JSON.stringify({
          channel,
          type: 'SUBSCRIBED',
          at: new Date().toISOString(),
          data: { organisation: principal.organisation },
        }),
      );
    });
  }

  get size(): number {
    return this.clients.size;
  }

  async stop(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const c of this.clients) c.ws.close(CLOSE.GOING_AWAY, 'server shutting down');
    this.clients.clear();
    await this.consumer?.disconnect();
    this.wss.close();
  }
}

/** The SIM alert a state change raises, if any: a swap, or the number found recycled or conflicted. */
export function simAlertOf(c: StateChangeEvent): string | null {
  if (c.lifecycleStatus === 'RECYCLED' || c.isRecycled) return 'RECYCLED_SIM_DETECTED';
  if (c.lifecycleStatus === 'CONFLICTED') return 'LINKAGE_CONFLICT';
  if (c.telecomStatus === 'SWAPPED') return 'SIM_SWAPPED';
  return null;
}

function simAlertData(c: StateChangeEvent): Record<string, unknown> {
  return {
    msisdn: c.msisdn,
    operator: c.operator,
    telecomStatus: c.telecomStatus,
    lifecycleStatus: c.lifecycleStatus,
    isRecycled: c.isRecycled,
    activeNinLinkages: c.activeNinLinkages,
    activeBvnLinkages: c.activeBvnLinkages,
    conflicts: c.conflicts,
    version: c.version,
  };
}

function notificationData(n: Record<string, unknown>): Record<string, unknown> {
  const { id, recipientType, channel, msisdn, template, status, attempts, lastError, createdAt } = n;
  return { id, recipientType, channel, msisdn, template, status, attempts, lastError, createdAt };
}
