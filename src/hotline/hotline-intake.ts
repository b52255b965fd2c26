import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { isUniqueViolation } from '../../db/repositories/db-types.js';
import {
  findCallKeys,
  findHotlineCall,
  listCallCases,
  type CallCase,
} from '../../db/repositories/hotline-calls.repository.js';
import type { Database } from '../../db/schema.js';
import type { Clock } from '../clock.js';
import { type District, leadProblem, typeName, unitName } from '../district/district.schema.js';
import { newId } from '../domain/ids.js';
import { withZoneOffset } from '../domain/time-zone.js';
import { newTrackingCode } from '../domain/tracking-code.js';
import { AppError } from '../errors.js';
import { prepareReport, withRequestId } from '../intake/accept-report.js';
import type { IntakeWriter } from '../intake/intake-writer.js';
import type { Classifier, Classification } from '../pipeline/classifier.js';
import { extractDetails, extractIncidentTime } from '../pipeline/extract-details.js';
import { asksAnonymity, jurisdictionFromText, maskIdentityInText, maskPhone, maskSelfNames, COMPOUND_SURNAME, PERSON_NAME, SURNAME } from '../pipeline/extract.js';
import { decideRoute } from '../pipeline/route.js';
import { callerText, confirmedByCaller, parseTranscript, startsTurn, type Speaker } from '../pipeline/transcript.js';
import { showsNothing } from '../domain/text.js';
import { mainCallerNumber, MAX_CASE_TEXT_CHARS, type CallInput, type Hotline } from './call-schema.js';

/**
 * A hotline call (12345 / 12369) becomes one case, or one case per part when
 * the operator split a call that raised separate problems.
 *
 * - The caller's lines are the complaint: the case text is built from them
 *   (or is the operator's corrected text, or the text of each part). The
 *   operator's lines and the summary are context: they stay with the call,
 *   whose full transcript only operators, dispatchers and admins read. A
 *   transcript without any speaker label is taken as the complaint as typed;
 *   one whose caller said nothing usable falls back to the summary. A case
 *   text taken from a long call is cut at MAX_CASE_TEXT_CHARS with a note;
 *   the full transcript stays with the call.
 * - The caller's number goes to the protected contact fields of each case
 *   (never shared with a bureau) and to the call record; everywhere else it
 *   is masked. A caller who asks not to be named is anonymous whatever the
 *   operator ticked: an operator can make a call anonymous, not undo a request.
 * - The operator's corrections (type, jurisdiction, urgency) are decisions the
 *   pipeline honours; a type that differs from the classifier's proposal is
 *   recorded as labelled data for retraining.
 * - A call is identified by hotline + callId. The same call sent again answers
 *   with the cases it already became; a different transcript under the same
 *   callId is a conflict. The call row, its cases and their outbox entries
 *   commit in one transaction, so a call is never half-accepted.
 */

export interface HotlineDeps {
  db: Kysely<Database>;
  writer: IntakeWriter;
  clock: Clock;
  district: District;
  classifier: Classifier;
  /** The HTTP request that brought the call, named in the `report accepted` log lines. */
  requestId?: string;
  /** Called after commit so the outbox relay moves the new jobs at once. */
  onCommitted?: () => void;
}

/** Who entered the call: a staff account, or a batch import run without one (id null). */
export interface Actor {
  id: string | null;
  role: string | null;
}

export interface CallOutcome {
  status: 'created' | 'duplicate';
  hotline: Hotline;
  callId: string;
  cases: CallCase[];
  /** For a duplicate: the corrections this request carried, which were not applied (the cases exist already). */
  ignored?: string[];
}

/** What an operator changes about a call's cases; on a call already on record, none of it is applied. */
const CORRECTIONS = ['type', 'lead', 'jurisdiction', 'placeUnknown', 'urgent', 'anonymous', 'text', 'parts'] as const satisfies ReadonlyArray<keyof CallInput>;

/** A call already on record, as a batch lookup finds it. */
export interface KnownCall {
  id: string;
  transcriptHash: string;
  startedAt: string;
  callerNumber: string | null;
}

const MINUTE_MS = 60_000;

/** What makes a call with a known id another call: its transcript, its start or its caller. */
export type CallDifference = 'transcript' | 'startedAt' | 'callerNumber';

/**
 * How a call sent under a known id differs from the one on record: hotline
 * systems that number calls per day, or an operator who typed another call's
 * id, send a different call under it (two short hang-up calls can have the
 * same transcript). The start is compared as an instant — with the same
 * transcript, to the minute: an export saved again by a spreadsheet whose
 * time format dropped the seconds (09:15 or 09:15:00 for 09:15:37) still
 * names the call it named —, the number as stored without its extension and
 * the leading zeros a spreadsheet drops.
 */
