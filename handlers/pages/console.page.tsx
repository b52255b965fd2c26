import { Hono, type Context } from 'hono';
import type { Child } from 'hono/jsx';
import { publicUrl } from '../../src/env.js';
import { instantOfWallTime, zoneOffsetMs } from '../../src/domain/time-zone.js';
import { textFault } from '../../src/domain/text.js';
import { AppError } from '../../src/errors.js';
import { callSchema, HOTLINES, MAX_TRANSCRIPT_CHARS, type CallInput } from '../../src/hotline/call-schema.js';
import { acceptCall, reviewCall, type CallReview, type HotlineDeps, type Proposal } from '../../src/hotline/hotline-intake.js';
import { filePickerAttrs, type Lang } from '../../src/web/i18n.js';
import { CsrfField, FieldError, errorId } from '../../src/web/layout.js';
import { pageContext, renderPage, type RenderOptions } from '../../src/web/render.js';
import type { AppEnv } from '../app-env.js';
import { fieldsOf } from '../validation.js';
import { bureauOptions, draftDefault, draftDone, DraftNotices, field, files, jurisdictionOptions, staffArea, typeName, typeOptions, unitName } from './staff-common.js';
import { fieldMessage } from '../../src/web/messages.js';

/**
 * The operator console (`/console`, operators and admins): a hotline call
 * (pasted or uploaded transcript, or a plain form for a call without one) is
 * analysed by the same code as `POST /api/v1/hotline/calls` with `review`,
 * shown with the classifier's evidence marked in the text, corrected field
 * by field, optionally split into two cases, and submitted. The operator's
 * changes go in as the API's corrections (kept as labelled data).
 */

/** An uploaded transcript file may be at most this large (a long call is ~300 KB). */
const MAX_FILE_BYTES = 1024 * 1024;

type Errors = Record<string, string>;

function hotlineDeps(deps: AppEnv['Variables']['deps']): HotlineDeps {
  return { db: deps.db, writer: deps.writer, clock: deps.clock, district: deps.district, classifier: deps.classifier, onCommitted: deps.kickOutbox };
}

/** `2026-11-28T21:30` on the district's wall clock → an ISO instant; null when it is not such a value. */
export function wallClockToIso(value: string, timeZone: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value.trim());
  if (!m) return null;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number) as [number, number, number, number, number, number];
  const guess = Date.UTC(year, month - 1, day, hour, minute, second);
  if (Number.isNaN(guess)) return null;
  // 2026-02-30 or 25:00 is no time: Date.UTC would roll it over into the next month or day.
  const back = new Date(guess);
  if (back.getUTCFullYear() !== year || back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day || back.getUTCHours() !== hour || back.getUTCMinutes() !== minute || back.getUTCSeconds() !== second) {
    return null;
  }
  return new Date(instantOfWallTime(guess, timeZone)).toISOString();
}

/** An instant as the value of a datetime-local input on the district's wall clock. */
function isoToWallClock(iso: string, timeZone: string): string {
  const t = Date.parse(iso);
  return new Date(t + zoneOffsetMs(t, timeZone)).toISOString().slice(0, 16);
}

/** A call id for a call the operator enters by hand: the console's prefix, the time, a random tail. */
function newCallId(now: Date): string {
  const stamp = now.toISOString().replace(/[-:T.Z]/g, '').slice(0, 14);
  const tail = Array.from(crypto.getRandomValues(new Uint8Array(3)), (b) => b.toString(16).padStart(2, '0')).join('');
  return `WEB-${stamp}-${tail}`;
}

/** The text of an uploaded transcript: UTF-8, or GB 18030 (what Chinese Windows tools save). */
async function readTranscriptFile(file: File, lang: Lang): Promise<string> {
  if (file.size > MAX_FILE_BYTES) throw invalid(lang, { transcriptFile: lang === 'zh' ? '文件不能超过 1 MB。' : 'The file may be at most 1 MB.' });
  const bytes = new Uint8Array(await file.arrayBuffer());
  // Notepad's "Unicode" is UTF-16 with a byte-order mark: its NUL bytes are half characters, not a binary file.
  const utf16 = bytes[0] === 0xff && bytes[1] === 0xfe ? 'utf-16le' : bytes[0] === 0xfe && bytes[1] === 0xff ? 'utf-16be' : null;
  if (utf16) {
    try {
      return new TextDecoder(utf16, { fatal: true }).decode(bytes).replace(/^\uFEFF/, '');
    } catch {
      throw invalid(lang, { transcriptFile: lang === 'zh' ? '无法识别文件编码，请另存为 UTF-8 文本。' : 'Unknown encoding: save the file as UTF-8 text.' });
    }
  }
  if (bytes.includes(0)) throw invalid(lang, { transcriptFile: lang === 'zh' ? '请上传 .txt 文本文件。' : 'Upload a .txt text file.' });
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    try {
      return new TextDecoder('gb18030', { fatal: true }).decode(bytes);
    } catch {
      throw invalid(lang, { transcriptFile: lang === 'zh' ? '无法识别文件编码，请另存为 UTF-8 文本。' : 'Unknown encoding: save the file as UTF-8 text.' });
    }
  }
}

function invalid(lang: Lang, fields: Errors): AppError {
  return new AppError('validation_failed', lang === 'zh' ? '请按提示修改后再提交。' : 'Please correct the marked fields.', fields);
}

/** A phrase to mark, with what it is evidence of, and where it was found when that is known. */
interface Phrase {
  phrase: string;
  title: string;
  at?: { start: number; end: number };
}

/**
 * Marks the phrases in a text: the longest first, never overlapping. A phrase
 * given where it was found (`at`, the classifier's offsets) is marked there
 * only: a character or two the model weighed is not marked wherever else it
 * occurs (every 1 of a phone number).
 */
