/**
 * Preloaded into the server by the memory scenario of bench/run.ts
 * (`node --expose-gc --import <build>/bench/gc-probe.js <build>/src/index.js`,
 * with an IPC channel): on the message `measure` it runs two full garbage
 * collections and answers with the process's memory figures, so that the
 * benchmark reads retained memory, not whatever garbage the heap held at
 * the moment. Nothing here runs in a normal start.
 */
const gc = (globalThis as { gc?: () => void }).gc;

process.on('message', message => {
  if (message !== 'measure' || !process.send) return;
  gc?.();
  gc?.();
  const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
  process.send({ rss, heapUsed, heapTotal, external, collected: gc !== undefined });
});
// The IPC channel must not keep the process alive on SIGTERM.
process.channel?.unref();
