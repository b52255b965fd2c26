/**
 * The queue behind group commit: items that arrive while a batch is being
 * committed wait and go together in the next batch. If a batch fails, each
 * of its items is retried alone, so a failing item fails alone and the
 * others still commit. Each caller's promise settles after its own item has
 * been committed (or has failed on its own).
 */
export function createGroupCommit<T, R>(
  commit: (items: T[]) => Promise<R[]>,
  maxBatch: number,
): (item: T) => Promise<R> {
  let queue: Array<{ item: T; resolve: (r: R) => void; reject: (err: unknown) => void }> = [];
  let flushing = false;

  async function flush(): Promise<void> {
    if (flushing) return;
    flushing = true;
    try {
      while (queue.length > 0) {
        const batch = queue.slice(0, maxBatch);
        queue = queue.slice(batch.length);
        let results: R[] | null = null;
        try {
          results = await commit(batch.map((p) => p.item));
        } catch (err) {
          if (batch.length === 1) {
            batch[0]!.reject(err);
            continue;
          }
        }
        if (results) {
          batch.forEach((p, i) => p.resolve(results[i]!));
          continue;
        }
        for (const p of batch) {
          try {
            const [r] = await commit([p.item]);
            p.resolve(r!);
          } catch (err) {
            p.reject(err);
          }
        }
      }
    } finally {
      flushing = false;
    }
  }

  return (item) =>
    new Promise<R>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (!flushing) setImmediate(() => void flush());
    });
}
