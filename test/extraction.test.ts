import { describe, expect, it } from 'vitest';
import { loadDistrictFile } from '../src/district/district-file.js';
import { extractDetails, extractIncidentTime, extractPlaceDescription } from '../src/pipeline/extract-details.js';
import { anonymityAgreedInDialogue, confirmedPlace, nameGivenInDialogue } from '../src/hotline/hotline-intake.js';
import {
  asksAnonymity,
  extractJurisdiction,
  findPhones,
  jurisdictionFromText,
  maskIdentityInText,
  reportersNamedIn,
  maskPhone,
  maskPhonesInText,
} from '../src/pipeline/extract.js';
import { callerText, complaintText, isTranscript, operatorText, parseTranscript } from '../src/pipeline/transcript.js';
import { calendarFor } from '../src/pipeline/deadlines.js';
import { createRuleClassifier } from '../src/pipeline/rule-classifier.js';
import { ManualClock } from '../src/clock.js';
import { createLogger } from '../src/logger.js';
import { newId } from '../src/domain/ids.js';
import { newTrackingCode } from '../src/domain/tracking-code.js';
import { connectDatabase, migrateToLatest } from '../db/connect.js';
import { createTransactionBatcher } from '../db/tx-batcher.js';
import { findCase, insertCase } from '../db/repositories/cases.repository.js';
import { listEvents } from '../db/repositories/events.repository.js';
import { createIntakeProcessor } from '../queues/processors/intake.processor.js';

const district = loadDistrictFile();
const TZ = district.file.district.timezone;
const receivedAt = new Date('2026-11-28T10:00:00+08:00');
const local = (iso: string) => new Date(iso).toISOString();

describe('jurisdiction from the text', () => {
  it('knows all eight jurisdictions of the default district', () => {
    expect(district.file.jurisdictions.map((j) => j.code).sort()).toEqual(
      ['baxiandong', 'huifeng_forest', 'huilongxu', 'lijiatang', 'maludou', 'shenxiandong', 'xinglong', 'yongjiting'],
    );
  });

  const names = district.file.jurisdictions.flatMap((j) =>
    [...new Set([j.name.zh, ...j.aliases, ...j.places])].map((name) => [j.code, name] as const),
  );
  it.each(names)('finds %s from "%s"', (code, name) => {
    const m = jurisdictionFromText(district, `你好，我要举报${name}那边有人往沟里倒废渣`);
    expect(m).toMatchObject({ jurisdiction: code, source: 'text', matched: name });
  });

  it.each(['朱家观村', '回龙村', '盐下村', '八字桥社区', '回峰社区'])('reads the village or community %s as 回龙圩镇', (place) => {
    expect(extractDetails(district, `${place}后面有个养猪场粪水直排`, { location: null, receivedAt }).jurisdiction?.jurisdiction).toBe(
      'huilongxu',
    );
  });

  it('reads 回峰社区 as the town, not the forest farm, and 回峰林场 as the farm', () => {
    expect(jurisdictionFromText(district, '回峰社区门口')?.jurisdiction).toBe('huilongxu');
    expect(jurisdictionFromText(district, '回峰林场里面')?.jurisdiction).toBe('huifeng_forest');
  });

  const englishNames = district.file.jurisdictions.flatMap((j) => j.englishNames.map((name) => [j.code, name] as const));
  it('has English names for every jurisdiction', () => {
    expect(new Set(englishNames.map(([code]) => code))).toEqual(new Set(district.file.jurisdictions.map((j) => j.code)));
  });
  it.each(englishNames)('finds %s from the English "%s"', (code, name) => {
    const m = jurisdictionFromText(district, `Someone dumps waste near ${name} every night`);
    expect(m).toMatchObject({ jurisdiction: code, source: 'text', matched: name });
  });

  it('reads an English name in any case, with or without spaces or hyphens, and never inside a longer word', () => {
    expect(jurisdictionFromText(district, 'Xinglong subdistrict')).toMatchObject({ jurisdiction: 'xinglong', matched: 'Xinglong' });
    expect(jurisdictionFromText(district, 'a plant near huilong village')).toMatchObject({ jurisdiction: 'huilongxu', matched: 'huilong village' });
    expect(jurisdictionFromText(district, 'XING-LONG, Shen Xian Dong')).toMatchObject({ jurisdiction: 'xinglong', matched: 'XING-LONG' });
    expect(jurisdictionFromText(district, 'Huifeng Community gate')?.jurisdiction).toBe('huilongxu');
    expect(jurisdictionFromText(district, 'Huifeng forest farm')?.jurisdiction).toBe('huifeng_forest');
    // Names of the whole district pick none, as 回龙圩区 does; a name inside a longer word is no mention of it.
    expect(jurisdictionFromText(district, 'the Huilongxu District government should act')).toBeNull();
    expect(jurisdictionFromText(district, 'Xinglongfeng Chemicals dumps waste')).toBeNull();
    expect(jurisdictionFromText(district, 'Huilong is polluted')).toBeNull();
  });
});

describe('the place of a reporter who asked not to be named', () => {
  const text = '我是回龙村的村民黄志强，村里养猪场的粪水直接排到稻田里';
  it('keeps the name it holds masked as the words of any report are', () => {
    expect(extractDetails(district, text, { location: null, receivedAt }).place).toBe('回龙村的村民黄**');
  });

  it.each([
    ['the form', text, true],
    ['their words', `${text}，不要透露我的名字`, false],
  ])('keeps no surname in it when they asked by %s', (_by, words, anonymous) => {
    expect(extractDetails(district, words, { location: null, receivedAt, anonymous }).place).toBe('回龙村的村民**');
  });
});

describe('jurisdiction from a location', () => {
  const centre = (area: ReadonlyArray<readonly [number, number]>) => ({
    lat: area.reduce((s, [lat]) => s + lat, 0) / area.length,
    lng: area.reduce((s, [, lng]) => s + lng, 0) / area.length,
  });
  it.each(district.file.jurisdictions.map((j) => [j.code, j.area!] as const))('places a pin inside %s there', (code, area) => {
    const m = extractJurisdiction(district, '这里有人倒垃圾', centre(area));
    expect(m).toEqual({ jurisdiction: code, matched: 'location', source: 'location' });
  });

  it('lets the pin win over a name in the text', () => {
    const d = extractDetails(district, '兴隆那边', { location: { lat: 25.12, lng: 111.37 }, receivedAt });
    expect(d.jurisdiction).toMatchObject({ jurisdiction: 'yongjiting', source: 'location' });
  });
});

describe('anonymity requests', () => {
  it.each([
    '我要匿名举报',
    '不要透露我的名字',
    '请不要透露我的姓名',
    '不要透露我的身份',
    '别说是我举报的',
    '不要说是我打的电话',
    '麻烦替我保密',
    '我不想留名',
    '匿名举报，谢谢',
    '我就不留名字了',
    '别把我的电话给他们',
    '不要告诉他们是谁举报的',
    '千万别跟厂里说是我',
    '请不要向他们泄露我的姓名',
    '别让他们知道是我打的',
    '我不愿意透露姓名',
    '我不想透露我的名字',
    '你们别把我名字说出去',
    '别写我名字',
    '不要登记我的姓名',
    '这个事你们要保密啊',
    '麻烦保密',
    '能不能保密？',
    '我的信息要保密',
    '不要把我的名字告诉厂里',
    '千万别把我的电话给老板',
  ])('hears one in "%s"', (text) => {
    expect(asksAnonymity(district, text)).not.toBeNull();
  });

  // Every phrasing the district file lists, as the jurisdictions are tested name by name: in a report's
  // words and in a caller's line of a call transcript, wherever it stands in them.
  it.each(district.file.anonymity.phrases)('finds the district phrase "%s" in a report and in a caller\'s words', (phrase) => {
    for (const text of [phrase, `村口那家厂天天往河里排污水，${phrase}。`, `${phrase}，村口那家厂天天往河里排污水`]) {
      expect(extractDetails(district, text, { location: null, receivedAt }).anonymity.requested, text).toBe(true);
    }
    const call = ['坐席：您好，12345热线，请讲', `来电人：村口那家厂天天往河里排污水，${phrase}`].join('\n');
    const d = extractDetails(district, call, { location: null, receivedAt });
    expect(d.transcript).toBe(true);
    expect(d.anonymity.requested, call).toBe(true);
  });

  it('knows the district file\'s anonymity phrasings', () => {
    expect(district.file.anonymity.phrases.length).toBeGreaterThan(0);
  });

  it.each([
    '他们不告诉我排的是什么',
    '我不怕透露名字，我叫张三',
    '我不需要匿名，可以留电话',
    '厂里说排放数据是保密的',
    '别透露我们厂的事就行',
    '我们实名举报',
    '别告诉他们我家在哪就行',
    '不需要你们保密',
    '你们不用保密，我叫张三',
    '你们保密工作做得不好',
    '他们说要保密',
    '我叫张建国，不要把我的名字写错了',
    '别把我的电话号码记错了，是13812345678',
  ])('does not hear one in "%s"', (text) => {
    expect(asksAnonymity(district, text)).toBeNull();
  });
});

