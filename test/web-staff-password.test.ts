import { describe, expect, it } from 'vitest';
import { hashPassword, isValidUsername, needsRehash, normaliseUsername, passwordProblems, verifyPassword } from '../src/auth/password.js';
import { lockedUntil, safeNext } from '../src/web/session.js';

describe('staff passwords', () => {
  it('verifies the right password and nothing else, with a fresh salt each time', async () => {
    const a = await hashPassword('correct horse battery', 1000);
    const b = await hashPassword('correct horse battery', 1000);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^pbkdf2-sha256\$1000\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(await verifyPassword('correct horse battery', a)).toBe(true);
    expect(await verifyPassword('correct horse batterY', a)).toBe(false);
    expect(await verifyPassword('', a)).toBe(false);
  });

  it('answers false, never throws, for a missing or malformed hash', async () => {
    for (const stored of [null, '', 'plain', 'pbkdf2-sha256$x$y$z', 'pbkdf2-sha256$1000$!!$!!', 'bcrypt$10$abc$def', 'pbkdf2-sha256$0$AAAA$AAAA']) {
      expect(await verifyPassword('whatever it is', stored), String(stored)).toBe(false);
    }
  });

  it('asks to renew hashes made with a smaller work factor', async () => {
    expect(needsRehash(await hashPassword('correct horse battery', 1000))).toBe(true);
    expect(needsRehash('pbkdf2-sha256$600000$AAAA$AAAA')).toBe(false);
  });

  it('names what is wrong with a new password or username', () => {
    expect(passwordProblems('short')).toEqual(['the password needs at least 10 characters']);
    expect(passwordProblems('长一点的中文密码也可以的')).toEqual([]);
    expect(normaliseUsername('  Zhang.San ')).toBe('zhang.san');
    // Typed with a Chinese input method in full-width mode, an ideographic space after it.
    expect(normaliseUsername('Ｚｈａｎｇ．Ｓａｎ\u3000')).toBe('zhang.san');
    expect(normaliseUsername('ｗａｎｇ＿０１－ｂ')).toBe('wang_01-b');
    expect(isValidUsername('zhang.san')).toBe(true);
    expect(isValidUsername('-x')).toBe(false);
    expect(isValidUsername('张三')).toBe(false);
  });
});

describe('sign-in rules', () => {
  it('locks after the given number of failures within 15 minutes, for 15 minutes from the last', () => {
    const at = (min: number) => new Date(Date.UTC(2026, 10, 2, 2, min)).toISOString();
    const now = new Date(Date.UTC(2026, 10, 2, 2, 20));
    expect(lockedUntil([at(0), at(1), at(2), at(3)], 5, now)).toBeNull();
    expect(lockedUntil([at(6), at(7), at(8), at(9), at(10)], 5, now)?.toISOString()).toBe(at(25));
    // Five failures spread over more than 15 minutes lock nothing.
    expect(lockedUntil([at(0), at(4), at(8), at(12), at(16)], 5, new Date(Date.UTC(2026, 10, 2, 2, 17)))).toBeNull();
    // A lock that has run out is over.
    expect(lockedUntil([at(0), at(1), at(2), at(3), at(4)], 5, now)).toBeNull();
  });

  it('returns only to same-site paths after sign-in', () => {
    expect(safeNext('/inbox?status=all')).toBe('/inbox?status=all');
    for (const bad of ['//evil.example', '/\\evil.example', 'https://evil.example/', 'inbox', '/\t/evil.example', '', null, undefined]) {
      expect(safeNext(bad), String(bad)).toBeNull();
    }
  });
});
