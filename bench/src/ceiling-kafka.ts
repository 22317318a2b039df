import { join } from 'node:path';
import { type Config, loadConfig } from '@hub/infra';
import { run } from '../../infra/local/process.ts';

export interface ConsumerCeiling {
  messages: number;
  /** Sum over the topics of ConsumerPerformance's fetch time (its elapsed time minus the group join). */
  fetchSeconds: number;
  messagesPerSecond: number;
  perTopic: { topic: string; messages: number; fetchMs: number; nMsgPerSec: number }[];
}

/** Kafka's jars, installed by the local stack under the shared data folder. */
export function kafkaLibs(): string {
  return join(loadConfig().HUB_DATA_DIR, 'kafka', 'libs');
}

/**
 * Kafka's own consumer (`org.apache.kafka.tools.ConsumerPerformance`, Java) reading every record of
 * each topic with a fresh group: what this broker can hand to one consumer on this machine. The
 * tool reads one topic per run, so each topic is a run and the figure is total records over the
 * summed fetch times (JVM start and group join excluded, as our own figures exclude start-up).
 */
export async function consumerPerformance(
  config: Config,
  topics: { topic: string; messages: number }[],
): Promise<ConsumerCeiling> {
  const perTopic: ConsumerCeiling['perTopic'] = [];
  for (const { topic, messages } of topics) {
    if (messages === 0) continue;
    const out = await java([
      'org.apache.kafka.tools.ConsumerPerformance',
      '--bootstrap-server',
      config.KAFKA_BROKERS.join(','),
      '--topic',
      topic,
      '--messages',
      String(messages),
      '--group',
      `${config.TOPIC_PREFIX}perf-${Date.now()}`,
      '--timeout',
      '30000',
    ]);
    // Header, then: start.time, end.time, MB, MB.sec, nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
    const line = out
      .split('\n')
      .map((l) => l.trim())
      .find((l) => /^\d{4}-\d{2}-\d{2} /.test(l));
    if (!line) throw new Error(`ConsumerPerformance printed no result for ${topic}:\n${out.slice(-2000)}`);
    const cells = line.split(',').map((c) => c.trim());
    const consumed = Number(cells[4]);
    const fetchMs = Number(cells[7]);
    if (consumed < messages) {
      throw new Error(`ConsumerPerformance read ${consumed} of ${messages} records of ${topic}`);
    }
    perTopic.push({ topic, messages: consumed, fetchMs, nMsgPerSec: Number(cells[9]) });
  }
  const total = perTopic.reduce((s, t) => s + t.messages, 0);
  const fetchSeconds = perTopic.reduce((s, t) => s + t.fetchMs, 0) / 1000;
  return { messages: total, fetchSeconds, messagesPerSecond: Math.round(total / fetchSeconds), perTopic };
}

async function java(args: string[]): Promise<string> {
  const r = await run('java', ['-Xmx512m', '-cp', `${kafkaLibs()}/*`, ...args]);
  if (r.code !== 0) throw new Error(`${args[0]} exited with ${r.code}:\n${r.output.slice(-2000)}`);
  return r.output;
}
