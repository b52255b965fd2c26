import examplesText from '../classifier/data/examples.default.jsonl';
import noComplaintText from '../classifier/data/no-complaint.default.jsonl';
import { districtRules } from '../classifier/district-rules.js';
import { bundledExamplesFor } from '../classifier/bundled-examples.js';
import { noComplaintOptions } from '../classifier/no-complaint.js';
import { parseExamplesJsonl, trainClassifier } from '../classifier/engine/index.js';
import type { District } from '../district/district.schema.js';
import type { Logger } from '../logger.js';
import type { Classification, Classifier } from '../pipeline/classifier.js';
import { createRuleClassifier } from '../pipeline/rule-classifier.js';

/**
 * The classifier on Workers. There is no file system to cache a trained
 * artifact in, so the example file is bundled as a text module (a wrangler
 * rule), as is the file of messages without a complaint, and the model is
 * trained once per isolate, as on Node (classifier-store.ts), on the first
 * classification: about 3 s of CPU on the build machine (the complaint check
 * a sixth of it), within the 30 s CPU a Worker invocation gets by default;
 * every later classification in the isolate takes well under a millisecond. (A prebuilt model would load in a
 * tenth of the time but is a 2.8 MB JSON artifact in the bundle, and goes
 * stale silently when the examples change.) A district that sets
 * `classifier.engine: "rules"` gets the phrase rules alone, with no training.
 * Retraining with the dispatchers' corrections is a Node tool
 * (`npm run classifier -- train`); its artifact is not loaded here.
 */
export function lazyClassifier(district: District, logger: Logger): Classifier {
  if (district.file.classifier.engine === 'rules') return createRuleClassifier(district);
  if (district.file.classifier.examples) {
    // A file path means nothing in a Worker; only the bundled example file is there.
    logger.warn({ examples: district.file.classifier.examples }, 'classifier: the district names its own example file; Workers train on the bundled default examples');
  }
  let model: Classifier | null = null;
  const get = (): Classifier => {
    if (!model) {
      const started = performance.now();
      const examples = bundledExamplesFor(parseExamplesJsonl(examplesText, { source: 'examples.default.jsonl' }), district, logger);
      model = trainClassifier(examples, { rules: districtRules(district), ...noComplaintOptions(noComplaintText, district) });
      logger.info({ examples: examples.length, ms: Math.round(performance.now() - started) }, 'classifier trained from the bundled example file');
    }
    return model;
  };
  return {
    classify(text: string): Classification {
      return get().classify(text);
    },
  };
}
