import type { InferenceModel } from './builtin-model.js';

/** The no-op model the benchmarks run: its answer is its input. */
export const echoModel: InferenceModel = {
  infer: (input) => input,
};
