import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { TaskService } from '../../core/task-service.js';
import type { TaskStatus } from '../../domain/status.js';
import { bearerTokenCheck } from '../auth.js';
import { classifyError } from '../errors.js';
import { metricsRoute } from './metrics-route.js';
import { workTaskRoutes } from './routes.js';
import { workTaskStatus } from './status-words.js';
import { strictValidatorCompiler } from './strict-validator.js';
import { TaskUpdateHub } from './task-update-hub.js';

export interface MimirApiOptions {
  tasks: TaskService;
  /** WORKER_AUTH_TOKEN: required by /api/worktasks* when set; /api/metrics and /ws/tasks stay open. */
  workerAuthToken: string;
}

const WS_PATH = '/ws/tasks';

/** The paths this dialect serves: the server answers even its router's errors there in Mimir's shape. */
export const MIMIR_PATH_PREFIXES = ['/api/worktasks', '/api/metrics', WS_PATH];

/** Mimir's error body. */
export const mimirErrorBody = (message: string) => ({ error: message });

/**
 * Mimir AIP's work-task API (seed 001): /api/worktasks*, /api/metrics and the WebSocket
 * /ws/tasks, answering errors in Mimir's shape, {"error": "..."}.
 */
export function mimirApi({ tasks, workerAuthToken }: MimirApiOptions): FastifyPluginAsyncTypebox {
  const authenticate = bearerTokenCheck(workerAuthToken);
  return async (app) => {
    app.setValidatorCompiler(strictValidatorCompiler);
    app.setErrorHandler(answerError);

    await app.register(
      async (worktasks) => {
        worktasks.addHook('onRequest', async (request) => authenticate(request.headers.authorization));
        worktasks.setNotFoundHandler((request, reply) => reply.code(404).send(mimirErrorBody(`no route ${request.method} ${request.url}`)));
        await worktasks.register(workTaskRoutes({ tasks, showCredentials: workerAuthToken !== '' }));
      },
      { prefix: '/api/worktasks' },
    );
    await app.register(metricsRoute(tasks));

    const hub = new TaskUpdateHub(tasks, {
      path: WS_PATH,
      maxBufferedBytes: 4 * 1024 * 1024,
      // 30 s: a dead peer (no FIN, e.g. a lost network) is dropped within a minute.
      pingIntervalMs: 30_000,
      onError: (error) => app.log.error({ err: error }, 'task update hub: reading changed tasks failed'),
    });
    hub.attach(app.server);
    // Before the server waits for its connections to end: upgraded sockets are among them.
    app.addHook('preClose', async () => hub.close());
    app.get(WS_PATH, { schema: { tags: ['mimir'], summary: 'WebSocket: every status change as {"event":"task_update","task":{...}}' } }, (_request, reply) =>
      reply.code(426).header('upgrade', 'websocket').send(mimirErrorBody('this is a WebSocket endpoint: connect with Upgrade: websocket')),
    );
  };
}

/** Mimir's error body. A refused transition is told in Mimir's status words. */
function answerError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const classified = classifyError(error);
  if (classified.internal) request.log.error({ err: error }, 'unexpected error');
  const { id, from, to } = classified.details as { id?: string; from?: TaskStatus; to?: TaskStatus };
  const message =
    classified.code === 'INVALID_TRANSITION' && from && to
      ? `work task ${id} is ${workTaskStatus(from)}: it cannot become ${workTaskStatus(to)}`
      : classified.message;
  return reply.code(classified.status).send(mimirErrorBody(message));
}
