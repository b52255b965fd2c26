import { beforeAll, describe, expect, it } from 'vitest';
import {
  loadModel,
  PhraseRuleSet,
  trainClassifier,
  trainingFingerprint,
  type LinearClassifier,
} from '../../src/classifier/engine/index.js';
import { checkedParts, checkedText, PlaceNames } from '../../src/classifier/engine/complaint-check.js';
import { NEW_TEXTS, PLACES, syntheticExamples, UNFAMILIAR_TEXTS } from './synthetic-taxonomy.js';

let model: LinearClassifier;
beforeAll(() => {
  model = trainClassifier(syntheticExamples());
});

describe('trainClassifier', () => {
  it('learns the labels it was given', () => {
    expect(model.labels).toEqual(['garbage', 'noise', 'sewage', 'smoke']);
    expect(model.engine).toMatch(/^linear@[0-9a-f]{8}$/);
  });

  it('classifies new wordings of each kind of complaint correctly', () => {
    for (const { text, label } of NEW_TEXTS) {
      const result = model.classify(text);
      expect(result.type, text).toBe(label);
      expect(result.runnerUp?.type).not.toBe(label);
      expect(result.confidence).toBeGreaterThan(result.runnerUp?.confidence ?? 0);
    }
  });

  it('classifies text that is already word-segmented with spaces', () => {
    expect(model.classify('晚上 工地 施工 噪音 吵 得 睡不着').type).toBe('noise');
    expect(model.classify('工厂 偷排 废水 河水 发黑').type).toBe('sewage');
  });

  it('gives clearly lower confidence to text unlike any example', () => {
    const familiar = NEW_TEXTS.map(({ text }) => model.classify(text).confidence);
    const unfamiliar = UNFAMILIAR_TEXTS.map((text) => model.classify(text).confidence);
    expect(Math.max(...unfamiliar)).toBeLessThan(Math.min(...familiar) - 0.3);
    // Four labels: near the uniform 0.25, far from the 0.5 the pipeline's triage threshold uses.
    for (const c of unfamiliar) expect(c).toBeLessThan(0.4);
  });

  it('returns no type when nothing in the text is known', () => {
    for (const text of ['', '   ', '？！……']) {
      expect(model.classify(text)).toMatchObject({ type: null, confidence: 0, runnerUp: null, evidence: [] });
    }
  });

  it('names real phrases of the input, with their offsets, as evidence', () => {
    const text = '　ＫＴＶ旁边，有人往荒地倾倒建筑垃圾！';
    const result = model.classify(text);
    expect(result.type).toBe('garbage');
    expect(result.evidence.length).toBeGreaterThan(0);
    for (const e of result.evidence) {
      expect(e.source).toBe('model');
      expect(e.weight).toBeGreaterThan(0);
      expect(text.slice(e.start, e.end)).toBe(e.phrase);
    }
    const phrases = result.evidence.map((e) => e.phrase);
    expect(phrases.some((p) => p.includes('垃圾'))).toBe(true);
    // Strongest first, no two overlapping.
    const weights = result.evidence.map((e) => e.weight);
    expect(weights).toEqual([...weights].sort((a, b) => b - a));
    const spans = result.evidence.map((e) => [e.start!, e.end!] as const).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
  });

  it('reads a report with a web address pasted in (a video\'s share link) as the report without it', () => {
    for (const { text, label } of NEW_TEXTS) {
      const plain = model.classify(text);
      for (const link of ['https://v.douyin.com/iRNBho6u/', 'http://www.example.com/video?id=1234567890&from=share', 'www.example.cn/a/b']) {
        // With spaces around it, and glued to the words as a phone's paste leaves it.
        for (const withLink of [`${text} 视频在这里 ${link} 请尽快处理`, `${text}，视频${link}请尽快处理`]) {
          const read = model.classify(withLink);
          expect(read.type, withLink).toBe(label);
          expect(read.confidence, withLink).toBeGreaterThan(plain.confidence - 0.15);
          for (const e of read.evidence) {
            expect(withLink.slice(e.start, e.end)).toBe(e.phrase);
            expect(link.includes(e.phrase) && !text.includes(e.phrase), `${e.phrase} of ${withLink}`).toBe(false);
          }
        }
      }
    }
  });

  it('maps evidence back through full-width letters and spaces', () => {
    const text = 'ＫＴＶ 音乐声 太大，吵到凌晨';
    const result = model.classify(text);
    expect(result.type).toBe('noise');
    for (const e of result.evidence) expect(text.slice(e.start, e.end)).toBe(e.phrase);
  });

  it('chooses the naive-Bayes feature scaling on its calibration folds, or takes it as given', () => {
    expect([0, 1]).toContain(model.toJSON().nbSmoothingUsed);
    expect(model.crossValidation?.heldOut).toBe(syntheticExamples().length);
    const plain = trainClassifier(syntheticExamples(), { nbSmoothing: 0, calibrationFolds: 0 });
    expect(plain.toJSON().nbSmoothingUsed).toBe(0);
    expect(plain.crossValidation).toBeNull();
    for (const { text, label } of NEW_TEXTS) expect(plain.classify(text).type).toBe(label);
  });

  it('is deterministic: the same examples and options give the same model', () => {
    const again = trainClassifier(syntheticExamples());
    expect(again.toJSON()).toEqual(model.toJSON());
  });

  it('rejects broken examples and single-label sets', () => {
    expect(() => trainClassifier([{ text: '噪音', label: 'noise' }, { text: '', label: 'smoke' }])).toThrow(
      /example #2: empty text/,
    );
    expect(() => trainClassifier(syntheticExamples(), { allowedLabels: ['noise', 'smoke'] })).toThrow(
      /example #17: label "sewage" is not one of: noise, smoke/,
    );
    expect(() => trainClassifier([{ text: '噪音', label: 'noise' }, { text: '吵', label: 'noise' }])).toThrow(
      /at least two labels/,
    );
  });
});

