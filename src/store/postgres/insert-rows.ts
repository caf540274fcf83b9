import type pg from 'pg';
import type { SqlValue } from '../task-columns.js';

/** table → column → SQL type ("bigint", "jsonb", …). */
export type ColumnTypes = ReadonlyMap<string, ReadonlyMap<string, string>>;

/**
 * The column types of the tables written in bulk, read from the catalog (as resolved by the
 * search path) so that they can never drift from the migrations.
 */
export async function readColumnTypes(pool: pg.Pool, tables: readonly string[]): Promise<ColumnTypes> {
  const { rows } = await pool.query<{ table_name: string; column_name: string; type: string }>(
    `SELECT c.relname AS table_name, a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS type
     FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
     WHERE a.attrelid = ANY (SELECT to_regclass(name) FROM unnest($1::text[]) AS name) AND a.attnum > 0 AND NOT a.attisdropped`,
    [tables],
  );
  const types = new Map<string, Map<string, string>>();
  for (const row of rows) {
    if (!types.has(row.table_name)) types.set(row.table_name, new Map());
    types.get(row.table_name)!.set(row.column_name, row.type);
  }
  return types;
}

/**
 * Many rows in one INSERT … SELECT FROM unnest(column arrays): one bind parameter per
 * column whatever the row count, so there is no 65535-parameter limit to chunk around, and
 * the statement text is the same for every batch. Measured on 100-task batches it is about
 * 3× faster than a VALUES list with a parameter per cell (which PostgreSQL must parse and
 * type one by one).
 */
export async function insertRows(
  client: pg.ClientBase,
  types: ColumnTypes,
  table: string,
  columns: readonly string[],
  rows: readonly SqlValue[][],
): Promise<void> {
  if (rows.length === 0) return;
  const arrays = columns.map((column, index) => {
    const type = types.get(table)?.get(column);
    if (!type) throw new Error(`no column ${table}.${column}`);
    return { cast: `$${index + 1}::${type}[]`, values: rows.map((row) => row[index] ?? null) };
  });
  await client.query(
    `INSERT INTO ${table} (${columns.join(', ')}) SELECT * FROM unnest(${arrays.map((a) => a.cast).join(', ')})`,
    arrays.map((a) => a.values),
  );
}
