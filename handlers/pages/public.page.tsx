import { Hono, type Context } from 'hono';
import { currentLead } from '../../db/repositories/assignments.repository.js';
import { isPhoneNumber } from '../../src/pipeline/extract.js';
import { reporterNames } from '../../db/repositories/contacts.repository.js';
import { reporterNamesWithMerged, reportersStaffNamedByCase } from '../../db/repositories/notifications.repository.js';
import type { Deps } from '../../src/deps.js';
import { SERVICE_YEARS } from '../../src/domain/service-years.js';
import { addDays, localMonth, type GroupStats } from '../../src/stats/stats.js';
import { csrfProtection } from '../../src/web/csrf.js';
import { loadSession } from '../../src/web/session.js';
import type { Lang, Texts } from '../../src/web/i18n.js';
import { errorId, FieldError } from '../../src/web/layout.js';
import { pageContext, renderPage } from '../../src/web/render.js';
import type { RatingValue } from '../../src/workflow/feedback.js';
import type { AppEnv } from '../app-env.js';
import { computePublicStats, periodOf, selectPublicCases } from '../stats.routes.js';
import { redactForPublic } from './public-redact.js';
import { RATING_LABEL } from '../../src/web/status-words.js';
import { formatDate, wordsLang } from './resident-labels.js';
import { typeName, unitName } from '../../src/district/district.schema.js';

/**
 * Public disclosure (`/public`, 办理公开): a month's cases counted by type and
 * by jurisdiction, the three hotline rates by bureau — exactly the public
 * statistics of GET /api/v1/public/stats, small groups hidden — and recently
 * closed cases with their text and answer redacted. Tables first: they
 * read aloud and print; public.js draws a bar chart of each count table with
 * ECharts when scripts run. Nothing identifies a reporter.
 */

const RECENT_CASES = 20;
const EXCERPT_CHARS = 200;

const T: Texts<
  | 'title'
  | 'intro'
  | 'month'
  | 'show'
  | 'badMonth'
  | 'total'
  | 'byType'
  | 'byPlace'
  | 'byBureau'
  | 'type'
  | 'place'
  | 'bureau'
  | 'count'
  | 'assigned'
  | 'signDue'
  | 'response'
  | 'due'
  | 'resolution'
  | 'rated'
  | 'satisfaction'
  | 'ratesNote'
  | 'hidden'
  | 'hiddenOne'
  | 'hiddenAll'
  | 'hiddenAllOne'
  | 'none'
  | 'noneThen'
  | 'recent'
  | 'recentIntro'
  | 'noRecent'
  | 'received'
  | 'closed'
  | 'lead'
  | 'answer'
  | 'rating'
  | 'notRated'
