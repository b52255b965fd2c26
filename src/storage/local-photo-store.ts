import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { makeDirs } from './make-dirs.js';
import type { PhotoStore } from './photo-store.js';

/** Photos as files under one directory (UPLOAD_DIR). */
export function createLocalPhotoStore(root: string): PhotoStore {
  const base = resolve(root);
  const pathOf = (key: string): string => {
    const p = resolve(join(base, key));
    if (!p.startsWith(base + sep)) throw new Error('storage key escapes the upload directory');
    return p;
  };
  return {
    async put(key, bytes) {
      const p = pathOf(key);
      makeDirs(dirname(p));
      // Write to a temporary name first so a crash never leaves half a photo under the real name.
      const tmp = `${p}.part`;
      try {
        await writeFile(tmp, bytes);
        await rename(tmp, p);
      } catch (err) {
        // A disk that filled up midway leaves part of the photo: nothing of it stays.
        await rm(tmp, { force: true });
        throw err;
      }
    },
    async get(key) {
      try {
        return new Uint8Array(await readFile(pathOf(key)));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw err;
      }
    },
    async delete(key) {
      await rm(pathOf(key), { force: true });
    },
  };
}
