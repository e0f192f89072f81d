/**
 * Preloaded into the server by the memory scenario of bench/run.ts
 * (`node --expose-gc --import <build>/bench/gc-probe.js <build>/src/index.js`,
 * with an IPC channel): on the message `measure` it runs two full garbage
 * collections and answers with the process's memory figures, so that the
 * benchmark reads retained memory, not whatever garbage the heap held at
 * the moment. Nothing here runs in a normal start.
 *
 * A server the benchmark does not start (another MCP server measured beside
 * ours, `BENCH_PREDECESSOR_*` in bench/run.ts) has no IPC channel to the
 * bench: started with `GC_PROBE_FILE=<path>` and the same two Node flags, it
 * runs the same collections on SIGUSR2 and writes the figures as JSON to
 * that file (written aside and renamed, so a reader never sees half of it).
 */
import { renameSync, writeFileSync } from 'node:fs';

const gc = (globalThis as { gc?: () => void }).gc;

function reading() {
  gc?.();
  gc?.();
  const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
  return { rss, heapUsed, heapTotal, external, collected: gc !== undefined };
}

process.on('message', message => {
  if (message !== 'measure' || !process.send) return;
  process.send(reading());
});
// The IPC channel must not keep the process alive on SIGTERM.
process.channel?.unref();

const file = process.env.GC_PROBE_FILE;
if (file) {
  process.on('SIGUSR2', () => {
    writeFileSync(`${file}.tmp`, JSON.stringify(reading()));
    renameSync(`${file}.tmp`, file);
  });
}
