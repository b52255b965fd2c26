import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * `mkdir -p` that fails instead of spinning. Node 20's recursive mkdir loops
 * forever — one core at 100 %, deaf to SIGTERM — when the system answers
 * ENOENT for a directory whose parent exists, as /proc and /sys do
 * (DATABASE_URL=/proc/…, a typo). Here each missing level is made in turn,
 * and such an answer is the error it is, naming the path. Synchronous: a
 * check or two of what exists, and a mkdir only for what does not.
 */
export function makeDirs(path: string): void {
  const missing: string[] = [];
  for (let p = resolve(path); !existsSync(p); ) {
    missing.unshift(p);
    const up = dirname(p);
    if (up === p) break;
    p = up;
  }
  for (const dir of missing) {
    try {
      mkdirSync(dir);
    } catch (err) {
      // Made meanwhile by someone else; a file in the way fails at the next level or where it is used.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}
