import type { Context } from 'hono';
import { AppError } from '../../src/errors.js';
import type { AppEnv } from '../app-env.js';

/** A posted form (all values of repeated fields); a body that is not a well-formed form is a 400, not a 500. */
export async function readForm(c: Context<AppEnv>): Promise<Record<string, unknown>> {
  let form: Record<string, unknown>;
  try {
    form = await c.req.parseBody({ all: true });
  } catch {
    throw new AppError('malformed_body', 'the form could not be read; reload the page and try again', { body: 'not a well-formed form' });
  }
  refuseNul(form);
  return form;
}

/**
 * A NUL character in any text field of a form is refused, naming the field,
 * as the API refuses one: PostgreSQL cannot store it, and SQLite would.
 */
export function refuseNul(form: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(form)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (typeof v === 'string' && v.includes('\u0000')) {
        throw new AppError('validation_failed', `invalid ${name}`, { [name]: 'must not contain NUL characters' });
      }
    }
  }
}

/** The first text value of a field, or ''. */
export function stringField(form: Record<string, unknown>, name: string): string {
  const v = form[name];
  const first = Array.isArray(v) ? v[0] : v;
  return typeof first === 'string' ? first : '';
}
