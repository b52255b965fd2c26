import { findCallKeys } from '../../db/repositories/hotline-calls.repository.js';
import { TEXT_FAULTS } from '../domain/text.js';
import { AppError, fieldsOf } from '../errors.js';
import { CALL_FIELDS, callSchema, type CallInput } from './call-schema.js';
import { readHead } from '../stream-head.js';
import { acceptCall, resavedCallIds, sameCallResaved, type Actor, type HotlineDeps, type KnownCall } from './hotline-intake.js';

/**
 * Batch import of hotline calls: NDJSON (one call a line) or CSV (a header
 * row with the field names of a call, then one call a row). The input is read
 * as a stream, a batch of records at a time, and the results come out as a
 * stream in line order, so memory stays bounded whatever the size of the file
 * and a reader that stops reading stops the import. A bad record is rejected
 * with its line number and reason and never stops the others; a call already
 * on record is a duplicate, so a re-run of the same file creates nothing.
 */

export type ImportFormat = 'ndjson' | 'csv';

export type ImportResult =
  | { line: number; status: 'created' | 'duplicate'; callId: string; caseIds: string[] }
  | {
      line: number;
      status: 'rejected';
      callId?: string;
      reason: string;
      fields?: Record<string, string>;
      /** In a CSV, the column each of `fields` was headed by, where it is not the field's own name ({ startedAt: '来电时间' }). */
      columns?: Record<string, string>;
    };

export interface ImportSummary {
  summary: { records: number; created: number; duplicate: number; rejected: number; cases: number };
}

/** Longest line (NDJSON) or record (CSV) accepted, in characters: a runaway line is rejected, not buffered. */
export const MAX_RECORD_CHARS = 1_000_000;
/** Records handled together: looked up at once and group-committed together. */
export const IMPORT_BATCH = 200;

export function formatOf(contentTypeOrPath: string): ImportFormat | null {
  const s = contentTypeOrPath.toLowerCase();
  if (/^(application\/(x-)?ndjson|application\/(x-)?jsonl(ines)?|application\/json-seq)\b/.test(s) || /\.(ndjson|jsonl)$/.test(s)) return 'ndjson';
  if (/^(text\/csv|application\/csv)\b/.test(s) || /\.csv$/.test(s)) return 'csv';
  return null;
}

// ---------------------------------------------------------------------------
// Readers

interface RawRecord {
  /** 1-based number of the line the record starts on. */
  line: number;
  /** The record, or why it could not be read (with the fields that could not be, when known). */
  value: { ok: true; fields: unknown } | { ok: false; reason: string; fields?: Record<string, string>; callId?: string };
  /** In a CSV, the column heading of each field headed other than by its own name (startedAt → 来电时间). */
  headings?: ReadonlyMap<string, string>;
}

/** A field as its file named it: `来电时间 (startedAt)` for a column headed 来电时间, `startedAt` where the heading is the name. */
function asHeaded(field: string, headings: ReadonlyMap<string, string> | undefined): string {
  const heading = headings?.get(field);
  return heading === undefined ? field : `${heading} (${field})`;
}

async function* chunksOf(stream: ReadableStream<string>): AsyncGenerator<string> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      if (value) yield value;
    }
  } finally {
    // Stops the upload when the import is abandoned (the client went away).
    await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

/** Lines of a text stream (LF or CRLF), numbered from 1; a line over the limit is reported, not kept. */
export async function* splitLines(stream: ReadableStream<string>, maxChars = MAX_RECORD_CHARS): AsyncGenerator<{ line: number; text: string | null }> {
  let buffer = '';
  let overflow = false;
  let line = 0;
  for await (const chunk of chunksOf(stream)) {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf('\n', start);
      if (nl < 0) break;
      const piece = chunk.slice(start, nl);
      start = nl + 1;
      line++;
      if (overflow || buffer.length + piece.length > maxChars) yield { line, text: null };
      else yield { line, text: (buffer + piece).replace(/\r$/, '') };
      buffer = '';
      overflow = false;
    }
    if (!overflow) {
      const rest = chunk.slice(start);
      if (buffer.length + rest.length > maxChars) {
        overflow = true;
        buffer = '';
      } else buffer += rest;
    }
  }
  if (overflow || buffer !== '') {
    line++;
    yield overflow ? { line, text: null } : { line, text: buffer.replace(/\r$/, '') };
  }
}

