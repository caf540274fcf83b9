import type Docker from 'dockerode';
import type { ExecutorName } from '../domain/execution.js';
import { BuiltinExecutor } from '../executors/builtin/builtin-executor.js';
import type { Executor } from '../executors/executor.js';
import { HttpContainerExecutor } from '../executors/http-container-executor.js';
import { ProcessExecutor } from '../executors/process-executor.js';
import type { AgentOptions } from './agent-options.js';

/**
 * The executors an agent offers, built from its options. The docker and kubernetes clients are
 * loaded only by agents that offer them: importing both takes about 600 ms, on every start of
 * every worker (and of `npm start`'s local one) that would never use them.
 */
export async function createExecutors(options: AgentOptions): Promise<Executor[]> {
  const factories: Record<ExecutorName, () => Promise<Executor>> = {
    builtin: async () => new BuiltinExecutor(),
    process: async () => new ProcessExecutor(),
    http: async () => new HttpContainerExecutor({ containers: options.containers }),
    docker: async () => {
      const { DockerExecutor } = await import('../executors/docker-executor.js');
      return new DockerExecutor({ connection: dockerConnection(options.dockerHost) });
    },
    kubernetes: async () => {
      const [{ KubernetesExecutor }, { KubeConfig }] = await Promise.all([import('../executors/kubernetes-executor.js'), import('@kubernetes/client-node')]);
      const kubeConfig = new KubeConfig();
      if (options.kubeconfig) kubeConfig.loadFromFile(options.kubeconfig);
      else kubeConfig.loadFromDefault();
      return new KubernetesExecutor({ kubeConfig, contexts: options.kubeContexts, namespace: options.kubeNamespace });
    },
  };
  return Promise.all(options.executors.map((name) => factories[name]()));
}

/** `--docker-host` as dockerode takes it; undefined lets docker-modem read DOCKER_HOST as the docker CLI does. */
export function dockerConnection(host: string | undefined): Docker.DockerOptions | undefined {
  if (!host) return undefined;
  if (host.startsWith('/')) return { socketPath: host };
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) };
  const url = new URL(host.replace(/^tcp:\/\//, 'http://'));
  return { protocol: url.protocol === 'https:' ? 'https' : 'http', host: url.hostname, port: Number(url.port || 2375) };
}
