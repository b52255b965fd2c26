/**
 * Hotline call transcripts (12345 / 12369): speaker-labelled lines such as
 *
 *   [00:00:02] 坐席：您好，12369环保举报热线，请讲。
 *   [00:00:05] 来电人：我要举报兴隆办事处那边一个厂子……
 *
 * What the caller says is the complaint; the operator's lines are context
 * only. Pure parsing, no I/O: the hotline handler and the intake step share it.
 */

import { SURNAME } from './extract.js';

export type Speaker = 'operator' | 'caller' | 'unknown';

export interface TranscriptLine {
  speaker: Speaker;
  text: string;
  /** hh:mm:ss offset into the call, when the line carried a timestamp. */
  at?: string;
  /** The voice a speech-recognition export names (说话人1 → "1"), when the line was labelled so. */
  voice?: string;
}

export interface Transcript {
  readonly lines: readonly Readonly<TranscriptLine>[];
}

// 座席 is how many call-centre systems write 坐席 (both are in use); 问 the questions of a record kept as 问：… 答：…
// (问答式记录, as a call is often typed up), whose 答 is the caller.
const OPERATOR_LABELS = ['坐席', '座席', '话务员', '客服', '接线员', '工作人员', '问'] as const;
// 举报人 / 投诉人 / 反映人: how a 12369 reporting line's exports name the caller; 用户 / 来电方 other systems'; 居民 as Resident in English.
const CALLER_LABELS = ['来电人', '来电者', '来电方', '来电', '市民', '居民', '群众', '客户', '用户', '举报人', '投诉人', '反映人', '答'] as const;

// English exports (and operators who type English labels) name the two sides Operator / Agent and Caller / Citizen / Resident, in any case.
const EN_OPERATOR_LABELS = ['operator', 'agent'] as const;
const EN_CALLER_LABELS = ['caller', 'citizen', 'resident'] as const;

/** An English label in any case (Caller, CALLER, caller), and not the start of a longer word (Callers, Agentur). */
const anyCase = (word: string) => `${[...word].map((ch) => `[${ch.toUpperCase()}${ch}]`).join('')}(?![A-Za-z])`;

// Longer labels first so 来电人 is not read as something shorter.
const LABELS = [...[...OPERATOR_LABELS, ...CALLER_LABELS].sort((a, b) => b.length - a.length), ...[...EN_OPERATOR_LABELS, ...EN_CALLER_LABELS].map(anyCase)];

// A line opens with an optional timestamp ([00:00:02], 【00:02】, (0:00:02), bare 00:00:02 or, before a label, bare 00:02),
// then a label, optionally in brackets (【坐席】您好, [来电人] …), optionally numbered or named (坐席1, 客服 A, 坐席(工号1024), 来电人张先生, 坐席小王, 市民张三), then
// optionally the timestamp after the label instead (坐席 [00:00:01]：), then a full-width or ASCII colon or a tab
// (00:00:01<TAB>坐席<TAB>您好, as exported from a spreadsheet), or the closing bracket of a bracketed label. A bare mm:ss counts only next to a label: at the start
// of a wrapped line, 12:30 is more likely a time of day the caller mentions.
// A timestamp may carry the date before the time ([2026-11-28 21:30:07]), milliseconds after it ([00:00:02.350]),
// and the end of the speech after its start ([00:00:01-00:00:04], 00:00:01 --> 00:00:04): the start is kept.
// A bare timestamp is read whole (00:00:01 is never 00:00 followed by a colon and "01").
const DATE = String.raw`(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}[ T]+)?`;
const MILLIS = String.raw`(?:[.,]\d{1,3})?`;
const RANGE_END = String.raw`(?:\s*(?:-->|->|[-–—~～至])\s*${DATE}\d{1,2}:\d{2}(?::\d{2})?${MILLIS})?`;
/** A timestamp with its start time in one of two capture groups (bracketed, bare); a bare one must be hh:mm:ss unless `shortBare`. */
const timestamp = (shortBare: boolean) =>
  String.raw`(?:[\[【(（]\s*${DATE}(\d{1,2}:\d{2}(?::\d{2})?)${MILLIS}${RANGE_END}\s*[\]】)）]|${DATE}(\d{1,2}:\d{2}${shortBare ? '(?::\\d{2})?' : ':\\d{2}'})${MILLIS}${RANGE_END}(?!\d|[:.,]\d))`;
