import { describe, expect, it } from 'vitest';
import { readHead } from '../src/stream-head.js';

const bytes = (...values: number[]) => new Uint8Array(values);

/** A stream of these chunks, failing with `error` after them when given. */
function streamOf(chunks: Uint8Array[], error?: Error): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
  let at = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (at < chunks.length) controller.enqueue(chunks[at++]!);
        else if (error) controller.error(error);
        else controller.close();
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, pulled: () => at };
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<number[]> {
  const out: number[] = [];
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) out.push(...chunk);
  return out;
}

describe('readHead', () => {
  it('reads chunks until it has the bytes asked for, no further, and replays them before the rest', async () => {
    const { stream, pulled } = streamOf([bytes(1, 2), bytes(3, 4), bytes(5), bytes(6, 7)]);
    const head = await readHead(stream, 3);
    expect(head.chunks).toEqual([bytes(1, 2), bytes(3, 4)]);
    expect(head.size).toBe(4);
    expect(head.ended).toBe(false);
    expect(head.error).toBeUndefined();
    expect(pulled()).toBe(2);
    expect(await readAll(head.replay)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('says when the stream ended within what it read', async () => {
    const head = await readHead(streamOf([bytes(1), bytes(2)]).stream, 10);
    expect(head).toMatchObject({ size: 2, ended: true, error: undefined });
    expect(await readAll(head.replay)).toEqual([1, 2]);
  });

  it('keeps a failure met while reading, and the replay fails with it after the bytes read', async () => {
    const cut = new Error('client went away');
    const head = await readHead(streamOf([bytes(1, 2)], cut).stream, 10);
    expect(head).toMatchObject({ size: 2, ended: false, error: cut });
    const reader = head.replay.getReader();
    expect(await reader.read()).toEqual({ done: false, value: bytes(1, 2) });
    await expect(reader.read()).rejects.toBe(cut);
  });

  it('passes a failure after what it read on to the replay', async () => {
    const cut = new Error('client went away');
    const head = await readHead(streamOf([bytes(1, 2), bytes(3)], cut).stream, 1);
    expect(head.error).toBeUndefined();
    const reader = head.replay.getReader();
    expect(await reader.read()).toEqual({ done: false, value: bytes(1, 2) });
    expect(await reader.read()).toEqual({ done: false, value: bytes(3) });
    await expect(reader.read()).rejects.toBe(cut);
  });

  it('cancels the stream when the replay is cancelled', async () => {
    let cancelled: unknown = null;
    const stream = new ReadableStream<Uint8Array>({
      pull: (controller) => controller.enqueue(bytes(9)),
      cancel: (reason) => {
        cancelled = reason;
      },
    });
    const head = await readHead(stream, 1);
    await head.replay.cancel('not GBK');
    expect(cancelled).toBe('not GBK');
  });
});
