/** Where photos live: a local directory on Node, an object store elsewhere. */
export interface PhotoStore {
  put(key: string, bytes: Uint8Array, mime: string): Promise<void>;
  get(key: string): Promise<Uint8Array | null>;
  delete(key: string): Promise<void>;
}
