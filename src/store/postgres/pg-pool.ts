import pg from 'pg';

// Type OIDs (pg_type.oid) whose parsing differs from node-postgres' defaults.
const INT8 = 20;
const NUMERIC = 1700;
const JSON_OID = 114;
const JSONB = 3802;

const asText = (value: string): string => value;

/**
 * Per-connection type parsers, so that rows come back in the shape the shared row mappers
 * (task-columns.ts, row-mapping.ts) expect from SQLite: JSON as its text, integers and
 * numerics as JS numbers. Set per pool/client, never on the global `pg.types`, so other
 * users of `pg` in the process are unaffected.
 */
export const ROW_TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === JSON_OID || oid === JSONB) return asText;
    // Epoch ms and byte counts fit in a double (2^53); counts come back as int8 too.
    if (oid === INT8 || oid === NUMERIC) return Number;
    return pg.types.getTypeParser(oid, format);
  }) as pg.CustomTypesConfig['getTypeParser'],
};

export interface PoolOptions {
  /** Connections this instance may hold; claims, reads and the writer share them. */
  max?: number;
  /** Errors of idle connections (the pool drops the connection and opens a new one on demand). */
  onError?: (error: Error) => void;
}

export function createPool(connectionString: string, options: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString, types: ROW_TYPES, max: options.max ?? 10 });
  // Without a listener an idle connection's error (server restart) would crash the process.
  pool.on('error', (error) => options.onError?.(error));
  return pool;
}


/**
 * Runs `body` in one transaction on a pooled connection. A connection that cannot even roll
 * back is discarded rather than handed back to the pool.
 */
export async function inTransaction<T>(pool: pg.Pool, body: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await body(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
    throw error;
  } finally {
    client.release(broken);
  }
}