describe('phone numbers hidden from bureaus', () => {
  it.each([
    // Said in Chinese digits (幺 for 1, 〇 / 零 for 0), alone or mixed with Arabic digits, or typed full-width.
    ['手机号码是一三九一二三四零四零二', '手机号码是139****0402'],
    ['一五八七六五四三二一零', '158****3210'],
    ['幺三九幺二三四幺七零幺', '139****1701'],
    ['139一二三四五六七八', '139****5678'],
    ['电话是一三九〇二三四五六七八。', '电话是139****5678。'],
    ['电话１３９１２３４５６７８', '电话139****5678'],
    ['电话一三九一二三四零四零二一直打不通', '电话139****0402一直打不通'],
    // Grouped in any way, with spaces, dashes or dots.
    ['1391-234-1002', '139****1002'],
    ['13912 345678', '139****5678'],
    ['139 123 45678', '139****5678'],
    ['139.1234-5678', '139****5678'],
    ['+86 139-1234-5678', '139****5678'],
    // China's country code as dialled from abroad: not a landline 0086-1391 followed by digits left in clear.
    ['手机0086 139 1234 5678', '手机139****5678'],
    ['0086-13912345678，白天打', '139****5678，白天打'],
    ['微信vx13912345678', '微信vx139****5678'],
    // Landlines with the area code set off, and local numbers after a phone word.
    ['0731 8456 1101', '0731****1101'],
    ['(0731)84560801', '0731****0801'],
    ['（0731）8456-0801', '0731****0801'],
    ['家里电话84560501', '家里电话****0501'],
    // A landline with the country code, its area code without the 0, and a local number with its area code so.
    ['电话+86 746 1234567', '电话0746****4567'],
    ['+86-10-12345678，白天打', '010****5678，白天打'],
    ['0086 (731) 8888 6666', '0731****6666'],
    ['电话: 746-1234567', '电话: ****4567'],
    ['座机：8456 0501', '座机：****0501'],
    ['回电八四五六零五零一', '回电****0501'],
    // Read out in groups of three, four and four wherever it stands, and a landline said with its area code.
    ['你记一下，一三八，一二三四，五六七八。', '你记一下，138****5678。'],
    ['号码是138, 1234, 5678', '号码是138****5678'],
    ['座机零七四六 八二三四五六七', '座机0746****4567'],
    ['零七四六八二三四五六七', '0746****4567'],
    // Formal digits (壹叁陆…), one digit at a time with the same separator, and groups read out after a phone word.
    ['壹叁陆柒柒捌捌壹玖零壹', '136****1901'],
    ['1 3 6 7 7 8 8 2 0 0 1', '136****2001'],
    ['一 三 六 七 七 八 八 二 零 零 一', '136****2001'],
    ['电话一三六，七七八八，二五零一，白天打', '电话136****2501，白天打'],
    // With characters that show nothing between the digits (copied from a chat or a page): on screen, the whole number.
    ['我电话137\u200b1234\u200b5678', '我电话137****5678'],
    ['我电话137\u00ad1234\u00ad5678', '我电话137****5678'],
    ['1\u20603\u20607\u20601\u20602\u20603\u20604\u20605\u20606\u20607\u20608', '137****5678'],
    ['电话\u200e13712345678\u200f', '电话\u200e137****5678\u200f'],
  ])('masks "%s"', (text, masked) => {
    expect(maskIdentityInText(text)).toBe(masked);
    expect(maskPhonesInText(text)).toBe(masked);
  });

  it('reads the digits of every shape', () => {
    expect(findPhones('一三九一二三四零四零二，1391-234-1002，（0731）8456-0801，家里电话84560501')).toEqual([
      '13912340402',
      '13912341002',
      '073184560801',
      '84560501',
    ]);
    expect(maskPhone('84560501')).toBe('****0501');
    expect(maskPhone('010-12345678')).toBe('010****5678');
    expect(maskPhone('幺三九幺二三四幺七零幺')).toBe('139****1701');
  });

  it.each([
    '我们三五个人去看，一二百米外都闻得到，二〇二六年就开始排了',
    '一五一十地说，三四五六七八九个厂',
    '坐标25.1234567，111.3456789，罚款12345678元',
    '读数1.3 2.5 3.6 4.8 5.9 6',
    '{"id":"0193a8f2-1391-7234-8567-123456789abc","by":"0193a8f2-c139-7234-8567-123456789abc"}',
    '订单号 2026112812345678901',
    // Twelve single digits are no mobile, nor eleven with another digit before them.
    '1 3 6 7 7 8 8 2 0 0 1 2',
    '9 1 3 6 7 7 8 8 2 0 0 1',
    // Groups that are no 3-4-4 reading of a mobile.
    '编号一三五，二四六八，一三五七九',
    '一三八，一二三四',
  ])('leaves numbers that are no phone alone: "%s"', (text) => {
    expect(maskIdentityInText(text)).toBe(text);
    expect(findPhones(text)).toEqual([]);
  });

  it("keeps a unit's published number, which is nobody's identity, but not an officer's mobile", () => {
    for (const text of ['区环保局电话0746-1234567', '请拨打举报热线12369或12345', '回龙圩镇政府值班电话：(0746)5123456']) {
      expect(maskIdentityInText(text)).toBe(text);
      expect(findPhones(text)).toEqual([]);
    }
    expect(maskIdentityInText('环保局电话13912345678')).toBe('环保局电话139****5678');
    expect(findPhones('打了环保局电话0746-1234567没人接，我的电话0746-5123456')).toEqual(['07465123456']);
    expect(maskIdentityInText('住所电话0746-5123456')).toBe('住所电话0746****3456');
  });

  it.each([
    '区环保局执法大队办公室电话0746-3822369',
    '镇政府值班室电话0746-3881234',
    '林场办公室0746-3889001',
    '派出所报警电话0746-3881110',
    '区环保局王科长电话0746-3881111',
    '卫生院电话0746-3881112',
  ])("keeps the published landline of an office, a duty room, a police station, a clinic or an officer: \"%s\"", (text) => {
    expect(maskIdentityInText(text)).toBe(text);
    expect(findPhones(text)).toEqual([]);
  });

  it("masks the reporter's own number from the contact fields however the words give it, a unit's word before it or not", () => {
    const known = ['周老师', '0731-88886666', '+86 138 0000 2222'];
    for (const [text, masked] of [
      ['学校电话0731-88886666', '学校电话0731****6666'],
      ['镇政府办公室电话（0731）8888 6666', '镇政府办公室电话（0731）****6666'],
      ['家里88886666，白天不在', '家里****6666，白天不在'],
      ['手机 138 - 0000 - 2222', '手机 138****2222'],
      ['手机138/0000/2222', '手机138****2222'],
      ['一三八零零零零二二二二', '138****2222'],
    ] as const) expect(maskIdentityInText(text, known), text).toBe(masked);
    // Another unit's number, and digits that only contain the reporter's, stay.
    expect(maskIdentityInText('学校电话0731-77776666', known)).toBe('学校电话0731-77776666');
    expect(maskIdentityInText('罚款1888866660元', known)).toBe('罚款1888866660元');
  });

  it("still masks an officer's mobile and the landline of someone's own room", () => {
    expect(maskIdentityInText('区环保局王科长电话13912345678')).toBe('区环保局王科长电话139****5678');
    expect(maskIdentityInText('寝室电话0746-3881112')).toBe('寝室电话0746****1112');
  });

  it.each([
    ['我是李科长，已派人核查。', '我是李**，已派人核查。'],
    ['联系人：王主任', '联系人：王**'],
    ['本人欧阳副局长已到现场', '本人欧***长已到现场'],
  ])("keeps an official named by surname and title in what staff write, not in a reporter's words: \"%s\"", (text, reporterSays) => {
    expect(maskIdentityInText(text, [], { officials: true })).toBe(text);
    expect(maskIdentityInText(text)).toBe(reporterSays);
  });

  it("still masks the reporter's name in what staff write", () => {
    expect(maskIdentityInText('举报人张三反映的问题已核实，我是王队长。联系人：赵敏', [], { officials: true })).toBe('举报人张*反映的问题已核实，我是王队长。联系人：赵*');
    expect(maskIdentityInText('已回访李科长本人', ['李科长'], { officials: true })).toBe('已回访李**本人');
  });
});

describe('ID card numbers and accounts hidden from bureaus', () => {
  it.each([
    // The birth date of an 18-character number (the last may be X) or of the old 15-digit one.
    ['身份证号430621198001011234', '身份证号430621********1234'],
    ['身份证43062119800101123X，电话13912345678', '身份证430621********123X，电话139****5678'],
    ['身份证430621800101123', '身份证430621******123'],
    // The account after QQ or 微信.
    ['加我QQ 375620188', '加我QQ *********'],
    ['微信号：wx_li88', '微信号：*******'],
    ['微信wxid_li8', '微信********'],
    ['WeChat: li_ming88', 'WeChat: *********'],
    // An e-mail address, its first character and its domain left.
    ['邮箱375620188@qq.com的回复', '邮箱3********@qq.com的回复'],
    ['有事发邮件 wang.xm+env@163.com 或打电话', '有事发邮件 w**********@163.com 或打电话'],
  ])('masks "%s"', (text, masked) => {
    expect(maskIdentityInText(text)).toBe(masked);
  });

  it.each([
    '编号430621991399011234',
    '订单号 2026112812345678901',
    // A word that merely begins with the label: a tracking code, a payment service.
    '与案件 QQQD4EUTWE 合并办理，请以该编号查询进展',
    '已通过WeChatPay缴纳罚款',
  ])('leaves "%s" alone', (text) => {
    expect(maskIdentityInText(text)).toBe(text);
  });
});

