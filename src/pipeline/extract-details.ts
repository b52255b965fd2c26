import type { District } from '../district/district.schema.js';
import { instantOfWallTime, wallClockAt, type WallClock } from '../domain/time-zone.js';
import {
  asksAnonymity,
  decideUrgency,
  extractJurisdiction,
  findPhones,
  jurisdictionFromText,
  maskIdentityInText,
  type Location,
  type PlaceMatch,
  type Urgency,
} from './extract.js';
import { callerText, isTranscript, parseTranscript } from './transcript.js';

/**
 * The details of a report beyond its type: where (jurisdiction and a short
 * place description), when, how urgent, whether the reporter asked not to be
 * named, and the phone numbers said. Pure functions, no I/O.
 *
 * District data (names, urgency and anonymity phrases) comes from the
 * district file; what lives here is generic Chinese: time expressions and the
 * words that start or end a description of a place.
 */

// ---------------------------------------------------------------------------
// Incident time

export interface IncidentTime {
  /** The expression as written, e.g. 昨晚十点多. */
  phrase: string;
  /** Offsets of the phrase in the text it was found in. */
  start: number;
  end: number;
  /** The instant (ISO, UTC) when the expression names a day or a clock time; null when it is vague or recurring. */
  at: string | null;
  /** The expression is fuzzy (十点多, 昨晚, 3月5日) or only a period (这几天, 上周). */
  approximate: boolean;
  /** The reporter says it happens repeatedly (天天, 每天晚上, 经常). */
  recurring: boolean;
}

const CN_DIGITS: Record<string, number> = { 零: 0, 〇: 0, 一: 1, 二: 2, 两: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9 };

/** 3 → 3, 十 → 10, 十一 → 11, 二十三 → 23, 二〇二六 → 2026. */
function toInt(raw: string): number {
  if (/^\d+$/.test(raw)) return Number(raw);
  const ten = raw.indexOf('十');
  if (ten >= 0) {
    const tens = ten === 0 ? 1 : (CN_DIGITS[raw.slice(0, ten)] ?? NaN);
    const ones = ten === raw.length - 1 ? 0 : (CN_DIGITS[raw.slice(ten + 1)] ?? NaN);
    return tens * 10 + ones;
  }
  let n = 0;
  for (const ch of raw) n = n * 10 + (CN_DIGITS[ch] ?? NaN);
  return n;
}

const NUM = String.raw`(?:\d{1,2}|[零〇一二两三四五六七八九十]{1,3})`;
const YEAR = String.raw`(?:\d{4}|[零〇一二三四五六七八九]{4})`;
// 周一 but not 上周一直 / 一样 / 一下 (一下午 is still 周一下午); 周天 but not 上周天天.
const WEEKDAY = '(?:[二三四五六日1-7]|天(?!天)|一(?!直|样|般|些|下(?!午)|次|点))';
const PART =
  '(?:后半夜|大清早|早上|早晨|清早|一早|上午|中午|午间|下午|傍晚|晚上|晚间|夜晚|夜里|夜间|半夜|深夜|凌晨)';
const COMPOUND_DAY = '(?:前晚|昨晚|昨夜|今晚|今夜|今早|今晨|昨早)';
const RELATIVE_DAY = '(?:大前天|前天|昨天|昨日|昨儿个?|今天|今日|今儿个?)';
const CLOCK = String.raw`(?:\d{1,2}[:：]\d{2}|\d{1,2}\s*[点时](?:半|一刻|三刻|过?\d{1,2}分?|钟)?|${NUM}点(?:半|一刻|三刻|过?${NUM}分?|钟)?)(?:多|左右|前后|许)?`;
const DAY = [
  String.raw`${YEAR}\s*年\s*${NUM}\s*月\s*${NUM}\s*[日号]?`,
  String.raw`\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?!\d)`,
  String.raw`${NUM}\s*月\s*${NUM}\s*[日号]`,
  // 11-03, only where it cannot be a range such as 1-2天.
  String.raw`\d{1,2}-\d{1,2}(?![\d-])(?=$|[\s，。、,.;；！!？?）)]|${PART}|\d|[零〇一二两三四五六七八九十])`,
  `(?:上个?|这个?|本)?(?:周|星期|礼拜)${WEEKDAY}`,
  COMPOUND_DAY,
  RELATIVE_DAY,
  // A bare day of the month (5号) only before a time of day: 3号楼, 5号线 are not dates.
  String.raw`${NUM}\s*[号日](?=\s*(?:${PART}|${CLOCK}))`,
].join('|');

