import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { TaskService } from '../../core/task-service.js';
import type { JsonValue } from '../../domain/json.js';
import type { Task } from '../../domain/task.js';
import { ErrorBody, IdParams, ListQuery, ReportBody, SubmissionBody, WorkTaskView } from './schemas.js';
import { applyReport } from './report.js';
import { canonicalStatuses } from './status-words.js';
import { toTaskInput, toWorkTask } from './wire.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 409: ErrorBody };
const tags = ['mimir'];
const security = [{ bearer: [] }];

export interface WorkTaskRouteOptions {
  tasks: TaskService;
  /** True when a worker token is configured: every caller holds it, so may see storage credentials. */
  showCredentials: boolean;
}

/** /api/worktasks ('' under that prefix) and /api/worktasks/{id}. */
export function workTaskRoutes({ tasks, showCredentials }: WorkTaskRouteOptions): FastifyPluginAsyncTypebox {
  const view = async (task: Task) => {
    if (!showCredentials || !task.hasSecrets) return toWorkTask(task);
    const secrets = await tasks.secrets(task.id);
    return toWorkTask(task, { storageCredentials: secrets?.storage_credentials });
  };

  return async (app) => {
    app.get(
      '',
      {
        schema: {
          tags,
          security,
          summary: 'Queue length and the work tasks, newest first, a page at a time',
          querystring: ListQuery,
          response: {
            200: Type.Object({ tasks: Type.Array(WorkTaskView), queue_length: Type.Integer(), total: Type.Integer() }),
            ...errors,
          },
        },
      },
      async (request) => {
        const { limit, offset, project_id: project, status, type } = request.query;
        const filter = { project, type, statuses: status ? canonicalStatuses(status) : undefined };
        const [list, total, queueLength] = await Promise.all([
          tasks.list(filter, { limit, offset }),
          tasks.count(filter),
          tasks.count({ statuses: ['queued'] }),
        ]);
        return { tasks: await Promise.all(list.map(view)), queue_length: queueLength, total };
      },
    );

    app.post(
      '',
      {
        schema: { tags, security, summary: 'Submit a work task', body: SubmissionBody, response: { 201: WorkTaskView, ...errors } },
      },
      async (request, reply) => {
        const task = await tasks.submit(toTaskInput(request.body));
        const credentials = showCredentials ? (request.body.data_access?.storage_credentials as JsonValue | undefined) : undefined;
        return reply.code(201).send(toWorkTask(task, { storageCredentials: credentials || undefined }));
      },
    );

    app.get(
      '/:id',
      { schema: { tags, security, summary: 'Read a work task', params: IdParams, response: { 200: WorkTaskView, ...errors } } },
      async (request) => view(await tasks.get(request.params.id)),
    );

    app.post(
      '/:id',
      {
        schema: {
          tags,
          security,
          summary: "A worker job's report: executing, completed, failed (retried if transient), timeout or cancelled",
          params: IdParams,
          body: ReportBody,
          response: { 200: Type.Object({ status: Type.Union([Type.Literal('updated'), Type.Literal('requeued_for_retry')]) }), ...errors },
        },
      },
      async (request) => ({ status: await applyReport(tasks, request.params.id, request.body) }),
    );
  };
}
