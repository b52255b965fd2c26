import { z } from '@hono/zod-openapi';
import { fileTypeFromBuffer } from 'file-type';
import { AppError } from '../src/errors.js';

/** Uploaded files: one or several under one multipart field, checked by size here and by content below. */

export const MAX_UPLOADS = 5;
export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;

export const IMAGE_TYPES: ReadonlySet<string> = new Set([
  'image/jpeg',
  'image/png',
  'image/webp',
  'image/gif',
  'image/heic',
  'image/heif',
  'image/avif',
]);

const file = z.instanceof(File, { error: 'must be a file' });

/** A multipart field holding up to MAX_UPLOADS files of at most MAX_UPLOAD_BYTES each. */
export function uploadsField(noun: 'photo' | 'file') {
  return z
    .union([file, z.array(file)])
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
    .openapi({ type: 'array', items: { type: 'string', format: 'binary' } });
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
