import type { R2Bucket } from '@cloudflare/workers-types/index.js';
import type { PhotoStore } from '../storage/photo-store.js';

/** Photos as objects in an R2 bucket (binding PHOTOS), under the same keys as the files on Node. */
export function createR2PhotoStore(bucket: R2Bucket): PhotoStore {
  return {
    async put(key, bytes, mime) {
      await bucket.put(key, bytes, { httpMetadata: { contentType: mime } });
    },
    async get(key) {
      const object = await bucket.get(key);
      return object ? new Uint8Array(await object.arrayBuffer()) : null;
    },
    async delete(key) {
      await bucket.delete(key);
    },
  };
}
