import http from 'node:http';
import https from 'node:https';
import { expandTask, type CompactTask } from '../domain/compact-task.js';
import type { JsonObject, JsonValue } from '../domain/json.js';
import type { LogStream, Task } from '../domain/task.js';
import { backoffDelayMs, pause } from './backoff.js';

/** An answer of the server that says the request itself was wrong (4xx): retrying cannot help. */
export class ServerRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Registration {
  id: string;
  name: string;
  queues: string[];
  resources: { cpu: number; memory: number; gpus: number; gpuMemory: number };
  labels: Record<string, string>;
  executors: string[];
}

export interface Claim {
  task: Task;
  secrets: JsonObject | null;
}

export interface WireLogLine {
  at: number;
  stream: LogStream;
  level: string;
  message: string;
  /** Its number in the task's run (1, 2, …): the server stores a line sent again once. */
  n?: number;
}

/** One report on the wire (the native API's ReportBody plus the task id). */
export interface WireReport {
  taskId: string;
  status?: 'spawned' | 'running' | 'completed' | 'failed' | 'timeout' | 'stopped' | 'queued';
  progress?: number;
  result?: JsonValue;
  intermediateResults?: JsonValue[];
  outputLocation?: string;
  error?: string;
  transient?: boolean;
  clusterName?: string;
  externalJobName?: string;
  message?: string;
  logs?: WireLogLine[];
  /** This run of the task, for the numbered log lines. */
  runId?: string;
}

export interface ReportResult {
  taskId: string;
  ok: boolean;
  status?: string;
  error?: { code: string; message: string };
}

/**
 * The agent's side of the native /v1 worker protocol. Every call but the heartbeat retries
 * network errors and 5xx answers with backoff until it succeeds or `signal` aborts, so a server
 * restart or outage costs time, never data; a 4xx answer is a ServerRefusal at once.
 */
export class ServerClient {
  private readonly headers: Record<string, string>;
  private readonly url: URL;
  // Long polls hold a connection each; the rest share a few kept-alive ones.
  private readonly connections: http.Agent;
  /**
   * Aborted when a request gets an answer while others wait to retry: the server is back, so
   * they go at once. Their backoff reaches 5 s; the heartbeat, sent every second at most,
   * ends it for all after a restart.
   */
  private serverBack: AbortController | undefined;

  constructor(
    baseUrl: string,
    token: string,
    private readonly onRetry: (error: unknown, attempt: number) => void = () => {},
  ) {
    this.headers = token ? { authorization: `Bearer ${token}` } : {};
    this.url = new URL(baseUrl);
    this.connections = new (this.url.protocol === 'https:' ? https.Agent : http.Agent)({ keepAlive: true });
  }

  async register(registration: Registration, signal?: AbortSignal): Promise<{ leaseMs: number; heartbeatMs: number }> {
    return this.json('POST', '/v1/workers', registration, signal);
  }

  /**
   * Tried once: the agent heartbeats again soon anyway, with the tasks it holds then. Retried
   * with backoff (up to 5 s apart) after an outage, it came too late for short leases, and
   * carried the list of tasks from before the outage.
   */
  async heartbeat(workerId: string, running: string[], signal?: AbortSignal): Promise<{ stop: string[] }> {
    return this.json('POST', `/v1/workers/${encodeURIComponent(workerId)}/heartbeat`, { running }, signal, { retry: false });
  }

  async unregister(workerId: string, signal?: AbortSignal): Promise<void> {
    await this.request('DELETE', `/v1/workers/${encodeURIComponent(workerId)}`, undefined, signal);
  }

  /** Long poll: answers at once when work is there, else after up to `waitMs`. */
  async claim(workerId: string, limit: number, waitMs: number, signal?: AbortSignal): Promise<Claim[]> {
    type WireClaim = { task: CompactTask; secrets?: JsonObject };
    const answer = await this.json<{ claims: WireClaim[] }>('POST', `/v1/workers/${encodeURIComponent(workerId)}/claim`, { limit, waitMs }, signal);
    return answer.claims.map((claim) => ({ task: expandTask(claim.task), secrets: claim.secrets ?? null }));
  }

