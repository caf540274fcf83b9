import type { JsonObject, JsonValue } from '../domain/json.js';

/** The shape checks executors make on a task's free-form JSON (input, execution, hyperparams). */
export const isJsonObject = (value: JsonValue | undefined): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export const isStringArray = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((item) => typeof item === 'string');
