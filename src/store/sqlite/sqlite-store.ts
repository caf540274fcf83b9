import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { JsonObject } from '../../domain/json.js';
import type { EpochMs, LogLine, StatusChange, Task, TaskPatch } from '../../domain/task.js';
import type { Queue, Worker } from '../../domain/worker.js';
import type {
  ClaimRequest,
  NewLogLine,
  NewTask,
  Page,
  StatusUpdate,
  TaskFilter,
  TaskStore,
} from '../../core/ports.js';
import { GroupCommit } from '../group-commit.js';
import { rowToQueue, rowToStatusChange, rowToWorker, workerToRow, type WorkerRow } from '../row-mapping.js';
import { TASK_COLUMNS, TASK_SELECT_LIST, patchToRow, rowToTask, taskToRow, type PatchRow, type SqlValue, type TaskRow } from '../task-columns.js';
import { LOG_COLUMNS, NO_MARK, linesToStore, logRow, type LogMark } from '../log-lines.js';
import { buildTaskWhere, type WhereSyntax } from '../task-filter.js';
import { migrateSqlite } from './migrate.js';
import { claimCandidates } from './claim-candidates.js';
import { MultiRowInsert } from './multi-row-insert.js';
import { WalCheckpoints } from './wal-checkpoints.js';
import { WalSync } from './wal-sync.js';

type Db = Database.Database;

// Spelled as the partial index tasks_active is (migration 0002), so that SQLite uses it.
const ACTIVE = `(status = 'assigned' OR status = 'spawned' OR status = 'running')`;
const HISTORY_COLUMNS = ['task_id', 'from_status', 'to_status', 'at', 'reason', 'message', 'worker_id'];
// Built once: a statement is looked up by its text, and hashing a fresh 300-character string at
// every read of a task showed in profiles.
const SELECT_TASK = `SELECT ${TASK_SELECT_LIST} FROM tasks WHERE id = ?`;
const SELECT_LOG_MARK = 'SELECT log_run AS run, log_n AS n FROM tasks WHERE id = ?';
// A bound on the statement cache, whatever mix of filters and patches clients send: a claim
// statement takes about 25 KB (25 MB for 1,000 of them), and the hot paths use a few dozen.
const MAX_CACHED_STATEMENTS = 1000;
const WHERE_SYNTAX: WhereSyntax = {
  placeholder: () => '?',
  inJsonList: (column, marker) => `${column} IN (SELECT value FROM json_each(${marker}))`,
};
const INSERT_TASK = `INSERT INTO tasks (${TASK_COLUMNS.join(', ')}, secrets) VALUES (${TASK_COLUMNS.map(() => '?').join(', ')}, ?)`;

/** `column = ?, …` and `doc` with the patched fields replaced (json_set), with their parameters. */
function assignments(patch: PatchRow): { sets: string; params: SqlValue[] } {
  const sets = patch.columns.map(([column]) => `${column} = ?`);
  const params = patch.columns.map(([, value]) => value);
  if (patch.doc.length > 0) {
    sets.push(`doc = json_set(doc, ${patch.doc.map(([field]) => `'$.${field}', json(?)`).join(', ')})`);
    for (const [, value] of patch.doc) params.push(JSON.stringify(value));
  }
  return { sets: sets.join(', '), params };
}

/**
 * The embedded store: one SQLite file in WAL mode, one connection, every write through
 * group commit (one writer, so claims are exactly-once without row locks).
 */
