// taskhub: the built server (`node <its Node flags> dist/cli/main.js serve`, its in-process worker off) on a fresh
// SQLite file or a fresh PostgreSQL database, N agent processes (`taskhub worker --concurrency C
// --executors builtin`), builtin/echo tasks submitted through POST /v1/tasks/batch, and the
// completed count read from GET /v1/tasks?status=completed&limit=1.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { HttpClient, expectStatus } from '../http-client.mjs';
import { freePort, taskhubNodeFlags, taskhubServerEnv } from '../shared.mjs';
import { Child, stopAll } from './child.mjs';
import { timeDrain } from './drain.mjs';
import { createDatabase } from './postgres.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const DEFAULT_DIST = path.join(ROOT, 'dist');
const PROFILE_DIR = path.join(ROOT, 'bench', 'profiles');

/** Node's arguments for one taskhub process: with `--profile`, a CPU profile named after it. */
function profileArgs(profile, name) {
  return profile ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${name}.cpuprofile`] : [];
}

/** The server's CPU profile of a `--profile` run, written when it exits. */
export const serverProfile = (engine) => path.join(PROFILE_DIR, `e2e-${engine}-server.cpuprofile`);
const STARTUP_POLL_MS = 50;
const AGENT_NAME_PREFIX = 'bench-';

/** The CLI has no `worker` command yet: it answered with exit code 2 and its usage text. */
export class AgentUnavailable extends Error {}
const UNKNOWN_COMMAND = /unknown command/i;

function exitError(child) {
  // Exit code 2 is also the agent's answer to a bad flag: only an unknown command means "no agent".
  if (child.process.exitCode === 2 && UNKNOWN_COMMAND.test(child.output) && /usage/i.test(child.output)) {
    return new AgentUnavailable('agent not available');
  }
  return new Error(child.describeExit());
}

/** Polls `ready()` every 50 ms until it is true; fails as soon as one of `children` has exited. */
async function waitUntil(ready, children, signal) {
  for (;;) {
    for (const child of children) if (!child.alive) throw exitError(child);
    if (await ready()) return;
    await sleep(STARTUP_POLL_MS, undefined, { signal });
  }
}

async function startServer({ engine, cli, adminUrl, profile, cleanup, signal }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'taskhub-bench-e2e-'));
  cleanup.defer(dir, () => rmSync(dir, { recursive: true, force: true }));
  const databaseUrl = engine === 'postgres' ? await createDatabase({ cleanup, adminUrl, label: 'taskhub' }) : path.join(dir, 'taskhub.db');
  const port = await freePort();
  const env = taskhubServerEnv({ port, databaseUrl, dir });
  const args = [...taskhubNodeFlags(cli), ...profileArgs(profile, path.basename(serverProfile(engine), '.cpuprofile')), cli, 'serve'];
  const server = new Child(`taskhub-server-${engine}`, args, { cwd: ROOT, env });
  cleanup.defer(server.label, () => server.stop());
  const url = `http://127.0.0.1:${port}`;
  const client = new HttpClient(url);
  cleanup.defer(`${server.label} client`, () => client.close());
  const healthy = () => client.request('GET', '/health').then((response) => response.status === 200, () => false);
  await waitUntil(healthy, [server], signal);
  return { server, url, client };
}

function startAgents({ engine, cli, url, workers, concurrency, prefetch, profile, cleanup }) {
  const env = { ...process.env, TASKHUB_LOG_LEVEL: 'warn' };
  delete env.TASKHUB_CONFIG;
  const agents = Array.from({ length: workers }, (_, i) => {
    const args = [...taskhubNodeFlags(cli), ...profileArgs(profile, `e2e-${engine}-agent-${i}`), cli, 'worker', '--server', url, '--concurrency', String(concurrency), '--prefetch', String(prefetch), '--executors', 'builtin', '--name', `${AGENT_NAME_PREFIX}${i}`];
    return new Child(`taskhub-agent-${i}`, args, { cwd: ROOT, env });
  });
  cleanup.defer(`${workers} taskhub agents`, () => stopAll(agents));
  return agents;
}

export function taskhub(engine) {
  return {
    name: `taskhub (${engine})`,
    settings: ({ workers, concurrency, taskhubPrefetch }) =>
      `${engine === 'postgres' ? 'PostgreSQL' : 'SQLite'}; ${workers} agents (taskhub worker --concurrency ${concurrency} --prefetch ${taskhubPrefetch} --executors builtin); POST /v1/tasks/batch`,

    profile: serverProfile(engine),

    async run({ jobs, workers, concurrency, taskhubPrefetch, dist, adminUrl, profile, cleanup, signal, status }) {
      const cli = path.join(dist, 'cli', 'main.js');
      const { server, url, client } = await startServer({ engine, cli, adminUrl, profile, cleanup, signal });
      const agents = startAgents({ engine, cli, url, workers, concurrency, prefetch: taskhubPrefetch, profile, cleanup });
      const children = [server, ...agents];
      status.text = 'waiting for the agents to register';
      await waitUntil(
        async () => {
          const { workers: registered } = expectStatus(await client.request('GET', '/v1/workers'), 200, 'GET /v1/workers');
          return registered.filter((worker) => worker.name.startsWith(AGENT_NAME_PREFIX)).length >= workers;
        },
        children,
        signal,
      );
      try {
        return await timeDrain({
          jobs,
          children,
          signal,
          status,
          submitChunk: async (indexes) => {
            const body = { tasks: indexes.map((i) => ({ modelId: 'builtin/echo', input: { i } })) };
            expectStatus(await client.request('POST', '/v1/tasks/batch', body), 201, 'POST /v1/tasks/batch');
          },
          countCompleted: async () =>
            expectStatus(await client.request('GET', '/v1/tasks?status=completed&limit=1'), 200, 'GET /v1/tasks').total,
        });
      } catch (error) {
        const said = server.lastWords();
        throw said ? new Error(`${error.message}\n  the server said:${said}`) : error;
      }
    },
  };
}
