import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { ServerClient } from '../src/agent/server-client.js';
import { freePort } from './helpers/child-server.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A stand-in for the taskhub server's worker routes: every report taken, no task to stop. */
function fakeServer(port: number): Promise<Server> {
  const server = createServer((request, response) => {
    request.resume().on('end', () => {
      response.setHeader('content-type', 'application/json');
      response.end(request.url!.endsWith('/heartbeat') ? '{"stop":[]}' : '{"results":[]}');
    });
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

describe('the agent’s server client', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  it('tries a heartbeat once, and sends waiting calls at once when any call gets through', async () => {
    const port = await freePort();
    const client = new ServerClient(`http://127.0.0.1:${port}`, '');
    // Nobody listens: the heartbeat fails at once instead of retrying.
    await expect(client.heartbeat('w', [])).rejects.toThrow();
    // A report retries with backoff (100 ms doubling): by 1.7 s its next try is at least 0.8 s away.
    let delivered = 0;
    const report = client.report('w', []).then(() => (delivered = Date.now()));
    await sleep(1_700);
    server = await fakeServer(port);
    await client.heartbeat('w', []);
    const heartbeatAnswered = Date.now();
    await report;
    expect(delivered - heartbeatAnswered).toBeLessThan(400);
    client.close();
  });
});
