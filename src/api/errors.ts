import { isTaskhubError, type ErrorCode } from '../domain/errors.js';

/** What every dialect needs to know about an error to answer it in its own shape. */
export interface ClassifiedError {
  status: number;
  code: ErrorCode | 'BAD_REQUEST' | 'INTERNAL';
  message: string;
  details: Record<string, unknown>;
  /** Unexpected: log it, answer 500 without its details. */
  internal: boolean;
}

const STATUS_BY_CODE: Record<ErrorCode, number> = {
  VALIDATION: 400,
  UNAUTHORIZED: 401,
  PAYMENT_REQUIRED: 402,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  INVALID_TRANSITION: 409,
  RATE_LIMITED: 429,
};

interface FastifyLikeError {
  statusCode?: number;
  validation?: unknown[];
  validationContext?: string;
  message: string;
}

/** The one place where errors become HTTP statuses; dialects only choose the body shape. */
export function classifyError(error: unknown): ClassifiedError {
  if (isTaskhubError(error)) {
    return { status: STATUS_BY_CODE[error.code], code: error.code, message: error.message, details: error.details, internal: false };
  }
  const candidate = error as FastifyLikeError;
  if (candidate && Array.isArray(candidate.validation)) {
    return { status: 400, code: 'VALIDATION', message: candidate.message, details: {}, internal: false };
  }
  const status = candidate?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, code: 'BAD_REQUEST', message: candidate.message, details: {}, internal: false };
  }
  return { status: 500, code: 'INTERNAL', message: 'internal error', details: {}, internal: true };
}
