import type pg from 'pg';
import type {
  ClaimRequest,
  NewLogLine,
  NewTask,
  Page,
  StatusUpdate,
  TaskFilter,
  TaskStore,
} from '../../core/ports.js';
import type { JsonObject } from '../../domain/json.js';
import type { EpochMs, LogLine, StatusChange, Task, TaskPatch } from '../../domain/task.js';
import type { Queue, Worker } from '../../domain/worker.js';
import { GroupCommit, type OperationGroup } from '../group-commit.js';
import { rowToQueue, rowToStatusChange, rowToWorker, workerToRow, type WorkerRow } from '../row-mapping.js';
import { TASK_COLUMNS, TASK_SELECT_LIST, patchToRow, rowToTask, taskToRow, type PatchRow, type SqlValue } from '../task-columns.js';
import { LOG_COLUMNS, NO_MARK, linesToStore, logRow, type LogMark } from '../log-lines.js';
import { buildTaskWhere, type WhereSyntax } from '../task-filter.js';
import { claimIn, claimTasks } from './claim.js';
import { insertRows, readColumnTypes, type ColumnTypes } from './insert-rows.js';
import { migratePostgres } from './migrate.js';
import { createPool, inTransaction, type PoolOptions } from './pg-pool.js';
import { applyStatusChanges } from './status-changes.js';
import { TaskReads } from './task-reads.js';

type Client = pg.PoolClient;
type StatusChangeRow = Parameters<typeof rowToStatusChange>[0];

/** One call's tasks to insert: their rows, their first history rows, and the hand-offs to claim for. */
interface Insertion {
  rows: SqlValue[][];
  changes: Array<Omit<StatusChange, 'id'>>;
  handOffs: readonly ClaimRequest[];
}

const ACTIVE = `status IN ('assigned', 'spawned', 'running')`;
const HISTORY_COLUMNS = ['task_id', 'from_status', 'to_status', 'at', 'reason', 'message', 'worker_id'];
const BULK_TABLES = ['tasks', 'task_status_changes', 'task_logs'];

const WHERE_SYNTAX: WhereSyntax = {
  placeholder: (index) => `$${index}`,
  inJsonList: (column, marker) => `${column} = ANY (ARRAY(SELECT jsonb_array_elements_text(${marker}::jsonb)))`,
};
const SELECT_LOG_MARK = 'SELECT log_run AS run, log_n AS n FROM tasks WHERE id = $1 FOR UPDATE';

// SQLite reads a negative LIMIT as "no limit" and a negative OFFSET as 0; PostgreSQL
// rejects both. LIMIT NULL is PostgreSQL's "no limit".
const limit = (n: number) => (n < 0 ? null : n);
const offset = (n: number) => (n < 0 ? 0 : n);

/**
 * `column = $n, …` and `doc` with the patched fields replaced (`||` merges the top-level keys
 * of two objects), numbered from $1, with their parameters.
 */
function assignments(patch: PatchRow): { sets: string; params: SqlValue[] } {
  const sets = patch.columns.map(([column], index) => `${column} = $${index + 1}`);
  const params = patch.columns.map(([, value]) => value);
  if (patch.doc.length > 0) {
    params.push(JSON.stringify(Object.fromEntries(patch.doc)));
    sets.push(`doc = doc || $${params.length}::jsonb`);
  }
  return { sets: sets.join(', '), params };
}

/**
 * The shared store: many taskhub instances on one PostgreSQL database. Writes go through
 * group commit on one pooled connection per batch; reads use the pool; claims run on their
 * own (see claim.ts) so that claimers in several instances proceed side by side.
 */
export class PostgresStore implements TaskStore {
  readonly engine = 'postgres' as const;
  private readonly writes: GroupCommit<Client>;
  private readonly reads: TaskReads;
  /** Status changes next to each other in a transaction go in one statement (status-changes.ts). */
  private readonly statusChanges: OperationGroup<Client, StatusUpdate, Task | undefined> = {
    apply: (client, updates) => applyStatusChanges(client, this.columnTypes, updates),
  };

