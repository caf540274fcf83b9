import type { JsonObject, JsonValue } from '../../domain/json.js';

/** Answers inference tasks without training (sentiment, echo). */
export interface InferenceModel {
  infer(input: JsonValue): JsonValue;
}

/** What training made: `state` goes into model.json, `summary` into the training task's result. */
export interface Training {
  state: JsonValue;
  summary: JsonObject;
}

export type Predictor = (input: JsonValue) => JsonValue;

/** Trained by a training task; its inference tasks name `trained/<training task id>`. */
export interface TrainableModel {
  train(input: JsonValue): Promise<Training>;
  /** Rebuilds the predictor from the `state` that `train` made. */
  load(state: JsonValue): Promise<Predictor>;
}

export type ModelImplementation = InferenceModel | TrainableModel;

export function isTrainable(model: ModelImplementation): model is TrainableModel {
  return 'train' in model;
}
