import type { FastifyInstance } from 'fastify';
import { Gauge, Histogram, Registry } from 'prom-client';
import type { TaskService } from '../../core/task-service.js';
import { TASK_STATUSES } from '../../domain/status.js';
import { TaskTimings } from './task-timings.js';

// From a 1 ms pickup (an idle long-polling worker) to an hour in a backlog.
const CLAIM_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];
// From a builtin model's few milliseconds to a day of training.
const DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200, 21_600, 86_400];
// Requests take well under a millisecond; a long-polling claim up to its wait (60 s by default).
const HTTP_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30, 60];

/**
 * GET /metrics in Prometheus' text format: queue depth per queue and tasks per status (read
 * from the store at each scrape, so the same on every instance), claim latency and task
 * duration (from task events), and every HTTP request by route and status code.
 * Registered on the root instance so that its hook sees every route registered after it.
 */
export function registerPrometheus(app: FastifyInstance, tasks: TaskService): void {
  const registry = new Registry();
  new Gauge({
    name: 'taskhub_queue_depth',
    help: 'Queued tasks per queue',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      const depths = await tasks.queueDepths();
      this.reset();
      for (const [queue, depth] of Object.entries(depths)) this.set({ queue }, depth);
    },
  });
  new Gauge({
    name: 'taskhub_tasks',
    help: 'Tasks per status',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const counts = await tasks.countByStatus();
      for (const status of TASK_STATUSES) this.set({ status }, counts[status] ?? 0);
    },
  });
  const claimLatency = new Histogram({
    name: 'taskhub_claim_latency_seconds',
    help: 'Time from a task being queued (or re-queued) to a worker taking it',
    buckets: CLAIM_BUCKETS,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'taskhub_task_duration_seconds',
    help: 'Time from a worker taking a task to its final status',
    labelNames: ['status'],
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const requests = new Histogram({
    name: 'taskhub_http_request_duration_seconds',
    help: 'HTTP requests by method, route and status code',
    labelNames: ['method', 'route', 'status_code'],
    buckets: HTTP_BUCKETS,
    registers: [registry],
  });

  const timings = new TaskTimings({
    claimLatency: (seconds) => claimLatency.observe(seconds),
    duration: (seconds, status) => duration.observe({ status }, seconds),
  });
  const unwatch = tasks.watch((event) => timings.record(event));
  app.addHook('onClose', async () => unwatch());

  app.addHook('onResponse', async (request, reply) => {
    // The route's pattern, not the URL: one series per route, whatever the ids in the path.
    const route = request.routeOptions.url ?? 'unmatched';
    requests.observe({ method: request.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });

  app.get('/metrics', { schema: { tags: ['operations'], summary: 'Prometheus metrics (text format)' } }, async (_request, reply) =>
    reply.header('content-type', registry.contentType).send(await registry.metrics()),
  );
}