/** Characters no text file holds: C0 controls other than tab and line breaks, and DEL. */
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/** What a decoder leaves in place of bytes that are no character of the encoding it reads. */
const NOT_UTF8 = '\uFFFD';

/** Why a record with bytes that are no character of the import's encoding is rejected, and what its fields say. */
interface UndecodedFault {
  /** The fault, as the reason starts: `not valid UTF-8`. */
  what: string;
  /** What to do about it, after the fields named. */
  advice: string;
  field: string;
}

const UNDECODED: Record<'utf-8' | 'gb18030', UndecodedFault> = {
  // The rest of the file read as UTF-8 (a GBK file is read as GBK whole): one record in another encoding.
  'utf-8': { what: 'not valid UTF-8', advice: 'save the whole file in one encoding, UTF-8 or GBK / GB 18030', field: TEXT_FAULTS.notUtf8 },
  gb18030: { what: 'not valid GB 18030', advice: 'bytes that are no GBK or GB 18030 character', field: 'must be GBK / GB 18030 text (found bytes that are not)' },
};

const undecodedFault = (encoding: FileEncoding): UndecodedFault => UNDECODED[encoding === 'gb18030' ? 'gb18030' : 'utf-8'];

/** The reason of a record rejected for bytes that are no character, naming the fields that hold them as its file does: `not valid UTF-8 in 通话内容 (transcript) (…)`. */
function undecodedReason(fault: UndecodedFault, named: readonly string[]): string {
  return `${fault.what}${named.length > 0 ? ` in ${named.join(', ')}` : ''} (${fault.advice})`;
}

async function* ndjsonRecords(stream: ReadableStream<string>, fault: UndecodedFault): AsyncGenerator<RawRecord> {
  for await (const { line, text } of splitLines(stream)) {
    if (text === null) {
      yield { line, value: { ok: false, reason: `line longer than ${MAX_RECORD_CHARS} characters` } };
      continue;
    }
    const trimmed = line === 1 ? text.replace(/^\uFEFF/, '').trim() : text.trim();
    if (trimmed === '') continue;
    if (trimmed.includes(NOT_UTF8)) {
      const named = notUtf8Fields(parsedObject(trimmed), fault);
      yield { line, value: { ok: false, reason: undecodedReason(fault, Object.keys(named.fields ?? {})), ...named } };
      continue;
    }
    try {
      const fields: unknown = JSON.parse(trimmed);
      if (fields === null || typeof fields !== 'object' || Array.isArray(fields)) {
        yield { line, value: { ok: false, reason: 'not a JSON object' } };
      } else yield { line, value: { ok: true, fields } };
    } catch (err) {
      yield { line, value: { ok: false, reason: notJsonReason(err as Error) } };
    }
  }
}

