#!/usr/bin/env node
// The agent's own cost of running a task, without HTTP: `node bench/agent-run.mjs [--dist=DIR]`.
// Builtin echo tasks, decoded as a claim answer would be, go through TaskRun, ExecutionSlots and
// ReportOutbox (its transport answers at once) 250 at a time, as a prefetching agent takes
// them. Prints the agent's CPU (user + system) per task: the median and all of 5 rounds of
// 20 000 tasks, after a warm-up round. See bench/README.md.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const distArg = process.argv.slice(2).find((arg) => arg.startsWith('--dist='));
if (process.argv.slice(2).some((arg) => !arg.startsWith('--dist='))) {
  console.log('usage: node bench/agent-run.mjs [--dist=DIR]   (DIR: a taskhub build, default dist/)');
  process.exit(2);
}
const dist = path.resolve(distArg ? distArg.slice('--dist='.length) : path.join(ROOT, 'dist'));
const load = (file) => import(path.join(dist, file));

const { TaskRun } = await load('agent/task-run.js');
const { ExecutionSlots } = await load('agent/execution-slots.js');
const { ReportOutbox } = await load('agent/report-outbox.js');
const { BuiltinExecutor } = await load('executors/builtin/builtin-executor.js');
const { newTask } = await load('core/new-task.js');
const { compactTask, expandTask } = await load('domain/compact-task.js');

const TASKS = 20_000;
const AT_ONCE = 250; // about what an agent with --prefetch 500 claims at a time
const ROUNDS = 5;

const outbox = new ReportOutbox(async (reports) => reports.map(({ taskId }) => ({ taskId, ok: true })), { maxBatch: 1000, logDelayMs: 100 }, {
  onRefused() {},
  onSendError() {},
});
const executor = new BuiltinExecutor();
const slots = new ExecutionSlots(10);
const settings = { stopGraceMs: 1000, workRoot: ROOT };
const noArtifacts = () => ({ put: async () => {}, get: async () => undefined });

/** Agent CPU per task (µs) for one round. */
async function round() {
  const claims = Array.from({ length: TASKS }, (_, i) => {
    const wire = JSON.parse(JSON.stringify(compactTask(newTask({ modelId: 'builtin/echo', input: { i } }, Date.now()))));
    return { task: expandTask(wire), secrets: null };
  });
  const before = process.cpuUsage();
  for (let first = 0; first < TASKS; first += AT_ONCE) {
    const runs = claims.slice(first, first + AT_ONCE).map((claim) => new TaskRun(claim, executor, outbox, noArtifacts, settings));
    await Promise.all(runs.map((run) => run.execute(slots)));
    await outbox.drained();
  }
  const used = process.cpuUsage(before);
  return (used.user + used.system) / TASKS;
}

await round(); // warm-up: JIT, first allocations
const figures = [];
for (let i = 0; i < ROUNDS; i++) figures.push(await round());
const sorted = [...figures].sort((a, b) => a - b);
console.log(`agent CPU per builtin echo task, no HTTP (${path.relative(process.cwd(), dist) || '.'}, node ${process.version})`);
console.log(`  median of ${ROUNDS} rounds of ${TASKS}: ${sorted[Math.floor(ROUNDS / 2)].toFixed(1)} us   all: ${figures.map((f) => f.toFixed(1)).join(' ')}`);
