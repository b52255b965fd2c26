import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import swaggerUi from 'swagger-ui-dist';
import type { DocsAssetReader } from './docs.routes.js';

/** Node: the Swagger UI files of /docs, read from the swagger-ui-dist package. */
export function swaggerUiAssets(): DocsAssetReader {
  const root = swaggerUi.getAbsoluteFSPath();
  return async (file) => new Uint8Array(await readFile(join(root, file)));
}
