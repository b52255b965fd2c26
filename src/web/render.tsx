import type { Context } from 'hono';
import { raw } from 'hono/html';
import type { Child } from 'hono/jsx';
import type { AppEnv } from '../../handlers/app-env.js';
import type { AppError } from '../errors.js';
import { resolveLang, type Lang } from './i18n.js';
import { Layout, type LayoutProps } from './layout.js';
import { CSRF_FIELD } from './csrf.js';
import { pageMessage } from './messages.js';

/** What a page handler needs to render: language, CSRF token, signed-in user, time zone. */
export interface PageContext {
  lang: Lang;
  csrf: string;
  timeZone: string;
  user: LayoutProps['user'];
}

export function pageContext(c: Context<AppEnv>): PageContext {
  const principal = c.get('principal');
  return {
    lang: resolveLang(c),
    csrf: c.get('csrfToken') ?? '',
    timeZone: c.get('deps').district.file.district.timezone,
    user: principal ? { id: principal.userId, name: principal.name, role: principal.role, unitCode: principal.unitCode } : null,
  };
}

export interface RenderOptions {
  status?: 200 | 201 | 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 422 | 429 | 500;
  /** A form on the page was refused: the title says so first (错误：… / Error: …), the first thing a screen reader reads. */
  refused?: boolean;
  scripts?: string[];
  styles?: string[];
  /**
   * The page's own address (path and query), where the language switch
   * leads, when it is not the request's: a page sent back by a form's POST
   * (its action has no page of its own). Without it such a page's switch leads
   * to the page the visitor came from.
   */
  address?: string;
  /** A page only a form leads to: the language switch sends the form again (see LayoutProps). */
  switchBy?: LayoutProps['switchBy'];
}

const REFUSED_TITLE: Record<Lang, (title: string) => string> = {
  zh: (title) => `错误：${title}`,
  en: (title) => `Error: ${title}`,
};

/** Renders `body` inside the site layout. */
export function renderPage(c: Context<AppEnv>, pageTitle: string, body: Child, options: RenderOptions = {}) {
  const p = pageContext(c);
  const title = options.refused ? REFUSED_TITLE[p.lang](pageTitle) : pageTitle;
  c.header('Cache-Control', 'no-store');
  // The doctype keeps browsers out of quirks mode (box sizes, line heights).
  return c.html(
    <>
      {raw('<!doctype html>')}
      <Layout lang={p.lang} title={title} url={pageAddress(c, options.address)} switchBy={options.switchBy} csrf={p.csrf} user={p.user} scripts={options.scripts} styles={options.styles}>
        {body}
      </Layout>
    </>,
    options.status ?? 200,
  );
}

/** The full URL of the page being rendered: the given address, the request's own for a GET, else the page the form was sent from if another. */
function pageAddress(c: Context<AppEnv>, address: string | undefined): string {
  if (address !== undefined) return new URL(address, c.req.url).href;
  const from = c.req.method === 'GET' || c.req.method === 'HEAD' ? null : pageCameFrom(c);
  return from ? new URL(from, c.req.url).href : c.req.url;
}

const ERROR_TITLES: Record<Lang, Record<number, string>> = {
  zh: { 400: '请求有误', 401: '请先登录', 403: '无权访问', 404: '页面不存在', 405: '不支持的访问方式', 409: '操作与当前状态冲突', 413: '提交的内容过大', 415: '不支持的内容格式', 429: '操作过于频繁', 500: '服务暂时出错', 503: '服务暂时不可用' },
  en: { 400: 'Bad request', 401: 'Please sign in', 403: 'Not allowed', 404: 'Page not found', 405: 'Not available this way', 409: 'Conflicts with the current state', 413: 'Too large', 415: 'Unsupported content', 429: 'Too many attempts', 500: 'Something went wrong', 503: 'Service unavailable' },
};

/** True when the request is a page (not the JSON API) from a browser. */
export function wantsHtml(c: Context<AppEnv>): boolean {
  if (c.req.path.startsWith('/api/') || c.req.path.startsWith('/telegram/')) return false;
  return (c.req.header('accept') ?? '').includes('text/html');
}

/**
 * The page of this site the visitor came from (its path and query, from the
 * Referer header), as a link back that works without scripts; none when they
 * came from elsewhere or the browser does not say.
 */
function pageCameFrom(c: Context<AppEnv>): string | null {
  const referer = c.req.header('Referer');
  if (!referer) return null;
  try {
    const from = new URL(referer);
    const here = new URL(c.req.url);
    // Behind a proxy the request's own address is not the one the browser used: PUBLIC_URL is.
    const published = c.get('deps').env.PUBLIC_URL;
    const ours = [here.origin, ...(published ? [new URL(published).origin] : [])];
    if (!ours.includes(from.origin) || (from.pathname === here.pathname && from.search === here.search)) return null;
    // `//elsewhere.example/…` as a link is another site (a browser reads it scheme-relative): no way back then.
    if (/^\/[/\\]/.test(from.pathname)) return null;
    return from.pathname + from.search;
  } catch {
    return null;
  }
}

/** The HTML answer to an error on a page: the title, the message, a way back. */
export function renderErrorPage(c: Context<AppEnv>, err: AppError) {
  const p = pageContext(c);
  const back = pageCameFrom(c);
  const title = ERROR_TITLES[p.lang][err.status] ?? (p.lang === 'zh' ? '出错了' : 'Something went wrong');
  return renderPage(
    c,
    title,
    <section class="error">
      <h1>{title}</h1>
      <p id="error-message">{pageMessage(p.lang, err, CSRF_FIELD)}</p>
      {err.code === 'internal' ? (
        <p class="hint">
          {p.lang === 'zh' ? '请求编号：' : 'Request id: '}
          <code id="request-id">{c.get('requestId') ?? ''}</code>
        </p>
      ) : null}
      <p>
        {back ? (
          <>
            <a href={back} id="error-back">
              {p.lang === 'zh' ? '返回上一页' : 'Go back'}
            </a>
            {' · '}
          </>
        ) : null}
        <a href="/">{p.lang === 'zh' ? '首页' : 'Home'}</a>
      </p>
    </section>,
    { status: err.status as RenderOptions['status'] },
  );
}