describe('reporter names hidden from bureaus', () => {
  it('masks a known reporter addressed by surname and a courtesy title, and no official', () => {
    const staff = (text: string, names: string[]) => maskIdentityInText(text, names, { officials: true });
    expect(staff('已回访欧阳先生，欧阳娜娜表示满意', ['欧阳娜娜'])).toBe('已回访**先生，欧***表示满意');
    expect(staff('王阿姨您好，已责令整改。联系人：王科长', ['王秀英'])).toBe('*阿姨您好，已责令整改。联系人：王科长');
    // A surname alone names nobody: only a known reporter's is masked.
    expect(staff('已回访李先生', ['王秀英'])).toBe('已回访李先生');
    expect(staff('已回访李先生', [])).toBe('已回访李先生');
  });

  it('masks the surname of a reporter or caller staff name by a courtesy title, as the public page does, and not the one reported', () => {
    const staff = (text: string) => maskIdentityInText(text, [], { officials: true });
    expect(staff('已电话联系举报人李女士核实')).toBe('已电话联系举报人*女士核实');
    // Its other mentions too, and a two-character surname whole.
    expect(staff('来电人王先生反映厂里偷排，已回访王先生')).toBe('来电人*先生反映厂里偷排，已回访*先生');
    expect(staff('投诉人欧阳先生反映厂里偷排')).toBe('投诉人**先生反映厂里偷排');
    expect(staff('市民欧阳先生，欧阳先生家在旁边')).toBe('市民**先生，**先生家在旁边');
    expect(staff('市民李阿姨来电')).toBe('市民*阿姨来电');
    // The one reported, anyone else addressed by a courtesy title, an official by title.
    for (const kept of ['被举报人王先生拒不整改', '已联系王先生核实', '举报人反映王先生的厂偷排', '经与举报人核实，王老板已停产', '来电人反映王科长不作为']) {
      expect(staff(kept), kept).toBe(kept);
    }
  });

  it('masks a reporter staff name as whose report it was, who reported or called, or who was called back, though no name was kept', () => {
    const staff = (text: string) => maskIdentityInText(text, [], { officials: true });
    for (const [text, masked] of [
      // A dispatcher's merge reason, and the other mentions of the name it gives.
      ['与王小明的举报重复', '与王**的举报重复'],
      ['与王小明的举报重复，已联系王小明', '与王**的举报重复，已联系王**'],
      ['重复举报：上官短语反映的是同一家工厂', '重复举报：上***反映的是同一家工厂'],
      ['接到王小明的举报后，立即出动', '接到王**的举报后，立即出动'],
      ['王小明的投诉与本件重复', '王**的投诉与本件重复'],
      // Several reporters before their reports: each of them.
      ['与王小明、李四的举报重复', '与王**、李*的举报重复'],
      ['与王小明和李四的举报重复', '与王**和李*的举报重复'],
      ['接到王小明、张伟、赵丽的投诉', '接到王**、张*、赵*的投诉'],
      ['与王科长、李四的举报重复', '与王科长、李*的举报重复'],
      // A bureau's reply or progress note.
      ['据王小明反映，厂里晚上偷排', '据王**反映，厂里晚上偷排'],
      ['王小明来电称厂里又排了', '王**来电称厂里又排了'],
      ['经查，王小明举报的工厂确有偷排', '经查，王**举报的工厂确有偷排'],
      ['被王小明举报的工厂已停产', '被王**举报的工厂已停产'],
      ['对王小明反映的问题，我局高度重视', '对王**反映的问题，我局高度重视'],
      ['已回访王小明，表示满意', '已回访王**，表示满意'],
      ['电话回访了王伟，王伟对处理结果满意', '电话回访了王*，王*对处理结果满意'],
      // With a surname and a courtesy title: the surname.
      ['与李女士的举报重复', '与*女士的举报重复'],
      ['王先生反映的问题已处理，已告知王先生', '*先生反映的问题已处理，已告知*先生'],
      ['据李女士反映，厂里晚上偷排', '据*女士反映，厂里晚上偷排'],
      // Surnames that are also prepositions, where they are no preposition.
      ['据于明反映，厂里晚上偷排', '据于*反映，厂里晚上偷排'],
      ['与向东的举报重复', '与向*的举报重复'],
      ['举报人于明再次来电', '举报人于*再次来电'],
      ['已回访向阳，表示满意', '已回访向*，表示满意'],
    ]) {
      expect(staff(text!), text).toBe(masked);
      // A merge's reason in an event's data is masked without the officials' exception: the same.
      expect(maskIdentityInText(text!), text).toBe(masked);
    }
  });

  it('finds the names staff give as a reporter\'s or a caller\'s, to mask on the rest of the case, and no official, place or one reported', () => {
    expect(reportersNamedIn('与王小明的举报重复；经与来电人张伟沟通；已回访欧阳娜娜。联系人：李科长')).toEqual(['张伟', '王小明', '欧阳娜娜']);
    expect(reportersNamedIn('举报人王科长、对李四的举报、被举报人赵六反映的、王家村反映的、已回访李先生')).toEqual([]);
    // Those a report is about, listed: 对张三、李四的举报; places listed before a report; names of what someone owns.
    expect(reportersNamedIn('对张三、李四的举报已查实；与石门村、李家湾的举报重复；经查，王小明、李四的工厂都在排污')).toEqual([]);
  });

  it.each([
    // The one reported, whom the bureau must know.
    '对王小明的举报已核实',
    '举报王小明私自排污',
    '被举报人王小明反映的情况不属实',
    '关于王小明的投诉已办结',
    '针对王小明的举报，已立案',
    '对张三和王小明的举报已核实',
    '与王小明的举报人联系',
    '与王小明的投诉对象核实',
    // Officials by title, places, units and businesses.
    '王科长反映的问题已处理',
    '李所长来电称已处理',
    '王总来电',
    '张医生反映的情况',
    '王家村反映的问题已处理',
    '据安监站反映，已处罚',
    '金龙公司反映的问题',
    // Words around a name that are no name: 向我局, 于今日, a procedure, what reporters are.
    '，向我局反映的问题已处理',
    '，于今日来电',
    '举报人于上午来电',
    '举报人于十二月再次来电',
    '举报人向环保局反映过',
    '举报人向有关部门反映',
    '，向上级反映的问题已处理',
    '回访程序规范',
    '据周边居民反映，该厂夜间偷排',
    '，居民反映的问题已处理',
    '据了解，该厂已停产',
    '与该企业的投诉一致',
    '与黄某的举报重复',
    // Someone named without saying they reported, and a surname alone after 回访.
    '已联系王小明核实',
    '请向王科长反映',
    '已回访李先生',
  ])('leaves "%s" to the bureau as staff wrote it', (text) => {
    expect(maskIdentityInText(text, [], { officials: true })).toBe(text);
  });

  it('masks the given name alone where a reply greets the reporter by it, and nowhere else', () => {
    expect(maskIdentityInText('小明您好，经查属实', ['王小明'], { officials: true })).toBe('**您好，经查属实');
    expect(maskIdentityInText('德华同志：你好', ['刘德华'], { officials: true })).toBe('**同志：你好');
    expect(maskIdentityInText('我叫欧阳娜娜。娜娜，你好', [])).toBe('我叫欧***。**，你好');
    // A reply written as a letter: the salutation with its colon, after 尊敬的 / 亲爱的.
    expect(maskIdentityInText('小明：您好！您反映的问题已处理。', ['王小明'], { officials: true })).toBe('**：您好！您反映的问题已处理。');
    expect(maskIdentityInText('尊敬的小明同志：您好！', ['王小明'], { officials: true })).toBe('尊敬的**同志：您好！');
    expect(maskIdentityInText('亲爱的建国：你好', ['王建国'], { officials: true })).toBe('亲爱的**：你好');
    // Greeted by surname with 老 / 小 (阿): the reporter's surname, from the contact fields or the text's own 我叫….
    expect(maskIdentityInText('老陈您好，您反映的问题已处理。', ['陈建华'], { officials: true })).toBe('老*您好，您反映的问题已处理。');
    expect(maskIdentityInText('小陈你好，经查属实', ['陈建华'], { officials: true })).toBe('小*你好，经查属实');
    expect(maskIdentityInText('老陈同志：您好！', ['陈建华'], { officials: true })).toBe('老*同志：您好！');
    expect(maskIdentityInText('老陈，你好。阿陈：您好', ['陈建华'], { officials: true })).toBe('老*，你好。阿*：您好');
    expect(maskIdentityInText('尊敬的老欧阳同志：您好', ['欧阳娜娜'], { officials: true })).toBe('尊敬的老**同志：您好');
    expect(maskIdentityInText('我叫陈建华，厂里夜里偷排。老陈您好', [])).toBe('我叫陈**，厂里夜里偷排。老*您好');
    // Someone else's surname, and words that only begin with 老 / 小 and the reporter's surname, stay.
    expect(maskIdentityInText('老王您好，小李同志已到场', ['陈建华'], { officials: true })).toBe('老王您好，小李同志已到场');
    expect(maskIdentityInText('老师您好，已处理', ['师建国'], { officials: true })).toBe('老师您好，已处理');
    expect(maskIdentityInText('整改需要两小时，你好好看看', ['时小燕'], { officials: true })).toBe('整改需要两小时，你好好看看');
    expect(maskIdentityInText('老陈醋厂已停产', ['陈建华'], { officials: true })).toBe('老陈醋厂已停产');
    // Words that only share the characters stay.
    expect(maskIdentityInText('建国以来，该厂一直排污', ['王建国'], { officials: true })).toBe('建国以来，该厂一直排污');
  });

  it.each([
    ['我是张建国，厂子天天偷排', '我是**，厂子天天偷排'],
    ['我叫李梅，李梅家就在厂子旁边', '我叫**，**家就在厂子旁边'],
    ['我是司马光明，住在回龙村', '我是**，住在回龙村'],
    ['我姓张，叫张卫东', '我姓**，叫**'],
    ['我姓侯，侯宝林的侯，叫侯志刚', '我姓**，**宝林的**，叫**'],
    ['免贵姓欧阳，厂子在村口', '免贵姓**，厂子在村口'],
    ['我老公叫罗大勇，罗先生也闻到了', '我老公叫**，**先生也闻到了'],
    ['I am Wang Wei and I live nearby', 'I am ** and I live nearby'],
  ])('masks "%s" of a reporter who asked not to be named without the surname', (text, shown) => {
    expect(maskIdentityInText(text, [], { anonymous: true })).toBe(shown);
  });

  it('masks without the surname the name an anonymous reporter sent and a reply that names them', () => {
    expect(maskIdentityInText('鱼塘是我钟国良承包的，钟国良', ['钟国良'], { anonymous: true })).toBe('鱼塘是我**承包的，**');
    expect(maskIdentityInText('已回访钟先生，钟国良表示满意。老钟您好', ['钟国良'], { officials: true, anonymous: true })).toBe('已回访**先生，**表示满意。老**您好');
    // The one reported stays named: the bureau must know who.
    expect(maskIdentityInText('我叫李梅，被举报人王小明天天偷排', [], { anonymous: true })).toBe('我叫**，被举报人王小明天天偷排');
  });

  it.each([
    ['张建国您好，经查该厂已停产。请张建国继续监督。', '张**您好，经查该厂已停产。请张**继续监督。', '**您好，经查该厂已停产。请**继续监督。'],
    ['回复张建国：您反映的问题已处理。', '回复张**：您反映的问题已处理。', '回复**：您反映的问题已处理。'],
    ['尊敬的张建国同志：您反映的问题已办结。', '尊敬的张**同志：您反映的问题已办结。', '尊敬的**同志：您反映的问题已办结。'],
    ['答复张建国同志，经查属实', '答复张**同志，经查属实', '答复**同志，经查属实'],
    ['张先生您好，已联系张先生核实。', '*先生您好，已联系*先生核实。', '**先生您好，已联系**先生核实。'],
    ['老张您好，已处理。', '老*您好，已处理。', '老**您好，已处理。'],
  ])('masks in what staff write the one a reply greets or answers, no name of whom was kept: "%s"', (text, shown, anonymous) => {
    expect(maskIdentityInText(text, [], { officials: true })).toBe(shown);
    expect(maskIdentityInText(text, [], { officials: true, anonymous: true })).toBe(anonymous);
  });

  it.each([
    ['已电话联系邝建国核实', '已电话联系**核实'],
    ['联系了王小明了解情况，王小明表示满意', '联系了**了解情况，**表示满意'],
    ['致电王小明告知处理结果', '致电**告知处理结果'],
  ])('masks in what staff write on an anonymous report the one they contacted to check with: "%s"', (text, anonymous) => {
    expect(maskIdentityInText(text, [], { officials: true, anonymous: true })).toBe(anonymous);
    // On a report whose reporter's name is known, it may be anyone staff name for the bureau to reach.
    expect(maskIdentityInText(text, [], { officials: true })).toBe(text);
  });

  it.each(['联系李科长核实', '已联系电镀厂负责人核实', '联系环保局核实', '联系村委会核实', '联系当事人核实', '联系盐下村核实', '联系石门镇政府核实', '询问附近村民了解', '联系养殖户说明'])(
    'leaves "%s", which contacts an official, a business, a unit, a place or a group, unmasked',
    (text) => {
      expect(maskIdentityInText(text, [], { officials: true, anonymous: true })).toBe(text);
    },
  );

  it('finds the name a reply greets as a reporter\'s, so that other texts of the case mask it', () => {
    expect(reportersNamedIn('张建国您好，经查该厂已停产。')).toEqual(['张建国']);
    expect(reportersNamedIn('回复张建国：经查属实')).toEqual(['张建国']);
  });

  it.each(['李科长您好，已处理', '王书记您好', '老师您好，已处理', '各位村民你好', '刘老板您好，请整改'])('greets "%s" without masking an official, a trade or a group', (text) => {
    expect(maskIdentityInText(text, [], { officials: true, anonymous: true })).toBe(text);
    expect(reportersNamedIn(text)).toEqual([]);
  });

  it("leaves a greeting in a reporter's own words to the bureau (刘德华您好 may greet anyone)", () => {
    expect(maskIdentityInText('张建国您好，我要举报电镀厂偷排')).toBe('张建国您好，我要举报电镀厂偷排');
  });

  it.each([
    ['我是王建岗，厂子偷排', '我是王**，厂子偷排'],
    ['举报人王建岗', '举报人王**'],
    ['王建岗反映的问题已处理', '王**反映的问题已处理'],
    ['我是李庄，住在村口', '我是李*，住在村口'],
    // Places: after 家 (马家庄, 张家界), or said to be one (李庄的).
    ['我是张家界，来这里打工', '我是张家界，来这里打工'],
    ['我是马家庄的', '我是马家庄的'],
    ['我是李庄的', '我是李庄的'],
    ['我是张家辉，厂子偷排', '我是张**，厂子偷排'],
  ])('reads a name ending as a place does by what is around it: "%s"', (text, shown) => {
    expect(maskIdentityInText(text, [], { officials: true })).toBe(shown);
  });

  it.each([
    ['I am zhang wei and I live nearby', 'I am z**** w** and I live nearby'],
    ['my name is zhang wei', 'my name is z**** w**'],
    ['My name is ZHANG Wei, the plant smells', 'My name is Z**** W**, the plant smells'],
    ["My name's Liu Xiaoming", "My name's L** X*******"],
    ["I'm ZhangWei from Yanxia village", "I'm Z******* from Yanxia village"],
    ['I am Mr. Zhang, I live by the river', 'I am Mr. Z****, I live by the river'],
    ['我是Zhang Wei，厂子偷排', '我是Z**** W**，厂子偷排'],
    ['我叫zhang wei，厂子偷排', '我叫z**** w**，厂子偷排'],
    ['I, Zhang Wei, report that the plant dumps oil', 'I, Z**** W**, report that the plant dumps oil'],
    ['The plant dumps oil at night. Regards, Zhang Wei', 'The plant dumps oil at night. Regards, Z**** W**'],
    ['Reporter: Li Ming. Li Ming saw it too', 'Reporter: L* M***. L* M*** saw it too'],
    ['Contact: Zhang Wei (张伟)', 'Contact: Z**** W** (张*)'],
  ])('masks the name in pinyin in "%s"', (text, shown) => {
    expect(maskIdentityInText(text)).toBe(shown);
  });

  it.each(['I am living near the plant', 'I am sure it is the plant', 'This is huge', 'I am here every night', 'I am an engineer', 'This is Yanxia Village', 'Company Name: Hongda Chemical'])(
    'leaves "%s" alone: no name in pinyin',
    (text) => {
      expect(maskIdentityInText(text)).toBe(text);
    },
  );

  it('masks a known name written with spaces between its characters, as it is without', () => {
    for (const written of ['欧阳娜娜', '欧阳 娜娜', '欧 阳 娜 娜', '欧阳\u3000娜娜']) expect(maskIdentityInText(`已回访${written}，${written}说厂子停了`, ['欧阳娜娜']), written).not.toMatch(/娜/);
    // Not a name that only shares the characters with others between.
    expect(maskIdentityInText('王家五金店', ['王五'])).toBe('王家五金店');
  });


  it.each([
    ['举报人刘德明反映厂子偷排', '举报人刘**反映厂子偷排'],
    ['我是村民南宫明，厂子天天排黑水', '我是村民南**，厂子天天排黑水'],
    ['我是盐下村村民王小明', '我是盐下村村民王**'],
    ['我系盐下村村民王小明，反映河水发黑', '我系盐下村村民王**，反映河水发黑'],
    ['本人系回龙村的刘建国，厂子就在村口', '本人系回龙村的刘**，厂子就在村口'],
    ['来信人：刘德华', '来信人：刘**'],
    ['写信人王小明', '写信人王**'],
    ['你好，我这边是王小明，住在回龙村', '你好，我这边是王**，住在回龙村'],
    ['我这里是回龙村的王小明', '我这里是回龙村的王**'],
    ['我王小明，家住盐下村', '我王**，家住盐下村'],
    ['联系方式：王小明 13812345678', '联系方式：王** 138****5678'],
    ['【姓名】王小明【电话】13812345678', '【姓名】王**【电话】138****5678'],
    ['回龙村村民王小明（本人）', '回龙村村民王**（本人）'],
    ['我的名字叫做王小明', '我的名字叫做王**'],
    ['我是回龙村五保户王小明', '我是回龙村五保户王**'],
    ['我是个体户王小明，反映…', '我是个体户王**，反映…'],
    ['小女子王小红，家住回龙村', '小女子王**，家住回龙村'],
    ['在下王小明', '在下王**'],
    ['王小明，就是我', '王**，就是我'],
    ['刘德华举报盐下村电镀厂偷排废水', '刘**举报盐下村电镀厂偷排废水'],
    ['厂子偷排。王小明反映，这几天更严重', '厂子偷排。王**反映，这几天更严重'],
    ['王小明是我的名字。', '王**是我的名字。'],
    ['我是回龙村三组王小明，厂子在村口', '我是回龙村三组王**，厂子在村口'],
    ['我叫Mary Zhang，住在河边', '我叫M*** Z****，住在河边'],
    ['我们是盐下村村民刘德华、张学友等，联名举报。', '我们是盐下村村民刘**、张**等，联名举报。'],
    ['我们盐下村村民王小明和李四联名举报', '我们盐下村村民王**和李*联名举报'],
    ['我们是业主王小明及欧阳娜娜', '我们是业主王**及欧***'],
    ['你好我是王小明啊，厂子又排了', '你好我是王**啊，厂子又排了'],
    ['王小明实名举报盐下村电镀厂偷排', '王**实名举报盐下村电镀厂偷排'],
    ['盐下村电镀厂偷排，我王小明实名举报', '盐下村电镀厂偷排，我王**实名举报'],
    ['我欧阳娜娜实名反映', '我欧***实名反映'],
    ['署名王小明', '署名王**'],
    ['举报人：吴桂芳', '举报人：吴**'],
    ['姓名：周美玲，电话13912345678', '姓名：周**，电话139****5678'],
    ['名字叫秦大山，住回龙村', '名字叫秦**，住回龙村'],
    ['我姓张，叫张卫东', '我姓张，叫张**'],
    ['我姓李，名伟，住在厂子旁边', '我姓李，名*，住在厂子旁边'],
    ['我姓欧阳，叫欧阳娜娜', '我姓欧阳，叫欧***'],
    ['我的名字是欧阳娜娜', '我的名字是欧***'],
    ['我是欧阳娜娜，厂子就在我家后面', '我是欧***，厂子就在我家后面'],
    ['我是褚英', '我是褚*'],
    ['我是回龙村的刘建国，厂子就在村口', '我是回龙村的刘**，厂子就在村口'],
    // Speech-recognition text, without punctuation: the name ends where the speaker's next clause begins.
    ['喂你好我是回龙村的刘建国我要举报村后面的养猪场', '喂你好我是回龙村的刘**我要举报村后面的养猪场'],
    ['我叫刘建国我家住在回龙村', '我叫刘**我家住在回龙村'],
    ['我叫刘建国电话13912345678', '我叫刘**电话139****5678'],
    ['你好我是刘建国想反映个事', '你好我是刘**想反映个事'],
    ['我是靳大伟，我是邝小明。', '我是靳**，我是邝**。'],
    ['我是司马光明，我是诸葛亮，我是上官云。', '我是司***，我是诸**，我是上**。'],
    ['My name is John Doe, the plant dumps oil.', 'My name is J*** D**, the plant dumps oil.'],
    ['I am Wang Wei and I live nearby', 'I am W*** W** and I live nearby'],
    ["I'm Li Ming.", "I'm L* M***."],
    ['市民张三反映厂子偷排', '市民张*反映厂子偷排'],
    // Once a rule finds a name, every other mention of it is masked too.
    ['市民朱立新（电话13912345678）反映厂子偷排，朱立新要求尽快处理', '市民朱**（电话139****5678）反映厂子偷排，朱**要求尽快处理'],
    ['我叫张伟。张伟家就在厂子旁边', '我叫张*。张*家就在厂子旁边'],
    // A name set off by commas after 我, and the ways a letter is signed.
    ['我，黎秀英，住在厂子旁边', '我，黎**，住在厂子旁边'],
    ['厂子天天排黑水。我，黎秀英，住在旁边', '厂子天天排黑水。我，黎**，住在旁边'],
    ['签名：何春花', '签名：何**'],
    ['落款人：曾庆丰', '落款人：曾**'],
    ['落款：曾庆丰', '落款：曾**'],
    ['实名举报：龚德胜', '实名举报：龚**'],
    ['实名举报人龚德胜', '实名举报人龚**'],
    ['举报群众：文建新', '举报群众：文**'],
    // 俺 and 鄙人 say 我 too; 姓X名Y, 免贵姓X and a surname spelled out.
    ['俺是盐下村的，叫唐德旺', '俺是盐下村的，叫唐**'],
    ['俺叫唐德旺', '俺叫唐**'],
    ['鄙人姓蒋名卫平', '鄙人姓蒋名**'],
    ['免贵姓魏，魏东', '免贵姓魏，魏*'],
    ['免贵姓魏，叫魏东', '免贵姓魏，叫魏*'],
    ['我姓侯，侯宝林的侯，叫侯志刚', '我姓侯，侯宝林的侯，叫侯**'],
    // English introductions, and the Chinese name in brackets after one.
    ['This is Lucy Chen', 'This is L*** C***'],
    ['Name: Zhou Min', 'Name: Z*** M**'],
    ['Hi, I am Wang Wei (王伟)', 'Hi, I am W*** W** (王*)'],
    // The reporter's family.
    ['我老公叫罗大勇', '我老公叫罗**'],
    ['我儿子叫莫小军，莫小军也闻到了', '我儿子叫莫**，莫**也闻到了'],
    ['我的爱人名叫何春花', '我的爱人名叫何**'],
    ['我儿子王小二在厂里上班，亲眼看到的', '我儿子王**在厂里上班，亲眼看到的'],
    ['我老公李大勇说晚上气味最大', '我老公李**说晚上气味最大'],
    ['我爸王小明看到他们半夜倒渣', '我爸王**看到他们半夜倒渣'],
    ['我妈叫刘桂兰，刘桂兰也闻到了', '我妈叫刘**，刘**也闻到了'],
    ['我姐姐周丽华在厂里上班，亲眼看到的', '我姐姐周**在厂里上班，亲眼看到的'],
    // The one whose family the reporter says they are, and the other mentions of that name.
    ['我是王小明的老婆，厂子天天排黑水', '我是王**的老婆，厂子天天排黑水'],
    ['我是王小明的儿子', '我是王**的儿子'],
    ['我是王伟的儿子，王伟在厂里上班', '我是王*的儿子，王*在厂里上班'],
    ['本人是王小明他爸', '本人是王**他爸'],
    ['俺是欧阳娜娜的妈妈，俺想反映', '俺是欧***的妈妈，俺想反映'],
    ['我是王小明的家属', '我是王**的家属'],
    // A two-character name before 在 / 说 and a place: the place is where they are, not the name's end.
    ['我姐姐周丽在厂里上班，亲眼看到的', '我姐姐周*在厂里上班，亲眼看到的'],
    ['我爸张伟说厂里天天晚上排', '我爸张*说厂里天天晚上排'],
    ['我妹妹王芳在店里闻到了', '我妹妹王*在店里闻到了'],
    ['我老公李强在村里看到的', '我老公李*在村里看到的'],
    ['举报人王强在厂里上班', '举报人王*在厂里上班'],
    // A name the writer marks as their own, and its other mentions (a bureau's reply).
    ['杨晓峰（本人）反映：厂里偷排。已向杨晓峰本人反馈', '杨**（本人）反映：厂里偷排。已向杨**本人反馈'],
    ['杨晓峰（举报人）：厂里偷排', '杨**（举报人）：厂里偷排'],
    ['情况如下，杨晓峰(本人)住盐下村', '情况如下，杨**(本人)住盐下村'],
    // 再 does not end a name: 魏东, then 再次.
    ['来电人魏东再次来电', '来电人魏*再次来电'],
    // Nor the verbs staff write after the one they spoke to; a third character of the name is kept in the name.
    ['经与来电人张伟沟通，已处理', '经与来电人张*沟通，已处理'],
    ['已与举报人王芳核实，情况属实', '已与举报人王*核实，情况属实'],
    ['与投诉人李强协商一致', '与投诉人李*协商一致'],
    ['来电人赵军见面后表示满意', '来电人赵*见面后表示满意'],
    ['举报人周敏现场指认排污口', '举报人周*现场指认排污口'],
    ['来电人张伟满意', '来电人张*满意'],
    ['经与来电人刘德明沟通，已处理', '经与来电人刘**沟通，已处理'],
    ['举报人王小通反映厂子偷排', '举报人王**反映厂子偷排'],
    // 姓名, a space and a name, as a form is filled in.
    ['姓名 王小明，电话13912345678', '姓名 王**，电话139****5678'],
    ['姓名\u3000欧阳娜娜', '姓名\u3000欧***'],
    ['姓名\t王小明\n地址 盐下村', '姓名\t王**\n地址 盐下村'],
    // 姓名 alone on its line and the name on the next, as a form is copied out.
    ['姓名\n王小明\n电话：13912345678', '姓名\n王**\n电话：139****5678'],
    ['姓名：\n王小明\n电话：13912345678', '姓名：\n王**\n电话：139****5678'],
    ['  姓名\r\n\r\n欧阳娜娜\r\n住址：盐下村', '  姓名\r\n\r\n欧***\r\n住址：盐下村'],
    ['厂子天天排黑水。\n姓名 \n王 小明', '厂子天天排黑水。\n姓名 \n王**'],
    // A surname and a courtesy title marked as the reporter's, and the other mentions of it.
    ['王先生（举报人）反映厂里偷排，王先生家就在旁边', '*先生（举报人）反映厂里偷排，*先生家就在旁边'],
    ['李女士(本人)反映', '*女士(本人)反映'],
    ['已回访欧阳先生（举报人）', '已回访**先生（举报人）'],
    // How a letter is signed at its end.
    ['厂子天天排黑水。此致 敬礼 王小明', '厂子天天排黑水。此致 敬礼 王**'],
    ['厂子天天排黑水。此致敬礼！王小明', '厂子天天排黑水。此致敬礼！王**'],
    ['请尽快处理。\n此致\n敬礼！\n\n          王小明\n          2026年11月3日', '请尽快处理。\n此致\n敬礼！\n\n          王**\n          2026年11月3日'],
    ['厂子天天排黑水。——王小明', '厂子天天排黑水。——王**'],
    ['厂子天天排黑水。—— 王小明 2026年11月3日', '厂子天天排黑水。—— 王** 2026年11月3日'],
    ['王小明，厂子天天排黑水。\n——\n王小明\n', '王**，厂子天天排黑水。\n——\n王**\n'],
    ['厂子天天排黑水。——唐德旺敬上', '厂子天天排黑水。——唐**敬上'],
    // A dash inside a sentence before a name and a date that ends the line; a dash after a sentence or a closing
    // word before a name and the signer's address or phone.
    ['厂子天天排黑水，请处理——王小明 2026年5月3日', '厂子天天排黑水，请处理——王** 2026年5月3日'],
    ['厂子天天排黑水，请处理——王小明 2026年5月3日\n附照片三张', '厂子天天排黑水，请处理——王** 2026年5月3日\n附照片三张'],
    ['厂子天天排黑水。——王小明，住3号楼', '厂子天天排黑水。——王**，住3号楼'],
    ['厂子天天排黑水。\n——王小明，住3号楼，电话13912345678', '厂子天天排黑水。\n——王**，住3号楼，电话139****5678'],
    ['请尽快处理——王小明，电话13912345678', '请尽快处理——王**，电话139****5678'],
    // 此致 without 敬礼, as some sign.
    ['厂子天天排黑水，请尽快处理。此致\n王小明', '厂子天天排黑水，请尽快处理。此致\n王**'],
    ['请尽快处理。此致\n\n王小明\n2026年5月3日', '请尽快处理。此致\n\n王**\n2026年5月3日'],
    ['请尽快处理。此致 王小明', '请尽快处理。此致 王**'],
    // A space inside the name after 我叫 / 姓名：, and the name's other mentions without it.
    ['我叫王 小明，王小明家就在厂边', '我叫王**，王**家就在厂边'],
    ['我叫王\u3000小明', '我叫王**'],
    ['姓名：王 小明', '姓名：王**'],
  ])('masks "%s"', (text, masked) => {
    expect(maskIdentityInText(text)).toBe(masked);
  });

  it.each([
    // A place after 我是 is where someone is from.
    '我是石门村，厂子就在村口',
    '我是马家桥',
    '我是高家坪，',
    '我是盐下村人',
    '我是马家桥人，',
    // Words after 举报人 / 市民 / 姓名 that are not a name.
    '举报人反映厂子偷排',
    '举报人称晚上排得最多',
    '举报人于昨日再次来电',
    '市民高度关注',
    '请不要透露我的姓名和电话',
    '姓名保密',
    // Someone else's name, or a plant's.
    '他的名字叫王五',
    '厂子名字叫宏达化工',
    'I am Not happy with the smell',
    // Transcript labels are no names.
    '来电人：李家塘那边有个厂子排黑水',
    '来电人：我要举报',
    // What people are, not who.
    '我是车主，',
    '我是常客，',
    '我是管理员，',
    // The one reported, whom the bureau must know: a household owner or a villager named.
    '户主刘初志私建房屋，拆了小区围墙',
    '户主：刘初志，违建五层',
    '村民周建香在水埗头办猪场',
    // A table header, and words after 市民 that start with a surname.
    '序号姓名年龄职业',
    '提供市民付费使用',
    '告知市民何种平台',
    // The one reported, after 被…人, and the contact of a plant.
    '被举报人：刘长贵',
    '被投诉人刘长贵',
    '被反映人：刘长贵',
    '我是被举报人黄金山的邻居',
    '该厂联系人：黄金山',
    '厂里的联系人是黄金山',
    '公司联系人：黄金山',
    // 名字叫 after a comma or a word names someone or something else.
    '那个老板，名字叫黄德贵',
    '厂子，名字叫宏达化工',
    '名字叫金渝国际的楼盘',
    // Places after a label, or used as places elsewhere in the text.
    '举报人：石门村村民',
    '举报人：回龙村群众',
    '反映人：盐下村村民',
    '联系人：回龙村委会王主任',
    '本人龙王庙村民',
    '我是石门，家在石门组',
    '我是朱家观，朱家观村口有个厂',
    // Ordinary words after who is speaking.
    '举报人方才说过',
    '举报人龙年出生',
    '本人苗圃',
    '本人万亩果园',
    '本人金银花基地',
    '本人蓝莓园',
    // Names already anonymised.
    '姓名：王某某',
    '举报人张XX',
    '举报人李**',
    // What someone or their family is.
    '我是程序员，',
    '我父亲是高中老师',
    '我妈妈是程序员，',
    'This is Huilong Village',
    'Company Name: Hongda Chemical',
    // Whose family the reporter is, when that one is named by title, a place or a household, and who else the reporter is to someone.
    '我是王厂长的儿子',
    '我是李医生的女儿',
    '我是张总的儿子，',
    '我是王大叔的儿子',
    '我是马家桥的儿子',
    '我是老王家的儿子',
    '我是王家的儿子',
    '我是王德贵的邻居',
    '我是王小明的同事',
    '我是王小明的儿子的同学',
    '我是王府井那边的',
    // A place after a family word stays a place; a household and a street are no names.
    '我爸在石门村上班',
    '我姐姐在李家湾小区住',
    '我爸老王家的厂里上班',
    '我妈在王府井那边的厂里上班',
    '我是高和村的，厂子就在村口',
    // 姓名 and a space before what is no name: withheld, unknown, or a table header.
    '姓名 保密',
    '姓名 不详',
    '姓名 电话 地址',
    '姓名 成绩 备注',
    '姓名 田亩数 补偿金额',
    '他的姓名 王小明',
    '姓名\n电话\n地址',
    '姓名\n成绩\n备注',
    '姓名\n保密',
    '他的姓名\n王小明',
    '姓名\n王家湾村委会',
    '请提供姓名\n王小明说要保密',
    // A surname and title marked as someone else, or not marked at all.
    '王先生（被举报人）',
    '张老板（厂长）',
    '已回访李先生',
    // A dash or 此致 before what is no signature.
    '——来自盐下村的反映',
    '此致',
    '此致敬礼',
    '此致 区环保局',
    '此致 王局长',
    '此致\n张总',
    '此致\n王家湾村委会',
    '此致，王府井街道办',
    '此致 王小明同志：',
    '——宏达化工有限公司',
    '——盐下村全体村民',
    '此致敬礼 王家湾全体村民',
    '厂子天天排黑水——王小明说的',
    // A dash that sets off whom the text is about, a date that goes on, someone by title, a company, a village.
    '厂老板——王小明，住在村口——天天偷排',
    '厂老板——王小明，住在村口，天天偷排',
    '厂老板——王小明 2026年5月3日开始偷排',
    '老板叫——王小明，住在村口',
    '请处理——王厂长 2026年5月3日',
    '——宏达化工，住所在工业园',
    '请处理——王家湾村 2026年5月3日',
    '请处理——盐下村村民 2026年5月3日',
    '投诉——万达',
    '有问题找——王厂长',
    '厂子天天排黑水。\n王小明',
    // A space after the surname before what is no given name.
    '我叫王 他们不理',
    '姓名：王 电话：139',
    '联系人：王 主任',
    // 系 that is no 是, and residents who name no one.
    '我系统地整理了排污的时间',
    '我们是盐下村村民，反映河水发黑',
    '我们是石门村村民',
    '我明天，家住城里的亲戚来了',
    '我这边是说那个厂子',
    '我这里是回龙村',
    '我王家湾的，住在村口',
    '该厂联系方式：王经理',
    '我是村干部，姓王的厂长不让进',
    '我是职工医院的',
    '我是回龙村三组',
    '我是回龙村党支部书记',
    '王小明是我邻居',
    '王家湾举报的问题',
    '王科长反映',
    '王小明就是我们村的',
  ])('leaves "%s" alone', (text) => {
    expect(maskIdentityInText(text)).toBe(text);
  });
});

