// zod with the OpenAPI extension, so the HTTP route can document this very schema.
import { z } from '@hono/zod-openapi';
import { INSTANT_RULE, instantInServiceYears } from '../domain/service-years.js';
import { showsNothing, textFault } from '../domain/text.js';
import { normalizeDateTime, OFFSET_RULE, offsetExists } from '../domain/time-zone.js';
import { MARKED_EXTENSION, MASKED_NUMBER, zerosOnly } from '../pipeline/extract.js';

/**
 * One hotline call as an operator submits it (JSON body, text/plain body with
 * query parameters, one NDJSON line or one CSV row of an import). Shared by
 * the HTTP route and the import so every channel names a bad field the same
 * way. Values that arrive as text (query parameters, CSV cells) are accepted
 * for booleans and the hotline number; an empty cell is an absent field.
 */

export const HOTLINES = ['12345', '12369'] as const;
export type Hotline = (typeof HOTLINES)[number];

export const MAX_TRANSCRIPT_CHARS = 100_000;
export const MAX_CASE_TEXT_CHARS = 5000;
export const MAX_PARTS = 10;

/** How a caller number keeps its extension: 073188886666转123, as operators write one (总机转分机). */
export const EXTENSION_MARK = '转';

/** The last group after a dash (88886666-123), an extension only when the digits before it are a whole number. */
const DASHED_EXTENSION = /^(.*\d)\s*[-\u2010-\u2015]\s*(\d{2,5})\s*$/;

/**
 * Digits that already make a whole Chinese number, so a dashed group after them is an extension
 * (88886666-123, 0731-88886666-123, 13812345678-01) rather than its last group (138-1234-5678,
 * 0731-8888-6666, 400-123-4567): a mobile number, a landline with its area code, a local landline
 * (which never starts with 0 or 1), or a landline after +86 (its area code without the 0).
 */
function wholeNumber(written: string): boolean {
  const digits = written.replace(/\D/g, '');
  if (/^1[3-9]\d{9}$/.test(digits) || /^0\d{9,11}$/.test(digits) || /^[2-9]\d{6,7}$/.test(digits)) return true;
  return /^\s*\+/.test(written) && /^86(?:1[3-9]\d{9}|[2-9]\d{8,10})$/.test(digits);
}

/**
 * A caller number as hotline systems and operators write it — full-width
 * digits (１３８１２３４５６７８), an area code in brackets ((0746)1234567),
 * spaces, dashes or dots between groups — as the digits alone, with a leading
 * + kept. An extension (0731-88886666转123, 88886666-123, 88886666 ext. 123)
 * is kept after EXTENSION_MARK (073188886666转123): a callback to a caller
 * behind a switchboard needs it. What is left must still look like a number
 * (see callSchema).
 */
export function normalizeCallerNumber(raw: string): string {
  const written = raw.replace(/[\uFF01-\uFF5E]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));
  let main = written;
  let extension: string | null = null;
  const marked = MARKED_EXTENSION.exec(written);
  const dashed = marked ? null : DASHED_EXTENSION.exec(written);
  if (marked) [main, extension] = [written.slice(0, marked.index), marked[1]!];
  else if (dashed && wholeNumber(dashed[1]!)) [main, extension] = [dashed[1]!, dashed[2]!];
  const number = main.replace(/[\s()[\]{}.\-\u2010-\u2015]/g, '').replace(/[xX×]/g, '*');
  return extension === null ? number : `${number}${EXTENSION_MARK}${extension}`;
}

/** The number a caller number's extension belongs to (073188886666转123 → 073188886666). */
export function mainCallerNumber(n: string): string {
  const at = n.indexOf(EXTENSION_MARK);
  return at < 0 ? n : n.slice(0, at);
}

const CALLER_NUMBER_RULE =
  'must be a phone number: 5–20 digits, optionally with a leading +, brackets, spaces or dashes and an extension (转123, -123, ext. 123), not all zeros; or one the hotline system already masked (138****5678)';

/**
 * A start without a UTC offset (2026-11-03T09:15:00, or 2026-11-03 09:15:00 as
 * hotline systems in China export it) is a time on the district's wall clock:
 * the intake reads it in the district file's time zone (see withDistrictTime).
 */
