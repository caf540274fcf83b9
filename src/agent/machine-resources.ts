import { execFile } from 'node:child_process';
import os from 'node:os';

export interface MachineResources {
  cpuMillis: number;
  memoryBytes: number;
  gpuCount: number;
  /** Memory of the smallest GPU: a task needing that much fits any of them. */
  gpuMemoryBytes: number;
}

/** CPUs and memory from the OS; GPUs from `nvidia-smi` when it is installed (none otherwise). */
export async function detectMachineResources(): Promise<MachineResources> {
  const gpuMemories = await nvidiaGpuMemories();
  return {
    cpuMillis: os.availableParallelism() * 1000,
    memoryBytes: os.totalmem(),
    gpuCount: gpuMemories.length,
    gpuMemoryBytes: gpuMemories.length ? Math.min(...gpuMemories) : 0,
  };
}

/** Each GPU's total memory in bytes, as `nvidia-smi` prints it in MiB. */
function nvidiaGpuMemories(): Promise<number[]> {
  return new Promise((resolve) => {
    execFile('nvidia-smi', ['--query-gpu=memory.total', '--format=csv,noheader,nounits'], { timeout: 5_000 }, (error, stdout) => {
      if (error) return resolve([]);
      resolve(parseNvidiaSmiMemory(stdout));
    });
  });
}

export function parseNvidiaSmiMemory(output: string): number[] {
  return output
    .split('\n')
    .map((line) => Number(line.trim()))
    .filter((mib) => Number.isFinite(mib) && mib > 0)
    .map((mib) => mib * 1024 * 1024);
}

/** What the flags say, and the machine's own figures for what they leave out. */
export async function resolveResources(given: Partial<MachineResources>): Promise<MachineResources> {
  const complete = given.cpuMillis !== undefined && given.memoryBytes !== undefined && given.gpuCount !== undefined && given.gpuMemoryBytes !== undefined;
  const detected = complete ? undefined : await detectMachineResources();
  return {
    cpuMillis: given.cpuMillis ?? detected!.cpuMillis,
    memoryBytes: given.memoryBytes ?? detected!.memoryBytes,
    gpuCount: given.gpuCount ?? detected!.gpuCount,
    gpuMemoryBytes: given.gpuMemoryBytes ?? detected!.gpuMemoryBytes,
  };
}
