/**
 * Preloaded into the benchmarked server (`node --import ./scripts/bench/probe.ts`): answers the bench's
 * IPC questions about this process (memory, CPU) without touching the service's code.
 */
if (process.send) {
  process.on('message', (m: unknown) => {
    if (m === 'probe') {
      const mem = process.memoryUsage();
      const cpu = process.cpuUsage();
      process.send?.({
        probe: {
          rss: mem.rss,
          heapUsed: mem.heapUsed,
          heapTotal: mem.heapTotal,
          cpuMs: (cpu.user + cpu.system) / 1000,
        },
      });
    }
  });
  // The IPC channel must not keep the process alive on its own.
  process.channel?.unref();
}
