import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startAgent, waitForWorkers } from './helpers/agent-process.js';
import { killAllChildren, stopChild, type Child } from './helpers/child-server.js';
import { call, startTestServer } from './helpers/server.js';

/** Work tasks really run: a task_spec names a model or a command, and a real agent runs it. */
let server: Awaited<ReturnType<typeof startTestServer>>;
let agent: Child;

beforeAll(async () => {
  server = await startTestServer();
  agent = startAgent(server.url, ['--executors', 'builtin,process']);
  await waitForWorkers(server.url, 1);
});
afterAll(async () => {
  await stopChild(agent);
  killAllChildren();
  await server.close();
});

async function submit(taskSpec: Record<string, unknown>): Promise<string> {
  const { status, body } = await call(server.url, 'POST', '/api/worktasks', {
    type: 'ml_inference',
    project_id: 'run-e2e',
    task_spec: taskSpec,
    resource_requirements: { cpu: '500m', memory: '256Mi' },
    data_access: {},
  });
  expect(status, JSON.stringify(body)).toBe(201);
  return body.worktask_id;
}

function worktask(id: string): Promise<any> {
  return call(server.url, 'GET', `/api/worktasks/${id}`).then((answer) => answer.body);
}

function finished(id: string): Promise<any> {
  return eventually(`work task ${id} to finish`, async () => {
    const task = await worktask(id);
    return ['completed', 'failed', 'timeout', 'cancelled'].includes(task.status) ? task : undefined;
  });
}

describe('work tasks run on an agent', () => {
  it('runs a builtin model named in task_spec', async () => {
    const id = await submit({ model_id: 'builtin/sentiment', input: { text: 'a wonderful, delightful result' } });
    const done = await finished(id);
    expect(done.status, done.error_message).toBe('completed');
    expect(done.completed_at).toEqual(expect.any(String));
    const { body } = await call(server.url, 'GET', `/v1/tasks/${id}`);
    expect(body.result.label).toBe('positive');
  });

  it('runs a command named in task_spec, shown as executing, then completed', async () => {
    const id = await submit({ command: [process.execPath, '-e', 'setTimeout(() => console.log("ok"), 300)'] });
    await eventually('executing', async () => ((await worktask(id)).status === 'executing' ? true : undefined));
    const done = await finished(id);
    expect(done.status, done.error_message).toBe('completed');
    expect(done.started_at).toEqual(expect.any(String));
  });

  it('keeps a task whose spec no worker can run (an image, no docker worker) queued', async () => {
    const id = await submit({ image: 'ghcr.io/example/model:1' });
    const other = await submit({ model_id: 'builtin/echo', input: { n: 1 } });
    await finished(other);
    expect((await worktask(id)).status).toBe('queued');
  });
});