export function differencesFrom(known: KnownCall, input: CallInput, hash: string = transcriptHash(input.transcript)): CallDifference[] {
  const out: CallDifference[] = [];
  const sameTranscript = known.transcriptHash === hash;
  if (!sameTranscript) out.push('transcript');
  const [was, is] = [Date.parse(known.startedAt), Date.parse(input.startedAt)];
  if (sameTranscript ? Math.floor(was / MINUTE_MS) !== Math.floor(is / MINUTE_MS) : was !== is) out.push('startedAt');
  // An extension alone (given on one export, left out on another) does not make another caller, nor an area code's
  // leading 0 that a spreadsheet dropped, reading the column as numbers (7468888660 for 0746-8888660).
  const main = (n: string | null | undefined) => (n == null ? null : mainCallerNumber(n).replace(/^0+/, ''));
  if (main(known.callerNumber) !== main(input.callerNumber)) out.push('callerNumber');
  return out;
}

/** The most digits a call id a spreadsheet dropped the leading zeros of is looked for with (see `resavedCallIds`). */
const MAX_PADDED_CALL_ID = 20;

/**
 * The ids a spreadsheet may have written a digits-only call id as: without its leading zeros (0001021 → 1021, the
 * column read as numbers), or, for such an id, the ids it may have been with them (1021 → 01021, 001021, …, up to
 * MAX_PADDED_CALL_ID digits). Empty for other ids: letters in them, or more digits than a spreadsheet keeps of a
 * number (15) once the zeros are dropped.
 */
export function resavedCallIds(callId: string): string[] {
  if (!/^\d{1,20}$/.test(callId)) return [];
  const digits = callId.replace(/^0+/, '');
  if (digits === '' || digits.length > 15) return [];
  const out: string[] = [];
  for (let length = digits.length; length <= MAX_PADDED_CALL_ID; length++) {
    const id = digits.padStart(length, '0');
    if (id !== callId) out.push(id);
  }
  return out;
}

/**
 * Of calls on record (`onRecord`), the one a call whose id is not on record is all the same: under one of its
 * `resavedCallIds`, on the same hotline, and not different from it in anything (`differencesFrom`) — an export whose
 * call ids a spreadsheet saved without their leading zeros, imported again. Null when none is (a call that only has a
 * like id is a call of its own, as ever).
 */
export function sameCallResaved(district: District, input: CallInput, onRecord: ReadonlyArray<KnownCall & { hotline: string; callId: string }>): KnownCall | null {
  const ids = new Set(resavedCallIds(input.callId));
  if (ids.size === 0) return null;
  const local = withDistrictTime(district, input);
  return onRecord.find((k) => k.hotline === input.hotline && ids.has(k.callId) && differencesFrom(k, local).length === 0) ?? null;
}

/** The call on record that a call (its start read on the district's clock) is: under its id, or `sameCallResaved`. */
async function callOnRecord(deps: Pick<HotlineDeps, 'db' | 'district'>, input: CallInput): Promise<KnownCall | null> {
  const exact = await findHotlineCall(deps.db, input.hotline, input.callId);
  return exact ?? sameCallResaved(deps.district, input, await findCallKeys(deps.db, resavedCallIds(input.callId)));
}

/**
 * The call with a start that came without a UTC offset (2026-11-03T09:15:00, as
 * hotline systems in China export local time) read on the district's wall
 * clock, in the district file's time zone, and written with that offset.
 */
export function withDistrictTime(district: District, input: CallInput): CallInput {
  const { text } = withZoneOffset(input.startedAt, district.file.district.timezone);
  return text === input.startedAt ? input : { ...input, startedAt: text };
}

/** Line endings and surrounding blank space do not make a different transcript. */
export function transcriptHash(transcript: string): string {
  return createHash('sha256').update(transcript.replace(/\r\n?/g, '\n').trim()).digest('hex');
}

/**
 * What a caller says without saying anything: hesitation and filler sounds, greetings, checks on the line,
 * thanks and giving up (喂？喂？ 嗯……那个…… 听得到吗 算了), with the pronouns and particles around them.
 */
const NOTHING_SAID =
  /听得[到见清]吗?|听不[到见清]|信号不好|有人吗|在吗|你好|您好|喂|再见|拜拜|谢谢|算了|没有了|没了|不说了|好的|那个|这个|就是|然后|等一下|稍等|[嗯啊哦噢呃唉哎额诶喔呀吧呢嘛哈了的我你您那这是对好行]/g;
/** Fewer characters of substance than this, once NOTHING_SAID is taken out, and the caller's lines say nothing usable. */
const MIN_SUBSTANCE = 3;

/** True when the caller's lines carry no complaint: only filler and fewer than MIN_SUBSTANCE letters or digits besides. */
export function saysNothing(text: string): boolean {
  const rest = text.replace(NOTHING_SAID, '').replace(/[^\p{L}\p{N}]/gu, '');
  return [...rest].length < MIN_SUBSTANCE;
}

