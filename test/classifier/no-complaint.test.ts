import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_EXAMPLES_PATH, DEFAULT_HELDOUT_PATH, loadOrTrain, NO_COMPLAINT_PATH } from '../../src/classifier/classifier-store.js';
import { evaluate, parseExamplesJsonl, parseTextsJsonl, type LabelledExample, type LinearClassifier } from '../../src/classifier/engine/index.js';
import { loadDistrictFile } from '../../src/district/district-file.js';
import type { Classifier } from '../../src/pipeline/classifier.js';
import { decideRoute } from '../../src/pipeline/route.js';
import { tempDir } from '../harness.js';

/**
 * Messages without a complaint in them — greetings, thanks, questions about the service, a
 * place's name, a name or a phone number alone, test messages —, in Chinese and English, written
 * apart from the ones the model learns from (no-complaint.default.jsonl): training never reads them.
 */
const HELDOUT_NO_COMPLAINT_PATH = new URL('../../src/classifier/data/no-complaint.heldout.jsonl', import.meta.url);
const HELDOUT_EN_PATH = new URL('../../src/classifier/data/heldout.en.jsonl', import.meta.url);
/**
 * Short complaints as residents write them — 投诉/举报 and whom or what, 张大爷家在烧垃圾, The river is full of dead
 * fish —, in Chinese and English, written apart from the examples the model learns from: training never reads them.
 */
const HELDOUT_SHORT_PATH = new URL('../../src/classifier/data/complaint-short.heldout.jsonl', import.meta.url);

const district = loadDistrictFile();
const noComplaint = parseTextsJsonl(readFileSync(HELDOUT_NO_COMPLAINT_PATH, 'utf8'));
const chinese = parseExamplesJsonl(readFileSync(DEFAULT_HELDOUT_PATH, 'utf8'));
const english = parseExamplesJsonl(readFileSync(HELDOUT_EN_PATH, 'utf8'));
const short = parseExamplesJsonl(readFileSync(HELDOUT_SHORT_PATH, 'utf8'), { allowedLabels: [...district.types.keys()] });

let withRules: LinearClassifier;
let modelOnly: LinearClassifier;
beforeAll(() => {
  withRules = loadOrTrain({ district, examplesPath: DEFAULT_EXAMPLES_PATH, dir: tempDir() }).classifier;
  modelOnly = withRules.withRuntime({});
}, 120_000);

function dispatchedRight(classifier: Classifier, examples: readonly LabelledExample[]): number {
  const min = district.file.classifier.minConfidence;
  return examples.filter((e) => {
    const c = classifier.classify(e.text);
    return c.type === e.label && c.confidence >= min;
  }).length / examples.length;
}

describe('messages that hold no complaint (no-complaint.heldout.jsonl)', () => {
  it('are at least 30, in Chinese and in English, and none is a text the model learns from', () => {
    expect(noComplaint.length).toBeGreaterThanOrEqual(30);
    expect(noComplaint.filter((t) => /[\u4e00-\u9fff]/.test(t)).length).toBeGreaterThanOrEqual(15);
    expect(noComplaint.filter((t) => /^[\x20-\x7e]+$/.test(t) && /[a-z]/i.test(t)).length).toBeGreaterThanOrEqual(15);
    const learned = new Set(
      [...parseTextsJsonl(readFileSync(NO_COMPLAINT_PATH, 'utf8')), ...parseExamplesJsonl(readFileSync(DEFAULT_EXAMPLES_PATH, 'utf8')).map((e) => e.text)].map((t) => t.trim().toLowerCase()),
    );
    expect(noComplaint.filter((t) => learned.has(t.trim().toLowerCase()))).toEqual([]);
  });

  it('go to triage for a dispatcher, never straight to a bureau or to 12345', () => {
    const routed = noComplaint
      .map((text) => ({ text, classification: withRules.classify(text) }))
      .map(({ text, classification }) => ({ text, classification, route: decideRoute(district, classification, null, { urgent: false, reasons: [] }) }))
      .filter(({ route }) => route.outcome !== 'triage')
      .map(({ text, classification }) => `${text} → ${classification.type} ${classification.confidence.toFixed(3)}`);
    expect(routed).toEqual([]);
  });
});

