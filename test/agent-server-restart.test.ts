import { mkdtempSync, readFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startAgent, statusHistory, waitForStatus } from './helpers/agent-process.js';
import { freePort, killAllChildren, runCli, stopChild, waitReady, type Child } from './helpers/child-server.js';
import { call } from './helpers/server.js';

/**
 * The server dies (kill -9) while an agent runs a task, and comes back on the same database
 * after longer than a lease: the agent's log lines and result, held while the server was away,
 * still land, and the task ran once (a lease that ran out while no worker could reach the
 * server does not count).
 *
 * The agent talks to the server through a TCP relay on a port this test holds: restarted on
 * the port it had, the server could find it taken by another test file's server (the kernel
 * hands a freed port out again), and the agent would then report to that one.
 */
afterAll(() => killAllChildren());

/** Forwards each connection to the server's current port; a connection fails while none listens. */
function relay(): Promise<{ url: string; target: { port: number }; close: () => void }> {
  const target = { port: 0 };
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(target.port, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
      socket.on('close', () => sockets.delete(socket));
    }
    client.pipe(upstream).pipe(client);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      resolve({
        url: `http://127.0.0.1:${port}`,
        target,
        close: () => {
          for (const socket of sockets) socket.destroy();
          server.close();
        },
      });
    }),
  );
}

function serve(port: number, dir: string): Child {
  return runCli(['serve'], {
    TASKHUB_HOST: '127.0.0.1',
    TASKHUB_PORT: String(port),
    TASKHUB_DATABASE_URL: join(dir, 'taskhub.db'),
    TASKHUB_DATA_DIR: join(dir, 'blobs'),
    TASKHUB_LOCAL_WORKER: '0',
    TASKHUB_LOG_LEVEL: 'warn',
    // Shorter than the time the server is down, and swept for at once: the lease that ran out
    // meanwhile must not count before the agent has had a chance to heartbeat.
    TASKHUB_LEASE_MS: '2000',
    TASKHUB_LEASE_CHECK_MS: '20',
  });
}

describe('the server restarted mid-task', () => {
  it('receives the results the agent kept while it was down', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskhub-restart-'));
    const front = await relay();
    front.target.port = await freePort();
    let url = `http://127.0.0.1:${front.target.port}`;
    let server = serve(front.target.port, dir);
    await waitReady(server, url);
    const marker = join(dir, 'runs.log');
    const agent = startAgent(front.url);
    // Appends a line per start to the marker file, so a second run would show.
    const script = `const fs=require('fs'); fs.appendFileSync(${JSON.stringify(marker)}, 'run\\n'); console.log('started'); setTimeout(() => { console.log('done while the server was away'); console.log(JSON.stringify({ok:true})) }, 1500)`;
    const { body: task } = await call(url, 'POST', '/v1/tasks', { execution: { command: [process.execPath, '-e', script] } });
    await waitForStatus(url, task.id, ['running']);

    server.process.kill('SIGKILL');
    await server.exited;
    // Down for longer than the task has left to run: its end happens while nobody listens.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    front.target.port = await freePort();
    url = `http://127.0.0.1:${front.target.port}`;
    server = serve(front.target.port, dir);
    await waitReady(server, url);

    // The agent's retries back off up to 5 s, and a loaded CI machine restarts the server slowly.
    const done = await waitForStatus(url, task.id, ['completed', 'failed'], 40_000).catch(async (error: Error) => {
      // What the task and the agent were doing, so that a failure on CI says why.
      const { body: now } = await call(url, 'GET', `/v1/tasks/${task.id}`);
      const history = await statusHistory(url, task.id);
      throw new Error(`${error.message}; the task is ${now.status} (history ${history.join(' → ')}); the agent said:\n${agent.stderr}${agent.stdout}`);
    });
    expect(done.status, done.error).toBe('completed');
    const { body } = await call(url, 'GET', `/v1/tasks/${task.id}/logs`);
    // Each line once, even if a report was committed and then sent again because its answer was lost.
    const messages: string[] = body.lines.map((line: { message: string }) => line.message);
    for (const printed of ['started', 'done while the server was away']) expect(messages.filter((m) => m === printed)).toEqual([printed]);
    const changes = (await call(url, 'GET', `/v1/tasks/${task.id}/history`)).body.changes;
    expect(changes.map((c: { to: string }) => c.to), JSON.stringify(changes)).toEqual(['queued', 'assigned', 'spawned', 'running', 'completed']);
    expect(readFileSync(marker, 'utf8')).toBe('run\n');
    expect((await stopChild(agent)).code).toBe(0);
    await stopChild(server);
    front.close();
  }, 60_000);
});
