import { runCli, type Child } from './child-server.js';
import { call } from './server.js';

/** A real `taskhub worker` process working for `serverUrl`; `--stop-grace 1` keeps stop tests short. */
export function startAgent(serverUrl: string, flags: string[] = []): Child {
  return runCli(['worker', '--server', serverUrl, '--stop-grace', '1', ...flags], { TASKHUB_LOG_LEVEL: 'warn' });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` answers a value (not undefined), or fails with `what` after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

/** Resolves with the task once its status is one of `statuses`. */
export function waitForStatus(url: string, id: string, statuses: string[], timeoutMs?: number): Promise<any> {
  return eventually(
    `task ${id} to be ${statuses.join(' or ')}`,
    async () => {
      const { body } = await call(url, 'GET', `/v1/tasks/${id}`);
      return statuses.includes(body.status) ? body : undefined;
    },
    timeoutMs,
  );
}

/** Resolves once `count` workers are registered. */
export function waitForWorkers(url: string, count: number): Promise<any[]> {
  return eventually(`${count} registered worker(s)`, async () => {
    const { body } = await call(url, 'GET', '/v1/workers');
    return body.workers.length >= count ? body.workers : undefined;
  });
}

export async function statusHistory(url: string, id: string): Promise<string[]> {
  const { body } = await call(url, 'GET', `/v1/tasks/${id}/history`);
  return body.changes.map((change: { to: string }) => change.to);
}