/**
 * The complaint in a transcript: the caller's lines; a text without any
 * speaker label as it is; otherwise the operator's summary. The summary also
 * stands in for caller lines that say nothing usable (喂？喂？ 嗯……那个…… 算了:
 * a dropped or broken call the operator summarised from what they heard), so
 * the case is classified and placed on what was reported rather than on
 * filler; without a summary, such lines are still the case text. Null when
 * there is none of these.
 */
export function complaintOf(transcript: string, summary?: string | null): string | null {
  const parsed = parseTranscript(transcript);
  // Caller lines of only invisible characters (a zero-width space) are no complaint, as a report of them is none.
  const caller = showsNothing(callerText(parsed)) ? '' : callerText(parsed).trim();
  const summarised = summary === undefined || summary === null || showsNothing(summary) ? null : summary.trim();
  if (caller) return summarised && saysNothing(caller) ? summarised : caller;
  if (parsed.lines.every((l) => l.speaker === 'unknown')) return showsNothing(transcript) ? null : transcript.trim();
  return summarised;
}

/**
 * The case text taken from a transcript, held to MAX_CASE_TEXT_CHARS like any
 * case text: a long call's complaint is cut at the limit (at a line break near
 * it when there is one) and ends with a note saying how much was left out and
 * that the full transcript is with the call, where operators and dispatchers
 * read it. A long call is still accepted: refusing it would lose the call, or
 * fail an import line the operator cannot shorten.
 */
export function caseTextFrom(complaint: string): { text: string; cutFrom: number | null } {
  const chars = [...complaint];
  if (chars.length <= MAX_CASE_TEXT_CHARS) return { text: complaint, cutFrom: null };
  const note = (left: number) => `\n……（来电内容过长，以下 ${left} 字从略，完整内容见通话记录）`;
  // The note's own length depends on the count it states: reserve room for the longest count.
  let keep = MAX_CASE_TEXT_CHARS - [...note(chars.length)].length;
  const lineBreak = chars.lastIndexOf('\n', keep);
  if (lineBreak > keep * 0.9) keep = lineBreak;
  const kept = chars.slice(0, keep).join('').trimEnd();
  return { text: kept + note(chars.length - [...kept].length), cutFrom: chars.length };
}

interface PlannedCase {
  part: number;
  text: string;
  type: string | null;
  lead: string | null;
  jurisdiction: string | null;
  /** The operator said the place is not known. */
  placeUnknown: boolean;
  urgent: boolean | null;
  /** The length of the complaint this text was cut from, when it was over the limit. */
  cutFrom: number | null;
}

function invalid(fields: Record<string, string>): AppError {
  return new AppError('validation_failed', `invalid ${Object.keys(fields).join(', ')}`, fields);
}

/**
 * A call's start a little ahead of the service's clock is a switch's clock
 * running fast (as for a report's occurredAt); hours ahead is a wrong date or
 * zone, and a call is never received before it started.
 */
const CALL_FUTURE_SLACK_MS = 15 * 60_000;
/**
 * No hotline transcript a district keeps is older than this; an earlier start
 * (1901-01-01, 1900-01-01) is a typo or an empty date field read as a date.
 */
export const CALLS_FROM_YEAR = 2000;
/** The first moment of CALLS_FROM_YEAR anywhere: its 1 January 00:00 in the easternmost zone (UTC+14). */
const EARLIEST_CALL = Date.UTC(CALLS_FROM_YEAR, 0, 1) - 14 * 3600_000;

/** What is wrong with a call's start, or null. */
function startedAtFault(startedAt: string, now: Date): string | null {
  const t = Date.parse(startedAt);
  if (t > now.getTime() + CALL_FUTURE_SLACK_MS) return 'must not be in the future';
  if (t < EARLIEST_CALL) return `must not be before ${CALLS_FROM_YEAR}`;
  return null;
}