> = {
  zh: {
    title: '办理情况公开',
    intro: '按月公开环境问题举报的受理和办理情况。统计按受理时间归月；为保护举报人，件数少于 {min} 件的分组不单独列出。',
    month: '月份',
    show: '查看',
    badMonth: '请选择列表中的月份。',
    total: '{month}共统计举报 {n} 件。属于任一小分组（类型、属地、单位少于 {min} 件）的举报不计入任何一张表，以免推算出小分组的件数。',
    byType: '按问题类型',
    byPlace: '按属地',
    byBureau: '各单位办理情况',
    type: '问题类型',
    place: '属地',
    bureau: '单位',
    count: '受理件数',
    assigned: '派单数',
    signDue: '应签收',
    response: '按时签收率',
    due: '应答复',
    resolution: '按时答复率',
    rated: '评价数',
    satisfaction: '满意率',
    ratesNote:
      '按时签收率 = 期限内签收的派单 / 应签收的派单（已签收，或签收期限已过）；按时答复率 = 期限内答复的派单 / 应答复的派单（已答复，或答复期限已过）；满意率 =（满意 + 基本满意）/ 评价数，评价计入所评答复的牵头单位（承办单位）。派单数还包括仍在期限内的派单，它们到期或办理后才计入比率。“—”表示尚无可计算的数据。',
    hidden: '另有 {n} 个分组未单独列出：件数少于 {min} 件，或除去其他小分组的举报后不足 {min} 件。',
    hiddenOne: '另有 1 个分组未单独列出：件数少于 {min} 件，或除去其他小分组的举报后不足 {min} 件。',
    hiddenAll: '{n} 个分组均未单独列出：件数少于 {min} 件，或除去其他小分组的举报后不足 {min} 件。',
    hiddenAllOne: '仅有的 1 个分组未单独列出：件数少于 {min} 件，或除去其他小分组的举报后不足 {min} 件。',
    none: '本月暂无数据。',
    noneThen: '该月没有数据。',
    recent: '最近办结的案件',
    recentIntro: '内容中的姓名、电话、证件号码和门牌号等个人信息已隐去。',
    noRecent: '暂无办结的案件。',
    received: '受理',
    closed: '办结',
    lead: '承办单位',
    answer: '办理结果',
    rating: '群众评价',
    notRated: '未评价',
  },
  en: {
    title: 'Public results',
    intro:
      'How the environmental reports of each month were handled. Cases count in the month they were received; to protect reporters, groups with fewer than {min} cases are not listed.',
    month: 'Month',
    show: 'Show',
    badMonth: 'Please choose a month from the list.',
    total: '{n} reports received in {month} are counted. A report in any small group (a type, place or unit with fewer than {min}) is left out of every table, so that no small group can be worked out.',
    byType: 'By type of problem',
    byPlace: 'By local office',
    byBureau: 'By bureau',
    type: 'Type',
    place: 'Local office',
    bureau: 'Bureau',
    count: 'Cases',
    assigned: 'Assigned',
    signDue: 'Due for signing',
    response: 'Signed for on time',
    due: 'Due for an answer',
    resolution: 'Answered on time',
    rated: 'Ratings',
    satisfaction: 'Satisfied',
    ratesNote:
      'Signed for on time = assignments signed for by the deadline / assignments due for signing (signed, or past the deadline); answered on time = assignments answered by the deadline / assignments due for an answer (answered, or past the deadline); satisfied = (satisfied + basically satisfied) / ratings, each rating counted for the lead bureau whose answer it rated. "Assigned" also counts assignments still within their deadlines: they count in a rate once they are due or done. "—": nothing to compute yet.',
    hidden: '{n} more groups are not listed: each has fewer than {min} cases, or fewer once the reports of small groups are left out.',
    hiddenOne: 'One more group is not listed: it has fewer than {min} cases, or fewer once the reports of small groups are left out.',
    hiddenAll: 'None of the {n} groups is listed: each has fewer than {min} cases, or fewer once the reports of small groups are left out.',
    hiddenAllOne: 'The one group is not listed: it has fewer than {min} cases, or fewer once the reports of small groups are left out.',
    none: 'No cases this month yet.',
    noneThen: 'No cases that month.',
    recent: 'Recently closed cases',
    recentIntro: 'Names, phone numbers, ID numbers, house numbers and other personal details are masked.',
    noRecent: 'No closed cases yet.',
    received: 'Received',
    closed: 'Closed',
    lead: 'Handled by',
    answer: 'Outcome',
    rating: 'Rating',
    notRated: 'not rated',
  },
};

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** The last twelve months, newest first. */
function monthChoices(current: string): string[] {
  const out: string[] = [];
  let [y, m] = current.split('-').map(Number) as [number, number];
  for (let i = 0; i < 12; i++) {
    out.push(`${y}-${String(m).padStart(2, '0')}`);
    m -= 1;
    if (m === 0) {
      m = 12;
      y -= 1;
    }
  }
  return out;
}

const EN_MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** 2026年11月, November 2026: a month as residents name it, not a code. */
function monthName(month: string, lang: Lang): string {
  const [y, m] = month.split('-');
  return lang === 'zh' ? `${y}年${Number(m)}月` : `${EN_MONTHS[Number(m) - 1]} ${y}`;
}

function lastDayOf(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const next = m === 12 ? `${y + 1}-01-01` : `${y}-${String(m + 1).padStart(2, '0')}-01`;
  return addDays(next, -1);
}

/**
 * The bureau table's columns: each rate follows the count it divides by (应签收, 应答复, 评价数), so a reader can
 * check it; 派单数 comes first and also counts the assignments still inside their windows, which no rate counts yet.
 */
