import { PassThrough } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import type { BatchV1Api, CoreV1Api, Log, V1Job, V1JobCondition, V1Pod } from '@kubernetes/client-node';
import { ContainerLog, logEnded } from '../container-log.js';
import type { ExecutionContext, ExecutionOutcome } from '../executor.js';
import { TASK_CONTAINER } from './job-manifest.js';

/** The API clients of one cluster (kubeconfig context). */
export interface ClusterApis {
  batch: BatchV1Api;
  core: CoreV1Api;
  logs: Log;
}

/** The Job being watched, and the label selector of its pods. */
export interface JobRef {
  name: string;
  namespace: string;
  podSelector: string;
}

/**
 * The Job's own selector, which the API server sets to the Job's uid: unlike `job-name`, it
 * cannot match the pods of an earlier Job of the same name still being deleted.
 */
export function podSelectorOf(job: V1Job): string {
  const labels = Object.entries(job.spec?.selector?.matchLabels ?? {});
  return labels.length > 0 ? labels.map(([key, value]) => `${key}=${value}`).join(',') : `job-name=${job.metadata?.name}`;
}

/**
 * The kubelet keeps retrying these, but they need a change to the task (a bad image name, a
 * missing Secret); without a deadline the Job would wait for ever.
 */
const UNSTARTABLE = ['ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull', 'CreateContainerConfigError'];

/** After the grace period, the time the garbage collector and kubelet may take to end a deleted Job's pod. */
const LOG_END_MARGIN_MS = 5000;

/**
 * Polls the Job (and, until it runs, its pod) every `pollIntervalMs`, follows the pod's log
 * once it runs, and maps how the Job ended to an outcome. `deleteJob` ends a Job that is
 * still running when the task is aborted or its pod cannot start.
 */
export async function watchJob(
  apis: ClusterApis,
  job: JobRef,
  pollIntervalMs: number,
  context: ExecutionContext,
  deleteJob: () => Promise<void>,
): Promise<ExecutionOutcome> {
  const log = new ContainerLog(context);
  let following: LogFollower | undefined;
  try {
    for (;;) {
      if (context.signal.aborted) {
        await deleteJob();
        // The pod gets the grace period to stop; what it logs meanwhile is kept.
        if (following) await logEnded(following.ended, context.stopGraceMs + LOG_END_MARGIN_MS);
        return { status: 'stopped' };
      }
      const status = await apis.batch.readNamespacedJobStatus({ name: job.name, namespace: job.namespace });
      if (!following) {
        const pod = await podOf(apis.core, job);
        const waiting = pod?.status?.containerStatuses?.find((c) => c.name === TASK_CONTAINER)?.state?.waiting;
        if (waiting?.reason && UNSTARTABLE.includes(waiting.reason)) {
          await deleteJob();
          return { status: 'failed', error: `kubernetes: the pod cannot start: ${waiting.reason}: ${waiting.message ?? ''}` };
        }
        if (pod && ['Running', 'Succeeded', 'Failed'].includes(pod.status?.phase ?? '')) {
          context.running();
          following = followLog(apis.logs, job.namespace, pod.metadata!.name!, log, context);
        }
      }
      const end = finalCondition(status);
      if (end) {
        if (following) await logEnded(following.ended);
        return await outcomeOf(end, apis.core, job, log);
      }
      await delay(pollIntervalMs, undefined, { signal: context.signal }).catch(() => undefined);
    }
  } finally {
    following?.stop();
  }
}

/** Complete or Failed, once true: the Job controller's last word (k8s 1.31 adds earlier *Target conditions). */
function finalCondition(job: V1Job): V1JobCondition | undefined {
  return job.status?.conditions?.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

/** With backoffLimit 0 a Job has at most one pod. */
async function podOf(core: CoreV1Api, job: JobRef): Promise<V1Pod | undefined> {
  const pods = await core.listNamespacedPod({ namespace: job.namespace, labelSelector: job.podSelector });
  return pods.items[0];
}

/**
 * OOMKilled, Evicted and DeadlineExceeded say nothing about the task itself: transient, with the
 * reason's name at the start of the error, which is what the retry rule matches.
 */
async function outcomeOf(
  end: V1JobCondition,
  core: CoreV1Api,
  job: JobRef,
  log: ContainerLog,
): Promise<ExecutionOutcome> {
  if (end.type === 'Complete') return { status: 'completed', result: log.successResult() };
  if (end.reason === 'DeadlineExceeded') {
    return { status: 'failed', transient: true, error: `DeadlineExceeded: ${end.message ?? 'the Job ran past activeDeadlineSeconds'}` };
  }
  const pod = await podOf(core, job);
  const terminated = pod?.status?.containerStatuses?.find((c) => c.name === TASK_CONTAINER)?.state?.terminated;
  const result = { exit_code: terminated?.exitCode ?? null, reason: terminated?.reason ?? end.reason ?? null };
  if (terminated?.reason === 'OOMKilled') {
    return { status: 'failed', transient: true, result, error: `OOMKilled: the container exceeded its memory limit (exit code ${terminated.exitCode})` };
  }
  if (pod?.status?.reason === 'Evicted') {
    return { status: 'failed', transient: true, result, error: `Evicted: ${pod.status.message ?? 'the node ran short of resources'}` };
  }
  const detail = terminated?.message?.trim() || log.tailText() || end.message || '';
  const code = terminated ? ` with code ${terminated.exitCode}` : '';
  return { status: 'failed', result, error: `kubernetes: the container failed${code} (${end.reason ?? 'Failed'})${detail ? `:\n${detail}` : ''}` };
}

interface LogFollower {
  ended: Promise<void>;
  stop(): void;
}

/**
 * GET …/pods/{pod}/log?follow=true: the kubelet streams the log until the container exits.
 * It merges the container's stdout and stderr, so every line is logged as stdout.
 */
function followLog(logs: Log, namespace: string, pod: string, log: ContainerLog, context: ExecutionContext): LogFollower {
  const output = new PassThrough();
  const ended = log.forward(output, 'stdout');
  let request: AbortController | undefined;
  let stopped = false;
  logs.log(namespace, pod, TASK_CONTAINER, output, { follow: true }).then(
    (controller) => {
      request = controller;
      if (stopped) controller.abort();
    },
    (error: Error) => {
      if (!stopped) context.log('system', `kubernetes: the pod's log could not be read: ${error.message}`);
      output.end();
    },
  );
  return {
    ended,
    stop() {
      stopped = true;
      request?.abort();
      output.end();
    },
  };
}
