import { createLogger, loadConfig } from '@hub/infra';
import { runDelinkWorker } from './worker.ts';

const config = loadConfig();
const log = createLogger(config, 'delink-dispatcher');
const worker = await runDelinkWorker(config, { log });
const stop = async (signal: string) => {
  log.info({ signal }, 'stopping: draining batches in flight');
  await worker.stop();
  process.exit(0);
};
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
