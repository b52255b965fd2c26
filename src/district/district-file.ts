import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DistrictConfigError, parseDistrictJson, type District } from './district.schema.js';

/** The district file on disk (Node); the Workers build imports the JSON instead. */

export const DEFAULT_DISTRICT_PATH = fileURLToPath(new URL('./default.district.json', import.meta.url));

/** Reads and validates a district file from disk. */
export function loadDistrictFile(path: string = DEFAULT_DISTRICT_PATH): District {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new DistrictConfigError(path, [`cannot read: ${(err as Error).message}`]);
  }
  return parseDistrictJson(text, path);
}
