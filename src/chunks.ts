/**
 * `list` in consecutive slices of at most `size`: the ids a statement binds (the database's limit) and the messages
 * one send carries (the queue's limit).
 */
export function* chunksOf<T>(list: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < list.length; i += size) yield list.slice(i, i + size);
}