const LOCAL_START = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?$/;

/**
 * A date and time as a spreadsheet writes one back, the year first: a CSV export opened and saved in Excel on a
 * Chinese Windows has its starts rewritten as 2026/12/1 9:15 (the zh-CN short date, without leading zeros or seconds).
 */
const SPREADSHEET_START = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[ \t]+|[Tt])(\d{1,2}):(\d{2})(?=$|[:.+\-Zz])/;

/**
 * A date and time written the Chinese way, as call-centre systems and a zh-CN spreadsheet export them: the date with
 * 年月日, then the time with colons or with 时分秒 (点 as people say it), with or without a space between:
 * 2026年11月3日 9:15, 2026年11月3日09时15分, 2026年11月3日 9:15:30, 2026年11月3日9时15分30秒. No offset: the district's time.
 */
const CHINESE_START = /^(\d{4})年(\d{1,2})月(\d{1,2})[日号][ \t]*(\d{1,2})(?::(\d{2})(?::(\d{2}))?|[时点](\d{1,2})分(?:(\d{1,2})秒)?)$/;

/**
 * A 12-hour time as a zh-CN Excel or WPS writes one (its AM/PM is 上午/下午, before the time as the zh-CN formats put
 * it or after it as h:mm AM/PM does): 2026/11/3 下午 3:15, 2026年11月3日 上午9:15, 2026年11月3日 下午3时15分,
 * 2026/11/3 3:15 下午; or as one in an English locale writes it, AM/PM after the time (in any case, with or without a
 * space or dots): 2026-11-03 09:15 PM, 2026/11/3 9:15pm, and the US date, month first: 11/3/2026 9:15 PM. The hour is
 * 1–12, 12 the half's first hour (上午12:15 and 12:15 AM are 00:15, 下午12:15 and 12:15 PM are 12:15), or 0 as
 * ICU-based tools write that hour (上午0:15). Only these two halves: 中午, 晚上 and 凌晨 are no spreadsheet's, and 晚上12点
 * is read both ways by people, so they stay unread and are named as any other time the check does not take.
 */
const YEAR_FIRST_DATE = String.raw`\d{4}(?:[-/]\d{1,2}[-/]\d{1,2}|年\d{1,2}月\d{1,2}[日号])`;
/** A time's minutes and seconds after its hour: :15, :15:30, 时15分, 点5分30秒. */
const CLOCK_REST = String.raw`(?::\d{2}){1,2}|[时点]\d{1,2}分(?:\d{1,2}秒)?`;
const HALF_BEFORE = new RegExp(String.raw`^(${YEAR_FIRST_DATE})[ \t]*(上午|下午)[ \t]*(\d{1,2})(${CLOCK_REST})$`);
const HALF_AFTER = new RegExp(String.raw`^(${YEAR_FIRST_DATE})[ \t]*(\d{1,2})(${CLOCK_REST})[ \t]*(上午|下午)$`);
/** AM or PM as English-locale spreadsheets and people write it: AM, am, a.m., A.M. */
const ENGLISH_HALF = String.raw`([AaPp])\.?[Mm]\.?`;
const ENGLISH_HALF_AFTER = new RegExp(String.raw`^(${YEAR_FIRST_DATE})[ \t]+(\d{1,2})((?::\d{2}){1,2})[ \t]*${ENGLISH_HALF}$`);

/**
 * A date with the year last, as English-locale spreadsheets write it: 11/3/2026 (en-US, month first) or 03/11/2026
 * (en-GB, day first), with the time after it. Which of the two it is, the date alone does not say. It is read only
 * month first with AM/PM after the time (11/3/2026 9:15 PM: en-US Excel and WPS write the 12-hour clock, day-first
 * locales the 24-hour one); without AM/PM (03/11/2026 21:15) it is not read, and a first number past 12
 * (25/11/2026 9:15 PM), which only a day-first date has, says the file's dates are day first: not read either (its
 * rows with a day up to 12 would be taken month first), and named as such (see yearLastRule). A day-first locale that
 * writes AM/PM as well (en-AU) is not told apart by a date whose day is up to 12: README asks for such files year first.
 */
