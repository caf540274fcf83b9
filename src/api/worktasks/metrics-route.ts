import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { TaskService } from '../../core/task-service.js';
import { ErrorBody, MetricsView } from './schemas.js';
import { countsInWords } from './status-words.js';

/**
 * GET /api/metrics: Mimir's queue and task counts, read from the store, so every server
 * instance on one database answers the same. Every status word is listed, zero included.
 */
export function metricsRoute(tasks: TaskService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/metrics',
      { schema: { tags: ['mimir'], summary: 'Queue and task metrics', response: { 200: MetricsView, 500: ErrorBody } } },
      async () => {
        const [queues, byStatus, byType] = await Promise.all([tasks.queueDepths(), tasks.countByStatus(), tasks.countByType()]);
        const length = Object.values(queues).reduce((sum, depth) => sum + depth, 0);
        return { queue: { length, queues }, tasks_by_status: countsInWords(byStatus), tasks_by_type: byType, timestamp: new Date().toISOString() };
      },
    );
  };
}
