import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '@hub/infra';
import { jsonLog } from '../kafka/logger.ts';
import { type ReplayMemberOptions, type ReplayThreadMessage, startReplayMember } from './replay.ts';

/** One member of a replay's group on a worker thread of its own (replay.ts, `threads`). */
const { config, options } = workerData as { config: Config; options: Omit<ReplayMemberOptions, 'log'> };
const port = parentPort!;
const send = (m: ReplayThreadMessage) => port.postMessage(m);
try {
  const log = jsonLog('state-rebuild', config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL);
  const member = await startReplayMember(config, { ...options, log });
  port.on('message', (m: { type: string }) => {
    if (m.type !== 'stop') return;
    void member.stop().finally(() => send({ type: 'stopped' }));
  });
  send({ type: 'ready' });
} catch (err) {
  send({ type: 'failed', error: (err as Error).message });
  port.close();
}
