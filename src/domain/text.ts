/**
 * What text the service keeps. A NUL character cannot be stored by
 * PostgreSQL (SQLite would keep it); an unpaired UTF-16 surrogate is no
 * character at all, and each database would store it as a different number of
 * U+FFFD; U+FFFD itself is what a decoder leaves where bytes were not UTF-8 (a
 * GBK file read as UTF-8, say). Text holding any of them is refused, naming
 * the field, on every way in, so both databases keep the same text.
 */

const NUL = '\u0000';
const REPLACEMENT = '\uFFFD';

export const TEXT_FAULTS = {
  nul: 'must not contain NUL characters',
  surrogate: 'must be well-formed Unicode (found a lone surrogate)',
  notUtf8: 'must be UTF-8 text (found bytes that are not)',
} as const;

/** Whether a reason is one of `textFault`'s. */
export function isTextFault(reason: string): boolean {
  return (Object.values(TEXT_FAULTS) as string[]).includes(reason);
}

/** Why a text cannot be kept as it is, or null when it can. */
export function textFault(text: string): string | null {
  if (text.includes(NUL)) return TEXT_FAULTS.nul;
  if (!text.isWellFormed()) return TEXT_FAULTS.surrogate;
  if (text.includes(REPLACEMENT)) return TEXT_FAULTS.notUtf8;
  return null;
}

/**
 * The text without what `textFault` refuses, for inputs that cannot be
 * answered with a 400 (what a resident types into a chat).
 */
export function keepableText(text: string): string {
  return text.toWellFormed().replace(/[\u0000\uFFFD]/g, '');
}

/**
 * What shows nothing where a text is read: white space, control and format
 * characters (zero-width spaces and joiners, direction marks, the soft
 * hyphen, U+180E), and the characters drawn as blanks though they are letters
 * or symbols (the Hangul fillers, the braille blank, the combining grapheme
 * joiner, variation selectors) — the ones pasted to get past a "must not be
 * empty" check.
 */
const BLANK = /[\s\p{Cc}\p{Cf}\u034f\u115f\u1160\u17b4\u17b5\u2800\u3164\uffa0\ufe00-\ufe0f\u{e0100}-\u{e01ef}]/gu;

/** Whether a text says nothing anyone could read: only BLANK characters, or none. */
export function showsNothing(text: string): boolean {
  return text.replace(BLANK, '') === '';
}

/**
 * A number written in decimal digits (25, -0.5, .5), full-width ones of a
 * Chinese input method too (５, －０．５): NaN for anything else, where
 * Number() alone reads '' as 0 and 0x19 as 25.
 */
export function decimalOf(text: string): number {
  const t = text.normalize('NFKC').trim();
  return /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/.test(t) ? Number(t) : NaN;
}

/**
 * The text cut to at most `max` UTF-16 code units, ending in … when cut, and
 * never between the two halves of a character outside the BMP (an emoji):
 * half a character is no text (Telegram refuses it). Code units, as limits
 * such as Telegram's 4,096 are counted.
 */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

/**
 * A code (a tracking code, a case reference) as people type or paste it,
 * compacted: the full-width letters, digits, spaces and dashes of a Chinese
 * input method as ASCII (NFKC), and no spaces or dash punctuation of any kind.
 */
export function compactCode(input: string): string {
  return input.normalize('NFKC').replace(/[\s\p{Pd}\u2212]/gu, '');
}

/** The longest file name kept, in characters (the extension survives a cut). */
export const MAX_FILE_NAME = 120;

/**
 * The name of an uploaded file as a page may show it, or null when nothing
 * is left: the last part of a path (a client may send C:\Users\…\a.pdf),
 * without control characters, line breaks or the direction marks that make
 * "gnp.exe" read as "exe.png", spaces collapsed, in NFC (macOS sends
 * decomposed names), cut to MAX_FILE_NAME characters keeping the extension.
 */
export function keptFileName(raw: string | null | undefined): string | null {
  if (!raw) return null;
  const base = keepableText(raw).split(/[/\\]/).at(-1) ?? '';
  const clean = base
    .normalize('NFC')
    .replace(/[\p{Cc}\p{Zl}\p{Zp}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (clean === '' || clean === '.' || clean === '..') return null;
  const chars = [...clean];
  if (chars.length <= MAX_FILE_NAME) return clean;
  const dot = clean.lastIndexOf('.');
  const ext = dot > 0 && clean.length - dot <= 10 ? [...clean.slice(dot)] : [];
  return `${chars.slice(0, MAX_FILE_NAME - ext.length - 1).join('').trimEnd()}…${ext.join('')}`;
}
