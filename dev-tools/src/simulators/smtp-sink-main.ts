import { createLogger, loadConfig } from '@hub/infra';
import { startSmtpSink } from './smtp-sink.ts';

/** The SMTP sink on the port of SMTP_URL; its outbox is GET http://127.0.0.1:<SMTP_SINK_HTTP_PORT>/messages. */
const config = loadConfig();
const smtpPort = Number(new URL(config.SMTP_URL).port || 25);
const sink = await startSmtpSink(smtpPort, config.SMTP_SINK_HTTP_PORT);
createLogger(config, 'smtp-sink').info(
  { smtpPort: sink.smtpPort, outbox: `${sink.httpUrl}/messages` },
  'listening',
);
const stop = async () => {
  await sink.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
