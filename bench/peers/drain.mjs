// The one measurement every system gets: the clock starts before the first job is submitted and
// stops when the system's own store reports all of them completed. Jobs go in in chunks of at
// most 1000 (taskhub's batch endpoint takes at most 1000 tasks), one chunk after the other.
// The completed count is read every 50 ms, for every system alike: the figure includes up to
// 50 ms of polling slack (under 5 % at ~1-2 s per run of 20 000 jobs, the same for all).
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { processCpuMs } from '../shared.mjs';

export const SUBMIT_CHUNK = 1000;
const POLL_MS = 50;

/**
 * @param {object} run
 * @param {number} run.jobs
 * @param {(indexes: number[]) => Promise<unknown>} run.submitChunk adds these jobs (payload {i})
 * @param {() => Promise<number>} run.countCompleted how many jobs the store holds as completed
 * @param {import('./child.mjs').Child[]} run.children the system's processes: one that dies fails the run
 * @param {AbortSignal} run.signal aborted when the phase times out
 * @param {{ text: string }} run.status progress, shown if the phase times out
 * @returns {Promise<{ seconds: number, submitSeconds: number, cpu: Array<{ label: string, microsPerJob: number }> }>}
 *   `cpu`: what each of the system's processes used over the same time (user + system, /proc)
 */
export async function timeDrain({ jobs, submitChunk, countCompleted, children, signal, status }) {
  const cpuBefore = children.map((child) => processCpuMs(child.process.pid));
  const started = performance.now();
  for (let first = 0; first < jobs; first += SUBMIT_CHUNK) {
    signal.throwIfAborted();
    const size = Math.min(SUBMIT_CHUNK, jobs - first);
    await submitChunk(Array.from({ length: size }, (_, k) => first + k));
    status.text = `submitted ${first + size} of ${jobs}`;
  }
  const submitSeconds = (performance.now() - started) / 1000;
  for (;;) {
    for (const child of children) if (!child.alive) throw new Error(child.describeExit());
    const completed = await countCompleted();
    status.text = `${completed} of ${jobs} completed`;
    if (completed > jobs) throw new Error(`the store counts ${completed} completed jobs, ${jobs} were submitted`);
    if (completed === jobs) break;
    await sleep(POLL_MS, undefined, { signal });
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = children.map((child, i) => ({ label: child.label, microsPerJob: ((processCpuMs(child.process.pid) - cpuBefore[i]) * 1000) / jobs }));
  return { seconds, submitSeconds, cpu };
}