describe('phrase rules', () => {
  // A text the model reads as noise, mentioning a phrase a district rule gives to smoke.
  const text = '工地晚上施工噪音很大，还有一股焦糊味';

  it('shift the decision towards the rule type and show up as rule evidence', () => {
    const before = model.distribution(text);
    expect(before[0]!.type).toBe('noise');
    const p = (type: string): number => before.find((s) => s.type === type)!.confidence;
    // A rule worth a little more than the log-odds of noise over smoke flips the decision.
    const weight = Math.ceil(Math.log(p('noise') / p('smoke'))) + 2;
    const withRule = model.withRuntime({ rules: [{ type: 'smoke', text: '焦糊味', weight }] });
    const result = withRule.classify(text);
    expect(result.type).toBe('smoke');
    expect(result.runnerUp?.type).toBe('noise');
    const rule = result.evidence.find((e) => e.source === 'rule');
    expect(rule).toEqual({ phrase: '焦糊味', weight, source: 'rule', start: 15, end: 18 });
    expect(withRule.engine).not.toBe(model.engine);
  });

  it('add weight × ruleScale to the log-odds of their type', () => {
    const base = model.distribution(text);
    const p = (d: typeof base, type: string): number => d.find((s) => s.type === type)!.confidence;
    const shifted = model.withRuntime({ rules: [{ type: 'smoke', text: '焦糊味', weight: 1 }], ruleScale: 2 });
    const after = shifted.distribution(text);
    // Renormalising cancels in ratios: smoke's odds against every other type grow by e^(1 × 2).
    for (const other of ['noise', 'sewage', 'garbage']) {
      const before = Math.log(p(base, 'smoke') / p(base, other));
      const afterRule = Math.log(p(after, 'smoke') / p(after, other));
      expect(afterRule - before).toBeCloseTo(2, 6);
    }
    expect(p(after, 'smoke')).toBeGreaterThan(p(base, 'smoke'));
  });

  it('match across spaces and case, and count once however often they occur', () => {
    const withRule = model.withRuntime({ rules: [{ type: 'sewage', text: 'ktv污水', weight: 2 }] });
    const once = withRule.classify('KTV 污水');
    expect(once.type).toBe('sewage');
    expect(once.evidence[0]).toEqual({ phrase: 'KTV 污水', weight: 2, source: 'rule', start: 0, end: 6 });
    const twice = withRule.classify('KTV 污水，ktv污水');
    expect(twice.evidence.filter((e) => e.source === 'rule')).toHaveLength(1);
  });

  it('in Latin letters fire where a word starts, not inside a longer word', () => {
    const rules = new PhraseRuleSet(
      [
        { type: 'smoke', text: 'dust', weight: 1 },
        { type: 'sewage', text: 'oil', weight: 1 },
        { type: 'noise', text: 'pig farm', weight: 1 },
      ],
      ['smoke', 'sewage', 'noise'],
    );
    const fired = (text: string) => rules.match(text).map((m) => text.slice(m.start, m.end));
    expect(fired('The industrial soil is black')).toEqual([]);
    expect(fired('Dust and OIL, from the pig farms')).toEqual(['pig farm', 'Dust', 'OIL']);
    expect(fired('industrial dust; waste-oil')).toEqual(['dust', 'oil']);
    expect(fired('soil and oil')).toEqual(['oil']);
    expect(fired('工厂dust很大')).toEqual(['dust']);
  });

  it("match an apostrophe as phones type it (’, ʼ) as the phrase's own '", () => {
    const rules = new PhraseRuleSet([{ type: 'noise', text: "can't sleep", weight: 1 }], ['noise']);
    for (const text of ["I can't sleep", 'I can’t sleep at night', 'I canʼt sleep']) expect(rules.match(text).map((m) => text.slice(m.start, m.end)), text).toEqual([text.slice(2, 13)]);
    expect(rules.match('I can sleep')).toEqual([]);
  });

  it('give every occurrence of each phrase to take out of a text, a rule still firing once', () => {
    const rules = new PhraseRuleSet(
      [
        { type: 'place', text: '盐下村', weight: 1 },
        { type: 'place', text: '盐下', weight: 1 },
        { type: 'place', text: 'Yanxia', weight: 1 },
      ],
      ['place'],
    );
    const text = '盐下村的厂，盐下的河，盐 下 村的人；Yanxia, NotYanxia, YANXIA';
    const every = rules.matchEvery(text).map((m) => [text.slice(m.start, m.end), m.start]);
    // In the order of the text; 盐下 inside 盐下村 is not found again, 'Yanxia' inside a word is not found.
    expect(every).toEqual([
      ['盐下村', 0],
      ['盐下', 6],
      ['盐 下 村', 11],
      ['Yanxia', 19],
      ['YANXIA', 38],
    ]);
    // match: each rule once, longer phrases first, at its first occurrence outside a longer one of its type: 盐下 first
    // occurs inside 盐下村, and fires where it stands alone further on.
    expect(rules.match(text).map((m) => [text.slice(m.start, m.end), m.start])).toEqual([
      ['Yanxia', 19],
      ['盐下村', 0],
      ['盐下', 6],
    ]);
    // Found only inside 盐下村, wherever that is, it does not fire.
    const inside = '盐下村的厂，又是盐下村';
    expect(rules.match(inside).map((m) => [inside.slice(m.start, m.end), m.start])).toEqual([['盐下村', 0]]);
  });

  it('must name a type the model knows, unless told to leave such rules out', () => {
    const rules = [
      { type: 'noise', text: '噪音', weight: 1 },
      { type: 'noize', text: '吵', weight: 1 },
    ];
    expect(() => model.withRuntime({ rules })).toThrow(
      /phrase rule #2 \("吵"\): type "noize" is not one of the model's labels/,
    );
    const lenient = model.withRuntime({ rules, unknownRuleTypes: 'ignore' });
    expect(lenient.ignoredRules).toEqual([rules[1]]);
    expect(lenient.classify('夜里很吵，噪音扰民').evidence.filter((e) => e.source === 'rule')).toEqual([
      { phrase: '噪音', weight: 1, source: 'rule', start: 5, end: 7 },
    ]);
  });
});

