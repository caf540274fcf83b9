import { Kind, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { Value } from '@sinclair/typebox/value';
import type { FastifySchemaCompiler } from 'fastify';
import { validationError } from '../../domain/errors.js';

/**
 * Validates with TypeBox's compiler instead of the server's Ajv, which coerces types
 * (`coerceTypes`): there `{"project_id": 123}` passed as "123" and `{"priority": "5"}` as 5,
 * where Mimir AIP's Go decoder answers 400. Bodies are checked exactly as sent; query strings
 * and path parameters are text, so they are converted (and defaulted) first. The first
 * problem becomes a VALIDATION error whose message names the field and what it must be.
 */
export const strictValidatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const checker = TypeCompiler.Compile(schema);
  const fromText = httpPart === 'querystring' || httpPart === 'params';
  const part = httpPart === 'querystring' ? 'query' : (httpPart ?? 'body');
  return (data: unknown) => {
    const value = fromText ? Value.Convert(schema, Value.Default(schema, Value.Clone(data ?? {}))) : data;
    if (checker.Check(value)) return { value };
    const first = checker.Errors(value).First();
    return { error: validationError(first ? describeError(first, part) : `${part} is invalid`, { field: part }) };
  };
};

function describeError(error: ValueError, part: string): string {
  const field = fieldName(error.path, part);
  if (error.type === ValueErrorType.Union) {
    // A value of the right kind for one branch (an array for "string or array of strings"):
    // what is wrong inside it says more than the list of branches.
    const branch = (error.schema.anyOf as TSchema[]).findIndex((option) => sameKind(option, error.value));
    const inner = branch >= 0 ? error.errors[branch]?.First() : undefined;
    if (inner) return describeError(inner, part);
  }
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return `${field} is required`;
    case ValueErrorType.ObjectAdditionalProperties:
      return `${field} is not a known field`;
    case ValueErrorType.StringMinLength:
      if (error.schema.minLength === 1) return `${field} must not be empty`;
      break;
    case ValueErrorType.Union:
    case ValueErrorType.String:
    case ValueErrorType.Number:
    case ValueErrorType.Integer:
    case ValueErrorType.Boolean:
    case ValueErrorType.Array:
    case ValueErrorType.Object:
      return `${field} must be ${expected(error.schema)}`;
  }
  return `${field}: ${error.message.replace(/^Expected /, 'expected ')}`;
}

/** "/resource_requirements/cpu" → "resource_requirements.cpu"; "/a/0" → "a[0]"; "" → the part. */
function fieldName(path: string, part: string): string {
  if (path === '') return part;
  return path
    .slice(1)
    .split('/')
    .map((key, index) => (/^\d+$/.test(key) ? `[${key}]` : `${index === 0 ? '' : '.'}${key || '""'}`))
    .join('');
}

function sameKind(schema: TSchema, value: unknown): boolean {
  if (Array.isArray(value)) return schema[Kind] === 'Array';
  if (value !== null && typeof value === 'object') return schema[Kind] === 'Object' || schema[Kind] === 'Record';
  return false;
}

function expected(schema: TSchema): string {
  switch (schema[Kind]) {
    case 'Union': {
      const options = (schema.anyOf as TSchema[]) ?? [];
      if (options.every((option) => option[Kind] === 'Literal')) {
        return `one of ${options.map((option) => String(option.const)).join(', ')}`;
      }
      return options.map(expected).join(' or ');
    }
    case 'String':
      return 'a string';
    case 'Number':
      return 'a number';
    case 'Integer':
      return 'an integer';
    case 'Boolean':
      return 'true or false';
    case 'Array':
      return `an array of ${expected(schema.items as TSchema).replace(/^an? /, '')}s`;
    case 'Null':
      return 'null';
    case 'Literal':
      return JSON.stringify(schema.const);
    default:
      return 'an object';
  }
}
