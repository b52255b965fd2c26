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
 * The tracking code a message is nothing but: the code (any case, spaced or
 * dashed), the tracking link, or the 查询码 line of the bot's answer. A code
 * or link among other words is a message about something, not a lookup. A
 * resident asking after a report this way (in the chat, or in the report
 * form's box) is told how their report goes, not given a new one about nothing.
 */
export function onlyTrackingCode(text: string): string | null {
  const plain = text.normalize('NFKC').trim();
  if (normalizeTrackingCode(plain)) return normalizeTrackingCode(plain);
  const unlabelled = plain.replace(/^(?:查询码|跟踪码|tracking code)\s*[:：]?\s*/iu, '');
  return /\s/u.test(unlabelled) ? null : trackingCodeIn(plain);
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

/**
 * The tracking code in a message pasted whole into a lookup box: what
 * `trackingCodeIn` reads, or else the one code the words hold — the bot's
 * 这份举报已经提交，查询码：K7M3QXT9AD。发送 /status K7M3QXT9AD…, the success
 * page's 您的查询码 K7M3QXT9AD 请记下…, 我的查询码是 k7m3q-xt9ad — as a run of
 * letters and digits, or two or three runs with spaces or dashes between them.
 * Null when the words hold no code, or more than one (which did they mean?).
 */
export function trackingCodeInText(input: string): string | null {
  const whole = trackingCodeIn(input);
  if (whole) return whole;
  const text = input.normalize('NFKC');
  const runs = [...text.matchAll(/[A-Za-z0-9]+/g)];
  const found = new Set<string>();
  for (let i = 0; i < runs.length; i++) {
    let joined = '';
    for (let j = i; j < Math.min(i + 3, runs.length); j++) {
      const run = runs[j]!;
      // Only spaces and dashes may sit between the parts of one code.
      if (j > i) {
        const prev = runs[j - 1]!;
        if (!/^[\s\p{Pd}\u2212]+$/u.test(text.slice(prev.index + prev[0].length, run.index))) break;
      }
      joined += run[0];
      const code = normalizeTrackingCode(joined);
      if (code) found.add(code);
    }
  }
  return found.size === 1 ? [...found][0]! : null;
}
