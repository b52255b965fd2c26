import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
// The package's index loads the whole Swagger UI bundle into Node; only its directory is needed.
import getAbsoluteFSPath from 'swagger-ui-dist/absolute-path.js';
import type { DocsAssetReader } from './docs.routes.js';

/** Node: the Swagger UI files of /docs, read from the swagger-ui-dist package. */
export function swaggerUiAssets(): DocsAssetReader {
  const root = getAbsoluteFSPath();
  return async (file) => new Uint8Array(await readFile(join(root, file)));
}
