/**
 * The closed set of errors the core raises. Each dialect maps `code` to its own
 * HTTP status and body shape in one place; anything else is an unexpected 500.
 */
export type ErrorCode =
  | 'VALIDATION'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'INVALID_TRANSITION'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'RATE_LIMITED'
  | 'PAYMENT_REQUIRED';

export class TaskhubError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'TaskhubError';
  }
}

export const validationError = (message: string, details?: Record<string, unknown>) =>
  new TaskhubError('VALIDATION', message, details);

export const notFound = (what: string, id: string) =>
  new TaskhubError('NOT_FOUND', `${what} ${id} not found`, { id });

export const conflict = (message: string, details?: Record<string, unknown>) =>
  new TaskhubError('CONFLICT', message, details);

export const invalidTransition = (id: string, from: string, to: string) =>
  new TaskhubError('INVALID_TRANSITION', `task ${id} cannot change from ${from} to ${to}`, {
    id,
    from,
    to,
  });

export function isTaskhubError(error: unknown): error is TaskhubError {
  return error instanceof TaskhubError;
}
