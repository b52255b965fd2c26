import { z } from '@hono/zod-openapi';
import { fileTypeFromBuffer } from 'file-type';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import { AppError } from '../src/errors.js';
import { IMAGE_TYPES, MAX_PHOTO_BYTES, MAX_PHOTOS } from '../src/intake/limits.js';

/** Request bodies: size limits, and uploaded files under one multipart field, checked by size and by content. */

export const MAX_UPLOADS = MAX_PHOTOS;
export const MAX_UPLOAD_BYTES = MAX_PHOTO_BYTES;
export const MAX_JSON_BYTES = 1024 * 1024;

/** JSON (and other non-multipart) bodies up to 1 MB; multipart up to the files it may carry plus 1 MB. */
function jsonOrUploadsLimit(c: Context): number {
  return isMultipart(c) ? MAX_UPLOADS * MAX_UPLOAD_BYTES + MAX_JSON_BYTES : MAX_JSON_BYTES;
}

/**
 * The body limit of a route taking JSON or multipart with files: 1 MB, and
 * for multipart 1 MB besides the files it carries (each checked by
 * `uploadsField`). A multipart body without files is held to 1 MB like JSON.
 */
export function jsonOrUploadsBodyLimit(): readonly [MiddlewareHandler, MiddlewareHandler] {
  const outer = limitBody(jsonOrUploadsLimit);
  const rest = createMiddleware(async (c, next) => {
    if (!isMultipart(c)) return next();
    // Read once: the form validator parses the cached bytes again, or reuses the parsed form.
    const total = (await c.req.arrayBuffer()).byteLength;
    if (total <= MAX_JSON_BYTES) return next();
    let fileBytes = 0;
    try {
      const form = await c.req.formData();
      for (const value of form.values()) if (typeof value !== 'string') fileBytes += value.size;
    } catch {
      // A malformed form: the validator answers it with a 400.
      delete c.req.bodyCache.formData;
      return next();
    }
    if (total - fileBytes > MAX_JSON_BYTES) {
      throw new AppError('payload_too_large', 'the request body is larger than 1 MB besides its files', {
        body: 'at most 1 MB besides the files',
      });
    }
    return next();
  });
  return [outer, rest] as const;
}

function isMultipart(c: Context): boolean {
  return (c.req.header('content-type') ?? '').toLowerCase().startsWith('multipart/form-data');
}

/**
 * 413 `payload_too_large` above `maxSize(c)` bytes. With a Content-Length the
 * size is known up front (and the server never reads past it), so the body
 * stream — costly to wrap — is only wrapped for chunked uploads.
 */
export function limitBody(
  maxSize: (c: Context) => number,
  message: (maxBytes: number) => string = (max) => `the request body is larger than ${Math.round(max / 1024 / 1024)} MB`,
) {
  return createMiddleware(async (c, next) => {
    const max = maxSize(c);
    const tooLarge = () => new AppError('payload_too_large', message(max), { body: `at most ${formatBytes(max)}` });
    const declared = c.req.header('content-length');
    if (declared !== undefined) {
      if (Number(declared) > max) throw tooLarge();
      return next();
    }
    return bodyLimit({
      maxSize: max,
      onError: () => {
        throw tooLarge();
      },
    })(c, next);
  });
}

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${Math.round(n / 1024 / 1024)} MB` : `${Math.round(n / 1024)} KB`;
}

export { IMAGE_TYPES };

const file = z.instanceof(File, { error: 'must be a file' });

/** A multipart field holding up to MAX_UPLOADS files of at most MAX_UPLOAD_BYTES each. */
export function uploadsField(noun: 'photo' | 'file') {
  return z
    .union([file, z.array(file)], { error: `must be ${noun === 'photo' ? 'a photo' : 'a file'} (a file field of the form)` })
    .optional()
    .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]))
    .pipe(
      z
        .array(
          file
            .refine((f) => f.size > 0, `a ${noun} is empty`)
            .refine((f) => f.size <= MAX_UPLOAD_BYTES, `each ${noun} at most ${MAX_UPLOAD_BYTES / 1024 / 1024} MB`),
        )
        .max(MAX_UPLOADS, `at most ${MAX_UPLOADS} ${noun}s`),
    )
    .openapi({
      type: 'array',
      items: { type: 'string', format: 'binary' },
      maxItems: MAX_UPLOADS,
      description: `Up to ${MAX_UPLOADS} ${noun}s, each at most ${MAX_UPLOAD_BYTES / 1024 / 1024} MB.`,
    });
}

export interface Upload {
  bytes: Uint8Array;
  mime: string;
  ext: string;
}

/** Reads the files and checks what they really are (the declared type is not trusted). */
export async function readUploads(
  files: File[],
  opts: { field: string; allowed: ReadonlySet<string>; expected: string },
): Promise<Upload[]> {
  const out: Upload[] = [];
  for (const [i, f] of files.entries()) {
    const bytes = new Uint8Array(await f.arrayBuffer());
    const detected = await fileTypeFromBuffer(bytes);
    if (!detected || !opts.allowed.has(detected.mime)) {
      throw new AppError('validation_failed', `invalid ${opts.field}`, {
        [files.length > 1 ? `${opts.field}.${i}` : opts.field]: `must be ${opts.expected}`,
      });
    }
    out.push({ bytes, mime: detected.mime, ext: detected.ext });
  }
  return out;
}

/** True for `application/json` and `application/<something>+json`, the JSON bodies the API reads. */
/** A body that stopped because the client closed its connection (Node: `aborted`, ECONNRESET). */
export function clientWentAway(c: Context, err: unknown): boolean {
  return c.req.raw.signal.aborted || (err as { code?: unknown } | null)?.code === 'ECONNRESET';
}

export function isJsonContentType(contentType: string | undefined): boolean {
  return /^application\/([\w.-]+\+)?json/.test((contentType ?? '').toLowerCase());
}
