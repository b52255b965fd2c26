/**
 * A small made-up taxonomy for classifier tests: four kinds of complaint,
 * examples generated from hand-written core sentences, places and endings.
 */
import type { LabelledExample } from '../../src/classifier/engine/index.js';

const CORES: Record<string, string[]> = {
  noise: [
    '工地晚上施工噪音很大吵得睡不着',
    '半夜机器轰鸣声音扰民',
    '广场舞音响太吵影响休息',
    '装修电钻噪音每天早上六点就开始',
    '夜里搅拌机噪声不停',
    '工厂冲床声音很响整夜扰民',
    '货车夜间鸣笛噪音吵闹',
    'KTV音乐声太大吵到凌晨',
  ],
  smoke: [
    '工厂烟囱冒黑烟气味刺鼻',
    '有人焚烧秸秆浓烟呛人',
    '露天烧垃圾冒烟熏得人头疼',
    '锅炉排放黑烟把衣服都熏黑了',
    '烧烤摊油烟很大呛得咳嗽',
    '砖厂烟尘弥漫空气很差',
    '晚上偷偷焚烧废料烟味很重',
    '沥青厂冒出刺鼻的浓烟',
  ],
  sewage: [
    '养猪场污水直接排进小河',
    '工厂把废水排到沟里河水发黑',
    '污水管道破裂臭水流进池塘',
    '洗车店废水排入河道',
    '小河被污水染黑鱼都死了',
    '化粪池满了污水溢到路上',
    '造纸厂偷排废水河面泡沫很多',
    '排污口流出黄色的脏水进入水库',
  ],
  garbage: [
    '路边垃圾堆成山没人清运',
    '有人往荒地倾倒建筑垃圾',
    '小区垃圾桶满了好几天没人收',
    '河滩上堆满生活垃圾',
    '村口垃圾乱堆乱放苍蝇很多',
    '半夜有车偷偷倾倒垃圾',
    '菜市场垃圾遍地无人打扫',
    '山坡上被人倒了大量装修垃圾',
  ],
};

export const PLACES = ['回龙村', '兴隆办事处', '八字桥社区', '李家塘', '朱家观村', '盐下村'];
const ENDINGS = ['，请尽快处理。', '，希望有关部门管一管。', '，已经持续一个月了。', '。'];

/**
 * Eight examples per class: every core sentence once, with a place and an
 * ending (each core only once, so held-out folds see genuinely new texts).
 */
export function syntheticExamples(): LabelledExample[] {
  const examples: LabelledExample[] = [];
  let n = 0;
  for (const [label, cores] of Object.entries(CORES)) {
    for (const core of cores) {
      examples.push({ text: `${PLACES[n % PLACES.length]}${core}${ENDINGS[n % ENDINGS.length]}`, label });
      n++;
    }
  }
  return examples;
}

/** New texts, worded differently from the examples, with their true class. */
export const NEW_TEXTS: ReadonlyArray<{ text: string; label: string }> = [
  { text: '我家旁边的工地每天晚上施工，噪音吵得孩子没法睡觉', label: 'noise' },
  { text: '楼下广场舞音响声音太大，天天扰民', label: 'noise' },
  { text: '附近工厂的烟囱一直冒黑烟，气味非常刺鼻', label: 'smoke' },
  { text: '村里有人焚烧垃圾和秸秆，浓烟呛得人受不了', label: 'smoke' },
  { text: '养殖场的污水排进了河里，河水发黑发臭', label: 'sewage' },
  { text: '工厂偷排废水到水库，水面全是泡沫', label: 'sewage' },
  { text: '路边堆了很多生活垃圾，好久没人清运', label: 'garbage' },
  { text: '有人开车到荒地倾倒建筑垃圾', label: 'garbage' },
];

/** Text that looks like nothing the examples talk about. */
export const UNFAMILIAR_TEXTS: readonly string[] = [
  'qzxv wprt jklm bvnx yqwe',
  '请问明天下午的篮球比赛几点开始，门票在哪里买',
  'Lorem ipsum dolor sit amet consectetur adipiscing elit',
];
