import { PhraseRuleSet } from '../classifier/engine/index.js';
import { latinKey, type District } from '../district/district.schema.js';

/**
 * Pure extraction of what the pipeline needs from a report's text and
 * location: jurisdiction, urgency, anonymity requests and phone numbers.
 */

export interface PlaceMatch {
  jurisdiction: string;
  /** The name found in the text, or "location" when it came from coordinates. */
  matched: string;
  source: 'location' | 'text';
  start?: number;
  end?: number;
}

export interface Location {
  lat: number;
  lng: number;
}

/** Ray casting: is the point inside the polygon of [lat, lng] vertices? */
export function pointInPolygon(point: Location, polygon: ReadonlyArray<readonly [number, number]>): boolean {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [yi, xi] = polygon[i]!;
    const [yj, xj] = polygon[j]!;
    const crosses = yi > point.lat !== yj > point.lat;
    if (crosses && point.lng < ((xj - xi) * (point.lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

export function jurisdictionFromLocation(district: District, location: Location): PlaceMatch | null {
  for (const j of district.file.jurisdictions) {
    if (j.area && pointInPolygon(location, j.area)) {
      return { jurisdiction: j.code, matched: 'location', source: 'location' };
    }
  }
  return null;
}

interface NameEntry {
  name: string;
  /** null for names that mean the whole district and must not pick a jurisdiction. */
  jurisdiction: string | null;
  /** A name in Latin letters (Xinglong, Huilong Village) is looked for with this pattern (latinPattern). */
  latin?: RegExp;
}

const nameIndexCache = new WeakMap<District, NameEntry[]>();

function nameIndex(district: District): NameEntry[] {
  let index = nameIndexCache.get(district);
  if (!index) {
    const { district: whole, jurisdictions } = district.file;
    const latin = (name: string, jurisdiction: string | null): NameEntry => ({ name, jurisdiction, latin: latinPattern(name) });
    const entries: NameEntry[] = [
      ...whole.aliases.map((name) => ({ name, jurisdiction: null })),
      ...whole.englishNames.map((name) => latin(name, null)),
      ...jurisdictions.flatMap((j) => [j.name.zh, ...j.aliases, ...j.places].map((name) => ({ name, jurisdiction: j.code }))),
      ...jurisdictions.flatMap((j) => j.englishNames.map((name) => latin(name, j.code))),
    ];
    const length = (e: NameEntry) => (e.latin ? latinKey(e.name).length : e.name.length);
    index = entries.sort((a, b) => length(b) - length(a));
    nameIndexCache.set(district, index);
  }
  return index;
}

/**
 * Where a name in Latin letters stands in a text: its letters in order in any case, a space, hyphen or apostrophe
 * (or none) between any two — residents write Xinglong, Xing Long and xing-long — and no letter either side, so
 * that Huilong is not found inside Huilongxu, nor Yanxia inside another word.
 */
function latinPattern(name: string): RegExp {
  const letters = [...latinKey(name)];
  return new RegExp(`(?<![A-Za-z])${letters.join("[\\s'’-]*")}(?![A-Za-z])`, 'gi');
}

/** Where a name stands in a text: [start, end) of each mention, in order, to `found`. */
function mentions(entry: NameEntry, text: string, found: (start: number, end: number) => void): void {
  if (entry.latin) {
    for (const m of text.matchAll(entry.latin)) found(m.index, m.index + m[0].length);
    return;
  }
  for (let from = 0; ; ) {
    const start = text.indexOf(entry.name, from);
    if (start < 0) return;
    from = start + entry.name.length;
    found(start, from);
  }
}

/** An ASCII letter: a name in Latin letters (the district file's are letters only) has one in each mention. */
const ASCII_LETTER = /[A-Za-z]/;

/**
 * Finds the jurisdiction named in the text. Longer names win over the names
 * they contain (回峰社区 over 回峰), and names of the whole district are
 * consumed without picking one. The first mention in the text wins. A name in
 * Latin letters is given as the text writes it (matched: xinglong).
 */
export function jurisdictionFromText(district: District, text: string): PlaceMatch | null {
  // The characters a (longer) name already took, one flag each: the overlap test costs the length
  // of a name, not the number of mentions found so far (a text repeating a name thousands of times).
  const taken = new Uint8Array(text.length);
  // A text without a Latin letter (most reports) names nothing in Latin letters: their patterns are not run.
  const latinLetters = ASCII_LETTER.test(text);
  let first: PlaceMatch | null = null;
  for (const entry of nameIndex(district)) {
    if (entry.latin && !latinLetters) continue;
    mentions(entry, text, (start, end) => {
      if (taken.subarray(start, end).includes(1)) return;
      taken.fill(1, start, end);
      if (entry.jurisdiction && (first === null || start < first.start!)) {
        first = { jurisdiction: entry.jurisdiction, matched: text.slice(start, end), source: 'text', start, end };
      }
    });
  }
  return first;
}

/** The location wins when it is inside a jurisdiction; otherwise the text. */
export function extractJurisdiction(
  district: District,
  text: string,
  location: Location | null,
): PlaceMatch | null {
  return (location && jurisdictionFromLocation(district, location)) ?? jurisdictionFromText(district, text);
}

export function insideDistrict(district: District, location: Location): boolean {
  const b = district.file.district.bounds;
  return location.lat >= b.south && location.lat <= b.north && location.lng >= b.west && location.lng <= b.east;
}

export interface Urgency {
  urgent: boolean;
  reasons: string[];
}

const LATIN_START = /^[a-z0-9]/i;
/** The district's urgency phrases in Latin letters, matched as phrase rules are (any case, at a word's start). */
const latinUrgency = new WeakMap<District, PhraseRuleSet>();

function latinUrgencyPhrases(district: District): PhraseRuleSet {
  let set = latinUrgency.get(district);
  if (!set) {
    const phrases = district.file.urgency.phrases.filter((p) => LATIN_START.test(p));
    set = new PhraseRuleSet(phrases.map((text) => ({ type: 'urgent', text, weight: 1 })), ['urgent']);
    latinUrgency.set(district, set);
  }
  return set;
}

export function decideUrgency(district: District, text: string, typeCode: string | null): Urgency {
  const reasons: string[] = [];
  if (typeCode && (district.file.urgency.types.includes(typeCode) || district.types.get(typeCode)?.urgent)) {
    reasons.push(`type:${typeCode}`);
  }
  for (const phrase of district.file.urgency.phrases) {
    if (!LATIN_START.test(phrase) && text.includes(phrase)) reasons.push(phrase);
  }
  // In English in any case (School), and only where a word starts ("rash" is not in "crash"); an apostrophe as phones
  // type it (can’t) as the phrase's own (can't): phrase rules fold them so.
  for (const m of latinUrgencyPhrases(district).match(text)) reasons.push(m.rule.text);
  return { urgent: reasons.length > 0, reasons };
}

// A request is cancelled by a negation right before it: 不需要匿名, 不用匿名, 不想匿名.
const NEGATED_BEFORE = /(?:不用|不需要|不必|无需|没必要|不要|不想|不怕|不介意|不在乎|不是|没有|不|没)\s*$/;
// Generic language, not district data: "don't tell / reveal … that it was me / my name / who reported",
// "I'd rather not give my name" (我不想透露我的名字), "don't let my name out" (别把我名字说出去),
// "don't write my name down" (别写我名字, 不要登记我的名字) and "keep it confidential" said to the
// listener or about the reporter (你们要保密啊, 麻烦保密, 能不能保密, 我的信息要保密) — not a plant's
// data that are 保密 (厂里说排放数据是保密的).
const SELF = '(?:我的?|本人)(?:名字|姓名|身份|电话|号码|手机号?|联系方式|信息)';
/** 保密 as a request, not a noun (你们保密工作做得…). */
const KEEP_SECRET = '保密(?!工作|措施|制度|协议|规定|级别|期)';
const GENERIC_ANONYMITY = new RegExp(
  [
    `(?:不要|别|不能|不可以|千万别|请勿|勿|不想让|别让|不要让)[^，。！？!?；;\\n]{0,8}?(?:透露|告诉|说|泄露|泄漏|公开|暴露|讲|给|知道)[^，。！？!?；;\\n]{0,8}?(?:我的(?:名字|姓名|身份|电话|号码|手机|联系方式|信息)|是我(?!们)|谁(?:举报|打)的|举报人)`,
    `(?:不想|不愿意?|不方便|不太方便)(?:透露|告诉|说|讲|留|公开)${SELF}`,
    `(?:不要|别|千万别|千万不要)把${SELF}(?![^，。！？!?；;\\n]{0,4}?(?:写错|搞错|记错|弄错))`,
    `(?:不要|别|不用|千万别)(?:写|记|登记|留|记录)(?:下|上)?${SELF}`,
    `(?:你们|您|你)(?:一定|务必|千万|可|最好)?(?:要|得|能|能不能|能否|可不可以|可以)?(?:帮我|给我|替我|帮忙)?${KEEP_SECRET}`,
    `(?:麻烦|请|能不能|能否|可不可以|希望)(?:你们|您)?(?:帮我|给我|替我|帮忙)?${KEEP_SECRET}`,
    `${SELF}(?:一定|务必|千万)?(?:要|请|得|需要)?${KEEP_SECRET}`,
  ].join('|'),
  'g',
);

/**
 * The district's anonymity phrase (or the generic request) found in the text,
 * or null. A phrase directly after a negation does not count (我不需要匿名),
 * and a phrase ending in 我 does not match 我们 (别透露我们厂的事).
 */
export function asksAnonymity(district: District, text: string): string | null {
  for (const phrase of anonymityPhrases(district)) {
    let from = 0;
    for (;;) {
      const start = text.indexOf(phrase, from);
      if (start < 0) break;
      from = start + 1;
      const end = start + phrase.length;
      if (phrase.endsWith('我') && text[end] === '们') continue;
      if (!/^(?:不|别|勿)/.test(phrase) && NEGATED_BEFORE.test(text.slice(Math.max(0, start - 4), start))) continue;
      return phrase;
    }
  }
  // A generic request right after a negation is none either (不需要你们保密, 不用帮我保密).
  for (const m of text.matchAll(GENERIC_ANONYMITY)) {
    if (!NEGATED_BEFORE.test(text.slice(Math.max(0, m.index - 4), m.index))) return m[0];
  }
  return null;
}

/** The district's anonymity phrases, the longest first (sorted once per district). */
const anonymityPhrasesCache = new WeakMap<District, readonly string[]>();
function anonymityPhrases(district: District): readonly string[] {
  let phrases = anonymityPhrasesCache.get(district);
  if (!phrases) {
    phrases = [...district.file.anonymity.phrases].sort((a, b) => b.length - a.length);
    anonymityPhrasesCache.set(district, phrases);
  }
  return phrases;
}

// ---- Phone numbers ----------------------------------------------------------------------------

/**
 * Digits as people say them (speech-to-text writes 一三九…): 幺 is a spoken 1, 两 a spoken 2; and the
 * formal digits of cheques and contracts (壹叁陆…), which some type to keep a number from being found.
 */
const SPOKEN_DIGIT: Readonly<Record<string, string>> = {
  〇: '0', 零: '0', 一: '1', 幺: '1', 二: '2', 两: '2', 三: '3', 四: '4', 五: '5', 六: '6', 七: '7', 八: '8', 九: '9',
  壹: '1', 贰: '2', 貳: '2', 叁: '3', 叄: '3', 肆: '4', 伍: '5', 陆: '6', 陸: '6', 柒: '7', 捌: '8', 玖: '9',
};
const SPOKEN = '[〇零一幺二两三四五六七八九壹贰貳叁叄肆伍陆陸柒捌玖]';
const ANY_DIGIT = '[0-9〇零一幺二两三四五六七八九壹贰貳叁叄肆伍陆陸柒捌玖]';
const SPOKEN_ONE = '[1一幺壹]';
const SPOKEN_SECOND = '[3-9三四五六七八九叁叄肆伍陆陸柒捌玖]';
// One space, dot or dash between two digits (139 1234 5678, 1391-234-1002, 139.1234.5678, 139—1234—5678), or a
// character that shows nothing (a zero-width space, word joiner, soft hyphen or direction mark, as a number copied from
// a chat or a web page may carry): 139\u200b1234\u200b5678 reads as 13912345678 on screen.
const SEP = '[\\s.\\-\\u2010-\\u2015\\u00ad\\u200b-\\u200f\\u202a-\\u202e\\u2060-\\u2064\\u2066-\\u2069]';
// Within a mobile number a slash too, half- or full-width (137/1234/5678, 137／1234／5678). A date or a fraction
// (2026/11/28, 1/2) is no eleven digits starting 1[3-9]; one that is (13/11/2026 143) has a group of one or two
// digits, which a mobile written with slashes does not (see SHORT_GROUP).
const MOBILE_SEP = `(?:${SEP}|[/\\uff0f])`;
// A number glued to digits, or to letters after it, is part of something else: an order number, an id.
// Before it only hexadecimal letters count (a UUID in a case's JSON), so tel13812345678 and
// vx13812345678 are still phones.
const NOT_BEFORE = '(?<![0-9A-Fa-f])';
const NOT_AFTER = '(?![0-9A-Za-z])';
// Words after which 7 to 12 digits are a phone number even without an area code: 家里电话84560501
// (9 to 12 is a mobile or landline mistyped by a digit, still the reporter's).
const PHONE_WORD = '(?:电话|手机|座机|号码|联系方式|致电|回电|拨打|打|拨)(?:号码?)?(?:是|为|[:：])?[ \\t]?';

// Between the groups of a number read out: a comma (and a space), or a space.
const GROUP_SEP = '(?:[，,、][ \\t]?|[ \\t])';

/** The mobile numbers' alternatives of PHONE_RE, with `sep` as what may stand between two digits. */
const mobileAlternatives = (sep: string) => [
  // Mobile numbers with +86 (or 0086, China's code dialled from abroad) and one separator between any two digits:
  // 139 1234 5678, 1391-234-1002, 13912 345678, 1 3 9 1 2 3 4 5 6 7 8 (see matchSpans).
  `(?<mobile>${NOT_BEFORE}(?:(?:\\+|00)?86${SEP}?)?1${sep}?[3-9](?:${sep}?[0-9]){9}${NOT_AFTER})`,
  // Mobile numbers said in Chinese digits, alone or mixed with Arabic ones: 一三九一二三四零四零二, 139一二三四五六七八.
  // Eleven digits only, so 三五个人, 一二百米 and 二〇二六年 are prose; a single digit after the number
  // may start the next word (…零二一直打不通).
  `(?<spoken>${NOT_BEFORE}(?<!${SPOKEN})${SPOKEN_ONE}${sep}?${SPOKEN_SECOND}(?:${sep}?${ANY_DIGIT}){9}(?![0-9A-Za-z]|${SPOKEN}${ANY_DIGIT}))`,
];

// Every alternative has a fixed or small bounded length, so a scan is linear in the text.
// Matched on the text with ASCII digits only (see halfWidthDigits and otherDigitsRead).
const PHONE_RE = new RegExp(
  [
    ...mobileAlternatives(SEP),
    // Landlines with their area code: 0746-5123456, 0731 8456 1101, (0731)84560801, （0731）8456-0801; with China's
    // country code the area code loses its 0: +86 746 1234567, +86-10-12345678, 0086 (731) 8888 6666.
    `(?<landline>${NOT_BEFORE}(?:0[0-9]{2,3}|[(（]0[0-9]{2,3}[)）]|(?:\\+|00)86${SEP}?(?:[1-9][0-9]{1,2}|[(（]0?[1-9][0-9]{1,2}[)）]))${SEP}?[0-9]{3,4}${SEP}?[0-9]{4}${NOT_AFTER})`,
    // A local number right after a phone word, in any digits; an area code without its 0 too (电话：746-1234567).
    `(?<local>(?<=${PHONE_WORD})(?:[0-9]{3,4}${SEP}?[0-9]{4}|[0-9]{2,3}${SEP}[0-9]{7,8}|[0-9]{9,12})${NOT_AFTER}|(?<=${PHONE_WORD})${ANY_DIGIT}{7,12}${NOT_AFTER})`,
    // A mobile read out in groups set off by commas, right after a phone word: 电话一三六，七七八八，二五零一.
    `(?<grouped>(?<=${PHONE_WORD})${SPOKEN_ONE}${SPOKEN_SECOND}(?:[，,、]?${ANY_DIGIT}){9}(?![0-9A-Za-z]|${SPOKEN}))`,
    // A mobile read out as callers do, three, four and four digits, wherever it stands: 你记一下，一三八，一二三四，五六七八.
    `(?<readout>${NOT_BEFORE}(?<!${SPOKEN})${SPOKEN_ONE}${SPOKEN_SECOND}${ANY_DIGIT}${GROUP_SEP}${ANY_DIGIT}{4}${GROUP_SEP}${ANY_DIGIT}{4}(?![0-9A-Za-z]|${ANY_DIGIT}))`,
    // A landline said in Chinese digits with its area code: 零七四六 八二三四五六七.
    `(?<spokenLandline>${NOT_BEFORE}(?<!${SPOKEN})[〇零]${SPOKEN}{2,3}${GROUP_SEP}?${SPOKEN}{7,8}(?![0-9A-Za-z]|${ANY_DIGIT}))`,
  ].join('|'),
  'g',
);
/**
 * Mobile numbers with slashes (see MOBILE_SEP), looked for only in a text with a slash: in PHONE_RE, which
 * scans every report, the slash made the scan of one without any digit measurably slower.
 */
const SLASHED_MOBILE_RE = new RegExp(mobileAlternatives(MOBILE_SEP).join('|'), 'g');
const SEPARATORS = new RegExp(`(?:${MOBILE_SEP}|[，,、])+`, 'g');
const SLASH = /[/\uff0f]/;
// In a number written with a slash, a group of one or two digits is a day or a month (13/11/2026 143), not a mobile's.
const SHORT_GROUP = new RegExp(`(?:^|${MOBILE_SEP})${ANY_DIGIT}{1,2}(?:${MOBILE_SEP}|$)`);
const COUNTRY_CODE = new RegExp(`^(?:\\+|00)?86${SEP}?`);
const SPOKEN_DIGITS = new RegExp(SPOKEN, 'g');
// 1 3 6 7 7 8 8 2 0 0 1: a mobile typed one digit at a time, always with the same separator.
const ONE_DIGIT_GROUPS = new RegExp(`^${ANY_DIGIT}(${SEP})${ANY_DIGIT}(?:\\1${ANY_DIGIT}){9}$`);
const DIGIT_THEN_SEP = new RegExp(`${ANY_DIGIT}${SEP}$`);
const SEP_THEN_DIGIT = new RegExp(`^${SEP}${ANY_DIGIT}`);

// A unit's published number (区环保局电话0746-1234567, 举报热线12369, 镇政府值班室电话…, 派出所报警电话…,
// 区环保局王科长电话…) is no one's identity. Mobiles are never a unit's: the officer carrying one is a person.
// Not a room of someone's home (寝室, 卧室), nor 住所, 现场.
const UNIT =
  '(?:[局办委队站]|(?<![寝卧宿教浴居])室|委员?会|中心|(?<![住场厕处诊])所|政府|热线|办事处|(?<!现)场|(?:卫生|[医法学]|检察)院|学校|[小中大]学|幼儿园)';
const UNIT_BEFORE = new RegExp(
  `${UNIT}(?:[\\u4e00-\\u9fff]?(?:科长|队长|站长|所长|主任|局长|院长|校长|场长))?(?:值班|联系|办公|举报|投诉|服务|监督|咨询|热线|报警)?(?:电话|热线|号码|座机)?(?:是|为|[:：])?\\s*$`,
);

interface PhoneSpan {
  start: number;
  end: number;
  /** As written, in ASCII digits. */
  raw: string;
  /** Arabic digits only, without +86. */
  digits: string;
  /** A unit's landline or service number rather than a person's. */
  unit: boolean;
}

function phoneDigits(raw: string): string {
  const digits = otherDigitsAsAscii(halfWidthDigits(raw)).replace(SPOKEN_DIGITS, (d) => SPOKEN_DIGIT[d] ?? d).replace(/\D/g, '');
  return withoutCountryCode(digits);
}

/** The digits of a mobile without China's country code: 8613812345678 and 008613812345678 are 13812345678. */
function withoutCountryCode(digits: string): string {
  if (digits.length === 13 && /^861[3-9]/.test(digits)) return digits.slice(2);
  if (digits.length === 15 && /^00861[3-9]/.test(digits)) return digits.slice(4);
  return digits;
}

/** The phone numbers `re` (PHONE_RE or SLASHED_MOBILE_RE) finds in a text whose digits are ASCII ones. */
function matchSpans(half: string, re: RegExp): PhoneSpan[] {
  const spans: PhoneSpan[] = [];
  re.lastIndex = 0;
  for (let m = re.exec(half); m !== null; m = re.exec(half)) {
    const raw = m[0];
    const end = m.index + raw.length;
    const mobile = m.groups?.mobile !== undefined || m.groups?.spoken !== undefined || m.groups?.grouped !== undefined || m.groups?.readout !== undefined;
    // 1.3 2.5 3.6 4.8 5.9 6 is a list of readings: a mobile is written in at most four groups, or one
    // digit at a time with the same separator, eleven digits and no more on either side.
    const body = raw.replace(COUNTRY_CODE, '');
    if (mobile && SLASH.test(body) && SHORT_GROUP.test(body)) {
      re.lastIndex = m.index + 1;
      continue;
    }
    if (mobile && (body.match(SEPARATORS)?.length ?? 0) > 3) {
      const oneByOne =
        ONE_DIGIT_GROUPS.test(body) &&
        !DIGIT_THEN_SEP.test(half.slice(Math.max(0, m.index - 2), m.index)) &&
        !SEP_THEN_DIGIT.test(half.slice(end, end + 2));
      if (!oneByOne) {
        re.lastIndex = m.index + 1;
        continue;
      }
    }
    const unit = !mobile && UNIT_BEFORE.test(half.slice(Math.max(0, m.index - 16), m.index));
    spans.push({ start: m.index, end, raw, digits: phoneDigits(raw), unit });
  }
  return spans;
}

/**
 * The phone numbers in the text, in any digits. Digits of other scripts and forms (①③⑧…, ١٣٨…, 𝟏𝟑𝟖…, as
 * pasted, or typed to keep a number from being found) are read in a second pass over a copy with ASCII
 * digits, only when the text has any; it adds the numbers that overlap none of the first pass, where they are
 * no digits. Next to a number in ASCII digits, they are a mark (联系方式：①13812345678, a footnote's
 * 13812345678²), not more of it: read as digits, they would make it a longer number, masked otherwise.
 */
function phoneSpans(text: string): PhoneSpan[] {
  const half = halfWidthDigits(text);
  const slashed = SLASH.test(half);
  return readingOtherDigits(half, (ascii) => spansIn(ascii, slashed));
}

/** Where a number stands in a text, and the number as written there with ASCII digits. */
interface NumberSpan {
  start: number;
  end: number;
  raw: string;
}

/**
 * What `find` finds in a text with ASCII and full-width digits made ASCII (`half`), and, only when it has digits of
 * other scripts and forms, in a second pass over a copy with those read as ASCII digits too: the finds that overlap
 * none of the first pass, at their offsets in `half` (see phoneSpans).
 */
function readingOtherDigits<T extends NumberSpan>(half: string, find: (ascii: string) => T[]): T[] {
  const spans = find(half);
  if (!hasOtherDigit(half)) return spans;
  const read = otherDigitsRead(half);
  return withMore(
    spans,
    find(read.text).map((s) => ({ ...s, start: read.origin[s.start]!, end: read.origin[s.end]! })),
  );
}

/**
 * The phone numbers in a text whose digits are ASCII ones; with `slashed`, mobiles with slashes too, which come
 * first, as the mobiles do in PHONE_RE (电话1381234/5678 is one number, not 1381234 after a phone word).
 */
function spansIn(half: string, slashed: boolean): PhoneSpan[] {
  return slashed ? withMore(matchSpans(half, SLASHED_MOBILE_RE), matchSpans(half, PHONE_RE)) : matchSpans(half, PHONE_RE);
}

/** The spans, and those of `more` that overlap none of them, in the order of the text. */
function withMore<T extends NumberSpan>(spans: T[], more: readonly T[]): T[] {
  const added = more.filter((s) => !spans.some((f) => f.start < s.end && s.start < f.end));
  return added.length === 0 ? spans : [...spans, ...added].sort((a, b) => a.start - b.start);
}

/**
 * Full-width digits, plus, dash and dot (what Chinese input methods often
 * type) as their ASCII forms. Each is one UTF-16 unit either way, so offsets
 * in the result are offsets in the original.
 */
export function halfWidthDigits(text: string): string {
  return text.replace(/[\uFF0B\uFF0D\uFF0E\uFF10-\uFF19]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) - 0xfee0));
}

/**
 * Digits that Unicode does not class as decimal (No) but that stand for one: superscript and subscript,
 * circled, parenthesized, with a full stop or a comma, and the dingbats' circled ones; as [first code point,
 * its digit, how many]. Not ⑩ and the like, which are two digits.
 */
const DIGIT_FORMS: ReadonlyArray<readonly [number, number, number]> = [
  [0x00b2, 2, 2], // ²³
  [0x00b9, 1, 1], // ¹
  [0x2070, 0, 1], // ⁰
  [0x2074, 4, 6], // ⁴–⁹
  [0x2080, 0, 10], // ₀–₉
  [0x2460, 1, 9], // ①–⑨
  [0x2474, 1, 9], // ⑴–⑼
  [0x2488, 1, 9], // ⒈–⒐
  [0x24ea, 0, 1], // ⓪
  [0x24f5, 1, 9], // ⓵–⓽
  [0x24ff, 0, 1], // ⓿
  [0x2776, 1, 9], // ❶–❾
  [0x2780, 1, 9], // ➀–➈
  [0x278a, 1, 9], // ➊–➒
  [0x1f100, 0, 1], // 🄀
  [0x1f101, 0, 10], // 🄁–🄊
  [0x1f10b, 0, 2], // 🄋🄌
];
const codePointEscape = (cp: number) => `\\u{${cp.toString(16)}}`;
const DIGIT_FORM_CLASS = DIGIT_FORMS.map(([from, , n]) => `${codePointEscape(from)}-${codePointEscape(from + n - 1)}`).join('');
/**
 * A digit other than an ASCII or a full-width one (see halfWidthDigits): a decimal digit of any script
 * (Arabic-Indic ٠–٩ and ۰–۹, the mathematical 𝟎–𝟿, which take two UTF-16 units, …) or one of DIGIT_FORMS.
 */
const OTHER_DIGIT_SOURCE = `(?![0-9\\uff10-\\uff19])\\p{Nd}|[${DIGIT_FORM_CLASS}]`;
const OTHER_DIGIT_AT = new RegExp(OTHER_DIGIT_SOURCE, 'uy');
const OTHER_DIGITS = new RegExp(OTHER_DIGIT_SOURCE, 'gu');
const DECIMAL = /^\p{Nd}$/u;

/** The digit of each code point read so far, starting with DIGIT_FORMS (at most the few hundred digits Unicode has). */
const digitOf = new Map<number, number>(DIGIT_FORMS.flatMap(([from, digit, n]) => Array.from({ length: n }, (_, i) => [from + i, digit + i] as const)));

/**
 * The digit a code point of OTHER_DIGITS stands for. Unicode encodes decimal digits in runs of whole
 * sets, each from 0 to 9, so a digit's value is its distance from the start of its run, modulo 10
 * (the mathematical digits are five sets in one run).
 */
function digitValue(cp: number): number {
  let digit = digitOf.get(cp);
  if (digit === undefined) {
    let zero = cp;
    while (DECIMAL.test(String.fromCodePoint(zero - 1))) zero--;
    digit = (cp - zero) % 10;
    digitOf.set(cp, digit);
  }
  return digit;
}

/**
 * Whether the text has a digit of OTHER_DIGITS: on every report, so only the few characters that may be one
 * are tested. None is below ², between U+2E80 and U+A61F (Chinese, kana, Yi) or from U+AC00 on (Hangul,
 * private use, full-width forms) except as a surrogate pair: a report in Chinese is read at one comparison a
 * character.
 */
function hasOtherDigit(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xb2 || (c >= 0x2e80 && c < 0xa620) || (c >= 0xac00 && (c < 0xd800 || c > 0xdbff))) continue;
    OTHER_DIGIT_AT.lastIndex = i;
    if (OTHER_DIGIT_AT.test(text)) return true;
  }
  return false;
}