/** The cases the call becomes, checked against the district file and the clock; throws 400 naming each bad field. */
function planCases(district: District, input: CallInput, now: Date): PlannedCase[] {
  const fields: Record<string, string> = {};
  const startFault = startedAtFault(input.startedAt, now);
  if (startFault) fields['startedAt'] = startFault;
  const checkType = (code: string | undefined, field: string) => {
    if (code !== undefined && !district.types.has(code)) fields[field] = `unknown type "${code}"`;
  };
  const checkJurisdiction = (code: string | undefined, field: string) => {
    if (code !== undefined && !district.jurisdictions.has(code)) fields[field] = `unknown jurisdiction "${code}"`;
  };
  const checkLead = (code: string | undefined, field: string) => {
    const problem = code === undefined ? null : leadProblem(district.units, code);
    if (problem) fields[field] = problem;
  };
  checkType(input.type, 'type');
  checkLead(input.lead, 'lead');
  checkJurisdiction(input.jurisdiction, 'jurisdiction');
  const bothPlaces = (jurisdiction: string | undefined, unknown: boolean | undefined, field: string) => {
    if (jurisdiction !== undefined && unknown === true) fields[field] = 'a jurisdiction and placeUnknown: give one of them';
  };
  bothPlaces(input.jurisdiction, input.placeUnknown, 'placeUnknown');
  let planned: PlannedCase[];
  if (input.parts) {
    input.parts.forEach((p, i) => {
      checkType(p.type, `parts.${i}.type`);
      checkLead(p.lead, `parts.${i}.lead`);
      checkJurisdiction(p.jurisdiction, `parts.${i}.jurisdiction`);
      bothPlaces(p.jurisdiction, p.placeUnknown, `parts.${i}.placeUnknown`);
    });
    planned = input.parts.map((p, i) => ({
      part: i + 1,
      text: p.text,
      type: p.type ?? null,
      lead: p.lead ?? null,
      jurisdiction: p.jurisdiction ?? (p.placeUnknown ? null : (input.jurisdiction ?? null)),
      placeUnknown: p.placeUnknown ?? (p.jurisdiction === undefined && input.placeUnknown === true),
      urgent: p.urgent ?? input.urgent ?? null,
      cutFrom: null,
    }));
  } else {
    const complaint = input.text ?? complaintOf(input.transcript, input.summary);
    if (!complaint) fields['transcript'] = 'no caller lines (label them 来电人, 市民, 群众, 客户, 举报人 or Caller), and no summary or text to use instead';
    const { text, cutFrom } = caseTextFrom(complaint ?? '');
    planned = [{ part: 1, text, type: input.type ?? null, lead: input.lead ?? null, jurisdiction: input.jurisdiction ?? null, placeUnknown: input.placeUnknown === true, urgent: input.urgent ?? null, cutFrom }];
  }
  if (Object.keys(fields).length > 0) throw invalid(fields);
  return planned;
}

/**
 * A heading above the call, as call-centre exports write one, that says the caller asked not to be named: 是否匿名：是,
 * 匿名：是, 是否保密：需要, 匿名举报：Y. Only before the first line a speaker says.
 */
const ANONYMOUS_HEADING = /^\s*(?:是否)?(?:匿名|保密)(?:举报|处理|受理)?\s*[:：]\s*(?:是|需要|要|已?同意|Y|y|yes|Yes|YES|true|1|√)\s*$/u;

export function anonymityInHeading(transcript: string): boolean {
  for (const raw of transcript.split(/\r\n|\r|\n/)) {
    if (ANONYMOUS_HEADING.test(raw)) return true;
    if (startsTurn(raw)) return false;
  }
  return false;
}

function anonymityRequested(district: District, input: CallInput, planned: readonly PlannedCase[]): boolean {
  if (input.anonymous === true) return true;
  if (anonymityInHeading(input.transcript)) return true;
  const complaint = complaintOf(input.transcript, null);
  if (complaint && asksAnonymity(district, complaint) !== null) return true;
  if (anonymityAgreedInDialogue(input.transcript)) return true;
  return planned.some((p) => asksAnonymity(district, p.text) !== null);
}

/**
 * A place the operator named and the caller confirmed (坐席：是李家塘办事处吗？
 * 来电人：对对，就是那里): the name, to stand as the case's address when the
 * caller's own words name no place.
 */
export function confirmedPlace(district: District, transcript: string): string | null {
  for (const line of confirmedByCaller(parseTranscript(transcript))) {
    const match = jurisdictionFromText(district, line);
    if (match) return match.matched;
  }
  return null;
}

/**
 * The confirmed place as the address of a case with this text: only when the text names no place of its own.
 * A case's address is read before its words for the jurisdiction, so the place confirmed for one problem of a
 * split call would otherwise send another problem, which names its own place, to the wrong local office.
 */
function placeFor(district: District, text: string, confirmed: string | null): string | null {
  return confirmed !== null && jurisdictionFromText(district, text) === null ? confirmed : null;
}

/** The operator offers confidentiality (需要为您保密吗？要不要匿名？) … */
const OFFERS_CONFIDENTIALITY = /保密|匿名|不公开|不透露|不对外/;
/**
 * … or asks for a name (请问您贵姓？可以留个名字吗？您叫什么名字？您的姓名是？请问您是哪位？
 * 麻烦说一下您的名字。), also as operators say it for short or colloquially, often after the surname
 * (请问全名是？能留个全名吗？您大名是？你叫啥名字？请问您是哪一位？请问您是？名字呢？) …
 */
const ASKS_NAME =
  /贵姓|怎么称呼|尊姓|姓什么|叫什么|叫啥|什么名字|啥名字|(?:您|你)是(?:哪一?位|谁)|(?:您|你)(?:是|叫)[？?]|(?:您|你)的?(?:姓名|名字|全名|大名)|(?:请问|个|下)全名|^(?:请问)?(?:姓名|名字|全名)(?:呢|是)?[？?]|(留|告诉|提供|说|报|讲|登记).{0,4}(姓名|名字|称呼|全名)/;
