import type { Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';

/**
 * The language of a page: `?lang=zh|en` (remembered in a cookie), then the
 * cookie, then the browser's Accept-Language; Chinese when nothing says English.
 */
export type Lang = 'zh' | 'en';

export const LANG_COOKIE = 'lang';

/** Resolved once per request, so the cookie is set once however many times a page asks. */
const resolved = new WeakMap<Context, Lang>();

export function resolveLang(c: Context): Lang {
  let lang = resolved.get(c);
  if (!lang) {
    lang = resolveOnce(c);
    resolved.set(c, lang);
  }
  return lang;
}

function resolveOnce(c: Context): Lang {
  const asked = c.req.query('lang');
  if (asked === 'zh' || asked === 'en') {
    setCookie(c, LANG_COOKIE, asked, { path: '/', maxAge: 365 * 24 * 3600, sameSite: 'Lax', httpOnly: true });
    return asked;
  }
  const remembered = getCookie(c, LANG_COOKIE);
  if (remembered === 'zh' || remembered === 'en') return remembered;
  const accept = c.req.header('accept-language') ?? '';
  const first = accept.split(',')[0]?.trim().toLowerCase() ?? '';
  return first.startsWith('en') ? 'en' : 'zh';
}

/** A text in both languages; pages keep their texts in one `{ zh, en }` table each. */
export type Texts<K extends string> = Record<Lang, Record<K, string>>;

/** Formats an instant in the district's time zone, the way a resident reads it. */
export function formatTime(iso: string | Date | null | undefined, lang: Lang, timeZone: string): string {
  if (!iso) return '—';
  return new Intl.DateTimeFormat(lang === 'zh' ? 'zh-CN' : 'en-GB', { timeZone, dateStyle: 'medium', timeStyle: 'short' }).format(
    typeof iso === 'string' ? new Date(iso) : iso,
  );
}

/** The same path with `lang` switched, other query parameters kept. */
export function switchLangHref(url: string, to: Lang): string {
  const u = new URL(url);
  u.searchParams.set('lang', to);
  return `${u.pathname}${u.search}`;
}