/** A line's JSON object, or null when it is none. */
function parsedObject(text: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * The fields of a record that hold bytes that were not UTF-8, named as any bad field is, and its call id when
 * that one is whole: so the rejected record says which of its fields to fix.
 */
function notUtf8Fields(record: Record<string, unknown> | null, fault: UndecodedFault): { fields?: Record<string, string>; callId?: string } {
  if (!record) return {};
  const bad = Object.entries(record).filter(([, v]) => typeof v === 'string' && v.includes(NOT_UTF8));
  const callId = record['callId'];
  return {
    ...(bad.length > 0 ? { fields: Object.fromEntries(bad.map(([k]) => [k, fault.field])) } : {}),
    ...(typeof callId === 'string' && callId !== '' && !callId.includes(NOT_UTF8) ? { callId } : {}),
  };
}

/**
 * Where a line stopped being JSON, without the parser's quote of the line:
 * the quote can hold a caller's number or words, and the reason goes back to
 * whoever uploaded the file.
 */
export function notJsonReason(err: Error): string {
  const at = /at position (\d+)/.exec(err.message)?.[1];
  const token = /^Unexpected token '(.)'/.exec(err.message)?.[1];
  if (at !== undefined) return `not valid JSON (at character ${Number(at) + 1})`;
  if (token !== undefined && !/[\p{L}\p{N}]/u.test(token)) return `not valid JSON (unexpected '${token}')`;
  return 'not valid JSON';
}

/** A CSV record with the line it starts on: its fields, or why it cannot be read (and no fields). */
export type CsvRow = { line: number; fields: string[] } | { line: number; fields: null; reason: string };

/**
 * CSV records (RFC 4180): fields separated by commas, quoted with "…" when
 * they hold commas, quotes ("" inside quotes) or line breaks. A record that
 * breaks the format (text after a closing quote, a quote left open, more than
 * `maxChars` characters, which are not kept) comes with its reason, and the
 * records after it are read as usual. (csv-parse's skip_records_with_error
 * was tried for this: after such a record it loses the ones that follow.)
 */
export async function* csvRows(stream: ReadableStream<string>, maxChars = MAX_RECORD_CHARS): AsyncGenerator<CsvRow> {
  let fields: string[] = [];
  let field = '';
  let size = 0;
  let quoted = false;
  /** After a closing quote: a second quote means a literal one. */
  let quoteSeen = false;
  let fieldStarted = false;
  let line = 1;
  let recordLine = 1;
  let first = true;
  let overflow = false;
  /** Why the record being read cannot be used (its first fault), if it cannot. */
  let fault: string | null = null;
  let pendingCR = false;

  const endRecord = function* (): Generator<CsvRow> {
    fields.push(field);
    const reason = overflow ? `record longer than ${maxChars} characters` : fault;
    const empty = reason === null && fields.length === 1 && fields[0] === '';
    const out = fields;
    fields = [];
    field = '';
    size = 0;
    fieldStarted = false;
    overflow = false;
    fault = null;
    if (reason !== null) yield { line: recordLine, fields: null, reason };
    else if (!empty) yield { line: recordLine, fields: out };
  };

  // Fields are built from slices of the chunk (runs between special characters), not a character at a time:
  // a string grown one character at a time is a rope many times the size of its text.
  const append = (piece: string) => {
    size += piece.length;
    if (size > maxChars) overflow = true;
    if (!overflow) field += piece;
  };
  const SPECIAL = /[,\r\n]/g;

  for await (let chunk of chunksOf(stream)) {
    if (first) {
      chunk = chunk.replace(/^\uFEFF/, '');
      first = false;
    }
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      if (pendingCR) {
        pendingCR = false;
        if (chunk[i] === '\n') {
          i++;
          continue;
        }
      }
      if (quoted) {
        if (quoteSeen) {
          quoteSeen = false;
          if (chunk[i] === '"') {
            append('"');
            i++;
            continue;
          }
          quoted = false; // the quote closed the field: only a comma or the end of the record may follow
          const next = chunk[i];
          if (next !== ',' && next !== '\r' && next !== '\n') {
            fault ??= `text after the closing quote of field ${fields.length + 1} (quote the whole field, with "" for a quote inside it)`;
          }
          continue;
        }
        const q = chunk.indexOf('"', i);
        const end = q < 0 ? n : q;
        const piece = chunk.slice(i, end);
        for (let nl = piece.indexOf('\n'); nl >= 0; nl = piece.indexOf('\n', nl + 1)) line++;
        append(piece);
        if (q < 0) i = n;
        else {
          quoteSeen = true;
          i = q + 1;
        }
        continue;
      }
      const ch = chunk[i]!;
      if (ch === ',') {
        fields.push(field);
        field = '';
        fieldStarted = false;
        i++;
      } else if (ch === '\n' || ch === '\r') {
        if (ch === '\r') pendingCR = true;
        yield* endRecord();
        line++;
        recordLine = line;
        i++;
      } else if (ch === '"' && !fieldStarted) {
        quoted = true;
        fieldStarted = true;
        i++;
      } else {
        SPECIAL.lastIndex = i;
        const m = SPECIAL.exec(chunk);
        const end = m ? m.index : n;
        fieldStarted = true;
        append(chunk.slice(i, end));
        i = end;
      }
    }
  }
  if (quoted && !quoteSeen) {
    // An unterminated quote swallowed the rest of the file.
    yield { line: recordLine, fields: null, reason: 'a quote opened here is never closed: the rest of the file is inside it' };
    return;
  }
  if (field !== '' || fields.length > 0) yield* endRecord();
}

