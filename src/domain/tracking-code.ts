import { randomFromPool } from './ids.js';
import { compactCode } from './text.js';

/**
 * Tracking codes: 10 characters from an alphabet without look-alikes
 * (no 0/O, 1/I/L, 2/Z, 5/S, 8/B), random rather than sequential: 25^10 ≈ 9.5e13
 * codes, so guessing one is hopeless, and reading one aloud on the phone is easy.
 */
export const TRACKING_ALPHABET = '34679ACDEFGHJKMNPQRTUVWXY';
export const TRACKING_CODE_LENGTH = 10;

// The largest multiple of the alphabet size below 256: bytes at or above it
// are skipped so that every character is equally likely.
const LIMIT = 256 - (256 % TRACKING_ALPHABET.length);

export function newTrackingCode(): string {
  let code = '';
  while (code.length < TRACKING_CODE_LENGTH) {
    for (const byte of randomFromPool(16)) {
      if (byte < LIMIT) code += TRACKING_ALPHABET[byte % TRACKING_ALPHABET.length];
      if (code.length === TRACKING_CODE_LENGTH) break;
    }
  }
  return code;
}

/**
 * Accepts what people type: lower case, spaces and dashes between groups, and
 * the full-width letters, digits, spaces and dashes a Chinese input method
 * gives (ＫＭ７３…, －, —): NFKC makes them ASCII, and any dash punctuation
 * between groups is dropped like a hyphen.
 */
export function normalizeTrackingCode(input: string): string | null {
  const code = compactCode(input).toUpperCase();
  if (code.length !== TRACKING_CODE_LENGTH) return null;
  for (const ch of code) if (!TRACKING_ALPHABET.includes(ch)) return null;
  return code;
}

/**
 * The tracking code in what someone pasted into a lookup box: the code as
 * `normalizeTrackingCode` reads it, or the code of a pasted tracking link
 * (`https://…/track/K7M3QXT9AD`) or of a copied message line (`查询码：K7M3Q-XT9AD`),
 * each also with the punctuation a copy takes along around it: quotes,
 * brackets, a full stop (“K7M3QXT9AD”。, 【K7M3QXT9AD】).
 */
export function trackingCodeIn(input: string): string | null {
  const direct = normalizeTrackingCode(input);
  if (direct) return direct;
  const text = input.normalize('NFKC').trim();
  const link = /\/track\/([^/?#\s]+)/.exec(text);
  if (link) return normalizeTrackingCode(withoutEnclosing(decodedOrAsIs(link[1]!)));
  const labelled = /^(?:查询码|跟踪码|tracking code)\s*[:：]?\s*(.+)$/iu.exec(text);
  return normalizeTrackingCode(withoutEnclosing(labelled ? labelled[1]! : text));
}

/**
 * Without the punctuation and symbols before and after (a code has neither);
 * a % stays, the rest of an escape in a link cut short, which is no code.
 */
function withoutEnclosing(text: string): string {
  return text.replace(/^(?:(?!%)[\p{P}\p{S}\s])+|(?:(?!%)[\p{P}\p{S}\s])+$/gu, '');
}

/** A link's path segment decoded; a broken escape (`%E0%A4%A`, a link cut short) is read as it stands, not an error. */
function decodedOrAsIs(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
