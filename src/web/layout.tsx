import type { Child } from 'hono/jsx';
import type { Role } from '../auth/principal.js';
import { CSRF_FIELD } from './csrf.js';
import { switchLangHref, type Lang } from './i18n.js';
import { roleMayOpen, STAFF_AREAS, type StaffArea } from './session.js';

/**
 * The frame of every page: header with the service name and the navigation
 * the visitor's role can use, a language switch, a skip link, the main
 * content and a footer. Scripts and styles come only from `/assets/` on this
 * service (never a CDN), so the pages work on a closed network.
 */
export interface PageUser {
  /** The account, whose browser drafts a staff page keeps (staff.js). */
  id: string;
  name: string;
  role: Role;
  unitCode: string | null;
}

export interface LayoutProps {
  lang: Lang;
  title: string;
  /** The page's own address (the request's, or the page's GET address after a form), for the language switch. */
  url: string;
  /** On a page only a form leads to (no address of its own): the switch sends that form again, to `action`, in the other language. */
  switchBy?: { form: string; action: string } | undefined;
  csrf: string;
  user?: PageUser | null | undefined;
  /** Extra scripts under /assets/, loaded with `defer`. */
  scripts?: string[];
  styles?: string[];
  children?: Child;
}

const T = {
  zh: {
    service: '环境问题举报',
    skip: '跳到正文',
    report: '我要举报',
    track: '进度查询',
    public: '办理公开',
    console: '热线受理',
    inbox: '待办案件',
    desk: '调度台',
    dashboard: '统计看板',
    signIn: '工作人员登录',
    signOut: '退出',
    other: 'English',
    footer: '举报人信息依法保密，不会向被举报单位或公众公开。',
  },
  en: {
    service: 'Environmental complaints',
    skip: 'Skip to content',
    report: 'Report a problem',
    track: 'Follow a report',
    public: 'Public results',
    console: 'Hotline intake',
    inbox: 'Case inbox',
    desk: 'Dispatch desk',
    dashboard: 'Dashboard',
    signIn: 'Staff sign-in',
    signOut: 'Sign out',
    other: '中文',
    footer: "Reporters' identities are kept confidential and never shown to the reported party or the public.",
  },
} as const;

/**
 * The page's scripts; a signed-in account's pages all run staff.js (the staff
 * pages name no script of their own for it), which keeps that account's inbox
 * drafts (main's `data-drafts-of`) and drops any other account's left in this
 * browser, whichever staff page is shown first.
 */
function scriptsOf(props: LayoutProps): string[] {
  const scripts = props.scripts ?? [];
  return props.user && !scripts.includes('staff.js') ? [...scripts, 'staff.js'] : scripts;
}

/**
 * The pages of each staff area the navigation leads to. Who sees them is who may enter the area (STAFF_AREAS, which
 * the pages mount and sign-in reads): an area added there needs its pages here, or this does not compile.
 */
const AREA_PAGES: Record<StaffArea, ReadonlyArray<readonly [string, keyof (typeof T)[Lang]]>> = {
  '/console': [['/console', 'console']],
  '/desk': [
    ['/desk', 'desk'],
    ['/desk/dashboard', 'dashboard'],
  ],
  '/inbox': [['/inbox', 'inbox']],
};

function staffLinks(user: PageUser, t: (typeof T)[Lang]): Array<[string, string]> {
  const areas = (Object.keys(STAFF_AREAS) as StaffArea[]).filter((area) => roleMayOpen(user.role, area));
  return areas.flatMap((area) => AREA_PAGES[area].map(([href, label]): [string, string] => [href, t[label]]));
}

export function Layout(props: LayoutProps) {
  const t = T[props.lang];
  const other: Lang = props.lang === 'zh' ? 'en' : 'zh';
  const publicLinks: Array<[string, string]> = [
    ['/', t.report],
    ['/track', t.track],
    ['/public', t.public],
  ];
  const links = props.user ? [...publicLinks, ...staffLinks(props.user, t)] : publicLinks;
  return (
    <html lang={props.lang === 'zh' ? 'zh-CN' : 'en'}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="csrf-token" content={props.csrf} />
        <title>{`${props.title} · ${t.service}`}</title>
        {/* The icon inline: no /favicon.ico request (a 404 in every page's console). */}
        <link rel="icon" href="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Ccircle cx='8' cy='8' r='7' fill='%232e7d32'/%3E%3C/svg%3E" />
        <link rel="stylesheet" href="/assets/app.css" />
        {(props.styles ?? []).map((s) => (
          <link rel="stylesheet" href={`/assets/${s}`} />
        ))}
        <script src="/assets/app.js" defer></script>
        {scriptsOf(props).map((s) => (
          <script src={`/assets/${s}`} defer></script>
        ))}
      </head>
      <body>
        <a class="skip" href="#main">
          {t.skip}
        </a>
        <header class="site">
          <a class="brand" href="/">
            {t.service}
          </a>
          <nav aria-label={props.lang === 'zh' ? '主导航' : 'Main'}>
            <ul>
              {links.map(([href, label]) => (
                <li>
                  <a href={href}>{label}</a>
                </li>
              ))}
            </ul>
          </nav>
          <div class="account">
            {props.switchBy ? (
              <button type="submit" class="lang-switch" form={props.switchBy.form} formaction={switchLangHref(new URL(props.switchBy.action, props.url).href, other)} formnovalidate lang={other === 'zh' ? 'zh-CN' : 'en'}>
                {t.other}
              </button>
            ) : (
              <a href={switchLangHref(props.url, other)} hreflang={other === 'zh' ? 'zh-CN' : 'en'} lang={other === 'zh' ? 'zh-CN' : 'en'}>
                {t.other}
              </a>
            )}
            {props.user ? (
              <form method="post" action="/signout" class="inline">
                <CsrfField token={props.csrf} />
                <span class="who">{props.user.name}</span> <button type="submit">{t.signOut}</button>
              </form>
            ) : (
              <a href="/signin">{t.signIn}</a>
            )}
          </div>
        </header>
        <main id="main" tabindex={-1} {...(props.user ? { 'data-drafts-of': props.user.id } : {})}>
          {props.children}
        </main>
        <footer class="site">{t.footer}</footer>
      </body>
    </html>
  );
}

/** The hidden CSRF field every form carries. */
export function CsrfField({ token }: { token: string }) {
  return <input type="hidden" name={CSRF_FIELD} value={token} />;
}

/** A field's error, tied to its input by `aria-describedby={errorId(name)}`. */
export function errorId(name: string): string {
  return `${name}-error`;
}

export function FieldError({ name, message }: { name: string; message?: string | undefined }) {
  if (!message) return null;
  return (
    <p class="field-error" id={errorId(name)} role="alert">
      {message}
    </p>
  );
}
