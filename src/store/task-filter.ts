import type { TaskFilter } from '../core/ports.js';
import type { SqlValue } from './task-columns.js';

/** WHERE clause for a task filter; `placeholder(n)` gives the engine's n-th parameter marker. */
export function buildTaskWhere(
  filter: TaskFilter,
  placeholder: (index: number) => string,
  firstIndex = 1,
): { where: string; params: SqlValue[] } {
  const clauses: string[] = [];
  const params: SqlValue[] = [];
  const add = (value: SqlValue) => {
    params.push(value);
    return placeholder(firstIndex + params.length - 1);
  };
  const equal: Array<[string, string | undefined]> = [
    ['queue', filter.queue],
    ['project', filter.project],
    ['owner', filter.owner],
    ['type', filter.type],
    ['model_id', filter.modelId],
    ['worker_id', filter.workerId],
  ];
  for (const [column, value] of equal) if (value !== undefined) clauses.push(`${column} = ${add(value)}`);
  if (filter.statuses) {
    clauses.push(filter.statuses.length ? `status IN (${filter.statuses.map((s) => add(s)).join(', ')})` : '1 = 0');
  }
  if (filter.ids) clauses.push(filter.ids.length ? `id IN (${filter.ids.map((id) => add(id)).join(', ')})` : '1 = 0');
  return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}
