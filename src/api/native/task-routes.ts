import { createHash } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { ApiContext } from './context.js';
import {
  ErrorBody,
  IdParams,
  LogLineInput,
  LogsQuery,
  StatusRequest,
  TaskBatch,
  TaskListQuery,
  TaskSubmission,
  TaskView,
} from './schemas.js';
import { toTaskInput } from './wire.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 409: ErrorBody };
const tags = ['tasks'];

export function taskRoutes(context: ApiContext): FastifyPluginAsyncTypebox {
  const { tasks, clock } = context;
  return async (app) => {
    app.post(
      '/tasks',
      { schema: { tags, summary: 'Submit a task', body: TaskSubmission, response: { 201: TaskView, ...errors } } },
      async (request, reply) => reply.code(201).send(await tasks.submit(toTaskInput(request.body))),
    );

    app.post(
      '/tasks/batch',
      {
        schema: {
          tags,
          summary: 'Submit up to 1000 tasks in one transaction',
          body: TaskBatch,
          response: { 201: Type.Object({ ids: Type.Array(Type.String()) }), ...errors },
        },
      },
      async (request, reply) => {
        const inputs = request.body.tasks.map((task, index) => toTaskInput(task, `body.tasks[${index}]`));
        const created = await tasks.submitMany(inputs);
        return reply.code(201).send({ ids: created.map((task) => task.id) });
      },
    );

    app.get(
      '/tasks',
      {
        schema: {
          tags,
          summary: 'List tasks, newest first',
          querystring: TaskListQuery,
          response: { 200: Type.Object({ tasks: Type.Array(TaskView), total: Type.Integer() }), ...errors },
        },
      },
      async (request) => {
        const { status, limit, offset, ...rest } = request.query;
        const filter = { ...rest, statuses: status ? [status] : undefined };
        const [list, total] = await Promise.all([tasks.list(filter, { limit, offset }), tasks.count(filter)]);
        return { tasks: list, total };
      },
    );

    app.get(
      '/tasks/:id',
      { schema: { tags, summary: 'Read a task', params: IdParams, response: { 200: TaskView, ...errors } } },
      async (request) => tasks.get(request.params.id),
    );

    app.delete(
      '/tasks/:id',
      { schema: { tags, summary: 'Delete a task that is not active', params: IdParams, response: { 204: Type.Null(), ...errors } } },
      async (request, reply) => {
        await tasks.delete(request.params.id);
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/tasks/:id/status',
      {
        schema: {
          tags,
          summary: 'Change a task status (checked against the lifecycle table unless forced)',
          params: IdParams,
          body: StatusRequest,
          response: { 200: TaskView, ...errors },
        },
      },
      async (request) => {
        const { status, ...options } = request.body;
        return tasks.changeStatus(request.params.id, status, options);
      },
    );

    app.post(
      '/tasks/:id/cancel',
      { schema: { tags, summary: 'Stop a task that has not finished', params: IdParams, response: { 200: TaskView, ...errors } } },
      async (request) => tasks.cancel(request.params.id),
    );

    app.post(
      '/tasks/:id/enqueue',
      {
        schema: {
          tags,
          summary: 'Put a task into a queue',
          params: IdParams,
          body: Type.Object({ queue: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })) }, { additionalProperties: false }),
          response: { 200: TaskView, ...errors },
        },
      },
      async (request) => tasks.enqueue(request.params.id, request.body.queue),
    );

    app.get(
      '/tasks/:id/history',
      {
        schema: {
          tags,
          summary: 'Status history, oldest first',
          params: IdParams,
          response: {
            200: Type.Object({
              changes: Type.Array(
                Type.Object({
                  from: Type.Union([Type.String(), Type.Null()]),
                  to: Type.String(),
                  at: Type.Integer(),
                  reason: Type.Union([Type.String(), Type.Null()]),
                  message: Type.Union([Type.String(), Type.Null()]),
                  workerId: Type.Union([Type.String(), Type.Null()]),
                }),
              ),
            }),
            ...errors,
          },
        },
      },
      async (request) => {
        await tasks.get(request.params.id);
        return { changes: await tasks.history(request.params.id) };
      },
    );

    app.get(
      '/tasks/:id/logs',
      {
        schema: {
          tags,
          summary: 'Log lines after a position',
          params: IdParams,
          querystring: LogsQuery,
          response: {
            200: Type.Object({
              lines: Type.Array(
                Type.Object({ seq: Type.Integer(), at: Type.Integer(), stream: Type.String(), level: Type.String(), message: Type.String() }),
              ),
            }),
            ...errors,
          },
        },
      },
      async (request) => {
        await tasks.get(request.params.id);
        return { lines: await tasks.readLogs(request.params.id, request.query.after, request.query.limit) };
      },
    );

    app.post(
      '/tasks/:id/logs',
      {
        schema: {
          tags,
          summary: 'Append log lines',
          params: IdParams,
          body: Type.Object({ lines: Type.Array(LogLineInput, { minItems: 1, maxItems: 10_000 }) }, { additionalProperties: false }),
          response: { 204: Type.Null(), ...errors },
        },
      },
      async (request, reply) => {
        const now = clock.now();
        await tasks.appendLogs(
          request.params.id,
          request.body.lines.map((line) => ({
            at: line.at ?? now,
            stream: line.stream ?? 'stdout',
            level: line.level ?? 'info',
            message: line.message,
          })),
        );
        return reply.code(204).send(null);
      },
    );

    const BlobParams = Type.Object({ id: Type.String({ minLength: 1 }), name: Type.String({ minLength: 1, maxLength: 128 }) });

    // A blob is the bytes as sent, whatever their content type (JSON, text, images, none):
    // with the JSON parser in place a JSON body arrived parsed, and hashing it failed (500).
    const blobUpload: FastifyPluginAsyncTypebox = async (blobs) => {
      blobs.removeAllContentTypeParsers();
      blobs.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 256 * 1024 * 1024 }, (_req, body, done) => done(null, body));
      blobs.put(
        '/tasks/:id/blobs/:name',
        {
          schema: {
            tags,
            summary: 'Store a binary result (body: raw bytes)',
            params: BlobParams,
            response: {
              201: Type.Object({ name: Type.String(), size: Type.Integer(), contentType: Type.String(), sha256: Type.String() }),
              ...errors,
            },
          },
        },
        async (request, reply) => {
          const data = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
          const contentType = request.headers['content-type'] || 'application/octet-stream';
          const sha256 = createHash('sha256').update(data).digest('hex');
          return reply.code(201).send(await tasks.putBlob(request.params.id, request.params.name, data, contentType, sha256));
        },
      );
    };
    await app.register(blobUpload);

    app.get(
      '/tasks/:id/blobs/:name',
      { schema: { tags, summary: 'Read a binary result', params: BlobParams } },
      async (request, reply) => {
        const { ref, data } = await tasks.getBlob(request.params.id, request.params.name);
        return reply.header('content-type', ref.contentType).header('x-sha256', ref.sha256).send(data);
      },
    );
  };
}
