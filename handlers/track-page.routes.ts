import { Hono } from 'hono';
import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { AppEnv } from './app-env.js';
import { publicCaseView, type PublicCase } from './track.routes.js';

/**
 * The page behind the tracking link given to residents (`trackUrl`): the
 * public view of a case as plain server-rendered HTML, Chinese by default,
 * `?lang=en` for English. Nothing here identifies the reporter.
 */

type Lang = 'zh' | 'en';

const TEXT = {
  zh: {
    title: '举报办理进度查询',
    lookup: '输入查询码',
    go: '查询',
    notFound: '没有找到这个查询码对应的举报，请核对后再试。',
    code: '查询码',
    status: '当前状态',
    type: '问题类型',
    lead: '承办单位',
    co: '协办单位',
    place: '属地',
    received: '受理时间',
    signBy: '签收期限',
    replyBy: '答复期限',
    rateBy: '评价期限',
    timeline: '办理过程',
    reply: '办理答复',
    urgent: '紧急',
    pending: '待定',
    switchLang: 'English',
  },
  en: {
    title: 'Follow your report',
    lookup: 'Tracking code',
    go: 'Look up',
    notFound: 'No report has this tracking code. Please check it and try again.',
    code: 'Tracking code',
    status: 'Status',
    type: 'Type of problem',
    lead: 'Handled by',
    co: 'Also involved',
    place: 'Local office',
    received: 'Received',
    signBy: 'To be signed for by',
    replyBy: 'Answer due by',
    rateBy: 'Rate the answer by',
    timeline: 'Progress',
    reply: 'Answer',
    urgent: 'urgent',
    pending: 'to be decided',
    switchLang: '中文',
  },
} as const;

const STATUS: Record<Lang, Record<string, string>> = {
  zh: {
    received: '已受理',
    triage: '待分派',
    dispatched: '已派单',
    accepted: '已签收，办理中',
    replied: '已答复',
    closed: '已办结',
    returned: '已退回，重新分派中',
    transferred: '已转12345热线',
    merged: '已并案',
    reopened: '重办中',
  },
  en: {
    received: 'received',
    triage: 'being assigned',
    dispatched: 'sent to the bureau',
    accepted: 'signed for, in progress',
    replied: 'answered',
    closed: 'closed',
    returned: 'returned, being reassigned',
    transferred: 'handed to the 12345 hotline',
    merged: 'merged with another report',
    reopened: 'reopened',
  },
};

function when(iso: string | null, lang: Lang, timeZone: string): string {
  if (!iso) return '—';
  return new Intl.DateTimeFormat(lang === 'zh' ? 'zh-CN' : 'en-GB', {
    timeZone,
    dateStyle: 'medium',
    timeStyle: 'short',
  }).format(new Date(iso));
}

function page(lang: Lang, body: HtmlEscapedString | Promise<HtmlEscapedString>, path: string) {
  const t = TEXT[lang];
  const other = lang === 'zh' ? 'en' : 'zh';
  return html`<!doctype html>
<html lang="${lang === 'zh' ? 'zh-CN' : 'en'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${t.title}</title>
<style>
  body { font-family: system-ui, "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif; margin: 0 auto; max-width: 40rem; padding: 1rem; color: #1a1a1a; line-height: 1.6; }
  h1 { font-size: 1.4rem; } dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
  dt { color: #555; } .status { font-size: 1.2rem; font-weight: bold; color: #0b5394; }
  ol { padding-left: 1.2rem; } .reply { background: #f3f6f9; padding: .75rem; border-radius: .4rem; white-space: pre-wrap; }
  form { margin: 1rem 0; } input { font-size: 1rem; padding: .4rem; } button { font-size: 1rem; padding: .4rem .8rem; }
  .lang { float: right; }
</style>
</head>
<body>
<a class="lang" href="${path}?lang=${other}">${t.switchLang}</a>
<h1>${t.title}</h1>
<form action="/track" method="get">
  <label for="code">${t.lookup}</label>
  <input id="code" name="code" autocomplete="off" autocapitalize="characters" required>
  <input type="hidden" name="lang" value="${lang}">
  <button type="submit">${t.go}</button>
</form>
${body}
</body>
</html>`;
}

function caseBody(v: PublicCase, lang: Lang, tz: string) {
  const t = TEXT[lang];
  const status = STATUS[lang][v.status] ?? v.status;
  return html`
<dl>
  <dt>${t.code}</dt><dd>${v.trackingCode}</dd>
  <dt>${t.status}</dt><dd class="status">${status}${v.urgent ? html` · ${t.urgent}` : ''}</dd>
  <dt>${t.type}</dt><dd>${v.type?.name ?? t.pending}</dd>
  <dt>${t.lead}</dt><dd>${v.lead?.name ?? t.pending}</dd>
  ${v.coHandlers.length > 0 ? html`<dt>${t.co}</dt><dd>${v.coHandlers.map((u) => u.name).join('、')}</dd>` : ''}
  <dt>${t.place}</dt><dd>${v.jurisdiction?.name ?? t.pending}</dd>
  <dt>${t.received}</dt><dd>${when(v.receivedAt, lang, tz)}</dd>
  ${v.deadlines.signBy ? html`<dt>${t.signBy}</dt><dd>${when(v.deadlines.signBy, lang, tz)}</dd>` : ''}
  ${v.deadlines.replyBy ? html`<dt>${t.replyBy}</dt><dd>${when(v.deadlines.replyBy, lang, tz)}</dd>` : ''}
  ${v.deadlines.rateBy ? html`<dt>${t.rateBy}</dt><dd>${when(v.deadlines.rateBy, lang, tz)}</dd>` : ''}
</dl>
${v.reply ? html`<h2>${t.reply}</h2><div class="reply">${v.reply.text}</div>` : ''}
<h2>${t.timeline}</h2>
<ol>
${raw(v.history.map((h) => `<li>${escape(when(h.at, lang, tz))} · ${escape(STATUS[lang][h.status] ?? h.status)}${h.note ? ` · ${escape(h.note)}` : ''}</li>`).join('\n'))}
</ol>`;
}

function escape(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

export function trackPageRoutes() {
  const app = new Hono<AppEnv>();
  const langOf = (q: string | undefined): Lang => (q === 'en' ? 'en' : 'zh');

  app.get('/track', (c) => {
    const lang = langOf(c.req.query('lang'));
    const code = c.req.query('code');
    if (code) return c.redirect(`/track/${encodeURIComponent(code.trim())}${lang === 'en' ? '?lang=en' : ''}`, 303);
    return c.html(page(lang, html``, '/track'));
  });

  app.get('/track/:code', async (c) => {
    const lang = langOf(c.req.query('lang'));
    const view = await publicCaseView(c.get('deps'), c.req.param('code'), lang);
    if (!view) return c.html(page(lang, html`<p role="alert">${TEXT[lang].notFound}</p>`, c.req.path), 404);
    return c.html(page(lang, caseBody(view, lang, c.get('deps').district.file.district.timezone), c.req.path));
  });

  return app;
}
