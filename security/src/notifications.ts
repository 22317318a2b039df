import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface Notification {
  to: string;
  subject: string;
  body: string;
  /** Machine-readable payload (e.g. the reset code), for simulators and tests. */
  data: Record<string, string>;
}

export type Notifier = (n: Notification) => Promise<void>;

/**
 * The notification simulator: messages that would be e-mailed are appended, one JSON object a
 * line, to an outbox file under the data folder, where a developer (or a test) reads them.
 */
export function fileOutbox(file: string): Notifier {
  return async (n) => {
    await mkdir(dirname(file), { recursive: true });
    await appendFile(file, `${JSON.stringify({ ...n, sentAt: new Date().toISOString() })}\n`, {
      mode: 0o600,
    });
  };
}
