import { cpSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { TestProject } from 'vitest/node';

/**
 * The service and its command-line tools as the test suite's child processes
 * run them: the sources compiled to JavaScript once per run, file by file
 * (esbuild, as tsx compiles them), with the files they read beside them
 * (the district file, the classifier's examples, the pages' assets) and the
 * packages of node_modules found from there as from the sources.
 *
 * Run through tsx, each process spends about a second of CPU starting, most
 * of it in tsx's module hooks (Node 20 runs them on a thread of their own and
 * asks them of every module, kysely's 263 too); the suite starts about 150.
 * The tests of `npm start` and of the npm scripts run them as users do,
 * through tsx.
 */

const ROOT = join(import.meta.dirname, '..');
const SOURCE_DIRS = ['src', 'handlers', 'queues', 'db'];

/** Where the compiled sources are: the repository's layout, `.js` for `.ts` and `.tsx`. */
export const COMPILED_DIR = join(ROOT, 'node_modules/.cache/intake-test-js');

/** The command that runs a source file (`src/main.ts`) compiled, from the repository root. */
export function compiled(entry: string): [node: string, file: string] {
  return [process.execPath, join(COMPILED_DIR, entry.replace(/\.tsx?$/, '.js'))];
}

const isSource = (file: string) => /\.tsx?$/.test(file) && !file.endsWith('.d.ts') && !/\.test\.tsx?$/.test(file);

export async function compileSources(): Promise<void> {
  // Loaded here, not with the module: the test files import compiled() from it.
  const { build } = await import('esbuild');
  const building = `${COMPILED_DIR}.${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  const sources: string[] = [];
  for (const dir of SOURCE_DIRS) {
    for (const file of readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' }).map((f) => join(dir, f))) {
      if (isSource(file)) {
        sources.push(join(ROOT, file));
      } else if (/\.[a-z]+$/.test(file) && !/\.tsx?$/.test(file)) {
        mkdirSync(join(building, dirname(file)), { recursive: true });
        cpSync(join(ROOT, file), join(building, file));
      }
    }
  }
  await build({
    entryPoints: sources,
    outdir: building,
    outbase: ROOT,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    tsconfig: join(ROOT, 'tsconfig.json'),
    logLevel: 'error',
  });
  // Outside the repository's package.json scope (node_modules ends it): say the files are ES modules.
  writeFileSync(join(building, 'package.json'), '{ "type": "module" }\n');
  rmSync(COMPILED_DIR, { recursive: true, force: true });
  renameSync(building, COMPILED_DIR);
}

/** vitest's global setup: compiled before the first test file, and again before each rerun of watch mode. */
export default async function setup(project: TestProject): Promise<void> {
  await compileSources();
  project.onTestsRerun(compileSources);
}
