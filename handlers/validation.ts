import { z, type Hook } from '@hono/zod-openapi';
import type { ZodError } from 'zod';
import { AppError, fieldsOf } from '../src/errors.js';

export { fieldsOf };

/**
 * The one hook every route shares: a validation failure is a 400 naming each
 * field. So is a NUL character in any validated text (body, query or path):
 * PostgreSQL cannot store one, and SQLite would, so both refuse it alike.
 */
export const validationHook: Hook<unknown, any, any, unknown> = (result) => {
  if (!result.success) {
    const fields = fieldsOf(result.error as ZodError);
    throw new AppError('validation_failed', `invalid ${Object.keys(fields).join(', ')}`, fields);
  }
  const path = pathOfNul(result.data, []);
  if (path) throw new AppError('validation_failed', `invalid ${path}`, { [path]: 'must not contain NUL characters' });
  return undefined;
};

/** The dotted path of the first string holding a NUL character, or null. */
function pathOfNul(value: unknown, at: Array<string | number>): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? at.join('.') || 'body' : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = pathOfNul(value[i], [...at, i]);
      if (found) return found;
    }
    return null;
  }
  if (value !== null && typeof value === 'object' && !(value instanceof Blob)) {
    for (const [k, v] of Object.entries(value)) {
      const found = pathOfNul(v, [...at, k]);
      if (found) return found;
    }
  }
  return null;
}

/** A whole number from the query string, with its own reason for each way it can be wrong. */
export function queryInt(min: number, max: number) {
  return z.coerce
    .number({ error: (issue) => (issue.code === 'invalid_type' ? 'must be a number' : undefined) })
    .int('must be a whole number')
    .min(min, `at least ${min}`)
    .max(max, `at most ${max}`);
}
