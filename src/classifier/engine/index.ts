/**
 * The trained classifier engine. See linear.classifier.ts for the model,
 * phrase-rules.ts for how district rules combine with it, calibration.ts for
 * confidences and unfamiliar text.
 */
export {
  DEFAULT_OPTIONS,
  LinearClassifier,
  loadModel,
  MODEL_FORMAT,
  MODEL_VERSION,
  resolveOptions,
  trainClassifier,
  trainingFingerprint,
  type CrossValidation,
  type LinearModelJson,
  type LinearModelOptions,
  type RuntimeOptions,
  type TrainOptions,
} from './linear.classifier.js';
export { NaiveBayesClassifier, trainNaiveBayes, type NaiveBayesOptions } from './naive-bayes.classifier.js';
export {
  evaluate,
  evaluatePredictions,
  type ClassMetrics,
  type Confusion,
  type EvaluateOptions,
  type EvaluationReport,
} from './evaluate.js';
export {
  ExampleError,
  examplesOf,
  hashExamples,
  parseExamplesJsonl,
  parseTextsJsonl,
  validateExamples,
  type LabelledExample,
  type ParseExamplesOptions,
} from './examples.js';
export { PhraseRuleSet, type PhraseRule, type RuleMatch } from './phrase-rules.js';