function Highlighted({ text, phrases }: { text: string; phrases: Phrase[] }) {
  const spans: Array<{ start: number; end: number; title: string }> = [];
  const free = (start: number, end: number) => !spans.some((s) => start < s.end && end > s.start);
  for (const p of [...phrases].filter((x) => x.phrase.trim() !== '').sort((a, b) => b.phrase.length - a.phrase.length)) {
    if (p.at && text.slice(p.at.start, p.at.end) === p.phrase) {
      if (free(p.at.start, p.at.end)) spans.push({ ...p.at, title: p.title });
      continue;
    }
    let from = 0;
    for (;;) {
      const i = text.indexOf(p.phrase, from);
      if (i < 0) break;
      const end = i + p.phrase.length;
      if (free(i, end)) spans.push({ start: i, end, title: p.title });
      from = end;
    }
  }
  spans.sort((a, b) => a.start - b.start);
  const out: Child[] = [];
  let at = 0;
  for (const s of spans) {
    if (s.start > at) out.push(text.slice(at, s.start));
    out.push(
      <mark class="evidence" title={s.title}>
        {text.slice(s.start, s.end)}
      </mark>,
    );
    at = s.end;
  }
  if (at < text.length) out.push(text.slice(at));
  return <>{out}</>;
}

/**
 * The evidence to mark on each line of the call (operator lines: none). A
 * proposal's text is made of the caller's lines in order, so a phrase the
 * classifier found at an offset of it is marked on the line holding that
 * offset, there only; a phrase without one is looked for on every line.
 */
function evidenceByLine(lines: ReadonlyArray<{ speaker: string; text: string }>, proposals: readonly Proposal[], lang: Lang): Phrase[][] {
  const out: Phrase[][] = lines.map(() => []);
  for (const proposal of proposals) {
    const starts: Array<number | null> = [];
    let cursor = 0;
    for (const l of lines) {
      const at = l.speaker === 'operator' || l.text === '' ? -1 : proposal.text.indexOf(l.text, cursor);
      starts.push(at < 0 ? null : at);
      if (at >= 0) cursor = at + l.text.length;
    }
    for (const phrase of evidencePhrases(proposal, lang)) {
      const { at, ...rest } = phrase;
      const line = at ? starts.findIndex((s, i) => s !== null && s <= at.start && at.end <= s + lines[i]!.text.length) : -1;
      if (at && line >= 0) out[line]!.push({ ...rest, at: { start: at.start - starts[line]!, end: at.end - starts[line]! } });
      else lines.forEach((l, i) => l.speaker !== 'operator' && out[i]!.push(rest));
    }
  }
  return out;
}

function evidencePhrases(p: Proposal, lang: Lang): Phrase[] {
  const zh = lang === 'zh';
  return [
    ...p.evidence
      // A digit or a sign the model weighed (the 1 of a phone number) says nothing to an operator: not marked.
      .filter((e) => e.weight > 0 && /\p{L}/u.test(e.phrase))
      .map((e) => ({
        phrase: e.phrase,
        title: zh ? `分类依据（权重 ${e.weight.toFixed(2)}）` : `type evidence (weight ${e.weight.toFixed(2)})`,
        ...(e.start !== undefined && e.end !== undefined ? { at: { start: e.start, end: e.end } } : {}),
      })),
    ...(p.jurisdiction ? [{ phrase: p.jurisdiction.matched, title: zh ? '属地依据' : 'place evidence' }] : []),
    ...(p.anonymityPhrase ? [{ phrase: p.anonymityPhrase, title: zh ? '要求匿名' : 'asks not to be named' }] : []),
    ...p.urgencyReasons.map((r) => ({ phrase: r, title: zh ? '紧急依据' : 'urgency evidence' })),
  ];
}

function Err({ errors, name }: { errors: Errors; name: string }) {
  return <FieldError name={name} message={errors[name]} />;
}

function bad(errors: Errors, name: string) {
  return errors[name] ? { 'aria-invalid': 'true' as const, 'aria-describedby': errorId(name) } : {};
}

interface CallFields {
  hotline: string;
  callId: string;
  startedAt: string;
  callerNumber: string;
  transcript: string;
}

