import type { District } from '../district/district.schema.js';
import type { Logger } from '../logger.js';
import { examplesOf, type LabelledExample } from './engine/index.js';

/**
 * The bundled example files are written for the default taxonomy. A district
 * file made from the default one may drop types: their examples are left out,
 * with one warning saying how many of each (Node and Workers alike).
 */
export function bundledExamplesFor(examples: LabelledExample[], district: District, logger: Pick<Logger, 'warn'> | undefined): LabelledExample[] {
  const { kept, leftOut } = examplesOf(examples, district.types.keys());
  if (Object.keys(leftOut).length > 0) logger?.warn({ types: leftOut }, 'classifier: the bundled examples of types the district file does not have are left out');
  return kept;
}
