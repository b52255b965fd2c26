import type { Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { parseAccept } from 'hono/utils/accept';

/**
 * The language of a page: `?lang=zh|en` (remembered in a cookie), then the
 * cookie, then the browser's Accept-Language (the one of the two it prefers);
 * Chinese when nothing says English.
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
  return languageAccepted(c.req.header('accept-language') ?? '');
}

/** Of the two languages, the one an Accept-Language header prefers (by its q weights), or null when it names neither. */
function preferredOf(header: string): Lang | null {
  const wanted = parseAccept(header).find((a) => a.q > 0 && /^(zh|en)\b/i.test(a.type));
  return wanted ? (/^zh/i.test(wanted.type) ? 'zh' : 'en') : null;
}

/** The API's language: Chinese only when the client prefers it to English; English otherwise, `*` and none too. */
export function apiLanguage(header: string): Lang {
  return preferredOf(header) ?? 'en';
}

/** The browser's preferred language of the two, Chinese when it names neither. */
export function languageAccepted(header: string): Lang {
  return preferredOf(header) ?? 'zh';
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
  // A path asked for as //elsewhere.example/x would make a link to another site (a browser reads it scheme-relative).
  return `${u.pathname.replace(/^\/{2,}/, '/')}${u.search}`;
}

/** What a file input is for: its button and the line saying what was chosen differ by it. */
export type FilePickerKind = 'photos' | 'camera' | 'files' | 'textFile';

const FILE_PICKER: Record<Lang, Record<FilePickerKind, { choose: string; none: string; many: string }>> = {
  zh: {
    photos: { choose: '选择照片', none: '未选择照片', many: '已选择 {n} 张照片' },
    camera: { choose: '拍照', none: '未拍照', many: '已拍 {n} 张照片' },
    files: { choose: '选择文件', none: '未选择文件', many: '已选择 {n} 个文件' },
    textFile: { choose: '选择文件', none: '未选择文件', many: '已选择 {n} 个文件' },
  },
  en: {
    photos: { choose: 'Choose photos', none: 'No photo chosen', many: '{n} photos chosen' },
    camera: { choose: 'Take a photo', none: 'No photo taken', many: '{n} photos taken' },
    files: { choose: 'Choose files', none: 'No file chosen', many: '{n} files chosen' },
    textFile: { choose: 'Choose a file', none: 'No file chosen', many: '{n} files chosen' },
  },
};

/**
 * The attributes with which app.js draws a file input as a button and a line
 * in the page's language: the browser's own control speaks the browser's
 * language (Choose Files / No file chosen on a Chinese page), and cannot be
 * told otherwise. Without scripts the browser's control stays.
 */
export function filePickerAttrs(lang: Lang, kind: FilePickerKind) {
  const t = FILE_PICKER[lang][kind];
  return { 'data-file-picker': '', 'data-choose': t.choose, 'data-none': t.none, 'data-many': t.many };
}
