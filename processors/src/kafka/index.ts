export * from './batch-consumer.ts';
export * from './dead-letters.ts';
export * from './decoders.ts';
export * from './logger.ts';
export * from './results.ts';
