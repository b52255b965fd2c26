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

// ---- Phone numbers ----------------------------------------------------------------------------

/** Digits as people say them (speech-to-text writes 一三九…): 幺 is a spoken 1, 两 a spoken 2. */
const SPOKEN_DIGIT: Readonly<Record<string, string>> = {
  〇: '0', 零: '0', 一: '1', 幺: '1', 二: '2', 两: '2', 三: '3', 四: '4', 五: '5', 六: '6', 七: '7', 八: '8', 九: '9',
};
const SPOKEN = '[〇零一幺二两三四五六七八九]';
const ANY_DIGIT = '[0-9〇零一幺二两三四五六七八九]';
// One space, dot or dash between two digits (139 1234 5678, 1391-234-1002, 139.1234.5678, 139—1234—5678).
const SEP = '[\\s.\\-\\u2010-\\u2015]';
// A number glued to digits, or to letters after it, is part of something else: an order number, an id.
// Before it only hexadecimal letters count (a UUID in a case's JSON), so tel13812345678 and
// vx13812345678 are still phones.
const NOT_BEFORE = '(?<![0-9A-Fa-f])';
const NOT_AFTER = '(?![0-9A-Za-z])';
// Words after which 7 to 12 digits are a phone number even without an area code: 家里电话84560501
// (9 to 12 is a mobile or landline mistyped by a digit, still the reporter's).
const PHONE_WORD = '(?:电话|手机|座机|号码|联系方式|致电|回电|拨打|打|拨)(?:号码?)?(?:是|为|[:：])?[ \\t]?';

// Every alternative has a fixed or small bounded length, so a scan is linear in the text.
// Matched on the half-width form of the text (see halfWidthDigits).
const PHONE_RE = new RegExp(
  [
    // Mobile numbers with +86 and one separator between any two digits: 139 1234 5678, 1391-234-1002, 13912 345678.
    `(?<mobile>${NOT_BEFORE}(?:\\+?86${SEP}?)?1[3-9](?:${SEP}?[0-9]){9}${NOT_AFTER})`,
    // Mobile numbers said in Chinese digits, alone or mixed with Arabic ones: 一三九一二三四零四零二, 139一二三四五六七八.
    // Eleven digits only, so 三五个人, 一二百米 and 二〇二六年 are prose; a single digit after the number
    // may start the next word (…零二一直打不通).
    `(?<spoken>${NOT_BEFORE}(?<!${SPOKEN})[1一幺][3-9三四五六七八九](?:${SEP}?${ANY_DIGIT}){9}(?![0-9A-Za-z]|${SPOKEN}${ANY_DIGIT}))`,
    // Landlines with their area code: 0746-5123456, 0731 8456 1101, (0731)84560801, （0731）8456-0801.
    `(?<landline>${NOT_BEFORE}(?:0[0-9]{2,3}|[(（]0[0-9]{2,3}[)）])${SEP}?[0-9]{3,4}${SEP}?[0-9]{4}${NOT_AFTER})`,
    // A local number right after a phone word, in any digits.
    `(?<local>(?<=${PHONE_WORD})(?:[0-9]{3,4}${SEP}?[0-9]{4}|[0-9]{9,12})${NOT_AFTER}|(?<=${PHONE_WORD})${ANY_DIGIT}{7,12}${NOT_AFTER})`,
  ].join('|'),
  'g',
);
const SEPARATORS = new RegExp(SEP, 'g');
const COUNTRY_CODE = new RegExp(`^\\+?86${SEP}?`);
const SPOKEN_DIGITS = new RegExp(SPOKEN, 'g');

// A unit's published number (区环保局电话0746-1234567, 举报热线12369) is no one's identity.
// Mobiles are never a unit's: the officer carrying one is a person.
const UNIT_BEFORE =
  /(?:[局办委队站]|委员?会|中心|(?<![住场厕处诊])所|政府|热线|办事处)(?:值班|联系|办公|举报|投诉|服务|监督|咨询|热线)?(?:电话|热线|号码|座机)?(?:是|为|[:：])?\s*$/;

