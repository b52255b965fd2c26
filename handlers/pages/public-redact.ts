import { halfWidthDigits, SURNAME } from '../../src/pipeline/extract.js';

/**
 * Complaint text made fit for publication: whatever could point at a person
 * is masked — the reporter's own name and phone when known, any phone number,
 * ID card number or e-mail address, house and room numbers, and names given
 * the usual ways (我叫…, 姓…, …先生, 联系人…). The place stays at village
 * level, which the public needs to know where the problem is. Pure: no I/O.
 *
 * Masking errs on the side of too much: a date written 3号 after 月 is kept,
 * any other number followed by 号 / 栋 / 室 is not.
 */

export interface KnownIdentity {
  /** The reporter's name and phone from the protected contact fields. */
  names?: ReadonlyArray<string | null | undefined>;
  phones?: ReadonlyArray<string | null | undefined>;
}

export const MASK = {
  name: '×××',
  phone: '[电话已隐去]',
  id: '[证件号已隐去]',
  email: '[邮箱已隐去]',
  number: '××',
} as const;

const HAN = '\\p{Script=Han}';
const NUM = '[0-9０-９一二三四五六七八九十百千零〇两]';
const TITLE = '(?:先生|女士|小姐|师傅|老板|大爷|大妈|大哥|大姐|阿姨|老师|书记|村长|组长|主任|经理|某)';

/** A given name after a surname: one or two characters, not taking a word that follows (张伟也… keeps 也). */
const GIVEN = `${HAN}(?:(?![也说在的了是和就都又还看听讲称把被向跟对])${HAN})?`;
/** 回龙村的 / 附近的村民: what someone says they are before their name, up to 的. */
const DESCRIBED = '[^，,。！!？?\\s]{1,12}?的(?:村民|居民|群众|业主|住户)?';

type Replacer = (match: string, ...groups: string[]) => string;

const RULES: Array<[RegExp, string | Replacer]> = [
  // Resident ID numbers: 18 characters (the last may be X) or the old 15 digits.
  [/(?<![0-9A-Za-z])\d{6}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])/g, MASK.id],
  [/(?<!\d)\d{15}(?!\d)/g, MASK.id],
  // Tried only where an address can begin (not inside a run of its characters): linear in the text.
  [/(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g, MASK.email],
  // Mobile numbers (with +86, spaces, dashes), landlines with area code, and any other long digit run.
  [/(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?!\d)/g, MASK.phone],
  [/(?<!\d)0\d{2,3}[\s-]?\d{7,8}(?!\d)/g, MASK.phone],
  [/(?<!\d)\d{7,}(?!\d)/g, MASK.phone],
  // Numbers said in Chinese digits after 电话 / 手机.
  [/(电话|手机|号码)(是|为|：|:)?\s*[一二三四五六七八九零〇幺两]{7,}/gu, (_m, a = '', b = '') => `${a}${b}${MASK.phone}`],
  // House, building, unit and room numbers (12号, 3栋2单元501室, 12-3号); not dates (11月3号).
  [new RegExp(`(?<!月|${NUM})${NUM}+(?:[-－]${NUM}+)?(号楼|号院|号|栋|幢|单元|室|户)`, 'gu'), (_m, unit = '') => `${MASK.number}${unit}`],
  // Names after who the speaker says they are: 我是回龙村的村民王建国, 本人张伟, 村民李四.
  [new RegExp(`(我是${DESCRIBED})${SURNAME}${GIVEN}`, 'gu'), (_m, lead = '') => `${lead}${MASK.name}`],
  [new RegExp(`(本人|村民|居民|群众|业主|住户|市民|家长)(叫|是)?(?!向|方面|高兴|们|代表)${SURNAME}${GIVEN}`, 'gu'), (_m, lead = '', verb = '') => `${lead}${verb}${MASK.name}`],
  // Names introduced the usual ways (a 我是… whose name the rule above masked keeps its description: 我是回龙村的村民×××).
  [new RegExp(`(我叫|我是(?!${DESCRIBED}${MASK.name})|名字是|名叫|联系人|举报人|户主)(：|:)?\\s*(?!电话|手机|号码|联系|反映|表示|称|说|的)${HAN}{2,3}`, 'gu'), (_m, lead = '', colon = '') => `${lead}${colon}${MASK.name}`],
  [new RegExp(`(?<!百)姓${HAN}`, 'gu'), '姓×'],
  [new RegExp(`${SURNAME}(?=${TITLE})`, 'gu'), '×'],
  [new RegExp(`(?<=[老小阿])${SURNAME}(?=${HAN})`, 'gu'), '×'],
];

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Masks what could identify a person in text meant for the public. */
export function redactForPublic(text: string, known: KnownIdentity = {}): string {
  // Digits typed full-width (１３８…, what Chinese input methods often give) are read as digits.
  let out = halfWidthDigits(text);
  // The known identity first, exactly and in any spacing of its digits.
  for (const phone of known.phones ?? []) {
    const digits = (phone ?? '').replace(/\D/g, '');
    if (digits.length >= 5) out = out.replace(new RegExp(digits.split('').join('[\\s-]?'), 'g'), MASK.phone);
  }
  for (const name of known.names ?? []) {
    const n = (name ?? '').trim();
    if (n.length >= 2) {
      out = out.replace(new RegExp(escapeRegExp(n), 'g'), MASK.name);
      // The given name alone (张三丰 → 三丰) often comes up too.
      if ([...n].length >= 3) out = out.replace(new RegExp(escapeRegExp([...n].slice(1).join('')), 'g'), MASK.name);
    }
  }
  for (const [pattern, replacement] of RULES) {
    out = typeof replacement === 'string' ? out.replace(pattern, replacement) : out.replace(pattern, replacement);
  }
  return out;
}
