import { createLogger, loadConfig } from '@hub/infra';
import { startSimulator } from './server.ts';
import { createSmsGateway } from './sms-gateway.ts';

/** The SMS-gateway simulator on the port of SMS_GATEWAY_URL; its outbox is GET /messages. */
const config = loadConfig();
const url = new URL(config.SMS_GATEWAY_URL);
const running = await startSimulator(createSmsGateway().app, Number(url.port || 80));
createLogger(config, 'sms-gateway-simulator').info({ url: running.url }, 'listening');
const stop = async () => {
  await running.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