interface PhoneSpan {
  start: number;
  end: number;
  /** As written, in half-width digits. */
  raw: string;
  /** Arabic digits only, without +86. */
  digits: string;
  /** A unit's landline or service number rather than a person's. */
  unit: boolean;
}

function phoneDigits(raw: string): string {
  const digits = halfWidthDigits(raw).replace(SPOKEN_DIGITS, (d) => SPOKEN_DIGIT[d] ?? d).replace(/\D/g, '');
  return digits.length === 13 && /^861[3-9]/.test(digits) ? digits.slice(2) : digits;
}

function phoneSpans(text: string): PhoneSpan[] {
  const half = halfWidthDigits(text);
  const spans: PhoneSpan[] = [];
  PHONE_RE.lastIndex = 0;
  for (let m = PHONE_RE.exec(half); m !== null; m = PHONE_RE.exec(half)) {
    const raw = m[0];
    const mobile = m.groups?.mobile !== undefined || m.groups?.spoken !== undefined;
    // 1.3 2.5 3.6 4.8 5.9 6 is a list of readings: a mobile is written in at most four groups.
    if (mobile && (raw.replace(COUNTRY_CODE, '').match(SEPARATORS)?.length ?? 0) > 3) {
      PHONE_RE.lastIndex = m.index + 1;
      continue;
    }
    const unit = !mobile && UNIT_BEFORE.test(half.slice(Math.max(0, m.index - 16), m.index));
    spans.push({ start: m.index, end: m.index + raw.length, raw, digits: phoneDigits(raw), unit });
  }
  return spans;
}

/**
 * Full-width digits, plus, dash and dot (what Chinese input methods often
 * type) as their ASCII forms. Each is one UTF-16 unit either way, so offsets
 * in the result are offsets in the original.
 */
export function halfWidthDigits(text: string): string {
  return text.replace(/[\uFF0B\uFF0D\uFF0E\uFF10-\uFF19]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) - 0xfee0));
}

/** The phone numbers someone gave in the text, as Arabic digits; a unit's published number is not one. */
export function findPhones(text: string): string[] {
  return phoneSpans(text)
    .filter((s) => !s.unit)
    .map((s) => s.digits);
}

/** 13812345678 → 138****5678; landlines keep area code and last 4 digits, other numbers only the last 4. */
export function maskPhone(phone: string): string {
  const written = halfWidthDigits(phone).replace(SPOKEN_DIGITS, (d) => SPOKEN_DIGIT[d] ?? d);
  let digits = written.replace(/\D/g, '');
  // +86 138 1234 5678: the country code is dropped, the mobile number masked as usual.
  if (digits.length === 13 && /^861[3-9]/.test(digits)) digits = digits.slice(2);
  if (digits.length <= 4) return '*'.repeat(digits.length);
  if (digits.length === 11 && digits.startsWith('1')) return `${digits.slice(0, 3)}****${digits.slice(7)}`;
  if (digits.startsWith('0')) {
    // The area code as written when it is set off ((0731), 010-), else three or four digits by length.
    const area = /^\D*(0\d{2,3})(?!\d)/.exec(written)?.[1] ?? digits.slice(0, digits.length > 10 ? 4 : 3);
    return `${area}****${digits.slice(-4)}`;
  }
  // A local number without its area code (84560501): with its first three digits shown, one would be hidden.
  return `****${digits.slice(-4)}`;
}

function replaceSpans(text: string, spans: readonly PhoneSpan[], by: (phone: string) => string): string {
  let out = '';
  let last = 0;
  for (const s of spans) {
    out += text.slice(last, s.start) + by(s.raw);
    last = s.end;
  }
  return last === 0 ? text : out + text.slice(last);
}

