import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { compactTask } from '../../domain/compact-task.js';
import { isTaskhubError } from '../../domain/errors.js';
import type { ApiContext } from './context.js';
import { ClaimRequestBody, CompactTaskView, ErrorBody, IdParams, ReportBatch, ReportBody, TaskView, WorkerRegistration, WorkerView } from './schemas.js';
import { toCapacity, toReport, toWorkerResources } from './wire.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 409: ErrorBody };
const tags = ['workers'];
const Claimed = Type.Object({
  task: CompactTaskView,
  secrets: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'left out when the task has none' })),
});

export function workerRoutes(context: ApiContext): FastifyPluginAsyncTypebox {
  const { workers, tasks, clock } = context;
  return async (app) => {
    app.post(
      '/workers',
      {
        schema: {
          tags,
          summary: 'Register a worker (again, with the same id, after a restart)',
          body: WorkerRegistration,
          response: { 201: Type.Object({ worker: WorkerView, leaseMs: Type.Integer(), heartbeatMs: Type.Integer() }), ...errors },
        },
      },
      async (request, reply) => {
        const { resources, ...rest } = request.body;
        const worker = await workers.register({ ...rest, resources: toWorkerResources(resources) });
        // Three heartbeats per lease: one can be lost without the lease running out.
        return reply.code(201).send({ worker, leaseMs: workers.leaseMs, heartbeatMs: Math.floor(workers.leaseMs / 3) });
      },
    );

    app.get(
      '/workers',
      { schema: { tags, summary: 'List workers', response: { 200: Type.Object({ workers: Type.Array(WorkerView) }), ...errors } } },
      async () => ({ workers: await workers.list() }),
    );

    app.delete(
      '/workers/:id',
      { schema: { tags, summary: 'Unregister; held tasks go back to their queue', params: IdParams, response: { 204: Type.Null(), ...errors } } },
      async (request, reply) => {
        await workers.unregister(request.params.id);
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/workers/:id/heartbeat',
      {
        schema: {
          tags,
          summary: 'Keep the worker and its leases alive; answers which running tasks to stop',
          description: 'With `running` (every task the worker holds), only those leases are renewed; without it, all of its tasks.',
          params: IdParams,
          // An agent holds up to 11,000 tasks (concurrency 1,000 + prefetch 10,000), and those with
          // undelivered reports besides.
          body: Type.Object({ running: Type.Optional(Type.Array(Type.String(), { maxItems: 30_000 })) }, { additionalProperties: false }),
          response: { 200: Type.Object({ stop: Type.Array(Type.String()) }), ...errors },
        },
      },
      async (request) => workers.heartbeat(request.params.id, request.body.running),
    );

    app.post(
      '/workers/:id/claim',
      {
        schema: {
          tags,
          summary: 'Claim fitting tasks; waits up to waitMs for one (long poll)',
          params: IdParams,
          body: ClaimRequestBody,
          response: { 200: Type.Object({ claims: Type.Array(Claimed) }), ...errors },
        },
        // JSON.stringify rather than a serializer compiled from the schema: the schema's many
        // nullable fields (anyOf) made that one slower, and its output a string of many pieces
        // that had to be flattened again to be measured and written.
        serializerCompiler: () => JSON.stringify,
      },
      async (request, reply) => {
        const abort = new AbortController();
        const onClose = () => abort.abort();
        reply.raw.once('close', onClose);
        try {
          const claimed = await workers.claim(request.params.id, {
            limit: request.body.limit,
            waitMs: Math.min(request.body.waitMs, context.maxClaimWaitMs),
            capacity: toCapacity(request.body.capacity),
            signal: abort.signal,
          });
          const claims = await Promise.all(
            claimed.map(async (task) => {
              const secrets = task.hasSecrets ? await tasks.secrets(task.id) : null;
              return secrets ? { task: compactTask(task), secrets } : { task: compactTask(task) };
            }),
          );
          return { claims };
        } finally {
          reply.raw.off('close', onClose);
        }
      },
    );

    app.post(
      '/workers/:id/tasks/:taskId/report',
      {
        schema: {
          tags,
          summary: 'Report status, progress, logs or results of a held task',
          params: Type.Object({ id: Type.String({ minLength: 1 }), taskId: Type.String({ minLength: 1 }) }),
          body: ReportBody,
          response: { 200: TaskView, ...errors },
        },
      },
      async (request) => workers.report(request.params.id, request.params.taskId, toReport(request.body, clock.now())),
    );

    app.post(
      '/workers/:id/reports',
      {
        schema: {
          tags,
          summary: 'Several reports in one request, applied in order per task; each succeeds or fails on its own',
          params: IdParams,
          body: ReportBatch,
          response: {
            200: Type.Object({
              results: Type.Array(
                Type.Object({
                  taskId: Type.String(),
                  ok: Type.Boolean(),
                  status: Type.Optional(Type.String()),
                  error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
                }),
              ),
            }),
            ...errors,
          },
        },
      },
      async (request) => {
        const now = clock.now();
        const { reports } = request.body;
        const apply = async ({ taskId, ...report }: (typeof reports)[number]) => {
          try {
            const task = await workers.report(request.params.id, taskId, toReport(report, now));
            return { taskId, ok: true, status: task.status };
          } catch (error) {
            if (!isTaskhubError(error)) throw error;
            return { taskId, ok: false, error: { code: error.code, message: error.message } };
          }
        };
        const positionsByTask = new Map<string, number[]>();
        reports.forEach((report, i) => {
          const positions = positionsByTask.get(report.taskId);
          if (positions) positions.push(i);
          else positionsByTask.set(report.taskId, [i]);
        });
        // Tasks in parallel (their writes share a group commit); the reports of one task in the order sent.
        const results: Array<Awaited<ReturnType<typeof apply>>> = [];
        await Promise.all(
          [...positionsByTask.values()].map(async (positions) => {
            for (const i of positions) results[i] = await apply(reports[i]!);
          }),
        );
        return { results };
      },
    );
  };
}
