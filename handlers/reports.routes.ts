import { OpenAPIHono, z } from '@hono/zod-openapi';
import { createMiddleware } from 'hono/factory';
import { scopedKey } from '../db/repositories/idempotency.repository.js';
import { publicUrl } from '../src/env.js';
import { AppError } from '../src/errors.js';
import { MAX_TEXT_CHARS } from '../src/intake/limits.js';
import type { PhotoInput, ReportInput } from '../src/intake/accept-report.js';
import { reporterFields } from '../src/intake/anonymity.js';
import type { AppEnv } from './app-env.js';
import { acceptPublicReport } from './intake-gate.js';
import { errorResponses } from './error-schema.js';
import { IMAGE_TYPES, jsonOrUploadsBodyLimit, plainMultipartHeaders, readUploads, uploadsField, isJsonContentType } from './uploads.js';
import { documentBodyRequired, documentFormUrlencoded, idempotencyKeyHeader, keptText, validationHook, apiRoute } from './validation.js';
import { INSTANT_RULE, instantInServiceYears } from '../src/domain/service-years.js';
import { decimalOf, showsNothing } from '../src/domain/text.js';
import { onlyTrackingCode } from '../src/domain/tracking-code.js';
import { halfWidthDigits, insideDistrict, MARKED_EXTENSION, zerosOnly } from '../src/pipeline/extract.js';
import { EXTENSION_MARK } from '../src/hotline/call-schema.js';
import { normalizeDateTime, OFFSET_RULE, offsetExists, withZoneOffset } from '../src/domain/time-zone.js';
import type { Deps } from '../src/core-deps.js';


/** How the reason a text that is only a tracking code is refused begins; it goes on to say where to follow the code's case. */
export const TRACKING_CODE_TEXT = 'is a tracking code, not a report';
const requiredString = (what: string) =>
  z.string({ error: (issue) => (issue.input === undefined ? 'required' : `must be ${what}`) });

const reportText = requiredString('a string')
  .trim()
  .min(1, 'must not be empty')
  // Only invisible characters (zero-width spaces, direction marks, Hangul fillers) is as empty as only spaces.
  .refine((t) => !showsNothing(t), 'must not be empty')
  .refine((t) => [...t].length <= MAX_TEXT_CHARS, `at most ${MAX_TEXT_CHARS} characters`)
  .superRefine(keptText)
  // A tracking code alone (typed, or its link or 查询码 line pasted), or with only words asking after it (查询 K7M3QXT9AD,
  // K7M3QXT9AD 进度), is a resident asking after a report, not a new one.
  .superRefine((t, ctx) => {
    const code = onlyTrackingCode(t);
    if (code) ctx.addIssue({ code: 'custom', message: `${TRACKING_CODE_TEXT}: follow its case with GET /api/v1/track/${code}` });
  });
const optionalText = (max: number) =>
  z
    .string({ error: 'must be a string' })
    .trim()
    .max(max, `at most ${max} characters`)
    .superRefine(keptText)
    .transform((v) => (v === '' ? undefined : v))
    // null is absent: many JSON clients send every field, null where there is nothing.
    .nullish();
const reporterName = optionalText(50);
const PHONE_RULE = 'must be a phone number (digits, spaces, dashes, optional +)';
/**
 * A phone as people type it: full-width digits, plus, dash, brackets and
 * spaces (a Chinese input method: １３８１２３４５６７８, （０７４６）１２３４５６７)
 * are taken as their ASCII forms, and so are the other hyphens and dashes a
 * number copied from a document or web page is written with (0731‐88886666,
 * 0731–88886666); an area code may stand in brackets.
 * At least five digits: a run of dashes is no number.
 */
const halfWidthPhone = (v: string) =>
  halfWidthDigits(v)
    .replace(/[\uFF08\uFF09]/g, (ch) => (ch === '\uFF08' ? '(' : ')'))
    .replace(/\u3000/g, ' ')
    .replace(/[\u2010-\u2015\u2212\uFE58\uFE63]/g, '-');
/**
 * The number and its extension, when one is set off by a word or sign at the
 * end (0731-88886666转123, 分机123, ext. 123, #123), as a hotline caller's is:
 * the number is checked as any phone, and kept as typed with the extension
 * after 转 (0731-88886666转123), which every masked view leaves out. A dashed
 * last group (0731-8888-6666) stays part of the number, as it always was.
 */
