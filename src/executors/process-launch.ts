import { join, resolve } from 'node:path';
import type { ExecutionSpec } from '../domain/execution.js';
import type { JsonObject } from '../domain/json.js';
import type { Task } from '../domain/task.js';
import { isJsonObject, isStringArray } from './json-checks.js';

/** What to spawn for a task, where, and with which environment. */
export interface ProcessLaunch {
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  inputPath: string;
  outputPath: string;
}

export class LaunchError extends Error {}

const envNamePart = (text: string) => text.toUpperCase().replace(/[^A-Z0-9]/g, '_');

/**
 * Every hyperparameter (section → name → {value, ...} as ClearML keeps them, or a bare value;
 * null left out) as TASKHUB_HP_<SECTION>_<NAME>, and those of section "Args" also as
 * `--name=value`: ClearML records a script's argparse arguments there and replays them on the
 * command line, so the script reads them back unchanged. Strings as they are, else JSON.
 */
export function hyperparamSettings(hyperparams: JsonObject): { env: Record<string, string>; args: string[] } {
  const env: Record<string, string> = {};
  const args: string[] = [];
  for (const [section, entries] of Object.entries(hyperparams)) {
    if (!isJsonObject(entries)) continue;
    for (const [name, entry] of Object.entries(entries)) {
      const raw = isJsonObject(entry) ? entry.value : entry;
      if (raw === undefined || raw === null) continue;
      const value = typeof raw === 'string' ? raw : JSON.stringify(raw);
      env[`TASKHUB_HP_${envNamePart(section)}_${envNamePart(name)}`] = value;
      if (section === 'Args') args.push(`--${name}=${value}`);
    }
  }
  return { env, args };
}

/**
 * The command: an argv array; a command line, run by /bin/sh with the extra arguments as "$@"
 * (so they arrive quoted as given); or ClearML's script, `binary entryPoint`.
 */
function commandLine(execution: ExecutionSpec, extraArgs: string[]): string[] {
  const { command, script } = execution;
  if (isStringArray(command) && command.length > 0) return [...command, ...extraArgs];
  if (typeof command === 'string' && command.trim() !== '') return ['/bin/sh', '-c', `${command} "$@"`, 'sh', ...extraArgs];
  if (command === undefined && script && typeof script.entryPoint === 'string' && script.entryPoint !== '') {
    return [script.binary || 'python3', script.entryPoint, ...extraArgs];
  }
  throw new LaunchError('execution needs a command (an argv array or a command line) or a script with an entryPoint');
}

/**
 * The agent's environment is not passed on (it may hold the worker token): only PATH and
 * HOME, then the task's own variables. Of the task's secrets only storage_credentials is
 * handed over, in the environment, never in argv (which every user of the machine can read).
 */
export function processLaunch(task: Task, secrets: JsonObject | null, workDir: string): ProcessLaunch {
  const execution = task.execution as ExecutionSpec;
  if (execution.args !== undefined && !isStringArray(execution.args)) throw new LaunchError('execution.args must be an array of strings');
  if (execution.env !== undefined && (!isJsonObject(execution.env) || !Object.values(execution.env).every((v) => typeof v === 'string'))) {
    throw new LaunchError('execution.env must map names to strings');
  }
  const workingDir = execution.script?.workingDir ?? execution.workingDir;
  if (workingDir !== undefined && typeof workingDir !== 'string') throw new LaunchError('the working directory must be a string');
  const hyperparams = hyperparamSettings(task.hyperparams);
  const [file, ...args] = commandLine(execution, [...(execution.args ?? []), ...hyperparams.args]);
  const inputPath = join(workDir, 'input.json');
  const outputPath = join(workDir, 'output.json');
  const env: Record<string, string> = {};
  for (const name of ['PATH', 'HOME']) if (process.env[name] !== undefined) env[name] = process.env[name]!;
  Object.assign(env, execution.env, hyperparams.env, { TASKHUB_TASK_ID: task.id, TASKHUB_INPUT: inputPath, TASKHUB_OUTPUT: outputPath });
  if (secrets?.storage_credentials !== undefined) env.TASKHUB_STORAGE_CREDENTIALS = JSON.stringify(secrets.storage_credentials);
  return { file: file!, args, cwd: resolve(workDir, workingDir ?? '.'), env, inputPath, outputPath };
}