const REQUIRED_COLUMNS = ['hotline', 'callId', 'startedAt', 'transcript'] as const;

/**
 * The Chinese names call-centre exports and the console give the columns (来电时间 for startedAt), besides the
 * fields' own names.
 */
const CHINESE_COLUMNS: Readonly<Record<string, CallField>> = {
  热线: 'hotline',
  热线号码: 'hotline',
  来电编号: 'callId',
  通话编号: 'callId',
  来电时间: 'startedAt',
  呼入时间: 'startedAt',
  通话开始时间: 'startedAt',
  来电号码: 'callerNumber',
  主叫号码: 'callerNumber',
  坐席: 'operator',
  话务员: 'operator',
  接线员: 'operator',
  通话记录: 'transcript',
  通话内容: 'transcript',
  录音转写: 'transcript',
  摘要: 'summary',
  来电摘要: 'summary',
  匿名: 'anonymous',
  是否匿名: 'anonymous',
  外部编号: 'externalRef',
  工单编号: 'externalRef',
  问题类型: 'type',
  牵头单位: 'lead',
  属地: 'jurisdiction',
  地点不明: 'placeUnknown',
  紧急: 'urgent',
  是否紧急: 'urgent',
  举报内容: 'text',
};

type CallField = (typeof CALL_FIELDS)[number];

/**
 * A column's name as it is compared: full-width letters, digits and signs as ASCII ones (NFKC: ＣＡＬＬ＿ＩＤ), in
 * any case, and without spaces, underscores or dashes (Call_ID, call id, caller-number).
 */
function foldColumn(name: string): string {
  return name.normalize('NFKC').toLowerCase().replace(/[\s_-]/g, '');
}

const COLUMNS_BY_FOLD = new Map<string, CallField>([
  ...CALL_FIELDS.map((f): [string, CallField] => [foldColumn(f), f]),
  ...Object.entries(CHINESE_COLUMNS).map(([name, f]): [string, CallField] => [foldColumn(name), f]),
]);

/**
 * The fields a CSV header names, column by column ('' for a column without a name, which is not read): each name
 * as the call's field or its Chinese name, in any case, width or spacing (` Call_ID `, `ＣＡＬＬ＿ＩＤ`, ` 来电时间 `).
 * A header that lacks a required column, names one the call does not have, or names a field twice (`callId` and
 * `Call_ID`) is a 400 before anything is read further. The message is the header's problem as the field names it,
 * said once (the command line prints no field its message already holds).
 */
export function csvColumns(header: readonly string[]): string[] {
  const refuse = (problem: string) => new AppError('validation_failed', `the CSV header has ${problem}`, { header: problem });
  const written = header.map((h) => h.trim());
  const fields = written.map((h) => (foldColumn(h) === '' ? '' : (COLUMNS_BY_FOLD.get(foldColumn(h)) ?? null)));
  const missing = REQUIRED_COLUMNS.filter((c) => !fields.includes(c));
  if (missing.length > 0) {
    throw refuse(`missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (the first row names the fields: hotline,callId,startedAt,transcript,…)`);
  }
  const unknown = written.filter((_, i) => fields[i] === null).map((c) => `unknown column "${c}"`);
  const repeated: string[] = [];
  fields.forEach((f, i) => {
    if (!f || fields.indexOf(f) !== i) return;
    const names = written.filter((_, j) => fields[j] === f);
    if (names.length < 2) return;
    if (names.every((n) => n === names[0])) repeated.push(`column "${names[0]}" ${names.length > 2 ? `${names.length} times` : 'twice'}`);
    else repeated.push(`columns ${names.map((n) => `"${n}"`).join(' and ')} are the same field ${f}`);
  });
  if (unknown.length > 0 || repeated.length > 0) throw refuse(`${[...unknown, ...repeated].join(', ')} (the columns: ${CALL_FIELDS.join(',')})`);
  return fields.map((f) => f ?? '');
}

