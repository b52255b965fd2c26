import type { ContentfulStatusCode } from 'hono/utils/http-status';

/**
 * The closed set of error codes the API answers with, and their HTTP status.
 * Every error body is `{ error: { code, message, requestId, fields? } }`.
 */
export const ERROR_STATUS = {
  validation_failed: 400,
  malformed_body: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  idempotency_key_reused: 409,
  illegal_transition: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal: 500,
  not_ready: 503,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly fields?: Record<string, string>,
  ) {
    super(message);
    this.name = 'AppError';
  }

  get status(): ContentfulStatusCode {
    return ERROR_STATUS[this.code];
  }
}

/** A validation issue as zod reports it (only what `fieldsOf` reads). */
export interface FieldIssue {
  code?: string;
  path: ReadonlyArray<PropertyKey>;
  message: string;
  keys?: readonly string[];
}

/**
 * Turns validation issues into `{ <field path>: <reason> }`, the first reason
 * per field winning. Fields a strict schema does not know are named one by
 * one (`unknown field`), so a misspelt field is never silently dropped.
 */
export function fieldsOf(error: { issues: readonly FieldIssue[] }): Record<string, string> {
  // A Map, not an object: a field named `constructor` or `__proto__` is named like any other.
  const fields = new Map<string, string>();
  const add = (key: string, reason: string) => {
    if (!fields.has(key)) fields.set(key, reason);
  };
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys' && issue.keys) {
      for (const k of issue.keys) add([...issue.path.map(String), k].join('.'), 'unknown field');
      continue;
    }
    add(issue.path.length > 0 ? issue.path.map(String).join('.') : 'body', issue.message);
  }
  return Object.fromEntries(fields);
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; requestId: string; fields?: Record<string, string> };
}

export function errorBody(err: AppError, requestId: string): ErrorBody {
  return {
    error: {
      code: err.code,
      message: err.message,
      requestId,
      ...(err.fields ? { fields: err.fields } : {}),
    },
  };
}
