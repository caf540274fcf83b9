import { describe, expect, it } from 'vitest';
import { AgentOptionsError, parseAgentOptions } from '../src/agent/agent-options.js';
import { dockerConnection } from '../src/agent/executor-set.js';
import { parseNvidiaSmiMemory } from '../src/agent/machine-resources.js';

const parse = (argv: string[], env: Record<string, string> = {}) => parseAgentOptions(argv, env, 'host-1', '/tmp');

describe('taskhub worker flags', () => {
  it('reads every flag, in both --flag value and --flag=value forms, over the environment', () => {
    const options = parse(
      ['--server=http://hub:8080/', '--token', 't0k', '--queues', 'gpu,default', '--concurrency=8', '--cpu', '3500m', '--memory', '8Gi',
        '--gpus', '2', '--gpu-memory', '24GB', '--label', 'zone=eu', '--label', 'tier=a=b', '--executors', 'builtin,docker',
        '--container', 'llm=http://10.0.0.2:3000/', '--stop-grace', '2', '--drain', '0', '--kube-contexts', 'a,b'],
      { TASKHUB_SERVER_URL: 'http://ignored:1', TASKHUB_WORKER_TOKEN: 'ignored' },
    );
    expect(options).toMatchObject({
      serverUrl: 'http://hub:8080',
      token: 't0k',
      name: 'host-1',
      queues: ['gpu', 'default'],
      concurrency: 8,
      cpuMillis: 3500,
      memoryBytes: 8 * 1024 ** 3,
      gpuCount: 2,
      gpuMemoryBytes: 24 * 1024 ** 3, // "GB" as GPU vendors mean it (domain/quantity.ts)
      labels: { zone: 'eu', tier: 'a=b' },
      executors: ['builtin', 'docker'],
      containers: { llm: 'http://10.0.0.2:3000' },
      stopGraceMs: 2_000,
      drainMs: 0,
      kubeContexts: ['a', 'b'],
    });
  });

  it('takes the server and token from the environment when no flag gives them', () => {
    expect(parse([], { TASKHUB_SERVER_URL: 'http://hub:1', TASKHUB_API_TOKEN: 'api' })).toMatchObject({ serverUrl: 'http://hub:1', token: 'api' });
    expect(parse([], { TASKHUB_WORKER_TOKEN: 'w', TASKHUB_API_TOKEN: 'api' }).token).toBe('w');
  });

  it.each([
    [['--concurrency', '0'], '--concurrency must be an integer from 1 to 1000'],
    [['--memory', 'lots'], '--memory: cannot read "lots" as a quantity'],
    [['--executors', 'builtin,gpu-magic'], '--executors: unknown gpu-magic'],
    [['--container', 'llm'], '--container takes key=value'],
    [['--server', 'hub:8080'], '--server must be an http(s) URL'],
    [['--gpus'], '--gpus needs a value'],
    [['--fast'], 'unknown flag --fast'],
  ])('refuses %j naming the problem', (argv, message) => {
    expect(() => parse(argv)).toThrow(AgentOptionsError);
    expect(() => parse(argv)).toThrow(message);
  });

  it('reads the docker engine address as the docker CLI writes it', () => {
    expect(dockerConnection(undefined)).toBeUndefined();
    expect(dockerConnection('/run/docker.sock')).toEqual({ socketPath: '/run/docker.sock' });
    expect(dockerConnection('unix:///var/run/docker.sock')).toEqual({ socketPath: '/var/run/docker.sock' });
    expect(dockerConnection('tcp://10.0.0.5:2376')).toEqual({ protocol: 'http', host: '10.0.0.5', port: 2376 });
  });

  it('reads the GPU memory nvidia-smi prints (MiB per line)', () => {
    expect(parseNvidiaSmiMemory('24576\n81920\n')).toEqual([24576 * 1024 ** 2, 81920 * 1024 ** 2]);
    expect(parseNvidiaSmiMemory('')).toEqual([]);
  });
});
