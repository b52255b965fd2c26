/**
 * Password hashing for staff sign-in: PBKDF2-HMAC-SHA256 through Web Crypto
 * (`crypto.subtle`), so the same code runs on Node and on Workers. The stored
 * form names its parameters — `pbkdf2-sha256$<iterations>$<salt>$<hash>`
 * (base64url) — so the work factor can be raised later without locking
 * anybody out: an old hash still verifies and `needsRehash` says to renew it.
 */
export const PBKDF2_ITERATIONS = 600_000;
const SALT_BYTES = 16;
const HASH_BITS = 256;
const SCHEME = 'pbkdf2-sha256';

export const MIN_PASSWORD_LENGTH = 10;
const USERNAME_MAX = 64;

/**
 * Usernames are compared trimmed, in lower case and in half-width forms: a name typed with a Chinese input
 * method in full-width mode (ｚｈａｎｇ．ｓａｎ) is the name it looks like (NFKC; usernames are ASCII only).
 */
export function normaliseUsername(value: string): string {
  // Cut by characters: half a surrogate pair would be stored differently by each database.
  return [...value.normalize('NFKC').trim().toLowerCase()].slice(0, USERNAME_MAX).join('');
}

/** 2–64 letters, digits, `.`, `_` or `-`, starting with a letter or digit. */
export function isValidUsername(value: string): boolean {
  return /^[a-z0-9][a-z0-9._-]{1,63}$/.test(value);
}
export const MAX_PASSWORD_LENGTH = 200;

function toBase64Url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null;
  const s = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4));
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

async function derive(password: string, salt: Uint8Array<ArrayBuffer>, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(password.normalize('NFC')), 'PBKDF2', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, key, HASH_BITS);
  return new Uint8Array(bits);
}

/** Every problem of a new password, named (empty when it is acceptable). */
export function passwordProblems(password: string): string[] {
  const problems: string[] = [];
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) problems.push(`the password needs at least ${MIN_PASSWORD_LENGTH} characters`);
  if (length > MAX_PASSWORD_LENGTH) problems.push(`the password may have at most ${MAX_PASSWORD_LENGTH} characters`);
  return problems;
}

export async function hashPassword(password: string, iterations = PBKDF2_ITERATIONS): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const hash = await derive(password, salt, iterations);
  return `${SCHEME}$${iterations}$${toBase64Url(salt)}$${toBase64Url(hash)}`;
}

/** Compares in time independent of where the bytes differ. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

function parse(stored: string): { iterations: number; salt: Uint8Array<ArrayBuffer>; hash: Uint8Array } | null {
  const [scheme, iter, salt, hash, ...rest] = stored.split('$');
  if (scheme !== SCHEME || rest.length > 0 || !iter || !salt || !hash) return null;
  const iterations = Number(iter);
  const s = fromBase64Url(salt);
  const h = fromBase64Url(hash);
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > 10_000_000 || !s || !h) return null;
  return { iterations, salt: s, hash: h };
}

/**
 * True when the password matches the stored hash. Without a stored hash (no
 * such account, or no password set) a hash is still computed, so the answer
 * takes as long and does not tell which usernames exist.
 */
export async function verifyPassword(password: string, stored: string | null, iterations = PBKDF2_ITERATIONS): Promise<boolean> {
  const parsed = stored ? parse(stored) : null;
  try {
    if (!parsed) {
      await derive(password, new Uint8Array(SALT_BYTES), iterations);
      return false;
    }
    return sameBytes(await derive(password, parsed.salt, parsed.iterations), parsed.hash);
  } catch {
    // A platform that refuses the work factor (Cloudflare Workers allow at most 100,000
    // PBKDF2 iterations) cannot verify the hash: the sign-in fails instead of erroring.
    return false;
  }
}

/** True when a hash was made with a smaller work factor than the deployment's. */
export function needsRehash(stored: string, iterations = PBKDF2_ITERATIONS): boolean {
  const parsed = parse(stored);
  return !parsed || parsed.iterations < iterations;
}