  async report(workerId: string, reports: WireReport[], signal?: AbortSignal): Promise<ReportResult[]> {
    const answer = await this.json<{ results: ReportResult[] }>('POST', `/v1/workers/${encodeURIComponent(workerId)}/reports`, { reports }, signal);
    return answer.results;
  }

  async putBlob(taskId: string, name: string, data: Buffer, contentType: string, signal?: AbortSignal): Promise<void> {
    await this.request('PUT', `/v1/tasks/${encodeURIComponent(taskId)}/blobs/${encodeURIComponent(name)}`, { raw: data, contentType }, signal);
  }

  /** undefined when the task or blob does not exist. */
  async getBlob(taskId: string, name: string, signal?: AbortSignal): Promise<Buffer | undefined> {
    try {
      const answer = await this.request('GET', `/v1/tasks/${encodeURIComponent(taskId)}/blobs/${encodeURIComponent(name)}`, undefined, signal);
      return answer.body;
    } catch (error) {
      if (error instanceof ServerRefusal && error.status === 404) return undefined;
      throw error;
    }
  }

  /** Closes the kept-alive connections (a server shutting down waits for open ones). */
  close(): void {
    this.connections.destroy();
  }

  private async json<T>(method: string, path: string, body: unknown, signal?: AbortSignal, options?: { retry: boolean }): Promise<T> {
    const response = await this.request(method, path, body, signal, options);
    return JSON.parse(response.body.toString('utf8')) as T;
  }

  private async request(
    method: string,
    path: string,
    body: unknown,
    signal: AbortSignal | undefined,
    { retry } = { retry: true },
  ): Promise<HttpAnswer> {
    const raw = body as { raw?: Buffer; contentType?: string } | undefined;
    const isRaw = raw !== undefined && Buffer.isBuffer(raw.raw);
    const payload = body === undefined ? undefined : isRaw ? raw.raw! : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = { ...this.headers };
    if (payload) headers['content-type'] = isRaw ? raw.contentType! : 'application/json';
    for (let attempt = 0; ; attempt++) {
      signal?.throwIfAborted();
      let retryable: unknown;
      try {
        const answer = await send(this.url, this.connections, method, path, headers, payload, signal);
        if (answer.status < 500) this.serverReached();
        if (answer.status < 300) return answer;
        const text = answer.body.toString('utf8');
        if (answer.status < 500) throw refusal(answer.status, text);
        retryable = new Error(`server answered ${answer.status}: ${text.slice(0, 200)}`);
      } catch (error) {
        if (error instanceof ServerRefusal || signal?.aborted) throw error;
        retryable = error;
      }
      if (!retry) throw retryable;
      this.onRetry(retryable, attempt);
      this.serverBack ??= new AbortController();
      await pause(backoffDelayMs(attempt), signal ? AbortSignal.any([signal, this.serverBack.signal]) : this.serverBack.signal);
    }
  }

  private serverReached(): void {
    this.serverBack?.abort();
    this.serverBack = undefined;
  }
}

interface HttpAnswer {
  status: number;
  body: Buffer;
}

/** One HTTP exchange over the client's own keep-alive connections. */
function send(
  url: URL,
  connections: http.Agent,
  method: string,
  path: string,
  headers: Record<string, string>,
  payload: Buffer | undefined,
  signal: AbortSignal | undefined,
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? https : http).request(
      { host: url.hostname, port: url.port, method, path: url.pathname.replace(/\/$/, '') + path, headers, agent: connections, signal },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}

function refusal(status: number, text: string): ServerRefusal {
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
    return new ServerRefusal(status, body.error?.code ?? String(status), body.error?.message ?? text);
  } catch {
    return new ServerRefusal(status, String(status), text.slice(0, 500));
  }
}
