import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { getCookie, setCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../../handlers/app-env.js';
import { AppError } from '../errors.js';
import { MAX_PHOTO_BYTES, MAX_PHOTOS } from '../intake/limits.js';
import { readHead } from '../stream-head.js';

/**
 * CSRF protection for every HTML form (double-submit token): a random token
 * lives in an http-only cookie and is rendered into each form as `_csrf`;
 * an unsafe request must send the same value back (form field or
 * `X-CSRF-Token` header), which a page of another site cannot read. Mounted
 * on the page routers only — the JSON API authenticates with bearer tokens
 * and is not reachable through a browser's ambient credentials.
 */
export const CSRF_COOKIE = 'csrf';
export const CSRF_FIELD = '_csrf';
export const CSRF_HEADER = 'x-csrf-token';

/** Form posts carry at most the report form's photos plus a little text. */
const MAX_FORM_BYTES = MAX_PHOTOS * MAX_PHOTO_BYTES + 1024 * 1024;

/** True when cookies must be `Secure`: the request or the public URL is https. */
export function secureCookies(c: Context<AppEnv>): boolean {
  if (new URL(c.req.url).protocol === 'https:') return true;
  if (c.req.header('x-forwarded-proto') === 'https' && c.get('deps').env.TRUST_PROXY) return true;
  return c.get('deps').env.PUBLIC_URL?.startsWith('https:') ?? false;
}

/**
 * The session and CSRF cookies' options: over https both are `__Host-`
 * prefixed, which a browser accepts only from this host itself, Secure and for
 * path `/` — so a sibling site of the same domain (another office's service on
 * *.example.gov.cn) cannot plant a CSRF token of its choosing and then post a
 * form carrying it, nor fix a session.
 */
export function hostCookieOptions(c: Context<AppEnv>) {
  const secure = secureCookies(c);
  return { secure, prefix: secure ? ('host' as const) : undefined };
}

/** A cookie set with `hostCookieOptions`, read under the name it was set with. */
export function readHostCookie(c: Context<AppEnv>, name: string): string | undefined {
  const { prefix } = hostCookieOptions(c);
  return prefix ? getCookie(c, name, prefix) : getCookie(c, name);
}

function issue(c: Context<AppEnv>): string {
  const existing = readHostCookie(c, CSRF_COOKIE);
  if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const token = btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  setCookie(c, CSRF_COOKIE, token, { path: '/', httpOnly: true, sameSite: 'Lax', ...hostCookieOptions(c) });
  return token;
}

/** Compares in time independent of where the strings differ. */
function same(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function isMultipart(c: Context<AppEnv>): boolean {
  return (c.req.header('content-type') ?? '').toLowerCase().startsWith('multipart/form-data');
}

/**
 * Reads the request's body until it ends or holds more than `maxBytes`, and puts the body back whole (what was read,
 * then what was not) for whoever reads it next: true when it holds more. What was read is held in memory, as a form
 * within the limit is held to be parsed anyway.
 */
async function readUpTo(c: Context<AppEnv>, maxBytes: number): Promise<boolean> {
  // A client that stopped sending: whoever reads the body next fails as it would have.
  const head = await readHead(c.req.raw.body!, maxBytes + 1);
  // As hono's bodyLimit puts back the body it measures (`duplex` is what a streamed request body needs in Node).
  c.req.raw = new Request(c.req.raw, { body: head.replay, duplex: 'half' } as RequestInit);
  return head.size > maxBytes;
}
const limit = bodyLimit({
  maxSize: MAX_FORM_BYTES,
  onError: () => {
    throw new AppError('payload_too_large', 'the form is too large');
  },
});

export interface CsrfOptions {
  /**
   * Answers a form whose token is missing or does not match, instead of the
   * plain 403: a page may show the form again with what was typed in it and
   * a fresh token (nothing is done with it). Only forms reach it.
   */
  refused?: (c: Context<AppEnv>, form: Record<string, unknown>) => Response | Promise<Response>;
  /**
   * Answers a form whose Content-Length is over the forms' size limit, instead of the plain 413, when it gives an
   * answer: a page may read what was typed from the body and show the form again (nothing is done with it, as with
   * `refused`). Gets the limit; null leaves the form to the 413.
   */
  tooLarge?: (c: Context<AppEnv>, maxBytes: number) => Promise<Response | null>;
}

/**
 * Sets `csrfToken` for the page to render; refuses (403) an unsafe request
 * whose token is missing or does not match the cookie. The form body is
 * parsed once here (Hono caches it, so handlers read it again for free).
 */
export function csrfProtection(options: CsrfOptions = {}) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const token = issue(c);
    c.set('csrfToken', token);
    if (!UNSAFE.has(c.req.method)) return next();
    if (options.tooLarge && Number(c.req.header('content-length')) > MAX_FORM_BYTES) {
      const answer = await options.tooLarge(c, MAX_FORM_BYTES);
      if (answer) return answer;
    }
    // A multipart form sent without its length (chunked) is over the limit only once read that far: read up to it,
    // and a form that goes on past it gets the same answer as one that says its length.
    if (options.tooLarge && c.req.header('content-length') === undefined && isMultipart(c) && c.req.raw.body) {
      const over = await readUpTo(c, MAX_FORM_BYTES);
      if (over) {
        const answer = await options.tooLarge(c, MAX_FORM_BYTES);
        if (answer) return answer;
        throw new AppError('payload_too_large', 'the form is too large');
      }
    }
    let refusal: Response | undefined;
    const limited = await limit(c, async () => {
      let sent = c.req.header(CSRF_HEADER);
      let form: Record<string, unknown> | null = null;
      const type = c.req.header('content-type') ?? '';
      // A form is parsed here even when the token came in the header, so a
      // malformed body is a 400 before any handler reads it.
      if (type.startsWith('application/x-www-form-urlencoded') || type.startsWith('multipart/form-data')) {
        try {
          form = await c.req.parseBody({ all: true });
        } catch {
          throw new AppError('malformed_body', 'the form could not be read; reload the page and try again', { body: 'not a well-formed form' });
        }
        const field = form[CSRF_FIELD];
        sent ??= typeof field === 'string' ? field : undefined;
      }
      const cookie = readHostCookie(c, CSRF_COOKIE);
      if (!sent || !cookie || !same(sent, cookie)) {
        if (form && options.refused) {
          refusal = await options.refused(c, form);
          return;
        }
        throw new AppError('forbidden', 'the form has expired or did not come from this site; reload the page and try again', {
          [CSRF_FIELD]: 'missing or does not match',
        });
      }
      await next();
    });
    return refusal ?? limited;
  });
}
