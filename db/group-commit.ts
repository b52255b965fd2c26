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
  /**
   * Batches committed at the same time. One suits SQLite (a single writer);
   * PostgreSQL runs transactions side by side, and a few lanes keep a batch's
   * statements from waiting behind another batch's round trips.
   */
  lanes = 1,
): (item: T) => Promise<R> {
  let queue: Array<{ item: T; resolve: (r: R) => void; reject: (err: unknown) => void }> = [];
  let active = 0;

  async function commitBatch(batch: typeof queue): Promise<void> {
    let results: R[] | null = null;
    try {
      results = await commit(batch.map((p) => p.item));
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err);
        return;
      }
    }
    if (results) {
      batch.forEach((p, i) => p.resolve(results[i]!));
      return;
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

  function flush(): void {
    while (queue.length > 0 && active < lanes) {
      const batch = queue.slice(0, maxBatch);
      queue = queue.slice(batch.length);
      active += 1;
      void commitBatch(batch).finally(() => {
        active -= 1;
        flush();
      });
    }
  }

  let scheduled = false;
  return (item) =>
    new Promise<R>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      // Items arriving in the same turn of the event loop share a batch.
      if (!scheduled && active < lanes) {
        scheduled = true;
        setImmediate(() => {
          scheduled = false;
          flush();
        });
      }
    });
}
