/** What `readHead` read of a stream, and the stream to read instead of it. */
export interface StreamHead {
  /** The chunks read, at least `atLeast` bytes of them unless the stream ended or failed first. */
  chunks: Uint8Array[];
  /** Their size in bytes. */
  size: number;
  /** The stream ended within them. */
  ended: boolean;
  /** Why the stream failed while they were read (the client stopped sending), or undefined. */
  error: unknown;
  /** The chunks again, then the rest of the stream (or its failure): for whoever reads the body next. */
  replay: ReadableStream<Uint8Array>;
}

/**
 * Reads a stream's first bytes, as many as it takes to have `atLeast` of them or its end, to look at them before the
 * body is handed on: a form measured against its size limit, an import file sniffed for its encoding. The stream is
 * read from then on only through `replay`.
 */
export async function readHead(body: ReadableStream<Uint8Array>, atLeast: number): Promise<StreamHead> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let ended = false;
  let error: unknown = undefined;
  try {
    while (size < atLeast) {
      const { done, value } = await reader.read();
      if (done) {
        ended = true;
        break;
      }
      chunks.push(value);
      size += value.length;
    }
  } catch (err) {
    error = err ?? new Error('the stream failed');
  }
  const pending = [...chunks];
  const replay = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const chunk = pending.shift();
        if (chunk) return controller.enqueue(chunk);
        if (error !== undefined) return controller.error(error);
        if (ended) return controller.close();
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      cancel: (reason) => reader.cancel(reason),
    },
    // Pulled as read: nothing is read ahead of its reader.
    { highWaterMark: 0 },
  );
  return { chunks, size, ended, error, replay };
}