describe('toJSON / loadModel', () => {
  it('round-trips to identical predictions through JSON text', () => {
    const json = JSON.stringify(model.toJSON());
    const loaded = loadModel(json);
    const texts = [...NEW_TEXTS.map((t) => t.text), ...UNFAMILIAR_TEXTS, '晚上 工地 施工 噪音'];
    for (const text of texts) expect(loaded.classify(text)).toEqual(model.classify(text));
    expect(loaded.labels).toEqual(model.labels);
    expect(loaded.fingerprint).toBe(model.fingerprint);
    expect(loaded.engine).toBe(model.engine);
  });

  it('takes the phrase rules at load time', () => {
    const rules = [{ type: 'smoke', text: '焦糊味', weight: 30 }];
    const loaded = loadModel(model.toJSON(), rules);
    const direct = model.withRuntime({ rules });
    expect(loaded.classify('工地晚上施工噪音很大，还有一股焦糊味')).toEqual(
      direct.classify('工地晚上施工噪音很大，还有一股焦糊味'),
    );
  });

  it('records a fingerprint of the training data and options to tell a stale cache', () => {
    const examples = syntheticExamples();
    const json = model.toJSON();
    expect(trainingFingerprint(examples).fingerprint).toBe(json.fingerprint);
    const changed = [...examples, { text: '夜里工厂噪音很大', label: 'noise' }];
    expect(trainingFingerprint(changed).fingerprint).not.toBe(json.fingerprint);
    expect(trainingFingerprint(examples, { C: 3 }).fingerprint).not.toBe(json.fingerprint);
    expect(trainingFingerprint(examples, { C: 3 }).dataHash).toBe(json.dataHash);
  });

  it('refuses an artifact of another format or a damaged one', () => {
    const json = model.toJSON();
    expect(() => loadModel({ ...json, version: 99 as typeof json.version })).toThrow(/version 99 is not supported/);
    expect(() => loadModel({ ...json, weights: json.weights.slice(0, 100) })).toThrow(/model weights: expected/);
    const { C: _dropped, ...withoutC } = json.options;
    expect(() => loadModel({ ...json, options: withoutC as typeof json.options })).toThrow(/option C missing/);
  });
});

