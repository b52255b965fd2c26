import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import { PACKAGE_ASSETS } from '../src/web/asset-files.js';
import type { AppEnv } from './app-env.js';

/**
 * Scripts, styles and images of the pages, served by the service itself so
 * the pages work without the internet: the site's own files from
 * src/web/assets and the libraries' dist files from their npm packages.
 * Only those files are served (no path outside them); each is read once, on first use.
 */
const require = createRequire(import.meta.url);
const OWN_DIR = fileURLToPath(new URL('../src/web/assets/', import.meta.url));

/** Every servable name and where its file is: the site's own files, then the libraries'. */
function listFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(OWN_DIR, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files.set(relative(OWN_DIR, path).split(sep).join('/'), path);
  }
  for (const [name, pkg] of Object.entries(PACKAGE_ASSETS)) files.set(name, require.resolve(pkg));
  return files;
}

const TYPES: Record<string, string> = {
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  png: 'image/png',
};

interface Asset {
  body: Uint8Array<ArrayBuffer>;
  type: string;
  etag: string;
}

const cache = new Map<string, Asset>();
let files: Map<string, string> | null = null;

function load(name: string): Asset | null {
  const cached = cache.get(name);
  if (cached) return cached;
  files ??= listFiles();
  const path = files.get(name);
  if (!path) return null;
  const body = new Uint8Array(readFileSync(path));
  const asset = {
    body,
    type: TYPES[name.slice(name.lastIndexOf('.') + 1)] ?? 'application/octet-stream',
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
  };
  cache.set(name, asset);
  return asset;
}

export function assetRoutes() {
  const app = new Hono<AppEnv>();
  app.get('/assets/*', (c) => {
    const asset = load(c.req.path.slice('/assets/'.length));
    if (!asset) return c.text('not found', 404);
    c.header('ETag', asset.etag);
    c.header('Cache-Control', 'public, max-age=3600');
    c.header('X-Content-Type-Options', 'nosniff');
    if (c.req.header('if-none-match') === asset.etag) return c.body(null, 304);
    c.header('Content-Type', asset.type);
    return c.body(asset.body);
  });
  return app;
}
