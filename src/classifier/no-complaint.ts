import type { District } from '../district/district.schema.js';
import { parseTextsJsonl } from './engine/index.js';

/**
 * What the model learns to tell complaints from (TrainOptions.noComplaint and places):
 * the bundled file's greetings, thanks, questions about the service, contact details
 * and test messages, and the district's place names — in Chinese and English, with
 * their aliases —, which the check reads texts without. Node and Workers train on
 * the same.
 */
export function noComplaintOptions(fileText: string, district: District): { noComplaint: string[]; places: string[] } {
  const places = district.file.jurisdictions.flatMap((j) => [j.name.zh, j.name.en, ...j.aliases, ...j.places, ...j.englishNames]);
  return { noComplaint: parseTextsJsonl(fileText, { source: 'no-complaint.default.jsonl' }), places: [...new Set(places)] };
}
