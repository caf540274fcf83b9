import type { JsonValue } from '../../domain/json.js';
import { isJsonObject } from '../json-checks.js';

/** The task's input does not suit the model: the task fails with this message. */
export class ModelInputError extends Error {
  override readonly name = 'ModelInputError';
}

/** `{ text }` or a plain string. */
export function textOf(input: JsonValue): string {
  if (typeof input === 'string') return input;
  if (isJsonObject(input) && typeof input.text === 'string') return input.text;
  throw new ModelInputError('input must be { "text": "..." } or a string');
}

/** A non-empty array of rows of finite numbers, every row as long as the first. */
export function numberMatrix(value: JsonValue | undefined, field: string): number[][] {
  if (!Array.isArray(value) || value.length === 0) throw new ModelInputError(`${field} must be a non-empty array of rows of numbers`);
  const width = Array.isArray(value[0]) ? value[0].length : 0;
  if (width === 0) throw new ModelInputError(`${field}[0] must be a non-empty array of numbers`);
  return value.map((row, index) => {
    if (!Array.isArray(row) || row.length !== width || !row.every(isFiniteNumber)) {
      throw new ModelInputError(`${field}[${index}] must be an array of ${width} numbers`);
    }
    return row as number[];
  });
}

export function isFiniteNumber(value: JsonValue): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
