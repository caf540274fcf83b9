import type { V1Job } from '@kubernetes/client-node';
import type { Task } from '../../domain/task.js';
import type { ContainerSpec } from '../container-spec.js';

export const TASK_ID_LABEL = 'taskhub.io/task-id';
/** The one container of a task's pod (logs and termination state are read by this name). */
export const TASK_CONTAINER = 'task';

/**
 * DNS-1123 labels (a Job's name becomes its pods' `job-name` label value): at most 63 characters
 * of a-z, 0-9 and '-', starting and ending with a letter or digit.
 */
const LABEL_LIMIT = 63;

/** `worker-task-<id>`, lower-cased and cut to 63 characters so that any task id makes a valid name. */
export function jobNameFor(taskId: string): string {
  return `worker-task-${taskId}`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .slice(0, LABEL_LIMIT)
    .replace(/-+$/, '');
}

/** A label value names the task as far as label syntax allows; the annotation keeps its exact id. */
function labelValueFor(taskId: string): string {
  return taskId
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .slice(0, LABEL_LIMIT)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
}

export interface JobSettings {
  namespace: string;
  ttlSecondsAfterFinished: number;
  stopGraceMs: number;
}

/**
 * One Job, one pod, one try: backoffLimit 0 because taskhub's retry rule owns retries, and
 * restartPolicy Never so a failed container fails the Job instead of restarting in place.
 */
export function jobManifest(task: Task, spec: ContainerSpec, name: string, settings: JobSettings): V1Job {
  const labels = { [TASK_ID_LABEL]: labelValueFor(task.id) };
  const { maxExecutionSeconds } = task.resources;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: settings.namespace, labels, annotations: { [TASK_ID_LABEL]: task.id } },
    spec: {
      backoffLimit: 0,
      ...(maxExecutionSeconds > 0 && { activeDeadlineSeconds: Math.ceil(maxExecutionSeconds) }),
      ttlSecondsAfterFinished: settings.ttlSecondsAfterFinished,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          // The pod gets SIGTERM, then SIGKILL after the agent's grace period, as a process does.
          terminationGracePeriodSeconds: Math.ceil(settings.stopGraceMs / 1000),
          containers: [
            {
              name: TASK_CONTAINER,
              image: spec.image,
              ...(spec.entrypoint && { command: spec.entrypoint }),
              ...(spec.args && { args: spec.args }),
              env: Object.entries(spec.env).map(([envName, value]) => ({ name: envName, value })),
              resources: containerResources(task.resources),
              // A failed container without a termination message gets its last log lines as one.
              terminationMessagePolicy: 'FallbackToLogsOnError',
            },
          ],
        },
      },
    },
  };
}

/**
 * Requests equal limits (the Guaranteed class when cpu and memory are both given): the pod is
 * scheduled with exactly what the task asked for and is the last the kubelet evicts.
 */
function containerResources({ cpuMillis, memoryBytes, gpuCount }: Task['resources']) {
  const requests: Record<string, string> = {};
  const limits: Record<string, string> = {};
  if (cpuMillis > 0) requests.cpu = limits.cpu = `${Math.ceil(cpuMillis)}m`;
  if (memoryBytes > 0) requests.memory = limits.memory = String(Math.ceil(memoryBytes));
  // Extended resources are set as limits; Kubernetes copies them to requests.
  if (gpuCount > 0) limits['nvidia.com/gpu'] = String(Math.ceil(gpuCount));
  return { requests, limits };
}