const YEAR_LAST_DATE = /^(\d{1,2})([-/.])(\d{1,2})\2(\d{4})(?=$|[ \t]|[Tt]\d)/;
const US_START = new RegExp(String.raw`^(\d{1,2})/(\d{1,2})/(\d{4})[ \t]+(\d{1,2})((?::\d{2}){1,2})[ \t]*${ENGLISH_HALF}$`);

/** The hour of a 12-hour time on the 24-hour clock: 12 (or 0) is the half's first hour. */
const hourOfHalf = (hour: string, pm: boolean) => (Number(hour) % 12) + (pm ? 12 : 0);

/**
 * `2026/11/3 下午 3:15` → `2026/11/3 15:15`, `2026-11-03 09:15 PM` → `2026-11-03 21:15`, `11/3/2026 9:15 PM` →
 * `2026/11/3 21:15`; what holds no 上午/下午 or AM/PM, or an hour past 12 beside one, as it came.
 */
function twentyFourHour(s: string): string {
  const us = US_START.exec(s);
  if (us) {
    const [, month = '', day = '', year = '', hour = '', rest = '', half = ''] = us;
    // A first number past 12 is no month: a day-first date, not read (see YEAR_LAST_DATE).
    if (Number(hour) > 12 || Number(month) > 12) return s;
    return `${year}/${month}/${day} ${hourOfHalf(hour, half.toLowerCase() === 'p')}${rest}`;
  }
  const english = ENGLISH_HALF_AFTER.exec(s);
  if (english) {
    const [, date = '', hour = '', rest = '', half = ''] = english;
    return Number(hour) > 12 ? s : `${date} ${hourOfHalf(hour, half.toLowerCase() === 'p')}${rest}`;
  }
  const before = HALF_BEFORE.exec(s);
  const after = before ? null : HALF_AFTER.exec(s);
  const [date = '', half = '', hour = '', rest = ''] = before
    ? [before[1], before[2], before[3], before[4]]
    : after
      ? [after[1], after[4], after[2], after[3]]
      : [];
  if (!half || Number(hour) > 12) return s;
  return `${date} ${hourOfHalf(hour, half === '下午')}${rest}`;
}

/**
 * Why a start with the year last that was not read is not, for its 400: a day-first date (25/11/2026), or one that
 * may be either (03/11/2026 21:15); null for any other start.
 */
function yearLastRule(written: string): string | null {
  const s = written.normalize('NFKC').trim();
  const m = YEAR_LAST_DATE.exec(s);
  if (!m) return null;
  const [date = '', first = '', , second = '', year = ''] = m;
  const two = (n: string) => n.padStart(2, '0');
  if (Number(first) > 12 && Number(second) <= 12) {
    return `${date} is written day first, which is not read (a date such as 03/11/2026 could be 3 November or 11 March): write the date year first, ${year}-${two(second)}-${two(first)}, or month first with AM/PM as a US spreadsheet does, ${Number(second)}/${Number(first)}/${year} 9:15 PM`;
  }
  // A US date with AM/PM not read for its time (13:15 PM) or day (2/30/2026) is any start the check does not take.
  if (new RegExp(String.raw`${ENGLISH_HALF}$`).test(s) && date.includes('/')) return null;
  return `${date}: a date with the year last is read only as a US spreadsheet writes it, month first with AM/PM after the time (11/3/2026 9:15 PM), since 03/11/2026 could be 3 November or 11 March; write the date year first (2026-11-03 21:15)`;
}

/**
 * `2026-11-03 09:15:00` → `2026-11-03T09:15:00`: the space many exports put between date and time (a tab or
 * several spaces too), a spreadsheet's `2026/11/3 9:15` → `2026-11-03T09:15`, and the Chinese `2026年11月3日 9:15`
 * or `2026年11月3日09时15分` → `2026-11-03T09:15`, full-width digits and colons as ASCII ones (NFKC); and the rest as
 * every time the service takes (normalizeDateTime: an offset without its colon, +0800; a lower-case t or z).
 * What is no date-time stays as it came, for the check to name.
 */