export class SqliteStore implements TaskStore {
  readonly engine = 'sqlite' as const;
  private readonly db: Db;
  private readonly writes: GroupCommit<Db>;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly walSync: WalSync;
  private readonly checkpoints: WalCheckpoints | undefined;
  private readonly history: MultiRowInsert;
  private readonly logs: MultiRowInsert;
  /**
   * Status changes recorded in the open transaction, inserted together just before it commits:
   * one statement per transaction instead of one per write (single submissions write one
   * each, and SQLite bumps the AUTOINCREMENT counter once per statement).
   */
  private recordedChanges: SqlValue[][] = [];
  private readonly beginRead: Database.Statement;
  private readonly endRead: Database.Statement;
  private readScopeOpen = false;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // NORMAL: COMMIT writes the WAL without flushing it; WalSync flushes it off the event
    // loop before any writer is answered, so an answered write is on disk (see wal-sync.ts).
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    migrateSqlite(this.db);
    this.walSync = new WalSync(path);
    if (path !== ':memory:') {
      // Checkpoints run on a thread of their own (see wal-checkpoints.ts); if it fails, SQLite
      // goes back to checkpointing in COMMIT every 1000 pages, its default.
      this.db.pragma('wal_autocheckpoint = 0');
      this.checkpoints = new WalCheckpoints(path, () => this.db.pragma('wal_autocheckpoint = 1000'));
    }
    this.history = new MultiRowInsert(this.db, 'task_status_changes', HISTORY_COLUMNS);
    this.logs = new MultiRowInsert(this.db, 'task_logs', LOG_COLUMNS);
    this.beginRead = this.db.prepare('BEGIN DEFERRED');
    this.endRead = this.db.prepare('COMMIT');
    const begin = this.db.prepare('BEGIN IMMEDIATE');
    const commit = this.db.prepare('COMMIT');
    const rollback = this.db.prepare('ROLLBACK');
    this.writes = new GroupCommit<Db>(
      async (body) => {
        this.closeReadScope();
        begin.run();
        try {
          await body(this.db);
          this.writeChanges();
          commit.run();
          this.checkpoints?.committed();
        } catch (error) {
          this.recordedChanges = [];
          if (this.db.inTransaction) rollback.run();
          throw error;
        }
      },
      { sync: () => this.walSync.flush() },
    );
  }

  /**
   * Reads outside a write share one read transaction until the event loop's next turn. On its
   * own, each read is a transaction of its own, and in WAL mode starting and ending one takes
   * three system calls (shared-memory locks and a stat): reading a task by id took 18-23 us
   * that way and 8 us inside a transaction. A report request reads every task it reports on,
   * all in one turn. Every write closes the scope before it begins, so a read never misses a
   * commit of this process; only one turn of this process sits between two scopes.
   */
  private openReadScope(): void {
    if (this.db.inTransaction) return; // a write's transaction, or a scope already open
    this.beginRead.run();
    this.readScopeOpen = true;
    setImmediate(this.closeReadScope);
  }

  private readonly closeReadScope = (): void => {
    if (!this.readScopeOpen) return;
    this.readScopeOpen = false;
    this.endRead.run();
  };

  private prepare(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      // The oldest goes first (it is prepared again if needed, and freed once unreferenced).
      if (this.statements.size >= MAX_CACHED_STATEMENTS) this.statements.delete(this.statements.keys().next().value!);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /** A statement reading task rows, as the arrays rowToTask takes (see task-columns.ts). */
  private prepareTaskRows(sql: string): Database.Statement {
    return this.prepare(sql).raw(true);
  }

  private writeChanges(): void {
    if (this.recordedChanges.length > 0) this.history.run(this.recordedChanges.splice(0));
  }

  private readTask(id: string): Task | undefined {
    this.openReadScope();
    const row = this.prepareTaskRows(SELECT_TASK).get(id) as TaskRow | undefined;
    return row && rowToTask(row);
  }

  insertTasks(tasks: NewTask[], handOffs: readonly ClaimRequest[] = []): Promise<Task[][]> {
    const insert = this.prepare(INSERT_TASK);
    const rows = tasks.map(({ task, secrets }) => {
      const row = taskToRow(task);
      row.push(secrets === null ? null : JSON.stringify(secrets));
      return row;
    });
    const history = tasks.map(({ task }) => [task.id, null, task.status, task.createdAt, task.statusReason, task.statusMessage, null]);
    return this.writes.run(() => {
      // Spread, not an array: better-sqlite3 reads an array's items through the V8 API, which
      // cost more than the insert itself (callgrind: 14k instructions a task).
      for (const row of rows) insert.run(...row);
      this.recordedChanges.push(...history);
      return handOffs.map((request) => this.claimNow(request));
    });
  }

  async getTask(id: string): Promise<Task | undefined> {
    return this.readTask(id);
  }

  async listTasks(filter: TaskFilter, page: Page): Promise<Task[]> {
    this.openReadScope();
    const { where, params } = buildTaskWhere(filter, WHERE_SYNTAX);
    const order = filter.oldestFirst ? 'created_at ASC, id ASC' : 'created_at DESC, id DESC';
    const rows = this.prepareTaskRows(`SELECT ${TASK_SELECT_LIST} FROM tasks ${where} ORDER BY ${order} LIMIT ? OFFSET ?`).all(
      ...params,
      page.limit,
      page.offset,
    ) as TaskRow[];
    return rows.map(rowToTask);
  }

  async countTasks(filter: TaskFilter): Promise<number> {
    this.openReadScope();
    const { where, params } = buildTaskWhere(filter, WHERE_SYNTAX);
    return (this.prepare(`SELECT count(*) AS n FROM tasks ${where}`).get(...params) as { n: number }).n;
  }

  async countByStatus(): Promise<Record<string, number>> {
    return this.countGrouped('status');
  }

  async countByType(): Promise<Record<string, number>> {
    return this.countGrouped('type');
  }

  private countGrouped(column: 'status' | 'type'): Record<string, number> {
    this.openReadScope();
    const rows = this.prepare(`SELECT ${column} AS k, count(*) AS n FROM tasks GROUP BY ${column}`).all() as Array<{
      k: string;
      n: number;
    }>;
    return Object.fromEntries(rows.map((row) => [row.k, row.n]));
  }

  async getSecrets(taskId: string): Promise<JsonObject | null> {
    this.openReadScope();
    const row = this.prepare('SELECT secrets FROM tasks WHERE id = ?').get(taskId) as { secrets: string | null } | undefined;
    return row?.secrets ? (JSON.parse(row.secrets) as JsonObject) : null;
  }

  patchTask(taskId: string, patch: TaskPatch, at: EpochMs): Promise<Task | undefined> {
    const row = patchToRow(patch);
    row.columns.push(['updated_at', at]);
    const { sets, params } = assignments(row);
    return this.writes.run(() => {
      const { changes } = this.prepare(`UPDATE tasks SET ${sets} WHERE id = ?`).run(...params, taskId);
      return changes === 1 ? this.readTask(taskId) : undefined;
    });
  }

  changeStatus(update: StatusUpdate): Promise<Task | undefined> {
    return this.writes.run(() => this.applyStatusChange(update));
  }

  /**
   * The compare-and-set. `before`, when the caller has just read the row in this transaction,
   * saves reading it back: the changed task is computed from it instead.
   */
  private applyStatusChange(update: StatusUpdate, before?: Task): Task | undefined {
    const patch = patchToRow(update.patch);
    patch.columns.push(['status', update.to], ['status_changed_at', update.at], ['updated_at', update.at]);
    patch.columns.push(['status_reason', update.reason], ['status_message', update.message]);
    const { sets, params } = assignments(patch);
    // No RETURNING: SQLite builds a temporary b-tree for the returned rows at every run. The
    // claim's UPDATE took 19.5 µs with it, 5 µs without, and reading a row by id takes about 4.
    const { changes } = this.prepare(`UPDATE tasks SET ${sets} WHERE id = ? AND status = ?`).run(...params, update.taskId, update.from);
    if (changes !== 1) return undefined;
    const task: Task = before
      ? {
          ...before,
          ...update.patch,
          status: update.to,
          statusChangedAt: update.at,
          updatedAt: update.at,
          statusReason: update.reason,
          statusMessage: update.message,
        }
      : this.readTask(update.taskId)!;
    this.recordedChanges.push([update.taskId, update.from, update.to, update.at, update.reason, update.message, task.workerId]);
    return task;
  }

  deleteTask(taskId: string): Promise<boolean> {
    return this.writes.run(() => {
      this.writeChanges(); // this transaction's changes of the task go too
      const deleted = this.prepare('DELETE FROM tasks WHERE id = ?').run(taskId).changes === 1;
      this.prepare('DELETE FROM task_logs WHERE task_id = ?').run(taskId);
      this.prepare('DELETE FROM task_status_changes WHERE task_id = ?').run(taskId);
      return deleted;
    });
  }

  async statusHistory(taskId: string): Promise<StatusChange[]> {
    this.openReadScope();
    const rows = this.prepare(
      'SELECT id, task_id, from_status, to_status, at, reason, message, worker_id FROM task_status_changes WHERE task_id = ? ORDER BY id',
    ).all(taskId) as Parameters<typeof rowToStatusChange>[0][];
    return rows.map(rowToStatusChange);
  }

  claimTasks(request: ClaimRequest): Promise<Task[]> {
    if (request.queues.length === 0 || request.limit <= 0) return Promise.resolve([]);
    return this.writes.run(() => this.claimNow(request));
  }

  /** The claim, inside the transaction the caller is in. */
  private claimNow(request: ClaimRequest): Task[] {
    if (request.queues.length === 0 || request.limit <= 0) return [];
    const { sql, params } = claimCandidates(request);
    // Stepped only as far as `limit` (the statement's LIMIT is rounded up, see claim-candidates.ts).
    const candidates: TaskRow[] = [];
    for (const row of this.prepareTaskRows(sql).iterate(...params) as IterableIterator<TaskRow>) {
      candidates.push(row);
      if (candidates.length === request.limit) break;
    }
    const claimed: Task[] = [];
    for (const row of candidates) {
      const before = rowToTask(row);
      const patch = { workerId: request.workerId, leaseExpiresAt: request.now + request.leaseMs };
      const change: StatusUpdate = { taskId: before.id, from: 'queued', to: 'assigned', at: request.now, reason: 'claimed', message: null, patch };
      const task = this.applyStatusChange(change, before);
      if (task) claimed.push(task);
    }
    return claimed;
  }

  renewLeases(workerId: string, until: EpochMs, ifEndsBefore: EpochMs, taskIds?: readonly string[]): Promise<number> {
    // The ids as one JSON parameter: a list of markers would make a statement per list length.
    const only = taskIds === undefined ? '' : ' AND id IN (SELECT value FROM json_each(?))';
    const params = taskIds === undefined ? [until, workerId, ifEndsBefore] : [until, workerId, ifEndsBefore, JSON.stringify(taskIds)];
    return this.writes.run(
      () => this.prepare(`UPDATE tasks SET lease_expires_at = ? WHERE worker_id = ? AND ${ACTIVE} AND lease_expires_at < ?${only}`).run(...params).changes,
    );
  }

  async activeTaskIds(workerId: string, taskIds: readonly string[]): Promise<string[]> {
    this.openReadScope();
    return this.prepare(`SELECT id FROM tasks WHERE worker_id = ? AND ${ACTIVE} AND id IN (SELECT value FROM json_each(?))`)
      .pluck()
      .all(workerId, JSON.stringify(taskIds)) as string[];
  }

  async findExpired(now: EpochMs, limit: number): Promise<Task[]> {
    this.openReadScope();
    const rows = this.prepareTaskRows(
      `SELECT ${TASK_SELECT_LIST} FROM tasks WHERE ${ACTIVE}
         AND (lease_expires_at < ? OR (max_execution_seconds > 0 AND started_at + max_execution_seconds * 1000 < ?))
       LIMIT ?`,
    ).all(now, now, limit) as TaskRow[];
    return rows.map(rowToTask);
  }

  appendLogs(taskId: string, lines: NewLogLine[], runId?: string): Promise<number> {
    return this.writes.run(() => {
      const mark = runId === undefined ? NO_MARK : ((this.prepare(SELECT_LOG_MARK).get(taskId) as LogMark | undefined) ?? NO_MARK);
      const stored = linesToStore(lines, runId, mark);
      this.logs.run(stored.lines.map((line) => logRow(taskId, line)));
      if (stored.mark !== mark) this.prepare('UPDATE tasks SET log_run = ?, log_n = ? WHERE id = ?').run(stored.mark.run, stored.mark.n, taskId);
      return stored.lines.length;
    });
  }

  async readLogs(taskId: string, afterSeq: number, limit: number): Promise<LogLine[]> {
    this.openReadScope();
    return this.prepare(
      'SELECT seq, at, stream, level, message FROM task_logs WHERE task_id = ? AND seq > ? ORDER BY seq LIMIT ?',
    ).all(taskId, afterSeq, limit) as LogLine[];
  }

  upsertWorker(worker: Worker): Promise<void> {
    const row = workerToRow(worker);
    return this.writes.run(() => {
      this.prepare(
        `INSERT INTO workers (id, name, queues, resources, labels, executors, registered_at, last_heartbeat_at)
         VALUES (@id, @name, @queues, @resources, @labels, @executors, @registered_at, @last_heartbeat_at)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, queues = excluded.queues, resources = excluded.resources,
           labels = excluded.labels, executors = excluded.executors, last_heartbeat_at = excluded.last_heartbeat_at`,
      ).run(row);
    });
  }

  async getWorker(id: string): Promise<Worker | undefined> {
    this.openReadScope();
    const row = this.prepare('SELECT * FROM workers WHERE id = ?').get(id) as WorkerRow | undefined;
    return row && rowToWorker(row);
  }

  async listWorkers(): Promise<Worker[]> {
    this.openReadScope();
    return (this.prepare('SELECT * FROM workers ORDER BY registered_at').all() as WorkerRow[]).map(rowToWorker);
  }

  touchWorker(id: string, at: EpochMs): Promise<boolean> {
    return this.writes.run(
      () => this.prepare('UPDATE workers SET last_heartbeat_at = ? WHERE id = ?').run(at, id).changes === 1,
    );
  }

  deleteWorker(id: string): Promise<boolean> {
    return this.writes.run(() => this.prepare('DELETE FROM workers WHERE id = ?').run(id).changes === 1);
  }

  deleteSilentWorkers(silentSince: EpochMs): Promise<number> {
    return this.writes.run(
      () =>
        this.prepare(
          `DELETE FROM workers WHERE last_heartbeat_at < ? AND NOT EXISTS (SELECT 1 FROM tasks WHERE worker_id = workers.id AND ${ACTIVE})`,
        ).run(silentSince).changes,
    );
  }

  ensureQueue(name: string, at: EpochMs): Promise<Queue> {
    return this.writes.run(() => {
      this.prepare('INSERT INTO queues (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING').run(name, at);
      return rowToQueue(this.prepare('SELECT name, created_at FROM queues WHERE name = ?').get(name) as never);
    });
  }

  async listQueues(): Promise<Queue[]> {
    this.openReadScope();
    return (this.prepare('SELECT name, created_at FROM queues ORDER BY name').all() as never[]).map(rowToQueue);
  }

  async queueDepths(): Promise<Record<string, number>> {
    this.openReadScope();
    const rows = this.prepare(
      `SELECT q.name AS name, (SELECT count(*) FROM tasks t WHERE t.status = 'queued' AND t.queue = q.name) AS n
       FROM queues q ORDER BY q.name`,
    ).all() as Array<{ name: string; n: number }>;
    return Object.fromEntries(rows.map((row) => [row.name, row.n]));
  }

  async close(): Promise<void> {
    await this.writes.drain();
    this.closeReadScope();
    await this.checkpoints?.close();
    this.walSync.close();
    this.db.close();
  }
}
