import type { ExecutionSpec } from '../domain/execution.js';
import type { Task } from '../domain/task.js';
import { isStringArray } from './json-checks.js';
import { hyperparamSettings } from './process-launch.js';

/** What the docker and kubernetes executors run for a task, in words both engines share. */
export interface ContainerSpec {
  image: string;
  /** Replaces the image's entrypoint when the task gives a command. */
  entrypoint?: string[];
  /** Replaces the image's default arguments when the task gives args. */
  args?: string[];
  env: Record<string, string>;
}

export type ContainerSpecResult = { ok: true; spec: ContainerSpec } | { ok: false; error: string };

/**
 * Linux refuses to exec a program when one environment string exceeds MAX_ARG_STRLEN
 * (32 pages = 128 KiB): an input bigger than that could never reach the container this way.
 */
const MAX_ENV_STRING_BYTES = 128 * 1024;

/**
 * `execution.command` is the whole program to run (an argv, or a line for /bin/sh), so it
 * replaces the image's entrypoint; `execution.args` follow it, or follow the image's entrypoint.
 * The environment is `execution.env`, every hyperparameter as TASKHUB_HP_<SECTION>_<NAME> (named
 * as the process executor names them), and the task's input as JSON in TASKHUB_INPUT_JSON.
 */
export function containerSpecFor(task: Task): ContainerSpecResult {
  const execution = task.execution as ExecutionSpec;
  if (typeof execution.image !== 'string' || execution.image === '') {
    return { ok: false, error: 'the task names no image to run (execution.image)' };
  }
  const { command, args, env = {} } = execution;
  if (command !== undefined && typeof command !== 'string' && !isStringArray(command)) {
    return { ok: false, error: 'execution.command must be a string or an array of strings' };
  }
  if (args !== undefined && !isStringArray(args)) return { ok: false, error: 'execution.args must be an array of strings' };
  if (typeof env !== 'object' || env === null || Object.values(env).some((value) => typeof value !== 'string')) {
    return { ok: false, error: 'execution.env must map names to strings' };
  }
  const input = JSON.stringify(task.input);
  const inputVariable = `TASKHUB_INPUT_JSON=${input}`;
  if (Buffer.byteLength(inputVariable) > MAX_ENV_STRING_BYTES) {
    return { ok: false, error: `the input (${Buffer.byteLength(input)} bytes of JSON) is too large for TASKHUB_INPUT_JSON (at most ${MAX_ENV_STRING_BYTES} bytes)` };
  }
  const spec: ContainerSpec = {
    image: execution.image,
    env: { ...env, ...hyperparamSettings(task.hyperparams).env, TASKHUB_INPUT_JSON: input },
  };
  // A command line gets the args as "$@", as the process executor gives them.
  if (command !== undefined) spec.entrypoint = typeof command === 'string' ? ['/bin/sh', '-c', `${command} "$@"`, 'sh'] : command;
  if (args !== undefined) spec.args = args;
  return { ok: true, spec };
}
