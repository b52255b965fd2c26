import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { connectDatabase, migrateToLatest } from '../db/connect.js';
import { recordCorrection } from '../db/repositories/corrections.repository.js';
import { DEFAULT_EXAMPLES_PATH, examplesPathFor, loadOrTrain } from '../src/classifier/classifier-store.js';
import { buildDistrict } from '../src/district/district.schema.js';
import { DEFAULT_DISTRICT_PATH, loadDistrictFile } from '../src/district/district-file.js';
import { captureLogs, compiled, onCleanup, tempDir } from './harness.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const district = loadDistrictFile();

function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const [node, cli] = compiled('src/cli/classifier.ts');
    const child = spawn(node, [cli, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

describe('the service classifier', () => {
  it('is trained from the example file once, then loaded from the cache', () => {
    const dir = tempDir();
    const first = loadOrTrain({ district, examplesPath: DEFAULT_EXAMPLES_PATH, dir });
    const second = loadOrTrain({ district, examplesPath: DEFAULT_EXAMPLES_PATH, dir });
    expect([first.origin, second.origin]).toEqual(['trained', 'cache']);
    const text = '兴隆那边养猪场的粪水排到沟里';
    expect(second.classifier.classify(text)).toEqual(first.classifier.classify(text));
  }, 120_000);

  it('retrains with a dispatcher’s corrections from the database (npm run classifier -- train)', async () => {
    const dir = tempDir();
    const dbPath = join(tempDir(), 'intake.db');
    // A made-up kind of complaint no example resembles.
    const odd = '紫藤巷的蓝莓色泡泡飘个不停';
    const before = loadOrTrain({ district, examplesPath: DEFAULT_EXAMPLES_PATH, dir }).classifier.classify(odd);
    expect(before.type).not.toBe('hazardous_chemicals');

    const { db } = connectDatabase(dbPath);
    onCleanup(() => db.destroy());
    await migrateToLatest(db);
    for (const variant of [odd, '紫藤巷蓝莓色泡泡又飘起来了', '蓝莓色泡泡从紫藤巷飘到我家']) {
      await recordCorrection(db, {
        caseId: null,
        text: variant,
        label: 'hazardous_chemicals',
        predicted: before.type,
        source: 'dispatcher',
        actorId: null,
        at: new Date().toISOString(),
      });
    }

    const result = await run(['train'], { DATABASE_URL: dbPath, CLASSIFIER_DIR: dir });
    expect(result.code, result.out).toBe(0);
    expect(result.out).toContain('+ 3 corrections');
    expect(result.out).toMatch(/held-out file \(\d+ texts\): accuracy 0\.\d+, macro-F1 0\.\d+/);

    const after = loadOrTrain({ district, examplesPath: DEFAULT_EXAMPLES_PATH, dir });
    expect(after.origin).toBe('retrained');
    expect(after.corrections).toBe(3);
    expect(after.classifier.classify(odd).type).toBe('hazardous_chemicals');
  }, 240_000);

  it('runs on the model it trained when CLASSIFIER_DIR cannot be written, saying so once', () => {
    // A file where the directory should be: nothing can be made under it.
    const blocked = join(tempDir(), 'not-a-dir');
    writeFileSync(blocked, '');
    const dir = join(blocked, 'classifier');
    // A small example file of the district's own, an example of each type: training takes no time.
    const examples = join(tempDir(), 'examples.jsonl');
    const each = [...district.types.values()].map((t) => ({ text: t.code === 'water_pollution' ? '河里有死鱼，水发黑' : t.name.zh, label: t.code }));
    writeFileSync(examples, each.map((e) => `${JSON.stringify(e)}\n`).join(''));
    const { lines, logger } = captureLogs('warn');
    const loaded = loadOrTrain({ district, examplesPath: examples, dir, logger });
    expect(loaded.origin).toBe('trained');
    expect(loaded.classifier.classify('河里有死鱼，水发黑').type).toBe('water_pollution');
    expect(lines).toEqual([
      expect.objectContaining({ dir, msg: `classifier model not kept: cannot write in CLASSIFIER_DIR ${dir}; it is trained again at each start`, err: expect.stringContaining('ENOTDIR') }),
    ]);
    expect(readdirSync(dirname(blocked))).toEqual(['not-a-dir']);
  });

  it('stops with a clear error naming the line of a broken example file', () => {
    const dir = tempDir();
    const examples = join(dir, 'examples.jsonl');
    writeFileSync(examples, '{"text":"河里有死鱼","label":"water_pollution"}\n{"text":"噪音","label":"noize"}\n');
    const file = JSON.parse(readFileSync(DEFAULT_DISTRICT_PATH, 'utf8')) as { classifier: Record<string, unknown> };
    file.classifier.examples = 'examples.jsonl';
    const districtPath = join(dir, 'district.json');
    writeFileSync(districtPath, JSON.stringify(file));
    const custom = buildDistrict(file);
    const path = examplesPathFor(custom, districtPath);
    expect(path).toBe(examples);
    expect(() => loadOrTrain({ district: custom, examplesPath: path, dir })).toThrow(/line 2.*noize/);
  });
});