  /**
   * Submissions next to each other in a transaction: their rows in one statement, their history
   * in another, then each one's hand-offs (single submissions over HTTP: two statements for
   * every 25 or so instead of two each).
   */
  private readonly insertions: OperationGroup<Client, Insertion, Task[][]> = {
    apply: async (client, insertions) => {
      await insertRows(client, this.columnTypes, 'tasks', [...TASK_COLUMNS, 'secrets'], insertions.flatMap((insertion) => insertion.rows));
      await this.recordChanges(client, insertions.flatMap((insertion) => insertion.changes));
      const claimed: Task[][][] = [];
      for (const { handOffs } of insertions) {
        const forThis: Task[][] = [];
        for (const request of handOffs) forThis.push(await claimIn(client, request));
        claimed.push(forThis);
      }
      return claimed;
    },
  };

  private constructor(
    private readonly pool: pg.Pool,
    private readonly columnTypes: ColumnTypes,
  ) {
    this.writes = new GroupCommit<Client>((body) => inTransaction(this.pool, body));
    this.reads = new TaskReads(pool);
  }

  /** Connects, applies pending migrations, and returns the store. */
  static async open(connectionString: string, options: PoolOptions = {}): Promise<PostgresStore> {
    const pool = createPool(connectionString, options);
    try {
      await migratePostgres(pool);
      return new PostgresStore(pool, await readColumnTypes(pool, BULK_TABLES));
    } catch (error) {
      await pool.end();
      throw error;
    }
  }

  private async query<T>(sql: string, params: unknown[] = [], client: pg.ClientBase | pg.Pool = this.pool): Promise<T[]> {
    return (await client.query(sql, params)).rows as T[];
  }

  /** Task rows, as the arrays rowToTask takes (see task-columns.ts). */
  private async queryTasks(sql: string, params: unknown[], client: pg.ClientBase | pg.Pool = this.pool): Promise<Task[]> {
    return (await client.query<SqlValue[]>({ text: sql, values: params, rowMode: 'array' })).rows.map(rowToTask);
  }

  private async recordChanges(client: Client, changes: Array<Omit<StatusChange, 'id'>>): Promise<void> {
    const rows = changes.map((c) => [c.taskId, c.from, c.to, c.at, c.reason, c.message, c.workerId]);
    await insertRows(client, this.columnTypes, 'task_status_changes', HISTORY_COLUMNS, rows);
  }

  insertTasks(tasks: NewTask[], handOffs: readonly ClaimRequest[] = []): Promise<Task[][]> {
    if (tasks.length === 0 && handOffs.length === 0) return Promise.resolve([]);
    const rows = tasks.map(({ task, secrets }) => [...taskToRow(task), secrets === null ? null : JSON.stringify(secrets)]);
    const changes = tasks.map(({ task }) => ({
      taskId: task.id,
      from: null,
      to: task.status,
      at: task.createdAt,
      reason: task.statusReason,
      message: task.statusMessage,
      workerId: null,
    }));
    return this.writes.runGrouped(this.insertions, { rows, changes, handOffs });
  }

  getTask(id: string): Promise<Task | undefined> {
    return this.reads.get(id);
  }

  async listTasks(filter: TaskFilter, page: Page): Promise<Task[]> {
    const { where, params } = buildTaskWhere(filter, WHERE_SYNTAX);
    const order = filter.oldestFirst ? 'created_at ASC, id ASC' : 'created_at DESC, id DESC';
    const n = params.length;
    return this.queryTasks(
      `SELECT ${TASK_SELECT_LIST} FROM tasks ${where} ORDER BY ${order} LIMIT $${n + 1} OFFSET $${n + 2}`,
      [...params, limit(page.limit), offset(page.offset)],
    );
  }

  async countTasks(filter: TaskFilter): Promise<number> {
    const { where, params } = buildTaskWhere(filter, WHERE_SYNTAX);
    const [row] = await this.query<{ n: number }>(`SELECT count(*) AS n FROM tasks ${where}`, params);
    return row!.n;
  }