describe('a place the operator named and the caller confirmed', () => {
  it('takes the place from the operator\'s question when the caller says yes, and only then', () => {
    expect(confirmedPlace(district, '坐席：您好，请讲。\n来电人：有个厂子晚上排黑水。\n坐席：是李家塘办事处吗？\n来电人：对对，就是那里。')).toBe('李家塘办事处');
    expect(confirmedPlace(district, '坐席：是李家塘办事处吗？\n来电人：不是，是兴隆办事处那边，有个厂子排黑水。')).toBeNull();
    expect(confirmedPlace(district, '坐席：李家塘办事处的热线为您服务。\n来电人：是这样的，有个厂子排黑水。')).toBeNull();
  });
});

describe('anonymity agreed in the dialogue of a call', () => {
  it('reads a yes to the offer of confidentiality, a no to the question for a name, and a name kept back', () => {
    const call = (...lines: string[]) => lines.join('\n');
    expect(anonymityAgreedInDialogue(call('坐席：需要为您保密吗？', '来电人：要的，要保密。'))).toBe(true);
    expect(anonymityAgreedInDialogue(call('坐席：需要对您的信息保密吗？', '来电人：需要。'))).toBe(true);
    expect(anonymityAgreedInDialogue(call('坐席：请问您贵姓？', '来电人：不用了，你们去查就行。'))).toBe(true);
    expect(anonymityAgreedInDialogue(call('坐席：好的。', '来电人：名字就不说了，你们快来看看。'))).toBe(true);
    // A name given, then taken back.
    expect(anonymityAgreedInDialogue(call('坐席：请问您贵姓？', '来电人：我叫张三……算了，名字还是别写了。'))).toBe(true);
    expect(anonymityAgreedInDialogue(call('坐席：请问您贵姓？', '来电人：姓李。', '坐席：好的。', '来电人：刚才说的名字你们别记了。'))).toBe(true);
    // A no to confidentiality, a name given, or a yes to something else is not a request.
    expect(anonymityAgreedInDialogue(call('坐席：需要为您保密吗？', '来电人：不用，没关系。'))).toBe(false);
    expect(anonymityAgreedInDialogue(call('坐席：请问您贵姓？', '来电人：姓李。'))).toBe(false);
    expect(anonymityAgreedInDialogue(call('坐席：是在兴隆办事处吗？', '来电人：是的。'))).toBe(false);
    expect(anonymityAgreedInDialogue(call('坐席：您好，我们会严格保密，请讲。', '来电人：是这样的，厂子排黑水。'))).toBe(false);
    expect(anonymityAgreedInDialogue(call('坐席：需要保密吗？', '来电人：嗯，不用了。'))).toBe(false);
    expect(anonymityAgreedInDialogue(call('坐席：请讲。', '来电人：那个厂的名字不说你也知道。'))).toBe(false);
    expect(anonymityAgreedInDialogue(call('坐席：请问您贵姓？', '来电人：姓张，名字别写错了。'))).toBe(false);
  });

  const offers = ['需要为您保密吗？', '要不要匿名？', '您的信息需要我们保密处理吗？'];
  const asksName = ['请问您怎么称呼？', '可以留个姓名吗？', '您叫什么名字？'];
  const call = (question: string, answer: string) => `[00:01:02] 坐席：${question}\n[00:01:05] 来电人：${answer}`;

  it.each(['保密', '保密吧', '必须的', '肯定要保密啊', '我当然要保密', '嗯，那当然', '那肯定要', '麻烦保密一下', '匿名吧', '嗯', '一定要啊，不然我不敢说'])(
    'takes "%s" to an offer of confidentiality as a yes',
    (answer) => {
      for (const question of offers) expect(anonymityAgreedInDialogue(call(question, answer)), question).toBe(true);
    },
  );

  it.each(['不用保密', '不需要匿名', '不用了，没什么', '我无所谓', '都行', '不要', '是这样的，那个厂子天天排黑水', '对了，还有一个事'])(
    'takes "%s" to an offer of confidentiality as no request',
    (answer) => {
      for (const question of offers) expect(anonymityAgreedInDialogue(call(question, answer)), question).toBe(false);
    },
  );

  it.each(['我就不说了', '这个就不用了吧', '你就别问了', '不太方便说', '保密', '姓名就算了吧', '名字就不留了', '不是很方便', '匿名吧'])(
    'takes "%s" to a question for the name as a refusal',
    (answer) => {
      for (const question of asksName) expect(anonymityAgreedInDialogue(call(question, answer)), question).toBe(true);
    },
  );

  it.each(['没关系，我叫王五', '免贵姓张', '不用客气，我姓李', '算了，叫我老王就行', '王五', '好的，我是回龙村的'])(
    'takes "%s" to a question for the name as no refusal',
    (answer) => {
      for (const question of asksName) expect(anonymityAgreedInDialogue(call(question, answer)), question).toBe(false);
    },
  );
});

