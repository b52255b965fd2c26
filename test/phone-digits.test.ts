import { describe, expect, it } from 'vitest';
import { findPhones, maskIdentityInText, maskKnownPhones, maskPhone, maskPhonesInText, replacePhones } from '../src/pipeline/extract.js';

// Phone numbers written in digits other than ASCII and full-width ones (pasted from elsewhere, or typed to keep a
// number from being found), and mobiles with slashes between their groups: masked as their ASCII forms are.
describe('phone numbers in the digits of other scripts and forms', () => {
  it.each([
    // Circled (⓪ too), parenthesized, with a full stop, and the dingbats' circled digits.
    ['电话①③⑧①②③④⑤⑥⑦⑧找我', '电话138****5678找我'],
    ['座机⓪⑦④⑥-⑤①②③④⑤⑥，晚上在家', '座机0746****3456，晚上在家'],
    ['手机⑴⑶⑼⑴⑵⑶⑷⑸⑹⑺⑻', '手机139****5678'],
    ['号码⒈⒊⒏⒈⒉⒊⒋⒌⒍⒎⒏。', '号码138****5678。'],
    ['❶❸❽❶❷❸❹❺❻❼❽', '138****5678'],
    ['➀➂➇ ➀➁➂➃ ➄➅➆➇', '138****5678'],
    ['➊➌➑-➊➋➌➍-➎➏➐➑', '138****5678'],
    // Arabic-Indic and Extended Arabic-Indic digits.
    ['电话١٣٨١٢٣٤٥٦٧٨找我', '电话138****5678找我'],
    ['手机۱۳۹ ۱۲۳۴ ۵۶۷۸，白天打', '手机139****5678，白天打'],
    // The decimal digits of any script: Devanagari, Thai, and those right next to the Chinese and Hangul blocks.
    ['电话१३८१२३४५६७८找我', '电话138****5678找我'],
    ['电话๑๓๘๑๒๓๔๕๖๗๘找我', '电话138****5678找我'],
    ['电话꘡꘣꘨꘡꘢꘣꘤꘥꘦꘧꘨找我', '电话138****5678找我'],
    ['电话꯱꯳꯸꯱꯲꯳꯴꯵꯶꯷꯸找我', '电话138****5678找我'],
    // Mathematical digits (two UTF-16 units each), with Chinese after them: what follows is kept as it was.
    ['我的手机𝟏𝟑𝟖𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖，晚上打给我', '我的手机138****5678，晚上打给我'],
    ['号码𝟙𝟛𝟠𝟙𝟚𝟛𝟜𝟝𝟞𝟟𝟠是我的', '号码138****5678是我的'],
    ['电话𝟷𝟹𝟿-𝟷𝟸𝟹𝟺-𝟻𝟼𝟽𝟾打不通就发短信', '电话139****5678打不通就发短信'],
    ['𝟭𝟯𝟴𝟭𝟮𝟯𝟰𝟱𝟲𝟳𝟴或𝟣𝟥𝟫𝟪𝟪𝟪𝟪𝟤𝟤𝟤𝟤都行😀', '138****5678或139****2222都行😀'],
    ['😀厂里电话𝟎𝟕𝟒𝟔-𝟓𝟏𝟐𝟑𝟒𝟓𝟔没人接，我的𝟏𝟑𝟖𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖', '😀厂里电话0746****3456没人接，我的138****5678'],
    // Superscript and subscript digits.
    ['电话¹³⁸¹²³⁴⁵⁶⁷⁸找我', '电话138****5678找我'],
    ['电话₁₃₈₁₂₃₄₅₆₇₈找我', '电话138****5678找我'],
    // One number in many scripts at once, full-width and Chinese digits among them.
    ['电话1３⑧١۲𝟑⁴₅❻➆⒏找我', '电话138****5678找我'],
    ['一三八①②③④٥٦٧８', '138****5678'],
    // Next to a number in ASCII digits, a digit of another form is a mark, not more of the number: a list mark
    // before it, a footnote after it.
    ['联系方式：①13812345678 ②0746-5123456', '联系方式：①138****5678 ②0746****3456'],
    ['我电话13812345678²', '我电话138****5678²'],
  ])('masks "%s"', (text, masked) => {
    expect(maskPhonesInText(text)).toBe(masked);
    expect(maskIdentityInText(text)).toBe(masked);
  });

  it('reads them as ASCII digits', () => {
    expect(findPhones('电话①③⑧①②③④⑤⑥⑦⑧找我')).toEqual(['13812345678']);
    expect(findPhones('我的手机𝟏𝟑𝟖𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖，座机⓪⑦④⑥-⑤①②③④⑤⑥')).toEqual(['13812345678', '07465123456']);
    expect(findPhones('电话١٣٨١٢٣٤٥٦٧٨، ۱۳۹۱۲۳۴۵۶۷۸')).toEqual(['13812345678', '13912345678']);
    expect(findPhones('电话1３⑧١۲𝟑⁴₅❻➆⒏找我')).toEqual(['13812345678']);
    expect(findPhones('①13812345678')).toEqual(['13812345678']);
    expect(maskPhone('①③⑧①②③④⑤⑥⑦⑧')).toBe('138****5678');
    expect(maskPhone('𝟎𝟕𝟒𝟔-𝟓𝟏𝟐𝟑𝟒𝟓𝟔')).toBe('0746****3456');
    expect(maskPhone('¹³⁸¹²³⁴⁵⁶⁷⁸')).toBe('138****5678');
  });

  it('replaces the whole number as written, and nothing around it', () => {
    expect(replacePhones('前𝟏𝟑𝟖𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖后𝟗', (p) => `[${p}]`)).toBe('前[13812345678]后𝟗');
    expect(replacePhones('联系张三 ①③⑧①②③④⑤⑥⑦⑧', () => ' ')).toBe('联系张三  ');
  });

  it.each([
    // Steps and ordinals.
    '①②③',
    '按①②③三步处理，再做④⑤',
    '第①条',
    '依据第⑶项和第⒉款，①②③④⑤⑥⑦⑧⑨都要整改',
    '步骤❶❷❸，➀➁➂',
    // Units, formulas and years.
    '面积约300m²，CO₂和SO₂超标，10³立方米',
    '٢٠٢٦年，𝟐𝟎𝟐𝟔年',
    // A unit's published number stays, in any digits.
    '区环保局电话⓪⑦④⑥-①②③④⑤⑥⑦',
  ])('leaves what is no phone alone: "%s"', (text) => {
    expect(maskPhonesInText(text)).toBe(text);
    expect(maskIdentityInText(text)).toBe(text);
    expect(findPhones(text)).toEqual([]);
  });
});