function StartForms({ c, errors, values, mode }: { c: Context<AppEnv>; errors: Errors; values: Partial<CallFields> & { text?: string }; mode: 'transcript' | 'plain' | null }) {
  const p = pageContext(c);
  const zh = p.lang === 'zh';
  const deps = c.get('deps');
  const now = deps.clock.now();
  const startedAt = values.startedAt ? values.startedAt : isoToWallClock(now.toISOString(), p.timeZone);
  const e = (form: 'transcript' | 'plain') => (mode === form ? errors : {});
  const CallMeta = ({ form }: { form: 'transcript' | 'plain' }) => (
    <div class="grid">
      <div>
        <label for={`${form}-hotline`}>{zh ? '热线' : 'Hotline'}</label>
        <select id={`${form}-hotline`} name="hotline">
          {HOTLINES.map((h) => (
            <option value={h} selected={(values.hotline ?? '12369') === h}>
              {h}
            </option>
          ))}
        </select>
      </div>
      <div>
        <label for={`${form}-callId`}>{zh ? '来电编号' : 'Call id'}</label>
        <input id={`${form}-callId`} name="callId" type="text" value={mode === form && values.callId ? values.callId : newCallId(now)} {...bad(e(form), 'callId')} {...draftDefault(mode === form && !!values.callId)} />
        <Err errors={e(form)} name="callId" />
      </div>
      <div>
        <label for={`${form}-startedAt`}>{zh ? '来电时间' : 'Call time'}</label>
        <input id={`${form}-startedAt`} name="startedAt" type="datetime-local" value={startedAt} {...bad(e(form), 'startedAt')} {...draftDefault(!!values.startedAt)} />
        <Err errors={e(form)} name="startedAt" />
      </div>
      <div>
        <label for={`${form}-callerNumber`}>{zh ? '来电号码（保密）' : 'Caller number (kept confidential)'}</label>
        <input id={`${form}-callerNumber`} name="callerNumber" type="tel" value={mode === form ? (values.callerNumber ?? '') : ''} {...bad(e(form), 'callerNumber')} />
        <Err errors={e(form)} name="callerNumber" />
      </div>
    </div>
  );
  return (
    <>
      <section aria-labelledby="h-transcript" class="card">
        <h2 id="h-transcript">{zh ? '来电录音文本' : 'Call transcript'}</h2>
        {mode === 'transcript' && errors._form ? (
          <p class="notice error" role="alert">
            {errors._form}
          </p>
        ) : null}
        <DraftNotices zh={zh} files={true} />
        <form method="post" action="/console/review" enctype="multipart/form-data" id="transcript-form" data-keep-on-switch data-draft data-draft-name="transcript">
          <CsrfField token={p.csrf} />
          <input type="hidden" name="mode" value="transcript" />
          <CallMeta form="transcript" />
          <label for="transcript">{zh ? '粘贴录音转写文本' : 'Paste the transcript'}</label>
          <p class="hint" id="transcript-hint">
            {zh ? '每行以“坐席：”或“来电人：”开头；只有来电人的话作为举报内容。' : 'Lines start with 坐席： or Operator: (operator), 来电人： or Caller: (caller); only what the caller says is the complaint.'}
          </p>
          <textarea id="transcript" name="transcript" rows={10} maxlength={MAX_TRANSCRIPT_CHARS} aria-describedby={errors.transcript && mode === 'transcript' ? errorId('transcript') : 'transcript-hint'} aria-invalid={mode === 'transcript' && errors.transcript ? 'true' : undefined}>
            {mode === 'transcript' ? (values.transcript ?? '') : ''}
          </textarea>
          <Err errors={e('transcript')} name="transcript" />
          <label for="transcriptFile">{zh ? '或上传文本文件（.txt）' : 'Or upload a text file (.txt)'}</label>
          <input id="transcriptFile" name="transcriptFile" type="file" accept=".txt,text/plain" {...bad(e('transcript'), 'transcriptFile')} {...filePickerAttrs(p.lang, 'textFile')} />
          <Err errors={e('transcript')} name="transcriptFile" />
          <div class="actions">
            <button type="submit" id="analyse">
              {zh ? '分析' : 'Analyse'}
            </button>
          </div>
        </form>
      </section>

      <section aria-labelledby="h-plain" class="card">
        <h2 id="h-plain">{zh ? '无录音来电' : 'Call without a transcript'}</h2>
        {mode === 'plain' && errors._form ? (
          <p class="notice error" role="alert">
            {errors._form}
          </p>
        ) : null}
        <DraftNotices zh={zh} files={false} />
        <form method="post" action="/console/review" enctype="multipart/form-data" id="plain-form" data-keep-on-switch data-draft data-draft-name="plain">
          <CsrfField token={p.csrf} />
          <input type="hidden" name="mode" value="plain" />
          <CallMeta form="plain" />
          <label for="plain-text">{zh ? '来电人反映的问题' : 'What the caller reported'}</label>
          <textarea id="plain-text" name="text" rows={5} {...bad(e('plain'), 'text')}>
            {mode === 'plain' ? (values.text ?? '') : ''}
          </textarea>
          <Err errors={e('plain')} name="text" />
          <div class="actions">
            <button type="submit">{zh ? '分析' : 'Analyse'}</button>
          </div>
        </form>
      </section>
    </>
  );
}

/** The fields each start form shows a problem next to. */
const START_FIELDS: Record<'transcript' | 'plain', readonly string[]> = {
  transcript: ['callId', 'startedAt', 'callerNumber', 'transcript', 'transcriptFile'],
  plain: ['callId', 'startedAt', 'callerNumber', 'text'],
};

/**
 * The problems as the start form in use shows them: the plain form's text is the call's transcript, so a problem
 * of the transcript (over its length) is said next to the text; one of a field the form does not have is said at
 * the top of the form rather than nowhere.
 */
function onStartForm(errors: Errors, mode: 'transcript' | 'plain'): Errors {
  const out: Errors = { ...errors };
  if (mode === 'plain' && out.transcript !== undefined) {
    out.text ??= out.transcript;
    delete out.transcript;
  }
  const elsewhere = Object.keys(out).filter((k) => k !== '_form' && !START_FIELDS[mode].includes(k));
  if (elsewhere.length > 0 && out._form === undefined) out._form = elsewhere.map((k) => out[k]).join(' ');
  return out;
}

async function startPage(c: Context<AppEnv>, errors: Errors = {}, values: Partial<CallFields> & { text?: string } = {}, mode: 'transcript' | 'plain' | null = null, status: RenderOptions['status'] = 200) {
  const p = pageContext(c);
  const title = p.lang === 'zh' ? '热线受理' : 'Hotline intake';
  return renderPage(
    c,
    title,
    <section>
      <h1>{title}</h1>
      {/* Back from a review whose session had ended (GET /console/review): what was typed there waits in the browser. */}
      {c.req.query('after') === 'review' ? <ReviewKept zh={p.lang === 'zh'} /> : null}
      <StartForms c={c} errors={mode ? onStartForm(errors, mode) : errors} values={values} mode={mode} />
    </section>,
    { status, address: '/console' },
  );
}

/**
 * The name of a call's review draft (staff.js): the call's transcript as a
 * digest, so that the corrections are put back on the review of this call
 * only, whatever call id and time the start form gives it when it is
 * analysed again; and whether the transcript came from a file, which the
 * start page then asks for again (a draft cannot keep a file).
 */
async function reviewDraftName(state: ReviewState): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`${state.call.mode}\n${state.call.transcript}`)));
  const hex = Array.from(digest.subarray(0, 12), (b) => b.toString(16).padStart(2, '0')).join('');
  return `${state.call.fromFile ? 'file' : 'typed'}-${hex}`;
}

/**
 * Shown by the script on the start page reached after signing in again from a review page, when that review's
 * corrections are kept: they come back once the call is analysed again, which for an uploaded transcript takes
 * the file chosen again.
 */