function phoneParts(v: string): { main: string; extension: string | null } {
  const m = MARKED_EXTENSION.exec(v);
  return m ? { main: v.slice(0, m.index).trimEnd(), extension: m[1]! } : { main: v, extension: null };
}
const phone = z
  .union(
    [
      z
        .string()
        .transform(halfWidthPhone)
        .pipe(
          z
            .string()
            .trim()
            .refine((v) => /^\+?[\d\s()-]{5,20}$/.test(phoneParts(v).main), PHONE_RULE)
            .refine((v) => (phoneParts(v).main.match(/\d/g)?.length ?? 0) >= 5, PHONE_RULE)
            // As a hotline caller's number: zeros alone reach no one (the number typed to get past the field).
            .refine((v) => !zerosOnly(phoneParts(v).main), `${PHONE_RULE}, not all zeros`)
            .transform((v) => {
              const { main, extension } = phoneParts(v);
              return extension === null ? main : `${main}${EXTENSION_MARK}${extension}`;
            }),
        ),
      z.literal('').transform(() => undefined),
    ],
    // A number (13812345678 without quotes) is not a phone as JSON carries one: said like any bad phone. A string is
    // told what is wrong with it, as the number's own checks say (zeros alone, too few digits).
    { error: (issue) => (issue.code === 'invalid_union' && typeof issue.input === 'string' ? issue.errors[0]?.[0]?.message : undefined) ?? `${PHONE_RULE}, as a string` },
  )
  .nullish();
// An offset may come without its colon (+0800, as `%z` writes it): read as +08:00, and checked as one.
const occurredAt = z
  .preprocess(
    normalizeDateTime,
    z.iso
      .datetime({ offset: true, local: true, error: "must be an ISO 8601 date-time, e.g. 2026-11-28T21:30:00+08:00 (without an offset, the district's time)" })
      .refine(instantInServiceYears, INSTANT_RULE)
      .refine(offsetExists, OFFSET_RULE),
  )
  // "" is absent, as for address, name and phone (and on the web form, whose empty time field sends it).
  .or(z.literal('').transform(() => undefined))
  .nullish();
const lat = z.number({ error: 'must be a number' }).min(-90, 'must be between -90 and 90').max(90, 'must be between -90 and 90');
const lng = z.number({ error: 'must be a number' }).min(-180, 'must be between -180 and 180').max(180, 'must be between -180 and 180');

/**
 * Anonymous, the name and phone are not kept: what in their fields they could not be — words that are no number in the
 * phone's (不方便, 不留), a name over its 50 characters — refuses nothing: the reporter asked not to be named or
 * contacted, and a refusal would lose the report. Such a field is dropped before the fields are read. A name or number
 * the fields do hold is read as ever, so the words are kept with it masked (reporterFields). Not anonymous, they are
 * refused as any bad name or phone. `isAnonymous` reads the box as the body's media type writes it.
 */
function contactOfAnonymousTolerated(isAnonymous: (value: unknown) => boolean) {
  return (input: unknown): unknown => {
    if (input === null || typeof input !== 'object' || Array.isArray(input)) return input;
    const fields = input as Record<string, unknown>;
    if (!isAnonymous(fields.anonymous)) return input;
    const kept = { ...fields };
    if (kept.phone !== undefined && !phone.safeParse(kept.phone).success) delete kept.phone;
    if (kept.name !== undefined && !reporterName.safeParse(kept.name).success) delete kept.name;
    return kept;
  };
}

/** A body that is no object (null, an array, a string) is said so in the API's words, not zod's. */
const notAnObject = (issue: { code?: string }) => (issue.code === 'invalid_type' ? 'must be a JSON object { text, … }' : undefined);

const reportJsonFields = z
  .strictObject({
    // The limits are checked in characters (code points) by refinements, which the document cannot read: said here.
    text: reportText.openapi({ example: '兴隆办事处那边一个厂子晚上往沟里排黑水，气味很大', minLength: 1, maxLength: MAX_TEXT_CHARS }),
    address: optionalText(300).openapi({ example: '兴隆办事处 盐下村 三组' }),
    location: z
      .strictObject({ lat, lng }, { error: 'must be an object { lat, lng }' })
      .nullish()
      .openapi({ description: "Where it happens (WGS-84). A point outside the district's bounds is refused (400 naming `location`)." }),
    name: reporterName.openapi({
      description: 'The reporter\'s name, at most 50 characters. With `anonymous: true` it is not kept, and a longer one is ignored rather than refused.',
    }),
    phone: phone.openapi({
      description:
        'The reporter\'s phone: digits, spaces, dashes, brackets, a leading +, at least 5 digits and not all zeros; an extension after 转, 分机, ext. or # (0731-88886666转123) is kept after 转, and left out wherever the number is shown masked. ' +
        'With `anonymous: true` it is not kept, and what is no number (不方便) is ignored rather than refused.',
    }),
    anonymous: z.boolean({ error: 'must be true or false' }).nullish().openapi({
      description:
        'The reporter stays unnamed: a name and phone given with it are not kept, nor a phone number written in the text; words in `phone` that are no number (不方便) and a `name` over 50 characters refuse nothing.',
    }),
    shareContact: z.boolean({ error: 'must be true or false' }).nullish().openapi({
      description: 'The reporter agrees that the handling bureau may see their name and phone.',
    }),
    occurredAt,
  }, { error: notAnObject });
