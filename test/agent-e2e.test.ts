import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startAgent, statusHistory, waitForStatus, waitForWorkers } from './helpers/agent-process.js';
import { killAllChildren, stopChild, type Child } from './helpers/child-server.js';
import { call, startTestServer } from './helpers/server.js';

/**
 * End to end: a real server (in this process, on a loopback port) and real `taskhub worker`
 * processes running real tasks through their executors.
 */
let server: Awaited<ReturnType<typeof startTestServer>>;
let agents: Child[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'taskhub-e2e-'));

function agent(flags: string[] = []): Child {
  const child = startAgent(server.url, flags);
  agents.push(child);
  return child;
}

async function submit(task: Record<string, unknown>): Promise<any> {
  const { status, body } = await call(server.url, 'POST', '/v1/tasks', task);
  expect(status, JSON.stringify(body)).toBe(201);
  return body;
}

/** The task's log lines from `stream` (the agent adds `system` lines of its own). */
async function logsOf(id: string, stream?: 'stdout' | 'stderr'): Promise<string[]> {
  const { body } = await call(server.url, 'GET', `/v1/tasks/${id}/logs`);
  return body.lines.filter((line: { stream: string }) => !stream || line.stream === stream).map((line: { message: string }) => line.message);
}

const node = (script: string) => ({ command: [process.execPath, '-e', script] });

beforeAll(async () => {
  server = await startTestServer({ leaseMs: 1_500, leaseCheckMs: 100 });
});
afterEach(async () => {
  await Promise.all(agents.map((child) => stopChild(child, 'SIGKILL')));
  agents = [];
  // Whatever a test left queued or held must not be picked up by the next test's agent.
  const { body } = await call(server.url, 'GET', '/v1/tasks?limit=1000');
  for (const task of body.tasks) {
    if (!['completed', 'failed', 'timeout', 'stopped'].includes(task.status)) await call(server.url, 'POST', `/v1/tasks/${task.id}/cancel`, {});
  }
  const workers = await call(server.url, 'GET', '/v1/workers');
  for (const worker of workers.body.workers) await call(server.url, 'DELETE', `/v1/workers/${worker.id}`);
});
afterAll(async () => {
  killAllChildren();
  await server.close();
});

describe('builtin models', () => {
  it('analyses sentiment, reporting assigned → completed', async () => {
    agent();
    const task = await submit({ modelId: 'builtin/sentiment', input: { text: 'I love this wonderful, excellent product' } });
    const done = await waitForStatus(server.url, task.id, ['completed', 'failed']);
    expect(done.status, done.error).toBe('completed');
    expect(done.result.label).toBe('positive');
    // Answered at once: no separate running report (the builtin executor's choice, for throughput).
    expect(await statusHistory(server.url, task.id)).toEqual(['queued', 'assigned', 'completed']);
  });

  it('trains a text classifier, then classifies with the trained model', async () => {
    agent();
    const examples = [
      ...['the striker scored a goal', 'a great match and a late goal', 'the team won the league', 'the keeper saved a penalty', 'fans cheered the winning goal', 'the coach picked the team'].map((text) => ({ text, label: 'sport' })),
      ...['the parliament passed the law', 'the minister gave a speech', 'voters elected a new president', 'the senate debated the budget', 'the election campaign began', 'the party won the vote'].map((text) => ({ text, label: 'politics' })),
    ];
    const training = await submit({ type: 'training', modelId: 'builtin/text-classifier', input: { examples } });
    const trained = await waitForStatus(server.url, training.id, ['completed', 'failed']);
    expect(trained.status, trained.error).toBe('completed');
    expect(trained.result.model_id).toBe(`trained/${training.id}`);
    expect(trained.resultBlobs.map((blob: { name: string }) => blob.name)).toContain('model.json');

    const inference = await submit({ modelId: trained.result.model_id, input: { text: 'a goal in the last minute of the match' } });
    const answered = await waitForStatus(server.url, inference.id, ['completed', 'failed']);
    expect(answered.status, answered.error).toBe('completed');
    expect(answered.result.label).toBe('sport');
  });
});