describe('the complaint check (noComplaint)', () => {
  const NO_COMPLAINT = ['你好', '您好，在吗', '谢谢', '多谢你们', '好的', '收到', '请问怎么举报', '多久能回复', '测试', '我姓王', '电话13800001111'];
  let checked: LinearClassifier;
  beforeAll(() => {
    checked = trainClassifier(syntheticExamples(), { noComplaint: NO_COMPLAINT, places: PLACES });
  });

  it('leaves a model trained without such messages as it was', () => {
    expect(model.complaintProbability('你好')).toBe(1);
    expect(model.toJSON().complaintModel).toBeNull();
  });

  it('keeps the type of every complaint, and the confidence to dispatch it', () => {
    for (const { text, label } of NEW_TEXTS) {
      const result = checked.classify(text);
      expect(result.type, text).toBe(label);
      expect(result.confidence, text).toBeGreaterThan(0.5);
    }
  });

  it('takes a greeting or places alone for no complaint: every type is unlikely', () => {
    // Without the check, a place alone leans to some type past the triage threshold.
    for (const text of ['兴隆办事处那边', '在兴隆办事处']) expect(model.classify(text).confidence, text).toBeGreaterThan(0.5);
    for (const text of ['兴隆办事处那边', '在兴隆办事处', '盐下村', '你好呀', '你好，请问在吗']) {
      expect(checked.complaintProbability(text), text).toBeLessThan(0.5);
      expect(checked.classify(text).confidence, text).toBeLessThan(0.3);
      const total = checked.distribution(text).reduce((sum, t) => sum + t.confidence, 0);
      expect(total).toBeCloseTo(checked.complaintProbability(text), 10);
    }
  });

  it('reads a complaint that opens with 举报 or 投诉 as the complaint it makes, not as a question about the service', () => {
    // 请问怎么举报 is among the messages without a complaint: the word alone must not make a complaint look like one.
    for (const { text } of NEW_TEXTS) {
      const alone = checked.complaintProbability(text);
      expect(alone, text).toBeGreaterThan(0.5);
      for (const opened of [`举报${text}`, `投诉：${text}`, `Report: ${text}`]) expect(checked.complaintProbability(opened), opened).toBeCloseTo(alone, 6);
      expect(checked.complaintProbability(`我要投诉，${text}`)).toBeGreaterThan(0.5);
    }
    // Said alone, the words hold no complaint.
    for (const text of ['举报', '投诉！', 'complaint']) expect(checked.complaintProbability(text), text).toBe(0);
    for (const text of ['我要举报', '请问怎么投诉']) expect(checked.complaintProbability(text), text).toBeLessThan(0.5);
  });

  it('reads a text without every place it names, however often, and without every word that says a complaint is made', () => {
    const places = new PlaceNames(PLACES);
    expect(checkedText('盐下村的厂往河里排污水，盐下村的人都闻到了', places)).toBe('，的厂往河里排污水，，的人都闻到了');
    expect(checkedText('投诉回龙村养猪场，我要投诉，回龙村', places)).toBe('，，养猪场，我要，，，');
    // A place named twice is still only a place.
    for (const text of ['盐下村，盐下村', '回龙村、李家塘、回龙村', '举报李家塘 李家塘']) expect(checked.complaintProbability(text), text).toBe(0);
  });

  it('reads the whole text and each clause as the check itself would read each of them alone', () => {
    // The check analyses a text once and takes each clause's features from it, or reads the clause alone where
    // that could differ (spaces in it, a word across its breaks as in 3.5): the answer must be the same.
    const json = checked.toJSON();
    const check = loadModel(json.complaintModel!);
    const places = new PlaceNames(PLACES);
    const odds = (p: number): number => Math.log(p) - Math.log1p(-Math.min(p, 1 - 1e-12));
    const reference = (text: string): number => {
      let p = 0;
      for (const part of checkedParts(checkedText(text, places))) {
        p = Math.max(p, check.distribution(part).find((d) => d.type === 'complaint')!.confidence);
        if (p >= 0.999) break;
      }
      return p === 0 ? 0 : 1 / (1 + Math.exp(-(odds(p) - odds(json.complaintShare))));
    };
    const texts = [
      ...NEW_TEXTS.map((t) => t.text),
      ...NEW_TEXTS.map((t) => `你好，${t.text}，谢谢，电话13800001111`),
      '你好，兴隆办事处那边工地晚上施工，噪音很大，谢谢',
      '吵，臭，烟',
      '工地晚上施工\n噪音很大\n睡不着，好的',
      'PM2.5超标了，工厂冒黑烟，3.5吨垃圾',
      '我要举报，工地 晚上 施工 噪音，谢谢',
      'hello, the factory smoke, thanks',
      '在吗？盐下村。',
      '好的，收到，谢谢',
    ];
    for (const text of texts) {
      expect(checked.complaintProbability(text), text).toBe(reference(text));
      // classify reads the check's whole text from its own features when nothing was stripped: the same again.
      const total = checked.distribution(text).reduce((sum, t) => sum + t.confidence, 0);
      expect(total, text).toBeCloseTo(reference(text), 12);
    }
  });

  it('reads a district phrase in the text as evidence of a complaint, as of its type', () => {
    const rules = [{ type: 'noise', text: '吵死了', weight: 2 }];
    const text = '隔壁吵死了';
    const ruled = checked.withRuntime({ rules });
    expect(ruled.complaintProbability(text)).toBeGreaterThan(checked.complaintProbability(text));
    const odds = (p: number): number => Math.log(p / (1 - p));
    expect(odds(ruled.complaintProbability(text)) - odds(checked.complaintProbability(text))).toBeCloseTo(2, 6);
  });

  it('round-trips through JSON, and its training data is part of the fingerprint', () => {
    const loaded = loadModel(JSON.stringify(checked.toJSON()));
    expect(loaded.complaintProbability('兴隆办事处那边')).toBe(checked.complaintProbability('兴隆办事处那边'));
    for (const text of [...NEW_TEXTS.map((t) => t.text), '你好呀', '兴隆办事处那边']) expect(loaded.classify(text)).toEqual(checked.classify(text));
    const examples = syntheticExamples();
    const fingerprint = (options: Parameters<typeof trainingFingerprint>[1]): string => trainingFingerprint(examples, options).fingerprint;
    expect(checked.fingerprint).toBe(fingerprint({ noComplaint: NO_COMPLAINT, places: PLACES }));
    expect(fingerprint({ noComplaint: NO_COMPLAINT })).not.toBe(fingerprint({}));
    expect(fingerprint({ noComplaint: NO_COMPLAINT, places: PLACES })).not.toBe(fingerprint({ noComplaint: NO_COMPLAINT }));
    expect(fingerprint({ noComplaint: [...NO_COMPLAINT, '再见'] })).not.toBe(fingerprint({ noComplaint: NO_COMPLAINT }));
    // The rules' phrases are complaints the check learns from (and evidence it reads).
    const rules = [{ type: 'noise', text: '吵死了', weight: 2 }];
    expect(fingerprint({ noComplaint: NO_COMPLAINT, rules })).not.toBe(fingerprint({ noComplaint: NO_COMPLAINT }));
    expect(fingerprint({ rules })).toBe(fingerprint({}));
  });
});
