/**
 * The classifier contract the pipeline depends on. The intake worker only
 * sees this interface: the rule classifier (phrase rules from the district
 * file) and the trained classifier both implement it.
 */

export interface Evidence {
  /** The phrase or feature as it appears in (or was derived from) the input text. */
  phrase: string;
  /** How much it weighed towards the chosen type (positive = for it). */
  weight: number;
  /** Where it came from: a district phrase rule or a learned feature. */
  source: 'rule' | 'model';
  /** Character offsets of the phrase in the input text, when it occurs literally. */
  start?: number;
  end?: number;
}

export interface TypeScore {
  type: string;
  confidence: number;
}

export interface Classification {
  /** Best type code, or null when nothing points anywhere (goes to triage). */
  type: string | null;
  /** Calibrated probability of `type` being right, 0..1. */
  confidence: number;
  runnerUp: TypeScore | null;
  evidence: Evidence[];
  /** Which engine produced it, with its version, e.g. "rules@1" or "linear@<hash>". */
  engine: string;
}

export interface Classifier {
  classify(text: string): Classification;
}
