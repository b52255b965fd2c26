import { existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir, type CliRun } from './harness.js';

/** Runs the classifier tool as its own process, the way `npm run classifier -- …` does. */
function classifier(databaseUrl: string, ...args: string[]): Promise<CliRun> {
  return runCli('classifier', args, {
    env: { DATABASE_URL: databaseUrl, DISTRICT_CONFIG: '', CLASSIFIER_DIR: join(tmpdir(), 'intake-test-classifier') },
  });
}

// Every command is a fresh Node process compiling TypeScript: allow for a busy machine.
describe('npm run classifier', { timeout: 60_000 }, () => {
  const dir = tempDir('classifier-cli-');
  const db = join(dir, 'intake.db');

  it('prints its usage for --help, with exit status 0', async () => {
    const run = await classifier(db, '--help');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('usage: npm run classifier -- <command>');
    expect(run.stdout).toContain('evaluate [--file FILE]');
  });

  it.concurrent.each([
    ['no command', [], 'classifier: no command given'],
    ['an unknown command', ['retrain'], 'classifier: unknown command "retrain"'],
    ['an unknown option', ['evaluate', '--flie', 'x.jsonl'], "'--flie'"],
    ['an option given twice', ['evaluate', '--file', 'a', '--file', 'b'], '--file is given more than once'],
    ['--file with train', ['train', '--file', 'a'], 'train takes no --file'],
    ['an empty --file', ['evaluate', '--file', ''], '--file is empty'],
  ])('refuses %s with exit status 2, naming it, and the usage', async (_what, args, problem) => {
    const run = await classifier(db, ...args);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(problem);
    expect(run.stderr).toContain('usage: npm run classifier');
    expect(run.stderr).not.toContain('    at ');
  });

  it('refuses to score a labelled file that holds no texts, rather than print scores of zero', async () => {
    const empty = join(dir, 'empty.jsonl');
    writeFileSync(empty, '\n');
    const run = await classifier(db, 'evaluate', '--file', empty);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`classifier: ${empty} holds no labelled texts: one {"text", "label"} a line\n`);
    expect(run.stdout).toBe('');
  });

  it('refuses to train on a DATABASE_URL whose SQLite file does not exist, and creates nothing', async () => {
    const missing = join(dir, 'typo', 'intake.db');
    const run = await classifier(missing, 'train');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`classifier: no SQLite database at ${missing} (DATABASE_URL=${missing})`);
    expect(run.stdout).toBe('');
    expect(existsSync(join(dir, 'typo'))).toBe(false);
  });
});
