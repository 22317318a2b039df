export * from './adapters.ts';
export * from './model.ts';
export * from './sender.ts';