describe('the name a caller gives the operator', () => {
  const asksName = ['请问您怎么称呼？', '可以留个姓名吗？', '您叫什么名字？', '请问您贵姓？'];
  const call = (question: string, answer: string) => `[00:01:02] 坐席：${question}\n[00:01:05] 来电人：${answer}`;

  it.each([
    ['端木问答。', '端木问答'],
    ['王小明啊', '王小明'],
    ['嗯，王五，电话就是这个。', '王五'],
    ['我叫王小明', '王小明'],
    ['没关系，我叫王五', '王五'],
    ['我姓王，叫王小明', '王小明'],
    ['我是李建国', '李建国'],
  ])('takes "%s" to a question for the name as the name %s', (answer, name) => {
    for (const question of asksName) expect(nameGivenInDialogue(call(question, answer)), question).toBe(name);
  });

  it.each(['不用了', '姓名就算了吧', '姓李。', '免贵姓张', '好的，我是回龙村的', '是这样的，那个厂子天天排黑水', '周边都是稻田', '你们快来看看吧'])(
    'takes "%s" to a question for the name as no name',
    (answer) => {
      for (const question of asksName) expect(nameGivenInDialogue(call(question, answer)), question).toBeNull();
    },
  );

  it('reads a name only in answer to a question for it', () => {
    expect(nameGivenInDialogue('坐席：是李家塘办事处吗？\n来电人：王小明。')).toBeNull();
    expect(nameGivenInDialogue('坐席：您好，请讲。\n来电人：王小明家门口的沟里全是黑水。')).toBeNull();
    expect(nameGivenInDialogue('坐席：请问您怎么称呼？\n坐席：喂？\n来电人：王小明。')).toBeNull();
  });
});

