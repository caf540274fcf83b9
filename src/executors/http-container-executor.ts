import type { ExecutionSpec } from '../domain/execution.js';
import type { JsonObject, JsonValue } from '../domain/json.js';
import type { ExecutionContext, ExecutionOutcome, Executor } from './executor.js';
import { isJsonObject } from './json-checks.js';

export interface HttpContainerExecutorOptions {
  /** Container id → base URL (the agent's --container flags); wins over the task's containerUrls. */
  containers?: Record<string, string>;
  /** Per call; the Infernet node allows each container 180 s. */
  callTimeoutMs?: number;
}

/**
 * Infernet's job locations (ritual-net/infernet-node, shared/job.py): 0 on-chain, 1 off-chain,
 * 2 stream. taskhub's jobs are off-chain and answered by the API, so every call of a chain
 * reads from and delivers off-chain, as the node's offchain jobs do.
 */
const OFFCHAIN = 1;

/** How a container call went wrong: Infernet's failure shape `{container, error}`. */
class ContainerFailure extends Error {
  constructor(
    readonly container: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Runs a task's container chain the Infernet way: `POST <url>/service_output` for each
 * container in turn, the JSON output of one being the `data` of the next; the last output is
 * the result. Outputs before the last are the intermediate results, `{container, output}`, as
 * the node keeps them.
 */
export class HttpContainerExecutor implements Executor {
  readonly name = 'http';
  private readonly containers: Record<string, string>;
  private readonly callTimeoutMs: number;

  constructor(options: HttpContainerExecutorOptions = {}) {
    this.containers = options.containers ?? {};
    this.callTimeoutMs = options.callTimeoutMs ?? 180_000;
  }

  async run(context: ExecutionContext): Promise<ExecutionOutcome> {
    const { task } = context;
    if (task.containers.length === 0) return { status: 'failed', error: 'the task names no containers' };
    const configured = (task.execution as ExecutionSpec).containerUrls ?? {};
    const own = (urls: Record<string, string>, id: string) => (Object.hasOwn(urls, id) ? urls[id] : undefined);
    const urls = task.containers.map((id) => own(this.containers, id) ?? own(configured, id));
    const unknown = task.containers.filter((_, index) => typeof urls[index] !== 'string');
    if (unknown.length > 0) return { status: 'failed', error: `unknown container: ${unknown.join(', ')} (no URL configured)` };
    if (context.signal.aborted) return { status: 'stopped' };
    context.running();
    // Infernet's JobRequest carries requires_proof beside the data; taskhub keeps it in the input.
    const requiresProof = isJsonObject(task.input) && task.input.requires_proof === true;
    let data = task.input;
    for (const [index, container] of task.containers.entries()) {
      try {
        data = await this.call(container, urls[index]!, { source: OFFCHAIN, destination: OFFCHAIN, data, requires_proof: requiresProof }, context);
      } catch (error) {
        if (context.signal.aborted) return { status: 'stopped' };
        if (!(error instanceof ContainerFailure)) throw error;
        context.log('system', `container ${container} failed: ${error.message}`);
        return { status: 'failed', error: `container ${container}: ${error.message}`, result: { container, error: error.message } };
      }
      if (index < task.containers.length - 1) context.intermediateResult({ container, output: data });
    }
    return { status: 'completed', result: data };
  }

  private async call(container: string, baseUrl: string, body: JsonObject, context: ExecutionContext): Promise<JsonValue> {
    const started = Date.now();
    let text: string;
    let status: number;
    try {
      // The signal covers the body too: a container that sends headers and then stalls times out.
      const response = await fetch(`${baseUrl.replace(/\/+$/, '')}/service_output`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.any([context.signal, AbortSignal.timeout(this.callTimeoutMs)]),
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      throw new ContainerFailure(container, describeFetchError(error, this.callTimeoutMs));
    }
    if (status < 200 || status > 299) throw new ContainerFailure(container, `HTTP ${status}: ${text.slice(0, 1_000)}`);
    let output: JsonValue;
    try {
      output = JSON.parse(text) as JsonValue;
    } catch {
      // The node fails a job whose container answered something other than JSON with that text.
      throw new ContainerFailure(container, `not JSON: ${text.slice(0, 1_000)}`);
    }
    context.log('system', `container ${container} answered in ${Date.now() - started} ms`);
    return output;
  }
}

function describeFetchError(error: unknown, timeoutMs: number): string {
  if (error instanceof DOMException && error.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return error instanceof Error ? `${error.message}${cause}` : String(error);
}
