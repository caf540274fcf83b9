import Docker from 'dockerode';
import { containerSpecFor } from './container-spec.js';
import { containerCreateBody, createContainer } from './docker/create-container.js';
import { runContainer } from './docker/run-container.js';
import type { ExecutionContext, ExecutionOutcome, Executor } from './executor.js';

export interface DockerExecutorOptions {
  /**
   * How to reach the engine: `socketPath`, or `host`, `port` and `protocol`. Default: what the
   * docker CLI uses, DOCKER_HOST (read by docker-modem), else /var/run/docker.sock.
   */
  connection?: Docker.DockerOptions;
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Runs a task's image in a container on one Docker engine: creates it (pulling the image when
 * the engine lacks it), starts it, forwards its log, waits for it, and always removes it.
 */
export class DockerExecutor implements Executor {
  readonly name = 'docker' as const;
  private readonly docker: Docker;

  constructor(options: DockerExecutorOptions = {}) {
    this.docker = new Docker(options.connection);
  }

  async run(context: ExecutionContext): Promise<ExecutionOutcome> {
    const prepared = containerSpecFor(context.task);
    if (!prepared.ok) return { status: 'failed', error: `docker: ${prepared.error}` };
    if (context.signal.aborted) return { status: 'stopped' };
    let container: Docker.Container;
    try {
      const body = containerCreateBody(context.task, prepared.spec);
      container = await createContainer(this.docker, body, (message) => context.log('system', message));
    } catch (error) {
      return { status: 'failed', error: `docker: the container could not be created: ${messageOf(error)}` };
    }
    context.spawned({ externalJobName: container.id });
    try {
      return await runContainer(this.docker, container, context);
    } catch (error) {
      return { status: 'failed', error: `docker: ${messageOf(error)}` };
    } finally {
      await container.remove({ force: true }).catch((error: unknown) => {
        context.log('system', `docker: container ${container.id} could not be removed: ${messageOf(error)}`);
      });
    }
  }
}