export const reportJsonSchema = z.preprocess(contactOfAnonymousTolerated((v) => v === true), reportJsonFields).openapi('ReportInput');

const FORM_TRUE: ReadonlySet<unknown> = new Set(['true', 'on', '1']);
const formBoolean = z
  .enum(['true', 'false', 'on', 'off', '1', '0', ''], { error: 'must be true or false' })
  .transform((v) => FORM_TRUE.has(v))
  .optional();
const formNumber = (schema: z.ZodNumber) =>
  z
    .string()
    .trim()
    .transform((v, ctx) => {
      if (v === '') return undefined;
      // Decimal degrees as a form field holds them: Number() alone would read 0x19 as 25.
      const n = decimalOf(v);
      if (!Number.isFinite(n)) {
        ctx.addIssue({ code: 'custom', message: 'must be a number' });
        return z.NEVER;
      }
      return n;
    })
    .pipe(schema.optional())
    .optional();

const reportFormFields = z.strictObject({
  text: reportText.openapi({ minLength: 1, maxLength: MAX_TEXT_CHARS }),
  address: optionalText(300),
  lat: formNumber(lat),
  lng: formNumber(lng),
  name: reporterName,
  phone,
  anonymous: formBoolean,
  shareContact: formBoolean,
  occurredAt,
  photos: uploadsField('photo'),
});
function bothCoordinatesOrNeither(v: { lat?: number | undefined; lng?: number | undefined }, ctx: z.RefinementCtx): void {
  if ((v.lat === undefined) !== (v.lng === undefined)) {
    ctx.addIssue({ code: 'custom', path: [v.lat === undefined ? 'lat' : 'lng'], message: 'give both lat and lng, or neither' });
  }
}
export const reportFormSchema = z.preprocess(contactOfAnonymousTolerated((v) => FORM_TRUE.has(v)), reportFormFields.superRefine(bothCoordinatesOrNeither));
/**
 * The form as `application/x-www-form-urlencoded` carries it: the same fields without photos. For the document only:
 * the route's form validator (reportFormSchema) reads both form types.
 */
const reportUrlencodedSchema = z.preprocess(
  contactOfAnonymousTolerated((v) => FORM_TRUE.has(v)),
  reportFormFields.omit({ photos: true }).superRefine(bothCoordinatesOrNeither),
);

const acceptedSchema = z
  .object({
    id: z.string(),
    trackingCode: z.string().openapi({ example: 'K7M3QXT9AD' }),
    status: z.literal('received'),
    trackUrl: z.string().url(),
  })
  .openapi('ReportAccepted');

const postReport = apiRoute({
  method: 'post',
  path: '/api/v1/reports',
  operationId: 'createReport',
  tags: ['intake'],
  summary: 'Submit a report (web form or API client)',
  description:
    'Validates and persists the report, then hands it to the pipeline; answers at once with the tracking code. ' +
    'An `Idempotency-Key` header makes a submission retried within 48 hours (the key is kept that long) return the same case. ' +
    'One network address may send as many reports as `INTAKE_RATE_LIMIT` allows (30 an hour unless configured); ' +
    'beyond that the answer is `429 rate_limited` with `Retry-After`, and a replayed submission is not counted.',
  request: {
    headers: z.object({
      'idempotency-key': idempotencyKeyHeader.optional(),
    }),
    body: {
      required: false,
      content: {
        'application/json': { schema: reportJsonSchema },
        'multipart/form-data': { schema: reportFormSchema },
      },
    },
  },
  responses: {
    202: { description: 'Accepted', content: { 'application/json': { schema: acceptedSchema } } },
    ...errorResponses(400, 409, 413, 415, 429),
  },
});

/** A device clock a little ahead is no reason to refuse a report; hours ahead is a wrong time (or zone). */
const FUTURE_SLACK_MS = 15 * 60_000;

