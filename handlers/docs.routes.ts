import { Hono } from 'hono';
import type { AppEnv } from './app-env.js';

/**
 * A browsable API page at /docs, served entirely from this service (no CDN).
 * The Swagger UI files come from the swagger-ui-dist package: read by
 * `readAsset` on Node (handlers/docs-assets.ts), served as static assets on
 * Workers.
 */
export const DOCS_ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'text/javascript; charset=utf-8',
};

const PAGE = `<!doctype html>
<html lang="zh-CN">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>环境问题举报受理服务 API · Complaint intake API</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="api"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script>
    window.addEventListener('load', function () {
      window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#api', deepLinking: true });
    });
  </script>
</body>
</html>`;

export type DocsAssetReader = (file: string) => Promise<Uint8Array>;

export function docsRoutes(readAsset?: DocsAssetReader) {
  const app = new Hono<AppEnv>();
  const cache = new Map<string, Uint8Array>();
  app.get('/docs', (c) => c.html(PAGE));
  if (readAsset) {
    app.get('/docs/assets/:file', async (c) => {
      const file = c.req.param('file');
      const type = DOCS_ASSETS[file];
      if (!type) return c.notFound();
      let body = cache.get(file);
      if (!body) {
        body = await readAsset(file);
        cache.set(file, body);
      }
      return c.body(body as Uint8Array<ArrayBuffer>, 200, { 'content-type': type, 'cache-control': 'public, max-age=86400' });
    });
  }
  return app;
}
