import { Worker } from 'node:worker_threads';

/**
 * A worker thread running `entry`. Run from TypeScript sources, the thread registers tsx's loader
 * first: loader hooks registered in the main thread do not reach worker threads.
 */
export function startWorkerThread(entry: URL, workerData: unknown): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, { workerData });
  const tsx = import.meta.resolve('tsx/esm/api');
  const script = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(script, { eval: true, workerData });
}
