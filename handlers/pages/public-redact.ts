import {
  ANONYMOUS_NAME,
  BUSINESS,
  COMPOUND_SURNAME,
  FAMILY_NAME_END,
  HAN,
  givenName,
  halfWidthDigits,
  ID_NUMBER_RE,
  maskKnownPhones,
  maskMentions,
  maskPhonesInText,
  maskSelfNames,
  NAMED_BY_STAFF,
  PERSON_NAME,
  PLACE_OF_A_FAMILY,
  PLACE_WORD,
  RELATIVE,
  SURNAME,
  wordsUsedAsPlaces,
} from '../../src/pipeline/extract.js';

/**
 * Complaint text made fit for publication: whatever could point at a person
 * is masked — the reporter's own name and phone when known, any phone number,
 * ID card number or e-mail address, house and room numbers, and names given
 * the usual ways (我叫…, 姓…, …先生, 联系人…, 村民…), wherever else they are
 * mentioned. The place stays at village level, which the public needs to know
 * where the problem is, and so do numbers that point at no one: a unit's
 * published number (区环保局电话…, 举报热线12369), coordinates, amounts,
 * 1号排污口, 3栋厂房. Pure: no I/O.
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
  account: '[号码已隐去]',
  number: '××',
} as const;

const NUM = '[0-9０-９一二三四五六七八九十百千零〇两]';
const TITLE = '(?:先生|女士|小姐|师傅|老板|大爷|大妈|大哥|大姐|阿姨|老师|书记|村长|组长|主任|经理|某)';
const ANY_SURNAME = `(?:${COMPOUND_SURNAME}|${SURNAME})`;
/** What may follow a name: the end of a word, a particle or verb (老王说, 小李的厂, 德华也…), or a greeting of a reply (老陈您好, 小李你好, 老张同志). */
const AFTER_NAME = `(?:$|(?!${HAN})|[说讲称也在的了是和就都又还看听把被向跟对要让叫家他她们等告反表去来您你]|同志)`;
/** What may come before a given name said alone: the start of a word, a particle or verb (找德华, 或者德华), or the address of a reply's greeting (尊敬的小明同志：您好). */
const BEFORE_GIVEN = `(?:^|(?<!${HAN})|[找叫和与跟对给问让把被者是说向同及、或告请]|尊敬的|亲爱的)`;

/** 回龙村的 / 附近的村民: what someone says they are before their name, up to 的. */
const DESCRIBED = '[^，,。！!？?\\s]{1,12}?的(?:村民|居民|群众|业主|住户)?';
/** What someone is (程序员, 记者, 石匠), not who. */
const NOT_A_ROLE = `(?!${HAN}{1,2}[员者匠官](?!${HAN}))`;
/**
 * After 我是, a name of any surname when it stands alone (我是冼志强，), but not what people
 * say they are (我是村民，我是司机，我是外地人，我是石门村，).
 */
const NOT_SELF = `[这那想说要来去在也就都还不没很真的了是我你他她它们本外附当村居业群住市家老小大一二三四五六七八九十个第哪谁啥什好女男农工学医司职干退志环清保受目知过邻亲朋同领俺被]|${HAN}{1,2}(?:[人民员主工头客户者族师生长士部机属居戚友事导官]|${PLACE_WORD})|${HAN}某|${HAN}${PLACE_OF_A_FAMILY}`;

// One part of an address: 12号, 3栋, 2单元, 501室, 12-3号.
const ADDRESS_PART = `${NUM}+(?:[-－]${NUM}+)?(?:号楼|号院|号|栋|幢|单元|层|楼|室|户)`;
const ADDRESS_NUMBER = new RegExp(`${NUM}+(?:[-－]${NUM}+)?`, 'gu');

/** What follows the name of the one reported (举报王小明在…, 投诉李四私自…): not 举报王家养猪场 (a household's farm). */
const REPORTED_DOES = '(?:[，,。！!？?；;、\\s]|$|[在把将从又]|私自|私设|偷|乱|违|非法|擅自|长期|经常|一直|天天|每天|常年|多次)';

