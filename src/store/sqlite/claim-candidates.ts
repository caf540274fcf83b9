import type { ClaimRequest } from '../../core/ports.js';
import { TASK_SELECT_LIST, type SqlValue } from '../task-columns.js';

const placeholders = (count: number) => Array(count).fill('?').join(', ');

/**
 * The queued tasks a claim takes, best first: in the claim's queues, eligible, fitting its
 * capacity and executors; by priority, then queued time, then id.
 *
 * Measured on the pickup path (one queue, limit 1): 38–75 µs for one statement with json_each
 * lists and `LIMIT ?`, 4.5 µs for this one. One queue compares with `=`, so the claim index is
 * walked in order with no sort; a list of bound values needs no virtual table; and a bound
 * LIMIT made SQLite re-prepare the statement at every run (its planner uses the limit), so the
 * limit is written into the text, rounded up to a power of two: an agent's claims ask for as
 * many tasks as it has room for, and one statement per limit held 25 MB after 1,000 limits.
 * The caller takes the first `limit` rows. The statements this makes differ by queue count,
 * executor count and rounded limit: a few per kind of worker.
 */
export function claimCandidates(request: ClaimRequest): { sql: string; params: SqlValue[] } {
  const { capacity, queues } = request;
  const { executors } = capacity;
  const sql = `SELECT ${TASK_SELECT_LIST} FROM tasks
    WHERE status = 'queued' AND queue ${queues.length === 1 ? '= ?' : `IN (${placeholders(queues.length)})`}
      AND eligible_at <= ? AND cpu_millis <= ? AND memory_bytes <= ? AND gpu_count <= ? AND gpu_memory_bytes <= ?
      AND ${executors.length === 0 ? 'executor IS NULL' : `(executor IS NULL OR executor IN (${placeholders(executors.length)}))`}
    ORDER BY priority DESC, queued_at, id LIMIT ${2 ** Math.ceil(Math.log2(Math.trunc(request.limit)))}`;
  const params = [
    ...queues,
    request.now,
    capacity.cpuMillis,
    capacity.memoryBytes,
    capacity.gpuCount,
    capacity.gpuMemoryBytes,
    ...executors,
  ];
  return { sql, params };
}
