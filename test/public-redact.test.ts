import { describe, expect, it } from 'vitest';
import { MASK, maskNamedByRole, redactForPublic } from '../handlers/pages/public-redact.js';
import { ANONYMOUS_NAME, maskIdentityInText } from '../src/pipeline/extract.js';
import { ROLE_NAMED, ROLE_NAMED_NOT } from './role-name-fixtures.js';

const { name: N, phone: P, number: H } = MASK;

describe('redactForPublic: phone numbers', () => {
  it.each([
    // Said in Chinese digits, alone or mixed with Arabic ones.
    ['手机号码是一三九一二三四零四零二', `手机号码是${P}`],
    ['有事打一五八七六五四三二一零', `有事打${P}`],
    ['幺三九幺二三四幺七零幺', P],
    ['139一二三四五六七八', P],
    ['电话一三九〇二三四五六七八，', `电话${P}，`],
    ['电话１３９１２３４５６７８', `电话${P}`],
    // Grouped in any way.
    ['1391-234-1002', P],
    ['13912 345678', P],
    ['139 123 45678', P],
    ['139.1234-5678', P],
    // Landlines, and local numbers after a phone word.
    ['0731 8456 1101', P],
    ['(0731)84560801', P],
    ['（0731）8456-0801', P],
    ['家里电话84560501', `家里电话${P}`],
    // Formal digits, one digit at a time, groups read out after a phone word.
    ['壹叁陆柒柒捌捌壹玖零壹', P],
    ['1 3 6 7 7 8 8 2 0 0 1', P],
    ['电话一三六，七七八八，二五零一', `电话${P}`],
    // Masked as the staff pages show numbers, copied into an answer: the digits left still narrow it down.
    ['已电话联系（138****5678）核实', `已电话联系（${P}）核实`],
    ['联系电话：0746-****4567', `联系电话：${P}`],
    ['家里****6666也可以', `家里${P}也可以`],
    ['+86 138****5678', P],
    // Its last digits, which narrow it down to a few people in a village.
    ['举报人手机尾号5678，请回电', `举报人手机尾号${P}，请回电`],
    ['电话尾号为5678的那个人', `电话尾号为${P}的那个人`],
    ['手机号后四位是五六七八', `手机号后四位是${P}`],
  ])('hides "%s"', (text, expected) => {
    expect(redactForPublic(text)).toBe(expected);
  });

  it.each([
    '我们三五个人，一二百米外都闻得到，二〇二六年就开始排了',
    '坐标25.1234567，111.3456789，罚款12345678元',
    // A unit's published number is for everyone to call.
    '区环保局电话0746-1234567',
    '请拨打举报热线12369或12345',
    '回龙圩镇政府值班电话：(0746)5123456',
    '区环保局执法大队办公室电话0746-3822369',
    '镇政府值班室电话0746-3881234',
    '林场办公室0746-3889001',
    '派出所报警电话0746-3881110',
    '区环保局王科长电话0746-3881111',
    '卫生院电话0746-3881112',
    '**注意**：罚款5000元，限期30天',
  ])('keeps "%s"', (text) => {
    expect(redactForPublic(text)).toBe(text);
  });

  it.each([
    ['加我QQ 12345678 联系', '加我[号码已隐去] 联系'],
    ['我的qq是98765432', '我的[号码已隐去]'],
    ['微信号wx_li88', '[号码已隐去]'],
    ['银行卡号6222021234567890123', '[号码已隐去]'],
    // Without its word: a run of 9 or more digits that is no decimal and no dashed unit number.
    ['转账到6222021234567890123了', '转账到[号码已隐去]了'],
  ])('hides the account in "%s"', (text, expected) => {
    expect(redactForPublic(text)).toBe(expected);
  });

  it("hides an officer's mobile even after a unit's name", () => {
    expect(redactForPublic('环保局电话13912345678')).toBe(`环保局电话${P}`);
  });
});

