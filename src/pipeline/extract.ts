import type { District } from '../district/district.schema.js';

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
}

const nameIndexCache = new WeakMap<District, NameEntry[]>();

function nameIndex(district: District): NameEntry[] {
  let index = nameIndexCache.get(district);
  if (!index) {
    index = [
      ...district.file.district.aliases.map((name) => ({ name, jurisdiction: null })),
      ...district.file.jurisdictions.flatMap((j) =>
        [j.name.zh, ...j.aliases, ...j.places].map((name) => ({ name, jurisdiction: j.code })),
      ),
    ].sort((a, b) => b.name.length - a.name.length);
    nameIndexCache.set(district, index);
  }
  return index;
}

/**
 * Finds the jurisdiction named in the text. Longer names win over the names
 * they contain (回峰社区 over 回峰), and names of the whole district are
 * consumed without picking one. The first mention in the text wins.
 */
export function jurisdictionFromText(district: District, text: string): PlaceMatch | null {
  // The characters a (longer) name already took, one flag each: the overlap test costs the length
  // of a name, not the number of mentions found so far (a text repeating a name thousands of times).
  const taken = new Uint8Array(text.length);
  let first: PlaceMatch | null = null;
  for (const entry of nameIndex(district)) {
    let from = 0;
    for (;;) {
      const start = text.indexOf(entry.name, from);
      if (start < 0) break;
      const end = start + entry.name.length;
      from = end;
      if (taken.subarray(start, end).includes(1)) continue;
      taken.fill(1, start, end);
      if (entry.jurisdiction && (first === null || start < first.start!)) {
        first = { jurisdiction: entry.jurisdiction, matched: entry.name, source: 'text', start, end };
      }
    }
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

export function decideUrgency(district: District, text: string, typeCode: string | null): Urgency {
  const reasons: string[] = [];
  if (typeCode && (district.file.urgency.types.includes(typeCode) || district.types.get(typeCode)?.urgent)) {
    reasons.push(`type:${typeCode}`);
  }
  for (const phrase of district.file.urgency.phrases) {
    if (text.includes(phrase)) reasons.push(phrase);
  }
  return { urgent: reasons.length > 0, reasons };
}

// A request is cancelled by a negation right before it: 不需要匿名, 不用匿名, 不想匿名.
const NEGATED_BEFORE = /(?:不用|不需要|不必|无需|没必要|不要|不想|不怕|不介意|不在乎|不是|没有|不|没)\s*$/;
// Generic language, not district data: "don't tell / reveal … that it was me / my name / who reported".
const GENERIC_ANONYMITY =
  /(?:不要|别|不能|不可以|千万别|请勿|勿|不想让|别让|不要让)[^，。！？!?；;\n]{0,8}?(?:透露|告诉|说|泄露|泄漏|公开|暴露|讲|给|知道)[^，。！？!?；;\n]{0,8}?(?:我的(?:名字|姓名|身份|电话|号码|手机|联系方式|信息)|是我(?!们)|谁(?:举报|打)的|举报人)/;

/**
 * The district's anonymity phrase (or the generic request) found in the text,
 * or null. A phrase directly after a negation does not count (我不需要匿名),
 * and a phrase ending in 我 does not match 我们 (别透露我们厂的事).
 */
export function asksAnonymity(district: District, text: string): string | null {
  const phrases = [...district.file.anonymity.phrases].sort((a, b) => b.length - a.length);
  for (const phrase of phrases) {
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
  return GENERIC_ANONYMITY.exec(text)?.[0] ?? null;
}

// Mainland mobile numbers, optionally written with +86 / spaces / dashes / dots, and
// landlines with an area code. Digits inside longer digit runs are not phones.
// Matched on the half-width form of the text (see halfWidthDigits).
const PHONE_RE = /(?<!\d)(?:(?:\+?86)[\s.-]?)?(1[3-9]\d)[\s.-]?(\d{4})[\s.-]?(\d{4})(?!\d)|(?<!\d)(0\d{2,3})[\s.-]?(\d{7,8})(?!\d)/g;

/**
 * Full-width digits, plus, dash and dot (what Chinese input methods often
 * type) as their ASCII forms. Each is one UTF-16 unit either way, so offsets
 * in the result are offsets in the original.
 */
export function halfWidthDigits(text: string): string {
  return text.replace(/[\uFF0B\uFF0D\uFF0E\uFF10-\uFF19]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) - 0xfee0));
}

export function findPhones(text: string): string[] {
  const out: string[] = [];
  for (const m of halfWidthDigits(text).matchAll(PHONE_RE)) {
    out.push(m[1] ? `${m[1]}${m[2]}${m[3]}` : `${m[4]}${m[5]}`);
  }
  return out;
}

/** 13812345678 → 138****5678; landlines keep area code and last 4 digits. */
export function maskPhone(phone: string): string {
  let digits = phone.replace(/\D/g, '');
  // +86 138 1234 5678: the country code is dropped, the mobile number masked as usual.
  if (digits.length === 13 && /^861[3-9]/.test(digits)) digits = digits.slice(2);
  if (digits.length <= 4) return '*'.repeat(digits.length);
  if (digits.length === 11 && digits.startsWith('1')) return `${digits.slice(0, 3)}****${digits.slice(7)}`;
  const head = digits.startsWith('0') ? digits.slice(0, digits.length > 10 ? 4 : 3) : digits.slice(0, 3);
  return `${head}****${digits.slice(-4)}`;
}

/** Replaces every phone number in free text (in whatever digits it is typed) by `by(number)`. */
export function replacePhones(text: string, by: (phone: string) => string): string {
  let out = '';
  let last = 0;
  for (const m of halfWidthDigits(text).matchAll(PHONE_RE)) {
    out += text.slice(last, m.index) + by(m[0]);
    last = m.index + m[0].length;
  }
  return last === 0 ? text : out + text.slice(last);
}

/** Replaces every phone number in free text by its masked form. */
export function maskPhonesInText(text: string): string {
  return replacePhones(text, maskPhone);
}

/** The commonest surnames: a title or 老/小 after one of them is a person. */
export const SURNAME =
  '[王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤欧蒙]';
// A reporter naming themself: 我叫张伟, 我的名字是李四, 联系人：王五. Not 我叫他们别烧了
// (telling someone something). The name is cut short to its first character.
const SELF_NAMED = /(我叫|我名叫|我的名字叫|我的名字是|本人叫|本人姓名|联系人[:：]?)\s*(?![他她它你您们人了过])([\u4e00-\u9fff·]{2,4})/g;
// 我是张卫国， — a surname and one or two characters standing alone after 我是 (not 我是李家塘的, 我是王家村村民).
const SELF_IS = new RegExp(`(我是|本人是)(${SURNAME}[\\u4e00-\\u9fff]{1,2})(?=[，,。.！!？?；;、\\s]|$)`, 'gu');
// 我是回龙村的村民王建国 — the name after who the speaker says they are; a word after the name (说, 也…) stays.
const SELF_DESCRIBED = new RegExp(
  `(我是[^，,。！!？?\\s]{1,12}?的(?:村民|居民|群众|业主|住户))(${SURNAME}[\\u4e00-\\u9fff](?:(?![也说在的了是和就都又还看听讲称把被向跟对])[\\u4e00-\\u9fff])?)`,
  'gu',
);

/** 张伟 → 张*, 欧阳娜娜 → 欧***. */
function maskName(name: string): string {
  const chars = [...name];
  return chars[0] + '*'.repeat(chars.length - 1);
}

/**
 * The reporter's words as a bureau may read them: phone numbers masked, and
 * the reporter's name where they give it (我叫…) or where it is known from
 * their contact details (`names`), cut to its first character.
 */
export function maskIdentityInText(text: string, names: ReadonlyArray<string | null | undefined> = []): string {
  let out = maskPhonesInText(text)
    .replace(SELF_NAMED, (_m, label: string, name: string) => `${label}${maskName(name)}`)
    .replace(SELF_IS, (_m, label: string, name: string) => `${label}${maskName(name)}`)
    .replace(SELF_DESCRIBED, (_m, label: string, name: string) => `${label}${maskName(name)}`);
  for (const name of names) {
    const n = name?.trim();
    if (n && [...n].length >= 2) out = out.split(n).join(maskName(n));
  }
  return out;
}

