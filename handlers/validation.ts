import { z, type Hook } from '@hono/zod-openapi';
import type { ZodError } from 'zod';
import { AppError, fieldsOf } from '../src/errors.js';

export { fieldsOf };

/** The one hook every route shares: a validation failure is a 400 naming each field. */
export const validationHook: Hook<unknown, any, any, unknown> = (result) => {
  if (!result.success) {
    const fields = fieldsOf(result.error as ZodError);
    throw new AppError('validation_failed', `invalid ${Object.keys(fields).join(', ')}`, fields);
  }
  return undefined;
};

/** A whole number from the query string, with its own reason for each way it can be wrong. */
export function queryInt(min: number, max: number) {
  return z.coerce
    .number({ error: (issue) => (issue.code === 'invalid_type' ? 'must be a number' : undefined) })
    .int('must be a whole number')
    .min(min, `at least ${min}`)
    .max(max, `at most ${max}`);
}
