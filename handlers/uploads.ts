import { z } from '@hono/zod-openapi';
import busboy, { type Busboy } from 'busboy';
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

/**
 * Reads a multipart body as clients other than browsers write it: parameters
 * of a part's Content-Disposition given as bare tokens (`name=attachments`)
 * and a file's name given the RFC 5987 way (`filename*=utf-8''%E6%95%B4…`),
 * both as .NET's HttpClient sends a file, the second as several clients send
 * a name that is not ASCII. The form parser refuses either, so the whole
 * upload would be a 400 "malformed" however good its files. Each such part's
 * header is rewritten as a browser writes it (quoted values, the name as UTF-8
 * in `filename`) before the body is parsed; the files' bytes are left as they
 * are. Runs after the size limit.
 */
export const plainMultipartHeaders = createMiddleware(async (c, next) => {
  const boundary = multipartBoundary(c.req.header('content-type') ?? '');
  if (boundary === null) return next();
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  const rewritten = withPlainPartHeaders(bytes, boundary);
  if (rewritten !== bytes) {
    // Parsed from the rewritten bytes from here on: Hono builds the form from a cached body, with the request's content
    // type. (The cache holds promises, which its type does not say.)
    const buffer = rewritten.buffer.slice(rewritten.byteOffset, rewritten.byteOffset + rewritten.byteLength) as ArrayBuffer;
    c.req.bodyCache = { arrayBuffer: Promise.resolve(buffer) as unknown as ArrayBuffer };
  }
  return next();
});

function multipartBoundary(contentType: string): string | null {
  if (!contentType.toLowerCase().startsWith('multipart/form-data')) return null;
  const m = /;\s*boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m ? (m[1] ?? m[2] ?? null) : null;
}

const CRLF2 = Buffer.from('\r\n\r\n');

/**
 * What was typed into a multipart form too large to take: a form sent with more photos than it may carry, by a
 * browser without the page's script to stop it. Refused whole by the size limit, the resident's text would be lost;
 * instead the body is read through once as it arrives, its text fields kept (at most `maxFieldBytes` of them in all)
 * and its files only counted and measured, never held, so the page can come back as typed and say how large the files
 * were. Read to its end, the body leaves a connection the server keeps: one whose body is left unread is closed soon,
 * before a slow phone has sent it all and read the answer. Reading stops after `maxBodyBytes`, keeping what came
 * before (a form's first fields; a file it stops in is counted with the bytes read of it). A body that ends before
 * its last delimiter (the client stopped sending) keeps the fields read whole. Null for a body that is no multipart
 * form, whose parts' headers do not read, or that could not be read.
 */
export async function readOversizedForm(request: Request, limits: { maxFieldBytes: number; maxBodyBytes: number }): Promise<OversizedForm | null> {
  const contentType = request.headers.get('content-type') ?? '';
  const boundary = multipartBoundary(contentType);
  if (boundary === null || !request.body) return null;
  let parser: Busboy;
  try {
    // One byte over the fields' bytes is enough to know a field is over them; names are UTF-8 as browsers send them.
    parser = busboy({ headers: { 'content-type': contentType }, limits: { fieldSize: limits.maxFieldBytes + 1 }, defParamCharset: 'utf8' });
  } catch {
    return null;
  }
  const form: OversizedForm = { fields: {}, files: 0, fileBytes: 0 };
  let fieldBytes = 0;
  // Once the body has ended or reading stopped, a field the parser still gives was cut short: it is not what was typed.
  let cut = false;
  let unreadable = false;
  parser.on('field', (name: string | undefined, value, info) => {
    if (name === undefined) unreadable = true;
    if (cut || name === undefined) return;
    fieldBytes += info.valueTruncated ? limits.maxFieldBytes + 1 : Buffer.byteLength(value);
    if (fieldBytes > limits.maxFieldBytes) return;
    const had = form.fields[name];
    form.fields[name] = had === undefined ? value : [...(Array.isArray(had) ? had : [had]), value];
  });
  parser.on('file', (name: string | undefined, stream, info) => {
    if (name === undefined) unreadable = true;
    let bytes = 0;
    stream.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      form.fileBytes += chunk.length;
    });
    // A file input left empty sends a nameless empty part: no file chosen.
    stream.on('end', () => {
      if (bytes > 0 || info.filename) form.files++;
    });
    // Only a form given up as unreadable ends a file with an error; its answer is null already.
    stream.on('error', () => {});
  });
  let ended: () => void = () => {};
  const parsed = new Promise<void>((resolve) => (ended = resolve));
  parser.on('error', () => {
    if (!cut) unreadable = true;
    ended();
  });
  parser.on('close', () => ended());

  const reader = request.body.getReader();
  let read = 0;
  try {
    while (read < limits.maxBodyBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      read += value.length;
      // Written as the parser takes it: a file's bytes are counted and dropped before more are read.
      await new Promise<void>((resolve) => parser.write(value, () => resolve()));
      if (unreadable) {
        parser.destroy();
        return null;
      }
    }
  } catch {
    parser.destroy();
    return null;
  }
  // A form read to its end has its closing delimiter, and what follows it is ignored; one that stopped before is
  // closed here, so the file it stopped in ends with the bytes read of it.
  cut = true;
  parser.end(Buffer.from(`\r\n--${boundary}--\r\n`));
  await parsed;
  return unreadable ? null : form;
}

