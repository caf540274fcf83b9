import type pg from 'pg';
import type { ClaimRequest } from '../../core/ports.js';
import type { Task } from '../../domain/task.js';
import { TASK_SELECT_LIST, rowToTask, type SqlValue } from '../task-columns.js';

// The fit predicates of SqliteStore.claimTasks. $1 queues, $2 now, $3–$6 capacity, $7 executors.
const FITS = `eligible_at <= $2
  AND cpu_millis <= $3 AND memory_bytes <= $4 AND gpu_count <= $5 AND gpu_memory_bytes <= $6
  AND (executor IS NULL OR executor = ANY($7::text[]))`;
const CLAIMABLE = `status = 'queued' AND queue = ANY($1::text[]) AND ${FITS}`;

// SQLite sorts NULL first in ascending order; PostgreSQL last unless told.
const CLAIM_ORDER = 'priority DESC, queued_at NULLS FIRST, id';

const PRE_CHECK = `SELECT 1 FROM tasks WHERE ${CLAIMABLE} LIMIT 1`;

/**
 * One statement, so one implicit transaction: lock the first fitting rows, skipping rows
 * another instance's claim holds (SKIP LOCKED; a row claimed and committed meanwhile is
 * re-checked against `status = 'queued'` and dropped), move them to `assigned` under the
 * worker's lease, and record the change, all or nothing.
 *
 * Queue by queue (LATERAL), each read from the claim index in its order, then the best of
 * them: with `queue = ANY(…)` PostgreSQL cannot read the index in order, and sorted every
 * queued task at every claim (20,000 queued: 13.8 ms a claim, against 0.24 ms this way). A
 * queue's rows beyond the ones picked stay locked only until this statement ends.
 */
const CLAIM = `
WITH picked AS (
  SELECT c.id FROM unnest($1::text[]) AS q(name) CROSS JOIN LATERAL (
    SELECT id, priority, queued_at FROM tasks WHERE status = 'queued' AND queue = q.name AND ${FITS}
    ORDER BY ${CLAIM_ORDER} LIMIT $8
    FOR UPDATE SKIP LOCKED
  ) c
  ORDER BY c.priority DESC, c.queued_at NULLS FIRST, c.id LIMIT $8
), claimed AS (
  UPDATE tasks t SET status = 'assigned', worker_id = $9, lease_expires_at = $10, status_changed_at = $2,
    updated_at = $2, status_reason = 'claimed', status_message = NULL
  FROM picked WHERE t.id = picked.id
  RETURNING t.*
), history AS (
  INSERT INTO task_status_changes (task_id, from_status, to_status, at, reason, message, worker_id)
  SELECT id, 'queued', 'assigned', $2, 'claimed', NULL, worker_id FROM claimed ORDER BY ${CLAIM_ORDER}
)
SELECT ${TASK_SELECT_LIST} FROM claimed ORDER BY ${CLAIM_ORDER}`;

/**
 * Claims outside group commit: claims from many instances must run side by side, and row
 * locks, not a single writer, keep each task claimed once. Most polls find nothing, so a
 * plain read answers those without taking any lock.
 */
export async function claimTasks(pool: pg.Pool, request: ClaimRequest): Promise<Task[]> {
  if (request.queues.length === 0 || request.limit <= 0) return [];
  const candidates = await pool.query(PRE_CHECK, fitParameters(request));
  if (candidates.rowCount === 0) return [];
  return claimIn(pool, request);
}

/** The claim statement alone, on `client`: inside the caller's transaction when it has one (hand-off). */
export async function claimIn(client: pg.Pool | pg.ClientBase, request: ClaimRequest): Promise<Task[]> {
  if (request.queues.length === 0 || request.limit <= 0) return [];
  const claimed = await client.query<SqlValue[]>({
    text: CLAIM,
    values: [...fitParameters(request), request.limit, request.workerId, request.now + request.leaseMs],
    rowMode: 'array',
  });
  return claimed.rows.map(rowToTask);
}

function fitParameters(request: ClaimRequest): unknown[] {
  const { capacity } = request;
  return [
    // Once each: a queue named twice would be read twice, its rows picked twice.
    [...new Set(request.queues)],
    request.now,
    capacity.cpuMillis,
    capacity.memoryBytes,
    capacity.gpuCount,
    capacity.gpuMemoryBytes,
    capacity.executors,
  ];
}