describe('urgency in ordinary wording', () => {
  it('takes discharge or dumping going on now, and people falling ill, as urgent', () => {
    for (const text of ['他们正在往河里排废水', '有个厂正往河里排黄水', '现在正在往沟里倒', '正在焚烧垃圾', '好多人呼吸困难', '孩子闻了身体不舒服', '村里好几个人得了癌症']) {
      expect(extractDetails(district, text, { location: null, receivedAt }).urgency.urgent, text).toBe(true);
    }
    expect(extractDetails(district, '上个月有人在河边倒过垃圾，现在没有了', { location: null, receivedAt }).urgency.urgent).toBe(false);
  });
});

describe('incident time', () => {
  const at = (text: string) => extractIncidentTime(text, receivedAt, TZ);

  it.each([
    ['昨晚又排了', '昨晚', '2026-11-27T21:00:00+08:00', true],
    ['昨天晚上十点多开始排', '昨天晚上十点多', '2026-11-27T22:00:00+08:00', true],
    ['今天早上发现的', '今天早上', '2026-11-28T07:00:00+08:00', true],
    ['前天下午', '前天下午', '2026-11-26T15:00:00+08:00', true],
    ['前天有人来倒', '前天', '2026-11-26T00:00:00+08:00', true],
    ['凌晨三点听到响声', '凌晨三点', '2026-11-28T03:00:00+08:00', false],
    ['晚上十点多排黑水', '晚上十点多', '2026-11-27T22:00:00+08:00', true],
    ['昨晚两点还在烧', '昨晚两点', '2026-11-28T02:00:00+08:00', false],
    ['3月5号', '3月5号', '2026-03-05T00:00:00+08:00', true],
    ['3月5日下午看到的', '3月5日下午', '2026-03-05T15:00:00+08:00', true],
    ['2026年11月3日', '2026年11月3日', '2026-11-03T00:00:00+08:00', true],
    ['11-03 那天', '11-03', '2026-11-03T00:00:00+08:00', true],
    ['12-05', '12-05', '2025-12-05T00:00:00+08:00', true],
    ['十一月三号上午九点半', '十一月三号上午九点半', '2026-11-03T09:30:00+08:00', false],
    ['上周三晚上', '上周三晚上', '2026-11-18T21:00:00+08:00', true],
    ['下午3:30左右', '下午3:30左右', '2026-11-27T15:30:00+08:00', true],
  ])('resolves "%s"', (text, phrase, iso, approximate) => {
    expect(at(text)).toMatchObject({ phrase, at: local(iso), approximate, recurring: false });
  });

  it.each(['上周', '这几天', '最近', '前几天'])('keeps the vague "%s" without an instant', (text) => {
    expect(at(`${text}一直有臭味`)).toMatchObject({ phrase: text, at: null, approximate: true });
  });

  it.each([
    ['天天往河里排', '天天'],
    ['每天晚上都有噪音', '每天晚上'],
    ['每天晚上十点开机器', '每天晚上十点'],
  ])('marks "%s" as recurring', (text, phrase) => {
    expect(at(text)).toEqual({ phrase, start: 0, end: phrase.length, at: null, approximate: true, recurring: true });
  });

  it('prefers the specific occurrence of a recurring incident', () => {
    expect(at('这几天天天排，昨晚十点又排了')).toMatchObject({
      phrase: '昨晚十点',
      at: local('2026-11-27T22:00:00+08:00'),
      recurring: true,
    });
  });

  it('gives offsets into the text', () => {
    const t = at('我要举报，昨天晚上十点多排黑水')!;
    expect('我要举报，昨天晚上十点多排黑水'.slice(t.start, t.end)).toBe(t.phrase);
  });

  it.each(['有一点臭', '3号楼后面', '排了1-2天', '请拨12369', '我有三点意见'])('finds no time in "%s"', (text) => {
    expect(at(text)).toBeNull();
  });

  it('keeps a part of day alone as a vague time', () => {
    expect(at('晚上往沟里排黑水')).toMatchObject({ phrase: '晚上', at: null });
  });
});

