/**
 * npm run classifier -- train              retrain on the example file plus people's corrections
 * npm run classifier -- evaluate [--file F] score the service's current model on a labelled file
 *
 * Uses the same DATABASE_URL, DISTRICT_CONFIG and CLASSIFIER_DIR as the service;
 * a running service picks up the retrained model at its next start.
 */
import { parseArgs } from 'node:util';
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

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { file: { type: 'string' } },
  });
  const command = positionals[0];
  const env = parseEnv(process.env);
  const district = loadDistrictFile(env.DISTRICT_CONFIG);
  const examplesPath = examplesPathFor(district, env.DISTRICT_CONFIG);

  if (command === 'train') {
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
    if (!file) throw new Error('evaluate needs --file FILE for this district');
    const { classifier, origin } = loadOrTrain({ district, examplesPath, dir: env.CLASSIFIER_DIR });
    const report = evaluate(classifier, readExamples(file, district));
    console.log(`model ${classifier.engine} (${origin}) on ${file}`);
    for (const m of report.perClass) {
      console.log(`  ${m.label.padEnd(24)} P ${m.precision.toFixed(3)}  R ${m.recall.toFixed(3)}  F1 ${m.f1.toFixed(3)}  n ${m.support}`);
    }
    console.log(`accuracy=${report.accuracy.toFixed(3)} macroF1=${report.macroF1.toFixed(3)}`);
    return;
  }

  throw new Error('usage: npm run classifier -- train | evaluate [--file FILE]');
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