function ReviewKept({ zh }: { zh: boolean }) {
  return (
    <>
      <p class="notice" data-draft-waiting="/console/submit#typed-" hidden role="status" id="review-kept">
        {zh
          ? '您核对来电时填写的修改已保存在本浏览器中：请核对下方的来电内容，点击“分析”，核对页面将恢复这些修改。'
          : 'What you typed while reviewing the call is kept in this browser: check the call below and analyse it, and the review page will put it back.'}
      </p>
      <p class="notice" data-draft-waiting="/console/submit#file-" hidden role="status" id="review-kept-file">
        {zh
          ? '您核对来电时填写的修改已保存在本浏览器中，但上传的录音文件无法随草稿保留：请重新选择该文件并点击“分析”，核对页面将恢复这些修改。'
          : 'What you typed while reviewing the call is kept in this browser, but the uploaded transcript file cannot be kept with it: choose the file again and analyse it, and the review page will put it back.'}
      </p>
    </>
  );
}

/** What the review form carries back: the call, the operator's values and what the machine proposed. */
interface ReviewState {
  /** `fromFile`: the transcript was read from an uploaded file, which a draft cannot keep. */
  call: CallFields & { startedAtIso: string; mode: 'transcript' | 'plain'; fromFile: boolean };
  split: boolean;
  /** Operator values: the whole call, or parts 1 and 2. */
  whole: Choice;
  parts: [Choice, Choice];
}

interface Choice {
  text: string;
  type: string;
  /** A lead bureau the operator chose instead of the routing table's ('' = the table's). */
  lead: string;
  jurisdiction: string;
  urgent: boolean;
  anonymous: boolean;
  /** What the machine proposed when the page was last shown (to tell corrections from agreement). */
  proposed: { text: string; type: string; jurisdiction: string; urgent: boolean };
}

function readChoice(form: Record<string, unknown>, prefix: string): Choice {
  return {
    text: field(form, `${prefix}text`),
    type: field(form, `${prefix}type`),
    lead: field(form, `${prefix}lead`),
    jurisdiction: field(form, `${prefix}jurisdiction`),
    urgent: field(form, `${prefix}urgent`) === '1',
    anonymous: field(form, 'anonymous') === '1',
    proposed: {
      text: field(form, `${prefix}proposedText`),
      type: field(form, `${prefix}proposedType`),
      jurisdiction: field(form, `${prefix}proposedJurisdiction`),
      urgent: field(form, `${prefix}proposedUrgent`) === '1',
    },
  };
}

/** The operator's value where it differs from the machine's (what the API calls a correction). */
function corrections(ch: Choice) {
  return {
    ...(ch.type !== '' && ch.type !== ch.proposed.type ? { type: ch.type } : {}),
    ...(ch.lead !== '' ? { lead: ch.lead } : {}),
    ...(ch.jurisdiction !== '' && ch.jurisdiction !== ch.proposed.jurisdiction ? { jurisdiction: ch.jurisdiction } : {}),
    // 地点不明 chosen over a proposed place: the operator says the machine's place is wrong.
    ...(ch.jurisdiction === '' && ch.proposed.jurisdiction !== '' ? { placeUnknown: true } : {}),
    ...(ch.urgent !== ch.proposed.urgent ? { urgent: ch.urgent } : {}),
  };
}

/** The call as the hotline code takes it; throws 400 naming the form's fields. */
function callInput(state: ReviewState, lang: Lang, review: boolean, operator?: string): CallInput {
  const { call } = state;
  const raw: Record<string, unknown> = {
    ...(operator ? { operator: [...operator].slice(0, 100).join('') } : {}),
    hotline: call.hotline,
    callId: call.callId,
    startedAt: call.startedAtIso,
    transcript: call.transcript,
    review,
    ...(call.callerNumber.trim() ? { callerNumber: call.callerNumber } : {}),
    ...(state.whole.anonymous ? { anonymous: true } : {}),
  };
  if (state.split) {
    raw.parts = state.parts.map((p) => ({ text: p.text, ...corrections(p) }));
  } else {
    Object.assign(raw, corrections(state.whole));
    if (state.whole.text.trim() !== '' && state.whole.proposed.text !== '' && state.whole.text.trim() !== state.whole.proposed.text.trim()) raw.text = state.whole.text;
  }
  const parsed = callSchema.safeParse(raw);
  if (!parsed.success) {
    throw invalid(lang, formFields(lang, fieldsOf(parsed.error)));
  }
  return parsed.data;
}

/** API field names (`parts.1.text`) → the form's (`p2-text`). */
function formName(apiField: string): string {
  const m = /^parts\.(\d+)\.(\w+)$/.exec(apiField);
  if (m) return `p${Number(m[1]) + 1}-${m[2]}`;
  return apiField;
}

/** The hotline code's field problems as the form shows them: the form's names, in the page's language. */
function formFields(lang: Lang, fields: Record<string, string>): Errors {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [formName(k), fieldMessage(lang, v)]));
}

function readState(form: Record<string, unknown>): ReviewState {
  return {
    call: {
      mode: field(form, 'mode') === 'plain' ? 'plain' : 'transcript',
      hotline: field(form, 'hotline'),
      callId: field(form, 'callId').trim(),
      startedAt: field(form, 'startedAt'),
      startedAtIso: field(form, 'startedAtIso'),
      callerNumber: field(form, 'callerNumber'),
      transcript: field(form, 'transcript'),
      fromFile: field(form, 'fromFile') === '1',
    },
    split: field(form, 'split') === '1',
    whole: readChoice(form, ''),
    parts: [readChoice(form, 'p1-'), readChoice(form, 'p2-')],
  };
}

/**
 * The caller's words in two: sentences up to about half of the characters in
 * the first part, the rest in the second (empty when there is one sentence).
 */