/** CSV records as objects keyed by the header; the header is checked before the first record is read. */
async function* csvRecords(rows: AsyncGenerator<CsvRow>, header: string[], written: readonly string[], fault: UndecodedFault): AsyncGenerator<RawRecord> {
  const headings = new Map(header.flatMap((field, i) => (field !== '' && written[i]!.trim() !== field ? [[field, written[i]!.trim()] as const] : [])));
  for await (const row of rows) {
    const { line, fields } = row;
    if (fields === null) {
      yield { line, value: { ok: false, reason: row.reason } };
      continue;
    }
    // A row of empty cells (,,,, — what a spreadsheet writes for rows that were formatted or cleared) is no call, as a blank line is none.
    if (fields.every((f) => f.trim() === '')) continue;
    if (fields.length !== header.length) {
      yield { line, value: { ok: false, reason: `${fields.length} fields where the header has ${header.length}` } };
      continue;
    }
    const record: Record<string, string> = {};
    header.forEach((name, i) => {
      if (name !== '') record[name] = fields[i]!;
    });
    // Only the columns read count: bytes in a column without a name, which is not read, reject nothing.
    const named = notUtf8Fields(record, fault);
    if (named.fields) {
      const reason = undecodedReason(fault, Object.keys(named.fields).map((f) => asHeaded(f, headings)));
      yield { line, value: { ok: false, reason, ...named }, headings };
      continue;
    }
    yield { line, value: { ok: true, fields: record }, headings };
  }
}

/**
 * Opens an import: reads the CSV header (throwing a 400 when it lacks a
 * required column) and returns the records. Nothing is written yet. The
 * encoding the text was read in says why a record with bytes that are not
 * of it is rejected.
 */
export async function openImport(stream: ReadableStream<string>, format: ImportFormat, encoding: FileEncoding = 'utf-8'): Promise<AsyncGenerator<RawRecord>> {
  const fault = undecodedFault(encoding);
  if (format === 'ndjson') return ndjsonRecords(stream, fault);
  const rows = csvRows(stream);
  const first = await rows.next();
  const written = first.done || first.value.fields === null ? [] : first.value.fields;
  let header: string[];
  try {
    // A header that breaks the format (a quote left open, text after a closing one) is named as such, not as missing columns.
    const broken = first.done || first.value.fields !== null ? null : first.value.reason;
    if (broken) throw new AppError('validation_failed', `the CSV header is no CSV record: ${broken}`, { header: broken });
    // A heading with bytes that are no character of the file's encoding would be named as an unknown column, or its
    // field as missing: the header names where they are instead. A first row with control characters is no text at
    // all (a binary file), and has no header: its columns are missing.
    const garbled = written.flatMap((h, i) => (h.includes(NOT_UTF8) ? [`column ${i + 1} ("${h.trim()}")`] : []));
    if (garbled.length > 0 && !written.some((h) => CONTROL.test(h))) {
      const problem = `${fault.what} in ${garbled.join(', ')} (${fault.advice})`;
      throw new AppError('validation_failed', `the CSV header is ${problem}`, { header: problem });
    }
    header = csvColumns(written);
  } catch (err) {
    await rows.return(undefined);
    throw err;
  }
  return csvRecords(rows, header, written, fault);
}

// ---------------------------------------------------------------------------
// The import

async function importOne(deps: HotlineDeps, actor: Actor, line: number, input: CallInput, known: KnownCall | null): Promise<ImportResult> {
  try {
    const outcome = await acceptCall(deps, input, actor, known);
    return { line, status: outcome.status, callId: input.callId, caseIds: outcome.cases.map((c) => c.id) };
  } catch (err) {
    if (err instanceof AppError && err.status < 500) {
      return { line, status: 'rejected', callId: input.callId, reason: err.message, ...(err.fields ? { fields: err.fields } : {}) };
    }
    throw err;
  }
}

