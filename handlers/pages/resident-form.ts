import type { Context } from 'hono';
import { textFault } from '../../src/domain/text.js';
import { AppError } from '../../src/errors.js';
import type { AppEnv } from '../app-env.js';

/**
 * A posted form (all values of repeated fields); a body that is not a
 * well-formed form is a 400, not a 500. The resident pages check each field
 * they keep (`textFault` among the rest) and show the problem next to it.
 */
export async function readForm(c: Context<AppEnv>): Promise<Record<string, unknown>> {
  try {
    return withLineFeeds(await c.req.parseBody({ all: true }));
  } catch {
    throw new AppError('malformed_body', 'the form could not be read; reload the page and try again', { body: 'not a well-formed form' });
  }
}

/**
 * A form's line breaks as the API's: browsers send a textarea's breaks as
 * CRLF but count each as one character for `maxlength`, so a text the
 * browser let through must not count longer here. Changes the form in place.
 */
export function withLineFeeds(form: Record<string, unknown>): Record<string, unknown> {
  const lf = (v: unknown) => (typeof v === 'string' ? v.replace(/\r\n?/g, '\n') : v);
  for (const [name, value] of Object.entries(form)) form[name] = Array.isArray(value) ? value.map(lf) : lf(value);
  return form;
}

/**
 * Text the service does not keep (`textFault`: a NUL character, bytes that
 * were not UTF-8) in any field of a form is refused, naming the field, as the
 * API refuses it.
 */
export function refuseBadText(form: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(form)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      const reason = typeof v === 'string' ? textFault(v) : null;
      if (reason) throw new AppError('validation_failed', `invalid ${name}`, { [name]: reason });
    }
  }
}

/** The first text value of a field, or ''. */
export function stringField(form: Record<string, unknown>, name: string): string {
  const v = form[name];
  const first = Array.isArray(v) ? v[0] : v;
  return typeof first === 'string' ? first : '';
}
