// Baseline for bench/core.mjs: the cheapest Fastify server that still parses a JSON body.
// POST /echo parses the body and answers {"ok":true}. Started as a child process with PORT set.
import Fastify from 'fastify';

const port = Number(process.env.PORT ?? 0);
const app = Fastify({ logger: false });

app.post('/echo', async (request) => {
  if (typeof request.body !== 'object' || request.body === null) throw new Error('no JSON body');
  return { ok: true };
});
app.get('/health', async () => ({ status: 'healthy' }));

await app.listen({ host: '127.0.0.1', port });

const stop = () => app.close().then(() => process.exit(0), () => process.exit(1));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
