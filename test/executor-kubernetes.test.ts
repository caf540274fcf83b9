import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import type { TaskInput } from '../src/core/new-task.js';
import { KubernetesExecutor } from '../src/executors/kubernetes-executor.js';
import { jobNameFor } from '../src/executors/kubernetes/job-manifest.js';
import { RecordingContext } from './helpers/cluster-execution-context.js';
import { loadFixture, RecordedApi } from './helpers/recorded-api.js';

// The ids the fixtures were written with (test/fixtures/kubernetes/*.json).
const TASK_ID = '0193a5c2-8d4e-7b1f-a2c3-d4e5f6a7b8c9';
const JOB = `worker-task-${TASK_ID}`;
const TASK: TaskInput = { id: TASK_ID, execution: { image: 'ghcr.io/acme/trainer:1.2' } };

/** Two clusters, each its own recorded API server: cpu-west (the default context, namespace ml) and gpu-east. */
interface Clusters {
  executor: KubernetesExecutor;
  cpuWest: RecordedApi;
  gpuEast: RecordedApi;
}

let open: Clusters | undefined;
let kubeDir: string | undefined;
afterEach(async () => {
  await Promise.all([open?.cpuWest.close(), open?.gpuEast.close()]);
  if (kubeDir) rmSync(kubeDir, { recursive: true });
  open = kubeDir = undefined;
});

async function clusters(recorded: { cpuWest?: string; gpuEast?: string }): Promise<Clusters> {
  const serve = (fixture?: string) => RecordedApi.serve(...(fixture ? [loadFixture(`kubernetes/${fixture}.json`)] : []));
  const [cpuWest, gpuEast] = await Promise.all([serve(recorded.cpuWest), serve(recorded.gpuEast)]);
  kubeDir = mkdtempSync(join(tmpdir(), 'taskhub-kube-'));
  const path = join(kubeDir, 'config');
  // JSON is YAML: the kubeconfig loader reads it as a kubectl-written file.
  const cluster = (api: RecordedApi) => ({ server: api.url, 'insecure-skip-tls-verify': true });
  writeFileSync(
    path,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name: 'cpu-west', cluster: cluster(cpuWest) },
        { name: 'gpu-east', cluster: cluster(gpuEast) },
      ],
      users: [{ name: 'taskhub', user: { token: 'test-token' } }],
      contexts: [
        { name: 'cpu-west', context: { cluster: 'cpu-west', user: 'taskhub', namespace: 'ml' } },
        { name: 'gpu-east', context: { cluster: 'gpu-east', user: 'taskhub' } },
      ],
      'current-context': 'cpu-west',
    }),
  );
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(path);
  const executor = new KubernetesExecutor({ kubeConfig, contexts: ['cpu-west', 'gpu-east'], pollIntervalMs: 5 });
  open = { executor, cpuWest, gpuEast };
  return open;
}

const errorOf = (outcome: unknown) => (outcome as { error: string }).error;