/** Replaces every phone number in free text (in whatever digits it is typed) by `by(number)`. */
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
].join('|')})`;

// What cannot start a given name: particles, pronouns, titles, and the verbs a report uses after
// a name (市民张三反映 is 张三, not 张三反). 家 only before the words that make it a household (张三家的).
const NOT_FIRST =
  '(?:[的了是和与及或就都又还也把被向跟对给让们他她它说讲称在等着过到从于不没很]|反映|反应|表示|要求|来电|来了|来到|来说|投诉|举报|联系|电话|手机|' +
  '发现|告诉|认为|希望|担心|先生|女士|小姐|师傅|老板|老师|大爷|大妈|大哥|大姐|阿姨|家[的里门旁后前边那这附])';
/** What cannot be the second character of a given name either. */
const NOT_NEXT = `(?:${NOT_FIRST}|[去今昨前已曾多一两几这那要叫住家所看听带拍闻打]|发生|介绍|指出|提供|证实|确认|描述|回忆|透露|怀疑)`;

// Where a place name ends: 石门村, 马家桥, 高家坪, 李家湾小区, 盐下村人, 蓝山县. 我是石门村 is where someone is from.
const PLACE_END = '[村镇乡屯组桥坪湾庄寨街巷塘冲垅铺圩坝洞嘴坳岗坡厂场店县市区州]';
export const PLACE_WORD = `(?:(?:${PLACE_END}|社区|小区)(?:(?!${HAN})|[的人里边旁那这后前口头上下附小社村组一])|[家人](?!${HAN}))`;

/**
 * A person's name in running text, surname first: one or two characters after the surname,
 * stopping before the word that follows (张三反映, 李四说); not an everyday word that starts
 * with a surname (田地, 高度) and not a place (石门村, 李家湾小区).
 */
export const PERSON_NAME = `(?!${ANY_SURNAME}${HAN}{0,2}?${PLACE_WORD})(?!${NOT_A_NAME})${ANY_SURNAME}(?!${NOT_FIRST})${HAN}(?:(?!${NOT_NEXT})${HAN})?`;

// After words that can only be followed by a name (我叫, 姓名：), any two to four characters, the
// way people write them (阿依·买买提 too), stopping before a particle; not 我叫他们别烧了, 姓名保密.
const NOT_A_VALUE = '(?:匿名|保密|不详|未知|未留|不便|不愿|不想|暂无|待定|电话|手机|号码|联系|方式|信息|身份|什么|是谁)';
const GIVEN_NAME = `(?![他她它你您们人了过我这那什啥谁和与及或跟给以等的是在也都就不没很被把向对为无略])(?!${NOT_A_VALUE})`;
const STATED_NAME = `${GIVEN_NAME}[${HAN}·]{2}(?:(?![的了说是在也就都和])[${HAN}·]){0,2}`;

/** 我姓张，叫张卫东 / 我姓李，名伟: the name after the surname, or only its given part. */
const SELF_SURNAMED = new RegExp(
  `(我姓(${COMPOUND_SURNAME}|${HAN})[，,、\\s]{0,2}(?:叫|名叫|名字叫|单名|名))${GIVEN_NAME}(?!字)([${HAN}·](?:(?![的了说是在也就都和])[${HAN}·]){0,3})`,
  'gu',
);
/**
 * 我叫张伟, 我的名字是欧阳娜娜, 名字叫秦大山 (at the start of a sentence: not 他的名字叫…, 厂子名字叫…),
 * 姓名：周美玲 (not the 姓名 of a table header), 联系人：王五, 举报人：吴桂芳.
 */
const SELF_NAMED = new RegExp(
  `((?:我叫|我名叫|我的?名字(?:叫|是)|本人(?:叫|名叫|名字是)|(?:我的|本人的?)姓名|(?<![他她它的])姓名(?=\\s*[:：是为])|(?<!${HAN})(?:名字(?:叫|是)|名叫)|联系人|(?:举报|投诉|反映|报料)人(?=[:：]))(?:是|为)?[:：]?\\s*)(${STATED_NAME})`,
  'gu',
);
/**
 * 举报人刘德明, 市民朱立新（…）反映, 本人张伟也看到了: who reported, then their name. Not 户主 or
 * 村民 + a name, which as often name the one reported (户主刘某私建, 村民周某办猪场), whom the
 * bureau must know.
 */
const SELF_LABELLED = new RegExp(
  `((?:来电市民|来电人|来电者|市民|本人|(?:举报|投诉|反映|报料)人)[:：]?\\s*)(?![向于])(${PERSON_NAME})`,
  'gu',
);
/** 我是张卫国， — a name standing alone after 我是 (not 我是李家塘的, 我是王家村村民, 我是石门村，). */
const SELF_IS = new RegExp(`((?:我是|我就是|本人是))(${PERSON_NAME})(?=[，,。.！!？?；;、\\s]|$)`, 'gu');
/** 我是回龙村的村民王建国 — the name after who the speaker says they are; a word after the name (说, 也…) stays. */
const SELF_DESCRIBED = new RegExp(`(我是[^，,。！!？?\\s]{1,12}?的(?:村民|居民|群众|业主|住户))(${PERSON_NAME})`, 'gu');
/** My name is John Doe, I am Wang Wei, I'm Li Ming: only a capitalised name after it. */
const SELF_NAMED_EN =
  /(\b(?:[Mm]y name is|I am|I'm|I’m)\s+)(?!(?:Not|In|At|From|The|A|An|So|Very|Really|Here|Writing|Calling|Reporting|Living)\b)([A-Z][a-z]+(?:[ -][A-Z][a-z]+){0,2})/g;

/** At most this many names per text are masked wherever else they occur: a text is not a register. */
const MAX_NAMES = 32;

/** 张伟 → 张*, 欧阳娜娜 → 欧***, John Doe → J*** D**. */
function maskName(name: string): string {
  if (/^[A-Za-z]/.test(name)) return name.replace(/\B[A-Za-z]/g, '*');
  const chars = [...name];
  return chars[0] + '*'.repeat(chars.length - 1);
}

/**
 * Masks the names a reporter gives for themself (我叫…, 我是…, 姓名：…, 举报人…, My name is…),
 * by `maskOf(name, givenOnly)`, where givenOnly is a name said without its surname (我姓李，名伟).
 * Returns the names found (whole names of two characters or more), so that their other mentions
 * can be masked too (see maskMentions).
 */
export function maskSelfNames(
  text: string,
  maskOf: (name: string, givenOnly: boolean) => string = (name, givenOnly) => (givenOnly ? '*'.repeat([...name].length) : maskName(name)),
): { text: string; names: string[] } {
  const names = new Set<string>();
  const found = (name: string) => {
    if (names.size < MAX_NAMES && [...name].length >= 2) names.add(name);
  };
  let out = text.replace(SELF_SURNAMED, (_m, label: string, surname: string, name: string) => {
    const givenOnly = !name.startsWith(surname);
    if (!givenOnly) found(name);
    return label + maskOf(name, givenOnly);
  });
  for (const rule of [SELF_NAMED, SELF_LABELLED, SELF_IS, SELF_DESCRIBED, SELF_NAMED_EN]) {
    out = out.replace(rule, (_m, label: string, name: string) => {
      found(name);
      return label + maskOf(name, false);
    });
  }
  return { text: out, names: [...names] };
}

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
  for (const n of [...unique].sort((a, b) => b.length - a.length)) out = out.split(n).join(maskOf(n));
  return out;
}

/**
 * The reporter's words as a bureau may read them: phone numbers masked, and
 * the reporter's name where they give it (我叫…, 举报人…) or where it is known from
 * their contact details (`names`), cut to its first character, in every mention.
 */
export function maskIdentityInText(text: string, names: ReadonlyArray<string | null | undefined> = []): string {
  const self = maskSelfNames(maskPhonesInText(text));
  return maskMentions(self.text, [...names, ...self.names]);
}
