import { ApiException, BatchV1Api, CoreV1Api, KubeConfig, Log, type V1Job } from '@kubernetes/client-node';
import { containerSpecFor } from './container-spec.js';
import type { ExecutionContext, ExecutionOutcome, Executor } from './executor.js';
import { jobManifest, jobNameFor } from './kubernetes/job-manifest.js';
import { podSelectorOf, watchJob, type ClusterApis, type JobRef } from './kubernetes/watch-job.js';

export interface KubernetesExecutorOptions {
  /** The clusters and credentials, e.g. `kubeConfig.loadFromFile(path)`; its current context is the default. */
  kubeConfig: KubeConfig;
  /** Contexts a task may pick with `execution.cluster`. */
  contexts: string[];
  /** Default: the context's own namespace, else "default". */
  namespace?: string;
  /**
   * How often the Job's status is read. 2 s: a task's end is seen within 2 s, small beside the
   * seconds a pod takes to be scheduled and started, and 100 running tasks cost 50 reads/s.
   */
  pollIntervalMs?: number;
  /** How long the cluster keeps a finished Job and its pod (for `kubectl logs`) before deleting them. */
  ttlSecondsAfterFinished?: number;
}

interface Cluster {
  context: string;
  namespace: string;
  apis: ClusterApis;
}

/** The API server's own words (a Status object's message) rather than the client's dump of headers. */
function apiMessage(error: unknown): string {
  if (!(error instanceof ApiException)) return error instanceof Error ? error.message : String(error);
  try {
    const status = JSON.parse(String(error.body)) as { message?: string };
    if (status.message) return `HTTP ${error.code}: ${status.message}`;
  } catch {
    // Not a Status object: the code alone.
  }
  return `HTTP ${error.code}`;
}

/**
 * Runs each task as one Kubernetes Job (`worker-task-<id>`) in the cluster it prefers, watches
 * it by polling, and deletes it when the task is stopped. Polling rather than a watch stream:
 * the API server ends every watch after its request timeout, or with 410 Gone once the
 * resourceVersion is too old, and the client must then list again and resume; one GET per
 * interval needs none of that, each read is one recorded exchange in the tests, and for Jobs
 * that last minutes to hours 2 s of delay costs nothing.
 */
export class KubernetesExecutor implements Executor {
  readonly name = 'kubernetes' as const;
  private readonly clusters = new Map<string, Cluster>();
  private readonly defaultContext: string;

  constructor(private readonly options: KubernetesExecutorOptions) {
    const { kubeConfig } = options;
    this.defaultContext = kubeConfig.getCurrentContext();
    for (const name of new Set([this.defaultContext, ...options.contexts])) {
      const context = kubeConfig.getContextObject(name);
      if (!context) throw new Error(`kubernetes executor: the kubeconfig has no context named "${name}"`);
      const config = new KubeConfig();
      config.loadFromOptions({ clusters: kubeConfig.clusters, users: kubeConfig.users, contexts: kubeConfig.contexts, currentContext: name });
      this.clusters.set(name, {
        context: name,
        namespace: options.namespace ?? context.namespace ?? 'default',
        apis: { batch: config.makeApiClient(BatchV1Api), core: config.makeApiClient(CoreV1Api), logs: new Log(config) },
      });
    }
  }

  async run(context: ExecutionContext): Promise<ExecutionOutcome> {
    const prepared = containerSpecFor(context.task);
    if (!prepared.ok) return { status: 'failed', error: `kubernetes: ${prepared.error}` };
    if (context.signal.aborted) return { status: 'stopped' };
    const cluster = this.clusterFor(context);
    const name = jobNameFor(context.task.id);
    const manifest = jobManifest(context.task, prepared.spec, name, {
      namespace: cluster.namespace,
      ttlSecondsAfterFinished: this.options.ttlSecondsAfterFinished ?? 3600,
      stopGraceMs: context.stopGraceMs,
    });
    let job: JobRef;
    try {
      const created = await this.createJob(cluster, manifest, context);
      job = { name, namespace: cluster.namespace, podSelector: podSelectorOf(created) };
    } catch (error) {
      return { status: 'failed', error: `kubernetes: the Job could not be created: ${apiMessage(error)}` };
    }
    context.spawned({ clusterName: cluster.context, externalJobName: name });
    try {
      const deleteJob = () => this.deleteJob(cluster, job, context);
      return await watchJob(cluster.apis, job, this.options.pollIntervalMs ?? 2000, context, deleteJob);
    } catch (error) {
      // Nobody would watch the Job any more: it must not run on unobserved.
      await this.deleteJob(cluster, job, context);
      return { status: 'failed', error: `kubernetes: ${apiMessage(error)}` };
    }
  }

  /** The task's preferred cluster when this worker has it; otherwise the default context, said in the log. */
  private clusterFor(context: ExecutionContext): Cluster {
    const preferred = context.task.execution.cluster;
    const cluster = typeof preferred === 'string' ? this.clusters.get(preferred) : undefined;
    if (cluster) return cluster;
    if (typeof preferred === 'string') {
      context.log('system', `kubernetes: cluster "${preferred}" is not configured on this worker; using the default context "${this.defaultContext}"`);
    }
    return this.clusters.get(this.defaultContext)!;
  }

  /**
   * A retried task keeps its id, so its earlier attempt's Job may still exist (409 until the
   * cluster's TTL deletes it): that Job is replaced.
   */
  private async createJob(cluster: Cluster, manifest: V1Job, context: ExecutionContext): Promise<V1Job> {
    const { namespace } = cluster;
    try {
      return await cluster.apis.batch.createNamespacedJob({ namespace, body: manifest });
    } catch (error) {
      if (!(error instanceof ApiException) || error.code !== 409) throw error;
    }
    const name = manifest.metadata!.name!;
    context.log('system', `kubernetes: replacing the Job ${name} left by an earlier attempt`);
    await cluster.apis.batch.deleteNamespacedJob({ name, namespace, propagationPolicy: 'Background' });
    return cluster.apis.batch.createNamespacedJob({ namespace, body: manifest });
  }

  /** Background: the Job goes at once and the garbage collector stops its pod (SIGTERM, grace, SIGKILL). */
  private async deleteJob(cluster: Cluster, job: JobRef, context: ExecutionContext): Promise<void> {
    const { name, namespace } = job;
    await cluster.apis.batch.deleteNamespacedJob({ name, namespace, propagationPolicy: 'Background' }).catch((error: unknown) => {
      context.log('system', `kubernetes: the Job ${job.name} could not be deleted: ${apiMessage(error)}`);
    });
  }
}