const BUREAU_COLUMNS = [
  { head: 'assigned', field: 'dispatched' },
  { head: 'signDue', field: 'signDue' },
  { head: 'response', field: 'responseRate', rate: 'response' },
  { head: 'due', field: 'due' },
  { head: 'resolution', field: 'resolutionRate', rate: 'resolution' },
  { head: 'rated', field: 'rated' },
  { head: 'satisfaction', field: 'satisfactionRate', rate: 'satisfaction' },
] as const;

const pct = (r: number | null, lang: Lang) => (r === null ? '—' : `${(r * 100).toFixed(1)}${lang === 'zh' ? '%' : ' %'}`);

interface ClosedCase {
  receivedAt: string;
  closedAt: string | null;
  type: string;
  jurisdiction: string;
  lead: string;
  text: string;
  reply: string | null;
  rating: RatingValue | null;
}

function excerpt(text: string): string {
  const chars = [...text];
  return chars.length > EXCERPT_CHARS ? `${chars.slice(0, EXCERPT_CHARS).join('')}…` : text;
}

/** The latest closed cases, their text and answer redacted with the reporter's own name and phone masked first. */
async function recentClosedCases(deps: Deps, lang: Lang): Promise<ClosedCase[]> {
  const { db, district } = deps;
  const rows = await db
    .selectFrom('cases')
    .select(['id', 'text', 'address', 'type_code', 'jurisdiction_code', 'received_at', 'closed_at'])
    .where('status', '=', 'closed')
    .orderBy('closed_at', 'desc')
    .orderBy('id')
    .limit(RECENT_CASES)
    .execute();
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const [contacts, leads, ratings, merged, staffNamed] = await Promise.all([
    db.selectFrom('case_contacts').select(['case_id', 'name', 'phone']).where('case_id', 'in', ids).execute(),
    db
      .selectFrom('assignments')
      .select(['case_id', 'unit_code', 'role', 'status', 'reply_text'])
      .where('case_id', 'in', ids)
      .where('role', '=', 'lead')
      .orderBy('case_id')
      .orderBy('created_at')
      .execute(),
    db.selectFrom('ratings').select(['case_id', 'round', 'rating']).where('case_id', 'in', ids).orderBy('round').execute(),
    // The reporters of the reports merged into each case: its answer may name them too (已联系上官…核实). Few cases
    // have any: one query finds those, and only theirs are looked up.
    db
      .selectFrom('cases')
      .select('merged_into')
      .distinct()
      .where('merged_into', 'in', ids)
      .execute()
      .then((into) => Promise.all(into.map(async ({ merged_into: id }) => [id!, await reporterNamesWithMerged(db, id!, { own: false })] as const))),
    // The names staff wrote on each case as a reporter's (与王小明的举报重复, 来电人张伟): its answer may give them alone.
    reportersStaffNamedByCase(db, ids),
  ]);
  const mergedNamesOf = new Map(merged);
  const contactOf = new Map(contacts.map((c) => [c.case_id, c]));
  // A case re-routed after its lead returned it has had several leads: the one that handled it is shown.
  const leadsOf = new Map<string, typeof leads>();
  for (const a of leads) leadsOf.set(a.case_id, [...(leadsOf.get(a.case_id) ?? []), a]);
  const leadOf = new Map([...leadsOf].map(([id, list]) => [id, currentLead(list)]));
  const ratingOf = new Map(ratings.map((r) => [r.case_id, r.rating as RatingValue]));
  const unitLabel = (code: string | null | undefined) => (code ? unitName(district, code, lang) : '—');
  return rows.map((r) => {
    const contact = contactOf.get(r.id);
    // The names the reporter gave in their text or address too (我叫张卫国, 联系人张卫国): a bureau's reply may name them
    // alone (已联系张卫国), even when the reporter asked to stay anonymous and no name was kept.
    const merged = mergedNamesOf.get(r.id) ?? [];
    const names = [...reporterNames(contact, r), ...merged, ...(staffNamed.get(r.id) ?? [])];
    // The merged reporters' numbers are read however written too (学校电话 and the number without its area code).
    const known = { names, phones: [contact?.phone, ...merged.filter(isPhoneNumber)] };
    const lead = leadOf.get(r.id);
    return {
      receivedAt: r.received_at,
      closedAt: r.closed_at,
      type: r.type_code ? typeName(district, r.type_code, lang) : '—',
      jurisdiction: r.jurisdiction_code ? unitName(district, r.jurisdiction_code, lang) : lang === 'zh' ? '地点不明' : 'place unknown',
      lead: unitLabel(lead?.unit_code),
      text: excerpt(redactForPublic(r.text, known)),
      reply: lead?.reply_text ? excerpt(redactForPublic(lead.reply_text, known)) : null,
      rating: ratingOf.get(r.id) ?? null,
    };
  });
}

