// npm's postinstall: applies the patches of this directory with patch-package. An install without
// the dev dependencies (npm ci --omit=dev, for running the service only) has neither the packages
// patched here nor patch-package: nothing to do then.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const installed = (name) => {
  try {
    require.resolve(`${name}/package.json`);
    return true;
  } catch {
    return false;
  }
};

if (installed('miniflare') && installed('patch-package')) {
  const cli = require.resolve('patch-package/index.js');
  const run = spawnSync(process.execPath, [cli, '--patch-dir', 'test/patches'], { stdio: 'inherit' });
  process.exit(run.status ?? 1);
}
