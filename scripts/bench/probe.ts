/**
 * Preloaded into the benchmarked server (`node --import ./scripts/bench/probe.ts`): answers the bench's
 * IPC questions about this process (memory, CPU) without touching the service's code.
 */
import { createHistogram, monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { LowdbStore } from '../../storage/lowdb';

// How late the event loop ran (GC pauses, long synchronous work), since the last 'probe-reset'.
const loop = monitorEventLoopDelay({ resolution: 5 });
loop.enable();

// How long a store commit waits from the call until it is on disk (the log's group flush), in µs.
const commits = createHistogram();
const commit = LowdbStore.prototype.commit;
LowdbStore.prototype.commit = function (this: LowdbStore, ...args: Parameters<LowdbStore['commit']>) {
  const t0 = performance.now();
  const done = commit.apply(this, args);
  void done.then(
    () => commits.record(Math.max(1, Math.round((performance.now() - t0) * 1000))),
    () => undefined,
  );
  return done;
};

if (process.send) {
  process.on('message', (m: unknown) => {
    if (m === 'probe-reset') {
      loop.reset();
      commits.reset();
    }
    if (m === 'probe') {
      const mem = process.memoryUsage();
      const cpu = process.cpuUsage();
      process.send?.({
        probe: {
          rss: mem.rss,
          heapUsed: mem.heapUsed,
          heapTotal: mem.heapTotal,
          cpuMs: (cpu.user + cpu.system) / 1000,
          loopP99Ms: loop.percentile(99) / 1e6,
          loopMaxMs: loop.max / 1e6,
          commitP99Ms: commits.count ? commits.percentile(99) / 1000 : 0,
          commitMaxMs: commits.count ? commits.max / 1000 : 0,
        },
      });
    }
  });
  // The IPC channel must not keep the process alive on its own.
  process.channel?.unref();
}