/** An operator's line that asks something. */
const ASKS = /[吗？?]|是否|要不要/;
/** A request, which asks for a name as a question does (麻烦说一下您的名字。请报一下姓名。). */
const REQUESTS = /请问|麻烦|一下|请(?:您|你)?(?:说|报|讲|提供|留|告诉)/;

/** The operator's line asks for the caller's name, as a question or a request. */
function asksName(line: string): boolean {
  return ASKS_NAME.test(line) && (ASKS.test(line) || REQUESTS.test(line));
}

/**
 * What opens an answer without saying yes or no: hesitation sounds, 那个/这个,
 * and the pronouns and adverbs people put before the answer itself
 * (我当然要保密 → 当然要保密, 你就别问了 → 别问了, 这个就不用了吧 → 不用了吧).
 */
const OPENING = /^(?:[嗯啊哦噢呃唉哎额诶喔呀]+|那个|这个|那|这|我|你|您|就|也|[，,。.！!？?…~～、\s])+/;
/** The name the question was about, said first (姓名就算了吧 → 算了吧). */
const NAME_TOPIC = /^(?:我的)?(?:名字|姓名|称呼|名)(?:的话|嘛|呢|啊|吧|就|[，,\s])*/;
/** The first clause of an answer, after its opening. */
function firstClause(answer: string, topic?: RegExp): string {
  let s = answer.trim().replace(OPENING, '');
  if (topic) s = s.replace(topic, '').replace(OPENING, '');
  return s.split(/[，,。.！!？?；;…]/)[0] ?? '';
}

/** A no to confidentiality (不用, 不需要匿名, 无所谓, 都行), but not 不要透露 or 不用说 (needless to say). */
const DECLINES_CONFIDENTIALITY =
  /不用(?!说)|不需要|不必|没必要|用不着|无所谓|没关系|没事|都行|都可以|随便|不怕|不要(?!透露|公开|告诉|讲|说|让|泄露|暴露|提)|不保密|不匿名|公开/;
/** A yes to confidentiality: an agreeing word first (要的, 必须的, 当然, 肯定要; not 是这样的 or 对了, which start a story), or the request itself (保密吧, 匿名). */
const WANTS_CONFIDENTIALITY =
  /^(?:要|需要|是(?!这样|那样|这么|那么)|对(?!了)|好(?!像)|行|可以|麻烦|请|当然|肯定|必须|一定|务必|最好|那是|废话|不要(?:透露|公开|告诉|讲|说|让|泄露|暴露|提))|保密|匿名/;

/** The caller's answer to an offer of confidentiality says yes. A bare 嗯 is a yes; 嗯，不用了 is not. */
export function acceptsConfidentiality(answer: string): boolean {
  if (answer.trim() === '') return false;
  const clause = firstClause(answer);
  if (clause === '') return true;
  return !DECLINES_CONFIDENTIALITY.test(clause) && WANTS_CONFIDENTIALITY.test(clause);
}

/** A caller who gives a name after all (不用客气，我姓李 / 算了，叫我老王吧). */
const GIVES_NAME = /姓(?!名|什么)[\u4e00-\u9fff]|我叫|叫我/;
/** A no to the question for a name, at the start of the answer (不用了, 算了吧, 别问了, 不太方便说, 保密, 免了) … */
const REFUSES_NAME = /^(?:不用(?!客气|谢)|不留|不要|算了|不.{0,2}方便|不想|不说|不讲|不告诉|不提|没必要|不必|别(?!客气)|保密|匿名|免了|无可奉告|不重要)/;
/** … or anywhere in its first clause (那就不说了, 这个不太方便). */
const REFUSES_NAME_WITHIN = /不.{0,2}方便|保密|匿名|别问|就不(?:说|留|讲|告诉|提)|不(?:说|留|讲)了|不想(?:说|留|讲)/;

/** The caller's answer to a question for their name is a refusal, not a name. */
export function refusesName(answer: string): boolean {
  if (GIVES_NAME.test(answer)) return false;
  const clause = firstClause(answer, NAME_TOPIC);
  return REFUSES_NAME.test(clause) || REFUSES_NAME_WITHIN.test(clause);
}

/**
 * A caller who keeps their own name back (名字就不说了, 我的名字不留了) or takes back one already given
 * (我叫张三……算了，名字还是别写了; 名字你们别记了), not someone else's (那个厂的名字).
 */
const WITHHOLDS_NAME = /(^|[，,。！!\s…]|我的?|(?:刚才|刚刚|前面|上面)[说讲报留给]的)(名字|姓名)(?:就|我|你|你们|还是|也|都)*(?:不|别|不要|不用)(说|留|讲|告诉|提|写|记|登记)(?![错对])/;

/**
 * A caller who asks not to be named in answer to the operator — the usual
 * exchange is the operator's question and a short answer — rather than in
 * words of their own: read from the question and the caller's next line.
 * A question that offers confidentiality takes a yes (要的, 保密吧, 必须的,
 * 肯定要保密啊) and not a no (不用保密, 不需要匿名, 无所谓); a question for the
 * name takes a refusal (不用了, 我就不说了, 你就别问了, 不太方便说, 姓名就算了吧)
 * unless the caller gives a name after all (没关系，我叫王五).
 */
