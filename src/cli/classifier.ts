/**
 * npm run classifier -- train              retrain on the example file plus people's corrections
 * npm run classifier -- evaluate [--file F] score the service's current model on a labelled file
 *
 * Uses the same DATABASE_URL, DISTRICT_CONFIG and CLASSIFIER_DIR as the service;
 * a running service picks up the retrained model at its next start.
 */
import { accessSync, constants, mkdirSync } from 'node:fs';
import { connectDatabase, migrateToLatest } from '../../db/connect.js';
import { listCorrections } from '../../db/repositories/corrections.repository.js';
import {
  DEFAULT_EXAMPLES_PATH,
  DEFAULT_HELDOUT_PATH,
  examplesPathFor,
  loadOrTrain,
  readExamples,
  retrain,
} from '../classifier/classifier-store.js';
import { evaluate } from '../classifier/engine/index.js';
import { loadDistrictFile } from '../district/district-file.js';
import { parseEnv } from '../env.js';
import { missingSqliteDatabase } from './cli-input.js';
import { CommandError, parseCommandLine, runTool, UsageError } from './command-line.js';

const USAGE = `usage: npm run classifier -- <command>

  train
      retrain on the district's example file plus the dispatchers' and operators'
      corrections from the database; the model is saved in CLASSIFIER_DIR and a
      running service uses it after its next start
  evaluate [--file FILE]
      score the service's current model on a labelled file (one {"text", "label"}
      a line); --file is required when the district has its own example file

Reads DATABASE_URL, DISTRICT_CONFIG and CLASSIFIER_DIR like the service. train
needs the service's database (the service creates it on its first start).`;

const OPTIONS = {
  file: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseCommandLine(argv, OPTIONS);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const [command, ...extra] = positionals;
  if (command !== 'train' && command !== 'evaluate') throw new UsageError(command ? `unknown command "${command}"` : 'no command given');
  if (extra.length > 0) throw new UsageError(`unexpected ${extra.join(' ')}`);
  if (command === 'train' && values.file !== undefined) throw new UsageError('train takes no --file');
  if (values.file !== undefined && values.file.trim() === '') throw new UsageError('--file is empty: give the labelled file');
  const env = parseEnv(process.env);
  const district = loadDistrictFile(env.DISTRICT_CONFIG);
  const examplesPath = examplesPathFor(district, env.DISTRICT_CONFIG);

  if (command === 'train') {
    // Corrections come from the service's database: a mistyped DATABASE_URL must not become a new, empty one.
    const missing = missingSqliteDatabase(env.DATABASE_URL);
    if (missing) throw new CommandError(missing);
    // Where the model is saved, checked before the training it would otherwise throw away.
    try {
      mkdirSync(env.CLASSIFIER_DIR, { recursive: true });
      accessSync(env.CLASSIFIER_DIR, constants.W_OK);
    } catch (err) {
      throw new CommandError(`cannot save the model in ${env.CLASSIFIER_DIR} (CLASSIFIER_DIR): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; set CLASSIFIER_DIR to a directory the tool can write`);
    }
    const { db } = connectDatabase(env.DATABASE_URL);
    try {
      await migrateToLatest(db);
      const corrections = await listCorrections(db);
      const result = retrain({ district, examplesPath, dir: env.CLASSIFIER_DIR, corrections });
      const cv = result.classifier.crossValidation;
      console.log(`trained on ${result.examples} examples + ${result.corrections} corrections in ${(result.ms / 1000).toFixed(2)} s`);
      if (cv) console.log(`cross-validation on ${cv.heldOut} texts: accuracy ${cv.accuracy.toFixed(3)}, macro-F1 ${cv.macroF1.toFixed(3)}`);
      if (examplesPath === DEFAULT_EXAMPLES_PATH) {
        const report = evaluate(result.classifier, readExamples(DEFAULT_HELDOUT_PATH, district));
        console.log(`held-out file (${report.total} texts): accuracy ${report.accuracy.toFixed(3)}, macro-F1 ${report.macroF1.toFixed(3)}`);
      }
      console.log(`model ${result.classifier.engine} saved in ${env.CLASSIFIER_DIR}; restart the service to use it`);
    } finally {
      await db.destroy();
    }
    return;
  }

  if (command === 'evaluate') {
    const file = values.file ?? (examplesPath === DEFAULT_EXAMPLES_PATH ? DEFAULT_HELDOUT_PATH : undefined);
    if (!file) throw new UsageError('evaluate needs --file FILE for this district (it has its own example file)');
    const labelled = readExamples(file, district);
    // Scores over nothing would read as a model that gets everything wrong.
    if (labelled.length === 0) throw new CommandError(`${file} holds no labelled texts: one {"text", "label"} a line`);
    const { classifier, origin } = loadOrTrain({ district, examplesPath, dir: env.CLASSIFIER_DIR });
    const report = evaluate(classifier, labelled);
    console.log(`model ${classifier.engine} (${origin}) on ${file}`);
    for (const m of report.perClass) {
      console.log(`  ${m.label.padEnd(24)} P ${m.precision.toFixed(3)}  R ${m.recall.toFixed(3)}  F1 ${m.f1.toFixed(3)}  n ${m.support}`);
    }
    console.log(`accuracy=${report.accuracy.toFixed(3)} macroF1=${report.macroF1.toFixed(3)}`);
  }
}

// A labelled file the tool cannot read or parse is told in one line, like every other failure.
runTool('classifier', USAGE, () => main(process.argv.slice(2)), { oneLine: true });
