/**
 * Polls `read()` every 10 ms until `pred` holds (a throwing predicate counts as "not yet"); rejects
 * after `timeoutMs` with `describe`'s account of what was seen, so a failing test says why.
 */
export function pollUntil<T>(
  read: () => T,
  pred: (value: T) => boolean,
  timeoutMs: number,
  describe: (value: T) => string,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const started = Date.now();
    const tick = (): void => {
      const value = read();
      let ok = false;
      try {
        ok = pred(value);
      } catch {
        ok = false;
      }
      if (ok) resolve(value);
      else if (Date.now() - started >= timeoutMs) reject(new Error(describe(value)));
      else setTimeout(tick, 10);
    };
    tick();
  });
}