describe('process tasks', () => {
  it('streams stdout and stderr into the log and completes on exit 0', async () => {
    agent();
    const task = await submit({ execution: node("console.log('first'); console.error('second'); console.log('third')") });
    const done = await waitForStatus(server.url, task.id, ['completed', 'failed']);
    expect(done.status, done.error).toBe('completed');
    expect(await logsOf(task.id, 'stdout')).toEqual(['first', 'third']);
    expect(await logsOf(task.id, 'stderr')).toEqual(['second']);
    expect(await statusHistory(server.url, task.id)).toEqual(['queued', 'assigned', 'spawned', 'running', 'completed']);
  });

  it('fails on a non-zero exit with the tail of stderr as the error', async () => {
    agent();
    const task = await submit({ execution: node("console.error('model weights not found'); process.exit(3)") });
    const done = await waitForStatus(server.url, task.id, ['completed', 'failed']);
    expect(done.status).toBe('failed');
    expect(done.error).toContain('model weights not found');
  });

  it('ends as timeout past its max execution time', async () => {
    agent();
    const task = await submit({ execution: node('setTimeout(() => {}, 60_000)'), resources: { maxExecutionSeconds: 1 } });
    const done = await waitForStatus(server.url, task.id, ['timeout', 'completed', 'failed'], 10_000);
    expect(done.status).toBe('timeout');
  });

  it('stops a running process within a second of the cancel', async () => {
    agent();
    const pidFile = join(scratch, 'stopped.pid');
    const task = await submit({ execution: node(`require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setTimeout(() => {}, 60_000)`) });
    await waitForStatus(server.url, task.id, ['running']);
    const pid = Number(await eventually('the pid file', async () => (existsSync(pidFile) ? readFileSync(pidFile, 'utf8').trim() || undefined : undefined)));
    expect(pid).toBeGreaterThan(0);
    const cancelledAt = Date.now();
    expect((await call(server.url, 'POST', `/v1/tasks/${task.id}/cancel`, {})).status).toBe(200);
    await eventually('the process to exit', async () => (isAlive(pid) ? undefined : true), 5_000);
    expect(Date.now() - cancelledAt).toBeLessThan(2_500);
    expect((await call(server.url, 'GET', `/v1/tasks/${task.id}`)).body.status).toBe('stopped');
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('HTTP container chains', () => {
  let containers: Server[] = [];
  const received: Array<{ container: string; body: any }> = [];

  async function container(id: string, answer: (data: any) => { status: number; body: unknown }): Promise<string> {
    const http = createServer((request, response) => {
      let text = '';
      request.on('data', (chunk) => (text += chunk));
      request.on('end', () => {
        const body = JSON.parse(text);
        received.push({ container: id, body });
        const { status, body: out } = answer(body.data);
        response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(out));
      });
    });
    containers.push(http);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const address = http.address();
    return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }

  afterEach(async () => {
    await Promise.all(containers.map((http) => new Promise((resolve) => http.close(resolve))));
    containers = [];
    received.length = 0;
  });

  it('passes the output of the first container to the second and keeps both results', async () => {
    const upper = await container('upper', (data) => ({ status: 200, body: { text: String(data.text).toUpperCase() } }));
    const count = await container('count', (data) => ({ status: 200, body: { text: data.text, length: data.text.length } }));
    agent(['--container', `upper=${upper}`, '--container', `count=${count}`]);
    const task = await submit({ containers: ['upper', 'count'], input: { text: 'hello' } });
    const done = await waitForStatus(server.url, task.id, ['completed', 'failed']);
    expect(done.status, done.error).toBe('completed');
    expect(done.result).toEqual({ text: 'HELLO', length: 5 });
    expect(done.intermediateResults).toEqual([{ container: 'upper', output: { text: 'HELLO' } }]);
    expect(received.map((call) => [call.container, call.body.data])).toEqual([
      ['upper', { text: 'hello' }],
      ['count', { text: 'HELLO' }],
    ]);
  });

  it('fails with the failing container named and the first result kept', async () => {
    const first = await container('first', () => ({ status: 200, body: { step: 1 } }));
    const broken = await container('broken', () => ({ status: 500, body: { detail: 'CUDA out of memory' } }));
    agent(['--container', `first=${first}`, '--container', `broken=${broken}`]);
    const task = await submit({ containers: ['first', 'broken'], input: {} });
    const done = await waitForStatus(server.url, task.id, ['completed', 'failed']);
    expect(done.status).toBe('failed');
    expect(done.result.container).toBe('broken');
    expect(done.intermediateResults).toEqual([{ container: 'first', output: { step: 1 } }]);
  });
});

describe('resource matching', () => {
  it('keeps a task needing an 8 GB GPU queued until a fitting worker comes', async () => {
    agent(['--name', 'cpu-only', '--gpus', '0', '--gpu-memory', '0']);
    await waitForWorkers(server.url, 1);
    const task = await submit({ modelId: 'builtin/echo', input: { x: 1 }, resources: { gpus: 1, gpuMemory: '8GB' } });
    const other = await submit({ modelId: 'builtin/echo', input: { x: 2 } });
    await waitForStatus(server.url, other.id, ['completed']);
    expect((await call(server.url, 'GET', `/v1/tasks/${task.id}`)).body.status).toBe('queued');

    agent(['--name', 'gpu-box', '--gpus', '1', '--gpu-memory', '16Gi']);
    const done = await waitForStatus(server.url, task.id, ['completed', 'failed']);
    expect(done.status).toBe('completed');
    const { body } = await call(server.url, 'GET', '/v1/workers');
    expect(body.workers.find((worker: { id: string }) => worker.id === done.workerId).name).toBe('gpu-box');
  });
});

describe('losing the worker', () => {
  it('gives the task of an agent killed with -9 to a second agent after the lease', async () => {
    const first = agent(['--name', 'doomed']);
    const task = await submit({ execution: node('setTimeout(() => console.log("finished"), 1500)') });
    const running = await waitForStatus(server.url, task.id, ['running']);
    first.process.kill('SIGKILL');
    await first.exited;
    agent(['--name', 'rescuer']);
    const done = await waitForStatus(server.url, task.id, ['completed', 'failed'], 20_000);
    expect(done.status, done.error).toBe('completed');
    expect(done.workerId).not.toBe(running.workerId);
    expect(done.retryCount).toBe(1);
    expect(await logsOf(task.id, 'stdout')).toContain('finished');
  });

  it('hands back its running task on SIGTERM and exits 0', async () => {
    const worker = agent(['--drain', '0']);
    const task = await submit({ execution: node('setTimeout(() => {}, 60_000)') });
    await waitForStatus(server.url, task.id, ['running']);
    const exit = await stopChild(worker, 'SIGTERM');
    expect(exit).toMatchObject({ code: 0, forced: false });
    const back = await waitForStatus(server.url, task.id, ['queued']);
    expect(back.workerId).toBeNull();
    expect((await call(server.url, 'GET', '/v1/workers')).body.workers).toEqual([]);
  });
});

describe('bad agent flags', () => {
  it('exits 2 naming the bad flag', async () => {
    const child = startAgent(server.url, ['--concurrency', 'lots']);
    const exit = await child.exited;
    expect(exit.code).toBe(2);
    expect(child.stderr).toContain('--concurrency must be an integer');
  });
});
