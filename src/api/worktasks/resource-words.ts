import { validationError } from '../../domain/errors.js';
import { parseBytes, parseCpuMillis } from '../../domain/quantity.js';
import type { ResourceRequirements } from '../../domain/resources.js';
import type { ResourceRequirementsBody, ResourceRequirementsView } from './schemas.js';

type Quantity = string | number | undefined;

/**
 * An empty string means "no requirement": Mimir's Go clients send the zero value of
 * every field (`{"cpu":"","memory":"","gpu":false}`).
 */
function quantity(value: Quantity, field: string, parse: (value: string | number) => number | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const parsed = parse(value);
  if (parsed === undefined) {
    throw validationError(`resource_requirements.${field}: cannot read ${JSON.stringify(value)} as a quantity`, {
      field: `resource_requirements.${field}`,
    });
  }
  return parsed;
}

/** Mimir's resource_requirements (Kubernetes quantities, `gpu` a flag or a count) → what a worker must offer. */
export function toResources(body: ResourceRequirementsBody | undefined): Partial<ResourceRequirements> {
  if (!body) return {};
  const resources: Partial<ResourceRequirements> = {};
  const cpu = quantity(body.cpu, 'cpu', parseCpuMillis);
  const memory = quantity(body.memory, 'memory', parseBytes);
  const gpuMemory = quantity(body.gpu_memory, 'gpu_memory', parseBytes);
  if (cpu !== undefined) resources.cpuMillis = cpu;
  if (memory !== undefined) resources.memoryBytes = memory;
  if (gpuMemory !== undefined) resources.gpuMemoryBytes = gpuMemory;
  if (body.gpu !== undefined) resources.gpuCount = typeof body.gpu === 'boolean' ? Number(body.gpu) : body.gpu;
  if (body.max_execution_seconds !== undefined) resources.maxExecutionSeconds = body.max_execution_seconds;
  return resources;
}

/** Back to Mimir's words, in Kubernetes' canonical forms: 500 millicores → "500m", 2^31 bytes → "2Gi". */
export function toResourceWords(resources: ResourceRequirements): ResourceRequirementsView {
  const view: ResourceRequirementsView = {
    cpu: formatCpu(resources.cpuMillis),
    memory: formatBytes(resources.memoryBytes),
    gpu: resources.gpuCount > 0,
  };
  // Extensions: shown when set, so a task submitted without them echoes Mimir's three fields.
  if (resources.gpuCount > 1) view.gpu_count = resources.gpuCount;
  if (resources.gpuMemoryBytes > 0) view.gpu_memory = formatBytes(resources.gpuMemoryBytes);
  if (resources.maxExecutionSeconds > 0) view.max_execution_seconds = resources.maxExecutionSeconds;
  return view;
}

/** Zero is Go's zero value, "": no requirement. */
function formatCpu(millis: number): string {
  if (millis === 0) return '';
  return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`;
}

// Largest first, binary before decimal where they are close: the first that divides gives the shortest form.
const UNITS: Array<[string, number]> = [
  ['Pi', 2 ** 50],
  ['P', 1e15],
  ['Ti', 2 ** 40],
  ['T', 1e12],
  ['Gi', 2 ** 30],
  ['G', 1e9],
  ['Mi', 2 ** 20],
  ['M', 1e6],
  ['Ki', 2 ** 10],
  ['k', 1e3],
];

/** The largest unit that divides the amount exactly, else plain bytes. */
function formatBytes(bytes: number): string {
  if (bytes === 0) return '';
  const unit = UNITS.find(([, size]) => bytes % size === 0);
  return unit ? `${bytes / unit[1]}${unit[0]}` : String(bytes);
}
