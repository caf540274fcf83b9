import { afterAll, describe, expect, it } from 'vitest';
import { eventually, waitForStatus, waitForWorkers } from './helpers/agent-process.js';
import { killAllChildren, runCli, startChildServer, stopChild } from './helpers/child-server.js';
import { createScratchDatabase } from './helpers/scratch-database.js';
import { call } from './helpers/server.js';

afterAll(() => killAllChildren());

describe('the README quick start', () => {
  it('`taskhub serve` runs a sentiment task with its own worker, and stops cleanly', async () => {
    const scratch = await createScratchDatabase('sqlite', 'quick-start');
    const server = await startChildServer({ ...scratch.env, TASKHUB_LOCAL_WORKER: '1' });
    const { status, body: task } = await call(server.url, 'POST', '/v1/tasks', {
      modelId: 'builtin/sentiment',
      input: { text: 'This orchestrator is great, I really love it' },
    });
    expect(status).toBe(201);
    const done = await waitForStatus(server.url, task.id, ['completed', 'failed']);
    expect(done.status, done.error).toBe('completed');
    expect(done.result.label).toBe('positive');
    expect(await waitForWorkers(server.url, 1)).toHaveLength(1);
    const exit = await stopChild(server);
    expect(exit.code, server.stderr + server.stdout).toBe(0);
  });

  it('runs no process tasks in its own worker when it listens beyond loopback', async () => {
    const scratch = await createScratchDatabase('sqlite', 'exposed');
    const server = await startChildServer({ ...scratch.env, TASKHUB_LOCAL_WORKER: '1', TASKHUB_HOST: '0.0.0.0', TASKHUB_API_TOKEN: 't' });
    const workers = await eventually('the local worker', async () => {
      const { body } = await call(server.url, 'GET', '/v1/workers', undefined, { authorization: 'Bearer t' });
      return body.workers.length ? body.workers : undefined;
    });
    expect(workers[0].executors).toEqual(['builtin', 'http']);
    expect(server.stdout + server.stderr).toContain('runs no process tasks');
    // Only the executors are this test's subject; a clean stop is the first test's.
    await stopChild(server, 'SIGKILL');
  });

  it('`taskhub worker --help` lists the flags', async () => {
    const help = runCli(['worker', '--help'], {});
    expect((await help.exited).code).toBe(0);
    for (const flag of ['--server', '--concurrency', '--gpus', '--gpu-memory', '--executors', '--container']) expect(help.stdout).toContain(flag);
  });
});