export function anonymityAgreedInDialogue(transcript: string): boolean {
  const lines = parseTranscript(transcript).lines;
  for (const [i, line] of lines.entries()) {
    if (line.speaker === 'caller' && WITHHOLDS_NAME.test(line.text)) return true;
    if (line.speaker !== 'operator') continue;
    const answer = lines[i + 1];
    if (answer?.speaker !== 'caller') continue;
    // When one question does both (需要保密吗？留个名字吗？), a no is read as a no to confidentiality.
    if (OFFERS_CONFIDENTIALITY.test(line.text)) {
      if (ASKS.test(line.text) && acceptsConfidentiality(answer.text)) return true;
    } else if (asksName(line.text) && refusesName(answer.text)) return true;
  }
  return false;
}

/** An answer that is a name and nothing more (端木问答 / 王小明啊 / 叫王小明), as its first clause after the opening. */
const BARE_NAME = new RegExp(`^(?:叫|名叫|叫做)?(${PERSON_NAME})[吧啊呀哈嘛的]?$`, 'u');
/**
 * An answer that gives the surname first, then the name in a clause of its own (姓李，李四 / 免贵姓李，叫李四), or
 * as a speech-recognition transcript writes it, without a comma: after 叫, or the name straight after its surname
 * (姓李叫李四, 我姓陈陈建华).
 */
const SURNAME_THEN_NAME = new RegExp(`^(?:免贵)?姓(${COMPOUND_SURNAME}|${SURNAME})(?:的)?(?:[，,。.、\\s]+(?:叫|名叫)?|叫|名叫|(?=\\1))`, 'u');

/**
 * The name an answer's first clause is, also when a space sets off what follows it (王小明 三横王 小明的明), as
 * speech recognition and typing operators write the spelling a caller adds.
 */
function bareName(clause: string): string | undefined {
  return BARE_NAME.exec(clause.trim().split(/\s+/u)[0] ?? '')?.[1];
}

/** The name in an answer that gives the surname first (姓李，李四), when it starts with that surname. */
function nameAfterSurname(answer: string): string | null {
  const opened = answer.trim().replace(OPENING, '').replace(NAME_TOPIC, '').replace(OPENING, '');
  const surnamed = SURNAME_THEN_NAME.exec(opened);
  if (!surnamed) return null;
  const name = bareName(firstClause(opened.slice(surnamed[0].length)));
  return name?.startsWith(surnamed[1]!) ? name : null;
}

/**
 * The name a caller gives in answer to the operator's question for it
 * (请问您怎么称呼？— 端木问答。/ 我叫王小明 / 我姓王，叫王小明 / 姓李，李四 / 王小明啊), or null:
 * a refusal, a surname alone (姓王) or an answer that is no name; or the name a heading above the call gives
 * with the caller's label (来电人：李秀兰). Said alone, no rule of the masking would know it for the caller's name.
 */
export function nameGivenInDialogue(transcript: string): string | null {
  const lines = parseTranscript(transcript).lines;
  for (const [i, line] of lines.entries()) {
    if (line.speaker !== 'operator' || !asksName(line.text)) continue;
    const answer = lines[i + 1];
    if (answer?.speaker !== 'caller' || refusesName(answer.text)) continue;
    const stated = maskSelfNames(answer.text).names[0] ?? bareName(firstClause(answer.text, NAME_TOPIC)) ?? nameAfterSurname(answer.text);
    if (stated) return stated;
  }
  // A heading above the call that names the caller with the caller's label (来电人：李秀兰, as exports write one): a caller's
  // line that is a name and nothing more, before the operator has said anything.
  for (const line of lines) {
    if (line.speaker === 'operator') break;
    if (line.speaker !== 'caller') continue;
    const named = BARE_NAME.exec(line.text.trim().replace(/[。.！!，,；;\s]+$/u, ''))?.[1];
    if (named) return named;
  }
  return null;
}

async function existingOutcome(deps: HotlineDeps, input: CallInput, known: KnownCall, hash: string): Promise<CallOutcome> {
  const differs = differencesFrom(known, input, hash);
  if (differs.length > 0) {
    const what = differs.join(', ');
    throw new AppError('conflict', `call ${input.callId} of hotline ${input.hotline} was already received with a different ${what}`, {
      callId: `already received with a different ${what}`,
      ...Object.fromEntries(differs.filter((d) => d !== 'transcript').map((d) => [d, `differs from the call already received under this callId`])),
    });
  }
  const ignored = CORRECTIONS.filter((f) => input[f] !== undefined);
  return {
    status: 'duplicate',
    hotline: input.hotline,
    callId: input.callId,
    cases: await listCallCases(deps.db, known.id),
    ...(ignored.length > 0 ? { ignored } : {}),
  };
}

