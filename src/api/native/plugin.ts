import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { bearerTokenCheck } from '../auth.js';
import { classifyError } from '../errors.js';
import type { ApiContext } from './context.js';
import { taskRoutes } from './task-routes.js';
import { workerRoutes } from './worker-routes.js';

/** The native API (/v1): the worker protocol and administration. Errors: {error:{code,message,details}}. */
export function nativeApi(context: ApiContext): FastifyPluginAsyncTypebox {
  const authenticate = bearerTokenCheck(context.apiToken);
  return async (app) => {
    app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: 256 * 1024 * 1024 }, (_req, body, done) =>
      done(null, body),
    );
    app.addHook('onRequest', async (request) => authenticate(request.headers.authorization));
    app.setErrorHandler((error, request, reply) => {
      const classified = classifyError(error);
      if (classified.internal) request.log.error({ err: error }, 'unexpected error');
      return reply.code(classified.status).send({
        error: { code: classified.code, message: classified.message, details: classified.details },
      });
    });
    await app.register(taskRoutes(context));
    await app.register(workerRoutes(context));
  };
}
