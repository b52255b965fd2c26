import type { Context } from 'hono';
import { AppError } from '../../src/errors.js';
import type { AppEnv } from '../app-env.js';

/** A posted form (all values of repeated fields); a body that is not a well-formed form is a 400, not a 500. */
export async function readForm(c: Context<AppEnv>): Promise<Record<string, unknown>> {
  try {
    return await c.req.parseBody({ all: true });
  } catch {
    throw new AppError('malformed_body', 'the form could not be read; reload the page and try again', { body: 'not a well-formed form' });
  }
}

/** The first text value of a field, or ''. */
export function stringField(form: Record<string, unknown>, name: string): string {
  const v = form[name];
  const first = Array.isArray(v) ? v[0] : v;
  return typeof first === 'string' ? first : '';
}