function isoSeparator(v: unknown): unknown {
  if (typeof v !== 'string') return blankToUndefined(v);
  const written = v.normalize('NFKC').trim();
  if (written === '') return undefined;
  const s = twentyFourHour(written);
  const two = (n: string) => n.padStart(2, '0');
  const chinese = CHINESE_START.exec(s);
  if (chinese) {
    const [, y = '', mo = '', d = '', h = '', colonMinutes, colonSeconds, minutes = '', seconds] = chinese;
    const sec = colonSeconds ?? seconds;
    return `${y}-${two(mo)}-${two(d)}T${two(h)}:${two(colonMinutes ?? minutes)}${sec === undefined ? '' : `:${two(sec)}`}`;
  }
  if (s !== written && !SPREADSHEET_START.test(s)) return written;
  const padded = s.replace(SPREADSHEET_START, (_m, y: string, mo: string, d: string, h: string, mi: string) => `${y}-${two(mo)}-${two(d)}T${two(h)}:${mi}`);
  return normalizeDateTime(padded);
}

/** The years check of an instant; a local start is checked as if at UTC (the intake checks it again once its zone is known). */
const inServiceYears = (v: string) => instantInServiceYears(LOCAL_START.test(v) ? `${v}Z` : v);

const STARTED_AT_DESCRIPTION =
  'When the call started, ISO 8601: with a UTC offset (2026-11-28T21:30:05+08:00, or Z), or without one (2026-11-28T21:30:05, ' +
  "2026-11-28 21:30:05, 2026/11/28 21:30 as a spreadsheet saves it, or the Chinese way: 2026年11月28日 21:30, 2026年11月28日21时30分05秒, and 12-hour as a zh-CN Excel or WPS writes it: 2026/11/28 下午 9:30, 2026年11月28日 下午9时30分, 上午12:15 being 00:15, or as one in an English locale does: 2026-11-28 09:30 PM, 2026/11/28 9:30pm, and month first, as a US spreadsheet writes it, 11/28/2026 9:30 PM, 12:15 AM being 00:15), read as the district's time (the district file's time zone, Asia/Shanghai by default). The offset may be written without its colon (+0800), " +
  'and T and Z in lower case (RFC 3339). ' +
  'A date with the year last is read only month first with AM/PM (11/28/2026 9:30 PM): without AM/PM (11/28/2026 21:30, 03/11/2026 21:30), or day first (28/11/2026), it is a 400 naming startedAt, as 03/11/2026 could be 3 November or 11 March. ' +
  'An impossible date or an offset beyond -12:00…+14:00 is a 400 naming startedAt.';

/**
 * A call id or number sent as a JSON number (20261128093000123456, as some exports write numeric ids): its digits
 * when JSON kept them all, else the number itself, refused as LOST_DIGITS. A JSON number past 2^53 has already lost
 * its last digits (…123456 arrives as …123460, written 2.0261128093000123e+22), so it would name another call.
 */
function wholeNumberText(v: number): string | number {
  return Number.isSafeInteger(v) && v >= 0 ? String(v) : v;
}
const LOST_DIGITS = 'must be a string: a JSON number this long (over 9007199254740991), negative or not whole does not keep its digits; write it in quotes';

/** '' and null mean "not given" (empty CSV cells, empty query parameters). */
const blankToUndefined = (v: unknown) => (v === '' || v === null ? undefined : v);

const flexBoolean = z.preprocess(
  (v) => {
    if (typeof v !== 'string') return blankToUndefined(v);
    const s = v.trim().toLowerCase();
    if (s === '') return undefined;
    if (['true', '1', 'yes', 'on', '是'].includes(s)) return true;
    if (['false', '0', 'no', 'off', '否'].includes(s)) return false;
    return v;
  },
  z.boolean({ error: 'must be true or false' }).optional(),
);

const text = (max: number) =>
  z.preprocess(
    blankToUndefined,
    z
      .string({ error: 'must be a string' })
      .trim()
      .min(1, 'must not be empty')
      // Only invisible characters (a zero-width space) say nothing, as in a report.
      .refine((t) => !showsNothing(t), 'must not be empty')
      .refine((t) => [...t].length <= max, `at most ${max} characters`)
      .optional(),
  );