type Parsed =
  | { kind: 'ok'; line: number; input: CallInput }
  | { kind: 'bad'; line: number; reason: string; fields?: Record<string, string>; callId?: string };

function parseRecord(r: RawRecord): Parsed {
  if (!r.value.ok) {
    const { reason, fields, callId } = r.value;
    return { kind: 'bad', line: r.line, reason, ...(fields ? { fields } : {}), ...(callId ? { callId } : {}) };
  }
  const raw = r.value.fields as Record<string, unknown>;
  const result = callSchema.safeParse(raw);
  if (!result.success) {
    const fields = fieldsOf(result.error);
    const callId = typeof raw['callId'] === 'string' ? raw['callId'] : undefined;
    const named = Object.keys(fields).map((f) => asHeaded(f, r.headings));
    return { kind: 'bad', line: r.line, reason: `invalid ${named.join(', ')}`, fields, ...(callId ? { callId } : {}) };
  }
  if (result.data.review) {
    return { kind: 'bad', line: r.line, reason: `${asHeaded('review', r.headings)} is not available in an import`, fields: { review: 'not in an import' }, callId: result.data.callId };
  }
  return { kind: 'ok', line: r.line, input: result.data };
}

async function importBatch(deps: HotlineDeps, actor: Actor, batch: RawRecord[]): Promise<ImportResult[]> {
  const parsed = batch.map(parseRecord);
  const ids = parsed.flatMap((p) => (p.kind === 'ok' ? [p.input.callId, ...resavedCallIds(p.input.callId)] : []));
  const onRecord = await findCallKeys(deps.db, ids);
  const known = new Map(onRecord.map((k) => [`${k.hotline}\u0000${k.callId}`, k] as const));
  // Concurrent within the batch, so the intake writer commits the batch's new calls together.
  const results = await Promise.all(
    parsed.map((p): Promise<ImportResult> | ImportResult => {
      if (p.kind === 'bad') {
        const { kind: _kind, ...rest } = p;
        return { ...rest, status: 'rejected' };
      }
      const call = known.get(`${p.input.hotline}\u0000${p.input.callId}`) ?? sameCallResaved(deps.district, p.input, onRecord);
      return importOne(deps, actor, p.line, p.input, call);
    }),
  );
  return results.map((r, i) => withColumns(r, batch[i]!.headings));
}

/** A rejected CSV record with the column headings of the fields it names, so the file's own words say what to fix. */
function withColumns(r: ImportResult, headings: ReadonlyMap<string, string> | undefined): ImportResult {
  if (r.status !== 'rejected' || !r.fields || !headings) return r;
  const columns = Object.keys(r.fields).flatMap((f) => {
    const heading = headings.get(f);
    return heading === undefined ? [] : [[f, heading] as const];
  });
  return columns.length > 0 ? { ...r, columns: Object.fromEntries(columns) } : r;
}

/** Runs an import and yields one result per record, in line order, then the summary. */
export async function* importCalls(
  deps: HotlineDeps,
  records: AsyncGenerator<RawRecord>,
  actor: Actor,
  batchSize = IMPORT_BATCH,
): AsyncGenerator<ImportResult | ImportSummary> {
  const summary = { records: 0, created: 0, duplicate: 0, rejected: 0, cases: 0 };
  let batch: RawRecord[] = [];
  const flush = async function* () {
    const results = await importBatch(deps, actor, batch);
    batch = [];
    for (const r of results) {
      summary.records++;
      summary[r.status]++;
      if (r.status === 'created') summary.cases += r.caseIds.length;
      yield r;
    }
  };
  try {
    for await (const record of records) {
      batch.push(record);
      if (batch.length >= batchSize) yield* flush();
    }
    if (batch.length > 0) yield* flush();
  } finally {
    await records.return(undefined);
  }
  yield { summary };
}

/** How much of an import is looked at to tell its encoding: a file's first bytes on the command line, a body's over HTTP. */
export const SNIFF_BYTES = 64 * 1024;

/** The charset a Content-Type declares (lower case, without quotes), or null. */
export function declaredCharset(contentType: string): string | null {
  return /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType)?.[1]?.toLowerCase() ?? null;
}

