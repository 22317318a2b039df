import type { Redis } from 'ioredis';

export const RECIPIENT_TYPES = ['SUBSCRIBER', 'OPERATOR', 'NEXT_OF_KIN', 'NIBSS'] as const;
export type RecipientType = (typeof RECIPIENT_TYPES)[number];
export const NOTIFICATION_CHANNELS = ['SMS', 'EMAIL', 'WEBHOOK'] as const;
export type NotificationChannel = (typeof NOTIFICATION_CHANNELS)[number];
export const NOTIFICATION_STATUSES = ['QUEUED', 'SENT', 'DELIVERED', 'FAILED'] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

/** Templates the workflow and the API use; `{msisdn}` is replaced by the number. */
export const TEMPLATES = {
  RECYCLED_SIM_DETECTED: {
    subject: 'Recycled SIM detected',
    text: 'The number {msisdn} was reported churned or reassigned while old NIN/BVN linkages are still active. Start a delink request.',
  },
  DELINK_APPROVED: {
    subject: 'Your number is being unlinked',
    text: 'Old identity linkages of {msisdn} are being removed at the request of your operator. No action is needed.',
  },
  DELINK_COMPLETED: {
    subject: 'Delink completed',
    text: 'Every old NIN/BVN linkage of {msisdn} has been cleared; the number can be assigned to a new subscriber.',
  },
  PASSWORD_RESET: { subject: 'Password reset', text: 'Your password reset code is {code}.' },
} as const;
export type TemplateName = keyof typeof TEMPLATES;

/** A notification's full snapshot, as the notifications topic carries it (one event per status). */
export interface NotificationEvent {
  eventId: string;
  source: string;
  id: string;
  recipientType: RecipientType;
  recipient: string | null;
  channel: NotificationChannel;
  msisdn: string | null;
  template: string | null;
  message: string;
  subject: string | null;
  organisation: string | null;
  status: NotificationStatus;
  attempts: number;
  lastError: string | null;
  actor: string;
  createdAt: number;
  occurredAt: number;
  receivedAt: number;
}

export function render(
  template: TemplateName,
  values: Record<string, string>,
): { subject: string; text: string } {
  const t = TEMPLATES[template];
  return { subject: t.subject, text: t.text.replace(/\{(\w+)\}/g, (_m, k: string) => values[k] ?? '') };
}

/**
 * How far along a status is: a snapshot never replaces one further along, so a replayed or
 * re-sent QUEUED does not put a delivered notification back in the queue. DELIVERED ranks above
 * FAILED: a webhook notification to several endpoints is delivered once any of them has it.
 */
export const STATUS_RANK: Record<NotificationStatus, number> = {
  QUEUED: 0,
  SENT: 1,
  FAILED: 2,
  DELIVERED: 3,
};

const APPLY = `
local held = redis.call('GET', KEYS[1])
if held then
  local status = cjson.decode(held).status
  local rank = { QUEUED = 0, SENT = 1, FAILED = 2, DELIVERED = 3 }
  if rank[status] > rank[ARGV[2]] then return status end
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
return ARGV[2]
`;

type StoreRedis = Redis & {
  ntApply(
    key: string,
    index: string,
    json: string,
    status: string,
    score: number,
    id: string,
  ): Promise<string>;
};

/**
 * The notifications projection in Redis: one JSON snapshot per notification and an index by
 * creation time. The notification worker writes it from the topic; the API reads it.
 */
export class NotificationStore {
  private readonly redis: StoreRedis;

  constructor(
    redis: Redis,
    private readonly prefix: string,
  ) {
    redis.defineCommand('ntApply', { numberOfKeys: 2, lua: APPLY });
    this.redis = redis as StoreRedis;
  }

  private key(id: string) {
    return `${this.prefix}nt:${id}`;
  }

  private get index() {
    return `${this.prefix}nt:index`;
  }

  /**
   * Holds the snapshot unless the one held is further along (STATUS_RANK); returns the status
   * held afterwards, so a QUEUED whose notification already went out is seen as such.
   */
  async apply(n: NotificationEvent): Promise<NotificationStatus> {
    return (await this.redis.ntApply(
      this.key(n.id),
      this.index,
      JSON.stringify(n),
      n.status,
      n.createdAt,
      n.id,
    )) as NotificationStatus;
  }

  async get(id: string): Promise<NotificationEvent | null> {
    const json = await this.redis.get(this.key(id));
    return json ? (JSON.parse(json) as NotificationEvent) : null;
  }

  /** The newest `scan` notifications, newest first (the page is filtered from these). */
  async recent(scan = 10_000): Promise<NotificationEvent[]> {
    const ids = await this.redis.zrevrange(this.index, 0, scan - 1);
    if (ids.length === 0) return [];
    const rows = await this.redis.mget(ids.map((id) => this.key(id)));
    return rows.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as NotificationEvent);
  }
}