const TIMESTAMP = timestamp(false);
const LABEL_TIMESTAMP = timestamp(true);
/** Words that follow a label in a heading, not a name (来电方式, 客户方面, 来电小结). */
const NOT_A_NAME = '(?!方面|方式|小结|高峰|金额|程序|白天|时间|号码|地址|日期|类型|内容|记录|信息|情况|编号|总结|摘要|来源|单位)';
/**
 * After a label: a number, a note in brackets, 王先生, or a surname and a given name — a named speaker (坐席王丽, 市民张三),
 * not 来电时间. A number is not the hour of a timestamp that follows the label (坐席 00:00:01 is the operator at 00:00:01, not operator "00").
 */
const NOT_AN_HOUR = String.raw`(?![A-Za-z0-9]|:\d{2}(?::\d{2})?${MILLIS}(?:\s|[:：\]】)）]|$))`;
const CHINESE_NAME = String.raw`[\u4e00-\u9fff]{1,2}(?:先生|女士|小姐|师傅|阿姨|大爷|大妈)|${NOT_A_NAME}(?:[小老阿]${SURNAME}|${SURNAME}[\u4e00-\u9fff]{1,2})`;
/** A note in brackets after a label (坐席(工号1024), 来电人（张先生，13812345678）), or an id in square ones (坐席 [1024]). */
const LABEL_NOTE = String.raw`[(（][^)）]{0,24}[)）]|\[[^\]:]{1,12}\]`;
/**
 * After a Chinese label: a work number as call-centre systems write one (坐席1, 坐席_1024, 坐席-A01, 坐席#1024, 坐席1024号),
 * a note, or a name, with a note after it or not (坐席小王(1024), 来电人-张先生).
 */
const ZH_LABEL_SUFFIX = String.raw`(?:[-_#]\s*)?[A-Za-z0-9]{1,8}号?${NOT_AN_HOUR}|${LABEL_NOTE}|(?:[-_]\s*)?(?:${CHINESE_NAME})(?:\s*(?:${LABEL_NOTE}))?`;
/** Words that follow an English label in a heading, not a name (Caller Name:, Agent Number:). */
const NOT_AN_ENGLISH_NAME = String.raw`(?!(?:Name|Number|Phone|Tel|Mobile|Address|Time|Date|Type|Info|Information|Notes?|Summary|Record|Location|Details?|Id|No|Code|Count|Says|Said|Asked)(?![A-Za-z]))`;
/**
 * After an English label: a number or a letter (Agent 2, Agent #2, Agent A, Agent B2), a note in brackets (Agent (ID 1024)),
 * a Chinese name as above, or a capitalised name (Operator Wang, Caller Mr. Zhang, Citizen Li Ming) — not a heading's word
 * (Caller ID, Caller number, Caller Name).
 */
const EN_LABEL_SUFFIX = String.raw`(?:[-_]\s*)?(?:#?\d{1,4}|[A-Z]\d{0,3})${NOT_AN_HOUR}|[(（][^)）]{0,20}[)）]|${CHINESE_NAME}|(?:(?:Mr|Mrs|Ms|Miss|Dr)\.?\s*)?${NOT_AN_ENGLISH_NAME}[A-Z][a-z]{1,11}(?: [A-Z][a-z]{1,11})?(?![A-Za-z])`;
/** The suffixes a label may have: a Chinese label's, or an English label's (told apart by the label's last letter before it). */
const LABEL_SUFFIX = String.raw`(?:(?<=[\u4e00-\u9fff]\s*)(?:${ZH_LABEL_SUFFIX})|(?<=[A-Za-z]\s*)(?:${EN_LABEL_SUFFIX}))`;
/** The label, its suffix and a timestamp after them; a timestamp is tried before a bracketed note so (00:00:01) is read as one. */
const LABEL_PART = String.raw`(${LABELS.join('|')})\s*(?:${LABEL_TIMESTAMP}|${LABEL_SUFFIX}(?:\s*${LABEL_TIMESTAMP})?)?`;
/** A line number before a turn, as some exports number their lines (1 坐席：…, 2. 来电人：…, 3、…, 4) …). */
const LINE_NUMBER = String.raw`(?:\d{1,4}(?:\s*[.、)）]|\s)\s*)?`;
/** What a typed note says the speaker did (来电人说：, 坐席问：, 来电人答：). */
const SPEECH_VERB = String.raw`(?:\s*(?:说|问|答|讲|回答))?`;
const LABELLED_LINE = new RegExp(String.raw`^\s*${LINE_NUMBER}(?:${LABEL_TIMESTAMP}\s*)?(?:[【\[]\s*)?${LABEL_PART}${SPEECH_VERB}(?:\s*[:：]|\t|\s*[】\]]\s*[:：]?)\s*(.*)$`);
/**
 * A header line naming the speaker and the time, whose words follow on the next lines
 * (坐席 00:00:01 / 您好，请讲。): a timestamp is required, so a line that is only a label is not taken for one.
 */