describe('kubernetes executor (against recorded Kubernetes API answers)', () => {
  it("creates the Job in the preferred cluster's context and completes it with the pod's log", async () => {
    const { executor, cpuWest, gpuEast } = await clusters({ gpuEast: 'success' });
    const context = new RecordingContext({
      id: TASK_ID,
      input: { dataset: 'd1' },
      execution: { image: 'ghcr.io/acme/trainer:1.2', cluster: 'gpu-east', command: ['python', '/app/train.py'], args: ['--epochs', '3'] },
      resources: { cpuMillis: 4000, memoryBytes: 16 * 2 ** 30, gpuCount: 2, maxExecutionSeconds: 3600 },
    });

    const outcome = await executor.run(context);

    gpuEast.verify(); // name, labels, backoffLimit 0, deadline, TTL, restartPolicy, resources, GPU limit
    expect(cpuWest.received).toEqual([]);
    expect(outcome).toEqual({ status: 'completed', result: { exit_code: 0, output: { accuracy: 0.91 } } });
    expect(context.spawnedWith).toEqual([{ clusterName: 'gpu-east', externalJobName: JOB }]);
    expect(context.reports).toEqual(['spawned', 'running']);
    expect(context.lines('stdout')).toEqual(['epoch 1/3 loss=0.52', 'epoch 2/3 loss=0.31', 'epoch 3/3 loss=0.18', '{"accuracy": 0.91}']);
  });

  it('runs a task that prefers no cluster in the default context and namespace, reading the log of a pod already done', async () => {
    const { executor, cpuWest, gpuEast } = await clusters({ cpuWest: 'quick-success' });
    const context = new RecordingContext(TASK);

    const outcome = await executor.run(context);

    cpuWest.verify();
    expect(gpuEast.received).toEqual([]);
    expect(outcome).toEqual({ status: 'completed', result: { exit_code: 0 } });
    expect(context.spawnedWith).toEqual([{ clusterName: 'cpu-west', externalJobName: JOB }]);
    expect(context.lines('stdout')).toEqual(['done']);
    const job = cpuWest.received[0]!.body as any;
    expect(job.spec.activeDeadlineSeconds).toBeUndefined();
    expect(job.spec.template.spec.containers[0].resources).toEqual({ requests: {}, limits: {} });
  });

  it('runs a task preferring a cluster this worker lacks in the default context, and says so', async () => {
    const { executor, cpuWest } = await clusters({ cpuWest: 'quick-success' });
    const context = new RecordingContext({ ...TASK, execution: { image: 'ghcr.io/acme/trainer:1.2', cluster: 'tpu-north' } });

    const outcome = await executor.run(context);
    cpuWest.verify();
    expect(outcome).toMatchObject({ status: 'completed' });
    expect(context.spawnedWith[0]!.clusterName).toBe('cpu-west');
    expect(context.lines('system')).toEqual(['kubernetes: cluster "tpu-north" is not configured on this worker; using the default context "cpu-west"']);
  });

  it.each([
    ['oom-killed', /^OOMKilled: /],
    ['evicted', /^Evicted: The node was low on resource: memory\./],
    ['deadline-exceeded', /^DeadlineExceeded: Job was active longer than specified deadline$/],
  ])('reports %s as a transient failure named by its reason', async (fixture, error) => {
    const { executor, cpuWest } = await clusters({ cpuWest: fixture });
    const context = new RecordingContext(TASK);

    const outcome = await executor.run(context);

    cpuWest.verify();
    expect(outcome).toMatchObject({ status: 'failed', transient: true });
    expect(errorOf(outcome)).toMatch(error);
    expect(context.reports).toEqual(['spawned', 'running']);
  });

  it("fails with the container's termination message when the program exits non-zero", async () => {
    const { executor, cpuWest } = await clusters({ cpuWest: 'failed' });
    const context = new RecordingContext(TASK);

    const outcome = await executor.run(context);

    cpuWest.verify();
    expect(outcome).toMatchObject({ status: 'failed', result: { exit_code: 1, reason: 'Error' } });
    expect(outcome).not.toHaveProperty('transient');
    expect(errorOf(outcome)).toMatch(/^kubernetes: the container failed with code 1 \(BackoffLimitExceeded\):\n/);
    expect(errorOf(outcome)).toContain('ValueError: no rows in dataset');
  });

  it('deletes the Job (propagationPolicy Background) when the task is aborted', async () => {
    const { executor, cpuWest } = await clusters({ cpuWest: 'abort' });
    const context = new RecordingContext(TASK);

    const run = executor.run(context);
    await context.untilRunning();
    context.abort();

    expect(await run).toEqual({ status: 'stopped' });
    cpuWest.verify();
    expect(cpuWest.calls().at(-1)).toBe(`DELETE /apis/batch/v1/namespaces/ml/jobs/${JOB}`);
    expect(context.lines('stdout')).toEqual(['step 1']);
  });

  it('fails and deletes the Job when its pod cannot pull the image', async () => {
    const { executor, cpuWest } = await clusters({ cpuWest: 'image-pull-backoff' });
    const context = new RecordingContext(TASK);

    const outcome = await executor.run(context);

    cpuWest.verify();
    expect(outcome).toEqual({
      status: 'failed',
      error: 'kubernetes: the pod cannot start: ImagePullBackOff: Back-off pulling image "ghcr.io/acme/trainer:1.2"',
    });
    expect(context.reports).toEqual(['spawned']);
  });

  it('replaces the Job an earlier attempt of the same task left behind', async () => {
    const { executor, cpuWest } = await clusters({ cpuWest: 'replace-stale-job' });
    const context = new RecordingContext(TASK);

    const outcome = await executor.run(context);
    cpuWest.verify(); // and the pods were looked up by the new Job's uid, not by its name
    expect(outcome).toMatchObject({ status: 'completed' });
    expect(cpuWest.calls().slice(0, 3)).toEqual([
      'POST /apis/batch/v1/namespaces/ml/jobs',
      `DELETE /apis/batch/v1/namespaces/ml/jobs/${JOB}`,
      'POST /apis/batch/v1/namespaces/ml/jobs',
    ]);
  });

  it('names Jobs within DNS-1123 rules whatever the task id', () => {
    const name = jobNameFor(`Run_42/${'x'.repeat(80)}`);
    expect(name).toMatch(/^worker-task-run-42-x+$/);
    expect(name).toHaveLength(63);
    expect(jobNameFor('ABC--')).toBe('worker-task-abc');
  });

  it('refuses a context the kubeconfig does not have', () => {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({ clusters: [], users: [], contexts: [], currentContext: 'missing' });
    expect(() => new KubernetesExecutor({ kubeConfig, contexts: [] })).toThrow('the kubeconfig has no context named "missing"');
  });
});