function CountTable({ id, caption, column, groups, lang }: { id: string; caption: string; column: string; groups: GroupStats[]; lang: Lang }) {
  const t = T[lang];
  return (
    // Focusable, so a keyboard can scroll it sideways on a narrow screen.
    <div class="table-wrap" role="region" aria-label={caption} tabindex={0}>
      <table id={id} data-chart>
        <caption class="sr-only">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">{column}</th>
            <th scope="col" class="num">
              {t.count}
            </th>
          </tr>
        </thead>
        <tbody>
          {groups.map((g) => (
            <tr data-key={g.key ?? ''}>
              <th scope="row">{g.name}</th>
              <td class="num">{g.received}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * How many groups are not listed ("more" beside the groups listed, "none" when none is), and why: too small, or too
 * small once the reports of the small groups of any table were left out (a type of five reports from five villages).
 */
function Hidden({ n, listed, min, lang }: { n: number; listed: number; min: number; lang: Lang }) {
  if (n === 0) return null;
  const t = T[lang];
  const said = listed === 0 ? (n === 1 ? t.hiddenAllOne : t.hiddenAll) : n === 1 ? t.hiddenOne : t.hidden;
  return <p class="hint hidden-groups">{said.replace('{n}', String(n)).replaceAll('{min}', String(min))}</p>;
}

async function renderDisclosure(c: Context<AppEnv>, month: string, choices: string[], monthError: string | undefined) {
  const deps = c.get('deps');
  const { lang, timeZone } = pageContext(c);
  const t = T[lang];
  // `choices` starts with the current month: an earlier one is over, not "yet" to come.
  const none = month === choices[0] ? t.none : t.noneThen;
  const period = periodOf(deps, { from: `${month}-01`, to: lastDayOf(month) });
  // The three tables count the same cases, chosen once.
  const selection = await selectPublicCases(deps, period);
  const [byType, byPlace, byBureau, recent] = await Promise.all([
    computePublicStats(deps, period, 'type', lang, selection),
    computePublicStats(deps, period, 'jurisdiction', lang, selection),
    computePublicStats(deps, period, 'bureau', lang, selection),
    recentClosedCases(deps, lang),
  ]);
  const min = byType.minGroupSize;
  const body = (
    <section>
      <h1>{t.title}</h1>
      <p>{t.intro.replace('{min}', String(min))}</p>
      <form method="get" action="/public" class="filters">
        <div>
          <label for="month">{t.month}</label>
          <FieldError name="month" message={monthError} />
          <select id="month" name="month" aria-invalid={monthError ? 'true' : undefined} aria-describedby={monthError ? errorId('month') : undefined}>
            {choices.map((m) => (
              <option value={m} selected={m === month}>
                {monthName(m, lang)}
              </option>
            ))}
          </select>
        </div>
        <button type="submit">{t.show}</button>
      </form>

      <h2 id="month-title">{monthName(month, lang)}</h2>
      <p id="month-total">{t.total.replace('{month}', monthName(month, lang)).replace('{n}', String(byType.totals.received)).replace('{min}', String(min))}</p>

      <div class="grid">
        <section aria-labelledby="by-type">
          <h3 id="by-type">{t.byType}</h3>
          {byType.groups.length > 0 ? <CountTable id="type-table" caption={t.byType} column={t.type} groups={byType.groups} lang={lang} /> : byType.hiddenGroups === 0 ? <p>{none}</p> : null}
          <Hidden n={byType.hiddenGroups} listed={byType.groups.length} min={min} lang={lang} />
        </section>
        <section aria-labelledby="by-place">
          <h3 id="by-place">{t.byPlace}</h3>
          {byPlace.groups.length > 0 ? <CountTable id="place-table" caption={t.byPlace} column={t.place} groups={byPlace.groups} lang={lang} /> : byPlace.hiddenGroups === 0 ? <p>{none}</p> : null}
          <Hidden n={byPlace.hiddenGroups} listed={byPlace.groups.length} min={min} lang={lang} />
        </section>
      </div>

      <h2 id="by-bureau">{t.byBureau}</h2>
      {byBureau.groups.length > 0 ? (
        <div class="table-wrap" role="region" aria-labelledby="by-bureau" tabindex={0}>
          <table id="bureau-table" aria-labelledby="by-bureau">
            <thead>
              <tr>
                <th scope="col">{t.bureau}</th>
                {BUREAU_COLUMNS.map((col) => (
                  <th scope="col" class="num">
                    {t[col.head]}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {byBureau.groups.map((g) => (
                <tr data-key={g.key ?? ''}>
                  <th scope="row">{g.name}</th>
                  {BUREAU_COLUMNS.map((col) =>
                    'rate' in col ? (
                      <td class="num" data-rate={col.rate}>
                        {pct(g[col.field], lang)}
                      </td>
                    ) : (
                      <td class="num">{g[col.field]}</td>
                    ),
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : byBureau.hiddenGroups === 0 ? (
        <p>{none}</p>
      ) : null}
      <Hidden n={byBureau.hiddenGroups} listed={byBureau.groups.length} min={min} lang={lang} />
      {/* What the rates of the table divide by: said only under a table that shows rates. */}
      {byBureau.groups.length > 0 ? (
        <p class="hint" id="rates-note">
          {t.ratesNote}
        </p>
      ) : null}

      <h2 id="recent">{t.recent}</h2>
      <p class="hint">{t.recentIntro}</p>
      {recent.length === 0 ? <p>{t.noRecent}</p> : null}
      <ol class="cases" id="recent-cases" aria-labelledby="recent">
        {recent.map((r) => (
          <li class="card">
            <p class="meta">
              <strong>{r.type}</strong> · {r.jurisdiction} · {t.received} {formatDate(r.receivedAt, lang, timeZone)} · {t.closed}{' '}
              {formatDate(r.closedAt, lang, timeZone)}
            </p>
            <p class="case-text" lang={wordsLang(lang, r.text)}>
              {r.text}
            </p>
            <dl class="facts">
              <dt>{t.lead}</dt>
              <dd>{r.lead}</dd>
              {r.reply ? (
                <>
                  <dt>{t.answer}</dt>
                  <dd class="case-reply" lang={wordsLang(lang, r.reply)}>
                    {r.reply}
                  </dd>
                </>
              ) : null}
              <dt>{t.rating}</dt>
              <dd>{r.rating ? RATING_LABEL[lang][r.rating] : t.notRated}</dd>
            </dl>
          </li>
        ))}
      </ol>
    </section>
  );
  return renderPage(c, t.title, body, { status: monthError ? 400 : 200, refused: monthError !== undefined, scripts: ['echarts.min.js', 'chart-labels.js', 'public.js'] });
}

export function publicPageRoutes() {
  const app = new Hono<AppEnv>();
  app.get('/public', csrfProtection(), loadSession(), async (c) => {
    const deps = c.get('deps');
    const { lang } = pageContext(c);
    const current = localMonth(deps.clock.now(), deps.district.file.district.timezone);
    const choices = monthChoices(current);
    const asked = c.req.query('month');
    if (asked === undefined || asked === '') return renderDisclosure(c, current, choices, undefined);
    if (!MONTH.test(asked) || asked > current || Number(asked.slice(0, 4)) < SERVICE_YEARS.first) return renderDisclosure(c, current, choices, T[lang].badMonth);
    // An older month than the list offers is still answered: the list is only a convenience.
    return renderDisclosure(c, asked, choices.includes(asked) ? choices : [...choices, asked], undefined);
  });
  return app;
}