const HEADER_LINE = new RegExp(String.raw`^\s*${LABEL_PART}\s*[:：]?\s*$`);
const TIMESTAMP_ONLY = new RegExp(String.raw`^\s*${TIMESTAMP}\s*(.*)$`);

interface Labelled {
  speaker: Speaker;
  text: string;
  at?: string;
}

/**
 * Speech-recognition exports name the voices, not the sides: 说话人1 / 说话人2, 发言人A, 角色1, Speaker 1, spk_0 — as a
 * label like the others (说话人1：…, [00:00:02] 说话人2：…) or a header line with the time (说话人1 00:00).
 */
const VOICE_WORD = /说话人|发言人|讲话人|角色|声道|speaker|spk/i;
const VOICE_LABEL = String.raw`(?:说话人|发言人|讲话人|角色|声道|[Ss]peaker|SPEAKER|SPK|[Ss]pk)\s*[-_]?\s*([A-Za-z0-9]{1,3})${NOT_AN_HOUR}`;
// Groups: 1–2 leading timestamp, 3 the voice, 4–5 timestamp after it, 6 text.
const VOICE_LINE = new RegExp(
  String.raw`^\s*${LINE_NUMBER}(?:${LABEL_TIMESTAMP}\s*)?(?:[【\[]\s*)?${VOICE_LABEL}\s*(?:${LABEL_TIMESTAMP})?\s*(?:[:：]|\t|[】\]]\s*[:：]?|(?=\s*$))\s*(.*)$`,
);
/** How an operator answers a hotline call (您好，12369环保举报热线，请讲): the voice that says it first is the operator's. */
const OPERATOR_GREETING = /12345|12369|热线|请讲|有什么可以帮|请问有什么|为您服务|工号/;

/**
 * Lines labelled with the speakers' names alone (小王：您好，12369热线，请讲。 / 张先生：我要举报…), as some call notes
 * are typed. Groups: 1–2 leading timestamp, 3 the name, 4–5 timestamp after it, 6 text.
 */
const NAMED_LINE = new RegExp(
  String.raw`^\s*${LINE_NUMBER}(?:${LABEL_TIMESTAMP}\s*)?(?:[【\[]\s*)?(${CHINESE_NAME})\s*(?:${LABEL_TIMESTAMP})?${SPEECH_VERB}\s*(?:[:：]|[】\]]\s*[:：]?)\s*(.*)$`,
);

/** Whether a line starts a speaker's turn (a side's label or a voice's), as the transcript is read. */
export function startsTurn(raw: string): boolean {
  return (labelledLine(raw) ?? voiceLine(raw)) !== null;
}

function voiceLine(raw: string): (Labelled & { voice: string }) | null {
  const m = VOICE_LINE.exec(layoutOf(raw));
  if (!m) return null;
  const at = normalizeTimestamp(firstOf(m, [1, 2, 4, 5]));
  return { speaker: 'unknown', voice: m[3]!, text: tailOf(raw, m[6]).trim(), ...(at ? { at } : {}) };
}

/**
 * The sides of a call whose lines name two voices and no side: the voice that greets as a hotline answers (or, when
 * neither or both do, the one that speaks first, as the operator answers the call) is the operator's, the other the
 * caller's. A transcript with a side named anywhere, or with other than two voices, stays as read.
 */
function sidesOfVoices(lines: TranscriptLine[]): void {
  if (lines.some((l) => l.speaker !== 'unknown')) return;
  const voices = [...new Set(lines.flatMap((l) => (l.voice === undefined ? [] : [l.voice])))];
  if (voices.length !== 2) return;
  const greets = greetingVoices(lines, voices);
  const operator = greets.length === 1 ? greets[0]! : voices[0]!;
  for (const line of lines) if (line.voice !== undefined) line.speaker = line.voice === operator ? 'operator' : 'caller';
}