describe('redactForPublic: names', () => {
  it.each([
    ['举报人刘德明反映厂子偷排', `举报人${N}反映厂子偷排`],
    ['举报人：吴桂芳', `举报人：${N}`],
    ['姓名：周美玲', `姓名：${N}`],
    ['名字叫秦大山', `名字叫${N}`],
    ['我姓张，叫张卫东', `我姓×，叫${N}`],
    ['我姓欧阳，叫欧阳娜娜', `我姓×，叫${N}`],
    ['我的名字是欧阳娜娜', `我的名字是${N}`],
    ['我是褚英', `我是${N}`],
    ['我是靳大伟，', `我是${N}，`],
    ['My name is John Doe.', `My name is ${N}.`],
    ['I am Wang Wei', `I am ${N}`],
    ["I'm Li Ming", `I'm ${N}`],
    ['市民张三反映厂子偷排', `市民${N}反映厂子偷排`],
    // Only the name, not the verb staff write after it.
    ['经与来电人张伟沟通，已处理', `经与来电人${N}沟通，已处理`],
    ['已与举报人王芳核实', `已与举报人${N}核实`],
    // Every other mention of a name a rule found.
    ['市民朱立新（电话13912345678）反映厂子偷排，朱立新要求尽快处理', `市民${N}（电话${P}）反映厂子偷排，${N}要求尽快处理`],
    // Self-identification in more shapes.
    ['我，黎秀英，住在厂边', `我，${N}，住在厂边`],
    ['签名：何春花', `签名：${N}`],
    ['落款人：曾庆丰', `落款人：${N}`],
    ['实名举报：龚德胜', `实名举报：${N}`],
    ['举报群众：文建新', `举报群众：${N}`],
    ['俺叫唐德旺', `俺叫${N}`],
    ['俺是盐下村的，叫唐德旺', `俺是盐下村的，叫${N}`],
    ['鄙人姓蒋名卫平', `鄙人姓×名${N}`],
    ['免贵姓魏，魏东', `免贵姓×，${N}`],
    ['我姓侯，侯宝林的侯，叫侯志刚', `我姓×，${N}，叫${N}`],
    ['This is Lucy Chen', `This is ${N}`],
    ['Hi, I am Wang Wei (王伟)', `Hi, I am ${N} (${N})`],
    ['我老公叫罗大勇', `我老公叫${N}`],
    ['我姐姐周丽在厂里上班', `我姐姐${N}在厂里上班`],
    // Whoever is named on the public page, the one reported too.
    ['被举报人：刘长贵', `被举报人：${N}`],
    ['该厂联系人：黄金山', `该厂联系人：${N}`],
    ['那个老板，名字叫黄德贵', `那个老板，名字叫${N}`],
    // Only the name, not what follows it.
    ['我是王德贵的邻居', `我是${N}的邻居`],
    ['户主刘某私建', '户主×某私建'],
    // A name after 姓名 and a space, typed with a space inside, a signature, a surname marked as the reporter's.
    ['姓名 王小明，电话13912345678', `姓名 ${N}，电话${P}`],
    ['姓名\n王小明\n电话13912345678', `姓名\n${N}\n电话${P}`],
    ['我叫王 小明，王小明家就在厂边', `我叫${N}，${N}家就在厂边`],
    ['厂子天天排黑水。此致敬礼！王小明', `厂子天天排黑水。此致敬礼！${N}`],
    ['请尽快处理。此致\n王小明', `请尽快处理。此致\n${N}`],
    ['厂子天天排黑水。—— 王小明 2026年11月3日', `厂子天天排黑水。—— ${N} 2026年11月3日`],
    ['厂子天天排黑水，请处理——王小明 2026年5月3日', `厂子天天排黑水，请处理——${N} 2026年5月3日`],
    ['厂子天天排黑水。——王小明，电话13912345678', `厂子天天排黑水。——${N}，电话${P}`],
    ['王先生（举报人）反映厂里偷排', '×先生（举报人）反映厂里偷排'],
    // A reporter staff name by what they did, though no name was kept: whose report it was, who reported or called.
    ['与王小明的举报重复', `与${N}的举报重复`],
    ['重复举报：上官短语反映的是同一家工厂', `重复举报：${N}反映的是同一家工厂`],
    ['据王小明反映，厂里晚上偷排', `据${N}反映，厂里晚上偷排`],
    ['王小明来电称厂里又排了', `${N}来电称厂里又排了`],
    ['已回访王小明，王小明表示满意', `已回访${N}，${N}表示满意`],
    // The one reported, when a person: the public need not know them either.
    ['对王小明的举报已查实', `对${N}的举报已查实`],
    ['关于李四的投诉，已责令整改', `关于${N}的投诉，已责令整改`],
    ['举报王小明在河边倒渣', `举报${N}在河边倒渣`],
    ['投诉李四私自焚烧秸秆', `投诉${N}私自焚烧秸秆`],
    ['老板叫王大海，天天偷排', `老板叫${N}，天天偷排`],
    ['化工厂（法人：王大海）', `化工厂（法人：${N}）`],
    ['负责人王大海不让进', `负责人${N}不让进`],
    ['隔壁邻居李四家养猪', `隔壁邻居${N}家养猪`],
    // The party of a bureau's decision, named as its answer names them, and whoever is named by what they run or own.
    ['经与当事人刘德华沟通，责令当事人刘德华停止排放', `经与当事人${N}沟通，责令当事人${N}停止排放`],
    ['报案人：陈国强', `报案人：${N}`],
    ['违法行为人周大海已被立案查处', `违法行为人${N}已被立案查处`],
    ['养殖户张三的猪场已拆除', `养殖户${N}的猪场已拆除`],
    ['店主李四已整改，厂长王大海表示配合', `店主${N}已整改，厂长${N}表示配合`],
    ['房东赵六、车主孙七已约谈', `房东${N}、车主${N}已约谈`],
    // Masked as the staff pages show a name, its surname left: an anonymous report's words are kept so, and an answer may copy it.
    ['本人张**，回龙村养猪场把粪水排到田里', `本人${N}，回龙村养猪场把粪水排到田里`],
    ['已联系张*核实，欧阳**反映属实', `已联系${N}核实，${N}反映属实`],
    ['该厂法定代表人刘建华承认夜间偷排', `该厂法定代表人${N}承认夜间偷排`],
    ['已约谈该企业实际控制人王建军', `已约谈该企业实际控制人${N}`],
    ['业主方代表陈志强已签订整改承诺书', `业主方代表${N}已签订整改承诺书`],
    ['涉事司机杨小龙已被行政拘留', `涉事司机${N}已被行政拘留`],
    ['经营户：何建平；承租人谢文华已搬离', `经营户：${N}；承租人${N}已搬离`],
    ['已责令肇事者邓小平赔偿，养殖场主人吴国平到场', `已责令肇事者${N}赔偿，养殖场主人${N}到场`],
    ['施工方项目经理孙立国表示配合', `施工方项目经理${N}表示配合`],
    // The one reported, named by what their household or they run, as someone called so, or with a number to reach them.
    ['李春花家的小作坊排废水', `${N}家的小作坊排废水`],
    ['张德明开的废品站在烧电线', `${N}开的废品站在烧电线`],
    ['是一个叫赵铁柱的人在倒渣', `是一个叫${N}的人在倒渣`],
    ['请联系张三（13812345678）', `请联系${N}（${P}）`],
    ['找王建国 13912345678', `找${N} ${P}`],
    ['张三电话13812345678', `${N}电话${P}`],
    ['这个归你们环保管吧 电话13812345678', `这个归你们环保管吧 电话${P}`],
    // Described as official texts describe a person.
    ['经查，王建国（男，52岁）在自家院内焚烧电线', `经查，${N}（男，52岁）在自家院内焚烧电线`],
    // Someone named by where their home is, which points at the reporter's too.
    ['我家在回龙村王小明家隔壁', `我家在回龙村${N}家隔壁`],
    // Residents reporting together, and as callers say who is speaking.
    ['我们是盐下村村民刘德华、张学友等，联名举报', `我们是盐下村村民${N}、${N}等，联名举报`],
    ['你好，我这边是王小明，住在回龙村', `你好，我这边是${N}，住在回龙村`],
    // Named only through what they run, or after where they live and 的.
    ['这个废品站由张德明经营，天天烧电线', `这个废品站由${N}经营，天天烧电线`],
    ['那个鱼塘是张德明承包的，张德明天天往里倒饲料', `那个鱼塘是${N}承包的，${N}天天往里倒饲料`],
    ['我家隔壁的陈建军天天烧垃圾', `我家隔壁的${N}天天烧垃圾`],
    ['回龙村三组的杨光辉在河边倒渣，杨光辉说没人管', `回龙村三组的${N}在河边倒渣，${N}说没人管`],
    ['邻居的王五天天烧垃圾', `邻居的${N}天天烧垃圾`],
  ])('hides "%s"', (text, expected) => {
    expect(redactForPublic(text)).toBe(expected);
  });

  it.each([
    // Places after 我是.
    '我是石门村，厂子就在村口',
    '我是马家桥的',
    '我是高家坪，',
    '我是盐下村人',
    // Words after 村民 / 市民 / 家长 / 业主, and what people are.
    '村民田地被污水淹了',
    '市民高度关注',
    '家长陈述孩子头晕',
    '业主李家湾小区门口堆满垃圾',
    '我是村民，',
    '我是司机，',
    '我是想问一下，',
    // 老 / 小 before a word, not before a name.
    '小龙虾养殖场往河里排水',
    '老石灰厂又开工了',
    // What someone does, places and ordinary words after a label, a business after 名字叫.
    '我是养鱼的',
    '我是开车的，',
    '我是程序员，',
    '举报人：石门村村民',
    '本人龙王庙村民',
    '我是石门，家在石门组',
    '我是朱家观，朱家观村口有个厂',
    '举报人方才说过',
    '本人万亩果园',
    '名字叫金渝国际的楼盘',
    '表演者姓名、村名',
    '姓名 保密',
    '姓名 电话 地址',
    '姓名\n电话\n地址',
    '——来自盐下村的反映',
    '此致',
    '此致 区环保局',
    '——宏达化工有限公司',
    '厂老板——王小明，住在村口——天天偷排',
    // Officials by title, places, units and businesses that reported, and words that are no name.
    '王科长反映的问题已处理',
    '王家村反映的问题已处理',
    '据安监站反映，已处罚',
    '金龙公司反映的问题',
    '，向我局反映的问题已处理',
    '回访程序规范',
    // What is reported, when no person: a household's farm, places, units, businesses and ordinary words.
    '举报王家养猪场粪水直排',
    '举报石门村养殖场',
    '投诉王府井街道的工地夜间施工',
    '举报金龙公司偷排',
    '投诉区环保局不作为',
    '举报周边工厂',
    '举报白天噪音',
    '关于回龙村的投诉',
    // A sub-district (街道) or its office where someone is from.
    '我是王府井街道办的',
    '我是王府井街道的居民',
    // The same words with no name after them.
    '当事人已整改到位',
    '当事人于当日整改，向我局提交了报告',
    '养殖户将粪污收集后还田',
    '厂长表示会整改',
    '车主称不知情',
    '已通知司机立即清理，驾驶员是外地人',
    '代表金龙公司签字，代表我局向您致谢',
    '业主方已整改，经理表示配合',
    '具有代表性的问题，经人大代表督促',
    '王家的猪场，他家的狗，厂里开的会，有人开的车',
    // What was opened, and words before a phone word that are no name (from the bundled reports).
    '我们村上游新开的猪场，村里私开的小厂',
    '这个归你们环保管吧 电话',
    '区环保局电话0746-1234567',
    // What is at a place, and who runs a place when a business or an official.
    '回龙村的村委会不管，盐下村的养猪场照样排',
    // Two characters after a place and 的 that begin with a surname: a thing there, not a person.
    '回龙村的黄泥在流，旁边的江水也黑了',
    '由外地承包商经营，由金龙公司经营，由王科长负责',
    '村里新开的厂，尾号限行',
  ])('keeps "%s"', (text) => {
    expect(redactForPublic(text)).toBe(text);
  });

  it.each([
    // A given name ending as place names do (岗, 庄) is a name where nothing says it is a place.
    ['我是王建岗，厂子偷排', `我是${N}，厂子偷排`],
    ['举报人王建岗', `举报人${N}`],
    ['我是李庄，住在村口', `我是${N}，住在村口`],
    ['住在李家岗，我是王建岗', `住在李家岗，我是${N}`],
  ])('hides the name in "%s"', (text, expected) => {
    expect(redactForPublic(text)).toBe(expected);
  });

  it.each([
    ['举报刘老四在河边倒渣，刘老四还威胁我们', `举报${N}在河边倒渣，${N}还威胁我们`],
    ['是刘老四干的', `是${N}干的`],
    ['养猪的王老五天天排粪', `养猪的${N}天天排粪`],
    ['刘老四的养鸡场天天排粪水', `${N}的养鸡场天天排粪水`],
    ['举报张二狗子在河边倒渣', `举报${N}在河边倒渣`],
    ['那个张二狗天天烧垃圾', `那个${N}天天烧垃圾`],
    ['王麻子天天烧垃圾', `${N}天天烧垃圾`],
  ])('hides the nickname in "%s"', (text, expected) => {
    expect(redactForPublic(text)).toBe(expected);
  });

  it.each(['他是钻石王老五', '王麻子剪刀厂在排黑水', '村口马老大爷说夜里有人倒渣', '刘老四村的沟里全是黑水', '领导却成聋子瞎子', '被打成瘸子'])('keeps "%s", which names no one by a nickname', (text) => {
    expect(redactForPublic(text)).toBe(text);
  });

  it.each([
    // A word after a name is not the name's last character: every mention is masked, not the first alone.
    ['物业负责人李明未协调，李明以吉龙物业名义收费', `物业负责人${N}未协调，${N}以吉龙物业名义收费`],
    ['该厂法人肖阳有涉黑嫌疑，肖阳派人恐吓', `该厂法人${N}有涉黑嫌疑，${N}派人恐吓`],
    ['老板刘德却说没排，刘德还威胁我们', `老板${N}却说没排，${N}还威胁我们`],
  ])('hides every mention of the name in "%s"', (text, expected) => {
    expect(redactForPublic(text)).toBe(expected);
  });

  it.each([
    ['备注：父亲唐明应，小妹妹唐清爱，同一个户口', `备注：父亲${N}，小妹妹${N}，同一个户口`],
    ['女儿刘静在镇上完小读二年级，刘静说厂子很臭', `女儿${N}在镇上完小读二年级，${N}说厂子很臭`],
    ['离休干部家属朱蝶辉', `离休干部家属${N}`],
  ])('hides the family member named in "%s"', (text, expected) => {
    expect(redactForPublic(text)).toBe(expected);
  });

  it.each(['他父亲王五是村长', '现在一家人凌乱不堪', '留守妇女儿童中央说要关心', '女儿高中毕业', '妈妈常说'])('keeps "%s", which names no family member of the writer', (text) => {
    expect(redactForPublic(text)).toBe(text);
  });

  it('keeps a given name that ends with 有', () => {
    expect(redactForPublic('村民王富有，家住村口，王富有说厂子夜里排')).toBe(`村民${N}，家住村口，${N}说厂子夜里排`);
  });

  it.each([
    ['i am zhang wei, the plant dumps oil', `i am ${N}, the plant dumps oil`],
    ['Regards, Zhang Wei', `Regards, ${N}`],
    ['I am Mr. Zhang', `I am Mr. ${N}`],
  ])('hides the name in pinyin in "%s"', (text, expected) => {
    expect(redactForPublic(text)).toBe(expected);
  });

  it.each(['我是张家界的，来这里打工', '我是张家界', '我是李家湾，', '我是唐家坳卫生院的护士', '我是马家庄的', '我是李庄的', '我是王岗村的'])(
    'keeps the place in "%s"',
    (text) => {
      expect(redactForPublic(text)).toBe(text);
    },
  );

  it("leaves an official's title after a place and 的, masking their surname as before", () => {
    expect(redactForPublic('回龙村的王书记说会处理')).toBe('回龙村的×书记说会处理');
  });

  it('still hides a surname before a title or after 老 / 小', () => {
    expect(redactForPublic('老王说小李的厂晚上排，王老板不管')).toBe('老×说小×的厂晚上排，×老板不管');
  });

  it('hides a surname after 老 / 小 where a reply greets the reporter by it, as in the text it answers', () => {
    const known = { names: ['陈国强'] };
    expect(redactForPublic('回峰社区废品站烧电线，我是住在旁边的老陈', known)).toBe('回峰社区废品站烧电线，我是住在旁边的老×');
    expect(redactForPublic('老陈您好，已联系陈师傅核实，已取缔。', known)).toBe('老×您好，已联系×师傅核实，已取缔。');
    expect(redactForPublic('小李你好，老张同志反映的问题已处理')).toBe('小×你好，老×同志反映的问题已处理');
    // Who someone is, greeted, stays.
    expect(redactForPublic('老乡您好，老师你好，老同志您好，小朋友你好')).toBe('老乡您好，老师你好，老同志您好，小朋友你好');
  });

  it("hides the reporter's given name alone only as a word of its own", () => {
    const known = { names: ['张国庆'] };
    expect(redactForPublic('国庆节期间厂子停了，过了国庆又开始排', known)).toBe('国庆节期间厂子停了，过了国庆又开始排');
    expect(redactForPublic('张国庆说厂子又排了，国庆，你快来看', known)).toBe(`${N}说厂子又排了，${N}，你快来看`);
    expect(redactForPublic('我是欧阳娜娜，娜娜说过这事', { names: ['欧阳娜娜'] })).toBe(`我是${N}，${N}说过这事`);
    // A reply's greeting addresses the reporter by it: masked all of it, as a greeting is wherever the name is known.
    expect(redactForPublic('尊敬的国庆同志：您好！您反映的问题已处理。', known)).toBe('尊敬的**同志：您好！您反映的问题已处理。');
    expect(redactForPublic('亲爱的国庆：你好', known)).toBe('亲爱的**：你好');
    expect(redactForPublic('尊敬的群众：您好', known)).toBe('尊敬的群众：您好');
  });

  it("hides a hotline caller's number kept with its extension however the text groups the number", () => {
    // The rule for numbers in text does not read 84 44 66 66 as one; the caller's own number is known.
    expect(redactForPublic('有事打84 44 66 66找我')).toBe('有事打84 44 66 66找我');
    expect(redactForPublic('有事打84 44 66 66找我', { phones: ['84446666转123'] })).toBe(`有事打${P}找我`);
  });

  it("hides the reporter's own number in the digits of other scripts and forms", () => {
    expect(redactForPublic('学校电话⓪⑦③①-⑧⑧⑧⑧⑥⑥⑥⑥', { phones: ['0731-88886666'] })).toBe(`学校电话${P}`);
    expect(redactForPublic('家里٨٨٨٨٦٦٦٦，白天不在', { phones: ['0731-88886666'] })).toBe(`家里${P}，白天不在`);
  });
});