/** When it happened, with the district's offset where the client gave none; not in the future. */
function occurredAtOf(value: string, deps: Deps): string {
  const { text, instant } = withZoneOffset(value, deps.district.file.district.timezone);
  // A time without an offset is read on the district's clock: one just inside the years may fall outside them (1900-01-01T00:00 in Shanghai is 1899 in UTC).
  if (!instantInServiceYears(new Date(instant).toISOString())) throw new AppError('validation_failed', 'invalid occurredAt', { occurredAt: INSTANT_RULE });
  if (instant > deps.clock.now().getTime() + FUTURE_SLACK_MS) {
    throw new AppError('validation_failed', 'invalid occurredAt', { occurredAt: 'must not be in the future' });
  }
  return text;
}

function readPhotos(files: File[]): Promise<PhotoInput[]> {
  return readUploads(files, { field: 'photos', allowed: IMAGE_TYPES, expected: 'a JPEG, PNG, WebP, GIF, HEIC or AVIF image' });
}

/** The form's fields that hold one value (all but the photos); a field it does not know is named as unknown by the schema. */
const SINGLE_FORM_FIELDS: ReadonlySet<string> = new Set(Object.keys(reportFormFields.shape).filter((k) => k !== 'photos'));

/**
 * A form field other than `photos` given more than once (text=…&text=…) is named as such: read as a list, it
 * would be refused as the wrong type (must be a string), which is not what the client did wrong.
 */
const formFieldsOnce = createMiddleware<AppEnv>(async (c, next) => {
  const contentType = (c.req.header('content-type') ?? '').toLowerCase();
  if (!contentType.startsWith('multipart/form-data') && !contentType.startsWith('application/x-www-form-urlencoded')) return next();
  let form: FormData;
  try {
    form = await c.req.formData();
  } catch {
    // A malformed form: the validator answers it with a 400.
    delete c.req.bodyCache.formData;
    return next();
  }
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const key of form.keys()) {
    if (SINGLE_FORM_FIELDS.has(key) && seen.has(key)) twice.add(key);
    seen.add(key);
  }
  if (twice.size > 0) throw new AppError('validation_failed', `invalid ${[...twice].join(', ')}`, Object.fromEntries([...twice].map((k) => [k, 'given more than once'])));
  return next();
});

export function reportRoutes() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  app.use('/api/v1/reports', ...jsonOrUploadsBodyLimit(), plainMultipartHeaders, formFieldsOnce);

  app.openapi(postReport, async (c) => {
    const deps = c.get('deps');
    const contentType = (c.req.header('content-type') ?? '').toLowerCase();
    const isForm = contentType.startsWith('multipart/form-data') || contentType.startsWith('application/x-www-form-urlencoded');
    const isJson = isJsonContentType(contentType);
    // Without a body there is nothing to validate: the text is missing.
    if (!isForm && !isJson) throw new AppError('validation_failed', 'invalid text', { text: 'required' });
    const body = isForm ? c.req.valid('form') : c.req.valid('json');
    // Anonymous, as on the web form: the name and phone are not kept at all.
    const common = { channel: 'web' as const, ...reporterFields(body), occurredAt: body.occurredAt ? occurredAtOf(body.occurredAt, deps) : null };
    const location = 'photos' in body ? (body.lat !== undefined && body.lng !== undefined ? { lat: body.lat, lng: body.lng } : null) : (body.location ?? null);
    // A point outside the district (a phone's position away from the place, a pin dragged far) is no place its bureaus
    // can go to, and routing would ignore it: refused, naming the field, as the web form sends such a point back.
    if (location && !insideDistrict(deps.district, location)) {
      const b = deps.district.file.district.bounds;
      const reason = `outside the district (latitude ${b.south} to ${b.north}, longitude ${b.west} to ${b.east})`;
      throw new AppError('validation_failed', 'invalid location', 'photos' in body ? { lat: reason, lng: reason } : { location: reason });
    }
    const input: ReportInput = 'photos' in body ? { ...common, location, photos: await readPhotos(body.photos) } : { ...common, location };
    const given = c.req.valid('header')['idempotency-key'];
    const key = given ? scopedKey('reports', given) : undefined;
    const accepted = await acceptPublicReport(c, input, key);
    const trackUrl = `${publicUrl(deps.env)}/track/${accepted.trackingCode}`;
    c.header('Location', `/api/v1/track/${accepted.trackingCode}`);
    if (accepted.replayed) c.header('Idempotent-Replayed', 'true');
    return c.json({ id: accepted.id, trackingCode: accepted.trackingCode, status: 'received' as const, trackUrl }, 202);
  });
  documentBodyRequired(app, postReport);
  documentFormUrlencoded(app, postReport, reportUrlencodedSchema);

  return app;
}