/**
 * Accepts a call: its cases, contacts, events, outbox entries, the call record
 * and the operator's corrections, in one transaction. `known` is the call on
 * record when the caller already looked it up (undefined: look it up here).
 */
export async function acceptCall(deps: HotlineDeps, given: CallInput, actor: Actor, known?: KnownCall | null): Promise<CallOutcome> {
  const { district } = deps;
  const input = withDistrictTime(district, given);
  const hash = transcriptHash(input.transcript);
  const onRecord = known === undefined ? await callOnRecord(deps, input) : known;
  if (onRecord) return existingOutcome(deps, input, onRecord, hash);

  const planned = planCases(district, input, deps.clock.now());
  const anonymous = anonymityRequested(district, input, planned);
  // The name the caller gave the operator: kept with the number for operators and dispatchers, so that every
  // view a bureau or the public has masks it; a caller who asked not to be named keeps none, and the case's
  // words lose it here.
  const callerName = nameGivenInDialogue(input.transcript);
  const startedAt = new Date(input.startedAt);
  const timezone = district.file.district.timezone;
  const place = confirmedPlace(district, input.transcript);
  const callerNumber = input.callerNumber ?? null;
  const channel = input.hotline === '12345' ? 'hotline12345' : 'hotline12369';
  const now = deps.clock.now();
  const at = now.toISOString();
  const callRowId = newId();
  const caseIds = planned.map(() => newId());
  // Each case's words: an anonymous caller's, kept as bureaus read them — the name said in answer to the operator and
  // one the caller gave for themself (我叫王建国……算了，名字还是别写了), with every mention, and numbers — as an
  // anonymous web or Telegram report's are; the call's transcript keeps what was said, for operators and dispatchers.
  const texts = planned.map((p) => (anonymous ? maskIdentityInText(p.text, [callerName], { anonymous: true }) : p.text));
  // Labelled data: the operator's type where it differs from what the machine proposes for the same text, kept as the case keeps it.
  const corrections = planned.flatMap((p, i) => {
    if (!p.type) return [];
    const predicted = deps.classifier.classify(texts[i]!).type;
    return p.type === predicted ? [] : [{ caseId: caseIds[i]!, text: texts[i]!, label: p.type, predicted }];
  });

  for (let attempt = 1; ; attempt++) {
    const reports = planned.map((p, i) =>
      withRequestId(
        prepareReport(
          {
            channel,
            text: texts[i]!,
            name: anonymous ? null : callerName,
            phone: callerNumber,
            anonymous,
            shareContact: false,
            // The caller's "昨晚十点" is read against the time of the call, not of the import.
            occurredAt: extractIncidentTime(p.text, startedAt, timezone)?.at ?? null,
            receivedAt: startedAt.toISOString(),
            address: placeFor(district, p.text, place),
            preset: { typeCode: p.type, leadCode: p.lead, jurisdictionCode: p.jurisdiction, placeUnknown: p.placeUnknown, urgent: p.urgent },
            enteredBy: actor,
            receivedData: {
              hotline: {
                hotline: input.hotline,
                callId: input.callId,
                part: p.part,
                parts: planned.length,
                ...(p.cutFrom !== null ? { textCutFrom: p.cutFrom } : {}),
              },
              ...(p.type || p.lead || p.jurisdiction || p.placeUnknown || p.urgent !== null
                ? { operatorSet: { type: p.type, lead: p.lead, jurisdiction: p.jurisdiction, ...(p.placeUnknown ? { placeUnknown: true } : {}), urgent: p.urgent } }
                : {}),
            },
          },
          { id: caseIds[i]!, trackingCode: newTrackingCode() },
          now,
        ),
        deps.requestId,
      ),
    );
    reports[0]!.hotlineCall = {
      row: {
        id: callRowId,
        hotline: input.hotline,
        call_id: input.callId,
        started_at: startedAt.toISOString(),
        caller_number: callerNumber,
        operator: input.operator ?? null,
        transcript: input.transcript,
        transcript_hash: hash,
        summary: input.summary ?? null,
        external_ref: input.externalRef ?? null,
        anonymous: anonymous ? 1 : 0,
        created_at: at,
        created_by: actor.id,
      },
      cases: planned.map((p, i) => ({ caseId: caseIds[i]!, part: p.part })),
      corrections: corrections.map((c) => ({ ...c, source: 'operator' as const, actorId: actor.id, at })),
    };
    try {
      await deps.writer.writeAll(reports);
      deps.onCommitted?.();
      return {
        status: 'created',
        hotline: input.hotline,
        callId: input.callId,
        cases: reports.map((r, i) => ({ id: r.caseRow.id, trackingCode: r.caseRow.tracking_code, status: 'received', part: planned[i]!.part })),
      };
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      // The same call arriving twice at once (two operators, a retried import): the first one won.
      const existing = await findHotlineCall(deps.db, input.hotline, input.callId);
      if (existing) return existingOutcome(deps, input, existing, hash);
      // Otherwise a tracking code was taken (astronomically rare): new codes, try again.
      if (attempt >= 3) throw err;
    }
  }
}

