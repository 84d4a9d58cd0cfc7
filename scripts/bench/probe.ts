/**
 * Preloaded into the benchmarked server (`node --import ./scripts/bench/probe.ts`): answers the bench's
 * IPC questions about this process (memory, CPU) without touching the service's code.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

// How late the event loop ran (GC pauses, long synchronous work), since the last 'probe-reset'.
const loop = monitorEventLoopDelay({ resolution: 5 });
loop.enable();

if (process.send) {
  process.on('message', (m: unknown) => {
    if (m === 'probe-reset') loop.reset();
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
        },
      });
    }
  });
  // The IPC channel must not keep the process alive on its own.
  process.channel?.unref();
}
