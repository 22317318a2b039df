import { type Config, createSchemaRegistry, type TopicNames } from '@hub/infra';
import { registerWorkflowSchemas, WorkflowWriter } from '@hub/ingest';
import { EventCodec } from '@hub/schemas';
import { type WorkflowKeys, workflowKeys } from '@hub/state';
import type { Redis } from 'ioredis';
import type { Producer } from 'kafkajs';
import { DetectionJobs } from './detect.ts';

/** What the recycled-SIM and delink routes depend on. */
export interface Workflow {
  writer: WorkflowWriter;
  keys: WorkflowKeys;
  redis: Redis;
  jobs: DetectionJobs;
  /** How long a command waits for the workflow projector's verdict on its event. */
  settleTimeoutMs: number;
}

export async function createWorkflow(
  config: Config,
  topics: TopicNames,
  producer: Producer,
  redis: Redis,
): Promise<Workflow> {
  const codec = new EventCodec(createSchemaRegistry(config));
  await registerWorkflowSchemas(codec, topics);
  const keys = workflowKeys(config.REDIS_KEY_PREFIX);
  const writer = new WorkflowWriter(producer, codec, topics, redis, keys);
  return {
    writer,
    keys,
    redis,
    jobs: new DetectionJobs(redis, keys, config.REDIS_KEY_PREFIX, writer),
    settleTimeoutMs: 10_000,
  };
}