function halves(callerLines: readonly string[], fallback: string): [string, string] {
  const sentences = callerLines.join('\n').split(/(?<=[。！？!?；;\n])/).filter((x) => x.trim() !== '');
  if (sentences.length === 0) return [fallback, ''];
  const total = sentences.reduce((n, x) => n + x.length, 0);
  let cut = 1;
  for (let sum = sentences[0]!.length; cut < sentences.length && sum + sentences[cut]!.length / 2 <= total / 2; cut++) sum += sentences[cut]!.length;
  const part = (xs: string[]) => xs.join('').replace(/\n+$/, '').trim();
  return [part(sentences.slice(0, cut)), part(sentences.slice(cut))];
}

/** Fields of the review form (the operator's edits), as the hotline code names them or as the form does. */
const REVIEW_FIELD = /^(?:text|type|lead|jurisdiction|placeUnknown|urgent|parts(?:\.\d+(?:\.\w+)?)?|p\d-\w+)$/;

/** A choice with no edits: the call reviewed as the machine sees it. */
function untouched(anonymous: boolean): Choice {
  return { text: '', type: '', lead: '', jurisdiction: '', urgent: false, anonymous, proposed: { text: '', type: '', jurisdiction: '', urgent: false } };
}

/**
 * The values to show for a proposal: the operator's where they had changed
 * the previous proposal, the new proposal's elsewhere.
 */
function shown(prev: Choice, p: Proposal): Choice {
  const changed = (mine: string, before: string) => mine !== '' && mine !== before;
  return {
    text: changed(prev.text, prev.proposed.text) ? prev.text : p.text,
    type: changed(prev.type, prev.proposed.type) ? prev.type : (p.type?.code ?? ''),
    lead: prev.lead,
    jurisdiction: changed(prev.jurisdiction, prev.proposed.jurisdiction) ? prev.jurisdiction : (p.jurisdiction?.code ?? ''),
    urgent: prev.proposed.type !== '' && prev.urgent !== prev.proposed.urgent ? prev.urgent : p.urgent,
    anonymous: prev.anonymous || p.anonymous,
    proposed: { text: p.text, type: p.type?.code ?? '', jurisdiction: p.jurisdiction?.code ?? '', urgent: p.urgent },
  };
}

function ProposalEditor({ c, prefix, p, choice, errors, heading }: { c: Context<AppEnv>; prefix: string; p: Proposal; choice: Choice; errors: Errors; heading: string }) {
  const ctx = pageContext(c);
  const lang = ctx.lang;
  const zh = lang === 'zh';
  const { district } = c.get('deps');
  const id = (name: string) => `${prefix}${name}`;
  const leads: Record<string, string> = {};
  for (const t of district.file.types) {
    const r = district.routing[t.code];
    if (r) leads[t.code] = r.transfer ? (zh ? '转12345热线' : 'handed to 12345') : [unitName(district, r.lead, lang), ...r.co.map((u) => unitName(district, u, lang))].join(zh ? '、' : ', ');
  }
  return (
    <fieldset class="card">
      <legend>
        <strong>{heading}</strong>
      </legend>
      <p class="hint">
        {zh ? '系统判断：' : 'Proposed: '}
        <strong>{typeName(district, p.type?.code, lang)}</strong>
        {p.type ? ` (${Math.round(p.type.confidence * 100)}%)` : ''}
        {p.runnerUp ? (zh ? `；其次：${typeName(district, p.runnerUp.code, lang)} (${Math.round(p.runnerUp.confidence * 100)}%)` : `; runner-up: ${typeName(district, p.runnerUp.code, lang)} (${Math.round(p.runnerUp.confidence * 100)}%)`) : ''}
        {p.outcome === 'triage' ? (zh ? '；置信度不足，将交调度员分派' : '; not confident: a dispatcher will decide') : ''}
      </p>
      <input type="hidden" name={id('proposedText')} value={choice.proposed.text} />
      <input type="hidden" name={id('proposedType')} value={choice.proposed.type} />
      <input type="hidden" name={id('proposedJurisdiction')} value={choice.proposed.jurisdiction} />
      <input type="hidden" name={id('proposedUrgent')} value={choice.proposed.urgent ? '1' : '0'} />
      <label for={id('text')}>{zh ? '举报内容' : 'Complaint text'}</label>
      {/* The proposal's text is the page's suggestion, which a kept draft replaces; the operator's own is not. */}
      <textarea id={id('text')} name={id('text')} rows={4} {...bad(errors, id('text'))} {...draftDefault(choice.text !== choice.proposed.text)}>
        {choice.text}
      </textarea>
      <Err errors={errors} name={id('text')} />
      <p class="hint">
        {zh ? '依据（黄色标出）：' : 'Evidence (marked): '}
        <span class="evidence-text" id={id('evidence')}>
          <Highlighted text={p.text} phrases={evidencePhrases(p, lang)} />
        </span>
      </p>
      <label for={id('type')}>{zh ? '问题类型' : 'Type'}</label>
      <select id={id('type')} name={id('type')} data-leads={JSON.stringify(leads)} data-lead-target={`#${id('bureaus')}`} {...bad(errors, id('type'))}>
        {p.type ? null : <option value="">{zh ? '未能分类，请选择' : 'not classified: choose'}</option>}
        {typeOptions(district, lang).map((t) => (
          <option value={t.code} selected={choice.type === t.code}>
            {t.name}
            {t.code === p.type?.code ? (zh ? '（系统判断）' : ' (proposed)') : ''}
          </option>
        ))}
      </select>
      <Err errors={errors} name={id('type')} />
      <p>
        {zh ? '按派单规则承办：' : 'Bureaus by the routing table: '}
        <output id={id('bureaus')} for={id('type')}>
          {leads[choice.type] ?? '—'}
        </output>
      </p>
      <label for={id('lead')}>{zh ? '牵头单位' : 'Lead bureau'}</label>
      <select id={id('lead')} name={id('lead')} {...bad(errors, id('lead'))}>
        <option value="">{zh ? '按派单规则' : 'from the routing table'}</option>
        {bureauOptions(district, lang).map((b) => (
          <option value={b.code} selected={choice.lead === b.code}>
            {b.name}
          </option>
        ))}
      </select>
      <Err errors={errors} name={id('lead')} />
      <label for={id('jurisdiction')}>{zh ? '属地' : 'Local office'}</label>
      <select id={id('jurisdiction')} name={id('jurisdiction')} {...bad(errors, id('jurisdiction'))}>
        <option value="">{zh ? '地点不明' : 'place unknown'}</option>
        {jurisdictionOptions(district, lang).map((j) => (
          <option value={j.code} selected={choice.jurisdiction === j.code}>
            {j.name}
            {j.code === p.jurisdiction?.code ? (zh ? '（系统判断）' : ' (proposed)') : ''}
          </option>
        ))}
      </select>
      <Err errors={errors} name={id('jurisdiction')} />
      {p.place ? <p class="hint">{zh ? `地点描述：${p.place}` : `Place: ${p.place}`}</p> : null}
      {p.incidentTime ? <p class="hint">{zh ? `发生时间：${p.incidentTime.phrase}` : `When: ${p.incidentTime.phrase}`}</p> : null}
      <label class="check" for={id('urgent')}>
        <input id={id('urgent')} type="checkbox" name={id('urgent')} value="1" checked={choice.urgent} /> {zh ? '紧急' : 'Urgent'}
        {/* The caller's own words that made it urgent. */}
        {p.urgencyReasons.length > 0 ? (
          zh ? (
            <span class="hint">（{p.urgencyReasons.join('、')}）</span>
          ) : (
            <span class="hint">
              {' ('}
              <span lang="zh-CN">{p.urgencyReasons.join('、')}</span>)
            </span>
          )
        ) : null}
      </label>
    </fieldset>
  );
}

