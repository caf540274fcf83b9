import { PassThrough, type Readable } from 'node:stream';
import type Docker from 'dockerode';
import { ContainerLog, logEnded } from '../container-log.js';
import type { ExecutionContext, ExecutionOutcome } from '../executor.js';

type StopReason = 'abort' | 'timeout';

/** Starts a created container, follows its log until it exits, and says how it ended. */
export async function runContainer(docker: Docker, container: Docker.Container, context: ExecutionContext): Promise<ExecutionOutcome> {
  if (context.signal.aborted) return { status: 'stopped' };
  await container.start();
  context.running();
  const log = new ContainerLog(context);
  const logRequest = new AbortController();
  const forwarding = forwardLogs(docker, container, log, logRequest.signal).catch((error: Error) => {
    if (!logRequest.signal.aborted) context.log('system', `docker: the container's log could not be read: ${error.message}`);
  });
  const stopper = stopWhenAsked(container, context);
  let exit: { StatusCode: number };
  try {
    exit = await container.wait();
  } finally {
    stopper.dispose();
  }
  await logEnded(forwarding);
  logRequest.abort();

  const maxSeconds = context.task.resources.maxExecutionSeconds;
  if (stopper.reason() === 'abort') return { status: 'stopped' };
  if (stopper.reason() === 'timeout') {
    return { status: 'timeout', error: `docker: the container ran longer than ${maxSeconds} s (maxExecutionSeconds) and was stopped` };
  }
  if (exit.StatusCode === 0) return { status: 'completed', result: log.successResult() };
  const result = { exit_code: exit.StatusCode };
  const { State } = await container.inspect();
  if (State.OOMKilled) {
    return { status: 'failed', transient: true, result, error: `OOMKilled: the container exceeded its memory limit (exit code ${exit.StatusCode})` };
  }
  const tail = log.tailText();
  return { status: 'failed', result, error: `docker: the container exited with code ${exit.StatusCode}${tail ? `:\n${tail}` : ''}` };
}

/** GET /containers/{id}/logs?follow: stdout and stderr arrive multiplexed in one stream (no TTY). */
async function forwardLogs(docker: Docker, container: Docker.Container, log: ContainerLog, signal: AbortSignal): Promise<void> {
  const source = (await container.logs({ follow: true, stdout: true, stderr: true, abortSignal: signal })) as Readable;
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const ended = Promise.all([log.forward(stdout, 'stdout'), log.forward(stderr, 'stderr')]);
  docker.modem.demuxStream(source, stdout, stderr);
  const endBoth = () => {
    stdout.end();
    stderr.end();
  };
  source.once('end', endBoth).once('close', endBoth).once('error', endBoth);
  await ended;
}

/**
 * Stops the container (SIGTERM, SIGKILL after the grace period) when the task is aborted or runs
 * past maxExecutionSeconds; remembers which came first.
 */
function stopWhenAsked(container: Docker.Container, context: ExecutionContext) {
  let reason: StopReason | undefined;
  const stop = (why: StopReason) => {
    if (reason) return;
    reason = why;
    // Docker's stop takes whole seconds.
    const t = Math.ceil(context.stopGraceMs / 1000);
    container.stop({ t }).catch((error: Error & { statusCode?: number }) => {
      // 304: it had already stopped by itself.
      if (error.statusCode !== 304) context.log('system', `docker: stopping the container failed: ${error.message}`);
    });
  };
  const onAbort = () => stop('abort');
  context.signal.addEventListener('abort', onAbort, { once: true });
  if (context.signal.aborted) onAbort();
  const maxMs = context.task.resources.maxExecutionSeconds * 1000;
  const timer = maxMs > 0 ? setTimeout(() => stop('timeout'), maxMs) : undefined;
  return {
    reason: () => reason,
    dispose() {
      context.signal.removeEventListener('abort', onAbort);
      clearTimeout(timer);
    },
  };
}
