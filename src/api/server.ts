import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { classifyError } from './errors.js';
import type { ApiContext } from './native/context.js';
import { nativeApi } from './native/plugin.js';

export interface ServerOptions {
  logLevel: string;
  /** True while the server can take work (store reachable, not shutting down). */
  isReady: () => Promise<boolean>;
}

/** Builds the HTTP server: every API on one port, OpenAPI at /openapi.json, docs at /docs. */
export async function buildServer(context: ApiContext, options: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: {
      level: options.logLevel,
      // Tokens and credentials never reach the log.
      redact: ['req.headers.authorization', 'req.headers.cookie', '*.secrets', '*.storage_credentials'],
    },
    // One log line per request halves throughput at 20k requests/s; errors are still logged.
    logController: new LogController({
      disableRequestLogging: options.logLevel !== 'debug' && options.logLevel !== 'trace',
    }),
    // Batches of 1000 tasks with their inputs exceed Fastify's 1 MiB default.
    bodyLimit: 16 * 1024 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  await app.register(swagger, {
    openapi: {
      info: { title: 'taskhub', version: '0.1.0', description: 'ML task orchestration: native API and four dialects' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.setErrorHandler((error, request, reply) => {
    const classified = classifyError(error);
    if (classified.internal) request.log.error({ err: error }, 'unexpected error');
    return reply.code(classified.status).send({ error: { code: classified.code, message: classified.message } });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no route ${request.method} ${request.url}` } }),
  );

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get(
    '/health',
    { schema: { tags: ['operations'], response: { 200: Type.Object({ status: Type.String() }) } } },
    async () => ({ status: 'healthy' }),
  );
  app.get(
    '/ready',
    { schema: { tags: ['operations'], response: { 200: Type.Object({ status: Type.String() }), 503: Type.Object({ status: Type.String() }) } } },
    async (_request, reply) =>
      (await options.isReady().catch(() => false))
        ? { status: 'ready' }
        : reply.code(503).send({ status: 'not ready' }),
  );

  await app.register(nativeApi(context), { prefix: '/v1' });
  return app;
}