  countByStatus(): Promise<Record<string, number>> {
    return this.countGrouped('status');
  }

  countByType(): Promise<Record<string, number>> {
    return this.countGrouped('type');
  }

  private async countGrouped(column: 'status' | 'type'): Promise<Record<string, number>> {
    const rows = await this.query<{ k: string; n: number }>(`SELECT ${column} AS k, count(*) AS n FROM tasks GROUP BY ${column}`);
    return Object.fromEntries(rows.map((row) => [row.k, row.n]));
  }

  async getSecrets(taskId: string): Promise<JsonObject | null> {
    const [row] = await this.query<{ secrets: string | null }>('SELECT secrets FROM tasks WHERE id = $1', [taskId]);
    return row?.secrets ? (JSON.parse(row.secrets) as JsonObject) : null;
  }

  patchTask(taskId: string, patch: TaskPatch, at: EpochMs): Promise<Task | undefined> {
    const row = patchToRow(patch);
    row.columns.push(['updated_at', at]);
    const { sets, params } = assignments(row);
    return this.writes.run(async (client) => {
      const [updated] = await this.queryTasks(
        `UPDATE tasks SET ${sets} WHERE id = $${params.length + 1} RETURNING ${TASK_SELECT_LIST}`,
        [...params, taskId],
        client,
      );
      return updated;
    });
  }

  changeStatus(update: StatusUpdate): Promise<Task | undefined> {
    return this.writes.runGrouped(this.statusChanges, update);
  }

  deleteTask(taskId: string): Promise<boolean> {
    return this.writes.run(async (client) => {
      const deleted = (await client.query('DELETE FROM tasks WHERE id = $1', [taskId])).rowCount === 1;
      await client.query('DELETE FROM task_logs WHERE task_id = $1', [taskId]);
      await client.query('DELETE FROM task_status_changes WHERE task_id = $1', [taskId]);
      return deleted;
    });
  }

  async statusHistory(taskId: string): Promise<StatusChange[]> {
    const rows = await this.query<StatusChangeRow>(
      'SELECT id, task_id, from_status, to_status, at, reason, message, worker_id FROM task_status_changes WHERE task_id = $1 ORDER BY id',
      [taskId],
    );
    return rows.map(rowToStatusChange);
  }

  claimTasks(request: ClaimRequest): Promise<Task[]> {
    return claimTasks(this.pool, request);
  }

  renewLeases(workerId: string, until: EpochMs, ifEndsBefore: EpochMs, taskIds?: readonly string[]): Promise<number> {
    const only = taskIds === undefined ? '' : ' AND id = ANY($4::text[])';
    const params = taskIds === undefined ? [until, workerId, ifEndsBefore] : [until, workerId, ifEndsBefore, taskIds];
    return this.writes.run(async (client) => {
      const result = await client.query(`UPDATE tasks SET lease_expires_at = $1 WHERE worker_id = $2 AND ${ACTIVE} AND lease_expires_at < $3${only}`, params);
      return result.rowCount ?? 0;
    });
  }

  async activeTaskIds(workerId: string, taskIds: readonly string[]): Promise<string[]> {
    const rows = await this.query<{ id: string }>(`SELECT id FROM tasks WHERE worker_id = $1 AND ${ACTIVE} AND id = ANY($2::text[])`, [workerId, taskIds]);
    return rows.map((row) => row.id);
  }

  async findExpired(now: EpochMs, max: number): Promise<Task[]> {
    return this.queryTasks(
      `SELECT ${TASK_SELECT_LIST} FROM tasks WHERE ${ACTIVE}
         AND (lease_expires_at < $1 OR (max_execution_seconds > 0 AND started_at + max_execution_seconds * 1000 < $1))
       LIMIT $2`,
      [now, limit(max)],
    );
  }