describe('place description', () => {
  it.each([
    ['我要举报兴隆办事处盐下路边那个电镀厂后面的水沟里天天晚上排黑水', '兴隆办事处盐下路边那个电镀厂后面的水沟'],
    ['朱家观村后山有人倒垃圾', '朱家观村后山'],
    ['八字桥社区门口堆了很多垃圾', '八字桥社区门口'],
    ['你好，我要反映一下，在我们村后面的山上有人倒垃圾', '我们村后面的山上'],
    ['在学校旁边的化工厂天天冒黑烟', '学校旁边的化工厂'],
    ['我要举报，县道路边那个厂排污水', '县道路边那个厂'],
    ['盐下村后面的河里全是死鱼', '盐下村后面的河'],
    ['朱家观村的水沟里到处是垃圾', '朱家观村的水沟'],
    ['八字桥社区旁边全部是建筑垃圾', '八字桥社区旁边'],
  ])('finds the place in "%s"', (text, place) => {
    expect(extractPlaceDescription(text, district)).toBe(place);
  });

  it.each([
    ['A chemical plant near Huilong village group 3 dumps black water into the ditch every night.', 'Huilong village group 3'],
    ['Xinglong subdistrict office, behind the school', 'Xinglong subdistrict office'],
    ['The Yanxia pig farm lets manure into the river', 'Yanxia'],
  ])('takes an English place name and its kind, not what happens there, from "%s"', (text, place) => {
    expect(extractPlaceDescription(text, district)).toBe(place);
  });

  it('returns null when no place is described', () => {
    expect(extractPlaceDescription('最近河里的鱼死了很多', district)).toBeNull();
  });

  it('keeps the description to 60 characters', () => {
    const long = `朱家观村${'那个很长很长的'.repeat(20)}`;
    expect(extractPlaceDescription(long, district)!.length).toBeLessThanOrEqual(60);
  });

  it('falls back to the given address', () => {
    const d = extractDetails(district, '有人倒垃圾', { location: null, receivedAt, address: '回龙圩镇盐下村5组' });
    expect(d.place).toBe('回龙圩镇盐下村5组');
  });
});