const STRUCT = String.raw`(?:(?:${DAY})\s*${PART}?\s*(?:${CLOCK})?|${PART}\s*(?:${CLOCK})?|${CLOCK})`;
const RECURRING =
  '(?:每天晚上|每天夜里|每个晚上|一到晚上|每到晚上|一到夜里|每到夜里|每天|天天|每晚|每夜|夜夜|经常|总是|老是|常常|每周|每个星期|每次|隔三差五|三天两头|时不时)';
const PERIOD =
  '(?:(?:上个?|这个?|本)(?:周|星期|礼拜)(?!' +
  WEEKDAY +
  ')|上个?月|这个月|本月|这几天|这两天|这些天|这段时间|这阵子|最近|近期|近来|近几天|前几天|前些天|前两天|前段时间|几天前|去年|今年)';
const JUST_NOW = '(?:刚才|刚刚)';

const TIME_RE = new RegExp(
  String.raw`(?<recur>${RECURRING}${PART}?(?:${CLOCK})?)|(?<!\d)(?<struct>${STRUCT})|(?<period>${PERIOD})|(?<now>${JUST_NOW})`,
  'g',
);
const STRUCT_PARTS = new RegExp(String.raw`^((?:${DAY}))?\s*(${PART})?\s*(${CLOCK})?$`);

const PART_HOUR: Record<string, number> = {
  早上: 7, 早晨: 7, 清早: 7, 一早: 7, 大清早: 6, 上午: 9, 中午: 12, 午间: 12, 下午: 15, 傍晚: 18,
  晚上: 21, 晚间: 21, 夜晚: 21, 夜里: 23, 夜间: 23, 半夜: 23, 深夜: 23, 凌晨: 3, 后半夜: 3,
};
const COMPOUND: Record<string, [number, string]> = {
  前晚: [-2, '晚上'], 昨晚: [-1, '晚上'], 昨夜: [-1, '夜里'], 今晚: [0, '晚上'], 今夜: [0, '夜里'],
  今早: [0, '早上'], 今晨: [0, '早上'], 昨早: [-1, '早上'],
};
const RELATIVE: Record<string, number> = { 大前天: -3, 前天: -2, 昨天: -1, 昨日: -1, 昨儿: -1, 昨儿个: -1, 今天: 0, 今日: 0, 今儿: 0, 今儿个: 0 };
const EVENING = new Set(['晚上', '晚间', '夜晚']);
const NIGHT = new Set(['夜里', '夜间', '半夜', '深夜', '后半夜']);