describe("the reporter's own number in the digits of other scripts and forms", () => {
  // What only the known number masks: a landline after a unit's word, one without its area code, a mobile spaced out.
  const known = ['0731-88886666', '+86 138 0000 2222'];
  it.each([
    ['学校电话⓪⑦③①-⑧⑧⑧⑧⑥⑥⑥⑥', '学校电话0731****6666'],
    ['学校电话٠٧٣١-٨٨٨٨٦٦٦٦，找周老师', '学校电话0731****6666，找周老师'],
    ['家里𝟖𝟖𝟖𝟖𝟔𝟔𝟔𝟔，白天不在', '家里****6666，白天不在'],
    ['家里⁸⁸⁸⁸⁶⁶⁶⁶', '家里****6666'],
    ['手机①③⑧ - ⓪⓪⓪⓪ - ②②②②', '手机138****2222'],
    // Mixed with full-width, spoken and Arabic digits.
    ['家里８８⑧８六６６۶', '家里****6666'],
  ])('masks "%s"', (text, masked) => {
    expect(maskKnownPhones(text, known)).toBe(masked);
    expect(maskIdentityInText(text, known)).toBe(masked);
  });

  it('leaves other numbers, and a mark next to the number, as they are', () => {
    expect(maskIdentityInText('学校电话⓪⑦③①-⑦⑦⑦⑦⑥⑥⑥⑥', known)).toBe('学校电话⓪⑦③①-⑦⑦⑦⑦⑥⑥⑥⑥');
    expect(maskKnownPhones('罚款①⑧⑧⑧⑧⑥⑥⑥⑥⓪元', known)).toBe('罚款①⑧⑧⑧⑧⑥⑥⑥⑥⓪元');
    expect(maskKnownPhones('家里①88886666', known)).toBe('家里①****6666');
    expect(maskKnownPhones('步骤①②③，面积300m²', known)).toBe('步骤①②③，面积300m²');
  });
});

describe('mobile numbers with slashes', () => {
  it.each([
    ['137/1234/5678', '137****5678'],
    ['电话137／1234／5678找我', '电话137****5678找我'],
    ['手机：137/12345678，下午打', '手机：137****5678，下午打'],
    ['+86 137/1234/5678', '137****5678'],
    ['一三七/一二三四/五六七八', '137****5678'],
    ['𝟏𝟑𝟕/𝟏𝟐𝟑𝟒/𝟓𝟔𝟕𝟖后面', '137****5678后面'],
    // Not only its first digits, as a local number after a phone word.
    ['手机1371234/5678', '手机137****5678'],
    ['2026/11/28打过，电话137/1234/5678', '2026/11/28打过，电话137****5678'],
  ])('masks "%s"', (text, masked) => {
    expect(maskPhonesInText(text)).toBe(masked);
    expect(maskIdentityInText(text)).toBe(masked);
    expect(findPhones(text)).toEqual(['13712345678']);
  });

  it.each([
    '2026/11/28',
    '2026／11／28',
    '2026/11/28 13:45开始排污',
    '11/28/2026',
    '13/11/2026',
    // Eleven digits starting 13, but a date and a number: no mobile has a group of two digits between slashes.
    '13/11/2026 143',
    '1/2',
    '1/3 1/4 1/5 1/6 1/7 1/8',
    '13/14/15/16/17/18',
    '138/139/150/186',
    '比例1/3，2026/11/28检测',
  ])('leaves dates and fractions alone: "%s"', (text) => {
    expect(maskPhonesInText(text)).toBe(text);
    expect(maskIdentityInText(text)).toBe(text);
    expect(findPhones(text)).toEqual([]);
  });
});