// ---------------------------------------------------------------------------
// Review: what the machine makes of the call, without creating anything.

type UnitRef = { code: string; name: string };

function unitRef(district: District, code: string): UnitRef {
  return { code, name: unitName(district, code) };
}

function typeRef(district: District, code: string, confidence: number) {
  return { code, name: typeName(district, code), confidence };
}

/** The classifier's proposal and the extraction for one complaint text. */
function propose(deps: Pick<HotlineDeps, 'district' | 'classifier'>, text: string, startedAt: Date, anonymous: boolean, address: string | null = null) {
  const { district } = deps;
  const classification: Classification = deps.classifier.classify(text);
  const details = extractDetails(district, text, { location: null, receivedAt: startedAt, typeCode: classification.type, address });
  const decision = decideRoute(district, classification, details.jurisdiction, details.urgency);
  const route = classification.type ? district.routing[classification.type] : undefined;
  return {
    text,
    type: classification.type ? typeRef(district, classification.type, classification.confidence) : null,
    runnerUp: classification.runnerUp ? typeRef(district, classification.runnerUp.type, classification.runnerUp.confidence) : null,
    evidence: classification.evidence.slice(0, 10).map((e) => ({
      phrase: e.phrase,
      weight: e.weight,
      source: e.source,
      ...(e.start !== undefined && e.end !== undefined ? { start: e.start, end: e.end } : {}),
    })),
    lead: route ? unitRef(district, route.lead) : null,
    coHandlers: route && !route.transfer ? route.co.map((c) => unitRef(district, c)) : [],
    transfer: route?.transfer ?? false,
    outcome: decision.outcome,
    triageReason: decision.outcome === 'triage' ? decision.reason : null,
    jurisdiction: details.jurisdiction ? { ...unitRef(district, details.jurisdiction.jurisdiction), matched: details.jurisdiction.matched } : null,
    place: details.place,
    incidentTime: details.time
      ? { phrase: details.time.phrase, at: details.time.at, approximate: details.time.approximate, recurring: details.time.recurring }
      : null,
    urgent: details.urgency.urgent,
    urgencyReasons: details.urgency.reasons,
    anonymous: anonymous || details.anonymity.requested,
    anonymityPhrase: details.anonymity.phrase,
    /** Numbers the caller said, masked: they go to the protected contact fields. */
    phonesMentioned: details.phones.map(maskPhone),
  };
}

export type Proposal = ReturnType<typeof propose>;

export interface CallReview {
  review: true;
  hotline: Hotline;
  callId: string;
  /** Set when this call is already on record: submitting it again creates nothing. */
  existing: { sameTranscript: boolean; differs: CallDifference[]; cases: CallCase[] } | null;
  transcript: { lines: Array<{ speaker: Speaker; at: string | null; text: string }> };
  callerNumber: string | null;
  /** The proposal for the whole call (the caller's lines, or the operator's corrected text). */
  proposal: Proposal;
  /** One proposal per part when the operator split the call. */
  parts: Proposal[] | null;
}

/** The review of a call: extraction and the classifier's proposal; nothing is written. */
export async function reviewCall(deps: HotlineDeps, given: CallInput): Promise<CallReview> {
  const { district } = deps;
  const input = withDistrictTime(district, given);
  const planned = planCases(district, input, deps.clock.now());
  const startedAt = new Date(input.startedAt);
  const anonymous = anonymityRequested(district, input, planned);
  const place = confirmedPlace(district, input.transcript);
  // The whole call's complaint: the one planned case's text, or, for a split call, the complaint its parts came from.
  const wholeComplaint = input.parts ? (input.text ?? complaintOf(input.transcript, input.summary)) : null;
  const whole = !input.parts ? planned[0]!.text : wholeComplaint ? caseTextFrom(wholeComplaint).text : planned.map((p) => p.text).join('\n');
  const onRecord = await callOnRecord(deps, input);
  const differs = onRecord ? differencesFrom(onRecord, input) : [];
  return {
    review: true,
    hotline: input.hotline,
    callId: input.callId,
    existing: onRecord
      ? {
          sameTranscript: !differs.includes('transcript'),
          differs,
          cases: await listCallCases(deps.db, onRecord.id),
        }
      : null,
    transcript: { lines: parseTranscript(input.transcript).lines.map((l) => ({ speaker: l.speaker, at: l.at ?? null, text: l.text })) },
    callerNumber: input.callerNumber ? maskPhone(input.callerNumber) : null,
    proposal: propose(deps, whole, startedAt, anonymous, placeFor(district, whole, place)),
    parts: input.parts ? planned.map((p) => propose(deps, p.text, startedAt, anonymous, placeFor(district, p.text, place))) : null,
  };
}