/** The text with OTHER_DIGITS as ASCII digits (a phone number as given, to read or to mask). */
function otherDigitsAsAscii(text: string): string {
  return hasOtherDigit(text) ? text.replace(OTHER_DIGITS, (d) => String(digitValue(d.codePointAt(0)!))) : text;
}

/**
 * The text with OTHER_DIGITS as ASCII digits, and where each offset in it (and its end) is in the
 * original: a digit of two UTF-16 units (𝟏) becomes one, so what follows it moves.
 */
function otherDigitsRead(text: string): { text: string; origin: number[] } {
  let out = '';
  const origin: number[] = [];
  let last = 0;
  for (const m of text.matchAll(OTHER_DIGITS)) {
    for (let i = last; i <= m.index; i++) origin.push(i);
    out += text.slice(last, m.index) + String(digitValue(m[0].codePointAt(0)!));
    last = m.index + m[0].length;
  }
  for (let i = last; i <= text.length; i++) origin.push(i);
  return { text: out + text.slice(last), origin };
}

/** The phone numbers someone gave in the text, as Arabic digits; a unit's published number is not one. */
export function findPhones(text: string): string[] {
  return phoneSpans(text)
    .filter((s) => !s.unit)
    .map((s) => s.digits);
}

/**
 * The extension after a number (0731-88886666转123, 88886666 ext. 123, 073188886666#123), set off by
 * a word or sign at the end: the digits (captured) a switchboard puts the call through to.
 */