/** A code of the district file, with an example of its kind (a type's code is no example of a bureau's). */
const codeOf = (example: string) =>
  z.preprocess(
    blankToUndefined,
    z
      .string({ error: 'must be a string' })
      .trim()
      .regex(/^[a-z][a-z0-9_]{0,59}$/, `must be a code of the district file, e.g. ${example}`)
      .optional(),
  );
const typeCode = codeOf('illegal_discharge');
const bureauCode = codeOf('epb');
const jurisdictionCode = codeOf('xinglong');

// Strict: a misspelt field is a 400 naming it, never silently dropped.
const partSchema = z.strictObject(
  {
    text: z
      .string({ error: (i) => (i.input === undefined ? 'required' : 'must be a string') })
      .trim()
      .min(1, 'must not be empty')
      .refine((t) => !showsNothing(t), 'must not be empty')
      .refine((t) => [...t].length <= MAX_CASE_TEXT_CHARS, `at most ${MAX_CASE_TEXT_CHARS} characters`),
    type: typeCode,
    lead: bureauCode,
    jurisdiction: jurisdictionCode,
    placeUnknown: flexBoolean,
    urgent: flexBoolean,
  },
  { error: 'must be an object { text, type?, jurisdiction?, placeUnknown?, urgent? }' },
);

/** A call id: no spaces or control characters. */
const CALL_ID = /^[^\s\p{C}]+$/u;

/**
 * A long number as a spreadsheet shows and saves it (2.02611E+16): a CSV of call ids or numbers opened and saved in
 * Excel keeps six digits of each. Taken as a call id it would make many calls one (the second a 409, or a duplicate).
 */
const SPREADSHEET_NUMBER = /^\d(?:\.\d+)?E\+\d{1,3}$/i;
const SPREADSHEET_NUMBER_RULE =
  'a spreadsheet wrote this number in scientific notation and lost its digits: format the column as text and export the calls again';

