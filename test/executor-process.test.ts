import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TaskInput } from '../src/core/new-task.js';
import { ProcessExecutor } from '../src/executors/process-executor.js';
import { ExecutorHarness, type ContextOptions, type RecordingContext } from './helpers/executor-context.js';

const harness = new ExecutorHarness();
afterAll(() => harness.cleanup());
const executor = new ProcessExecutor();

function shell(script: string, task: TaskInput = {}, options?: ContextOptions): RecordingContext {
  return harness.context({ ...task, execution: { command: ['/bin/sh', '-c', script], ...task.execution } }, options);
}

/** Gone: no such process, or a zombie nobody has reaped yet (it runs nothing any more). */
function isGone(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z');
  } catch {
    return true;
  }
}

/** A process's death has no event to await from here: poll /proc every 10 ms, up to 2 s. */
async function waitGone(pid: number): Promise<boolean> {
  for (let waited = 0; waited < 2_000; waited += 10) {
    if (isGone(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return false;
}

const pidIn = (context: RecordingContext, pattern: RegExp) =>
  Number(context.logs.map((line) => pattern.exec(line.message)?.[1]).find(Boolean));

describe('process executor: output and results', () => {
  it('streams stdout and stderr line by line, in order, the last line without newline included', async () => {
    const context = shell('echo one; echo two >&2; printf "three\\r\\nfour\\n"; echo five >&2; printf "six"');
    const outcome = await executor.run(context);
    expect(outcome).toEqual({ status: 'completed', result: { exit_code: 0 } });
    expect(context.lines('stdout')).toEqual(['one', 'three', 'four', 'six']);
    expect(context.lines('stderr')).toEqual(['two', 'five']);
    expect(context.statuses).toEqual(['spawned', 'running']);
  });

  it('exit 0 completes with the JSON written to $TASKHUB_OUTPUT, made from input.json', async () => {
    const context = shell(`node -e 'const fs = require("fs"); const input = JSON.parse(fs.readFileSync(process.env.TASKHUB_INPUT)); fs.writeFileSync(process.env.TASKHUB_OUTPUT, JSON.stringify({ sum: input.a + input.b }))'`, {
      input: { a: 2, b: 40 },
    });
    expect(await executor.run(context)).toEqual({ status: 'completed', result: { sum: 42 } });
  });

  it('exit 3 fails with the exit code and the last 20 lines of stderr', async () => {
    const context = shell('for i in $(seq 1 30); do echo "problem $i" >&2; done; exit 3');
    const outcome = await executor.run(context);
    expect(outcome).toMatchObject({ status: 'failed', result: { exit_code: 3 } });
    const error = (outcome as { error: string }).error;
    expect(error.startsWith('process exited with code 3:\nproblem 11\n')).toBe(true);
    expect(error.endsWith('problem 30')).toBe(true);
    expect(error).not.toContain('problem 10\n');
  });

  it('hyperparameters reach the environment, Args also argv; only PATH, HOME, the task env and storage credentials are passed', async () => {
    process.env.TASKHUB_TEST_AGENT_ONLY = 'agent-secret';
    const context = harness.context(
      {
        // A command line gets the arguments at its end, as "$@".
        execution: { command: 'env | sort; printf "arg:%s\\n"', args: ['--epochs', '2 3'], env: { MODE: 'fast' } },
        hyperparams: {
          Args: { 'learning-rate': { section: 'Args', name: 'learning-rate', value: '0.1' } },
          'General settings': { batch_size: { section: 'General settings', name: 'batch_size', value: 32 } },
        },
      },
      { secrets: { storage_credentials: { key: 'k1' }, api_token: 'never-passed' } },
    );
    expect(await executor.run(context)).toMatchObject({ status: 'completed' });
    delete process.env.TASKHUB_TEST_AGENT_ONLY;
    const out = context.lines('stdout');
    expect(out.filter((line) => line.startsWith('arg:'))).toEqual(['arg:--epochs', 'arg:2 3', 'arg:--learning-rate=0.1']);
    expect(out).toContain('TASKHUB_HP_ARGS_LEARNING_RATE=0.1');
    expect(out).toContain('TASKHUB_HP_GENERAL_SETTINGS_BATCH_SIZE=32');
    expect(out).toContain('MODE=fast');
    expect(out).toContain('TASKHUB_STORAGE_CREDENTIALS={"key":"k1"}');
    expect(out.join('\n')).not.toMatch(/agent-secret|never-passed/);
  });

  it("runs ClearML's script (binary entryPoint) in its working directory, relative to the work dir", async () => {
    const context = harness.context({
      execution: { script: { binary: '/bin/sh', entryPoint: 'train.sh', workingDir: 'repo' } },
      hyperparams: { Args: { lr: { value: '0.5' } } },
    });
    mkdirSync(join(context.workDir, 'repo'));
    writeFileSync(join(context.workDir, 'repo', 'train.sh'), 'echo "in $(basename "$PWD") with $1"\n');
    expect(await executor.run(context)).toMatchObject({ status: 'completed' });
    expect(context.lines('stdout')).toEqual(['in repo with --lr=0.5']);
  });

  it('fails clearly when nothing can be started', async () => {
    expect(await executor.run(harness.context({ execution: { command: ['/no/such/binary'] } }))).toEqual({
      status: 'failed',
      error: 'could not start /no/such/binary: spawn /no/such/binary ENOENT',
    });
    expect(await executor.run(harness.context({ execution: { command: ['echo', 'nul\u0000byte'] } }))).toMatchObject({
      status: 'failed',
      error: expect.stringContaining('could not start echo'),
    });
    expect(await executor.run(harness.context({ execution: { command: ['true'], workingDir: 'missing' } }))).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/^working directory .*missing does not exist$/),
    });
    expect(await executor.run(harness.context({ execution: { args: ['x'] } }))).toMatchObject({
      status: 'failed',
      error: expect.stringContaining('needs a command'),
    });
    expect(await executor.run(shell('echo "{oops" > "$TASKHUB_OUTPUT"'))).toMatchObject({
      status: 'failed',
      error: expect.stringContaining('$TASKHUB_OUTPUT is not JSON'),
    });
  });
});

