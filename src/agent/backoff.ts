/** Delays between attempts to reach the server: 100 ms doubling to 5 s, with ±20 % jitter so agents that lost the server together do not return in lockstep. */
export function backoffDelayMs(attempt: number, firstMs = 100, maxMs = 5_000): number {
  const base = Math.min(maxMs, firstMs * 2 ** Math.min(attempt, 16));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/** Resolves after `ms`, or at once when the signal aborts (never rejects). */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
