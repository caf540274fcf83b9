import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../src/config.js';
import { killAllChildren, startChildServer, stopChild } from './helpers/child-server.js';
import { call, startTestServer } from './helpers/server.js';

const TOKEN = 'worker-s3cret-token';
const SUBMISSION = {
  type: 'ml_training',
  project_id: 'auth',
  data_access: { input_datasets: ['d'], output_location: 's3://out/', storage_credentials: 'creds-secret' },
};
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('WORKER_AUTH_TOKEN', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let taskId: string;
  const mimir = (method: string, path: string, body?: unknown, headers: Record<string, string> = bearer(TOKEN)) =>
    call(server.url, method, `/api/worktasks${path}`, body, headers);

  beforeAll(async () => {
    server = await startTestServer({ workerAuthToken: TOKEN });
    const created = await mimir('POST', '', SUBMISSION);
    expect(created.status).toBe(201);
    taskId = created.body.worktask_id;
  });
  afterAll(() => server.close());

  it('answers 401 to every /api/worktasks call without exactly that bearer token', async () => {
    const calls: Array<[string, string, unknown]> = [
      ['GET', '', undefined],
      ['POST', '', SUBMISSION],
      ['GET', `/${taskId}`, undefined],
      ['POST', `/${taskId}`, { worktask_id: taskId, status: 'executing' }],
      ['GET', '/no/such/route', undefined],
    ];
    const wrong: Array<Record<string, string>> = [{}, bearer('wrong'), bearer(`${TOKEN}x`), { authorization: TOKEN }, { authorization: `bearer ${TOKEN}` }];
    for (const [method, path, body] of calls) {
      for (const headers of wrong) {
        const response = await mimir(method, path, body, headers);
        expect(response.status, `${method} ${path} ${JSON.stringify(headers)}`).toBe(401);
        expect(response.body).toEqual({ error: expect.any(String) });
      }
    }
    expect((await mimir('GET', `/${taskId}`)).body.status).toBe('queued');
  });

  it('shows storage_credentials to callers holding the token', async () => {
    const expected = { input_datasets: ['d'], output_location: 's3://out/', storage_credentials: 'creds-secret' };
    expect((await mimir('POST', '', SUBMISSION)).body.data_access).toEqual(expected);
    expect((await mimir('GET', `/${taskId}`)).body.data_access).toEqual(expected);
    const listed = (await mimir('GET', '')).body.tasks.find((task: any) => task.worktask_id === taskId);
    expect(listed.data_access).toEqual(expected);
  });

  it('leaves /api/metrics, /health and /ws/tasks open, and keeps credentials out of them', async () => {
    const metrics = await call(server.url, 'GET', '/api/metrics');
    expect(metrics.status).toBe(200);
    expect(JSON.stringify(metrics.body)).not.toContain('creds-secret');
    expect((await call(server.url, 'GET', '/health')).status).toBe(200);

    const socket = new WebSocket(`${server.url.replace('http', 'ws')}/ws/tasks?worktask_id=${taskId}`);
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const message = new Promise<string>((resolve) => socket.once('message', (data) => resolve(String(data))));
    await mimir('POST', `/${taskId}`, { worktask_id: taskId, status: 'executing' });
    const update = await message;
    socket.close();
    expect(JSON.parse(update)).toMatchObject({ event: 'task_update', task: { worktask_id: taskId, status: 'executing' } });
    expect(update).not.toContain('creds-secret');
  });
});

describe('the worker token setting', () => {
  it('reads TASKHUB_WORKER_AUTH_TOKEN, else WORKER_AUTH_TOKEN (the real system’s name)', () => {
    expect(loadConfig({}).workerAuthToken).toBe('');
    expect(loadConfig({ WORKER_AUTH_TOKEN: 'mimir' }).workerAuthToken).toBe('mimir');
    expect(loadConfig({ WORKER_AUTH_TOKEN: 'mimir', TASKHUB_WORKER_AUTH_TOKEN: 'ours' }).workerAuthToken).toBe('ours');
  });
});

describe('secrets and the log', () => {
  afterAll(killAllChildren);

  it('never writes the token or storage credentials to the log, even at trace level', async () => {
    const child = await startChildServer({ TASKHUB_LOG_LEVEL: 'trace', TASKHUB_LOCAL_WORKER: '0', WORKER_AUTH_TOKEN: TOKEN });
    try {
      const created = await call(child.url, 'POST', '/api/worktasks', SUBMISSION, bearer(TOKEN));
      expect(created.status).toBe(201);
      const id = created.body.worktask_id;
      // Requests that fail are logged too: a wrong token, a malformed body carrying the secret.
      expect((await call(child.url, 'GET', `/api/worktasks/${id}`, undefined, bearer(`${TOKEN}-wrong`))).status).toBe(401);
      const malformed = { ...SUBMISSION, priority: 'high' };
      expect((await call(child.url, 'POST', '/api/worktasks', malformed, bearer(TOKEN))).status).toBe(400);
      expect((await call(child.url, 'POST', `/api/worktasks/${id}`, { worktask_id: id, status: 'completed' }, bearer(TOKEN))).status).toBe(200);
    } finally {
      await stopChild(child);
    }
    const log = child.stdout + child.stderr;
    expect(log).toMatch(/"url":"\/api\/worktasks/);
    expect(log).not.toContain(TOKEN);
    expect(log).not.toContain('creds-secret');
  });
});
