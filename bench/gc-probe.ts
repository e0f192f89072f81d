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
 *
 * `alloc-start` / `alloc-stop` (bench/alloc.ts): the bytes the process
 * allocated on the JavaScript heap in between, from V8's own heap figures
 * around every collection (`v8.GCProfiler`): what each collection found in
 * use before it, minus what the previous one left, plus what was allocated
 * since the last one. A count, not a timing: the machine's load does not
 * move it. With `ALLOC_SITES_FILE=<path>` set, the same window also records
 * where the allocations happen (V8's sampling heap profiler, every 512 bytes
 * on average, collected objects included) and writes the profile to that
 * path (a `.heapprofile`, which Chrome DevTools opens).
 */
import { renameSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import v8 from 'node:v8';

const gc = (globalThis as { gc?: () => void }).gc;

function reading() {
  gc?.();
  gc?.();
  const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
  return { rss, heapUsed, heapTotal, external, collected: gc !== undefined };
}

let profiler: v8.GCProfiler | undefined;
const sitesFile = process.env.ALLOC_SITES_FILE;
let inspector: Session | undefined;
const post = (method: string, params?: object) =>
  new Promise<unknown>((resolve, reject) => inspector!.post(method, params, (err, result) => (err ? reject(err) : resolve(result))));
let startUsed = 0;

function allocatedSinceStart(): { allocatedBytes: number; collections: number } {
  const stats = profiler!.stop()?.statistics ?? [];
  profiler = undefined;
  let allocated = 0;
  let previousAfter = startUsed;
  for (const gcStats of stats) {
    allocated += Math.max(0, gcStats.beforeGC.heapStatistics.usedHeapSize - previousAfter);
    previousAfter = gcStats.afterGC.heapStatistics.usedHeapSize;
  }
  allocated += Math.max(0, v8.getHeapStatistics().used_heap_size - previousAfter);
  return { allocatedBytes: allocated, collections: stats.length };
}

process.on('message', message => {
  if (!process.send) return;
  if (message === 'measure') process.send(reading());
  else if (message === 'alloc-start') {
    profiler?.stop();
    startUsed = v8.getHeapStatistics().used_heap_size;
    profiler = new v8.GCProfiler();
    profiler.start();
    void (async () => {
      if (sitesFile) {
        inspector ??= new Session();
        inspector.connect();
        await post('HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
      }
      process.send!({ started: true });
    })();
  } else if (message === 'alloc-stop' && profiler) {
    const figures = allocatedSinceStart();
    void (async () => {
      if (sitesFile && inspector) {
        const { profile } = (await post('HeapProfiler.stopSampling')) as { profile: unknown };
        writeFileSync(sitesFile, JSON.stringify(profile));
        inspector.disconnect();
      }
      process.send!(figures);
    })();
  }
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
