import type { TaskService } from '../../core/task-service.js';
import { validationError } from '../../domain/errors.js';
import type { TaskPatch } from '../../domain/task.js';
import type { ReportBody } from './schemas.js';
import { REPORTABLE_FROM, REPORTED_TO } from './status-words.js';

export type ReportAnswer = 'updated' | 'requeued_for_retry';

/**
 * Applies a worker job's report. Mimir's jobs are not taskhub workers (they hold no lease), so
 * the report is forced past the transition table but only from a status that has not
 * finished: a finished task answers a conflict. A failure naming a transient error
 * (OOMKilled, Evicted, DeadlineExceeded) goes back to the queue while retries remain.
 */
export async function applyReport(tasks: TaskService, id: string, report: ReportBody): Promise<ReportAnswer> {
  if (report.worktask_id !== id) {
    throw validationError(`worktask_id ${JSON.stringify(report.worktask_id)} does not match the path's ${JSON.stringify(id)}`, {
      field: 'worktask_id',
    });
  }
  // Go clients send the zero value of every field they do not set: "" and null change nothing.
  const patch: TaskPatch = {};
  if (report.output_location) patch.outputLocation = report.output_location;
  if (report.metadata) patch.result = report.metadata as TaskPatch['result'];
  const options = { force: true, expected: REPORTABLE_FROM, reason: 'reported by worker job', patch };
  if (report.status === 'failed') {
    const { requeued } = await tasks.fail(id, { ...options, error: report.error_message ?? '' });
    return requeued ? 'requeued_for_retry' : 'updated';
  }
  if (report.error_message) patch.error = report.error_message;
  await tasks.changeStatus(id, REPORTED_TO[report.status], { ...options, message: report.error_message || null });
  return 'updated';
}