/** A charset that names GBK or GB 18030 (gbk, gb2312, gb18030, and the other labels the Encoding Standard gives them), which an import is read in. */
export function isGbCharset(charset: string): boolean {
  try {
    const { encoding } = new TextDecoder(charset);
    return encoding === 'gbk' || encoding === 'gb18030';
  } catch {
    return false;
  }
}

/** The field message of a body declared GBK / GB 18030 whose first bytes are not. */
const NOT_GB_BODY = (line: number) => `line ${line}: not GBK / GB 18030 text, as its charset says (bytes that are no such character)`;

/**
 * An import sent over HTTP as text, in the encoding its first bytes and its charset say: UTF-16 by its byte-order
 * mark (a CSV Excel saved as "Unicode text"); UTF-8 by its mark; GB 18030 when the request declares charset=gbk,
 * gb2312 or gb18030 (GB 18030 reads GBK and GB2312 alike); UTF-8 when it declares UTF-8; and without a charset, as
 * the command line tells a file's (sniffEncoding): GB 18030 when the first 64 KB are not UTF-8 but read as GB 18030
 * (a CSV Excel saved on a Chinese Windows), UTF-8 otherwise. A body declared GBK whose first 64 KB hold bytes that
 * are no GB 18030 character (most likely UTF-8 sent under the wrong charset) is a 400 naming the line, before anything
 * is imported; past them, the record holding such bytes is rejected, as a record that is not UTF-8 in a UTF-8 body is.
 * The first bytes are read to tell, and sent on with the rest.
 */
export async function decodeImportBody(body: ReadableStream<Uint8Array>, charset: string | null = null): Promise<{ text: ReadableStream<string>; encoding: FileEncoding }> {
  const head = await readHead(body, SNIFF_BYTES);
  if (head.error !== undefined) throw head.error;
  const whole = head.ended;
  const first = concatBytes(head.chunks);
  // Told from the first SNIFF_BYTES alone, as the command line tells a file's, however the body came in chunks.
  const sample = first.subarray(0, SNIFF_BYTES);
  const all = whole && first.length <= SNIFF_BYTES;
  const encoding: FileEncoding =
    utf16ByMark(sample) ??
    (sample[0] === 0xef && sample[1] === 0xbb && sample[2] === 0xbf ? 'utf-8' : charset === null ? sniffEncoding(sample, all) : isGbCharset(charset) ? 'gb18030' : 'utf-8');
  const bad = charset !== null && encoding === 'gb18030' ? firstLineNotGb18030(sample, all) : null;
  if (bad !== null) {
    await head.replay.cancel().catch(() => undefined);
    throw new AppError('validation_failed', `the body is not ${charset} text as its charset declares (line ${bad})`, { body: NOT_GB_BODY(bad) });
  }
  return { text: decodeText(head.replay, encoding), encoding };
}

