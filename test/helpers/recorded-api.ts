import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';

/**
 * A loopback HTTP server that plays back recorded API exchanges (test/fixtures/<api>/*.json)
 * and checks that each request is the one recorded. Anything unexpected is answered 500 and
 * kept in `problems`; `verify()` fails the test on any problem or on an exchange never asked for.
 */
export interface RecordedRequest {
  method: string;
  path: string;
  /** Only the keys given are compared (the relevant ones). */
  query?: Record<string, string>;
  /** Compared as a subset: every field given must be in the request with the same value. */
  body?: unknown;
}

export interface RecordedResponse {
  status: number;
  headers?: Record<string, string>;
  /** JSON (sent as application/json unless headers say otherwise) or a string sent as is. */
  body?: unknown;
  /** A newline-delimited JSON stream (Docker's pull progress). */
  jsonLines?: unknown[];
  /** Docker's multiplexed stdout/stderr stream (8-byte frame headers), built from these frames. */
  multiplexed?: { stream: 'stdout' | 'stderr'; data: string }[];
  /** Held until a request with this "METHOD path" has arrived (a wait answered by a stop). */
  after?: string;
}

export interface RecordedExchange {
  request: RecordedRequest;
  response: RecordedResponse;
  /** Answers every matching request instead of the first only ("the Job is still active"). */
  repeat?: boolean;
}

export interface RecordedFixture {
  /** The documentation the answers come from. */
  source: string;
  description?: string;
  exchanges: RecordedExchange[];
}

export interface ReceivedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
}

const FIXTURES = new URL('../fixtures/', import.meta.url);

export function loadFixture(name: string): RecordedFixture {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as RecordedFixture;
}

export class RecordedApi {
  readonly received: ReceivedRequest[] = [];
  readonly problems: string[] = [];
  private readonly used = new Set<RecordedExchange>();
  private readonly arrived = new Set<string>();
  private readonly waiting = new Map<string, (() => void)[]>();

  private constructor(
    private readonly server: Server,
    private readonly exchanges: RecordedExchange[],
  ) {}

  /** Serves the exchanges of one or more fixtures, in order, on 127.0.0.1 and a free port. */
  static async serve(...fixtures: RecordedFixture[]): Promise<RecordedApi> {
    const server = createServer();
    const api = new RecordedApi(server, fixtures.flatMap((fixture) => fixture.exchanges));
    server.on('request', (request: IncomingMessage, response: ServerResponse) => void api.answer(request, response));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return api;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** "METHOD path" of every request, in arrival order. */
  calls(): string[] {
    return this.received.map(({ method, path }) => `${method} ${path}`);
  }

  /** Throws when a request was unexpected or did not match, or a recorded exchange was never asked for. */
  verify(): void {
    const missing = this.exchanges.filter((exchange) => !this.used.has(exchange));
    const problems = [
      ...this.problems,
      ...missing.map(({ request }) => `never requested: ${request.method} ${request.path}`),
    ];
    if (problems.length > 0) throw new Error(`recorded API:\n${problems.join('\n')}`);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://recorded');
    const received: ReceivedRequest = {
      method: request.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body: await readBody(request),
    };
    this.received.push(received);
    const key = `${received.method} ${received.path}`;
    this.arrived.add(key);
    for (const release of this.waiting.get(key) ?? []) release();
    this.waiting.delete(key);

    const exchange = this.exchanges.find(
      (candidate) =>
        (candidate.repeat || !this.used.has(candidate)) &&
        candidate.request.method === received.method &&
        candidate.request.path === received.path,
    );
    if (!exchange) return this.fail(response, `unexpected request: ${key}`);
    this.used.add(exchange);
    const mismatch = [
      ...differences(exchange.request.query ?? {}, received.query, 'query'),
      ...differences(exchange.request.body, received.body, 'body'),
    ];
    if (mismatch.length > 0) return this.fail(response, `${key} differs from the recording: ${mismatch.join('; ')}`);

    const { after } = exchange.response;
    if (after && !this.arrived.has(after)) {
      await new Promise<void>((resolve) => this.waiting.set(after, [...(this.waiting.get(after) ?? []), resolve]));
    }
    send(response, exchange.response);
  }

  private fail(response: ServerResponse, problem: string): void {
    this.problems.push(problem);
    response.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ message: problem }));
  }
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Where `actual` lacks or changes something `expected` has (objects compared as subsets). */
function differences(expected: unknown, actual: unknown, at: string): string[] {
  if (expected === undefined) return [];
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) {
      return [`${at}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
    }
    return expected.flatMap((item, index) => differences(item, actual[index], `${at}[${index}]`));
  }
  if (typeof expected === 'object' && expected !== null) {
    if (typeof actual !== 'object' || actual === null) return [`${at}: expected an object, got ${JSON.stringify(actual)}`];
    return Object.entries(expected).flatMap(([key, value]) =>
      differences(value, (actual as Record<string, unknown>)[key], `${at}.${key}`),
    );
  }
  return expected === actual ? [] : [`${at}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
}

function send(response: ServerResponse, recorded: RecordedResponse): void {
  const headers = { ...recorded.headers };
  let body: Buffer | string | undefined;
  if (recorded.multiplexed) {
    headers['content-type'] ??= 'application/vnd.docker.multiplexed-stream';
    body = Buffer.concat(recorded.multiplexed.map(({ stream, data }) => dockerFrame(stream, data)));
  } else if (recorded.jsonLines) {
    headers['content-type'] ??= 'application/json';
    body = recorded.jsonLines.map((line) => `${JSON.stringify(line)}\r\n`).join('');
  } else if (typeof recorded.body === 'string') {
    body = recorded.body;
  } else if (recorded.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(recorded.body);
  }
  response.writeHead(recorded.status, headers).end(body);
}

/** [stream type, 0, 0, 0, size as uint32 big-endian] then the payload (Docker's stdcopy). */
function dockerFrame(stream: 'stdout' | 'stderr', data: string): Buffer {
  const payload = Buffer.from(data, 'utf8');
  const header = Buffer.alloc(8);
  header.writeUInt8(stream === 'stdout' ? 1 : 2, 0);
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}
