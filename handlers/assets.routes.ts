import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import type { AppEnv } from './app-env.js';

/**
 * Scripts, styles and images of the pages, served by the service itself so
 * the pages work without the internet: the site's own files from
 * src/web/assets and the libraries' dist files from their npm packages.
 * Only the names listed here are served; each is read once, on first use.
 */
const require = createRequire(import.meta.url);
const own = (name: string) => fileURLToPath(new URL(`../src/web/assets/${name}`, import.meta.url));

const FILES: Record<string, () => string> = {
  'app.css': () => own('app.css'),
  'app.js': () => own('app.js'),
  'report.js': () => own('report.js'),
  'public.js': () => own('public.js'),
  'staff.js': () => own('staff.js'),
  'dashboard.js': () => own('dashboard.js'),
  'htmx.min.js': () => require.resolve('htmx.org/dist/htmx.min.js'),
  'echarts.min.js': () => require.resolve('echarts/dist/echarts.min.js'),
  'leaflet.js': () => require.resolve('leaflet/dist/leaflet.js'),
  'leaflet.css': () => require.resolve('leaflet/dist/leaflet.css'),
  'images/marker-icon.png': () => require.resolve('leaflet/dist/images/marker-icon.png'),
  'images/marker-icon-2x.png': () => require.resolve('leaflet/dist/images/marker-icon-2x.png'),
  'images/marker-shadow.png': () => require.resolve('leaflet/dist/images/marker-shadow.png'),
};

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

function load(name: string): Asset | null {
  const cached = cache.get(name);
  if (cached) return cached;
  const locate = FILES[name];
  if (!locate) return null;
  const body = new Uint8Array(readFileSync(locate()));
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
