import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { HttpContainerExecutor } from '../src/executors/http-container-executor.js';
import { ExecutorHarness } from './helpers/executor-context.js';

const harness = new ExecutorHarness();
afterAll(() => harness.cleanup());

interface Container {
  url: string;
  bodies: unknown[];
  /** Resolves when the next request has arrived (its body read). */
  nextRequest(): Promise<void>;
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A container on 127.0.0.1: `answer` gets the parsed body and writes the response (or never does). */
async function container(answer: (body: any, response: ServerResponse) => void): Promise<Container> {
  const bodies: unknown[] = [];
  const arrived: Array<() => void> = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    let raw = '';
    request.on('data', (chunk) => (raw += chunk));
    request.on('end', () => {
      expect(`${request.method} ${request.url}`).toBe('POST /service_output');
      expect(request.headers['content-type']).toBe('application/json');
      const body = JSON.parse(raw);
      bodies.push(body);
      for (const resolve of arrived.splice(0)) resolve();
      answer(body, response);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    bodies,
    nextRequest: () => new Promise((resolve) => arrived.push(resolve)),
  };
}

const json = (status: number, value: unknown) => (_body: unknown, response: ServerResponse) => {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
};

describe('http container executor (Infernet chain)', () => {
  it("passes container 1's output to container 2, records the intermediate result, answers the last output", async () => {
    const tokenizer = await container((body, response) => json(200, { tokens: String(body.data.text).split(' ') })(body, response));
    const counter = await container((body, response) => json(200, { count: body.data.tokens.length })(body, response));
    // One URL from the executor's own configuration, one from the task: the executor's wins.
    const executor = new HttpContainerExecutor({ containers: { tokenize: tokenizer.url } });
    const context = harness.context({
      containers: ['tokenize', 'count'],
      input: { text: 'a b c', requires_proof: true },
      execution: { containerUrls: { tokenize: 'http://127.0.0.1:1', count: `${counter.url}/` } },
    });
    expect(await executor.run(context)).toEqual({ status: 'completed', result: { count: 3 } });
    expect(tokenizer.bodies).toEqual([{ source: 1, destination: 1, data: { text: 'a b c', requires_proof: true }, requires_proof: true }]);
    expect(counter.bodies).toEqual([{ source: 1, destination: 1, data: { tokens: ['a', 'b', 'c'] }, requires_proof: true }]);
    expect(context.intermediateResults).toEqual([{ container: 'tokenize', output: { tokens: ['a', 'b', 'c'] } }]);
    expect(context.statuses).toEqual(['running']);
  });

  it('a 500 from container 2 fails with {container, error}, the intermediate result kept', async () => {
    const first = await container(json(200, { step: 1 }));
    const second = await container((_body, response) => response.writeHead(500).end('model crashed'));
    const executor = new HttpContainerExecutor({ containers: { first: first.url, second: second.url } });
    const context = harness.context({ containers: ['first', 'second'], input: 'x' });
    expect(await executor.run(context)).toEqual({
      status: 'failed',
      error: 'container second: HTTP 500: model crashed',
      result: { container: 'second', error: 'HTTP 500: model crashed' },
    });
    expect(second.bodies).toEqual([{ source: 1, destination: 1, data: { step: 1 }, requires_proof: false }]);
    expect(context.intermediateResults).toEqual([{ container: 'first', output: { step: 1 } }]);
  });

  it('a body that is not JSON, and a container that does not listen, fail naming the container', async () => {
    const text = await container((_body, response) => response.writeHead(200).end('plain words'));
    const gone = await container(json(200, {}));
    await new Promise((resolve) => servers.pop()!.close(resolve));
    const executor = new HttpContainerExecutor({ containers: { text: text.url, closed: gone.url } });
    expect(await executor.run(harness.context({ containers: ['text'], input: 1 }))).toMatchObject({
      status: 'failed',
      result: { container: 'text', error: 'not JSON: plain words' },
    });
    expect(await executor.run(harness.context({ containers: ['closed'], input: 1 }))).toMatchObject({
      status: 'failed',
      result: { container: 'closed', error: expect.stringContaining('ECONNREFUSED') },
    });
  });

  it('a hanging container fails quickly with a 200 ms call timeout', async () => {
    const hanging = await container(() => {});
    const executor = new HttpContainerExecutor({ containers: { slow: hanging.url }, callTimeoutMs: 200 });
    const started = Date.now();
    const outcome = await executor.run(harness.context({ containers: ['slow'], input: 1 }));
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(outcome).toEqual({
      status: 'failed',
      error: 'container slow: no answer within 200 ms',
      result: { container: 'slow', error: 'no answer within 200 ms' },
    });
  });

  it('an abort during a call stops at once', async () => {
    const hanging = await container(() => {});
    const executor = new HttpContainerExecutor({ containers: { slow: hanging.url } });
    const context = harness.context({ containers: ['slow'], input: 1 });
    const arrived = hanging.nextRequest();
    const running = executor.run(context);
    await arrived;
    const aborted = Date.now();
    context.abort('cancelled');
    expect(await running).toEqual({ status: 'stopped' });
    expect(Date.now() - aborted).toBeLessThan(200);
  });

  it('an unknown container id fails before any call, naming it', async () => {
    const known = await container(json(200, {}));
    const executor = new HttpContainerExecutor({ containers: { known: known.url } });
    expect(await executor.run(harness.context({ containers: ['known', 'constructor'], input: 1 }))).toEqual({
      status: 'failed',
      error: 'unknown container: constructor (no URL configured)',
    });
    expect(known.bodies).toEqual([]);
  });
});
