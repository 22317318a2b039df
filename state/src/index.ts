export * from './derive.ts';
export * from './encoding.ts';
export * from './keys.ts';
export * from './machine.ts';
export * from './memory.ts';
export * from './read.ts';
export * from './record.ts';