describe('redactForPublic: house numbers', () => {
  it.each([
    ['住盐下村12号3栋501室', `住盐下村${H}号${H}栋${H}室`],
    ['解放路8号', `解放路${H}号`],
    ['他家在5号楼3单元', `他家在${H}号楼${H}单元`],
    ['家住3栋', `家住${H}栋`],
    // A 大厦 is as often a home as an office.
    ['住在万达大厦3栋1502室', `住在万达大厦${H}栋${H}室`],
    // A room number written bare after its building or unit.
    ['我住在幸福小区3栋2单元501，楼下油烟很大', `我住在幸福小区${H}栋${H}单元${H}，楼下油烟很大`],
    ['住5号楼1203', `住${H}号楼${H}`],
    // A year after the unit is no room.
    ['住3栋2单元，2025年就建好了', `住${H}栋${H}单元，2025年就建好了`],
    ['3栋2单元2025年就建好了', `${H}栋${H}单元2025年就建好了`],
  ])('hides "%s"', (text, expected) => {
    expect(redactForPublic(text)).toBe(expected);
  });

  it.each([
    '1号排污口一直在排',
    '附近有3户人家',
    '2号井的水变黑了',
    '3栋厂房都在冒烟',
    '坐S1号线到站',
    '11月3号晚上',
    // The floor and room of a public building.
    '回龙圩镇人民政府2楼201室',
    '区环保局3楼302室',
    // A household's name, a boss by what they are.
    '王家隔壁有个厂',
    '老板娘天天烧垃圾',
    '老板是外地人',
  ])('keeps "%s"', (text) => {
    expect(redactForPublic(text)).toBe(text);
  });
});

