import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from './helpers/databases.js';
import { call, databaseFor, startTestServer } from './helpers/server.js';

/** The seed's own example submission. */
const SEED_SUBMISSION = {
  type: 'pipeline_execution',
  priority: 1,
  project_id: 'proj-123',
  task_spec: { pipeline_id: 'pipe-456', parameters: {} },
  resource_requirements: { cpu: '1', memory: '2Gi', gpu: false },
  data_access: { input_datasets: ['dataset-1'], output_location: 's3://output/', storage_credentials: 'creds-secret' },
};
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

type Server = Awaited<ReturnType<typeof startTestServer>>;

function client(server: () => Server) {
  const mimir = (method: string, path: string, body?: unknown) => call(server().url, method, `/api/worktasks${path}`, body);
  const native = (method: string, path: string, body?: unknown) => call(server().url, method, `/v1${path}`, body);
  const submit = async (body: object = {}) => {
    const response = await mimir('POST', '', { ...SEED_SUBMISSION, ...body });
    expect(response.status).toBe(201);
    return response.body;
  };
  const report = (id: string, body: object) => mimir('POST', `/${id}`, { worktask_id: id, ...body });
  return { mimir, native, submit, report };
}

describe.each(ENGINES)('Mimir work-task API on %s', (engine) => {
  let server: Server;
  const { mimir, native, submit, report } = client(() => server);

  beforeAll(async () => {
    server = await startTestServer(await databaseFor(engine));
  });
  afterAll(() => server.close());

  it('answers a submission with 201 and every field of the work task object, and reads it back', async () => {
    const created = await mimir('POST', '', SEED_SUBMISSION);
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      worktask_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      type: 'pipeline_execution',
      status: 'queued',
      priority: 1,
      submitted_at: expect.stringMatching(ISO),
      project_id: 'proj-123',
      task_spec: { pipeline_id: 'pipe-456', parameters: {} },
      resource_requirements: { cpu: '1', memory: '2Gi', gpu: false },
      // storage_credentials is a secret: without a worker token nobody sees it.
      data_access: { input_datasets: ['dataset-1'], output_location: 's3://output/' },
      retry_count: 0,
      max_retries: 3,
    });
    const read = await mimir('GET', `/${created.body.worktask_id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);

    // The canonical task: quantities parsed, the credentials kept apart from data_access.
    const task = (await native('GET', `/tasks/${created.body.worktask_id}`)).body;
    expect(task).toMatchObject({ project: 'proj-123', queue: 'default', hasSecrets: true, dataAccess: { output_location: 's3://output/' } });
    expect(task.resources).toMatchObject({ cpuMillis: 1000, memoryBytes: 2 * 2 ** 30, gpuCount: 0 });
    expect(JSON.stringify(task)).not.toContain('creds-secret');
  });

  it('defaults priority to 1 (an explicit 0 too, as the real system) and max_retries by type', async () => {
    expect((await mimir('POST', '', { ...SEED_SUBMISSION, priority: undefined })).body).toMatchObject({ priority: 1, max_retries: 3 });
    expect((await submit({ priority: 0 })).priority).toBe(1);
    expect((await submit({ priority: 7 })).priority).toBe(7);
    expect((await submit({ type: 'ml_training' })).max_retries).toBe(2);
    for (const type of ['ml_inference', 'digital_twin_update', 'digital_twin_processing']) {
      expect(await submit({ type })).toMatchObject({ type, max_retries: 3 });
    }
  });

  it('accepts the real system’s minimal body (type and project_id) and Go zero values', async () => {
    const minimal = await mimir('POST', '', { type: 'ml_inference', project_id: 'p-min' });
    expect(minimal.status).toBe(201);
    expect(minimal.body).toMatchObject({ task_spec: {}, resource_requirements: { cpu: '', memory: '', gpu: false }, data_access: {} });
    const zero = await mimir('POST', '', {
      type: 'ml_inference',
      priority: 0,
      project_id: 'p-zero',
      task_spec: { parameters: null },
      resource_requirements: { cpu: '', memory: '', gpu: false },
      data_access: { input_datasets: null, output_location: '', storage_credentials: '' },
    });
    expect(zero.status).toBe(201);
    expect((await native('GET', `/tasks/${zero.body.worktask_id}`)).body.hasSecrets).toBe(false);
  });

  it('reads Kubernetes quantities and answers them in canonical form', async () => {
    const created = await submit({
      resource_requirements: { cpu: '500m', memory: '1.5Gi', gpu: true, gpu_memory: '16Gi', max_execution_seconds: 600 },
    });
    expect(created.resource_requirements).toEqual({ cpu: '500m', memory: '1536Mi', gpu: true, gpu_memory: '16Gi', max_execution_seconds: 600 });
    const task = (await native('GET', `/tasks/${created.worktask_id}`)).body;
    expect(task.resources).toEqual({
      cpuMillis: 500,
      memoryBytes: 1.5 * 2 ** 30,
      gpuCount: 1,
      gpuMemoryBytes: 16 * 2 ** 30,
      maxExecutionSeconds: 600,
      executor: null,
    });
    const counted = await submit({ resource_requirements: { cpu: 2, memory: '8G', gpu: 4 } });
    expect(counted.resource_requirements).toEqual({ cpu: '2', memory: '8G', gpu: true, gpu_count: 4 });
  });

  it('lists the tasks a page at a time with the queue length, filtered by project, status and type', async () => {
    const project = `list-${engine}`;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await submit({ project_id: project, type: i < 2 ? 'ml_training' : 'ml_inference' })).worktask_id);
    await report(ids[0]!, { status: 'executing' });

    const page = await mimir('GET', `?project_id=${project}&limit=2&offset=1`);
    expect(page.status).toBe(200);
    expect(page.body.total).toBe(5);
    expect(page.body.tasks.map((t: any) => t.worktask_id)).toEqual([ids[3], ids[2]]);
    expect(page.body.queue_length).toBe((await call(server.url, 'GET', '/api/metrics')).body.queue.length);

    const executing = await mimir('GET', `?project_id=${project}&status=executing`);
    expect(executing.body.tasks.map((t: any) => t.worktask_id)).toEqual([ids[0]]);
    const training = await mimir('GET', `?project_id=${project}&type=ml_training`);
    expect(training.body.total).toBe(2);

    const everything = await mimir('GET', '');
    expect(everything.body.tasks.length).toBeLessThanOrEqual(100);
    expect(everything.body.queue_length).toBeGreaterThanOrEqual(4);
    const refusals = [
      ['?limit=0', 'limit'],
      ['?limit=1001', 'limit'],
      ['?offset=-1', 'offset'],
      ['?status=running', 'status'],
      ['?page=2', 'page is not a known field'],
      ['?=2', '"" is not a known field'],
    ];
    for (const [query, field] of refusals) {
      const refused = await mimir('GET', query!);
      expect(refused.status, query).toBe(400);
      expect(refused.body.error).toContain(field);
    }
  });

  it('applies worker reports: executing, then completed with output_location and metadata', async () => {
    const { worktask_id: id } = await submit();
    expect((await report(id, { status: 'executing' })).body).toEqual({ status: 'updated' });
    const executing = (await mimir('GET', `/${id}`)).body;
    expect(executing.status).toBe('executing');
    expect(executing.started_at).toMatch(ISO);
    expect(executing).not.toHaveProperty('completed_at');

    const done = await report(id, { status: 'completed', output_location: 's3://output/result.json', metadata: { records_processed: 1000 } });
    expect(done).toEqual({ status: 200, body: { status: 'updated' } });
    const completed = (await mimir('GET', `/${id}`)).body;
    expect(completed).toMatchObject({
      status: 'completed',
      started_at: executing.started_at,
      completed_at: expect.stringMatching(ISO),
      output_location: 's3://output/result.json',
      result_metadata: { records_processed: 1000 },
    });
    expect(completed).not.toHaveProperty('error_message');
    expect(Date.parse(completed.completed_at)).toBeGreaterThanOrEqual(Date.parse(completed.started_at));
  });

  it.each([
    ['failed', 'exit code 1: division by zero', 'failed'],
    ['timeout', 'ran past its deadline', 'timeout'],
    ['cancelled', 'stopped by the user', 'cancelled'],
  ])('a %s report ends the task with completed_at and error_message', async (status, error_message, shown) => {
    const { worktask_id: id } = await submit();
    expect((await report(id, { status, error_message })).body).toEqual({ status: 'updated' });
    const task = (await mimir('GET', `/${id}`)).body;
    expect(task).toMatchObject({ status: shown, error_message, completed_at: expect.stringMatching(ISO), retry_count: 0 });
  });

  it('retries a transient failure while retries remain, then fails it', async () => {
    const { worktask_id: id } = await submit({ type: 'ml_training' });
    await report(id, { status: 'executing' });
    const first = await report(id, { status: 'failed', error_message: 'container was OOMKilled' });
    expect(first).toEqual({ status: 200, body: { status: 'requeued_for_retry' } });
    const requeued = (await mimir('GET', `/${id}`)).body;
    expect(requeued).toMatchObject({ status: 'queued', retry_count: 1, max_retries: 2, retry_reason: 'container was OOMKilled' });
    // Queued again: neither started nor finished, and no error shown until it fails for good.
    for (const field of ['started_at', 'completed_at', 'error_message']) expect(requeued).not.toHaveProperty(field);

    expect((await report(id, { status: 'failed', error_message: 'pod Evicted: node pressure' })).body.status).toBe('requeued_for_retry');
    const exhausted = await report(id, { status: 'failed', error_message: 'DeadlineExceeded' });
    expect(exhausted.body).toEqual({ status: 'updated' });
    expect((await mimir('GET', `/${id}`)).body).toMatchObject({
      status: 'failed',
      retry_count: 2,
      error_message: 'DeadlineExceeded',
      retry_reason: 'pod Evicted: node pressure',
    });
  });

  it('fails a task at once when its error is not transient', async () => {
    const { worktask_id: id } = await submit();
    expect((await report(id, { status: 'failed', error_message: 'ImagePullBackOff' })).body).toEqual({ status: 'updated' });
    expect((await mimir('GET', `/${id}`)).body).toMatchObject({ status: 'failed', retry_count: 0 });
    expect((await report((await submit()).worktask_id, { status: 'failed' })).body).toEqual({ status: 'updated' });
  });

  it('answers 409 to a report on a finished task, in Mimir words', async () => {
    const { worktask_id: id } = await submit();
    await report(id, { status: 'cancelled' });
    const refused = await report(id, { status: 'executing' });
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({ error: `work task ${id} is cancelled: it cannot become executing` });
    const again = await report(id, { status: 'failed', error_message: 'OOMKilled' });
    expect(again.status).toBe(409);
    expect((await mimir('GET', `/${id}`)).body).toMatchObject({ status: 'cancelled', retry_count: 0 });
  });

  it('answers 400 when worktask_id does not match the path, 404 for an unknown task', async () => {
    const { worktask_id: id } = await submit();
    const mismatch = await mimir('POST', `/${id}`, { worktask_id: 'task-123', status: 'executing' });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.error).toMatch(/worktask_id "task-123" does not match/);
    expect((await mimir('GET', `/${id}`)).body.status).toBe('queued');

    const missing = await mimir('GET', '/no-such-task');
    expect(missing).toEqual({ status: 404, body: { error: expect.stringContaining('no-such-task') } });
    expect((await report('no-such-task', { status: 'completed' })).status).toBe(404);
    expect((await mimir('DELETE', `/${id}`)).status).toBe(404);
  });
});

describe.each(ENGINES)('work tasks run by taskhub workers on %s', (engine) => {
  let server: Server;
  const { mimir, native, submit, report } = client(() => server);
  const register = async (executors: string[]) =>
    (await native('POST', '/workers', { name: `w-${executors.join('-')}`, queues: ['default'], resources: { cpu: 64, memory: '512Gi', gpus: 8 }, executors }))
      .body.worker.id as string;

  beforeAll(async () => {
    server = await startTestServer(await databaseFor(engine));
  });
  afterAll(() => server.close());

  it('shows scheduled, spawned with the job and cluster names, then executing and completed', async () => {
    const { worktask_id: id } = await submit({ priority: 5 });
    const worker = await register([]);
    const claimed = await native('POST', `/workers/${worker}/claim`, { limit: 1 });
    expect(claimed.body.claims.map((c: any) => c.task.id)).toEqual([id]);
    // The claiming worker gets the credentials the answers never show.
    expect(claimed.body.claims[0].secrets).toEqual({ storage_credentials: 'creds-secret' });
    expect((await mimir('GET', `/${id}`)).body.status).toBe('scheduled');

    await native('POST', `/workers/${worker}/tasks/${id}/report`, { status: 'spawned', externalJobName: `worker-task-${id}`, clusterName: 'gpu-east' });
    const spawned = (await mimir('GET', `/${id}`)).body;
    expect(spawned).toMatchObject({ status: 'spawned', kubernetes_job_name: `worker-task-${id}`, cluster_name: 'gpu-east' });
    expect(spawned).not.toHaveProperty('started_at');

    await report(id, { status: 'executing' });
    await report(id, { status: 'completed', metadata: { rows: 3 } });
    expect((await mimir('GET', `/${id}`)).body).toMatchObject({ status: 'completed', result_metadata: { rows: 3 }, cluster_name: 'gpu-east' });
  });

  it('keeps a retried task out of reach for its back-off (retry_count × the retry delay)', async () => {
    const { worktask_id: id } = await submit();
    const worker = await register([]);
    expect((await native('POST', `/workers/${worker}/claim`, { limit: 1 })).body.claims[0].task.id).toBe(id);
    expect((await report(id, { status: 'failed', error_message: 'OOMKilled' })).body.status).toBe('requeued_for_retry');
    expect((await native('GET', `/tasks/${id}`)).body).toMatchObject({ status: 'queued', workerId: null });
    // The default delay is Mimir's: one minute per retry.
    expect((await native('POST', `/workers/${worker}/claim`, { limit: 1 })).body.claims).toEqual([]);
    expect((await native('GET', `/tasks/${id}`)).body.eligibleAt).toBeGreaterThan(Date.now() + 50_000);
  });

  it('maps task_spec to an execution, and only a worker offering its executor claims it', async () => {
    const model = await submit({ type: 'ml_inference', task_spec: { model_id: 'builtin/sentiment', input: { text: 'great' } } });
    const command = await submit({
      task_spec: { command: ['python3', 'train.py'], args: ['--epochs', '2'], env: { SEED: '1' }, working_dir: 'jobs', parameters: { lr: 0.1 } },
    });
    const image = await submit({ task_spec: { image: 'ghcr.io/acme/etl:1', pipeline_id: 'p-1' } });
    const shell = await submit({ task_spec: { model: 'builtin/echo', command: 'echo hi' } });

    const canonical = async (id: string) => (await native('GET', `/tasks/${id}`)).body;
    expect(await canonical(model.worktask_id)).toMatchObject({ modelId: 'builtin/sentiment', input: { text: 'great' }, resources: { executor: 'builtin' } });
    expect(await canonical(command.worktask_id)).toMatchObject({
      modelId: null,
      execution: { command: ['python3', 'train.py'], args: ['--epochs', '2'], env: { SEED: '1' }, workingDir: 'jobs' },
      // Without an input of its own, a command reads the whole spec (its parameters) as input.json.
      input: { parameters: { lr: 0.1 } },
      resources: { executor: 'process' },
    });
    expect(await canonical(image.worktask_id)).toMatchObject({ execution: { image: 'ghcr.io/acme/etl:1' }, resources: { executor: 'docker' } });
    expect(await canonical(shell.worktask_id)).toMatchObject({ modelId: 'builtin/echo', execution: { command: 'echo hi' } });
    // The spec is echoed as submitted.
    expect(command.task_spec).toEqual({ command: ['python3', 'train.py'], args: ['--epochs', '2'], env: { SEED: '1' }, working_dir: 'jobs', parameters: { lr: 0.1 } });

    const processOnly = await register(['process']);
    const claimed = await native('POST', `/workers/${processOnly}/claim`, { limit: 10 });
    expect(claimed.body.claims.map((c: any) => c.task.id)).toEqual([command.worktask_id]);
    // Nobody offers docker: the image task waits in the queue.
    expect((await mimir('GET', `/${image.worktask_id}`)).body.status).toBe('queued');
  });

  it('shows every canonical status in Mimir words: drafts are queued, ClearML’s publishing steps completed', async () => {
    const { body: draft } = await native('POST', '/tasks', { name: 'draft', status: 'created', project: 'words' });
    expect((await mimir('GET', `/${draft.id}`)).body.status).toBe('queued');
    for (const status of ['published', 'closed']) {
      await native('POST', `/tasks/${draft.id}/status`, { status, force: true });
      const shown = (await mimir('GET', `/${draft.id}`)).body;
      expect(shown).toMatchObject({ status: 'completed', completed_at: expect.stringMatching(ISO) });
    }
    expect((await mimir('GET', '?project_id=words&status=completed')).body.total).toBe(1);
  });

  it('shows a task submitted through the native API as a work task', async () => {
    const created = await native('POST', '/tasks', { type: 'ml_inference', project: 'native', modelId: 'builtin/echo', input: { x: 1 }, resources: { memory: '1Gi' } });
    expect((await mimir('GET', `/${created.body.id}`)).body).toMatchObject({
      worktask_id: created.body.id,
      status: 'queued',
      project_id: 'native',
      task_spec: { model_id: 'builtin/echo', input: { x: 1 } },
      resource_requirements: { cpu: '', memory: '1Gi', gpu: false },
    });
  });
});
