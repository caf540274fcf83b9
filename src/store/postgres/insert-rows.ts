import type pg from 'pg';
import type { SqlValue } from '../task-columns.js';
import { MAX_PARAMETERS } from './pg-pool.js';

/**
 * One multi-row INSERT per chunk, each chunk as large as the bind-parameter limit allows:
 * a batch of 100 tasks is one round trip instead of 100.
 */
export async function insertRows(
  client: pg.ClientBase,
  table: string,
  columns: readonly string[],
  rows: readonly SqlValue[][],
): Promise<void> {
  const rowsPerStatement = Math.floor(MAX_PARAMETERS / columns.length);
  for (let start = 0; start < rows.length; start += rowsPerStatement) {
    const params: SqlValue[] = [];
    const tuples = rows.slice(start, start + rowsPerStatement).map((row) => {
      const placeholders = row.map((value) => {
        params.push(value);
        return `$${params.length}`;
      });
      return `(${placeholders.join(', ')})`;
    });
    await client.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${tuples.join(', ')}`, params);
  }
}
