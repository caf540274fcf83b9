import { afterEach, describe, expect, it } from 'vitest';
import { newTask, type TaskInput } from '../src/core/new-task.js';
import { containerSpecFor } from '../src/executors/container-spec.js';
import { DockerExecutor } from '../src/executors/docker-executor.js';
import { RecordingContext } from './helpers/cluster-execution-context.js';
import { loadFixture, RecordedApi } from './helpers/recorded-api.js';

// The ids the fixtures were written with (test/fixtures/docker/*.json).
const TASK_ID = '0193a5c2-7f1e-7a3b-9c4d-5e6f7a8b9c0d';
const CONTAINER = '4fa6e0f0c6786287e131c3852c58a2e01cc697a68231826813597e4994f1d6e2';
const SMALL_TASK: TaskInput = { id: TASK_ID, execution: { image: 'ghcr.io/acme/trainer:1.2' } };

let api: RecordedApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

/** The executor against the recorded engine answers of one fixture. */
async function engine(fixture: string): Promise<DockerExecutor> {
  api = await RecordedApi.serve(loadFixture(`docker/${fixture}.json`));
  return new DockerExecutor({ connection: { host: '127.0.0.1', port: api.port, protocol: 'http' } });
}

describe('docker executor (against recorded Docker Engine API answers)', () => {
  it('runs a container: env, limits and labels in the create body, both log streams, JSON output, removal', async () => {
    const executor = await engine('success');
    const context = new RecordingContext({
      id: TASK_ID,
      input: { text: 'hello' },
      execution: { image: 'python:3.12-slim', command: ['python', '/app/train.py'], args: ['--epochs', '3'], env: { MODEL: 'tiny' } },
      hyperparams: {
        General: { 'learning-rate': { section: 'General', name: 'learning-rate', value: '0.01', type: 'float' } },
        Args: { epochs: { section: 'Args', name: 'epochs', value: 3 } },
      },
      resources: { cpuMillis: 1500, memoryBytes: 2 * 2 ** 30 },
    });

    const outcome = await executor.run(context);
    api!.verify();
    expect(outcome).toEqual({ status: 'completed', result: { exit_code: 0, output: { accuracy: 0.91 } } });
    const created = api!.received[0]!;
    expect(created.query).toEqual({}); // the environment (input included) stays out of the URL
    expect((created.body as any).HostConfig.DeviceRequests).toBeUndefined();
    expect(context.lines('stdout')).toEqual(['epoch 1/3 loss=0.52', 'epoch 2/3 loss=0.31', 'epoch 3/3 loss=0.18', '{"accuracy": 0.91}']);
    expect(context.lines('stderr')).toEqual(['warning: no GPU found, using CPU']);
    expect(context.reports).toEqual(['spawned', 'running']);
    expect(context.spawnedWith).toEqual([{ externalJobName: CONTAINER }]);
    expect(api!.calls().at(-1)).toBe(`DELETE /containers/${CONTAINER}`);
  });

  it('pulls a missing image (404 on create), then creates the container again', async () => {
    const executor = await engine('image-missing');
    const context = new RecordingContext(SMALL_TASK);

    const outcome = await executor.run(context);
    api!.verify();
    expect(outcome).toEqual({ status: 'completed', result: { exit_code: 0 } });
    expect(api!.calls().slice(0, 3)).toEqual(['POST /containers/create', 'POST /images/create', 'POST /containers/create']);
    expect(context.lines('system')).toEqual([
      'docker: image ghcr.io/acme/trainer:1.2 is not on this engine; pulling it',
      'docker: pulled ghcr.io/acme/trainer:1.2',
    ]);
  });

  it('fails without spawning when the registry refuses the pull', async () => {
    const executor = await engine('pull-denied');
    const context = new RecordingContext(SMALL_TASK);

    const outcome = await executor.run(context);
    api!.verify();
    expect(outcome).toMatchObject({ status: 'failed', error: expect.stringContaining('pull access denied') });
    expect(outcome).not.toHaveProperty('transient');
    expect(context.reports).toEqual([]);
  });

  it('asks the engine for the GPUs the task needs', async () => {
    const executor = await engine('gpu');
    const context = new RecordingContext({
      id: TASK_ID,
      execution: { image: 'nvcr.io/nvidia/pytorch:24.05-py3' },
      resources: { gpuCount: 2, memoryBytes: 16 * 2 ** 30 },
    });

    const outcome = await executor.run(context);
    api!.verify();
    expect(outcome).toMatchObject({ status: 'completed' });
    expect((api!.received[0]!.body as any).HostConfig.NanoCpus).toBeUndefined();
  });

  it('fails with the log tail and the exit code when the program exits non-zero', async () => {
    const executor = await engine('nonzero-exit');
    const context = new RecordingContext(SMALL_TASK);

    const outcome = await executor.run(context);
    api!.verify();
    expect(outcome).toMatchObject({ status: 'failed', result: { exit_code: 3 } });
    expect(outcome).not.toHaveProperty('transient');
    const error = (outcome as { error: string }).error;
    expect(error).toMatch(/^docker: the container exited with code 3:\n/);
    expect(error).toContain('ValueError: no rows in dataset');
    expect(api!.calls().at(-1)).toBe(`DELETE /containers/${CONTAINER}`);
  });

  it('reports an OOM kill as a transient failure', async () => {
    const executor = await engine('oom-killed');
    const context = new RecordingContext(SMALL_TASK);

    const outcome = await executor.run(context);
    api!.verify();
    expect(outcome).toMatchObject({ status: 'failed', transient: true, result: { exit_code: 137 } });
    expect((outcome as { error: string }).error).toMatch(/^OOMKilled/);
  });

  it('stops the container with the grace period when the task is aborted, and removes it', async () => {
    const executor = await engine('stop');
    const context = new RecordingContext(SMALL_TASK, { stopGraceMs: 1500 });

    const run = executor.run(context);
    await context.untilRunning();
    context.abort();

    expect(await run).toEqual({ status: 'stopped' });
    api!.verify(); // the stop carried t=2: 1.5 s rounded up to whole seconds
    expect(context.lines('stderr')).toEqual(['caught SIGTERM, saving checkpoint']);
    expect(api!.calls().slice(-2)).toEqual([`POST /containers/${CONTAINER}/stop`, `DELETE /containers/${CONTAINER}`]);
  });

  it('stops the container at maxExecutionSeconds and reports a timeout', async () => {
    const executor = await engine('stop');
    const context = new RecordingContext({ ...SMALL_TASK, resources: { maxExecutionSeconds: 1 } }, { stopGraceMs: 2000 });
    const started = Date.now();

    const outcome = await executor.run(context);
    api!.verify();
    expect(outcome).toMatchObject({ status: 'timeout', error: expect.stringContaining('longer than 1 s') });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it('removes the container even when it cannot start', async () => {
    const executor = await engine('start-fails');
    const context = new RecordingContext(SMALL_TASK);

    const outcome = await executor.run(context);
    api!.verify();
    expect(outcome).toMatchObject({ status: 'failed', error: expect.stringContaining('executable file not found') });
    expect(context.reports).toEqual(['spawned']);
  });

  it('fails at once, without calling the engine, when the task names no image', async () => {
    const executor = await engine('success');
    const context = new RecordingContext({ id: TASK_ID, execution: { command: 'true' } });

    expect(await executor.run(context)).toEqual({ status: 'failed', error: 'docker: the task names no image to run (execution.image)' });
    expect(api!.received).toEqual([]);
  });
});

describe('what a container runs (shared by the docker and kubernetes executors)', () => {
  it('runs a command line through /bin/sh with the args as "$@", as the process executor does', () => {
    const task = newTask({ execution: { image: 'alpine:3.20', command: 'echo "$1" >&2', args: ['two words'] } }, 0);
    expect(containerSpecFor(task)).toMatchObject({
      ok: true,
      spec: { entrypoint: ['/bin/sh', '-c', 'echo "$1" >&2 "$@"', 'sh'], args: ['two words'] },
    });
  });

  it('refuses an input larger than one environment string may be (128 KiB)', () => {
    const task = newTask({ execution: { image: 'alpine:3.20' }, input: { text: 'x'.repeat(128 * 1024) } }, 0);
    expect(containerSpecFor(task)).toMatchObject({ ok: false, error: expect.stringContaining('too large for TASKHUB_INPUT_JSON') });
  });

  it('refuses an execution whose fields have the wrong types', () => {
    const spec = (execution: Record<string, any>) => containerSpecFor(newTask({ execution: { image: 'alpine:3.20', ...execution } }, 0));
    expect(spec({ command: 42 })).toEqual({ ok: false, error: 'execution.command must be a string or an array of strings' });
    expect(spec({ args: 'a b' })).toEqual({ ok: false, error: 'execution.args must be an array of strings' });
    expect(spec({ env: { N: 1 } })).toEqual({ ok: false, error: 'execution.env must map names to strings' });
  });
});
