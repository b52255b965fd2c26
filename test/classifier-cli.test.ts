import { existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectDatabase, migrateToLatest } from '../db/connect.js';
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

  it('refuses a labelled file that is not UTF-8, or whose line is no JSON, naming the line and never quoting it', async () => {
    const gbk = join(dir, 'gbk.jsonl');
    // {"text":"工地噪音","label":"noise"} on line 2, in GBK.
    const utf8Line = Buffer.from('{"text":"厂子排黑水","label":"water_pollution"}\n');
    writeFileSync(gbk, Buffer.concat([utf8Line, Buffer.from('{"text":"', 'latin1'), Buffer.from([0xb9, 0xa4, 0xb5, 0xd8, 0xd4, 0xeb, 0xd2, 0xf4]), Buffer.from('","label":"noise"}\n', 'latin1')]));
    const broken = join(dir, 'broken.jsonl');
    writeFileSync(broken, '{"text":"王小明 13912345678 举报排污","label":"water_pollution"\n');
    const [encoding, json] = await Promise.all([classifier(db, 'evaluate', '--file', gbk), classifier(db, 'evaluate', '--file', broken)]);
    expect(encoding.code).toBe(1);
    expect(encoding.stderr).toBe(`classifier: ${gbk} line 2: not valid UTF-8 (a GBK or GB18030 file must be converted to UTF-8 first)\n`);
    expect(encoding.stdout).toBe('');
    expect(json.code).toBe(1);
    expect(json.stderr).toMatch(new RegExp(`^classifier: ${broken} line 1: not valid JSON \\(at character \\d+\\)\\n$`));
    expect(json.stderr).not.toMatch(/王小明|13912345678/);
  });

  it('refuses to score a labelled file that holds no texts, rather than print scores of zero', async () => {
    const empty = join(dir, 'empty.jsonl');
    writeFileSync(empty, '\n');
    const run = await classifier(db, 'evaluate', '--file', empty);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`classifier: ${empty} holds no labelled texts: one {"text", "label"} a line\n`);
    expect(run.stdout).toBe('');
  });

  it('refuses to train, before training, when CLASSIFIER_DIR cannot be written, naming it', async () => {
    // The service's database, as its first start leaves it.
    const service = join(dir, 'service.db');
    const handle = connectDatabase(service);
    await migrateToLatest(handle.db);
    await handle.db.destroy();
    const notDir = join(dir, 'a-file');
    writeFileSync(notDir, 'not a directory\n');
    const target = join(notDir, 'classifier');
    const run = await runCli('classifier', ['train'], { env: { DATABASE_URL: service, DISTRICT_CONFIG: '', CLASSIFIER_DIR: target } });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`classifier: cannot save the model in ${target} (CLASSIFIER_DIR): ENOTDIR; set CLASSIFIER_DIR to a directory the tool can write\n`);
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
