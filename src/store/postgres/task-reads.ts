import type pg from 'pg';
import type { Task } from '../../domain/task.js';
import { TASK_SELECT_LIST, rowToTask, taskIdOf, type SqlValue } from '../task-columns.js';

interface Waiting {
  resolve: (task: Task | undefined) => void;
  reject: (error: unknown) => void;
}

/**
 * Reads of tasks by id made in the same run of code go to PostgreSQL as one query. A batch
 * of 250 reports reads its 250 tasks before changing them, all before its first await: a
 * query each took a round trip each on the pool's ten connections (bench/e2e.mjs --postgres).
 */
export class TaskReads {
  private waiting = new Map<string, Waiting[]>();

  constructor(private readonly pool: pg.Pool) {}

  get(id: string): Promise<Task | undefined> {
    return new Promise((resolve, reject) => {
      if (this.waiting.size === 0) queueMicrotask(() => void this.read());
      const forId = this.waiting.get(id);
      if (forId) forId.push({ resolve, reject });
      else this.waiting.set(id, [{ resolve, reject }]);
    });
  }

  private async read(): Promise<void> {
    const waiting = this.waiting;
    this.waiting = new Map();
    try {
      const { rows } = await this.pool.query<SqlValue[]>({
        text: `SELECT ${TASK_SELECT_LIST} FROM tasks WHERE id = ANY($1::text[])`,
        values: [[...waiting.keys()]],
        rowMode: 'array',
      });
      const found = new Map(rows.map((row) => [taskIdOf(row), row]));
      // A task object of its own for every caller: none sees another's changes to it.
      for (const [id, callers] of waiting) {
        const row = found.get(id);
        for (const caller of callers) caller.resolve(row && rowToTask(row));
      }
    } catch (error) {
      for (const callers of waiting.values()) for (const caller of callers) caller.reject(error);
    }
  }
}
