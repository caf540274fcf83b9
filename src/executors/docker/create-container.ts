import type Docker from 'dockerode';
import type { Task } from '../../domain/task.js';
import type { ContainerSpec } from '../container-spec.js';

/** The label that ties a container to its task (`docker ps --filter label=taskhub.task-id=…`). */
export const TASK_ID_LABEL = 'taskhub.task-id';

/** POST /containers/create: the task's program, environment and resource limits. */
export function containerCreateBody(task: Task, spec: ContainerSpec): Docker.ContainerCreateOptions {
  const { cpuMillis, memoryBytes, gpuCount } = task.resources;
  const hostConfig: Docker.HostConfig = {};
  if (cpuMillis > 0) hostConfig.NanoCpus = Math.round(cpuMillis * 1e6);
  if (memoryBytes > 0) hostConfig.Memory = Math.ceil(memoryBytes);
  if (gpuCount > 0) hostConfig.DeviceRequests = [{ Driver: 'nvidia', Count: gpuCount, Capabilities: [['gpu']] }];
  return {
    Image: spec.image,
    ...(spec.entrypoint && { Entrypoint: spec.entrypoint }),
    ...(spec.args && { Cmd: spec.args }),
    Env: Object.entries(spec.env).map(([name, value]) => `${name}=${value}`),
    Labels: { [TASK_ID_LABEL]: task.id },
    HostConfig: hostConfig,
  };
}

/** Creates the container; when the engine lacks the image (404), pulls it and tries once more. */
export async function createContainer(
  docker: Docker,
  body: Docker.ContainerCreateOptions,
  log: (message: string) => void,
): Promise<Docker.Container> {
  try {
    return await create(docker, body);
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode !== 404) throw error;
  }
  log(`docker: image ${body.Image} is not on this engine; pulling it`);
  await pullImage(docker, body.Image!);
  log(`docker: pulled ${body.Image}`);
  return create(docker, body);
}

/**
 * dockerode also copies every create option into the query string (docker-modem's `dial`), which
 * would put the environment, input included, in the URL that proxies and the engine's debug log
 * keep; `_query`/`_body` is docker-modem's way to send the body alone.
 */
function create(docker: Docker, body: Docker.ContainerCreateOptions): Promise<Docker.Container> {
  return docker.createContainer({ _query: {}, _body: body } as Docker.ContainerCreateOptions);
}

interface PullEvent {
  status?: string;
  error?: string;
}

/** POST /images/create answers 200 at once and reports a failed pull inside its progress stream. */
async function pullImage(docker: Docker, image: string): Promise<void> {
  const progress = await docker.pull(image);
  const events = await new Promise<PullEvent[]>((resolve, reject) =>
    docker.modem.followProgress(progress, (error, result: PullEvent[]) => (error ? reject(error) : resolve(result))),
  );
  const failure = events.find((event) => event.error);
  if (failure) throw new Error(`pulling ${image} failed: ${failure.error}`);
}
