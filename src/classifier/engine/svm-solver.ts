/**
 * One-vs-rest linear SVM trained by dual coordinate descent with shrinking
 * (Hsieh et al. 2008, the algorithm behind LIBLINEAR's default solver). Each
 * class gets a binary problem "this class vs the rest"; the bias is an extra
 * constant feature (value 1) that is regularised like the others.
 */
import type { SparseRows } from './corpus.js';
import { createRng, shuffleInPlace } from './rng.js';

export interface SvmOptions {
  /** Inverse regularisation strength. */
  C: number;
  /** 'squared-hinge' (L2-loss, smoother, the usual choice) or 'hinge'. */
  loss: 'squared-hinge' | 'hinge';
  /** Re-weight C per class inversely to its frequency ('balanced') or not. */
  classWeight: 'balanced' | 'none';
  /** Stop when the projected-gradient spread falls below this. */
  tolerance: number;
  maxIterations: number;
  seed: number;
}

export interface OvrWeights {
  /** One weight vector per class, each of length `dimension`. */
  readonly weights: Float64Array[];
  readonly bias: Float64Array;
}

export function trainOneVsRest(
  x: SparseRows,
  labels: Int32Array,
  classCount: number,
  dimension: number,
  options: SvmOptions,
): OvrWeights {
  const n = x.rows;
  const perClass = new Int32Array(classCount);
  for (let i = 0; i < n; i++) perClass[labels[i]!]!++;
  const sqNorm = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let p = x.rowPtr[i]!; p < x.rowPtr[i + 1]!; p++) s += x.val[p]! * x.val[p]!;
    sqNorm[i] = s;
  }
  const weights: Float64Array[] = [];
  const bias = new Float64Array(classCount);
  for (let k = 0; k < classCount; k++) {
    const cPos =
      options.classWeight === 'balanced' && perClass[k]! > 0
        ? (options.C * n) / (classCount * perClass[k]!)
        : options.C;
    const result = trainBinary(x, sqNorm, labels, k, cPos, options.C, dimension, options, options.seed + k);
    weights.push(result.w);
    bias[k] = result.b;
  }
  return { weights, bias };
}

function trainBinary(
  x: SparseRows,
  sqNorm: Float64Array,
  labels: Int32Array,
  positive: number,
  cPos: number,
  cNeg: number,
  dimension: number,
  options: SvmOptions,
  seed: number,
): { w: Float64Array; b: number } {
  const { rowPtr, col, val } = x;
  const n = x.rows;
  const w = new Float64Array(dimension);
  let b = 0;
  const alpha = new Float64Array(n);
  const y = new Int8Array(n);
  const diag = new Float64Array(n);
  const upper = new Float64Array(n);
  const qd = new Float64Array(n);
  const squared = options.loss === 'squared-hinge';
  for (let i = 0; i < n; i++) {
    y[i] = labels[i] === positive ? 1 : -1;
    const c = y[i] === 1 ? cPos : cNeg;
    diag[i] = squared ? 0.5 / c : 0;
    upper[i] = squared ? Infinity : c;
    qd[i] = sqNorm[i]! + 1 + diag[i]!; // + 1 for the bias feature
  }
  const index = new Int32Array(n);
  for (let i = 0; i < n; i++) index[i] = i;
  const rng = createRng(seed);
  let active = n;
  let pgMaxOld = Infinity;
  let pgMinOld = -Infinity;

  for (let iter = 0; iter < options.maxIterations; iter++) {
    let pgMax = -Infinity;
    let pgMin = Infinity;
    shuffleInPlace(index, rng, active);
    for (let s = 0; s < active; s++) {
      const i = index[s]!;
      const yi = y[i]!;
      let g = b;
      const from = rowPtr[i]!;
      const to = rowPtr[i + 1]!;
      for (let p = from; p < to; p++) g += w[col[p]!]! * val[p]!;
      g = g * yi - 1 + alpha[i]! * diag[i]!;
      const a = alpha[i]!;
      const u = upper[i]!;
      let pg = 0;
      if (a === 0) {
        if (g > pgMaxOld) {
          active--;
          index[s] = index[active]!;
          index[active] = i;
          s--;
          continue;
        } else if (g < 0) pg = g;
      } else if (a === u) {
        if (g < pgMinOld) {
          active--;
          index[s] = index[active]!;
          index[active] = i;
          s--;
          continue;
        } else if (g > 0) pg = g;
      } else pg = g;
      if (pg > pgMax) pgMax = pg;
      if (pg < pgMin) pgMin = pg;
      if (Math.abs(pg) > 1e-12) {
        const next = Math.min(Math.max(a - g / qd[i]!, 0), u);
        const d = (next - a) * yi;
        alpha[i] = next;
        for (let p = from; p < to; p++) w[col[p]!]! += d * val[p]!;
        b += d;
      }
    }
    if (pgMax - pgMin <= options.tolerance) {
      if (active === n) break;
      // Converged on the active set: check everything once more.
      active = n;
      pgMaxOld = Infinity;
      pgMinOld = -Infinity;
      continue;
    }
    pgMaxOld = pgMax <= 0 ? Infinity : pgMax;
    pgMinOld = pgMin >= 0 ? -Infinity : pgMin;
  }
  return { w, b };
}
