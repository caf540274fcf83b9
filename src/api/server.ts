import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import Fastify, { LogController, type FastifyInstance, type FastifyReply } from 'fastify';
import { TaskhubError } from '../domain/errors.js';
import { classifyError } from './errors.js';
import { registerPrometheus } from './metrics/prometheus.js';
import type { ApiContext } from './native/context.js';
import { nativeApi } from './native/plugin.js';
import { MIMIR_PATH_PREFIXES, mimirApi, mimirErrorBody } from './worktasks/plugin.js';

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
    // Ids may be 256 characters (IdParams); the router's default limit of 100 answered 414 before them.
    routerOptions: { maxParamLength: 1024 },
    // Errors the router raises before any route (a bad %-escape, an over-long parameter) get our error body too.
    frameworkErrors: (error, request, reply: FastifyReply) => {
      const classified = classifyError(error);
      const mimir = MIMIR_PATH_PREFIXES.some((prefix) => request.url.startsWith(prefix));
      return reply
        .code(classified.status)
        .send(mimir ? mimirErrorBody(classified.message) : { error: { code: classified.code, message: classified.message } });
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  await app.register(swagger, {
    openapi: {
      info: { title: 'taskhub', version: '0.1.0', description: 'ML task orchestration: native API and four dialects' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  registerPrometheus(app, context.tasks);

  app.setErrorHandler((error, request, reply) => {
    const classified = classifyError(error);
    if (classified.internal) request.log.error({ err: error }, 'unexpected error');
    return reply.code(classified.status).send({ error: { code: classified.code, message: classified.message } });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no route ${request.method} ${request.url}` } }),
  );

  // Values no database keeps as sent, refused before a handler passes them on (they were 500s):
  // Infinity (Ajv coerces the text "1e400" to it and then skips its range checks; JSON.parse
  // reads 1e400 as it), and the NUL character (PostgreSQL refuses it in text and jsonb; refused
  // on SQLite too, so that both engines take the same tasks).
  app.addHook('preHandler', async (request) => {
    for (const [part, value] of [['querystring', request.query], ['params', request.params], ['body', request.body]] as const) {
      const problem = unstorableValue(value, part);
      if (problem) throw new TaskhubError('VALIDATION', problem.message, { field: problem.field });
    }
  });

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
  await app.register(mimirApi({ tasks: context.tasks, workerAuthToken: context.workerAuthToken }));
  return app;
}

/** What no store keeps as sent: a non-finite number, a string or key with the NUL character. */
function unstorableProblem(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : 'must be a finite number';
  if (typeof value === 'string') return value.includes('\u0000') ? 'must not contain the NUL character (\\u0000)' : undefined;
  return undefined;
}

/**
 * The first value inside a parsed request part that no store keeps as sent, if any. Runs on
 * every request, so the common case is one pass without paths (a quarter of JSON.parse's time
 * on a batch of 1000 tasks); the path is worked out only when there is a problem.
 */
function unstorableValue(root: unknown, part: string): { field: string; message: string } | undefined {
  const stack: unknown[] = [root];
  let found = false;
  while (stack.length > 0 && !found) {
    const current = stack.pop();
    if (current === null || typeof current !== 'object') found = unstorableProblem(current) !== undefined;
    else if (Array.isArray(current)) for (const item of current) stack.push(item);
    else if (!ArrayBuffer.isView(current)) {
      for (const key in current) {
        if (key.includes('\u0000')) found = true;
        stack.push((current as Record<string, unknown>)[key]);
      }
    }
  }
  if (!found) return undefined;
  const paths: Array<[unknown, string]> = [[root, part]];
  for (let item = paths.pop(); item; item = paths.pop()) {
    const [current, field] = item;
    const problem = unstorableProblem(current);
    if (problem) return { field, message: `${field} ${problem}` };
    if (current === null || typeof current !== 'object' || ArrayBuffer.isView(current)) continue;
    for (const key in current) {
      if (key.includes('\u0000')) return { field, message: `${field} has a key with the NUL character (\\u0000)` };
      paths.push([(current as Record<string, unknown>)[key], `${field}/${key}`]);
    }
  }
  return undefined;
}