/**
 * A transcript whose lines name their speakers only by name (小王：…, 张先生：…) and nothing else: read as two voices
 * when exactly two names start its lines and exactly one of them greets as a hotline answers (that one the operator).
 * Anything else — one name, three, no greeting, a name in a report's own words (张三：他们又在排了) — is not read so.
 */
function namedVoices(text: string): TranscriptLine[] | null {
  const lines: TranscriptLine[] = [];
  for (const raw of text.split(/\r\n|\r|\n/)) {
    if (raw.trim() === '') continue;
    const m = NAMED_LINE.exec(layoutOf(raw));
    if (m) {
      const at = normalizeTimestamp(firstOf(m, [1, 2, 4, 5]));
      lines.push({ speaker: 'unknown', voice: m[3]!, text: tailOf(raw, m[6]).trim(), ...(at ? { at } : {}) });
      continue;
    }
    const previous = lines[lines.length - 1];
    if (!previous) return null;
    previous.text = joinWrapped(previous.text, raw.trim());
  }
  const voices = [...new Set(lines.map((l) => l.voice!))];
  if (voices.length !== 2) return null;
  const greets = greetingVoices(lines, voices);
  if (greets.length !== 1) return null;
  for (const line of lines) line.speaker = line.voice === greets[0] ? 'operator' : 'caller';
  return lines;
}

/** The voices whose first words greet as a hotline answers (您好，12369环保举报热线，请讲). */
function greetingVoices(lines: readonly TranscriptLine[], voices: readonly string[]): string[] {
  return voices.filter((v) => OPERATOR_GREETING.test(lines.find((l) => l.voice === v && l.text !== '')?.text ?? ''));
}

/** The first capture among `groups` that matched. */
function firstOf(m: RegExpExecArray, groups: number[]): string | undefined {
  for (const g of groups) if (m[g] !== undefined) return m[g];
  return undefined;
}

/**
 * A line as its layout is read: full-width forms (［00：00：05］, ０９：１５, Ｃａｌｌｅｒ), which a Chinese input method
 * types for brackets, colons and digits, as their ASCII ones. Each is one UTF-16 unit, as its ASCII form, so an
 * offset into the result is one into the line, whose words are kept as written.
 */
function layoutOf(raw: string): string {
  return raw.replace(/[\uFF01-\uFF5E]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) - 0xfee0));
}

/** The words at the end of `raw` that the last group matched in its layout (same length), as written. */
function tailOf(raw: string, matched: string | undefined): string {
  return matched ? raw.slice(raw.length - matched.length) : '';
}

/** A line that starts a speaker's turn, in any of the layouts above; null for a wrapped or unlabelled line. */
function labelledLine(raw: string): Labelled | null {
  const layout = layoutOf(raw);
  // LABELLED_LINE groups: 1–2 leading timestamp, 3 label, 4–5 timestamp after the label, 6–7 after the suffix, 8 text.
  const m = LABELLED_LINE.exec(layout);
  if (m) {
    const at = normalizeTimestamp(firstOf(m, [1, 2, 4, 5, 6, 7]));
    return { speaker: speakerOf(m[3]!), text: tailOf(raw, m[8]).trim(), ...(at ? { at } : {}) };
  }
  // HEADER_LINE groups: 1 label, 2–3 timestamp after the label, 4–5 after the suffix.
  const h = HEADER_LINE.exec(layout);
  if (h) {
    const at = normalizeTimestamp(firstOf(h, [2, 3, 4, 5]));
    if (at) return { speaker: speakerOf(h[1]!), text: '', at };
  }
  return null;
}

function speakerOf(label: string): Speaker {
  const word = label.toLowerCase();
  if ((OPERATOR_LABELS as readonly string[]).includes(label) || (EN_OPERATOR_LABELS as readonly string[]).includes(word)) return 'operator';
  if ((CALLER_LABELS as readonly string[]).includes(label) || (EN_CALLER_LABELS as readonly string[]).includes(word)) return 'caller';
  return 'unknown';
}

/** 0:02 → 00:00:02, 1:02:03 → 01:02:03. */
function normalizeTimestamp(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  const parts = raw.split(':').map((p) => p.padStart(2, '0'));
  while (parts.length < 3) parts.unshift('00');
  return parts.join(':');
}

/** Wrapped Chinese text joins without a space; two Latin words or numbers keep one. */
function joinWrapped(a: string, b: string): string {
  if (!a) return b;
  if (!b) return a;
  return /[A-Za-z0-9]$/.test(a) && /^[A-Za-z0-9]/.test(b) ? `${a} ${b}` : `${a}${b}`;
}

