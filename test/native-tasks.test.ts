import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestServer } from './helpers/server.js';

let server: Awaited<ReturnType<typeof startTestServer>>;
const api = (method: string, path: string, body?: unknown) => call(server.url, method, `/v1${path}`, body);

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

describe('native task API', () => {
  it('submits a task and reads it back', async () => {
    const created = await api('POST', '/tasks', {
      name: 'sentiment',
      type: 'ml_inference',
      priority: 5,
      input: { text: 'great' },
      resources: { cpu: '500m', memory: '2Gi', gpus: 1, gpuMemory: '8GB', maxExecutionSeconds: 300 },
      dataAccess: { output_location: 's3://out/' },
      secrets: { storage_credentials: 'creds-secret' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'sentiment',
      status: 'queued',
      queue: 'default',
      priority: 5,
      hasSecrets: true,
      resources: { cpuMillis: 500, memoryBytes: 2 * 2 ** 30, gpuCount: 1, gpuMemoryBytes: 8 * 2 ** 30, maxExecutionSeconds: 300 },
    });
    expect(JSON.stringify(created.body)).not.toContain('creds-secret');
    const read = await api('GET', `/tasks/${created.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);
    const history = await api('GET', `/tasks/${created.body.id}/history`);
    expect(history.body.changes).toMatchObject([{ from: null, to: 'queued' }]);
  });

  it('submits a batch in one transaction and lists it', async () => {
    const batch = await api('POST', '/tasks/batch', {
      tasks: Array.from({ length: 100 }, (_, i) => ({ name: `b${i}`, project: 'batch', input: { i } })),
    });
    expect(batch.status).toBe(201);
    expect(batch.body.ids).toHaveLength(100);
    expect(new Set(batch.body.ids).size).toBe(100);
    const list = await api('GET', '/tasks?project=batch&limit=10&offset=5');
    expect(list.body.total).toBe(100);
    expect(list.body.tasks).toHaveLength(10);
    expect(list.body.tasks[0].name).toBe('b94');
  });

  it('a bad task in a batch rejects the whole batch', async () => {
    const before = (await api('GET', '/tasks?project=halfbatch')).body.total;
    const batch = await api('POST', '/tasks/batch', {
      tasks: [{ name: 'ok', project: 'halfbatch' }, { name: 'bad', project: 'halfbatch', resources: { memory: 'lots' } }],
    });
    expect(batch.status).toBe(400);
    expect(batch.body.error.message).toContain('body.tasks[1].resources.memory');
    expect((await api('GET', '/tasks?project=halfbatch')).body.total).toBe(before);
  });

  it.each([
    ['bad JSON', '{"name": ', /JSON/i],
    ['an array for a body', [], /object/],
    ['a wrong type', { priority: 'high' }, /priority/],
    ['an unknown field', { nmae: 'typo' }, /additional/i],
    ['a bad quantity', { resources: { cpu: 'two' } }, /resources\.cpu/],
    ['a bad status', { status: 'running' }, /status/],
  ])('answers 400 naming the problem for %s', async (_name, body, pattern) => {
    const response = await api('POST', '/tasks', body);
    expect(response.status).toBe(400);
    expect(response.body.error.message).toMatch(pattern);
  });

  it('answers 404 for unknown tasks and routes', async () => {
    expect((await api('GET', '/tasks/nope')).status).toBe(404);
    expect((await api('POST', '/tasks/nope/cancel')).body.error.code).toBe('NOT_FOUND');
    expect((await call(server.url, 'GET', '/nowhere')).status).toBe(404);
  });

  it('changes status by the lifecycle table, 409 when it forbids', async () => {
    const { body: task } = await api('POST', '/tasks', { name: 'x' });
    const refused = await api('POST', `/tasks/${task.id}/status`, { status: 'published' });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('INVALID_TRANSITION');
    const forced = await api('POST', `/tasks/${task.id}/status`, { status: 'published', force: true });
    expect(forced.body.status).toBe('published');
  });

  it('cancels a queued task and refuses to cancel it twice', async () => {
    const { body: task } = await api('POST', '/tasks', { name: 'to cancel' });
    const cancelled = await api('POST', `/tasks/${task.id}/cancel`);
    expect(cancelled.body).toMatchObject({ status: 'stopped', statusReason: 'cancelled' });
    expect(cancelled.body.completedAt).toBeGreaterThan(0);
    expect((await api('POST', `/tasks/${task.id}/cancel`)).status).toBe(409);
  });

  it('keeps log lines in order and pages them', async () => {
    const { body: task } = await api('POST', '/tasks', { name: 'logs' });
    for (let round = 0; round < 3; round++) {
      const lines = Array.from({ length: 5 }, (_, i) => ({ message: `line ${round * 5 + i}` }));
      expect((await api('POST', `/tasks/${task.id}/logs`, { lines })).status).toBe(204);
    }
    const first = await api('GET', `/tasks/${task.id}/logs?limit=10`);
    expect(first.body.lines.map((l: { message: string }) => l.message)).toEqual(Array.from({ length: 10 }, (_, i) => `line ${i}`));
    const rest = await api('GET', `/tasks/${task.id}/logs?after=${first.body.lines[9].seq}`);
    expect(rest.body.lines.map((l: { message: string }) => l.message)).toEqual(['line 10', 'line 11', 'line 12', 'line 13', 'line 14']);
  });

  it('stores binary results in the blob store', async () => {
    const { body: task } = await api('POST', '/tasks', { name: 'blob' });
    const bytes = Buffer.from([0, 1, 2, 250, 251, 252]);
    const put = await fetch(`${server.url}/v1/tasks/${task.id}/blobs/model.bin`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    expect(put.status).toBe(201);
    const got = await fetch(`${server.url}/v1/tasks/${task.id}/blobs/model.bin`);
    expect(Buffer.from(await got.arrayBuffer())).toEqual(bytes);
    expect((await api('GET', `/tasks/${task.id}`)).body.resultBlobs).toMatchObject([{ name: 'model.bin', size: 6 }]);
    const escape = await fetch(`${server.url}/v1/tasks/${task.id}/blobs/..%2F..%2Fx`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: bytes });
    expect(escape.status).toBe(400);
  });

  it('serves OpenAPI, docs, health and readiness', async () => {
    const openapi = await call(server.url, 'GET', '/openapi.json');
    expect(openapi.body.openapi).toMatch(/^3\./);
    expect(Object.keys(openapi.body.paths)).toEqual(expect.arrayContaining(['/v1/tasks', '/v1/workers/{id}/claim', '/health']));
    expect((await fetch(`${server.url}/docs/`)).status).toBe(200);
    expect((await call(server.url, 'GET', '/health')).body).toEqual({ status: 'healthy' });
    expect((await call(server.url, 'GET', '/ready')).status).toBe(200);
  });
});

describe('native API with a token', () => {
  it('answers 401 without the right bearer token', async () => {
    const secured = await startTestServer({ apiToken: 'sekret' });
    try {
      expect((await call(secured.url, 'GET', '/v1/tasks')).status).toBe(401);
      expect((await call(secured.url, 'GET', '/v1/tasks', undefined, { authorization: 'Bearer wrong' })).status).toBe(401);
      expect((await call(secured.url, 'GET', '/v1/tasks', undefined, { authorization: 'Bearer sekret' })).status).toBe(200);
      expect((await call(secured.url, 'GET', '/health')).status).toBe(200);
    } finally {
      await secured.close();
    }
  });
});
