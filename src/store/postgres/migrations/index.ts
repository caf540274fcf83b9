import { sql as initial } from './0001-initial.js';
import { sql as narrowTasks } from './0002-narrow-tasks.js';
import { sql as logLineRuns } from './0003-log-line-runs.js';

/** Append-only: never edit a shipped migration, add the next one. Versions match SQLite's. */
export const POSTGRES_MIGRATIONS: ReadonlyArray<{ version: number; sql: string }> = [
  { version: 1, sql: initial },
  { version: 2, sql: narrowTasks },
  { version: 3, sql: logLineRuns },
];
