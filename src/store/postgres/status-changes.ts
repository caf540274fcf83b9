import type pg from 'pg';
import type { StatusUpdate } from '../../core/ports.js';
import type { Task } from '../../domain/task.js';
import { TASK_SELECT_LIST, patchToRow, rowToTask, type SqlValue } from '../task-columns.js';
import type { ColumnTypes } from './insert-rows.js';

/** What one status change writes: its columns (status ones included) and its `doc` fields, as JSON. */
interface ChangeRow {
  update: StatusUpdate;
  columns: string[];
  values: SqlValue[];
  doc: string | undefined;
}

function toChangeRow(update: StatusUpdate): ChangeRow {
  const patch = patchToRow(update.patch);
  patch.columns.push(['status', update.to], ['status_changed_at', update.at], ['updated_at', update.at]);
  patch.columns.push(['status_reason', update.reason], ['status_message', update.message]);
  return {
    update,
    columns: patch.columns.map(([column]) => column),
    values: patch.columns.map(([, value]) => value),
    doc: patch.doc.length > 0 ? JSON.stringify(Object.fromEntries(patch.doc)) : undefined,
  };
}

/**
 * Status changes, each a compare-and-set on the status its caller read, with their history
 * rows: one statement for all changes that write the same columns (a batch of reports is one
 * shape), the rows handed over as column arrays (unnest), as insertRows does. One round trip
 * per change held the writer's transaction for a round trip each while every other write
 * waited: end to end, 250 reports took 250 round trips in a row.
 *
 * Answers, in order, the changed task or undefined where the status was no longer `from`. A
 * task changed twice in the list is changed in that order: its second change goes in a later
 * statement (one row of UPDATE … FROM matches a target row at most once).
 */
export async function applyStatusChanges(client: pg.ClientBase, types: ColumnTypes, updates: StatusUpdate[]): Promise<Array<Task | undefined>> {
  const results = new Array<Task | undefined>(updates.length);
  for (const wave of waves(updates)) {
    const shapes = new Map<string, number[]>();
    const rows = wave.map((index) => toChangeRow(updates[index]!));
    rows.forEach((row, i) => {
      const shape = `${row.columns.join(',')}${row.doc === undefined ? '' : '+doc'}`;
      const members = shapes.get(shape);
      if (members) members.push(i);
      else shapes.set(shape, [i]);
    });
    for (const members of shapes.values()) {
      const changed = await applyShape(client, types, members.map((i) => rows[i]!));
      for (const i of members) results[wave[i]!] = changed.get(rows[i]!.update.taskId);
    }
  }
  return results;
}

/** The indexes of `updates` split so that no task comes twice in one wave, each task's changes in order. */
function waves(updates: StatusUpdate[]): number[][] {
  const result: number[][] = [];
  const seen = new Map<string, number>();
  updates.forEach((update, index) => {
    const wave = (seen.get(update.taskId) ?? -1) + 1;
    seen.set(update.taskId, wave);
    (result[wave] ??= []).push(index);
  });
  return result;
}

/** Changes that write the same columns, in one statement: the changed tasks by id. */
async function applyShape(client: pg.ClientBase, types: ColumnTypes, rows: ChangeRow[]): Promise<Map<string, Task>> {
  const { columns } = rows[0]!;
  const hasDoc = rows[0]!.doc !== undefined;
  const typeOf = (column: string) => {
    const type = types.get('tasks')?.get(column);
    if (!type) throw new Error(`no column tasks.${column}`);
    return type;
  };
  const arrays: Array<{ name: string; type: string; values: unknown[] }> = [
    { name: 'id', type: 'text', values: rows.map((row) => row.update.taskId) },
    { name: 'from_status', type: 'text', values: rows.map((row) => row.update.from) },
    ...columns.map((column, c) => ({ name: column, type: typeOf(column), values: rows.map((row) => row.values[c] ?? null) })),
    ...(hasDoc ? [{ name: 'doc_patch', type: 'jsonb', values: rows.map((row) => row.doc) }] : []),
  ];
  const sets = columns.map((column) => `${column} = v.${column}`);
  if (hasDoc) sets.push('doc = t.doc || v.doc_patch');
  const { rows: changed } = await client.query<SqlValue[]>({
    text: `WITH v AS (
        SELECT * FROM unnest(${arrays.map((array, i) => `$${i + 1}::${array.type}[]`).join(', ')}) AS v(${arrays.map((array) => array.name).join(', ')})
      ), changed AS (
        UPDATE tasks t SET ${sets.join(', ')} FROM v WHERE t.id = v.id AND t.status = v.from_status
        RETURNING t.*, v.from_status AS changed_from
      ), history AS (
        INSERT INTO task_status_changes (task_id, from_status, to_status, at, reason, message, worker_id)
        SELECT id, changed_from, status, status_changed_at, status_reason, status_message, worker_id FROM changed
      )
      SELECT ${TASK_SELECT_LIST} FROM changed`,
    values: arrays.map((array) => array.values),
    rowMode: 'array',
  });
  return new Map(changed.map((row) => rowToTask(row)).map((task) => [task.id, task]));
}