function concatBytes(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** The number of the first line of these bytes that is no GB 18030 text, or null; the last line is judged only as far as it goes unless `whole`. */
function firstLineNotGb18030(bytes: Uint8Array, whole: boolean): number | null {
  const decoder = new TextDecoder('gb18030', { fatal: true });
  let start = 0;
  for (let line = 1; ; line++) {
    const nl = bytes.indexOf(0x0a, start);
    try {
      decoder.decode(bytes.subarray(start, nl < 0 ? bytes.length : nl), { stream: nl < 0 && !whole });
    } catch {
      return line;
    }
    if (nl < 0) return null;
    start = nl + 1;
  }
}

/** The encodings an import file is read in: UTF-8, or what Chinese Windows tools save (GBK / GB 18030, UTF-16 with its mark). */
export type FileEncoding = 'utf-8' | 'gb18030' | 'utf-16le' | 'utf-16be';

/** A byte stream as text in the given encoding, without its byte-order mark. */
export function decodeText(body: ReadableStream<Uint8Array>, encoding: FileEncoding): ReadableStream<string> {
  return encoding === 'gb18030' ? body.pipeThrough(gb18030Lines()) : body.pipeThrough(new TextDecoderStream(encoding));
}

/** Longest line kept whole to be decoded at once, in bytes: a GB 18030 character is at most 4 bytes. */
const MAX_LINE_BYTES = MAX_RECORD_CHARS * 4;

/**
 * GB 18030 bytes as text, a line at a time (a line feed is never part of a GB 18030 character), each line decoded
 * with a fatal decoder: a line that holds bytes that are no GB 18030 character is passed on with U+FFFD in their
 * place, so that the record holding them is rejected, naming its line and field, and the others are read. A line
 * longer than any record may be is passed on as it decodes, for the reader to reject as too long.
 */
function gb18030Lines(): TransformStream<Uint8Array, string> {
  const fatal = new TextDecoder('gb18030', { fatal: true });
  const lenient = new TextDecoder('gb18030');
  /** Decodes the runaway line as it comes. */
  const runaway = new TextDecoder('gb18030');
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let overlong = false;
  const decodeLine = (bytes: Uint8Array): string => {
    try {
      return fatal.decode(bytes);
    } catch {
      return lenient.decode(bytes);
    }
  };
  return new TransformStream<Uint8Array, string>({
    transform(chunk, controller) {
      let start = 0;
      while (start < chunk.length) {
        const nl = chunk.indexOf(0x0a, start);
        const end = nl < 0 ? chunk.length : nl + 1;
        const piece = chunk.subarray(start, end);
        start = end;
        if (overlong) {
          const text = runaway.decode(piece, { stream: nl < 0 });
          if (text !== '') controller.enqueue(text);
          if (nl >= 0) overlong = false;
          continue;
        }
        // Kept as a copy: the chunk's buffer may be reused by whoever wrote it.
        pending.push(piece.slice());
        pendingBytes += piece.length;
        if (nl >= 0) {
          controller.enqueue(decodeLine(concatBytes(pending)));
          pending = [];
          pendingBytes = 0;
        } else if (pendingBytes > MAX_LINE_BYTES) {
          overlong = true;
          controller.enqueue(runaway.decode(concatBytes(pending), { stream: true }));
          pending = [];
          pendingBytes = 0;
        }
      }
    },
    flush(controller) {
      const text = overlong ? runaway.decode() : pending.length > 0 ? decodeLine(concatBytes(pending)) : '';
      if (text !== '') controller.enqueue(text);
    },
  });
}

/** UTF-16 by the byte-order mark its first two bytes are, or null. */
function utf16ByMark(head: ArrayLike<number>): FileEncoding | null {
  if (head[0] === 0xff && head[1] === 0xfe) return 'utf-16le';
  if (head[0] === 0xfe && head[1] === 0xff) return 'utf-16be';
  return null;
}

/**
 * The encoding of an import file, from its first bytes: UTF-16 by its byte-order mark (Excel's "Unicode text"),
 * GB 18030 when no line of them that holds a non-ASCII byte is UTF-8 and they read as GB 18030 (a CSV saved by
 * Excel on a Chinese Windows is GBK), UTF-8 otherwise. One line that is not UTF-8 in a UTF-8 file (a corrupted
 * record) leaves the file UTF-8, so that line alone is rejected.
 */
export function sniffEncoding(head: Uint8Array, whole: boolean): FileEncoding {
  const marked = utf16ByMark(head);
  if (marked) return marked;
  let start = 0;
  let foreign = 0;
  for (;;) {
    const nl = head.indexOf(0x0a, start);
    // The last piece may be a line cut short by the end of the sample: judged only when the sample is the whole file.
    if (nl < 0 && !whole) break;
    const line = head.subarray(start, nl < 0 ? head.length : nl);
    if (line.some((b) => b >= 0x80)) {
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(line);
        return 'utf-8';
      } catch {
        foreign++;
      }
    }
    if (nl < 0) break;
    start = nl + 1;
  }
  if (foreign === 0) return 'utf-8';
  try {
    new TextDecoder('gb18030', { fatal: true }).decode(head, { stream: !whole });
    return 'gb18030';
  } catch {
    return 'utf-8';
  }
}