describe('people named by who they are', () => {
  const fill = (expected: string, name: string, surname: string) => expected.replaceAll('{N}', name).replaceAll('{S}', surname);

  it.each(ROLE_NAMED)('redactForPublic hides the person in "%s"', (input, expected) => {
    expect(redactForPublic(input)).toBe(fill(expected, N, '×'));
  });

  it.each(ROLE_NAMED)('maskNamedByRole hides the person in "%s"', (input, expected) => {
    expect(maskNamedByRole(input)).toBe(fill(expected, ANONYMOUS_NAME, ANONYMOUS_NAME));
  });

  it.each(ROLE_NAMED_NOT)('redactForPublic and maskNamedByRole keep "%s"', (input) => {
    expect(redactForPublic(input)).toBe(input);
    expect(maskNamedByRole(input)).toBe(input);
  });

  it('masks with the mask it is given, and leaves a name masked already', () => {
    expect(maskNamedByRole('网格员张强说，张强会再来', '某某')).toBe('网格员某某说，某某会再来');
    expect(maskNamedByRole('已联系网格员**核实，举报人孙**表示满意')).toBe('已联系网格员**核实，举报人孙**表示满意');
  });

  it('keeps a word the text uses as a place, and an official by surname and title', () => {
    // 石门 is a place here (石门组), not the name of a 村民.
    expect(maskNamedByRole('村民石门说，石门组的沟全黑了')).toBe('村民石门说，石门组的沟全黑了');
    expect(maskNamedByRole('联系人：李科长，网格员王师傅陪同')).toBe('联系人：李科长，网格员王师傅陪同');
  });

  it("does not touch what bureaus read: the bureaus' masking leaves such a name as staff wrote it", () => {
    expect(maskIdentityInText('已联系网格员张强核实，班主任李伟红老师说学生头晕', [], { officials: true })).toBe('已联系网格员张强核实，班主任李伟红老师说学生头晕');
  });
});
