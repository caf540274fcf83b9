import { parseBytes, parseCpuMillis } from '../domain/quantity.js';
import { EXECUTORS, isExecutorName, type ExecutorName } from '../domain/execution.js';

/** What `taskhub worker` is told by its flags and environment. Unset resources are detected. */
export interface AgentOptions {
  serverUrl: string;
  token: string;
  name: string;
  queues: string[];
  concurrency: number;
  /**
   * Tasks claimed ahead of free slots and held (under lease) until one frees: one claim then
   * fetches many short tasks (graphile-worker's local queue does the same).
   */
  prefetch: number;
  cpuMillis?: number;
  memoryBytes?: number;
  gpuCount?: number;
  gpuMemoryBytes?: number;
  labels: Record<string, string>;
  executors: ExecutorName[];
  /** Infernet containers this agent can call: id → base URL. */
  containers: Record<string, string>;
  /** A stopped or timed-out workload gets SIGTERM, then SIGKILL after this. */
  stopGraceMs: number;
  /** On SIGTERM, running tasks get this long to finish before they are handed back. */
  drainMs: number;
  /** Longest a claim waits at the server for work (long poll). */
  claimWaitMs: number;
  workDir: string;
  /** docker: the engine (a socket path, unix://…, tcp://host:port); default DOCKER_HOST, else /var/run/docker.sock. */
  dockerHost?: string;
  /** kubernetes: the kubeconfig file (default: KUBECONFIG, else ~/.kube/config), extra contexts tasks may pick, the namespace. */
  kubeconfig?: string;
  kubeContexts: string[];
  kubeNamespace?: string;
}

export class AgentOptionsError extends Error {}

export const AGENT_USAGE = `taskhub worker — run tasks for a taskhub server

Usage: taskhub worker [flags]
  --server URL          server to work for (env TASKHUB_SERVER_URL; default http://127.0.0.1:8080)
  --token T             bearer token (env TASKHUB_WORKER_TOKEN, else TASKHUB_API_TOKEN)
  --name N              worker name (default: the host name)
  --queues a,b          queues to serve (default: default)
  --concurrency N       tasks run at once (default: 4)
  --prefetch N          tasks claimed ahead of free slots, held until one frees (default: 0)
  --cpu Q               CPUs offered, e.g. 4 or 3500m (default: detected)
  --memory Q            memory offered, e.g. 8Gi (default: detected)
  --gpus N              GPUs offered (default: detected with nvidia-smi)
  --gpu-memory Q        memory of each GPU, e.g. 16Gi (default: detected)
  --label k=v           a label (repeatable)
  --executors list      executors offered, from ${EXECUTORS.join(', ')} (default: builtin,process,http)
  --container id=url    an HTTP model container (Infernet style) this worker can call (repeatable)
  --stop-grace S        seconds between SIGTERM and SIGKILL of a stopped workload (default: 5)
  --drain S             seconds running tasks get to finish on SIGTERM before they are handed back (default: 10)
  --work-dir DIR        where tasks get their scratch directories (default: the OS temp directory)
  --docker-host H       docker: the engine, a socket path or tcp://host:port (default: DOCKER_HOST, else /var/run/docker.sock)
  --kubeconfig PATH     kubernetes: the kubeconfig (default: KUBECONFIG, else ~/.kube/config); its current context is the default cluster
  --kube-contexts a,b   kubernetes: other contexts (clusters) a task may prefer with execution.cluster
  --kube-namespace NS   kubernetes: the namespace of the Jobs (default: the context's, else default)`;

/** Every flag, as AGENT_USAGE lists them. */
const FLAGS = new Set(AGENT_USAGE.match(/^ {2}--[a-z-]+/gm)!.map((flag) => flag.trim()));

const DEFAULT_EXECUTORS: ExecutorName[] = ['builtin', 'process', 'http'];

function quantity(flag: string, value: string, parse: (raw: string) => number | undefined): number {
  const parsed = parse(value);
  if (parsed === undefined) throw new AgentOptionsError(`${flag}: cannot read "${value}" as a quantity`);
  return parsed;
}

