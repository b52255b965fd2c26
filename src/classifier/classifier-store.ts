import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { District } from '../district/district.schema.js';
import type { Logger } from '../logger.js';
import { makeDirs } from '../storage/make-dirs.js';
import { bundledExamplesFor } from './bundled-examples.js';
import { districtRules } from './district-rules.js';
import { noComplaintOptions } from './no-complaint.js';
import {
  loadModel,
  parseExamplesJsonl,
  trainClassifier,
  trainingFingerprint,
  type LabelledExample,
  type LinearClassifier,
  type LinearModelJson,
  type PhraseRule,
} from './engine/index.js';

/**
 * Where the service's model comes from. At start: the artifact written by
 * the last `npm run classifier -- train` when it was trained on the current
 * example file, else a cached artifact for the example file alone, else a
 * fresh training run (cached for next time). Retraining adds the people's
 * corrections from the database to the example file. Every run also learns
 * to tell complaints from the messages that hold none (no-complaint.ts).
 */

export const DEFAULT_EXAMPLES_PATH = fileURLToPath(new URL('./data/examples.default.jsonl', import.meta.url));
export const DEFAULT_HELDOUT_PATH = fileURLToPath(new URL('./data/heldout.default.jsonl', import.meta.url));
/** Messages without a complaint (greetings, thanks, questions about the service), for every district. */
export const NO_COMPLAINT_PATH = fileURLToPath(new URL('./data/no-complaint.default.jsonl', import.meta.url));

/** The artifact on disk: the model plus what it was trained from. */
interface Artifact {
  /** Of the examples, the messages without a complaint and the rules' phrases (`trainingFingerprint(…).dataHash`). */
  examplesHash: string;
  corrections: number;
  trainedAt: string;
  model: LinearModelJson;
}

export interface LoadedClassifier {
  classifier: LinearClassifier;
  origin: 'retrained' | 'cache' | 'trained';
  examples: number;
  corrections: number;
}

export { districtRules };

/** The example file for a district: named in its file (relative to it), else the bundled default. */
export function examplesPathFor(district: District, districtPath: string | undefined): string {
  const named = district.file.classifier.examples;
  if (named) return resolve(districtPath ? dirname(districtPath) : process.cwd(), named);
  return DEFAULT_EXAMPLES_PATH;
}

/** An example file that cannot be read. */
export class ExamplesFileError extends Error {
  override readonly name = 'ExamplesFileError';
}

/**
 * The labelled examples of a file, each label one of the district's types: a
 * district's own file must hold no other label; of the bundled files, the
 * examples of types the district file dropped are left out (`logger` says so).
 */
export function readExamples(path: string, district: District, logger?: Pick<Logger, 'warn'>): LabelledExample[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new ExamplesFileError(`cannot read classifier examples ${path}: ${(err as Error).message}`);
  }
  let content: string;
  try {
    content = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    // A GBK / GB18030 file read as UTF-8 would train or score on garbled texts without a word.
    const line = new TextDecoder('utf-8').decode(bytes).split('\n').findIndex((l) => l.includes('\uFFFD')) + 1;
    throw new ExamplesFileError(`${path} line ${line}: not valid UTF-8 (a GBK or GB18030 file must be converted to UTF-8 first)`);
  }
  if (path === DEFAULT_EXAMPLES_PATH || path === DEFAULT_HELDOUT_PATH) {
    return bundledExamplesFor(parseExamplesJsonl(content, { source: path }), district, logger);
  }
  return parseExamplesJsonl(content, { allowedLabels: [...district.types.keys()], source: path });
}

function writeAtomic(path: string, content: string): void {
  makeDirs(dirname(path));
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, content);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

function readArtifact(path: string): Artifact | null {
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Artifact;
  } catch {
    return null;
  }
}

export interface StoreOptions {
  district: District;
  examplesPath: string;
  /** Directory for artifacts (CLASSIFIER_DIR). */
  dir: string;
  logger?: Logger;
}

/** The messages without a complaint (the bundled file) and the district's place names. */
function readNoComplaint(district: District): { noComplaint: string[]; places: string[] } {
  return noComplaintOptions(readFileSync(NO_COMPLAINT_PATH, 'utf8'), district);
}

export function loadOrTrain(opts: StoreOptions): LoadedClassifier {
  const rules = districtRules(opts.district);
  const examples = readExamples(opts.examplesPath, opts.district, opts.logger);
  const check = readNoComplaint(opts.district);
  const { fingerprint, dataHash: examplesHash } = trainingFingerprint(examples, { rules, ...check });

  const current = readArtifact(join(opts.dir, 'current.json'));
  if (current && current.examplesHash === examplesHash) {
    const classifier = tryLoad(current, rules, opts.logger);
    if (classifier) return { classifier, origin: 'retrained', examples: examples.length, corrections: current.corrections };
  }
  // The cache key covers the examples, the messages without a complaint, the
  // rules' phrases, the training options and the engine's
  // model version, so a changed engine never loads an artifact it cannot read.
  const cachePath = join(opts.dir, `examples-${fingerprint.slice(0, 24)}.json`);
  const cached = readArtifact(cachePath);
  if (cached && cached.examplesHash === examplesHash) {
    const classifier = tryLoad(cached, rules, opts.logger);
    if (classifier) return { classifier, origin: 'cache', examples: examples.length, corrections: 0 };
  }
  const started = performance.now();
  const classifier = trainClassifier(examples, { rules, ...check });
  opts.logger?.info(
    { examples: examples.length, ms: Math.round(performance.now() - started) },
    'classifier trained from the example file',
  );
  const artifact: Artifact = { examplesHash, corrections: 0, trainedAt: new Date().toISOString(), model: classifier.toJSON() };
  try {
    writeAtomic(cachePath, JSON.stringify(artifact));
  } catch (err) {
    // A cache: the service runs on the model just trained, and trains again at its next start.
    opts.logger?.warn(
      { dir: opts.dir, err: (err as Error).message },
      `classifier model not kept: cannot write in CLASSIFIER_DIR ${opts.dir}; it is trained again at each start`,
    );
  }
  return { classifier, origin: 'trained', examples: examples.length, corrections: 0 };
}

/** An artifact this engine cannot read (older model version, damaged file) is ignored, not fatal. */
function tryLoad(artifact: Artifact, rules: PhraseRule[], logger: Logger | undefined): LinearClassifier | null {
  try {
    return loadModel(artifact.model, rules);
  } catch (err) {
    logger?.warn({ err: (err as Error).message }, 'classifier artifact ignored; training again');
    return null;
  }
}

/** Trains on the example file plus corrections and makes it the model the service loads. */
export function retrain(
  opts: StoreOptions & { corrections: LabelledExample[] },
): { classifier: LinearClassifier; examples: number; corrections: number; ms: number } {
  const rules = districtRules(opts.district);
  const examples = readExamples(opts.examplesPath, opts.district, opts.logger);
  const check = readNoComplaint(opts.district);
  const known = new Set(opts.district.types.keys());
  const corrections = opts.corrections.filter((c) => known.has(c.label) && c.text.trim() !== '');
  const started = performance.now();
  const classifier = trainClassifier([...examples, ...corrections], { rules, ...check });
  const ms = performance.now() - started;
  const artifact: Artifact = {
    examplesHash: trainingFingerprint(examples, { rules, ...check }).dataHash,
    corrections: corrections.length,
    trainedAt: new Date().toISOString(),
    model: classifier.toJSON(),
  };
  writeAtomic(join(opts.dir, 'current.json'), JSON.stringify(artifact));
  return { classifier, examples: examples.length, corrections: corrections.length, ms };
}