/** Days since the epoch of a civil date: plain integers make day arithmetic exact. */
const dayNumber = (y: number, m: number, d: number) => Date.UTC(y, m - 1, d) / 86_400_000;
function civil(day: number): { year: number; month: number; day: number } {
  const d = new Date(day * 86_400_000);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** The instant at which the wall clock in `timeZone` shows the given day and time. */
function zonedInstant(day: number, hour: number, minute: number, timeZone: string): Date {
  return new Date(instantOfWallTime(day * 86_400_000 + (hour * 60 + minute) * 60_000, timeZone));
}

function validDate(y: number, m: number, d: number): boolean {
  if (!(m >= 1 && m <= 12 && d >= 1 && d <= 31)) return false;
  const c = civil(dayNumber(y, m, d));
  return c.month === m && c.day === d;
}

/** The day a date expression names, relative to today; null when it names none it can resolve. */
function resolveDay(raw: string, today: number, ref: WallClock): { day: number; part?: string } | null {
  const s = raw.replace(/\s+/g, '');
  const compound = COMPOUND[s];
  if (compound) return { day: today + compound[0], part: compound[1] };
  const relative = RELATIVE[s];
  if (relative !== undefined) return { day: today + relative };

  let m = new RegExp(String.raw`^(${YEAR})年(${NUM})月(${NUM})[日号]?$`).exec(s);
  if (m) {
    const [y, mo, d] = [toInt(m[1]!), toInt(m[2]!), toInt(m[3]!)];
    return validDate(y, mo, d) ? { day: dayNumber(y, mo, d) } : null;
  }
  m = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$/.exec(s);
  if (m) {
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    return validDate(y, mo, d) ? { day: dayNumber(y, mo, d) } : null;
  }
  m = new RegExp(String.raw`^(${NUM})月(${NUM})[日号]$`).exec(s) ?? /^(\d{1,2})-(\d{1,2})$/.exec(s);
  if (m) {
    // No year: the latest such date not after today (an incident lies in the past).
    const [mo, d] = [toInt(m[1]!), toInt(m[2]!)];
    for (const y of [ref.year, ref.year - 1]) {
      if (validDate(y, mo, d) && dayNumber(y, mo, d) <= today) return { day: dayNumber(y, mo, d) };
    }
    return null;
  }
  m = new RegExp(String.raw`^(上个?|这个?|本)?(?:周|星期|礼拜)(${WEEKDAY})$`).exec(s);
  if (m) {
    const w = m[2]!;
    const target = w === '日' || w === '天' || w === '7' ? 6 : (/\d/.test(w) ? Number(w) : (CN_DIGITS[w] ?? 1)) - 1;
    const monday = today - ((new Date(today * 86_400_000).getUTCDay() + 6) % 7);
    if (m[1]?.startsWith('上')) return { day: monday - 7 + target };
    if (m[1]) return { day: monday + target };
    const thisWeek = monday + target;
    return { day: thisWeek <= today ? thisWeek : thisWeek - 7 };
  }
  m = new RegExp(String.raw`^(${NUM})[号日]$`).exec(s);
  if (m) {
    const d = toInt(m[1]!);
    for (const [y, mo] of [[ref.year, ref.month], ref.month === 1 ? [ref.year - 1, 12] : [ref.year, ref.month - 1]] as const) {
      if (validDate(y, mo, d) && dayNumber(y, mo, d) <= today) return { day: dayNumber(y, mo, d) };
    }
    return null;
  }
  return null;
}

/** Hour, minute and day shift of a clock expression read with its part of day. */
function resolveClock(raw: string, part: string | undefined): { hour: number; minute: number; shift: number; fuzzy: boolean } | null {
  const s = raw.replace(/\s+/g, '');
  const m = new RegExp(String.raw`^(${NUM})(?:[:：](\d{2})|[点时](?:(半)|(一刻)|(三刻)|过?(${NUM})分?|钟)?)(多|左右|前后|许)?$`).exec(s);
  if (!m) return null;
  let hour = toInt(m[1]!);
  const minute = m[2] ? Number(m[2]) : m[3] ? 30 : m[4] ? 15 : m[5] ? 45 : m[6] ? toInt(m[6]) : 0;
  if (!(hour >= 0 && hour <= 24 && minute >= 0 && minute < 60)) return null;
  let shift = 0;
  if (part === '下午' || part === '傍晚') {
    if (hour < 12) hour += 12;
  } else if (part === '中午') {
    if (hour <= 3) hour += 12;
  } else if (part && EVENING.has(part)) {
    // 晚上十点 is 22:00; 晚上一点 / 晚上十二点 are after midnight, on the next calendar day.
    if (hour === 12 || hour === 24) [hour, shift] = [0, 1];
    else if (hour <= 4) shift = 1;
    else if (hour < 12) hour += 12;
  } else if (part && NIGHT.has(part)) {
    if (hour === 12 || hour === 24) [hour, shift] = [0, 1];
    else if (hour <= 5) shift = 1;
    else if (hour < 12) hour += 12;
  } else if (part === '凌晨') {
    if (hour === 12 || hour === 24) hour = 0;
  } else if (hour === 24) {
    [hour, shift] = [0, 1];
  }
  return { hour, minute, shift, fuzzy: Boolean(m[7]) };
}

type Candidate = IncidentTime;

function resolveStruct(text: string, start: number, receivedAt: Date, timeZone: string): Candidate | null {
  const m = STRUCT_PARTS.exec(text);
  if (!m) return null;
  const [, dayRaw, partRaw, clockRaw] = m;
  // A clock alone in Chinese numerals must look like a time: 三点多, 三点半, not 有一点臭 / 三点意见.
  if (!dayRaw && !partRaw && clockRaw && !/^\d/.test(clockRaw) && !/[半刻分钟多左右前后许]/.test(clockRaw)) return null;
  const ref = wallClockAt(receivedAt, timeZone);
  const today = dayNumber(ref.year, ref.month, ref.day);
  const base: Candidate = { phrase: text, start, end: start + text.length, at: null, approximate: true, recurring: false };

  const dayInfo = dayRaw ? resolveDay(dayRaw, today, ref) : null;
  if (dayRaw && !dayInfo) return null;
  const part = partRaw ?? dayInfo?.part;
  const clock = clockRaw ? resolveClock(clockRaw, part) : null;
  if (clockRaw && !clock) return null;

  if (dayInfo) {
    const hour = clock?.hour ?? (part ? PART_HOUR[part] ?? 0 : 0);
    const minute = clock?.minute ?? 0;
    // 昨晚两点 is the small hours after yesterday evening, i.e. today.
    const shift = clock?.shift ?? 0;
    const at = zonedInstant(dayInfo.day + shift, hour, minute, timeZone);
    return { ...base, at: at.toISOString(), approximate: !clock || clock.fuzzy };
  }
  if (clock) {
    // A time without a day: the latest such moment not after the report.
    let at = zonedInstant(today + clock.shift, clock.hour, clock.minute, timeZone);
    if (at.getTime() > receivedAt.getTime()) at = zonedInstant(today - 1 + clock.shift, clock.hour, clock.minute, timeZone);
    if (at.getTime() > receivedAt.getTime()) at = zonedInstant(today - 2 + clock.shift, clock.hour, clock.minute, timeZone);
    return { ...base, at: at.toISOString(), approximate: clock.fuzzy };
  }
  // A part of day alone (晚上往沟里排) is a habit or a vague time, not an instant.
  return base;
}

/**
 * The time of the incident stated in the text, resolved against the moment
 * the report was received, in the district's time zone. The first expression
 * that names an instant wins; otherwise the first vague or recurring one is
 * kept with `at: null`. `recurring` is set when the text says it happens
 * repeatedly anywhere (天天排，昨晚十点又排了 → at yesterday 22:00, recurring).
 */
export function extractIncidentTime(text: string, receivedAt: Date, timeZone: string): IncidentTime | null {
  const candidates: Candidate[] = [];
  for (const m of text.matchAll(TIME_RE)) {
    const g = m.groups ?? {};
    const start = m.index;
    const phrase = m[0].trimEnd();
    const base: Candidate = { phrase, start, end: start + phrase.length, at: null, approximate: true, recurring: false };
    if (g['recur']) candidates.push({ ...base, recurring: true });
    else if (g['period']) candidates.push(base);
    else if (g['now']) candidates.push({ ...base, at: receivedAt.toISOString() });
    else if (g['struct']) {
      const c = resolveStruct(phrase, start, receivedAt, timeZone);
      if (c) candidates.push(c);
    }
  }
  const chosen = candidates.find((c) => c.at !== null) ?? candidates[0];
  if (!chosen) return null;
  return { ...chosen, recurring: candidates.some((c) => c.recurring) };
}

// ---------------------------------------------------------------------------
// Place description

const MAX_PLACE = 60;
const CLAUSE_END = /[，。！？；,.!?;\n]/;
// Where a description of a place gives way to what happens there.
const PLACE_STOP = new RegExp(
  [
    '有(?!限|色)',
    '经常', '天天', '每天', '每晚', '一直', '总是', '老是', '常常', '又在', '又', '正在', '还在', '在排', '在倒', '在烧',
    '偷排', '直排', '排(?!水沟|水渠|污口|水口|洪沟)', '倒(?!塌)', '烧(?!烤)', '冒', '堆(?!场)', '扔', '丢', '流出', '流到', '流进',
    '发臭', '很臭', '好臭', '太臭', '晚上', '半夜', '凌晨', '白天', '夜里', '昨', '今天', '今晚', '前天', '这几天', '最近',
    '被', '把', '让', '都', '也', '很', '太', '说', '往', '向', '非常', '好像', '污染', '搞', '弄', '是', '的时候', '里面?有',
    // 河里全是死鱼, 水沟里到处是垃圾: what fills the place, not part of it.
    '全(?:是|都|部)', '到处',
  ].join('|'),
);
/** A name found in Latin letters (Huilong village, xinglong): the place is the name and the words of its kind after it. */
const LATIN_NAME = /^[A-Za-z][A-Za-z\s'’-]*$/;
const ENGLISH_PLACE_TAIL =
  /^(?:[\s-]+(?:village|town(?:ship)?|sub-?district|district|office|community|neighbou?rhood|street|road|lane|forest|farm|area|(?:group|team)(?:\s+\d+)?)(?![A-Za-z]))+/i;
const PLACE_CUE = /旁边|后面|附近|路边|门口|对面|边上|隔壁|背后|前面|下游|上游|村|组|社区|小区|工业园|街道/;
const LEADING_FILLER =
  /^(?:(?:你好|您好|喂)[，,\s]*)?(?:我(?:要|想)?(?:举报|反映|投诉)(?:一下)?|(?:举报|反映|投诉)(?:一下)?|就是|那个|我们这(?:里|边)?)?/;
const TRAILING = /(?:的|了|呢|啊|呀|吧|嘛|就|也|都|还|那里|这里|那儿|这儿|那边|这边|里)$/;

/**
 * The clause around `at`, reaching at most `CLAUSE_REACH` characters either
 * way: a place is a short phrase near its cue, and a text without punctuation
 * (a long transcript line) must not make every cue scan all of it.
 */
function clauseBounds(text: string, at: number): [number, number] {
  let start = at;
  const first = Math.max(0, at - CLAUSE_REACH);
  while (start > first && !CLAUSE_END.test(text[start - 1]!)) start--;
  let end = at;
  const last = Math.min(text.length, at + CLAUSE_REACH);
  while (end < last && !CLAUSE_END.test(text[end]!)) end++;
  return [start, end];
}
const CLAUSE_REACH = 2 * MAX_PLACE;

/** Cuts a candidate at the first word of action after `keep` characters and trims particles. */
function finishPlace(span: string, keep: number): string | null {
  const tail = span.slice(keep);
  const stop = PLACE_STOP.exec(tail);
  let out = (stop ? span.slice(0, keep + stop.index) : span).trim();
  for (let prev = ''; prev !== out; ) {
    prev = out;
    out = out.replace(TRAILING, '').trim();
  }
  if (out.length < 2) return null;
  return out.slice(0, MAX_PLACE);
}

/**
 * The short span of the text that says where: from the first jurisdiction or
 * place name of the district (朱家观村后山), else from a cue such as 在… or
 * …旁边 / …后面 / …村 / …社区, up to the words that say what happens there.
 * At most 60 characters; null when the text does not describe a place.
 */
export function extractPlaceDescription(text: string, district: District): string | null {
  const named = jurisdictionFromText(district, text);
  if (named?.start !== undefined && named.end !== undefined) {
    // English words after the name (dumps black water…) are no part of the place: what says where is the name and its kind.
    if (LATIN_NAME.test(named.matched)) {
      const kind = ENGLISH_PLACE_TAIL.exec(text.slice(named.end))?.[0] ?? '';
      return text.slice(named.start, named.end + kind.length).slice(0, MAX_PLACE);
    }
    const [, clauseEnd] = clauseBounds(text, named.start);
    const found = finishPlace(text.slice(named.start, clauseEnd), named.end - named.start);
    if (found) return found;
  }
  for (const cue of text.matchAll(new RegExp(PLACE_CUE.source, 'g'))) {
    const [clauseStart, clauseEnd] = clauseBounds(text, cue.index);
    const before = text.slice(clauseStart, cue.index);
    // 在 that introduces a place, not 正在 / 还在 / 现在 or 在排 …
    const zai = [...before.matchAll(/(?<![正还现直实存所好自都也])在(?![排倒烧冒搞干弄建])/g)].pop();
    const start = zai ? clauseStart + zai.index + 1 : clauseStart + (LEADING_FILLER.exec(before)?.[0].length ?? 0);
    const span = text.slice(start, clauseEnd);
    const cueEnd = cue.index + cue[0].length - start;
    // The cue itself must survive the cut: 村里有人倒 keeps 村, 有人在村里 finds nothing before 村.
    const stop = PLACE_STOP.exec(span.slice(0, cue.index - start));
    if (stop) continue;
    const found = finishPlace(span, cueEnd);
    if (found && PLACE_CUE.test(found)) return found;
  }
  return null;
}

// ---------------------------------------------------------------------------
// Everything at once

export interface ExtractOptions {
  location: Location | null;
  receivedAt: Date | string;
  /** An address given with the report (form field, operator): used for the jurisdiction and as a fallback place. */
  address?: string | null;
  /** The classified type, for type-based urgency. */
  typeCode?: string | null;
  /** The reporter asked not to be named (the form's box): their name in the place keeps no surname either. */
  anonymous?: boolean;
}

export interface ExtractedDetails {
  /** The complaint the details were read from: the caller's lines of a transcript, otherwise the text. */
  text: string;
  transcript: boolean;
  jurisdiction: PlaceMatch | null;
  /**
   * Short description of where, read from the complaint as a bureau reads it:
   * phone numbers and the names the reporter gives themself masked
   * (回龙村的村民黄**, not 回龙村的村民黄志强 — the 我是 that gives the name away
   * is not part of the place, so masking the place alone would miss it).
   */
  place: string | null;
  time: IncidentTime | null;
  urgency: Urgency;
  anonymity: { requested: boolean; phrase: string | null };
  /** Phone numbers the reporter said: for the protected contact fields only. */
  phones: string[];
}

/**
 * Reads every detail of a report in one call. For a call transcript only the
 * caller's lines count: the operator's words are never the complaint, the
 * anonymity request or the reporter's phone.
 */
export function extractDetails(district: District, text: string, options: ExtractOptions): ExtractedDetails {
  const transcript = isTranscript(text);
  const complaint = transcript ? callerText(parseTranscript(text)) : text;
  const address = options.address?.trim() || null;
  const receivedAt = typeof options.receivedAt === 'string' ? new Date(options.receivedAt) : options.receivedAt;
  const anonymityPhrase = asksAnonymity(district, complaint);
  // The place goes into the case's events, which bureaus read: it is cut from the masked complaint, where
  // each name is masked by the words around it, and a fallback address is masked the same way.
  // A reporter who asked not to be named, on the form or in their words, reads there as in their words (**, no surname).
  const masking = { anonymous: (options.anonymous ?? false) || anonymityPhrase !== null };
  const place =
    extractPlaceDescription(maskIdentityInText(complaint, [], masking), district) ?? (address ? maskIdentityInText(address, [], masking).slice(0, MAX_PLACE) : null);
  return {
    text: complaint,
    transcript,
    jurisdiction: extractJurisdiction(district, address ? `${address}\n${complaint}` : complaint, options.location),
    place,
    time: extractIncidentTime(complaint, receivedAt, district.file.district.timezone),
    urgency: decideUrgency(district, complaint, options.typeCode ?? null),
    anonymity: { requested: anonymityPhrase !== null, phrase: anonymityPhrase },
    phones: findPhones(complaint),
  };
}

