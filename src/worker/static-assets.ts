import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PACKAGE_ASSETS } from '../web/asset-files.js';

/**
 * Build step of the Workers build (wrangler.toml `[build]`): gathers the
 * files the Node service serves from its packages — the pages' scripts and
 * styles under /assets, the Swagger UI of /docs under /docs/assets — into
 * the directory wrangler uploads as static assets (`[assets]`). The platform
 * serves them before the Worker runs; nothing is fetched from a CDN.
 *
 *   tsx src/worker/static-assets.ts [OUT_DIR]   (default dist/cf-assets)
 */

const require = createRequire(import.meta.url);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The Swagger UI of /docs; the pages' library files come from PACKAGE_ASSETS. */
const DOCS_FILES: Record<string, string> = {
  'docs/assets/swagger-ui.css': 'swagger-ui-dist/swagger-ui.css',
  'docs/assets/swagger-ui-bundle.js': 'swagger-ui-dist/swagger-ui-bundle.js',
  'docs/assets/swagger-ui-standalone-preset.js': 'swagger-ui-dist/swagger-ui-standalone-preset.js',
};

export function buildStaticAssets(outDir: string): string[] {
  rmSync(outDir, { recursive: true, force: true });
  const written: string[] = [];
  const copy = (from: string, to: string) => {
    const target = join(outDir, to);
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(from, target);
    written.push(to);
  };
  // The site's own files, all of them.
  const own = join(root, 'src/web/assets');
  for (const entry of readdirSync(own, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const from = join(entry.parentPath, entry.name);
    copy(from, join('assets', from.slice(own.length + 1)));
  }
  for (const [name, pkg] of Object.entries(PACKAGE_ASSETS)) copy(require.resolve(pkg), `assets/${name}`);
  for (const [to, pkg] of Object.entries(DOCS_FILES)) copy(require.resolve(pkg), to);
  return written;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = resolve(root, process.argv[2] ?? 'dist/cf-assets');
  const written = buildStaticAssets(out);
  process.stdout.write(`static assets: ${written.length} files in ${out}\n`);
}
