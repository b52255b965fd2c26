import { getFastTextClass, getFastTextModule, type FastTextModel } from 'fasttext.wasm.js';
import { evaluatePredictions, type EvaluationReport, type LabelledExample } from '../../../src/classifier/engine/index.js';

/**
 * The fastText baseline of bench:classify: fastText's own supervised
 * training (the WASM build from npm, trained here, offline) on the same
 * split, with the settings of fastText's text-classification tutorial
 * (lr 1.0, 25 epochs, word bigrams). Chinese has no spaces between words, so
 * each character is a token: the "word" bigrams are character bigrams.
 */

export const FASTTEXT_OPTIONS = { epoch: 25, lr: 1.0, wordNgrams: 2, loss: 'softmax', verbose: 0 } as const;

/** One line of space-separated tokens: each CJK character alone, runs of other characters kept together. */
const oneLine = (text: string) =>
  text
    .replace(/([\u3400-\u9fff\uf900-\ufaff])/g, ' $1 ')
    .replace(/\s+/g, ' ')
    .trim();
const labelToken = (label: string) => `__label__${label.replace(/\s+/g, '_')}`;

export async function fastTextBaseline(
  train: readonly LabelledExample[],
  test: readonly LabelledExample[],
): Promise<{ report: EvaluationReport; seconds: number }> {
  const FastText = await getFastTextClass({ getFastTextModule });
  const ft = new FastText();
  const labels = new Map(train.map((e) => [labelToken(e.label), e.label]));
  const lines = train.map((e) => `${labelToken(e.label)} ${oneLine(e.text)}`).join('\n');
  const started = process.hrtime.bigint();
  // The library reads its training file from a URL: the split goes in as a data: URL, nothing is written to disk.
  const model = (await ft.trainSupervised(`data:text/plain;base64,${Buffer.from(`${lines}\n`).toString('base64')}`, FASTTEXT_OPTIONS, () => undefined)) as FastTextModel;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const pairs = test.map((e) => {
    const top = model.predict(oneLine(e.text), 1, 0);
    const predicted = top.size() > 0 ? (labels.get(top.get(0)[1]) ?? null) : null;
    top.delete();
    return { actual: e.label, predicted };
  });
  return { report: evaluatePredictions(pairs), seconds };
}