/** What someone runs or owns a place by: 由张德明经营, 李四承包的鱼塘. */
const RUNS = '(?:经营|承包|开办|开设|管理|负责|租用|租赁|私建|搭建|打理|掌管|所有)';
/** A surname and an official's or a trade's title (王书记, 李主任, 张总), which names no one the public need not know. */
const NOT_OFFICIAL = `(?!${ANY_SURNAME}(?:书记|支书|主任|村长|组长|镇长|乡长|区长|县长|市长|局长|科长|所长|队长|站长|处长|股长|部长|主席|经理|干事|专员|警官|会计|委员|老师|医生|师傅|老板|先生|女士|同志|总|某))`;
/** Where someone lives, said before 的 and their name: a village, its group, an estate, or next to the speaker's home. */
const LIVES_AT = `(?:[村镇乡屯寨组]|社区|小区|隔壁|旁边|对面|对门|楼上|楼下|附近|邻居)`;

const NUMBER_RULES: Array<[RegExp, string]> = [
  // The last digits of someone's phone (手机尾号5678, 尾号为5678, 后四位是5678): a few people in a village have them.
  [new RegExp(`(?<=(?:尾号|后[四4三3]位)(?:是|为)?[:：]?\\s?)[0-9零〇一二三四五六七八九幺]{3,4}(?![0-9零〇一二三四五六七八九幺])`, 'gu'), MASK.phone],
  // Resident ID numbers as bureaus read them masked (ID_NUMBER_RE), and besides any 15 digits (the old numbers).
  [ID_NUMBER_RE, MASK.id],
  [/(?<!\d)\d{15}(?!\d)/g, MASK.id],
  // Tried only where an address can begin (not inside a run of its characters): linear in the text.
  [/(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g, MASK.email],
  // An account named as one (QQ 12345678, 微信号 wx_li88, 银行卡号 6222…): whatever follows the word.
  [/(?:QQ|qq|微信号?|[vVwW][xX]|账号|帐号|卡号|银行卡号?|车牌号?)\s*(?:号码?|是|为)?[:：]?\s*[A-Za-z0-9\u4e00-\u9fff_-]{0,2}?[A-Za-z0-9_-]{5,}/g, MASK.account],
];

// A number masked as the staff pages and the tracking page show it: its first digits (or none) and its last ones.
const SHOWN_MASKED_NUMBER = /(?<![\d*])(?:(?:\+?86[- ]?)?\(?\d{3,4}\)?[- ]?)?\*{3,}[- ]?\d{3,4}(?![\d*])/g;

// A name masked as the staff pages show it: the surname, then a star for each other character.
const SHOWN_MASKED_NAME = new RegExp(`${ANY_SURNAME}\\*{1,3}(?![*\\d])`, 'gu');

// After the phone numbers: a long run of digits that is not part of a decimal or a dashed number (a
// bank card, a QQ number without its word); a unit's published number after a dash, coordinates and
// amounts stay.
const LONG_NUMBER = /(?<![\d.,-])\d{9,}(?![\d.,])/g;

// House, building, unit and room numbers where they are an address: after a road, lane, village or
// estate (盐下村12号3栋501室, 解放路8号), after 住 / 地址, or a chain of them (3栋2单元501室, 5号楼3单元).
// Not a number of things (1号排污口, 3户人家, 2号井, 3栋厂房, S1号线) nor a date (11月3号), nor the floor
// and room of a public building (回龙圩镇人民政府2楼201室, 区环保局3楼). Never tried inside a run of digits,
// which would make a long run quadratic.
const PUBLIC_BUILDING = '(?:政府|局|中心|(?:卫生|[医法]|检察)院|学校|[小中大]学|办事处|派出所|委员?会|公司)';
// A room number written bare after its building or unit (3栋2单元501, 5号楼1203).
const BARE_ROOM = `(?:(?<=单元|栋|幢|号楼)${NUM}{3,4}(?!${NUM}|[年月日号点时分米元个次天]))?`;
const ADDRESS = new RegExp(
  `(?<=(?:[路街巷弄道村组屯庄寨苑]|社区|小区|花园|大厦|公寓|新村|住|住在|家住|地址|住址)[:：]?\\s?)(?:${ADDRESS_PART})+${BARE_ROOM}|(?<!${NUM}|${PUBLIC_BUILDING}[:：]?\\s?)(?:${ADDRESS_PART}){2,}${BARE_ROOM}`,
  'gu',
);

// Names the public page hides beyond the ones a reporter gives for themself: anyone named after who
// they are (村民李四, 业主：王建国, 家长张伟, 被举报人刘长贵, 邻居李四, 老板叫王大海, 法人：王大海, 那个老板，名字叫黄德贵,
// 王小明家隔壁 — not 村民田地, 市民高度关注,
// 群众向…, 业主李家湾小区), and after 我是 whatever comes before or after the name (我是附近的王建国, 我是王建国的邻居),
// but not what someone does (我是养鱼的, 我是程序员).
/**
 * A nickname, which names a person wherever it stands (举报刘老四在…, 是刘老四干的, 养猪的刘老四, 张二狗子说): a surname and
 * 老 with a child's rank (刘老四, 张老大), a rank or 大 / 小 with a pet word (张二狗, 王三娃, 李小毛, 赵大牛), or a mark of the
 * body (王麻子, 李瘸子). Not 老大爷 or 老大哥 (a title), 钻石王老五 (a rich bachelor), 王麻子剪刀 (a brand), 成聋子 (became deaf).
 */
const NICKNAME = new RegExp(
  `(?<!钻石)(${SURNAME}(?:老[大二三四五六七八九十幺](?![爷娘妈哥姐人难])|[大二三四五六七八九小][狗娃毛蛋牛伢妹崽]子?|(?<!成)[麻瘸拐跛驼秃聋]子)(?!剪刀|${HAN}?(?:村|镇|组|店|厂|公司)))`,
  'gu',
);

/**
 * Who someone is, said before their name: the one reported or who runs a place (被举报人, 负责人, 法人, 老板, 养殖户, 司机…),
 * residents (村民, 业主, 邻居…), and the people around a case whom the public need not know by name either — school
 * (班主任, 老师, 同学), community and village staff (网格员, 社区书记, 村支书, 村主任, 保洁员, 护林员…), police and doctors
 * (民警, 村医), workmates, friends and relatives (同事, 朋友, 老乡, 亲戚).
 */
const ROLE_WORDS = [
  '村民', '居民', '群众', '业主(?!方)', '住户', '市民', '家长', '本人', '鄙人', '来电人', '联系人', '户主', '被(?:举报|投诉|反映)人', '邻居', '老板',
  '法人(?:代表)?', '法定代表人', '实际控制人', '代表', '负责人', '经营者', '经营户', '承包人', '承租人', '出租人', '租户', '当事人', '报案人',
  '违法行为人', '行为人', '肇事者', '养殖户', '店主', '厂长', '经理', '房东', '车主', '司机', '驾驶员', '主人',
  '班主任', '校长', '园长', '老师', '教师', '同学', '学生', '网格员', '网格长', '书记', '支书', '村长', '组长', '主任', '干部', '村医', '医生', '护士长', '护士',
  '会计', '出纳', '调解员', '信息员', '联络员', '协管员', '护林员', '巡河员', '保洁员', '清洁工', '环卫工', '保安', '门卫', '管理员', '安全员', '监督员',
  '志愿者', '工作人员', '民警', '辅警', '片警', '同事', '朋友', '亲戚', '老乡', '工友', '工人', '员工', '职工', '师傅', '农户', '农民',
];
const ROLE = `(?:${ROLE_WORDS.join('|')})`;
/**
 * Words after who someone is that begin with a surname and name no one: 主任严肃批评, 老师任教于, 书记温和地说, and 曾 saying
 * what was done before (村民曾自行向矿点反映, 工作人员曾先后三次), not the surname of 曾庆丰.
 */
const NOT_AFTER_ROLE = '(?!任教|任职|任期|任命|严肃|严厉|温和|温柔|温馨|章程|曾[自先亲经多屡数几一两三试想要表发看见听因拍问报举投联电私])';
/**
 * A name after who someone is (村民向德山, 网格员张强, 社区书记刘芳, 同学王小明, 负责人王大海, 业主：王建国): not an official by
 * surname and title (联系人：李科长, 网格员王师傅), a business, a place or a unit after it (业主李家湾小区), nor 向 / 于 that
 * start the words after it (村民向环保局反映, 群众于今日来电). Tried only where a role word stands (ROLE_AT).
 */
const NAMED_AFTER_ROLE = new RegExp(`${ROLE}(?:叫|是|[:：])?\\s*(?!${HAN}{1,3}?${BUSINESS})${NOT_AFTER_ROLE}${NAMED_BY_STAFF}`, 'uy');
const ROLE_AT = new RegExp(ROLE, 'gu');
/**
 * Titles a person is called by after their whole name (李伟红老师, 刘芳书记, 王小明同学, 陈建国医生): village and community
 * posts, teachers, doctors, police officers, courtesy titles; not those of a bureau's officials (科长, 局长, 所长), who
 * answer for the district by name.
 */
const NAMED_TITLE = '(?:老师|书记|支书|主任|同学|医生|大夫|护士|师傅|警官|校长|园长|院长|村长|组长|经理|阿姨|大爷|大妈|大叔|大婶|先生|女士|小姐|同志)';
const TITLE_AT = new RegExp(NAMED_TITLE, 'gu');
/** What may stand before such a name: the start of a word, or a particle or verb (请李伟红老师, 联系了刘芳书记, 学校的李伟红老师). */
const BEFORE_TITLED = `(?:^|(?<!${HAN})|(?<=[找叫和与跟对给问让把被是说向同及、或请由经据的了]|联系|致电|尊敬的|亲爱的))`;
/** Words that begin with a surname and come before a title as what someone teaches or where they work (任课老师, 管区书记, 纪委书记, 高校老师, 安监站长). */
const NOT_BEFORE_TITLE = '(?!任课|管区|纪委|常务|常委|武术|陶艺|华文|文艺|金牌|安保|安监|高校|高职|高[一二三]|毕业)';
/**
 * A whole name before a title (李伟红老师, 刘芳书记): not a surname and title alone (李老师, 王书记), which the surname rules
 * mask. Tried only right before a title (TITLE_AT).
 */
const NAMED_BEFORE_TITLE = new RegExp(`${BEFORE_TITLED}${NOT_BEFORE_TITLE}(${PERSON_NAME})(?=${NAMED_TITLE})`, 'uy');
/** 邻居老陈, 网格员小李, 同事老王: someone called by surname after who they are. */
const SURNAMED_AFTER_ROLE = new RegExp(`(?<=${ROLE}[:：]?[老小阿])${SURNAME}(?=${AFTER_NAME}|${REPORTED_DOES}|核实|陪同|介绍|反映|表示|证实|确认|到|带)`, 'gu');

/**
 * The names of people named by who they are (NAMED_AFTER_ROLE) or before a title (NAMED_BEFORE_TITLE). Each rule is
 * tried only where its role word or title stands, found by a plain scan: tried at every character of a text, a rule
 * that long costs several times as much.
 */
function namedByRole(text: string): Set<string> {
  const names = new Set<string>();
  // A role word inside another (师傅 in 老师傅) is tried too: the scan moves on one character at a time.
  for (ROLE_AT.lastIndex = 0; ; ) {
    const role = ROLE_AT.exec(text);
    if (!role) break;
    NAMED_AFTER_ROLE.lastIndex = role.index;
    const m = NAMED_AFTER_ROLE.exec(text);
    if (m?.[1]) names.add(m[1]);
    ROLE_AT.lastIndex = role.index + 1;
  }
  for (const title of text.matchAll(TITLE_AT)) {
    // The longest name that ends right before the title: a two-character surname and two, down to one and one.
    for (let start = Math.max(0, title.index - 4); start <= title.index - 2; start++) {
      NAMED_BEFORE_TITLE.lastIndex = start;
      const m = NAMED_BEFORE_TITLE.exec(text);
      if (m?.[1] && start + m[1].length === title.index) {
        names.add(m[1]);
        break;
      }
    }
  }
  return names;
}

/**
 * For what staff write that the tracking page publishes (its notes and the reply), whose reporters' names are masked
 * already: the people named after who they are (网格员张强, 社区书记刘芳, 负责人王大海), before a title (李伟红老师) or by surname
 * after who they are (邻居老陈), masked whole by `mask` in every mention. Officials by surname and title (李科长) stay.
 */
export function maskNamedByRole(text: string, mask: string = ANONYMOUS_NAME): string {
  const found = namedByRole(text);
  // Most texts name no one so: the places are read only when a name was found.
  if (found.size > 0) {
    const places = wordsUsedAsPlaces(text);
    text = maskMentions(text, [...found].filter((name) => !places.has(name)), () => mask);
  }
  return text.replace(SURNAMED_AFTER_ROLE, mask);
}

const NAME_RULES: RegExp[] = [
  NICKNAME,
  // Someone named as a family member (父亲唐明应，小妹妹唐清爱 in a note under a request, 儿子王小二在厂里上班): the reporter's
  // family, or the family of whomever the text is about; not 他父亲 / 其妻子 / 厂长的儿子, whom the rules above name if they
  // name anyone.
  new RegExp(`(?<![他她它其的一全妇])${RELATIVE}(?:叫|名叫|是)?(${PERSON_NAME})${FAMILY_NAME_END}`, 'gu'),
  // Someone described as official texts describe a person: 王建国（男，52岁）.
  new RegExp(`(${PERSON_NAME})(?=[（(]\\s*[男女][，,、）)\\s])`, 'gu'),
  // Someone named by where their home is, or what their household or they run: 王小明家隔壁, 李四家门口, 李春花家的小作坊,
  // 张德明开的废品站.
  new RegExp(`(${PERSON_NAME})(?=家(?:隔壁|旁边|门口|后面|前面|对面|附近|楼下|楼上|院子|屋后|屋前|那边|这边|的))`, 'gu'),
  // Not 新开的, 私开的: what was opened, not who.
  new RegExp(`(${PERSON_NAME})(?<![新刚才又重再另私乱偷])(?=开的)`, 'gu'),
  // Someone named only by what they run or own: 由张德明经营, 由李四承包, 张德明承包的鱼塘 (not 由外地承包商经营).
  new RegExp(`由${NOT_OFFICIAL}(${PERSON_NAME})(?=${RUNS})`, 'gu'),
  new RegExp(`${NOT_OFFICIAL}(${PERSON_NAME})(?<![新刚才又重再另私乱偷])(?=${RUNS}的)`, 'gu'),
  // Someone named after where they live and 的: 我家隔壁的陈建军, 回龙村三组的杨光辉 — not what is there (回龙村的村委会,
  // 盐下村的养猪场) nor an official by title (回龙村的王书记). A name of three or four characters there: two that begin
  // with a surname are as often a thing at the place (回龙村的黄泥在流, 旁边的江水); after 邻居的, anyone's name.
  new RegExp(`${LIVES_AT}的${NOT_OFFICIAL}(${PERSON_NAME})(?<=${LIVES_AT}的${HAN}{3,4})(?=${AFTER_NAME}|${REPORTED_DOES})`, 'gu'),
  new RegExp(`邻居的${NOT_OFFICIAL}(${PERSON_NAME})(?=${AFTER_NAME}|${REPORTED_DOES})`, 'gu'),
  // Someone called so: 一个叫赵铁柱的人, 叫王大海的老板.
  new RegExp(`叫(${PERSON_NAME})的(?=人|男|女|老板|老头|老太|师傅|家伙|村民|司机)`, 'gu'),
  // A name with a number to reach them (请联系张三（13812345678）, 找王建国 139…, 张三电话138…): the number is masked by now.
  // Only a name standing as one, after a word that asks for someone or no word: not 归你们环保管吧 电话….
  new RegExp(
    `(?:^|(?<!${HAN})|(?<=联系|找|叫|问|给|和|与|、))(${PERSON_NAME})(?=\\s?[（(]\\s*(?:电话|手机)?[:：]?\\s*${escapeRegExp(MASK.phone)}|\\s?${escapeRegExp(MASK.phone)}|(?:电话|手机)[:：]?\\s*${escapeRegExp(MASK.phone)})`,
    'gu',
  ),
  new RegExp(`(?:名字(?:叫|是)|名叫)\\s*(?!${HAN}{1,3}?${BUSINESS})(${PERSON_NAME})`, 'gu'),
  // The one reported, a person the public need not know either: 对王小明的举报, 关于王小明的投诉, 举报王小明在河边倒渣.
  new RegExp(`(?:对|关于|针对)(${PERSON_NAME})的(?:举报|投诉|反映)`, 'gu'),
  new RegExp(`(?<!被)(?:举报|投诉)(${PERSON_NAME})(?=${REPORTED_DOES})`, 'gu'),
  new RegExp(`[我俺]是(?:${DESCRIBED})?${NOT_A_ROLE}(${PERSON_NAME})`, 'gu'),
  new RegExp(`[我俺]是(?!${NOT_SELF})(${HAN}{2,3})(?<!的)(?=[，,。！!？?；;、\\s]|$)`, 'gu'),
];

const SURNAME_RULES: Array<[RegExp, string]> = [
  // 我姓侯，侯宝林的侯，…: the characters that spell the surname give it away too.
  [new RegExp(`(?<!百)姓(?![名氏])(${COMPOUND_SURNAME}|${HAN})([，,、\\s]{1,2})[^，,。！!？?；;\\s]{1,6}?\\1(?=[，,、\\s]|$)`, 'gu'), `姓×$2${MASK.name}`],
  // 姓李的村长, 我姓欧阳 (not 姓名, 老百姓).
  [new RegExp(`(?<!百)姓(?![名氏])(?:${COMPOUND_SURNAME}|${HAN})`, 'gu'), '姓×'],
  [new RegExp(`${ANY_SURNAME}(?=${TITLE})`, 'gu'), '×'],
  // 老王说, 小李的厂; not 小龙虾, 老石灰厂.
  [new RegExp(`(?<=[老小阿])${SURNAME}(?=${AFTER_NAME})`, 'gu'), '×'],
];

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Masks what could identify a person in text meant for the public. */
export function redactForPublic(text: string, known: KnownIdentity = {}): string {
  // Digits typed full-width (１３８…, what Chinese input methods often give) are read as digits.
  let out = halfWidthDigits(text);
  // The known identity first, in any digits and spacing, a landline also without its area code.
  out = maskKnownPhones(out, known.phones ?? [], () => MASK.phone);
  const knownNames = (known.names ?? []).map((n) => (n ?? '').trim()).filter((n) => [...n].length >= 2);
  out = maskMentions(out, knownNames, () => MASK.name);
  // The given name alone (张三丰 → 三丰) often comes up too, as a word of its own: 或者三丰，
  // not the 国庆 of 国庆节 for a 张国庆.
  for (const name of knownNames) {
    const given = givenName(name);
    if ([...given].length >= 2) {
      out = out.replace(new RegExp(`(?<=${BEFORE_GIVEN})${escapeRegExp(given)}(?=${AFTER_NAME})`, 'gu'), MASK.name);
    }
  }
  for (const [pattern, replacement] of NUMBER_RULES) out = out.replace(pattern, replacement);
  out = maskPhonesInText(out, () => MASK.phone);
  // A number as staff pages show it, masked in the middle (138****5678, 0746-****4567, 家里****6666), copied into an
  // answer: its digits left still narrow it down to a few people in a village.
  out = out.replace(SHOWN_MASKED_NUMBER, MASK.phone);
  // A name as staff pages show it, its surname left (张*, 欧阳**): an anonymous report's words are kept so, and a
  // bureau's answer may copy it. The public reads no surname either.
  out = out.replace(SHOWN_MASKED_NAME, MASK.name);
  out = out.replace(LONG_NUMBER, MASK.account);
  out = out.replace(ADDRESS, (m) => m.replace(ADDRESS_NUMBER, MASK.number));
  const self = maskSelfNames(out, () => MASK.name);
  out = self.text;
  const names = new Set(self.names);
  // Not a word the text also uses as a place (我是石门，…石门组).
  const places = wordsUsedAsPlaces(out);
  for (const rule of NAME_RULES) for (const m of out.matchAll(rule)) if (m[1] && !places.has(m[1])) names.add(m[1]);
  for (const name of namedByRole(out)) if (!places.has(name)) names.add(name);
  out = maskMentions(out, names, () => MASK.name);
  for (const [pattern, replacement] of SURNAME_RULES) out = out.replace(pattern, replacement);
  return out;
}
