import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { JsonValue } from '../domain/json.js';
import type { ExecutionContext, ExecutionOutcome, Executor } from './executor.js';
import { LineSplitter } from './line-splitter.js';
import { OutputTail } from './output-tail.js';
import { LaunchError, processLaunch, type ProcessLaunch } from './process-launch.js';

/**
 * After the process exits, its output still in the pipes is read (that takes microseconds);
 * a pipe still open after this long is held by a process that left the group (setsid) and is
 * closed without waiting for it.
 */
const PIPE_DRAIN_MS = 1_000;

interface ChildEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
  spawnError?: Error;
  /** Set when taskhub ended the process: an abort, or the task's max execution time. */
  stoppedFor?: 'stopped' | 'timeout';
  stderrTail: OutputTail;
}

/** setTimeout fires at once for a longer delay (about 24.8 days); the server's deadline covers those. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Signals the whole process group (detached child = group leader), so grandchildren get it too. */
function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch (error) {
    // ESRCH: the group is gone already. EPERM: its last members belong to someone else now.
    // Either way there is nothing left of the task to signal (and this runs in timers).
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ESRCH' && code !== 'EPERM') throw error;
  }
}

/**
 * Runs a task's command, script or shell line as a child process of the agent, in its own
 * process group: on abort or at the task's max execution time the group gets SIGTERM, then
 * SIGKILL after `stopGraceMs`; whatever the process left running when it exited is killed.
 */
export class ProcessExecutor implements Executor {
  readonly name = 'process';

  async run(context: ExecutionContext): Promise<ExecutionOutcome> {
    if (context.signal.aborted) return { status: 'stopped' };
    let launch: ProcessLaunch;
    try {
      launch = processLaunch(context.task, context.secrets, context.workDir);
    } catch (error) {
      if (error instanceof LaunchError) return { status: 'failed', error: error.message };
      throw error;
    }
    const isDirectory = await stat(launch.cwd).then((info) => info.isDirectory(), () => false);
    if (!isDirectory) return { status: 'failed', error: `working directory ${launch.cwd} does not exist` };
    await writeFile(launch.inputPath, JSON.stringify(context.task.input ?? null));
    return outcomeOf(await runChild(context, launch), launch, context.task.resources.maxExecutionSeconds);
  }
}

function runChild(context: ExecutionContext, launch: ProcessLaunch): Promise<ChildEnd> {
  const end: ChildEnd = { code: null, signal: null, stderrTail: new OutputTail() };
  let child: ChildProcessByStdio<null, Readable, Readable>;
  try {
    child = spawn(launch.file, launch.args, { cwd: launch.cwd, env: launch.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    // Arguments spawn refuses outright, such as a NUL character in argv or the environment.
    return Promise.resolve({ ...end, spawnError: error as Error });
  }
  const stdout = new LineSplitter((line) => context.log('stdout', line));
  const stderr = new LineSplitter((line) => {
    context.log('stderr', line);
    end.stderrTail.push(line);
  });
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));

  let exited = false;
  let killTimer: NodeJS.Timeout | undefined;
  const stop = (why: 'stopped' | 'timeout', message: string) => {
    if (exited || end.stoppedFor) return;
    end.stoppedFor = why;
    context.log('system', `${message}: SIGTERM, then SIGKILL after ${context.stopGraceMs} ms`);
    signalGroup(child.pid, 'SIGTERM');
    killTimer = setTimeout(() => signalGroup(child.pid, 'SIGKILL'), context.stopGraceMs);
  };
  const onAbort = () => stop('stopped', `stopping (${String(context.signal.reason ?? 'aborted')})`);
  context.signal.addEventListener('abort', onAbort, { once: true });
  const limitSeconds = context.task.resources.maxExecutionSeconds;
  const limitMs = limitSeconds * 1000;
  const deadline = limitMs > 0 && limitMs <= MAX_TIMER_MS ? setTimeout(() => stop('timeout', `max execution time of ${limitSeconds} s reached`), limitMs) : undefined;

  child.on('spawn', () => {
    context.log('system', `process ${child.pid} started`);
    context.spawned();
    context.running();
  });
  child.on('error', (error) => {
    if (child.pid === undefined) end.spawnError = error;
  });
  let drainTimer: NodeJS.Timeout | undefined;
  child.on('exit', () => {
    exited = true;
    clearTimeout(deadline);
    clearTimeout(killTimer);
    signalGroup(child.pid, 'SIGKILL');
    drainTimer = setTimeout(() => {
      child.stdout.destroy();
      child.stderr.destroy();
    }, PIPE_DRAIN_MS);
  });
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(drainTimer);
      clearTimeout(deadline);
      clearTimeout(killTimer);
      context.signal.removeEventListener('abort', onAbort);
      stdout.end();
      stderr.end();
      resolve({ ...end, code, signal });
    });
  });
}

async function outcomeOf(end: ChildEnd, launch: ProcessLaunch, limitSeconds: number): Promise<ExecutionOutcome> {
  if (end.spawnError) return { status: 'failed', error: `could not start ${launch.file}: ${end.spawnError.message}` };
  if (end.stoppedFor === 'stopped') return { status: 'stopped' };
  if (end.stoppedFor === 'timeout') return { status: 'timeout', error: `ran longer than its max execution time of ${limitSeconds} s` };
  const tail = end.stderrTail.text();
  if (end.code !== 0) {
    const how = end.code === null ? `was killed by ${end.signal}` : `exited with code ${end.code}`;
    return { status: 'failed', error: tail ? `process ${how}:\n${tail}` : `process ${how}`, result: { exit_code: end.code, signal: end.signal } };
  }
  return readOutput(launch.outputPath);
}

/** The JSON the process wrote to $TASKHUB_OUTPUT, else `{ exit_code: 0 }`. */
async function readOutput(path: string): Promise<ExecutionOutcome> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'completed', result: { exit_code: 0 } };
    return { status: 'failed', error: `the process exited 0 but $TASKHUB_OUTPUT could not be read: ${(error as Error).message}` };
  }
  try {
    return { status: 'completed', result: JSON.parse(text) as JsonValue };
  } catch (error) {
    return { status: 'failed', error: `the process exited 0 but $TASKHUB_OUTPUT is not JSON: ${(error as Error).message}` };
  }
}