async function reviewPage(c: Context<AppEnv>, state: ReviewState, errors: Errors = {}, status: RenderOptions['status'] = 200) {
  const p = pageContext(c);
  const zh = p.lang === 'zh';
  const deps = c.get('deps');
  const backToStart = (err: AppError) => {
    const fields = formFields(p.lang, err.fields ?? {});
    if (Object.keys(fields).length === 0) fields._form = err.message;
    return startPage(c, fields, { ...state.call, text: state.call.mode === 'plain' ? state.call.transcript : '' }, state.call.mode, err.status === 409 ? 409 : 400);
  };
  let review: CallReview;
  // True when the operator's edits were refused: the page shows them as typed, next to their problems.
  let asTyped = false;
  try {
    review = await reviewCall(hotlineDeps(deps), callInput(state, p.lang, true));
  } catch (err) {
    if (!(err instanceof AppError) || err.status >= 500) throw err;
    const fields = err.fields ?? {};
    if (!Object.keys(fields).some((k) => REVIEW_FIELD.test(k))) return backToStart(err);
    // The call itself is fine: review it without the edits, and keep the edits on the page.
    try {
      review = await reviewCall(hotlineDeps(deps), callInput({ ...state, split: false, whole: untouched(state.whole.anonymous) }, p.lang, true));
    } catch (again) {
      if (again instanceof AppError && again.status < 500) return backToStart(again);
      throw again;
    }
    errors = { ...formFields(p.lang, fields), ...errors };
    asTyped = true;
    status = status === 200 ? 400 : status;
  }
  const whole = asTyped ? state.whole : shown(state.whole, review.proposal);
  const parts = asTyped
    ? state.split
      ? ([state.parts[0], state.parts[1]] as const)
      : null
    : review.parts
      ? ([shown(state.parts[0], review.parts[0]!), shown(state.parts[1], review.parts[1]!)] as const)
      : null;
  const partProposals = review.parts ?? [review.proposal, review.proposal];
  const anonymous = whole.anonymous;
  const title = zh ? '核对来电' : 'Review the call';
  const otherCall = review.existing !== null && review.existing.differs.length > 0;
  const callIdTaken = otherCall || errors.callId !== undefined;
  const callIdErrors: Errors = callIdTaken
    ? { callId: errors.callId ?? (zh ? '此来电编号已用于另一个来电，请改用本次来电的编号。' : 'Used for another call: give this call its own id.') }
    : {};
  // A first split starts from the caller's words, cut at the sentence nearest their middle.
  // The words the complaint is made of: the caller's lines, or, in a transcript without any, every line the operator did not say
  // (never a heading above the call, 来电号码：… 来电人姓名：…, when the caller's lines are known).
  const callerSaid = review.transcript.lines.some((l) => l.speaker === 'caller');
  const splitSeed = halves(review.transcript.lines.filter((l) => (callerSaid ? l.speaker === 'caller' : l.speaker !== 'operator')).map((l) => l.text), whole.text);
  const lineEvidence = evidenceByLine(
    review.transcript.lines,
    [review.proposal, ...(review.parts ?? [])],
    p.lang,
  );
  return renderPage(
    c,
    title,
    <section>
      <h1>{title}</h1>
      {errors._form ? (
        <p class="notice error" role="alert" id="review-problem">
          {errors._form}
        </p>
      ) : Object.keys(errors).length > 0 ? (
        <p class="notice error" role="alert" id="review-problem">
          {zh ? '请按提示修改后再提交。' : 'Please correct the marked fields.'}
        </p>
      ) : null}
      {review.existing ? (
        <p class="notice error" role="alert">
          {!otherCall
            ? zh
              ? `此来电已受理：${review.existing.cases.map((k) => k.trackingCode).join('、')}。再次提交不会重复立案。`
              : `This call was already entered: ${review.existing.cases.map((k) => k.trackingCode).join(', ')}. Submitting again creates nothing.`
            : review.existing.sameTranscript
              ? zh
                ? '此来电编号已用于另一个来电（来电时间或来电号码不同），请核对来电编号。'
                : 'This call id was used for another call (another time or caller number): check the call id.'
              : zh
                ? '此来电编号已用于另一段录音，请核对来电编号。'
                : 'This call id was used for another transcript: check the call id.'}
        </p>
      ) : null}
      <h2>{zh ? '通话内容' : 'The call'}</h2>
      <ol class="transcript" style="list-style:none;padding:0" id="transcript-lines">
        {review.transcript.lines.map((l, i) => {
          const phrases = lineEvidence[i] ?? [];
          return (
            <li class={l.speaker} style={l.speaker === 'operator' ? 'color:var(--muted)' : ''}>
              {l.at ? <span class="hint">[{l.at}] </span> : null}
              <strong>{l.speaker === 'operator' ? (zh ? '坐席' : 'Operator') : l.speaker === 'caller' ? (zh ? '来电人' : 'Caller') : ''}</strong>
              {l.speaker === 'unknown' ? '' : zh ? '：' : ': '}
              {l.speaker === 'operator' ? l.text : <Highlighted text={l.text} phrases={phrases} />}
            </li>
          );
        })}
      </ol>
      {review.callerNumber ? <p class="hint">{zh ? `来电号码：${review.callerNumber}（仅存入保密联系信息）` : `Caller number: ${review.callerNumber} (kept in the protected contact only)`}</p> : null}

      <DraftNotices zh={zh} />
      <form method="post" action="/console/submit" id="review-form" data-draft data-draft-name={await reviewDraftName(state)}>
        <CsrfField token={p.csrf} />
        <input type="hidden" name="mode" value={state.call.mode} />
        {state.call.fromFile ? <input type="hidden" name="fromFile" value="1" /> : null}
        <input type="hidden" name="hotline" value={state.call.hotline} />
        {callIdTaken ? (
          // The call id is taken by another transcript: it is fixed here, not by starting the call over.
          <p>
            <label for="callId">{zh ? '来电编号' : 'Call id'}</label>
            <input id="callId" name="callId" type="text" value={state.call.callId} {...bad(callIdErrors, 'callId')} {...draftDefault(errors.callId !== undefined)} />
            <Err errors={callIdErrors} name="callId" />
          </p>
        ) : (
          <input type="hidden" name="callId" value={state.call.callId} />
        )}
        <input type="hidden" name="startedAt" value={state.call.startedAt} />
        <input type="hidden" name="startedAtIso" value={state.call.startedAtIso} />
        <input type="hidden" name="callerNumber" value={state.call.callerNumber} />
        <textarea name="transcript" hidden aria-hidden="true" tabindex={-1}>
          {state.call.transcript}
        </textarea>
        <input type="hidden" name="split" value={parts ? '1' : '0'} />
        {parts ? (
          <>
            <ProposalEditor c={c} prefix="p1-" p={partProposals[0]!} choice={parts[0]} errors={errors} heading={zh ? '第一件' : 'Case 1'} />
            <ProposalEditor c={c} prefix="p2-" p={partProposals[1]!} choice={parts[1]} errors={errors} heading={zh ? '第二件' : 'Case 2'} />
          </>
        ) : (
          <ProposalEditor c={c} prefix="" p={review.proposal} choice={whole} errors={errors} heading={zh ? '案件' : 'The case'} />
        )}
        {/* Keeps the whole-call values while split, and the split texts while not. */}
        {parts ? (
          <>
            <input type="hidden" name="text" value={whole.text} />
            <input type="hidden" name="proposedText" value={whole.proposed.text} />
          </>
        ) : null}
        <label class="check" for="anonymous">
          <input id="anonymous" type="checkbox" name="anonymous" value="1" checked={anonymous} disabled={review.proposal.anonymityPhrase !== null} />{' '}
          {zh ? '匿名：不向承办单位提供来电人信息' : 'Anonymous: the caller is not identified to the bureaus'}
          {review.proposal.anonymityPhrase ? (
            <span class="hint">{zh ? `（来电人要求：“${review.proposal.anonymityPhrase}”）` : ` (the caller asked: “${review.proposal.anonymityPhrase}”)`}</span>
          ) : null}
        </label>
        {review.proposal.anonymityPhrase ? <input type="hidden" name="anonymous" value="1" /> : null}
        <div class="actions">
          <button type="submit" id="submit-call">
            {parts ? (zh ? '提交两件' : 'Submit both') : zh ? '提交' : 'Submit'}
          </button>
          <button type="submit" class="secondary" formaction="/console/review" name="reanalyse" value="1">
            {zh ? '按修改重新分析' : 'Analyse again'}
          </button>
          {parts ? (
            <button type="submit" class="secondary" formaction="/console/review" name="unsplit" value="1" id="unsplit">
              {zh ? '不拆分' : 'Do not split'}
            </button>
          ) : (
            <button type="submit" class="secondary" formaction="/console/review" name="splitNow" value="1" id="split">
              {zh ? '拆分为两件' : 'Split into two cases'}
            </button>
          )}
        </div>
        {parts ? null : (
          <>
            <input type="hidden" name="p1-seed" value={splitSeed[0]} />
            <input type="hidden" name="p2-seed" value={splitSeed[1]} />
          </>
        )}
      </form>
    </section>,
    { status, switchBy: { form: 'review-form', action: '/console/review' } },
  );
}