describe('process executor: stopping', () => {
  it('maxExecutionSeconds 1 on sleep 30 ends as timeout within ~1.5 s, the child gone', async () => {
    const context = harness.context({ execution: { command: ['sleep', '30'] }, resources: { maxExecutionSeconds: 1 } });
    const started = Date.now();
    const outcome = await executor.run(context);
    const elapsed = Date.now() - started;
    expect(outcome).toEqual({ status: 'timeout', error: 'ran longer than its max execution time of 1 s' });
    expect(elapsed).toBeGreaterThanOrEqual(1_000);
    expect(elapsed).toBeLessThan(1_500);
    const pid = pidIn(context, /^process (\d+) started$/);
    expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
  });

  it('abort sends SIGTERM to a child that traps it and exits: stopped', async () => {
    const context = shell('trap "echo got TERM; exit 0" TERM; echo ready; while :; do sleep 0.05; done');
    const running = executor.run(context);
    await context.logged(/^ready$/);
    context.abort('cancelled');
    expect(await running).toEqual({ status: 'stopped' });
    expect(context.lines('stdout')).toEqual(['ready', 'got TERM']);
  });

  it('a child that ignores SIGTERM is SIGKILLed after the grace period', async () => {
    const context = shell('trap "" TERM; echo ready; while :; do sleep 0.05; done', {}, { stopGraceMs: 300 });
    const running = executor.run(context);
    await context.logged(/^ready$/);
    const aborted = Date.now();
    context.abort('cancelled');
    expect(await running).toEqual({ status: 'stopped' });
    const elapsed = Date.now() - aborted;
    expect(elapsed).toBeGreaterThanOrEqual(300);
    expect(elapsed).toBeLessThan(1_000);
  });

  it("a child's grandchild dies with it on abort", async () => {
    const context = shell('sleep 30 & echo "grandchild $!"; wait');
    const running = executor.run(context);
    await context.logged(/^grandchild \d+$/);
    const grandchild = pidIn(context, /^grandchild (\d+)$/);
    expect(isGone(grandchild)).toBe(false);
    context.abort('cancelled');
    expect(await running).toEqual({ status: 'stopped' });
    expect(await waitGone(grandchild)).toBe(true);
  });

  it('what a finished process left running is killed; a pipe held outside the group does not hold the task', async () => {
    const left = shell('sleep 30 & echo "left $!"');
    expect(await executor.run(left)).toMatchObject({ status: 'completed' });
    expect(await waitGone(pidIn(left, /^left (\d+)$/))).toBe(true);

    // Reported once the sleep runs in its own session (field 6 of /proc/<pid>/stat), out of the group's reach.
    const escaped = shell('setsid sleep 5 & while [ "$(cut -d" " -f6 /proc/$!/stat)" != "$!" ]; do :; done; echo "escaped $!"');
    const started = Date.now();
    expect(await executor.run(escaped)).toMatchObject({ status: 'completed' });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(1_000);
    expect(elapsed).toBeLessThan(2_500);
    process.kill(pidIn(escaped, /^escaped (\d+)$/), 'SIGKILL');
  });

  it('an abort before the start spawns nothing', async () => {
    const context = shell('echo should-not-run');
    context.abort();
    expect(await executor.run(context)).toEqual({ status: 'stopped' });
    expect(context.logs).toEqual([]);
  });
});