  appendLogs(taskId: string, lines: NewLogLine[], runId?: string): Promise<number> {
    if (lines.length === 0) return Promise.resolve(0);
    return this.writes.run(async (client) => {
      const [found] = runId === undefined ? [] : await this.query<LogMark>(SELECT_LOG_MARK, [taskId], client);
      const mark = found ?? NO_MARK;
      const stored = linesToStore(lines, runId, mark);
      await insertRows(client, this.columnTypes, 'task_logs', LOG_COLUMNS, stored.lines.map((line) => logRow(taskId, line)));
      if (stored.mark !== mark) await client.query('UPDATE tasks SET log_run = $1, log_n = $2 WHERE id = $3', [stored.mark.run, stored.mark.n, taskId]);
      return stored.lines.length;
    });
  }

  readLogs(taskId: string, afterSeq: number, max: number): Promise<LogLine[]> {
    return this.query<LogLine>(
      'SELECT seq, at, stream, level, message FROM task_logs WHERE task_id = $1 AND seq > $2 ORDER BY seq LIMIT $3',
      [taskId, afterSeq, limit(max)],
    );
  }

  upsertWorker(worker: Worker): Promise<void> {
    const row = workerToRow(worker);
    const values = [row.id, row.name, row.queues, row.resources, row.labels, row.executors, row.registered_at, row.last_heartbeat_at];
    return this.writes.run(async (client) => {
      await client.query(
        `INSERT INTO workers (id, name, queues, resources, labels, executors, registered_at, last_heartbeat_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, queues = excluded.queues, resources = excluded.resources,
           labels = excluded.labels, executors = excluded.executors, last_heartbeat_at = excluded.last_heartbeat_at`,
        values,
      );
    });
  }

  async getWorker(id: string): Promise<Worker | undefined> {
    const [row] = await this.query<WorkerRow>('SELECT * FROM workers WHERE id = $1', [id]);
    return row && rowToWorker(row);
  }

  async listWorkers(): Promise<Worker[]> {
    return (await this.query<WorkerRow>('SELECT * FROM workers ORDER BY registered_at')).map(rowToWorker);
  }

  touchWorker(id: string, at: EpochMs): Promise<boolean> {
    return this.writes.run(
      async (client) => (await client.query('UPDATE workers SET last_heartbeat_at = $1 WHERE id = $2', [at, id])).rowCount === 1,
    );
  }

  deleteWorker(id: string): Promise<boolean> {
    return this.writes.run(async (client) => (await client.query('DELETE FROM workers WHERE id = $1', [id])).rowCount === 1);
  }

  deleteSilentWorkers(silentSince: EpochMs): Promise<number> {
    return this.writes.run(async (client) => {
      const result = await client.query(
        `DELETE FROM workers WHERE last_heartbeat_at < $1 AND NOT EXISTS (SELECT 1 FROM tasks WHERE worker_id = workers.id AND ${ACTIVE})`,
        [silentSince],
      );
      return result.rowCount ?? 0;
    });
  }

  ensureQueue(name: string, at: EpochMs): Promise<Queue> {
    return this.writes.run(async (client) => {
      await client.query('INSERT INTO queues (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, at]);
      const [row] = await this.query<{ name: string; created_at: number }>(
        'SELECT name, created_at FROM queues WHERE name = $1',
        [name],
        client,
      );
      return rowToQueue(row!);
    });
  }

  async listQueues(): Promise<Queue[]> {
    return (await this.query<{ name: string; created_at: number }>('SELECT name, created_at FROM queues ORDER BY name')).map(
      rowToQueue,
    );
  }

  async queueDepths(): Promise<Record<string, number>> {
    const rows = await this.query<{ name: string; n: number }>(
      `SELECT q.name AS name, (SELECT count(*) FROM tasks t WHERE t.status = 'queued' AND t.queue = q.name) AS n
       FROM queues q ORDER BY q.name`,
    );
    return Object.fromEntries(rows.map((row) => [row.name, row.n]));
  }

  async close(): Promise<void> {
    await this.writes.drain();
    await this.pool.end();
  }
}
