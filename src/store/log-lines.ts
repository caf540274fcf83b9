import type { NewLogLine } from '../core/ports.js';
import type { SqlValue } from './task-columns.js';

export const LOG_COLUMNS = ['task_id', 'at', 'stream', 'level', 'message'];

/** The row of `task_logs` for a line, in LOG_COLUMNS' order. */
export function logRow(taskId: string, line: NewLogLine): SqlValue[] {
  return [taskId, line.at, line.stream, line.level, line.message];
}

/** Where a task's log stands: the run that wrote it last and the number of that run's last stored line. */
export interface LogMark {
  run: string | null;
  n: number | null;
}

/** A task no numbered line was stored for. */
export const NO_MARK: LogMark = { run: null, n: null };

/**
 * What to store of `lines` from run `runId`, and where the log then stands (`mark` when it
 * does not move). A run's lines arrive in order, so those not above its mark were stored
 * before; unnumbered lines, and lines with no run, are always new.
 */
export function linesToStore(lines: NewLogLine[], runId: string | undefined, mark: LogMark): { lines: NewLogLine[]; mark: LogMark } {
  if (runId === undefined) return { lines, mark };
  const last = mark.run === runId ? (mark.n ?? 0) : 0;
  const fresh = lines.filter((line) => line.n === undefined || line.n > last);
  const highest = Math.max(last, ...fresh.map((line) => line.n ?? 0));
  return { lines: fresh, mark: highest > 0 ? { run: runId, n: highest } : mark };
}
