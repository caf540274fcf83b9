import type { TaskFilter } from '../core/ports.js';
import type { SqlValue } from './task-columns.js';

/** How an engine writes what a task filter needs. */
export interface WhereSyntax {
  /** The marker of the n-th parameter (from 1). */
  placeholder(index: number): string;
  /** `column` is one of the strings of the JSON array given as parameter `marker`. */
  inJsonList(column: string, marker: string): string;
}

/**
 * WHERE clause for a task filter. Ids go as one JSON parameter, not a marker each: SQLite keeps
 * a prepared statement per text, and a statement per list length held 413 MB after 2,000
 * lengths (heartbeats list every task an agent holds, and that count changes all the time).
 */
export function buildTaskWhere(filter: TaskFilter, syntax: WhereSyntax): { where: string; params: SqlValue[] } {
  const clauses: string[] = [];
  const params: SqlValue[] = [];
  const add = (value: SqlValue) => {
    params.push(value);
    return syntax.placeholder(params.length);
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
  if (filter.ids) clauses.push(filter.ids.length ? syntax.inJsonList('id', add(JSON.stringify(filter.ids))) : '1 = 0');
  return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}