function integer(flag: string, value: string, min: number, max: number): number {
  const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) throw new AgentOptionsError(`${flag} must be an integer from ${min} to ${max}`);
  return parsed;
}

function pair(flag: string, value: string): [string, string] {
  const at = value.indexOf('=');
  if (at <= 0) throw new AgentOptionsError(`${flag} takes key=value, got "${value}"`);
  return [value.slice(0, at), value.slice(at + 1)];
}

/** Reads flags (`--flag value` or `--flag=value`) over the environment's defaults. */
export function parseAgentOptions(argv: string[], env: Record<string, string | undefined>, hostname: string, tmpdir: string): AgentOptions {
  const options: AgentOptions = {
    serverUrl: env.TASKHUB_SERVER_URL || 'http://127.0.0.1:8080',
    token: env.TASKHUB_WORKER_TOKEN || env.TASKHUB_API_TOKEN || '',
    name: hostname,
    queues: ['default'],
    concurrency: 4,
    prefetch: 0,
    labels: {},
    executors: DEFAULT_EXECUTORS,
    containers: {},
    stopGraceMs: 5_000,
    drainMs: 10_000,
    claimWaitMs: 30_000,
    workDir: tmpdir,
    kubeContexts: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    if (!FLAGS.has(flag)) throw new AgentOptionsError(`unknown flag ${flag}`);
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new AgentOptionsError(`${flag} needs a value`);
    switch (flag) {
      case '--server':
        if (!/^https?:\/\/[^/]+/.test(value)) throw new AgentOptionsError(`--server must be an http(s) URL, got "${value}"`);
        options.serverUrl = value.replace(/\/+$/, '');
        break;
      case '--token':
        options.token = value;
        break;
      case '--name':
        options.name = value;
        break;
      case '--queues':
        options.queues = value.split(',').filter(Boolean);
        if (options.queues.length === 0) throw new AgentOptionsError('--queues needs at least one queue');
        break;
      case '--concurrency':
        options.concurrency = integer(flag, value, 1, 1000);
        break;
      case '--prefetch':
        options.prefetch = integer(flag, value, 0, 10_000);
        break;
      case '--cpu':
        options.cpuMillis = quantity(flag, value, parseCpuMillis);
        break;
      case '--memory':
        options.memoryBytes = quantity(flag, value, parseBytes);
        break;
      case '--gpus':
        options.gpuCount = integer(flag, value, 0, 1024);
        break;
      case '--gpu-memory':
        options.gpuMemoryBytes = quantity(flag, value, parseBytes);
        break;
      case '--label': {
        const [key, labelValue] = pair(flag, value);
        options.labels[key] = labelValue;
        break;
      }
      case '--executors': {
        const names = value.split(',').filter(Boolean);
        const unknown = names.filter((name) => !isExecutorName(name));
        if (unknown.length || names.length === 0) throw new AgentOptionsError(`--executors: unknown ${unknown.join(', ') || '(none given)'}; known: ${EXECUTORS.join(', ')}`);
        options.executors = names as ExecutorName[];
        break;
      }
      case '--container': {
        const [id, url] = pair(flag, value);
        if (!/^https?:\/\//.test(url)) throw new AgentOptionsError(`--container ${id}: "${url}" is not an http(s) URL`);
        options.containers[id] = url.replace(/\/+$/, '');
        break;
      }
      case '--stop-grace':
        options.stopGraceMs = integer(flag, value, 0, 3600) * 1000;
        break;
      case '--drain':
        options.drainMs = integer(flag, value, 0, 86_400) * 1000;
        break;
      case '--work-dir':
        options.workDir = value;
        break;
      case '--docker-host':
        options.dockerHost = value;
        break;
      case '--kubeconfig':
        options.kubeconfig = value;
        break;
      case '--kube-contexts':
        options.kubeContexts = value.split(',').filter(Boolean);
        break;
      case '--kube-namespace':
        options.kubeNamespace = value;
        break;
    }
  }
  return options;
}