describe('short complaints (complaint-short.heldout.jsonl)', () => {
  it('are at least 60 in Chinese and 20 in English, short, and none is a text the model learns from', () => {
    expect(short.filter((e) => /[\u4e00-\u9fff]/.test(e.text)).length).toBeGreaterThanOrEqual(60);
    expect(short.filter((e) => /^[\x20-\x7e]+$/.test(e.text)).length).toBeGreaterThanOrEqual(20);
    expect(short.filter((e) => [...e.text].length > 70)).toEqual([]);
    const learned = new Set(
      [...parseTextsJsonl(readFileSync(NO_COMPLAINT_PATH, 'utf8')), ...parseExamplesJsonl(readFileSync(DEFAULT_EXAMPLES_PATH, 'utf8')).map((e) => e.text)].map((t) => t.trim().toLowerCase()),
    );
    expect(short.filter((e) => learned.has(e.text.trim().toLowerCase()))).toEqual([]);
  });

  it('are dispatched, or handed to 12345 when not environmental, rather than left to a dispatcher', () => {
    const triaged = short.filter((e) => decideRoute(district, withRules.classify(e.text), null, { urgent: false, reasons: [] }).outcome === 'triage');
    // 95 of 99 (96.0 %); 92 (92.9 %) while the check read 投诉 and 举报, which lead questions about the service
    // (请问怎么举报), as evidence against a complaint: it doubted 投诉李四私自焚烧秸秆 (0.35) and 举报曹某夜里用大喇叭放歌 (0.30).
    expect(1 - triaged.length / short.length, triaged.map((e) => e.text).join(' | ')).toBeGreaterThanOrEqual(0.95);
  });
});

describe('complaints, with the check that there is one', () => {
  // Before the check: macro-F1 0.923 (Chinese) and 0.973 (English) without the rules, 0.915 and 0.983
  // with them; right and at least minConfidence with the rules 88.7 % and 97.4 %.
  it.each([
    ['Chinese', 'model alone', () => modelOnly, chinese, 0.918],
    ['Chinese', 'with the rules', () => withRules, chinese, 0.91],
    ['English', 'model alone', () => modelOnly, english, 0.968],
    ['English', 'with the rules', () => withRules, english, 0.977],
  ] as const)('%s held-out reports, %s: read as their type as before (macro-F1 at most 0.005 lower)', (_lang, _how, classifier, examples, min) => {
    expect(evaluate(classifier(), examples).macroF1).toBeGreaterThanOrEqual(min);
  });

  it('are still dispatched: read right and sure enough on the held-out files', () => {
    // 87.7 % and 96.5 % with the check (87.4 % while it read 投诉 and 举报); a short report the check doubts
    // (公积金提取要多久到账) waits for a dispatcher.
    expect(dispatchedRight(withRules, chinese)).toBeGreaterThanOrEqual(0.865);
    expect(dispatchedRight(withRules, english)).toBeGreaterThanOrEqual(0.95);
  });

  it('that greet, name their place or end with thanks are still complaints', () => {
    for (const text of [
      '你好，回龙村有人在河边烧垃圾，烟好大，谢谢',
      '兴隆办事处朱家观村后山有人倒废机油',
      '喂你好我是回龙村的刘**我要举报村后面的养猪场',
      '盐下村电镀厂晚上偷排废水。我是学校老师，电话0731-88886666',
      'Hello, this is Yanxia Village: a pig farm lets manure run into the river every night. Thanks',
    ]) {
      const c = withRules.classify(text);
      expect(decideRoute(district, c, null, { urgent: false, reasons: [] }).outcome, text).toBe('dispatch');
    }
  });
});
