import { loadConfig } from '@hub/infra';
import { startSmtpSink } from './smtp-sink.ts';

/** The SMTP sink on the port of SMTP_URL; its outbox is GET http://127.0.0.1:<SMTP_SINK_HTTP_PORT>/messages. */
const config = loadConfig();
const smtpPort = Number(new URL(config.SMTP_URL).port || 25);
const sink = await startSmtpSink(smtpPort, Number(process.env.SMTP_SINK_HTTP_PORT ?? 18026));
console.log(
  JSON.stringify({
    level: 'info',
    service: 'smtp-sink',
    message: 'listening',
    smtpPort: sink.smtpPort,
    outbox: `${sink.httpUrl}/messages`,
  }),
);
const stop = async () => {
  await sink.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
