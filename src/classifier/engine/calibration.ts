/**
 * Turning linear scores into probabilities.
 *
 * p = softmax(scores · (1 − u)^γ / T), where u is the share of the input's
 * TF-IDF mass on features the model never saw. A text the model knows
 * (u ≈ 0.1) keeps nearly its full scores; a text made of unknown material
 * (random letters, an unrelated topic: u → 1) has its scores — bias included
 * — flattened towards zero, so its distribution approaches uniform and its
 * confidence drops instead of following whichever class has the largest
 * bias. (Mixing a uniform prior in, p = (1 − m)·softmax + m/K, does the same
 * for unfamiliar text but lets the temperature fit run off to zero on small
 * training sets, where the mixture alone explains the held-out errors.)
 *
 * T is fitted by maximum likelihood on held-out scores from cross-validation
 * folds, with the (1 − u)^γ factor included, so in-domain confidences stay
 * calibrated. γ is either given or chosen with T from a small grid that
 * starts at 1 (so unfamiliar text is always flattened at least in proportion
 * to its unknown mass): short texts, whose unknown share varies a lot while
 * they are still read right, tend to want a small γ.
 *
 * Texts written mostly in Latin letters (reports in English among Chinese
 * ones) get a temperature of their own when the folds held out enough of both
 * kinds: their scores are spread differently (words of letters, whose
 * character n-grams say little), and one temperature for both would flatten
 * the confidences of the Chinese texts to fit the English ones, or make the
 * English ones overconfident.
 */

export interface CalibrationSample {
  readonly scores: Float64Array;
  readonly label: number;
  readonly unknown: number;
  /** Written mostly in Latin letters (`isLatinText`). */
  readonly latin: boolean;
}

/** Fewest held-out texts of each kind for the Latin ones to get a temperature of their own. */
export const MIN_SCRIPT_SAMPLES = 100;

/**
 * Whether a text is written mostly in Latin letters: more of them than twice
 * its ideographs (an English report naming 盐下村 is; 工厂COD超标 is not).
 */
export function isLatinText(text: string): boolean {
  let letters = 0;
  let ideographs = 0;
  for (let i = 0; i < text.length; i++) {
    const u = text.charCodeAt(i);
    if ((u >= 0x61 && u <= 0x7a) || (u >= 0x41 && u <= 0x5a)) letters++;
    else if ((u >= 0x4e00 && u <= 0x9fff) || (u >= 0x3400 && u <= 0x4dbf) || (u >= 0xd840 && u <= 0xd87f)) ideographs++;
  }
  return letters > 2 * ideographs;
}

/** Factor applied to the scores of a text with unknown mass `unknown`. */
export function familiarity(unknown: number, oodExponent: number): number {
  return (1 - Math.min(1, Math.max(0, unknown))) ** oodExponent;
}

/** Writes p into `out` (length K) and returns it. */
export function calibratedProbabilities(
  scores: ArrayLike<number>,
  temperature: number,
  unknown: number,
  oodExponent: number,
  out: Float64Array,
): Float64Array {
  const k = out.length;
  const scale = familiarity(unknown, oodExponent) / temperature;
  let max = -Infinity;
  for (let i = 0; i < k; i++) if (scores[i]! > max) max = scores[i]!;
  let sum = 0;
  for (let i = 0; i < k; i++) {
    const e = Math.exp((scores[i]! - max) * scale);
    out[i] = e;
    sum += e;
  }
  for (let i = 0; i < k; i++) out[i]! /= sum;
  return out;
}

/** Mean negative log-likelihood of the true labels. */
function nll(samples: readonly CalibrationSample[], k: number, temperature: number, oodExponent: number): number {
  const p = new Float64Array(k);
  let total = 0;
  for (const s of samples) {
    calibratedProbabilities(s.scores, temperature, s.unknown, oodExponent, p);
    total -= Math.log(Math.max(p[s.label]!, 1e-12));
  }
  return total / samples.length;
}

/**
 * Temperature minimising held-out NLL: golden-section search on log T over
 * [0.001, 100] (the NLL is unimodal in T for a fixed score matrix).
 */
export function fitTemperature(samples: readonly CalibrationSample[], k: number, oodExponent: number): number {
  if (samples.length === 0) return 1;
  let lo = Math.log(0.001);
  let hi = Math.log(100);
  const phi = (Math.sqrt(5) - 1) / 2;
  let x1 = hi - phi * (hi - lo);
  let x2 = lo + phi * (hi - lo);
  let f1 = nll(samples, k, Math.exp(x1), oodExponent);
  let f2 = nll(samples, k, Math.exp(x2), oodExponent);
  for (let i = 0; i < 40; i++) {
    if (f1 <= f2) {
      hi = x2;
      x2 = x1;
      f2 = f1;
      x1 = hi - phi * (hi - lo);
      f1 = nll(samples, k, Math.exp(x1), oodExponent);
    } else {
      lo = x1;
      x1 = x2;
      f1 = f2;
      x2 = lo + phi * (hi - lo);
      f2 = nll(samples, k, Math.exp(x2), oodExponent);
    }
  }
  return Math.exp((lo + hi) / 2);
}

export interface Calibration {
  temperature: number;
  /** Temperature of texts written mostly in Latin letters (the same as `temperature` unless fitted apart). */
  latinTemperature: number;
  oodExponent: number;
}

/**
 * Temperature for each candidate γ; keeps the pair with the lowest held-out
 * NLL. With at least MIN_SCRIPT_SAMPLES held-out texts in Latin letters and as
 * many others, each kind then gets its own temperature at that γ.
 */
export function fitCalibration(
  samples: readonly CalibrationSample[],
  k: number,
  exponents: readonly number[],
): Calibration {
  let best = { temperature: 1, oodExponent: exponents[0] ?? 1, nll: Infinity };
  for (const oodExponent of exponents) {
    const temperature = fitTemperature(samples, k, oodExponent);
    const value = nll(samples, k, temperature, oodExponent);
    if (value < best.nll) best = { temperature, oodExponent, nll: value };
  }
  const latin = samples.filter((s) => s.latin);
  const other = samples.filter((s) => !s.latin);
  if (latin.length < MIN_SCRIPT_SAMPLES || other.length < MIN_SCRIPT_SAMPLES) {
    return { temperature: best.temperature, latinTemperature: best.temperature, oodExponent: best.oodExponent };
  }
  return {
    temperature: fitTemperature(other, k, best.oodExponent),
    latinTemperature: fitTemperature(latin, k, best.oodExponent),
    oodExponent: best.oodExponent,
  };
}