export const MARKED_EXTENSION = /\s*(?:转|轉|分机|分機|ext(?:ension)?\.?|#)\s*[:：]?\s*(\d{1,6})\s*$/i;

/** The number without its extension (0731-88886666转123 → 0731-88886666): the part that says who called. */
export function withoutExtension(phone: string): string {
  return phone.replace(MARKED_EXTENSION, '');
}

/**
 * A number that came masked (138****5678, 0731****1234, +86 138****5678, from a
 * hotline system's export): the digits behind the stars are gone, and it shows
 * no more than maskPhone's own mask does.
 */
export const MASKED_NUMBER = /^(?:\+?86)?\d{0,4}\*{3,12}\d{0,4}$/;

/**
 * 13812345678 → 138****5678; landlines keep area code and last 4 digits, other numbers only the last 4.
 * An extension is left out (073188886666转123 → 0731****6666): the masked number shows nothing more of anyone's.
 * Digits of other scripts and forms (①③⑧…, 𝟏𝟑𝟖…) are masked as their ASCII forms are.
 */
export function maskPhone(given: string): string {
  const phone = withoutExtension(otherDigitsAsAscii(given));
  if (MASKED_NUMBER.test(phone.trim())) return phone.trim();
  const written = halfWidthDigits(phone).replace(SPOKEN_DIGITS, (d) => SPOKEN_DIGIT[d] ?? d);
  // +86 138 1234 5678, 0086 138 1234 5678: the country code is dropped, the mobile number masked as usual.
  const digits = withoutCountryCode(written.replace(/\D/g, ''));
  if (digits.length <= 4) return '*'.repeat(digits.length);
  if (digits.length === 11 && digits.startsWith('1')) return `${digits.slice(0, 3)}****${digits.slice(7)}`;
  // A landline with the country code (+86 746 1234567, 0086 (731) 8888 6666): its area code as dialled at home, 0746.
  const country = COUNTRY_CODE.exec(written.trim());
  if (country) {
    const area = /^[(（]?0?([1-9]\d{1,2})(?!\d)/.exec(written.trim().slice(country[0].length))?.[1];
    if (area) return `0${area}****${digits.slice(-4)}`;
  }
  if (digits.startsWith('0')) {
    // The area code as written when it is set off ((0731), 010-), else three or four digits by length.
    const area = /^\D*(0\d{2,3})(?!\d)/.exec(written)?.[1] ?? digits.slice(0, digits.length > 10 ? 4 : 3);
    return `${area}****${digits.slice(-4)}`;
  }
  // A local number without its area code (84560501): with its first three digits shown, one would be hidden.
  return `****${digits.slice(-4)}`;
}

function replaceSpans(text: string, spans: readonly NumberSpan[], by: (phone: string) => string): string {
  let out = '';
  let last = 0;
  for (const s of spans) {
    out += text.slice(last, s.start) + by(s.raw);
    last = s.end;
  }
  return last === 0 ? text : out + text.slice(last);
}

/**
 * Replaces every phone number in free text (in whatever digits it is typed) by `by(number)`: the number as written,
 * with ASCII digits for full-width ones and those of other scripts.
 */
export function replacePhones(text: string, by: (phone: string) => string): string {
  return replaceSpans(text, phoneSpans(text), by);
}

/**
 * Replaces every phone number in free text by its masked form (or by `by(number)`),
 * except a unit's published number: a reply telling people to call 区环保局电话0746-1234567 keeps it.
 */
export function maskPhonesInText(text: string, by: (phone: string) => string = maskPhone): string {
  return replaceSpans(
    text,
    phoneSpans(text).filter((s) => !s.unit),
    by,
  );
}

// ---- ID card numbers and accounts ------------------------------------------------------------

const BIRTH_DATE = '(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])';
/**
 * Resident ID numbers with a birth date that could be one: 18 characters (430621 19800101 123 4, the
 * last may be X) or the old 15 digits (430621 800101 123). Matched on the half-width text.
 */
export const ID_NUMBER_RE = new RegExp(
  `(?<![0-9A-Za-z])(?:([0-9]{6})((?:19|20)[0-9]{2}${BIRTH_DATE})[0-9]{3}[0-9Xx]|([0-9]{6})([0-9]{2}${BIRTH_DATE})[0-9]{3})(?![0-9A-Za-z])`,
  'g',
);
// An account named as one, the account right after the word: QQ 375620188, 微信号：wx_li88. Not a
// number that is a mobile (微信13912345678, masked as a phone), nor what a phone mask left (微信vx139****5678),
// nor the rest of a Latin word that begins with the label (tracking code QQQD4EUTWE, WeChatPay): an
// account of letters starts after a separator or a Chinese word, never straight after a Latin letter.
const ACCOUNT_RE =
  /((?<![A-Za-z0-9])(?:QQ|qq|Qq|ＱＱ|微信|威信|[Ww]e[Cc]hat)(?:号码?|账号|帐号|ID|id)?\s*(?:是|为)?\s*[:：]?\s*)((?<![A-Za-z])[A-Za-z][A-Za-z0-9_-]{4,19}|[0-9]{5,12})(?![A-Za-z0-9_*-])/g;

/** 430621198001011234 → 430621********1234: the birth date hidden, the number still recognisable as an ID. */
function maskIdNumbers(text: string): string {
  const half = halfWidthDigits(text);
  let out = '';
  let last = 0;
  ID_NUMBER_RE.lastIndex = 0;
  for (let m = ID_NUMBER_RE.exec(half); m !== null; m = ID_NUMBER_RE.exec(half)) {
    const start = m.index + (m[1] ?? m[3]!).length;
    const birth = (m[2] ?? m[4]!).length;
    out += text.slice(last, start) + '*'.repeat(birth);
    last = start + birth;
  }
  return last === 0 ? text : out + text.slice(last);
}

/** wangxm@163.com → w*****@163.com: an e-mail address says who someone is as well as a phone number does. */
const EMAIL_RE = /(?<![\w.+-])([\w+-])([\w.+-]*)(@[\w-]+(?:\.[\w-]+)+)/g;
function maskEmails(text: string): string {
  return text.replace(EMAIL_RE, (_m, first: string, rest: string, domain: string) => first + '*'.repeat(rest.length) + domain);
}

/** QQ 375620188 → QQ *********: an account says who someone is as well as a phone number does. */
function maskAccounts(text: string): string {
  return text.replace(ACCOUNT_RE, (_m, label: string, account: string) => label + '*'.repeat(account.length));
}

// ---- Names ------------------------------------------------------------------------------------

export const HAN = '\\p{Script=Han}';

/**
 * Single-character surnames: the commonest of the 百家姓 (some 230, which covers nearly
 * everyone), leaving out those that are mostly everyday words (和, 时, 车, 路, 门, 单, 包 …),
 * which would make people of 小车, 老路 or 我是司机. A title, 老/小/阿, or 我是 before one
 * of them marks a person.
 */
export const SURNAME =
  '[王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤欧蒙' +
  '常康易乔赖施洪牛樊殷葛伍庞兰蓝颜倪左鲁柳童申祝聂耿翟涂焦柴温舒邢岳关甘俞季凌纪尚章卓宁鲍齐梅裴骆喻阮詹苗谷蒲鞠冉巩毕穆隋柏晏桂滕萧阎项麦荣练盘文安成华管游辛庄柯' +
  '褚靳邝揭晋邬裘鄢缪佘瞿冼戚娄窦尤杭刁郁储仇奚郎蔺粟阙卞甄屈匡姬胥禹敖饶苟艾冀牟寇旷阳燕佟荆闵芮邸鄂谌雍尧]';
/** Two-character surnames, tried before their first character alone (欧阳娜娜, not 欧 + 阳娜). */
export const COMPOUND_SURNAME =
  '(?:欧阳|司马|诸葛|上官|皇甫|慕容|东方|夏侯|令狐|司徒|公孙|尉迟|长孙|宇文|轩辕|端木|南宫|独孤|澹台|申屠|钟离|闻人|赫连|呼延|太史|公羊|濮阳|万俟)';
const ANY_SURNAME = `(?:${COMPOUND_SURNAME}|${SURNAME})`;

// Everyday words that begin with a surname: 村民田地, 市民高度关注, 家长陈述 name nobody.
const NOT_A_NAME = `(?:${[
  '田地', '田里', '田间', '田边', '田埂', '高度', '高兴', '高温', '高速', '高压', '高价', '高空', '高层', '高处', '高大', '高中', '高峰',
  '陈述', '陈旧', '方面', '方向', '方法', '方式', '方便', '方案', '方圆', '万一', '万元', '万分', '石灰', '石头', '石块', '石子', '石料', '石场', '石匠',
  '金属', '金额', '金钱', '林地', '林业', '林场', '林木', '林区', '林子', '龙虾', '龙头', '马上', '马路', '周围', '周边', '周末', '周一', '周二', '周三',
  '周四', '周五', '周六', '周日', '程度', '许多', '许可', '任何', '任务', '任意', '何时', '何处', '何况', '何种', '何人', '何地', '何在', '何必', '何不', '余下', '余额', '叶子', '江边', '江水', '江河',
  '孙子', '雷雨', '雷声', '陶瓷', '毛病', '毛巾', '严重', '严格', '严禁', '黄色', '黄土', '黄昏', '黄水', '白天', '白色', '白白', '白烟', '钱款', '钱财',
  '夏天', '夏季', '付款', '付钱', '付费', '付出', '范围', '曾经', '董事', '陆续', '陆地', '戴着', '戴口', '莫名', '汤水', '史上', '黎明', '顾客', '谢谢', '罗列', '胡乱',
  '欧洲', '蒙古', '段时', '常年', '常常', '常规', '常客', '常住', '常见', '关注', '关心', '关于', '关系', '关闭', '关门', '关掉', '关停', '成立', '成本',
  '成为', '成功', '成片', '成年', '安全', '安排', '安装', '安静', '安置', '文件', '文明', '文盲', '文字', '文化', '管理', '管道', '管子', '管网', '游客',
  '游泳', '齐心', '宁愿', '宁可', '苗木', '麦子', '麦田', '甘蔗', '尚未', '申请', '申报', '焦虑', '焦化', '柴油', '项目', '施工', '施肥', '左边', '左右',
  '涂料', '凌晨', '毕竟', '颜色', '庞大', '温度', '康复', '易燃', '洪水', '牛粪', '牛棚', '柳树', '季节', '纪律', '祝福', '蓝色', '蓝天', '兰花', '童年',
  '舒服', '柏油', '桂花', '辛苦', '庄稼', '尤其', '储存', '刁难', '华人', '杜绝', '唐突', '苏醒', '丁点', '钟头', '钟点', '毛坯', '熊猫', '江湖', '谷子',
  '阳光', '阳台', '燕子', '艾草', '饶了', '荆棘', '雍塞',
  // 举报人曾多次反映, 本人郑重声明: adverbs after who is speaking.
  '曾多', '曾在', '曾向', '曾于', '曾打', '曾被', '曾来', '曾去', '曾给', '曾到', '曾说', '曾反', '甘愿', '郑重', '严正',
  // 举报人方才…, 举报人龙年出生, 本人苗圃 / 万亩果园 / 金银花基地 / 蓝莓园: what someone does or grows, not who.
  '方才', '龙年', '苗圃', '万亩', '金银', '蓝莓', '高血',
  // 回访程序: a procedure, not who.
  '程序',
].join('|')})`;

/** 家 before what ends a place name is a place named after a family (张家界, 李家湾, 王家坪, 刘家岭), not a given name (家辉, 家卫). */
export const PLACE_OF_A_FAMILY = '家[界湾坪冲岭坝寨港营堡集店铺湖口桥塘沟岗庄屯垸坳咀嘴峪洼渡溪河山]';

// What cannot start a given name: particles, pronouns, titles, and the verbs a report uses after
// a name (市民张三反映 is 张三, not 张三反). 家 only before the words that make it a household (张三家的).
// 某 is a name already anonymised (刘某, 王某某), not one to mask again.
const NOT_FIRST =
  '(?:[的了是和与及或就都又还也把被向跟对给让们他她它说讲称在等着过到从于不没很某]|反映|反应|表示|要求|来电|来了|来到|来说|投诉|举报|联系|电话|手机|' +
  `发现|告诉|认为|希望|担心|先生|女士|小姐|师傅|老板|老师|大爷|大妈|大哥|大姐|阿姨|家[的里门旁后前边那这附]|${PLACE_OF_A_FAMILY})`;
/**
 * What cannot be the second character of a given name either (来电人魏东再次 is 魏东), and the verbs staff write after
 * the one they spoke to (经与来电人张伟沟通 is 张伟, not 张伟沟).
 */
const NOT_NEXT =
  `(?:${NOT_FIRST}|[去今昨前已曾多一两几这那要叫住家所看听带拍闻打再]|发生|介绍|指出|提供|证实|确认|描述|回忆|透露|怀疑|` +
  '沟通|核实|协商|通话|电联|见面|面谈|约谈|交流|商量|商议|回访|回复|反馈|解释|同意|满意|签字|陪同|指认|现场|本人|联名|' +
  // Adverbs after a name (负责人李明未协调, 李明却说), and 有 saying what someone has (法人肖阳有涉黑嫌疑, 王五有一个厂) — not the
  // 有 of a given name (王富有), which no such word follows.
  '[未却竟仍亦]|有(?=[一两几个多些点涉人厂块辆家间座条台]))';

// Where a place name ends: 石门村, 马家桥, 高家坪, 李家湾小区, 盐下村人, 龙王庙村民, 回龙村委会, 蓝山县.
// 我是石门村 is where someone is from.
const PLACE_END = '[村镇乡屯组桥坪湾庄寨街巷塘冲垅铺圩坝洞嘴坳岗坡厂场店县市区州]';
/**
 * The endings of PLACE_END that end given names as often (王建岗, 李庄, 刘德庄): a place only where what follows says so
 * (李庄的, 王岗村, 黄岗人) or after 家 (马家庄, 李家岗), not standing alone.
 */
const NAME_OR_PLACE_END = '[岗庄]';
const PLACE_ONLY_END = '[村镇乡屯组桥坪湾寨街巷塘冲垅铺圩坝洞嘴坳坡厂场店县市区州]';
/** What after a place's ending says it is one: 石门村的, 盐下村人, 朱家观村口, 回龙村委会. */
const AFTER_PLACE = '[的人里边旁那这后前口头上下附小社村组一民群委居]';
export const PLACE_WORD =
  `(?:(?:街道(?:办事处|办)?|办事处|${PLACE_END}|社区|小区)${AFTER_PLACE}|(?:街道(?:办事处|办)?|办事处|${PLACE_ONLY_END}|家${NAME_OR_PLACE_END}|社区|小区)(?!${HAN})|[家人](?!${HAN}))`;

/**
 * A word that takes no part in a place name, only in what is said of it: 周丽在厂里上班, 张伟说村里…, 王强去镇上.
 * After it the place is where someone is or goes, and the two characters before it may still be a name.
 */
const NOT_IN_PLACE = '[在说讲也就都和跟又还到去把被向对给让从]';
/**
 * A person's name in running text, surname first: one or two characters after the surname,
 * stopping before the word that follows (张三反映, 李四说); not an everyday word that starts
 * with a surname (田地, 高度), not a place (石门村, 李家湾小区; but 周丽 in 周丽在厂里, where 在 ends
 * the name) and not a name already anonymised (刘某). A two-character surname standing alone or before what cannot
 * start a given name is that surname alone (欧阳先生, 欧阳说, 欧阳 娜娜), not the one-character surname and a given
 * name (欧 + 阳).
 */
export const PERSON_NAME =
  `(?!${ANY_SURNAME}(?:(?!${NOT_IN_PLACE})${HAN}){0,2}?${PLACE_WORD})(?!${NOT_A_NAME})(?!${COMPOUND_SURNAME}(?:${NOT_FIRST}|(?!${HAN})))${ANY_SURNAME}(?!${NOT_FIRST})${HAN}(?:(?!${NOT_NEXT})${HAN})?`;
/** After 我是 / 我爸爸是: what someone is (程序员, 管理员, 记者, 石匠), not who. */
const NOT_A_ROLE = `(?!${HAN}{1,2}[员者匠官](?!${HAN}))`;

// After words that can only be followed by a name (我叫, 姓名：), any two to four characters, the
// way people write them (阿依·买买提 too), stopping before a particle; not 我叫他们别烧了, 姓名保密,
// nor a name already anonymised (王某某), nor who someone is (举报人：石门村村民, 联系人：回龙村委会王主任).
const NOT_A_VALUE = '(?:匿名|保密|不详|未知|未留|不便|不愿|不想|暂无|待定|电话|手机|号码|联系|方式|信息|身份|什么|是谁)';
const STATED_PLACE = `${HAN}{1,4}?(?:${PLACE_END}|社区|小区)(?:村民|居民|群众|[村居]?委|人|的|组|社区)`;
const GIVEN_NAME = `(?![他她它你您们人了过我这那什啥谁和与及或跟给以等的是在也都就不没很被把向对为无略])(?!${NOT_A_VALUE})(?!${ANY_SURNAME}某)(?!${STATED_PLACE})`;
/**
 * What may follow a name that stands alone: punctuation, a particle, or — in speech-recognition text, which has no
 * punctuation — the start of the speaker's next clause (我是盐下村的李四我要举报…, 我叫王建国电话138…).
 */
const NAME_END = '(?=[，,。.！!？?；;、\\s（(啊呀哈嘛呢我]|要|想|住|家住|电话|手机|$)';
/**
 * 我叫王 小明, 姓名：王　小明 — a name typed with a space (half- or full-width) after its surname: the surname, one or
 * two spaces, and a given name of one or two characters standing alone (not 姓名：王 电话…, 我叫王 他们…, nor a
 * title: 联系人：王 主任).
 * Bounded, so tried in one pass.
 */
const TITLE_WORD = '(?:[总工]|厂长|科长|局长|主任|所长|队长|站长|书记|处长|股长|组长|部长|镇长|乡长|村长|区长|主席|经理|干事|专员|警官|同志|支书)';
/** How people address someone by surname alone (已回访欧阳先生, 王阿姨反映): not the officials' titles, which name the one who answers. */
const ADDRESS_TITLE = '(?:先生|女士|小姐|阿姨|大爷|大妈|大叔|大婶|大姐|大哥|师傅|老师|同志|老人家)';
const SPACED_NAME = `${ANY_SURNAME}[ \u3000]{1,2}(?!${NOT_A_VALUE})(?!${NOT_FIRST})(?!${TITLE_WORD}(?!${HAN}))${HAN}(?:(?!${NOT_NEXT})${HAN})?${NAME_END}`;
const STATED_NAME = `(?:${SPACED_NAME}|${GIVEN_NAME}[${HAN}·]{2}(?:(?![的了说是在也就都和我要想住电手])[${HAN}·]){0,2})`;

/** 是, or 系 as letters write it (我系盐下村村民…); not the 系 of 系统 or 系列. */
const IS = '(?:是|系(?![统列]))';
/** 我这边是…, 我这里是…: how a caller says who is speaking. */
const HERE = '(?:这边|这里)';
/** Who the reporter is speaking as: 我, 俺 (dialect), 本人 and 鄙人. */
const I = '(?:我|俺)';
const MYSELF = '(?:我|俺|本人|鄙人)';
/** Where a sentence starts: the text's start, or after 。！？ or a line break (and one space). */
const SENTENCE_START = '(?:^|(?<=[。！？!?\\n])[ \\t\u3000]?|^[ \\t\u3000])';

/**
 * 我姓张，叫张卫东 / 我姓李，名伟 / 鄙人姓蒋名卫平 / 免贵姓魏，叫魏东 / 我姓侯，侯宝林的侯，叫侯志刚: the name
 * after the surname (and after the characters that spell it), or only its given part.
 */
const SELF_SURNAMED = new RegExp(
  `((?:${MYSELF}|免贵)姓(${COMPOUND_SURNAME}|${HAN})[，,、\\s]{0,2}(?:[^，,。！!？?；;\\s]{1,6}?\\2[，,、\\s]{1,2})?(?:叫|名叫|名字叫|单名|名))` +
    `${GIVEN_NAME}(?!字)((?:\\2)?(?!${NOT_FIRST})${HAN}(?:(?!${NOT_NEXT})${HAN})?)`,
  'gu',
);
/** 免贵姓魏，魏东: the whole name right after the surname alone. */
const SELF_SURNAMED_BARE = new RegExp(`((?:${MYSELF}|免贵)姓(${COMPOUND_SURNAME}|${SURNAME})[，,、\\s]{1,2})(?=\\2)(${PERSON_NAME})${NAME_END}`, 'gu');
/**
 * 我叫张伟, 我的名字是欧阳娜娜, 俺叫…, 姓名：周美玲 (not the 姓名 of a table header), 联系人：王五 (not the plant's: 该厂联系人,
 * 厂里的联系人是…), 举报人：吴桂芳 (not 被举报人：…, the one reported), 签名：…, 落款：…, 实名举报：…, 举报群众：….
 */
const SELF_NAMED = new RegExp(
  `((?:${I}(?:叫做?|名叫|的?名字(?:叫做?|是)|的姓名)|(?:本人|鄙人)(?:叫做?|名叫|的?名字(?:叫做?|是)|的?姓名)|(?<![他她它的])姓名(?=\\s*[:：是为】\\]])|` +
    `(?<![厂店场方的其]|公司)联系(?:人|方式(?=\\s*[:：]))|(?<!被)(?:举报|投诉|反映|报料)人(?=[:：])|` +
    `(?:签名|落款人?|实名举报|(?:举报|投诉|反映)(?:群众|者))(?=\\s*[:：]))(?:是|为)?[:：】\\]]?\\s*)(${STATED_NAME})`,
  'gu',
);
/**
 * 姓名 王小明 — 姓名, a space and a name, as a form is filled in: only a name with a surname standing alone, so
 * not 姓名 保密 / 姓名 不详, nor a table header (姓名 电话 地址, 姓名 成绩 备注, 姓名 田亩数 …). Or 姓名 alone on its
 * line and the name on the next (姓名\n王小明\n电话…; 姓名：\n… is SELF_NAMED's), as a form is copied out. The spaces
 * and line breaks are bounded.
 */
const NOT_A_HEADER = '(?:田亩|成绩|成员|任职|关系|金额|项目|程度|方式|时间)';
const LINE_SPACE = '[ \\t\u3000]{0,4}';
const SELF_NAMED_SPACED = new RegExp(
  `((?<![他她它的])姓名[ \\t\u3000]{1,4}|(?:^|(?<=\\n))${LINE_SPACE}姓名${LINE_SPACE}\\r?\\n(?:${LINE_SPACE}\\r?\\n)?${LINE_SPACE})(?!${NOT_A_VALUE})(?!${NOT_A_HEADER})(${SPACED_NAME}|${PERSON_NAME}${NAME_END})`,
  'gu',
);
/**
 * What ends the name of a business or a building (名字叫金渝国际, 名叫华东食品店), which is no one's: 名字叫 may
 * follow what the reporter saw as well as who they are.
 */
export const BUSINESS =
  '(?:国际|食品|营养|公司|集团|酒店|宾馆|超市|商行|商店|饭店|餐馆|酒楼|茶楼|山庄|农庄|小区|花园|花苑|广场|大厦|科技|实业|置业|地产|物业|化工|' +
  '建材|家具|汽车|驾校|教育|培训|实验|学校|中学|小学|幼儿园|医院|诊所|药房|药店|网吧)';
/** 名字叫秦大山 / 名叫… at the start of a sentence (not 那个老板，名字叫…, 厂子名字叫…, 名字叫金渝国际). */
const SELF_NAMED_AT_START = new RegExp(`(${SENTENCE_START}(?:名字(?:叫|是)|名叫)\\s*)(?!${HAN}{1,3}?${BUSINESS})(${STATED_NAME})`, 'gu');
/**
 * 于 or 向 starting the words around a name rather than a surname: 于 before a time (于今日来电, 于昨日, 于3月, 于上午),
 * 向 before whom something is said to (向我局反映, 向有关部门, 向上级, 向环保局, 向媒体) or a direction (向前, 向里). Otherwise
 * they are surnames as any other (据于明反映, 举报人向东反映).
 */
const NOT_PREPOSITION =
  '(?!于(?:今|昨|前[日天]|明[日天]|当[日天晚时]|次日|近[日期]|日前|[上下中]午|晚上|早上|凌晨|傍晚|深夜|夜间|清晨|本[月周年]|上[月周]|去年|同日|是日|即日|此前|之前|[一二三四五六七八九十零〇两]))' +
  '(?!向(?:[我你您他她它本区市县镇乡省街村各该其前后里外内]|有关|相关|上级|上面|当地|媒体|记者|领导|信访|部门|单位|法院|检察|公安|纪委|监察|' +
  '网格|群众|社会|社区|居委|环保|环境|生态|城管|执法|政府|派出|住建|农业|水利|水务|自然|卫健|卫生|交通|应急|国土|安监|林业|市场|文旅|教育|发改|经信))';
/**
 * 举报人刘德明, 市民朱立新（…）反映, 本人张伟也看到了, 落款人曾庆丰: who reported, then their name. Not
 * 被举报人 (the one reported), and not 户主 or 村民 + a name, which as often name the one reported (户主刘某私建,
 * 村民周某办猪场), whom the bureau must know.
 */
const SELF_LABELLED = new RegExp(
  `((?:来电市民|来电人|来电者|来信人|写信人|市民|本人|鄙人|在下|小女子|老汉|小弟|落款人?|署名|(?<!被)(?:举报|投诉|反映|报料)(?:人|群众|者))[:：]?\\s*)${NOT_PREPOSITION}(${PERSON_NAME})`,
  'gu',
);
/** 我是张卫国， — a name standing alone after 我是 (not 我是李家塘的, 我是王家村村民, 我是石门村，, 我是程序员，). */
const SELF_IS = new RegExp(`((?:${I}${HERE}?就?${IS}|(?:本人|鄙人)${IS}))${NOT_A_ROLE}(${PERSON_NAME})${NAME_END}`, 'gu');
/** 王小明实名举报…, …，我王小明实名反映 — a name at the start of a sentence or clause (after 我 too) that says it reports under its own name. */
const SELF_REAL_NAME = new RegExp(`((?:${SENTENCE_START}|[，,；;]\\s?)${I}?)(${PERSON_NAME})(?=实名(?:举报|反映|投诉))`, 'gu');
/** 我，黎秀英，住… — a name set off by commas right after 我 at the start of a sentence. */
const SELF_SET_OFF = new RegExp(`(${SENTENCE_START}${I}[，,]\\s?)(${PERSON_NAME})(?=[，,])`, 'gu');
/** 王小明，就是我 / 王小明就是本人 / 王小明是我的名字 — a name the speaker then says is theirs. */
const SELF_THAT_IS_ME = new RegExp(`(${SENTENCE_START}|[，,：:；;]\\s?)(${PERSON_NAME})(?=[，,]?\\s?(?:就?是(?:我|本人)(?:本人|自己)?|是我的?(?:名字|姓名))(?:[，,。.！!？?；;\\s]|$))`, 'gu');
/** 我王小明，家住盐下村 — a name right after 我, then where or who the speaker is (not 我明天，…). */
const SELF_THEN_WHO = new RegExp(
  `(${SENTENCE_START}${I})(${PERSON_NAME})(?=[，,]\\s?(?:家住|住在|现住|住|男|女|今年|系|身份证|电话|手机|联系电话))`,
  'gu',
);
/** 我是回龙村的村民王建国, 我是盐下村村民王小明, 我是村民南宫明 — the name after who the speaker says they are; a word after the name (说, 也…) stays. */
/** Who residents say they are before their name: 村民, 业主, 个体户, 退休工人, 老党员… */
const RESIDENT = '(?:村民|居民|群众|业主|住户|个体户|养殖户|五保户|农户|商户|租户|农民|市民|职工|工人|党员|家长|教师|村干部)';
const SELF_DESCRIBED = new RegExp(`(${MYSELF}${HERE}?${IS}[^，,。！!？?\\s]{0,12}?的?${RESIDENT})(${PERSON_NAME})`, 'gu');
/**
 * 我们是盐下村村民刘德华、张学友等, 我们盐下村村民王小明和李四联名举报 — residents reporting together, each of them
 * (or the one) named after who they say they are.
 */
const SELF_JOINT = new RegExp(
  `((?:我们|俺们|本人等)${IS}?[^，,。！!？?\\s]{0,12}?的?${RESIDENT}[:：]?)((?:${PERSON_NAME})(?:[、和及](?:${PERSON_NAME}))*)`,
  'gu',
);
/** The names of a SELF_JOINT list, between its separators. */
const JOINT_SEPARATOR = /、|(?<=\p{Script=Han})[和及](?=\p{Script=Han})/u;
/** 我是回龙村的刘建国, 我是回龙村三组王小明 — the name right after the place the speaker says they are from. */
const SELF_OF_PLACE = new RegExp(`(${MYSELF}${HERE}?${IS}[^，,。！!？?\\s]{1,12}?(?:村|镇|乡|社区|小区|组|街道?|路|屯|寨|圩)的?)${NOT_A_ROLE}(${PERSON_NAME})${NAME_END}`, 'gu');
/** 俺是盐下村的，叫唐德旺 — who the speaker is, then their name after 叫. */
const SELF_DESCRIBED_CALLED = new RegExp(`(${MYSELF}${HERE}?${IS}[^，,。！!？?\\s]{1,12}?(?:的[，,]?|[，,])\\s?(?:叫|名叫))(${PERSON_NAME})`, 'gu');
/**
 * 我老公叫罗大勇, 我儿子叫莫小军, 我爱人是何春花，: the reporter's family, whose name says who the reporter is.
 * After 是 or nothing, only a name standing alone (not 我父亲是高中老师, 我妈妈是程序员).
 */
const FAMILY = '(?:老公|老婆|爱人|丈夫|妻子|媳妇|儿子|女儿|父亲|母亲|爸爸|妈妈|爸|妈|老伴|哥哥|姐姐|弟弟|妹妹)';
const SELF_FAMILY_CALLED = new RegExp(`(${I}的?${FAMILY}(?:叫|名叫|的?名字(?:叫|是)))(${STATED_NAME})`, 'gu');
/** After a family member's name, what may follow besides what ends any name: 我儿子王小二在厂里上班, 我老公李大勇说… */
export const FAMILY_NAME_END = '(?=[，,。.！!？?；;、\\s（(啊呀哈嘛呢在说也就都和跟]|亲眼|看到|看见|上班|反映|告诉|$)';
const SELF_FAMILY = new RegExp(`(${I}的?${FAMILY}(?:就?是)?)${NOT_A_ROLE}(${PERSON_NAME})${FAMILY_NAME_END}`, 'gu');
/** Family besides FAMILY that a reporter may say they are of someone: 我是王小明的孙子 / 家属. */
export const RELATIVE = `(?:${FAMILY}|孙子|孙女|外孙|外孙女|儿媳|女婿|侄子|侄女|家属|家人)`;
/** Who a person named by title is (王厂长, 李医生, 张总, 王大叔), not by name: 我是王厂长的儿子 names no one to mask. */
const TITLED = `(?:${TITLE_WORD}|${ADDRESS_TITLE}|医生|大夫|护士|律师|会计|老板)`;
/**
 * 我是王小明的老婆, 我是王伟的儿子，, 本人是王小明他爸: the reporter says whose family they are, and that name points
 * back to them. Only a family word standing alone after it (not 我是王小明的儿子的同学), never a name by title
 * (我是王厂长的儿子), nor anyone else the reporter is to someone (我是王德贵的邻居, 我是王小明的同事).
 */
const SELF_RELATIVE_OF = new RegExp(
  `((?:${I}就?是|(?:本人|鄙人)是))(?!${ANY_SURNAME}${HAN}?${TITLED}[的他她])(${PERSON_NAME})(?=[的他她]${RELATIVE}(?:(?!${HAN})|[啊呀哈嘛呢我俺]))`,
  'gu',
);
/** 杨过（本人）反映…, 杨过（举报人） — a name the writer marks as their own. */
const SELF_MARKED = new RegExp(`(${SENTENCE_START}|[，,：:]\\s?|${RESIDENT})(${PERSON_NAME})(?=[（(](?:本人|举报人|反映人|投诉人)[）)])`, 'gu');
/**
 * How a letter is signed at its end: 此致 敬礼 王小明, 此致敬礼！\n王小明, 此致\n王小明, ……。——王小明, —— 王小明 2026年11月3日,
 * ——\n王小明, ——王小明敬上. After 此致 (…敬礼, or 此致 alone, as some write it), the name standing alone that follows
 * (not an addressee by title: 此致 王局长, nor 此致 区环保局); after a dash that starts a sentence or a
 * line, only a name standing alone at the very end of the text (a date may follow): not ——来自盐下村的反映,
 * ——宏达化工有限公司, 排了——王小明说的, 投诉——万达 (a dash inside a sentence), nor someone by
 * their title (——王厂长, ——李总). A dash inside a sentence signs too when a date ends the line after the name
 * (…请处理——王小明 2026年5月3日); and a dash that starts a sentence or follows a closing word (…请处理——) when the
 * signer's address or phone follows (——王小明，住3号楼, 请尽快处理——王小明，电话…), not a dash that sets off
 * whom the text is about (厂老板——王小明，住在村口——天天偷排). All runs of spaces and signs are bounded, and each
 * rule starts at its literal sign, so one pass over the text.
 */
const SIGN_GAP = '[\\s，,。.！!：:、]{0,40}';
const SIGN_DATE = '(?:(?:[0-9０-９]{2,4}|[〇零一二三四五六七八九]{2,4})\\s?年\\s?[0-9０-９一二三四五六七八九十]{1,2}\\s?月(?:\\s?[0-9０-９一二三四五六七八九十]{1,3}\\s?[日号])?|[0-9]{4}[-./][0-9]{1,2}[-./][0-9]{1,2})';
const SIGN_TITLE = `(?!${ANY_SURNAME}${HAN}?${TITLE_WORD}(?!${HAN}))`;
const SIGNED = '(?:敬上|谨上)?';
const SELF_SIGNED_SALUTE = new RegExp(`(此致(?:${SIGN_GAP}敬礼)?${SIGN_GAP})${SIGN_TITLE}(${PERSON_NAME})(?=${SIGNED}${NAME_END})`, 'gu');
const SIGN_DASH = '(?:[—－─]{1,3}|-{2,3})[ \\t\u3000]{0,20}(?:\\r?\\n[ \\t\u3000]{0,20})?';
/** Where a dash may start a signature: the text's or a line's start, or after the end of a sentence or a bracket. */
const SIGN_AT = '(?:^|(?<=[。！？!?….\\s）)」”"]))';
/** The words a letter ends with before its signature (请尽快处理——, 谢谢——). */
const SIGN_CLOSING = '(?<=处理|解决|查处|整改|谢谢|感谢|为盼|是盼)';
const SELF_SIGNED_DASH = new RegExp(
  `(${SIGN_AT}${SIGN_DASH})${SIGN_TITLE}(${PERSON_NAME})(?=${SIGNED}[ \\t\u3000，,。.]{0,4}(?:${SIGN_DATE})?[\\s。.！!]{0,40}$)`,
  'gu',
);
const SELF_SIGNED_DASH_DATED = new RegExp(
  `(${SIGN_DASH})${SIGN_TITLE}(${PERSON_NAME})(?=${SIGNED}[ \\t\u3000，,。.]{0,4}${SIGN_DATE}[ \\t\u3000。.！!]{0,4}(?:\\r?\\n|$))`,
  'gu',
);
const SELF_SIGNED_DASH_CONTACT = new RegExp(
  `((?:${SIGN_AT}|${SIGN_CLOSING})${SIGN_DASH})${SIGN_TITLE}(${PERSON_NAME})(?=${SIGNED}[，,、（(][ \\t\u3000]?(?:家住|现住|住在?|住址|电话|手机|联系电话|联系方式))`,
  'gu',
);
/**
 * 王先生（举报人）, 李女士(本人), 欧阳先生（举报人）: a surname and a courtesy title the writer marks as the reporter (not
 * 王先生（被举报人）, 张老板（厂长）). The surname is the reporter's, masked before a courtesy title as a known
 * reporter's is (see maskAddressedBySurname).
 */
const SELF_MARKED_TITLE = new RegExp(`(${ANY_SURNAME})(?=${ADDRESS_TITLE}[（(](?:本人|举报人|反映人|投诉人)[）)])`, 'gu');
/**
 * 已电话联系举报人李女士核实, 来电人王先生反映, 投诉人：欧阳先生: a surname and a courtesy title after the word for who
 * reported or called, as staff write it (not 被举报人王先生, the one reported). A surname alone says little, but it is
 * the reporter's, and masked as SELF_MARKED_TITLE's is: 举报人*女士, as the public page shows 举报人×女士.
 */
const LABELLED_TITLE = new RegExp(
  `(?:来电市民|来电人|来电者|市民|(?<!被)(?:举报|投诉|反映|报料)(?:人|群众|者))[:：]?\\s*(${ANY_SURNAME})(?=${ADDRESS_TITLE})`,
  'gu',
);
/**
 * Where staff name someone as the one who reported or called, the reporter's name is not kept (an anonymous report)
 * and no word like 举报人 stands before it: 与王小明的举报重复, 上官短语反映的是同一家工厂, 据王小明反映, 王小明来电称,
 * 已回访王小明. Not the one reported (对王小明的举报, 举报王小明, 被举报人王小明反映的), whom the bureau must know; not
 * an official by title (王科长反映的), a business (金龙公司反映的), a place (王家村反映的) or a unit (安监站反映的); not 向 or 于 where
 * they start the words around such a name (向我局反映的, 于今日来电: NOT_PREPOSITION).
 */
/** What ends a unit's short name (安监站, 国土所, 城管队), which is no one's. */
const UNIT_END = '[局办委队站室院所部处科股厅社司]';
const CLAUSE_START = `(?:${SENTENCE_START}|[，,；;：:][ \\t\u3000]?)`;
/** A person's name where a text names someone (the one group): not an official by title, a business, a place or a unit, nor 向 / 于 as prepositions. */
export const NAMED_BY_STAFF = `${NOT_PREPOSITION}(?!${ANY_SURNAME}${HAN}?${TITLED})(?!${ANY_SURNAME}${HAN}{0,2}?${BUSINESS})(${PERSON_NAME})(?<!${PLACE_ONLY_END}|家${NAME_OR_PLACE_END}|${UNIT_END})`;
/**
 * 刘德华举报：…, 王小明反映，… — a name opening the text (or a sentence) that says it reports; not an official by title, a
 * business, a place or a unit (王科长反映, 石门村反映, 安监站反映).
 */
const SELF_OPENS_REPORT = new RegExp(`(${SENTENCE_START})${NAMED_BY_STAFF}(?=(?:实名)?(?:举报|反映|投诉)(?![人者]))`, 'gu');
/** A report as a merge's reason names it (与王小明的举报重复): not 举报人 or 投诉对象 after 的, the one it is about. */
const A_REPORT = '(?:举报|投诉|反映|来电|诉求|报料|工单)(?!人|者|对象)';
/** 对 / 关于 / 针对 earlier in the clause: 对张三和王小明的举报 is about them, not theirs. */
const NOT_ABOUT = '(?<!(?:对|关于|针对|有关|涉及)[^，,。；;！!？?\\n]{0,12})';
const WHOSE_REPORT = `${NOT_ABOUT}(?:${CLAUSE_START}|与|和|同|跟|收到|接到|并入|并到|合并[到至入于]?|归并[到至入于]?)[ \\t\u3000]?`;
const REPORTED_BY = `(?:${CLAUSE_START}|据|经|由|被|接|对|与|和|同|跟)[ \\t\u3000]?`;
const REPORTS = '(?:(?:反映|举报|投诉|报料)过?的|来电)';
/** After a name 回访 is done to: the name standing alone, or what the one spoken to said or did. */
const VISITED_END = `(?:${NAME_END}|表示|称|说|对|时|后|本人|满意|反馈|反映)`;
/** Several reporters' names before their report (与王小明、李四的举报重复, 和王小明及李四的来电): each of them. */
const NAMES_BEFORE = `(?:[、及和与]${PERSON_NAME}){0,4}`;
const REPORTER_WHOSE = new RegExp(`(${WHOSE_REPORT}|${NOT_ABOUT}[、及])${NAMED_BY_STAFF}(?=${NAMES_BEFORE}的${A_REPORT})`, 'gu');
const REPORTER_REPORTED = new RegExp(`(${REPORTED_BY})${NAMED_BY_STAFF}(?=${REPORTS})`, 'gu');
const REPORTER_ACCORDING = new RegExp(`(据[ \\t\u3000]?)${NAMED_BY_STAFF}(?=反映|举报|投诉|来电)`, 'gu');
const REPORTER_VISITED = new RegExp(`((?:回访了?)[ \\t\u3000]?)${NAMED_BY_STAFF}(?=${VISITED_END})`, 'gu');
/**
 * Whom staff contacted to check the report with (已电话联系邝建国核实, 联系了王小明了解情况, 致电王小明告知): in what staff
 * write on an anonymous report, the reporter, whose name was kept nowhere to match it by. Not an official by title, a
 * business or a unit (联系李科长核实, 联系电镀厂核实, 联系环保局核实), as NAMED_BY_STAFF.
 */
const CONTACTED_END = `(?:核实|了解|沟通|确认|说明|告知|反馈|核查|询问|表示|称|说)`;
const REPORTER_CONTACTED = new RegExp(`((?:电话|当面)?(?:联系|联络|致电|约见|询问)(?:了|上)?[ \\t\u3000]?)${NAMED_BY_STAFF}(?=${CONTACTED_END})`, 'gu');
/**
 * Whom a reply greets or is addressed to is the one who reported (张建国您好, 尊敬的张建国同志：, 回复张建国：, 答复张建国同志，): in
 * what staff write, the reporter's name, though an anonymous report kept none to match it by. Not an official by title
 * (李科长您好), a business or a unit, as NAMED_BY_STAFF.
 */
const GREETING = '(?:同志|先生|女士)?[，,：:]?[ \\t\u3000]?(?:您好|你好)';
const REPORTER_GREETED = new RegExp(`(${CLAUSE_START}|尊敬的|亲爱的)${NAMED_BY_STAFF}(?=${GREETING}|(?<=(?:尊敬|亲爱)的${HAN}{2,4})(?:同志|先生|女士)?[：:])`, 'gu');
const REPORTER_ADDRESSED = new RegExp(`((?:回复|答复|函复|致)[ \\t\u3000]?)${NAMED_BY_STAFF}(?=(?:同志|先生|女士)?[：:，,])`, 'gu');
/** 张先生您好, 尊敬的李女士：, 回复王先生：, 老张您好: the surname of the one a reply greets, the reporter's. */
const GREETED_TITLED = new RegExp(
  `(?:(?:${CLAUSE_START}|尊敬的|亲爱的|回复|答复|函复|致)(${ANY_SURNAME})(?=${ADDRESS_TITLE}(?:[，,：:]|您好|你好))|(?<=${CLAUSE_START}[老小阿])(${SURNAME})(?=[，,：:]?[ \\t\u3000]?(?:您好|你好)))`,
  'gu',
);
/**
 * The same with a surname and a courtesy title (与李女士的举报重复, 王先生反映的, 据李女士反映): marked as the
 * reporter's, as LABELLED_TITLE does. Not after 回访 (已回访李先生): a surname alone names nobody.
 */
const WHOSE_TITLED = new RegExp(`(?:${WHOSE_REPORT})(${ANY_SURNAME})(?=${ADDRESS_TITLE}的${A_REPORT})`, 'gu');
const REPORTED_TITLED = new RegExp(`(?:${REPORTED_BY})(${ANY_SURNAME})(?=${ADDRESS_TITLE}${REPORTS})`, 'gu');
const ACCORDING_TITLED = new RegExp(`据[ \\t\u3000]?(${ANY_SURNAME})(?=${ADDRESS_TITLE}(?:反映|举报|投诉|来电))`, 'gu');
/** The surnames a text marks as the reporter's with a courtesy title (王先生（举报人）, 举报人李女士): at most MAX_NAMES. */
function markedSurnames(text: string, greeted = false): string[] {
  const out = new Set<string>();
  for (const rule of [SELF_MARKED_TITLE, LABELLED_TITLE, WHOSE_TITLED, REPORTED_TITLED, ACCORDING_TITLED]) for (const m of text.matchAll(rule)) if (out.size < MAX_NAMES) out.add(m[1]!);
  // With `greeted`, in what staff write, the one a reply greets (张先生您好, 老张您好) is taken for the reporter.
  if (greeted) {
    for (const m of text.matchAll(GREETED_TITLED)) {
      if (out.size >= MAX_NAMES || (m[2] !== undefined && GREETING_WORDS.has(text.slice(m.index - 1, m.index + 1)))) continue;
      out.add((m[1] ?? m[2])!);
    }
  }
  return [...out];
}
/**
 * My name is John Doe, I am Wang Wei, I'm Li Ming, This is Lucy Chen, Name: Zhou Min: only a capitalised name
 * after it, not a place or a plant (This is Huilong Village); and the Chinese name in brackets right after it
 * (I am Wang Wei (王伟)).
 */
const EN_NOT_NAME = '(?:Not|In|At|From|The|A|An|So|Very|Really|Here|Writing|Calling|Reporting|Living|It|What|Why|How|Urgent|Serious)';
const EN_PLACE = '(?:Village|Town|Township|Road|Street|Lane|River|Lake|Hill|Mountain|Bridge|Factory|Plant|Farm|Company|Co|Ltd|District|County|City|Park|Community)';
/** The Chinese name in brackets after a name in Latin letters (I am Wang Wei (王伟)). */
const CHINESE_AFTER = `(?:(\\s*[(（]\\s*)([${HAN}·]{2,5})(\\s*[)）]))?`;
/** Mr Zhang, Mrs. Li: the courtesy title before a surname, which is no name (I am Mr. Zhang). */
const EN_TITLE = '(?:Mr|Mrs|Ms|Miss|Dr)\\.?';
/**
 * The surnames of Chinese people as pinyin spells them (zhang, ouyang), and a syllable of pinyin, roughly (an initial and
 * a final): what a Chinese name in Latin letters is made of.
 */
const PINYIN_SURNAME =
  '(?:ouyang|shangguan|zhuge|situ|sima|duanmu|dongfang|huangfu|murong|linghu|zhangsun|' +
  'zhang|zhao|zhou|zheng|zhu|zhong|zhan|zhuang|chen|cheng|chang|chai|chu|shen|shi|shao|shu|shang|' +
  'wang|wei|wen|wan|wu|li|liu|lin|liang|luo|lu|lv|long|lei|lai|lan|liao|lei|yang|ye|yan|yao|yin|yu|yuan|yi|you|' +
  'huang|hu|he|han|hou|hao|hong|gao|guo|gu|gong|ge|geng|guan|xu|xie|xiao|xiong|xia|xue|xiang|xing|xin|' +
  'ma|mo|mao|meng|mi|miao|sun|song|su|sha|tang|tian|tan|tao|tong|deng|ding|dong|du|dai|duan|feng|fang|fan|fu|' +
  'cao|cai|cui|cen|peng|pan|pei|qin|qian|qiu|qiao|qi|jiang|jin|jia|ji|kong|kang|ke|kuang|ren|rong|ruan|bai|bao|bi|ou|niu|ni|nie)';
const PINYIN_SYLLABLE = '(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])(?:iang|iong|uang|ang|eng|ing|ong|ian|iao|uai|uan|ai|ei|ao|ou|an|en|in|un|ia|ie|iu|ua|uo|ui|ue|ve|a|o|e|i|u|v|ü)';
const PINYIN_SURNAME_APART = new RegExp(`^${PINYIN_SURNAME}[ '’-]`, 'i');
/** A syllable without an initial (an, ou, er), which pinyin sets apart from the one before it (Xi'an): never run on. */
const PINYIN_BARE_SYLLABLE = '(?:ang|eng|ai|ei|ao|ou|an|en|er|a|o|e)';
/**
 * A name in pinyin after the words that give one, in any case and however written (I am zhang wei, My name's ZHANG Wei,
 * I'm ZhangWei, 我是Zhang Wei, 我叫zhang xiaoming), and as a letter in English is signed (Regards, Zhang Wei; Yours
 * sincerely, Li Ming; I, Zhang Wei, report…) or a form filled in (Reporter: Zhang Wei, Contact: Li Ming): only a surname
 * and one or two syllables, each a whole word's worth of pinyin, so not English words after them (I am an engineer), nor
 * a place (This is Yanxia Village).
 */
const SELF_NAMED_PINYIN = new RegExp(
  `((?:\\b(?:my name is|my name's|my name’s|i am|i'm|i’m|this is|i,)|${I}(?:叫做?|是)|${I}的名字(?:叫做?|是)|` +
    `(?:\\b(?:(?:best |kind )?regards|sincerely|yours(?: sincerely| faithfully| truly)?|reporter|reported by|contact(?: person)?)|(?<![a-z]\\s?)(?:full )?name)\\s*[,:：，])\\s*)` +
    `(${PINYIN_SURNAME}(?:[ -]?${PINYIN_SYLLABLE}|[ '’-]${PINYIN_BARE_SYLLABLE}){1,2})(?![\\p{L}\\d])(?![ -]?${EN_PLACE}\\b)${CHINESE_AFTER}`,
  'giu',
);
const SELF_NAMED_EN = new RegExp(
  `((?:\\b(?:[Mm]y name is|I am|I'm|I’m|[Tt]his is)|${I}叫做?|${I}的名字(?:叫做?|是))\\s*(?:${EN_TITLE}\\s*)?|(?<![A-Za-z]\\s?)(?:[Ff]ull\\s)?[Nn]ame\\s*[:：]\\s*)(?!${EN_NOT_NAME}\\b)` +
    `([A-Z][a-z]+(?:[ -](?!${EN_PLACE}\\b)[A-Z][a-z]+){0,2})(?![a-z])(?![ -]?${EN_PLACE}\\b)${CHINESE_AFTER}`,
  'gu',
);

/**
 * An official addressed by surname and title (李科长, 王副主任, 欧阳局长, 刘网格员): in what staff write,
 * the one who answers, not a name of the reporter's to mask.
 */
const OFFICIAL = new RegExp(
  `^${ANY_SURNAME}副?(?:科长|局长|主任|所长|队长|站长|书记|处长|股长|组长|部长|镇长|乡长|村长|区长|主席|经理|干事|专员|警官|科员|同志|支书|网格员|调解员)`,
  'u',
);

/** At most this many names per text are masked wherever else they occur: a text is not a register. */
const MAX_NAMES = 32;

/** 张伟 → 张*, 欧阳娜娜 → 欧***, John Doe → J*** D**. */
function maskName(name: string): string {
  if (/^[A-Za-z]/.test(name)) return name.replace(/\B[A-Za-z]/g, '*');
  const chars = [...name];
  return chars[0] + '*'.repeat(chars.length - 1);
}

// A word the text also uses as a place — 石门组, 朱家观村口 — is a place where it stands alone too
// (我是石门，…石门组). 组 not as in 组织, 乡 not as in 乡下, 村 not as in 村领导 / 村干部 / 村长.
const PLACE_EVIDENCE = /(?:[镇屯寨湾坪垅圩坳]|村(?![领干长支主两])|乡(?![下亲])|组(?![织成建合装团长])|社区|小区)/gu;

/**
 * The words of two to four characters that come right before a place ending in the text, in one pass:
 * a candidate name among them is a place.
 */
export function wordsUsedAsPlaces(text: string): Set<string> {
  const places = new Set<string>();
  for (const m of text.matchAll(PLACE_EVIDENCE)) {
    for (let length = 2; length <= 4 && length <= m.index; length++) places.add(text.slice(m.index - length, m.index));
  }
  return places;
}

/**
 * Masks the names a reporter gives for themself (我叫…, 我是…, 姓名：…, 举报人…, My name is…) or of their
 * family (我老公叫…), by `maskOf(name, givenOnly)`, where givenOnly is a name said without its surname
 * (我姓李，名伟). Returns the names found (whole names of two characters or more), so that their other
 * mentions can be masked too (see maskMentions).
 */
export function maskSelfNames(
  text: string,
  maskOf: (name: string, givenOnly: boolean) => string = (name, givenOnly) => (givenOnly ? '*'.repeat([...name].length) : maskName(name)),
  opts: { officials?: boolean; anonymous?: boolean } = {},
): { text: string; names: string[] } {
  const names = new Set<string>();
  const places = wordsUsedAsPlaces(text);
  // What follows the label, from a replacement's last two arguments: the match's offset and the text (the rules have no named groups).
  const isOfficial = (label: string, rest: unknown[]) => {
    if (!opts.officials) return false;
    const offset = rest[rest.length - 2] as number;
    return OFFICIAL.test((rest[rest.length - 1] as string).slice(offset + label.length));
  };
  const found = (name: string) => {
    if (names.size < MAX_NAMES && [...name].length >= 2) names.add(name);
  };
  let out = text;
  for (const rule of [SELF_SURNAMED, SELF_SURNAMED_BARE]) {
    out = out.replace(rule, (m: string, label: string, surname: string, name: string) => {
      if (places.has(name)) return m;
      const givenOnly = !name.startsWith(surname);
      if (!givenOnly) found(name);
      // 我姓张，叫…: for a reporter who asked not to be named, the surname said before the name goes too.
      return (opts.anonymous ? label.split(surname).join(ANONYMOUS_NAME) : label) + maskOf(name, givenOnly);
    });
  }
  const rules = [
    SELF_NAMED, SELF_NAMED_SPACED, SELF_NAMED_AT_START, SELF_LABELLED, SELF_IS, SELF_REAL_NAME, SELF_SET_OFF, SELF_THEN_WHO, SELF_THAT_IS_ME, SELF_OPENS_REPORT, SELF_DESCRIBED, SELF_OF_PLACE,
    SELF_DESCRIBED_CALLED, SELF_FAMILY_CALLED, SELF_FAMILY, SELF_RELATIVE_OF, SELF_MARKED, SELF_SIGNED_SALUTE, SELF_SIGNED_DASH,
    SELF_SIGNED_DASH_DATED, SELF_SIGNED_DASH_CONTACT, REPORTER_WHOSE, REPORTER_REPORTED, REPORTER_ACCORDING, REPORTER_VISITED,
    // Whom a reply greets: in what staff write only (a reporter's 刘德华您好 may greet anyone).
    ...(opts.officials ? [REPORTER_GREETED, REPORTER_ADDRESSED] : []),
    // Whom staff contacted to check with: the reporter of a report that kept no name to tell them by (anonymous); on
    // other cases it may be anyone staff name for the bureau to reach (已联系王小明核实), and the reporter's name is known.
    ...(opts.officials && opts.anonymous ? [REPORTER_CONTACTED] : []),
  ];
  for (const rule of rules) {
    out = out.replace(rule, (m: string, label: string, written: string, ...rest: unknown[]) => {
      // 王 小明 is 王小明: found and masked without the space, so that its other mentions are masked however spaced.
      const name = written.replace(/[ \t\u3000]/gu, '');
      if (places.has(name) || isOfficial(label, rest)) return m;
      found(name);
      return label + maskOf(name, false);
    });
  }
  out = out.replace(SELF_JOINT, (m: string, label: string, list: string) => {
    const each = list.split(JOINT_SEPARATOR);
    if (each.some((name) => places.has(name))) return m;
    each.forEach(found);
    return label + list.replace(new RegExp(each.join('|'), 'gu'), (name) => maskOf(name, false));
  });
  const latin = (_m: string, label: string, name: string, open?: string, chinese?: string, close?: string) => {
    found(name);
    if (chinese === undefined) return label + maskOf(name, false);
    found(chinese);
    return label + maskOf(name, false) + open + maskOf(chinese, false) + close;
  };
  // Run on in lower case (sure, here, huge: su-re, he-re, hu-ge), pinyin is as likely an English word: a name so written
  // is capitalised (Zhangwei, ZhangWei) or set apart from its surname (zhang wei).
  out = out.replace(SELF_NAMED_PINYIN, (m: string, label: string, name: string, open?: string, chinese?: string, close?: string) =>
    /^\p{Ll}/u.test(name) && !PINYIN_SURNAME_APART.test(name) ? m : latin(m, label, name, open, chinese, close),
  );
  out = out.replace(SELF_NAMED_EN, latin);
  return { text: out, names: [...names] };
}

/**
 * The names a text says are a reporter's or a caller's (举报人王小明, 来电人张伟, 与王小明的举报重复, 据王小明反映,
 * 已回访王小明): in what staff wrote on a case, the names to mask in its other texts too, where the name may stand
 * alone (已联系王小明核实). Not an official by surname and title (联系人：李科长), nor a word the text uses as a place.
 */
export function reportersNamedIn(text: string): string[] {
  const names = new Set<string>();
  const places = wordsUsedAsPlaces(text);
  for (const rule of [SELF_LABELLED, SELF_MARKED, REPORTER_WHOSE, REPORTER_REPORTED, REPORTER_ACCORDING, REPORTER_VISITED, REPORTER_GREETED, REPORTER_ADDRESSED]) {
    for (const m of text.matchAll(rule)) {
      const name = m[2]!;
      if (names.size >= MAX_NAMES || places.has(name) || OFFICIAL.test(text.slice(m.index + m[1]!.length))) continue;
      if ([...name].length >= 2) names.add(name);
    }
  }
  return [...names];
}

/** What follows a name a reply greets (小明您好, 德华，你好, 小明：您好！, 海涛同志, 老陈同志). */
const GREETING_AFTER = '[，,：:]?\\s?(?:您好|你好)|同志';
/** Words of 老 / 小 / 阿 and a character that may be a surname, said to anyone: 老师您好 greets a teacher, not 师某. */
const GREETING_WORDS: ReadonlySet<string> = new Set(
  ['老师', '老板', '老总', '老乡', '老家', '老人', '老大', '老弟', '老兄', '老哥', '老表', '老铁', '老爷', '老伯', '老叔', '老公', '老婆', '老同',
    '小时', '小姐', '小区', '小学', '小孩', '小伙', '小弟', '小妹', '小哥', '小朋', '小宝', '小友', '小姨', '小叔', '小师', '小同',
    '阿姨', '阿伯', '阿公', '阿婆', '阿叔', '阿哥', '阿妹', '阿姐', '阿婶', '阿爷', '阿嬷'],
);

/**
 * Masks every mention of each name (of two characters or more, longest first) by `maskOf(name)`:
 * once a name is known — from the contact fields or a rule — a second mention does not give it away.
 */
export function maskMentions(
  text: string,
  names: Iterable<string | null | undefined>,
  maskOf: (name: string) => string = maskName,
): string {
  const unique = new Set<string>();
  for (const name of names) {
    const n = name?.trim();
    if (n && [...n].length >= 2 && unique.size < MAX_NAMES) unique.add(n);
  }
  let out = text;
  for (const n of [...unique].sort((a, b) => b.length - a.length)) {
    const masked = maskOf(n);
    const chars = [...n];
    // A Chinese name written with spaces between its characters (欧阳 娜娜, 王 五) is the same name.
    const spaced = chars.length <= 4 && chars.every((ch) => /\p{Script=Han}/u.test(ch));
    out = spaced ? out.replace(new RegExp(chars.join('[ \t\u3000]*'), 'gu'), () => masked) : out.split(n).join(masked);
    // The given name alone, as a reply greets the reporter (小明您好, 德华，你好, 海涛同志, a letter's 尊敬的小明：您好！): all
    // of it masked.
    const given = givenNameOf(n);
    if (given) {
      out = out.replace(new RegExp(`(?:(?<!\\p{Script=Han})|(?<=尊敬的|亲爱的))${given}(?=${GREETING_AFTER})`, 'gu'), () => '*'.repeat([...given].length));
    }
  }
  return out;
}

/** A name without its surname: 张三丰 → 三丰, 欧阳娜娜 → 娜娜 (a two-character surname when it is one, else the first character). */
export function givenName(name: string): string {
  const compound = new RegExp(`^${COMPOUND_SURNAME}`, 'u').exec(name);
  return compound ? name.slice(compound[0].length) : [...name].slice(1).join('');
}

/** The given name of a Chinese name when it is two characters or more (王小明 → 小明); null otherwise. */
function givenNameOf(name: string): string | null {
  if (!/^\p{Script=Han}+$/u.test(name)) return null;
  const given = givenName(name);
  return [...given].length >= 2 ? given : null;
}

/**
 * The reporter's words as a bureau may read them: phone numbers, ID card numbers (the birth date) and
 * accounts (QQ, 微信) masked, and the reporter's name where they give it (我叫…, 举报人…) or where it is
 * known from their contact details (`names`), cut to its first character, in every mention. With
 * `officials`, for what staff write (a reply, a note), an official named by surname and title who
 * says who they are (我是李科长, 联系人：王主任) is kept: that is the one who answers, not the reporter.
 */
export function maskIdentityInText(
  text: string,
  names: ReadonlyArray<string | null | undefined> = [],
  opts: { officials?: boolean; anonymous?: boolean } = {},
): string {
  const phones = names.filter((n): n is string => n !== null && n !== undefined && isPhoneNumber(n));
  const people = names.filter((n) => !phones.includes(n as string));
  // A reporter who asked not to be named keeps no surname either (张** would narrow them down to a few people in a
  // village): every name of theirs, and their surname before a courtesy title, is ANONYMOUS_NAME.
  const maskOf = opts.anonymous ? () => ANONYMOUS_NAME : undefined;
  const self = maskSelfNames(maskAccounts(maskEmails(maskPhonesInText(maskKnownPhones(maskIdNumbers(text), phones)))), maskOf, opts);
  const all = [...people, ...self.names];
  // 我姓张 with no name after it says the surname alone: gone too for a reporter who asked not to be named.
  if (opts.anonymous) self.text = self.text.replace(SELF_SURNAME_ALONE, `$1${ANONYMOUS_NAME}`);
  // The surname a reply greets (张先生您好, 老张您好) is the reporter's where no name of theirs is known to tell them from
  // someone else: an anonymous report's, or one whose reporter gave none.
  const greeted = (opts.officials ?? false) && (opts.anonymous || all.length === 0);
  return maskAddressedBySurname(maskMentions(self.text, all, maskOf), all, markedSurnames(self.text, greeted), maskOf?.());
}

/** 我姓张, 免贵姓欧阳, 本人姓李 (not 姓名, 姓氏): the speaker's surname. */
const SELF_SURNAME_ALONE = new RegExp(`((?:${MYSELF}|免贵)姓)(?![名氏])(?:${COMPOUND_SURNAME}|${HAN})`, 'gu');

/** How the name of a reporter who asked not to be named is shown, whatever its length: no surname, no length. */
export const ANONYMOUS_NAME = '**';

/** A contact field's phone number (digits with the signs people type between them, an extension after 转), not a name. */
export function isPhoneNumber(value: string): boolean {
  const number = withoutExtension(halfWidthDigits(value.trim()));
  return /^[+\d\s().\-]+$/.test(number) && number.replace(/\D/g, '').length >= 5;
}

/**
 * A number of zeros alone (00000, +00 0000-0000, 000-0000-0000): typed to get past a phone field, it reaches no one.
 * The one rule of every channel that takes a phone (a report's, a hotline caller's, a contact typed to the bot). A
 * masked number (****0000) is not one: its hidden digits are not zeros.
 */
export function zerosOnly(phone: string): boolean {
  const digits = phone.replace(/\D/g, '');
  return digits.length > 0 && /^0+$/.test(digits) && !phone.includes('*');
}

// One digit of a known number as it may be written in a text whose other digits are read as ASCII ones (see
// readingOtherDigits): Arabic, spoken or formal (幺, 两, 壹 …).
const KNOWN_DIGIT_FORMS: Readonly<Record<string, string>> = Object.fromEntries(
  [...'0123456789'].map((d) => [d, [d, ...Object.keys(SPOKEN_DIGIT).filter((k) => SPOKEN_DIGIT[k] === d)].join('')]),
);
// What may stand between two digits of a number someone copies out: up to three spaces, dashes, dots, slashes,
// underscores or commas (138 - 1234 - 5678, 138/1234/5678), or characters that show nothing. Full-width dashes and
// dots are read as ASCII ones already (halfWidthDigits).
const KNOWN_SEP = `(?:${SEP}|[_/\\uff0f，,、]){0,3}`;

/**
 * The reporter's own numbers (from the contact fields) masked wherever the text gives them, however written (in the
 * digits phoneSpans reads: Arabic, full-width, spoken or formal, and those of other scripts and forms) and
 * whatever stands before them: a reporter's landline after 学校电话 or 办公室电话 is theirs, not a unit's
 * published number, and a landline's number without its area code (家里88886666) is theirs too.
 */
export function maskKnownPhones(text: string, phones: ReadonlyArray<string | null | undefined>, by: (phone: string) => string = maskPhone): string {
  let out = text;
  for (const phone of phones) {
    const digits = phoneDigits(withoutExtension(phone ?? ''));
    const forms = [digits];
    // A landline: its number without the area code (010 and 02x have three digits, the others four).
    if (/^0\d{9,11}$/.test(digits)) forms.push(digits.slice(/^0[12]/.test(digits) ? 3 : 4));
    for (const form of forms) {
      if (form.length < 5) continue;
      // Only an ASCII digit bounds a match (full-width ones are read as ASCII): a Chinese word may follow a number
      // (…6666一直没人接), and a digit of another form next to one in ASCII digits is a mark, as in phoneSpans.
      const pattern = new RegExp(`(?<![0-9])${[...form].map((d) => `[${KNOWN_DIGIT_FORMS[d]}]`).join(KNOWN_SEP)}(?![0-9])`, 'g');
      const spans = readingOtherDigits(halfWidthDigits(out), (ascii) =>
        [...ascii.matchAll(pattern)].map((m) => ({ start: m.index, end: m.index + m[0].length, raw: m[0] })),
      );
      out = replaceSpans(out, spans, by);
    }
  }
  return out;
}

const COMPOUND_SURNAME_AT_START = new RegExp(`^${COMPOUND_SURNAME}`, 'u');

/**
 * A known reporter addressed by surname and a courtesy title (赵大妈 is 赵**; 已回访欧阳先生 → 已回访**先生):
 * the surname of a name known to be the reporter's, masked whole before such a title. Chinese names only,
 * and only those known (`names`) or marked as the reporter's (`marked`, 王先生（举报人）): a surname alone names nobody.
 */
function maskAddressedBySurname(text: string, names: ReadonlyArray<string | null | undefined>, marked: Iterable<string> = [], masked?: string): string {
  const surnames = new Set<string>(marked);
  for (const name of names) {
    const n = name?.trim().replace(/\s+/g, '');
    if (!n || [...n].length < 2 || !/^\p{Script=Han}+$/u.test(n)) continue;
    surnames.add(COMPOUND_SURNAME_AT_START.exec(n)?.[0] ?? [...n][0]!);
  }
  let out = text;
  for (const s of surnames) {
    const mask = masked ?? '*'.repeat([...s].length);
    out = out.replace(new RegExp(`${s}(?=${ADDRESS_TITLE})`, 'gu'), mask);
    // 老陈您好, 小陈，你好, 老陈同志: a reply greeting the reporter by surname, as the public page masks it. Not a word
    // that only begins so (老师您好 to a reporter surnamed 师, 小时, 阿姨), nor 老/小 with someone else's surname.
    out = out.replace(new RegExp(`(?<=([老小阿]))${s}(?=${GREETING_AFTER})`, 'gu'), (m, before: string) => (GREETING_WORDS.has(`${before}${m}`) ? m : mask));
  }
  return out;
}