/**
 * The call entered. Only now are the drafts (staff.js) of its start form and
 * of its review dropped: the review page is the answer to a post and cannot
 * be shown again after signing in, so a session that ends while the operator
 * reviews the call sends them back to the start form, where the draft puts
 * the transcript back; analysed again, the call's review puts back the
 * corrections typed.
 */
function ResultPage({ c, cases, mode, reviewDraft }: { c: Context<AppEnv>; cases: Array<{ trackingCode: string; part: number }>; mode: 'transcript' | 'plain'; reviewDraft: string }) {
  const p = pageContext(c);
  const zh = p.lang === 'zh';
  const base = publicUrl(c.get('deps').env);
  return (
    <section {...draftDone(`/console/review#${mode}`, `/console/submit#${reviewDraft}`)}>
      <h1>{zh ? '已受理' : 'Accepted'}</h1>
      <p>{zh ? '请将查询码告知来电人，凭码可查询办理进度：' : 'Tell the caller the tracking code to follow the case:'}</p>
      <ul style="list-style:none;padding:0" id="result">
        {cases.map((k) => (
          <li>
            {cases.length > 1 ? <span>{zh ? `第${k.part}件：` : `Case ${k.part}: `}</span> : null}
            <span class="big-code" data-code={k.trackingCode}>
              {k.trackingCode}
            </span>{' '}
            <a href={`${base}/track/${k.trackingCode}`}>{zh ? '查看进度' : 'Follow it'}</a>
          </li>
        ))}
      </ul>
      <p class="actions">
        <a class="button" href="/console">
          {zh ? '受理下一个来电' : 'Next call'}
        </a>
      </p>
    </section>
  );
}