/** `readOversizedForm`'s account of a form: its text fields as `parseBody({ all: true })` gives them, its files' count and bytes. */
export interface OversizedForm {
  fields: Record<string, string | string[]>;
  files: number;
  fileBytes: number;
}

/** The body with every part's Content-Disposition written as a browser writes it; the same array when all are already. */
export function withPlainPartHeaders(body: Uint8Array, boundary: string): Uint8Array {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const first = Buffer.from(`--${boundary}`);
  const next = Buffer.from(`\r\n--${boundary}`);
  const out: Buffer[] = [];
  let copied = 0;
  let at = buf.indexOf(first);
  while (at !== -1) {
    const after = at + first.length;
    // `--boundary--` ends the body.
    if (buf[after] === 0x2d && buf[after + 1] === 0x2d) break;
    const headersStart = after + 2;
    const headersEnd = buf.indexOf(CRLF2, headersStart);
    if (headersEnd === -1) break;
    const headers = buf.subarray(headersStart, headersEnd).toString('utf8');
    const plain = headers
      .split('\r\n')
      .map((line) => (/^content-disposition\s*:/i.test(line) ? plainDisposition(line) : line))
      .join('\r\n');
    if (plain !== headers) {
      out.push(buf.subarray(copied, headersStart), Buffer.from(plain, 'utf8'));
      copied = headersEnd;
    }
    at = buf.indexOf(next, headersEnd);
    if (at !== -1) at += 2;
  }
  if (out.length === 0) return body;
  out.push(buf.subarray(copied));
  return new Uint8Array(Buffer.concat(out));
}

/**
 * A part's Content-Disposition line as a browser writes it: `form-data; name="…"; filename="…"`, each value quoted, the
 * file's name taken from `filename*` when it has one that reads (RFC 5987: charset'language'percent-encoded). A line
 * already so written comes back unchanged.
 */
function plainDisposition(line: string): string {
  const colon = line.indexOf(':');
  const params = dispositionParams(line.slice(colon + 1));
  if (params === null) return line;
  const { type, values } = params;
  const star = values.get('filename*');
  const fileName = (star !== undefined ? extValue(star) : null) ?? values.get('filename');
  // As HTML's form encoding writes a value: a quote or a line break percent-encoded, everything else as it is.
  const quoted = (v: string) => `"${v.replace(/["\r\n]/g, (ch) => encodeURIComponent(ch))}"`;
  const name = values.get('name');
  const rebuilt = `${line.slice(0, colon)}: ${type}${name !== undefined ? `; name=${quoted(name)}` : ''}${fileName !== undefined ? `; filename=${quoted(fileName)}` : ''}`;
  const alreadyPlain = star === undefined && [...line.slice(colon + 1).matchAll(/=\s*([^\s])/g)].every((m) => m[1] === '"');
  return alreadyPlain ? line : rebuilt;
}

/** The disposition type and its parameters (names lower-cased; quoted or bare values), or null when it does not read. */
function dispositionParams(value: string): { type: string; values: Map<string, string> } | null {
  const semi = value.indexOf(';');
  const type = (semi === -1 ? value : value.slice(0, semi)).trim();
  const values = new Map<string, string>();
  let i = semi === -1 ? value.length : semi + 1;
  while (i < value.length) {
    const eq = value.indexOf('=', i);
    if (eq === -1) return value.slice(i).trim() === '' ? { type, values } : null;
    const key = value.slice(i, eq).trim().toLowerCase();
    let j = eq + 1;
    while (value[j] === ' ' || value[j] === '\t') j++;
    let v = '';
    if (value[j] === '"') {
      j++;
      while (j < value.length && value[j] !== '"') {
        if (value[j] === '\\' && j + 1 < value.length) j++;
        v += value[j];
        j++;
      }
      if (j >= value.length) return null;
      j++;
      const rest = value.indexOf(';', j);
      j = rest === -1 ? value.length : rest;
    } else {
      const end = value.indexOf(';', j);
      v = value.slice(j, end === -1 ? value.length : end).trim();
      j = end === -1 ? value.length : end;
    }
    if (key === '') return null;
    values.set(key, v);
    i = j + 1;
  }
  return { type, values };
}

/** The value of an RFC 5987 parameter (`charset'language'percent-encoded`), or null when its charset is unknown or its bytes are not of it. */
function extValue(raw: string): string | null {
  const m = /^([^']*)'[^']*'(.*)$/.exec(raw);
  if (!m) return null;
  const encoded = m[2]!;
  const bytes: number[] = [];
  for (let i = 0; i < encoded.length; i++) {
    if (encoded[i] === '%' && /^[0-9a-f]{2}$/i.test(encoded.slice(i + 1, i + 3))) {
      bytes.push(parseInt(encoded.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(encoded.charCodeAt(i) & 0xff);
  }
  try {
    return new TextDecoder(m[1] || 'utf-8', { fatal: true }).decode(new Uint8Array(bytes));
  } catch {
    return null;
  }
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

/** A body that stopped because the client closed its connection (Node: `aborted`, ECONNRESET). */
export function clientWentAway(c: Context, err: unknown): boolean {
  return c.req.raw.signal.aborted || (err as { code?: unknown } | null)?.code === 'ECONNRESET';
}

/** True for `application/json` and `application/<something>+json`, the JSON bodies the API reads. */
export function isJsonContentType(contentType: string | undefined): boolean {
  return /^application\/([\w.-]+\+)?json/.test((contentType ?? '').toLowerCase());
}