/** The last transcript read, and what it read as: a call's intake asks several questions of one transcript. */
let lastRead: { text: string; parsed: Transcript } | null = null;

/** The transcript's lines by speaker; read once however many times a call's intake asks (the result is frozen). */
export function parseTranscript(text: string): Transcript {
  if (lastRead?.text !== text) lastRead = { text, parsed: deepFreeze(readTranscript(text)) };
  return lastRead.parsed;
}

function deepFreeze(t: { lines: TranscriptLine[] }): Transcript {
  for (const line of t.lines) Object.freeze(line);
  Object.freeze(t.lines);
  return Object.freeze(t);
}

function readTranscript(text: string): { lines: TranscriptLine[] } {
  const lines: TranscriptLine[] = [];
  for (const raw of text.split(/\r\n|\r|\n/)) {
    if (raw.trim() === '') continue;
    const labelled = labelledLine(raw) ?? voiceLine(raw);
    if (labelled) {
      lines.push(labelled);
      continue;
    }
    const stamped = TIMESTAMP_ONLY.exec(layoutOf(raw));
    if (stamped) {
      // A timestamp without a known label starts a new line whose speaker we cannot tell.
      const at = normalizeTimestamp(stamped[1] ?? stamped[2]);
      const line: TranscriptLine = { speaker: 'unknown', text: tailOf(raw, stamped[3]).trim() };
      if (at) line.at = at;
      lines.push(line);
      continue;
    }
    // An unlabelled line continues the previous speaker's turn (wrapped text).
    const previous = lines[lines.length - 1];
    if (previous) previous.text = joinWrapped(previous.text, raw.trim());
    else lines.push({ speaker: 'unknown', text: raw.trim() });
  }
  sidesOfVoices(lines);
  if (lines.every((l) => l.speaker === 'unknown' && l.voice === undefined)) return { lines: namedVoices(text) ?? lines };
  return { lines };
}

/** Everything the caller said, one turn a line. */
export function callerText(parsed: Transcript): string {
  return parsed.lines
    .filter((l) => l.speaker === 'caller' && l.text !== '')
    .map((l) => l.text)
    .join('\n');
}

/** Everything the operator said: context, never the complaint. */
export function operatorText(parsed: Transcript): string {
  return parsed.lines
    .filter((l) => l.speaker === 'operator' && l.text !== '')
    .map((l) => l.text)
    .join('\n');
}

/**
 * A transcript has at least two speaker-labelled lines, at least one of them
 * the caller's: a web report that merely starts with "市民：" is not one. Or it is
 * a speech-recognition export of two voices (说话人1, 说话人2), or a note of two speakers named by name (小王：, 张先生：),
 * one of them the caller's.
 */
export function isTranscript(text: string): boolean {
  let labelled = 0;
  let caller = false;
  for (const raw of text.split(/\r\n|\r|\n/)) {
    const m = labelledLine(raw);
    if (!m) continue;
    labelled++;
    if (m.speaker === 'caller') caller = true;
    if (labelled >= 2 && caller) return true;
  }
  // Two voices of a speech-recognition export, or two speakers named by name, told apart by what they say.
  if (labelled === 0 && (VOICE_WORD.test(text) || OPERATOR_GREETING.test(text))) return parseTranscript(text).lines.some((l) => l.speaker === 'caller');
  return false;
}

/** The complaint in a report's text: the caller's lines of a transcript, otherwise the text itself. */
export function complaintText(text: string): string {
  return isTranscript(text) ? callerText(parseTranscript(text)) : text;
}

/** A yes at the start of a caller's line (对, 是, 没错, 嗯, 就是; not 不是, not 嗯，不用). */
const CALLER_YES = /^(对|是|没错|嗯|就是)(?!.{0,4}(不用|不需要|不要|不是))/;
/** An operator's line that asks something. */
const QUESTION = /[吗？?]|是否|要不要/;

/**
 * The operator's questions the caller's next line says yes to, in order
 * (坐席：是李家塘办事处吗？ 来电人：对对，就是那里): what the caller
 * confirmed without saying it in their own words.
 */
export function confirmedByCaller(t: Transcript): string[] {
  return t.lines.flatMap((line, i) => {
    const next = t.lines[i + 1];
    return line.speaker === 'operator' && QUESTION.test(line.text) && next?.speaker === 'caller' && CALLER_YES.test(next.text.trim()) ? [line.text] : [];
  });
}