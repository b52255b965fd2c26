/**
 * Base64 for typed arrays in model artifacts (portable: no Buffer, no btoa).
 * Byte order is little-endian, which is what every platform we run on uses
 * for typed arrays; the artifact records it so a big-endian reader could tell.
 */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const LOOKUP = new Uint8Array(128);
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i;

export function encodeBase64(view: ArrayBufferView): string {
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  const parts: string[] = [];
  const chunk: number[] = [];
  const flush = (): void => {
    parts.push(String.fromCharCode.apply(null, chunk));
    chunk.length = 0;
  };
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    chunk.push(
      ALPHABET.charCodeAt(n >>> 18),
      ALPHABET.charCodeAt((n >>> 12) & 63),
      ALPHABET.charCodeAt((n >>> 6) & 63),
      ALPHABET.charCodeAt(n & 63),
    );
    if (chunk.length >= 8192) flush();
  }
  const rest = bytes.length - i;
  if (rest > 0) {
    const n = (bytes[i]! << 16) | (rest > 1 ? bytes[i + 1]! << 8 : 0);
    chunk.push(ALPHABET.charCodeAt(n >>> 18), ALPHABET.charCodeAt((n >>> 12) & 63));
    chunk.push(rest > 1 ? ALPHABET.charCodeAt((n >>> 6) & 63) : 61, 61);
  }
  flush();
  return parts.join('');
}

export function decodeBase64(text: string): Uint8Array {
  let len = text.length;
  while (len > 0 && text.charCodeAt(len - 1) === 61) len--;
  const out = new Uint8Array(Math.floor((len * 3) / 4));
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < len; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? LOOKUP[c]! : 0;
    if (v === 0 && c !== 65) throw new Error(`invalid base64 character at ${i}`);
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >>> bits) & 0xff;
    }
  }
  return out;
}

export function decodeFloat32(text: string, expectedLength: number, what: string): Float32Array {
  const bytes = decodeBase64(text);
  if (bytes.length !== expectedLength * 4) {
    throw new Error(`model ${what}: expected ${expectedLength} values, found ${bytes.length / 4}`);
  }
  return new Float32Array(bytes.buffer, bytes.byteOffset, expectedLength);
}

export function decodeInt32(text: string, expectedLength: number, what: string): Int32Array {
  const bytes = decodeBase64(text);
  if (bytes.length !== expectedLength * 4) {
    throw new Error(`model ${what}: expected ${expectedLength} values, found ${bytes.length / 4}`);
  }
  return new Int32Array(bytes.buffer, bytes.byteOffset, expectedLength);
}