/**
 * Reads the first form (paste, upload or plain text) into the review state, with the problems
 * naming their fields (a file that cannot be read throws a 400 naming it). The state holds an
 * uploaded file's text, so that the form shown again with the problems keeps it.
 */
async function startState(c: Context<AppEnv>, form: Record<string, unknown>, lang: Lang): Promise<{ state: ReviewState; errors: Errors | null }> {
  const state = readState(form);
  const zh = lang === 'zh';
  const errors: Errors = {};
  const garbled = zh ? '含有无法识别的字符（可能是复制时的乱码），请删除后再提交。' : 'Holds characters that cannot be read (garbled when copied?); remove them and try again.';
  if (!(HOTLINES as readonly string[]).includes(state.call.hotline)) errors._form = zh ? '请选择热线：12345 或 12369。' : 'Choose the hotline: 12345 or 12369.';
  if (state.call.mode === 'plain') {
    const text = field(form, 'text');
    if (text.trim() === '') errors.text = zh ? '请填写来电人反映的问题。' : 'Write what the caller reported.';
    else if (textFault(text)) errors.text = garbled;
    // A call without a transcript: the complaint as typed is the transcript (no speaker labels).
    state.call.transcript = text;
  } else {
    const upload = files(form, 'transcriptFile')[0];
    if (state.call.transcript.trim() === '' && upload) {
      state.call.transcript = await readTranscriptFile(upload, lang);
      state.call.fromFile = true;
    }
    if (state.call.transcript.trim() === '') errors.transcript = zh ? '请粘贴录音文本或上传文本文件。' : 'Paste a transcript or upload a text file.';
    else if (textFault(state.call.transcript)) errors.transcript = garbled;
  }
  const iso = wallClockToIso(state.call.startedAt, c.get('deps').district.file.district.timezone);
  if (!iso) errors.startedAt = zh ? '请填写正确的来电时间。' : 'Give the time of the call (a real date and time).';
  else state.call.startedAtIso = iso;
  return { state, errors: Object.keys(errors).length > 0 ? errors : null };
}

export function consolePages() {
  const router = new Hono<AppEnv>();
  staffArea(router, '/console');

  router.get('/console', (c) => startPage(c));
  // Where signing in again leads after a session ended on the review page (the page a post answered, refused
  // submits included): the start form, which puts the call's draft back and says that the review's is kept.
  for (const path of ['/console/review', '/console/submit']) router.get(path, (c) => c.redirect('/console?after=review', 303));

  router.post('/console/review', async (c) => {
    const lang = pageContext(c).lang;
    const form = await c.req.parseBody({ all: true });
    // From the start forms: read the call; from the review form: the state it carries.
    if (field(form, 'startedAtIso') === '') {
      const mode = field(form, 'mode') === 'plain' ? 'plain' : 'transcript';
      let read: Awaited<ReturnType<typeof startState>>;
      try {
        read = await startState(c, form, lang);
      } catch (err) {
        if (!(err instanceof AppError) || err.status >= 500) throw err;
        return startPage(c, err.fields ?? { _form: err.message }, { ...readState(form).call, text: field(form, 'text') }, mode, 400);
      }
      if (read.errors) return startPage(c, read.errors, { ...read.state.call, text: field(form, 'text') }, mode, 400);
      return reviewPage(c, read.state);
    }
    const state = readState(form);
    if (field(form, 'splitNow') === '1') {
      state.split = true;
      state.parts = [0, 1].map((i) => ({
        text: field(form, `p${i + 1}-seed`),
        type: '',
        lead: '',
        jurisdiction: '',
        urgent: false,
        anonymous: state.whole.anonymous,
        proposed: { text: '', type: '', jurisdiction: '', urgent: false },
      })) as [Choice, Choice];
      // Nothing left for the second part: its field is empty and asks for it (a prompt as its text would become a case).
    }
    if (field(form, 'unsplit') === '1') state.split = false;
    return reviewPage(c, state);
  });

  router.post('/console/submit', async (c) => {
    const lang = pageContext(c).lang;
    const form = await c.req.parseBody({ all: true });
    const state = readState(form);
    if (state.call.startedAtIso === '') return c.redirect('/console', 303);
    const deps = c.get('deps');
    const principal = c.get('principal')!;
    try {
      // The call record names the operator who took it: the signed-in account.
      const input = callInput(state, lang, false, principal.name);
      const outcome = await acceptCall({ ...hotlineDeps(deps), requestId: c.get('requestId') }, input, { id: principal.userId, role: principal.role });
      const title = lang === 'zh' ? '已受理' : 'Accepted';
      return renderPage(c, title, <ResultPage c={c} cases={outcome.cases} mode={state.call.mode} reviewDraft={await reviewDraftName(state)} />, { status: outcome.status === 'created' ? 201 : 200, address: '/console' });
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      const fields = formFields(lang, err.fields ?? {});
      if (Object.keys(fields).length === 0 || fields.callId) fields._form = fields.callId ?? err.message;
      return reviewPage(c, state, fields, err.status === 409 ? 409 : 400);
    }
  });

  return router;
}
