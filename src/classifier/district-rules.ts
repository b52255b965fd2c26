import type { District } from '../district/district.schema.js';
import type { PhraseRule } from './engine/index.js';

/** The district file's phrase rules, which the model adds to its types' log-odds as priors. */
export function districtRules(district: District): PhraseRule[] {
  return district.file.types.flatMap((t) => t.phrases.map((p) => ({ type: t.code, text: p.text, weight: p.weight })));
}