export const callSchema = z
  .strictObject({
    hotline: z.preprocess(
      (v) => (typeof v === 'number' ? String(v) : typeof v === 'string' ? v.trim() : v),
      z.enum(HOTLINES, { error: (i) => (i.input === undefined || i.input === '' ? 'required' : 'must be "12345" or "12369"') }),
    ),
    callId: z.preprocess(
      (v) => (typeof v === 'number' ? wholeNumberText(v) : blankToUndefined(v)),
      z
        .string({ error: (i) => (i.input === undefined ? 'required' : typeof i.input === 'number' ? LOST_DIGITS : 'must be a string') })
        .trim()
        .min(1, 'must not be empty')
        .max(100, 'at most 100 characters')
        .regex(CALL_ID, 'no spaces or control characters')
        // A call is read back at /api/v1/hotline/calls/{hotline}/{callId}, where . and .. are no name but a step in the path.
        .refine((v) => !/^\.+$/.test(v), 'not dots alone')
        .refine((v) => !SPREADSHEET_NUMBER.test(v), SPREADSHEET_NUMBER_RULE)
        // Documented without Unicode property escapes, which validators that read patterns without the
        // `u` flag misread (a pattern with the regex's flags, as generated, matched no call id at all).
        .openapi({ pattern: '^[^\\s\\u0000-\\u001f\\u007f-\\u009f]+$' }),
    ),
    startedAt: z
      .preprocess(
        isoSeparator,
        z.iso
          .datetime({
            offset: true,
            local: true,
            // What is no date-time is named as such alone, not also as a time outside the service's years.
            abort: true,
            error: (i) =>
              i.input === undefined
                ? 'required'
                : ((typeof i.input === 'string' ? yearLastRule(i.input) : null) ??
                  "must be an ISO 8601 date-time, e.g. 2026-11-28T21:30:05+08:00, or 2026年11月28日 21:30 (without an offset, the district's time)"),
          })
          .refine(inServiceYears, INSTANT_RULE)
          .refine(offsetExists, OFFSET_RULE),
      )
      .openapi({ description: STARTED_AT_DESCRIPTION }),
    callerNumber: z.preprocess(
      (v) => (typeof v === 'number' ? wholeNumberText(v) : typeof v === 'string' && v.trim() !== '' && !SPREADSHEET_NUMBER.test(v.trim()) ? normalizeCallerNumber(v) : blankToUndefined(v)),
      z
        .string({ error: (i) => (typeof i.input === 'number' ? LOST_DIGITS : 'must be a string') })
        .refine((n) => !SPREADSHEET_NUMBER.test(n.trim()), { message: SPREADSHEET_NUMBER_RULE, abort: true })
        .refine((n) => /^\+?\d{5,20}$/.test(mainCallerNumber(n)) || (MASKED_NUMBER.test(mainCallerNumber(n)) && mainCallerNumber(n).replace(/\D/g, '').length >= 4), CALLER_NUMBER_RULE)
        .refine((n) => !zerosOnly(mainCallerNumber(n)), CALLER_NUMBER_RULE)
        .refine((n) => mainCallerNumber(n) === n || /^\d{1,6}$/.test(n.slice(mainCallerNumber(n).length + EXTENSION_MARK.length)), CALLER_NUMBER_RULE)
        .optional(),
    ).openapi({
      description:
        'The caller\'s number as the hotline system writes it (spaces, dashes, brackets, full-width digits), or already masked (138****5678). ' +
        'An extension (0731-88886666转123, 88886666-123, ext. 123) is kept as 073188886666转123 for a callback; masked, the number shows without it.',
    }),
    operator: text(100),
    transcript: z
      .string({ error: (i) => (i.input === undefined ? 'required' : 'must be a string') })
      .refine((t) => !showsNothing(t), 'must not be empty')
      .refine((t) => t.length <= MAX_TRANSCRIPT_CHARS, `at most ${MAX_TRANSCRIPT_CHARS} characters`),
    summary: text(2000),
    anonymous: flexBoolean,
    externalRef: text(200),
    review: flexBoolean,
    // The operator's corrections of the machine's proposal.
    type: typeCode,
    lead: bureauCode,
    jurisdiction: jurisdictionCode,
    /** The operator says the place is not known (the proposed jurisdiction is wrong and no other is right). */
    placeUnknown: flexBoolean,
    urgent: flexBoolean,
    text: text(MAX_CASE_TEXT_CHARS),
    parts: z.preprocess(
      (v) => {
        // A CSV cell or query parameter carries the parts as JSON text.
        if (typeof v !== 'string') return blankToUndefined(v);
        if (v.trim() === '') return undefined;
        try {
          return JSON.parse(v) as unknown;
        } catch {
          return v;
        }
      },
      z
        .array(partSchema, { error: 'must be an array of parts [{ text, type?, jurisdiction?, urgent? }, …]' })
        .min(2, 'a split needs at least 2 parts')
        .max(MAX_PARTS, `at most ${MAX_PARTS} parts`)
        .optional(),
    ),
  })
  .superRefine((v, ctx) => {
    // Text the service does not keep (a NUL character, a lone surrogate, bytes that were not UTF-8) is named like any other bad field.
    const texts: Array<[Array<string | number>, string | undefined]> = [
      [['callId'], v.callId],
      [['operator'], v.operator],
      [['transcript'], v.transcript],
      [['summary'], v.summary],
      [['externalRef'], v.externalRef],
      [['text'], v.text],
      ...(v.parts ?? []).map((p, i): [Array<string | number>, string] => [['parts', i, 'text'], p.text]),
    ];
    for (const [path, value] of texts) {
      const fault = value === undefined ? null : textFault(value);
      if (fault) ctx.addIssue({ code: 'custom', path, message: fault });
    }
    if (v.parts && v.text !== undefined) ctx.addIssue({ code: 'custom', path: ['text'], message: 'give either text or parts, not both' });
    if (v.parts && v.type !== undefined) ctx.addIssue({ code: 'custom', path: ['type'], message: 'with parts, give the type of each part (parts.N.type)' });
    // The lead goes with a type: one for the whole call would be silently one part's or none.
    if (v.parts && v.lead !== undefined) ctx.addIssue({ code: 'custom', path: ['lead'], message: 'with parts, give the lead of each part (parts.N.lead)' });
  });

export type CallInput = z.infer<typeof callSchema>;
export type CallPart = NonNullable<CallInput['parts']>[number];

/** The fields of a call, for CSV headers and query parameters. */
export const CALL_FIELDS = Object.keys(callSchema.shape) as Array<keyof CallInput>;