describe('call transcripts', () => {
  const canonical = [
    '[00:00:02] 坐席：您好，12369环保举报热线，请讲。',
    '[00:00:05] 来电人：我要举报兴隆办事处那边一个厂子晚上往沟里排黑水',
  ].join('\n');

  it('reads timestamped lines with speakers', () => {
    expect(parseTranscript(canonical)).toEqual({
      lines: [
        { speaker: 'operator', text: '您好，12369环保举报热线，请讲。', at: '00:00:02' },
        { speaker: 'caller', text: '我要举报兴隆办事处那边一个厂子晚上往沟里排黑水', at: '00:00:05' },
      ],
    });
    expect(isTranscript(canonical)).toBe(true);
  });

  it('reads a transcript asked about again once, handing out what nobody can change', () => {
    const first = parseTranscript(canonical);
    expect(parseTranscript(canonical)).toBe(first);
    expect(Object.isFrozen(first.lines) && first.lines.every((l) => Object.isFrozen(l))).toBe(true);
    expect(() => (first.lines[0] as { text: string }).text = 'changed').toThrow(TypeError);
    // Another transcript is read for itself.
    expect(parseTranscript(`${canonical}
来电人：还有气味`).lines).toHaveLength(3);
    expect(parseTranscript(canonical).lines).toHaveLength(2);
  });

  it.each(['坐席', '话务员', '客服', '接线员', '工作人员'])('reads %s as the operator', (label) => {
    const t = parseTranscript(`${label}：您好\n来电人：我要举报`);
    expect(t.lines.map((l) => l.speaker)).toEqual(['operator', 'caller']);
  });

  it.each(['来电人', '市民', '群众', '客户', '来电者', '举报人', '投诉人', '反映人', '用户', '来电方'])('reads %s as the caller', (label) => {
    const text = `话务员：您好\n${label}：朱家观村后山有人倒垃圾`;
    expect(isTranscript(text)).toBe(true);
    expect(callerText(parseTranscript(text))).toBe('朱家观村后山有人倒垃圾');
  });

  it('accepts lines without timestamps, ASCII colons, short timestamps and numbered labels', () => {
    const text = ['坐席1: 您好', '00:00:07 来电人 : 我在李家塘', '【0:09】客服（工号1024）：请问具体位置？'].join('\n');
    expect(parseTranscript(text).lines).toEqual([
      { speaker: 'operator', text: '您好' },
      { speaker: 'caller', text: '我在李家塘', at: '00:00:07' },
      { speaker: 'operator', text: '请问具体位置？', at: '00:00:09' },
    ]);
  });

  it('reads labels with the speaker\'s name, and timestamps with a date or milliseconds', () => {
    const text = [
      '[2026-11-28 21:30:07] 坐席小王：您好，12345热线。',
      '[2026-11-28 21:30:12] 市民张三：兴隆办事处有个电镀厂偷排废水。',
      '[00:00:19.350] 客服小张：好的，请问您贵姓？',
      '00:00:21,100 来电人：姓李。',
      '来电时间：2026-11-28 21:30',
    ].join('\n');
    const t = parseTranscript(text);
    expect(t.lines.slice(0, 4)).toEqual([
      { speaker: 'operator', text: '您好，12345热线。', at: '21:30:07' },
      { speaker: 'caller', text: '兴隆办事处有个电镀厂偷排废水。', at: '21:30:12' },
      { speaker: 'operator', text: '好的，请问您贵姓？', at: '00:00:19' },
      { speaker: 'caller', text: expect.stringContaining('姓李。'), at: '00:00:21' },
    ]);
    // The operator's questions are not the complaint.
    expect(callerText(t)).not.toContain('贵姓');
    // A heading after a label is not a name: 来电方式 and 客户方面 start no caller line.
    expect(parseTranscript('坐席：您好\n来电方式：手机\n客户方面：无').lines.map((l) => l.speaker)).toEqual(['operator']);
  });

  it('reads bare mm:ss timestamps before a label, named callers and 来电 as a label', () => {
    const text = ['00:02 坐席：您好，请讲。', '00:05 来电人张先生：盐下村的电镀厂', '12:30左右开始排黑水', '01:10 来电：就在河边'].join('\n');
    expect(parseTranscript(text).lines).toEqual([
      { speaker: 'operator', text: '您好，请讲。', at: '00:00:02' },
      { speaker: 'caller', text: '盐下村的电镀厂12:30左右开始排黑水', at: '00:00:05' },
      { speaker: 'caller', text: '就在河边', at: '00:01:10' },
    ]);
    expect(complaintText(text)).toBe('盐下村的电镀厂12:30左右开始排黑水\n就在河边');
  });

  it.each([
    ['start–end timestamps', '[00:00:01-00:00:04] 坐席：您好，请讲。\n[00:00:05 - 00:00:12] 来电人：回龙村后山有人倒废渣。\n00:00:13 --> 00:00:15 坐席：好的。'],
    ['the timestamp after the label', '坐席 [00:00:01]：您好，请讲。\n来电人（00:00:05）：回龙村后山有人倒废渣。\n坐席1 00:00:13: 好的。'],
    ['tab-separated columns', '00:00:01\t坐席\t您好，请讲。\n00:00:05\t来电人\t回龙村后山有人倒废渣。\n00:00:13\t坐席\t好的。'],
  ])('reads lines with %s', (_what, text) => {
    const t = parseTranscript(text);
    expect(t.lines).toEqual([
      { speaker: 'operator', text: '您好，请讲。', at: '00:00:01' },
      { speaker: 'caller', text: '回龙村后山有人倒废渣。', at: '00:00:05' },
      { speaker: 'operator', text: '好的。', at: '00:00:13' },
    ]);
    expect(isTranscript(text)).toBe(true);
    expect(complaintText(text)).toBe('回龙村后山有人倒废渣。');
  });

  it('reads lines numbered before the label, and keeps a number inside the words', () => {
    const text = ['1 坐席：您好，请讲。', '2. 来电人：回龙村后山有人倒废渣，', '3、坐席：大概多少？', '4) 来电人 [00:00:20]：3 车，昨晚倒的。'].join('\n');
    expect(parseTranscript(text).lines).toEqual([
      { speaker: 'operator', text: '您好，请讲。' },
      { speaker: 'caller', text: '回龙村后山有人倒废渣，' },
      { speaker: 'operator', text: '大概多少？' },
      { speaker: 'caller', text: '3 车，昨晚倒的。', at: '00:00:20' },
    ]);
    expect(complaintText(text)).toBe('回龙村后山有人倒废渣，\n3 车，昨晚倒的。');
  });

  it('reads labels in brackets, with or without a colon after them', () => {
    const text = ['[00:00:01]【坐席】您好，请问是兴隆办事处吗？', '【来电人】不是，回龙村后山有人倒废渣。', '[坐席]：好的。', '[00:00:20][举报人] 昨晚倒的。'].join('\n');
    expect(parseTranscript(text).lines).toEqual([
      { speaker: 'operator', text: '您好，请问是兴隆办事处吗？', at: '00:00:01' },
      { speaker: 'caller', text: '不是，回龙村后山有人倒废渣。' },
      { speaker: 'operator', text: '好的。' },
      { speaker: 'caller', text: '昨晚倒的。', at: '00:00:20' },
    ]);
    expect(complaintText(text)).toBe('不是，回龙村后山有人倒废渣。\n昨晚倒的。');
  });

  it('reads a label and timestamp on a line of their own as the header of the words below it', () => {
    const text = ['坐席 00:00:01', '您好，请讲。', '来电人 00:05', '回龙村后山有人倒废渣，', '昨晚倒的。', '坐席 [00:00:31]', '好的。'].join('\n');
    expect(parseTranscript(text).lines).toEqual([
      { speaker: 'operator', text: '您好，请讲。', at: '00:00:01' },
      { speaker: 'caller', text: '回龙村后山有人倒废渣，昨晚倒的。', at: '00:00:05' },
      { speaker: 'operator', text: '好的。', at: '00:00:31' },
    ]);
    expect(complaintText(text)).toBe('回龙村后山有人倒废渣，昨晚倒的。');
    // The hour of a timestamp is not a speaker's number, and a time of day in the words stays in them.
    expect(parseTranscript('坐席 00:00:01：您好\n来电人 00:00:05：下午3:30开始排的').lines).toEqual([
      { speaker: 'operator', text: '您好', at: '00:00:01' },
      { speaker: 'caller', text: '下午3:30开始排的', at: '00:00:05' },
    ]);
    // No incident time is read from a header's timestamp.
    expect(extractDetails(district, text, { location: null, receivedAt }).time?.phrase).toBe('昨晚');
  });

  it('skips blank lines and joins wrapped lines to the previous speaker', () => {
    const text = [
      '[00:00:02] 坐席：您好，请讲。',
      '',
      '[00:00:05] 来电人：我要举报盐下村那个电镀厂，',
      '天天晚上往河里排',
      '黑水',
      '   ',
      '[00:00:15] 坐席：好的。',
    ].join('\r\n');
    const t = parseTranscript(text);
    expect(t.lines).toHaveLength(3);
    expect(t.lines[1]).toEqual({ speaker: 'caller', text: '我要举报盐下村那个电镀厂，天天晚上往河里排黑水', at: '00:00:05' });
    expect(operatorText(t)).toBe('您好，请讲。\n好的。');
  });

  it('does not take plain text for a transcript', () => {
    expect(isTranscript('兴隆那边有个厂子排黑水')).toBe(false);
    expect(isTranscript('市民：兴隆那边有个厂子排黑水')).toBe(false);
    expect(complaintText('兴隆那边有个厂子排黑水')).toBe('兴隆那边有个厂子排黑水');
  });

  it('tells the sides of two voices a speech-recognition export names, and leaves other voices unknown', () => {
    // Three voices (a conference, a transfer): which is the caller's is not guessed.
    const three = parseTranscript(['说话人1：您好，12369，请讲。', '说话人2：河里死鱼了。', '说话人3：我是他邻居。'].join('\n'));
    expect(three.lines.map((l) => l.speaker)).toEqual(['unknown', 'unknown', 'unknown']);
    const pair = parseTranscript(['发言人A：河里死鱼了，你们管不管？', '发言人B：您好，这里是12369热线，请讲。', '发言人A：就在回龙村。'].join('\n'));
    expect(pair.lines.map((l) => [l.speaker, l.voice])).toEqual([['caller', 'A'], ['operator', 'B'], ['caller', 'A']]);
    expect(callerText(pair)).toBe('河里死鱼了，你们管不管？\n就在回龙村。');
    // A transcript naming a side keeps its labels' reading; a text that only mentions a speaker is none.
    expect(parseTranscript(['坐席：您好', '说话人2：河里死鱼了'].join('\n')).lines.map((l) => l.speaker)).toEqual(['operator', 'unknown']);
    expect(isTranscript('我是说话人，厂子在排污')).toBe(false);
    expect(isTranscript(['说话人1：a', '说话人2：b', '说话人3：c'].join('\n'))).toBe(false);
  });

  it('tells the sides of two speakers named only by name, the operator the one who greets as a hotline, and reads nothing from other names', () => {
    const named = parseTranscript(
      ['小王：您好，12369环保举报热线，请讲。', '张先生：我要举报盐下村那个电镀厂，', '天天晚上往河里排黑水。', '小王：好的，请问您贵姓？', '张先生：姓张。'].join('\n'),
    );
    expect(named.lines.map((l) => [l.speaker, l.voice])).toEqual([
      ['operator', '小王'],
      ['caller', '张先生'],
      ['operator', '小王'],
      ['caller', '张先生'],
    ]);
    expect(callerText(named)).toBe('我要举报盐下村那个电镀厂，天天晚上往河里排黑水。\n姓张。');
    expect(complaintText(['[00:00:01] 李丽：您好，12345热线。', '[00:00:04] 王建国：回龙村有人烧垃圾。'].join('\n'))).toBe('回龙村有人烧垃圾。');
    // No greeting, a single name, three names, or a name in a report's own words: not a transcript.
    expect(isTranscript(['小王：河里死鱼了。', '张先生：就在回龙村。'].join('\n'))).toBe(false);
    expect(isTranscript('张三：他们又在排了，12345热线打了好几次都没用')).toBe(false);
    expect(isTranscript(['小王：您好，12369热线。', '张先生：河里死鱼了。', '李女士：我是他邻居。'].join('\n'))).toBe(false);
    expect(complaintText('我打过12345热线，\n王老板：不关我的事。')).toBe('我打过12345热线，\n王老板：不关我的事。');
  });

  it("never takes the operator's place names, anonymity words or phone numbers", () => {
    const text = [
      '[00:00:01] 坐席：您好，12345热线。我们可以匿名受理，是兴隆办事处吗？我们回电号码是0746-5123456。',
      '[00:00:06] 来电人：不是，是朱家观村后山，有人昨晚十点多倒了好多化工桶。',
      '[00:00:12] 坐席：好的，您的电话是13812345678吗？',
      '[00:00:15] 来电人：对，13912345678。',
    ].join('\n');
    const d = extractDetails(district, text, { location: null, receivedAt });
    expect(d.transcript).toBe(true);
    expect(d.jurisdiction?.jurisdiction).toBe('huilongxu');
    expect(d.place).toBe('朱家观村后山');
    expect(d.anonymity).toEqual({ requested: false, phrase: null });
    expect(d.phones).toEqual(['13912345678']);
    expect(d.time?.at).toBe(local('2026-11-27T22:00:00+08:00'));
    expect(d.urgency.urgent).toBe(true);
    expect(d.text).not.toContain('坐席');
  });

  it("hears the caller's own anonymity request and phone", () => {
    const text = [
      '接线员：您好，请讲',
      '群众：李家塘那边有人烧电缆，我电话是 138 1234 5678，别说是我举报的',
    ].join('\n');
    const d = extractDetails(district, text, { location: null, receivedAt });
    expect(d.anonymity).toEqual({ requested: true, phrase: '别说是我举报的' });
    expect(d.phones).toEqual(['13812345678']);
    expect(d.jurisdiction?.jurisdiction).toBe('lijiatang');
  });

  it('masks phone numbers in the place description', () => {
    const d = extractDetails(district, '回龙村13812345678家后面', { location: null, receivedAt });
    expect(d.place).not.toContain('13812345678');
  });
});

describe('intake processor', () => {
  async function runIntake(text: string, occurredAt: string | null) {
    const db = connectDatabase(':memory:').db;
    await migrateToLatest(db);
    const id = newId();
    const at = receivedAt.toISOString();
    await insertCase(db, {
      id,
      tracking_code: newTrackingCode(),
      channel: 'hotline12369',
      text,
      address: null,
      lat: null,
      lng: null,
      occurred_at: occurredAt,
      status: 'received',
      type_code: null,
      confidence: null,
      classification: null,
      urgent: 0,
      urgency_reasons: null,
      anonymous: 0,
      jurisdiction_code: null,
      place_source: null,
      flags: '[]',
      triage_reason: null,
      received_at: at,
      dispatched_at: null,
      sign_deadline_at: null,
      reply_deadline_at: null,
      updated_at: at,
      version: 1,
      round: 1,
      overdue: 0,
      extended: 0,
    });
    const process = createIntakeProcessor({
      db,
      transactions: createTransactionBatcher(db),
      district,
      classifier: createRuleClassifier(district),
      calendar: calendarFor(district),
      clock: new ManualClock(at),
      logger: createLogger('silent'),
      webhookSecret: undefined,
      fetch,
      kickOutbox: () => {},
      publicUrl: 'http://localhost',
      telegram: null,
    });
    const outcome = await process({ caseId: id });
    const c = (await findCase(db, id))!;
    const classified = (await listEvents(db, id)).find((e) => e.kind === 'classified')!;
    await db.destroy();
    return { outcome, c, classified };
  }

  const call = [
    '[00:00:01] 坐席：您好，12369环保举报热线。是兴隆办事处吗？可以匿名。',
    '[00:00:06] 来电人：朱家观村后山有个养猪场，昨晚十点多粪水直排到河里，别说是我举报的。',
  ].join('\n');

  it("classifies the caller's lines and records place, incident time and occurred_at", async () => {
    const { outcome, c, classified } = await runIntake(call, null);
    expect(outcome).toBe('dispatch: livestock_waste');
    expect(c).toMatchObject({ typeCode: 'livestock_waste', jurisdictionCode: 'huilongxu', anonymous: true });
    expect(c.occurredAt).toBe(local('2026-11-27T22:00:00+08:00'));
    expect(classified.data).toMatchObject({
      jurisdiction: 'huilongxu',
      place: '朱家观村后山',
      incidentTime: { phrase: '昨晚十点多', at: local('2026-11-27T22:00:00+08:00'), approximate: true, recurring: false },
      anonymityRequested: true,
    });
  });

  it('keeps an occurred_at that was already set', async () => {
    const { c } = await runIntake(call, '2026-11-20T00:00:00.000Z');
    expect(c.occurredAt).toBe('2026-11-20T00:00:00.000Z');
  });
});
