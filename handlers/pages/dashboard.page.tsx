import type { Context, Hono } from 'hono';
import { casePoints, overdueByUnit, receivedTypeBatches } from '../../db/repositories/desk.repository.js';
import { AppError } from '../../src/errors.js';
import { SERVICE_YEARS } from '../../src/domain/service-years.js';
import { addDays, isCalendarDate, localDate, type GroupStats } from '../../src/stats/stats.js';
import type { Lang } from '../../src/web/i18n.js';
import { errorId, FieldError } from '../../src/web/layout.js';
import { pageContext, renderPage } from '../../src/web/render.js';
import type { AppEnv } from '../app-env.js';
import { computeStats, periodOf } from '../stats.routes.js';
import { STATUS_LABEL, typeName, unitName } from './staff-common.js';

/**
 * The dispatchers' dashboard (`/desk/dashboard`): cases per day by type,
 * the three rates by bureau and by jurisdiction, what is overdue right now
 * by bureau, and a map of the cases when map tiles are configured. The
 * figures are computed here (the same statistics code as the API) and
 * embedded as JSON; src/web/assets/dashboard.js draws them with ECharts
 * (and Leaflet), both served by the service itself. Each chart has its
 * figures as a table too, for screen readers and for reading exact values.
 */

/** The longest period the dashboard draws day by day. */
const MAX_DAYS = 366;

const T = {
  zh: {
    title: '统计看板',
    from: '起始日期',
    to: '截止日期',
    show: '查看',
    perDay: '每日受理量（按类型）',
    byBureau: '各单位办理指标',
    byJurisdiction: '各属地办理指标',
    overdue: '当前超期（按单位）',
    map: '案件分布',
    response: '响应率',
    resolution: '办结率',
    satisfaction: '满意率',
    signDue: '应签收',
    due: '应答复',
    rated: '评价数',
    ratesNote: '响应率 = 按时签收的派单 / 应签收的派单（已签收，或签收期限已过）；办结率 = 按时答复的派单 / 应答复的派单（已答复，或答复期限已过）；满意率 =（满意 + 基本满意）/ 全部评价；按单位统计时，评价计入所评答复的牵头单位（承办单位），协办单位和属地不计。仍在期限内的派单不计入，期间刚开始时比率不会因此偏低。',
    signOverdue: '超期未签收',
    replyOverdue: '超期未答复',
    date: '日期',
    unit: '单位',
    place: '属地',
    total: '合计',
    noData: '所选期间没有数据。',
    noOverdue: '目前没有超期的案件。',
    noMap: '地图尚未配置，暂时无法显示案件分布图。如需使用，请联系系统管理员。',
    noMapAdmin: '地图尚未配置，暂时无法显示案件分布图：请在服务的配置中设置地图底图地址 MAP_TILE_URL。',
    located: '有定位的案件：',
    zoomIn: '放大地图',
    zoomOut: '缩小地图',
    figures: '数据表',
    back: '返回调度台',
  },
  en: {
    title: 'Dashboard',
    from: 'From',
    to: 'To',
    show: 'Show',
    perDay: 'Cases received per day, by type',
    byBureau: 'Rates by bureau',
    byJurisdiction: 'Rates by local office',
    overdue: 'Overdue now, by bureau',
    map: 'Where the cases are',
    response: 'Response rate',
    resolution: 'Resolution rate',
    satisfaction: 'Satisfaction rate',
    signDue: 'Due for signing',
    due: 'Due for an answer',
    rated: 'Ratings',
    ratesNote:
      'Response rate = assignments signed for on time / assignments due to be signed for (signed, or past the deadline); resolution rate = assignments answered on time / assignments due to be answered (answered, or past the deadline); satisfaction rate = (satisfied + basically satisfied) / all ratings; by bureau, a rating counts for the lead bureau whose answer it rated, not for the co-handlers or the local office. An assignment still within its deadline is not counted yet, so a period that has just begun is not understated.',
    signOverdue: 'not signed for in time',
    replyOverdue: 'not replied in time',
    date: 'Date',
    unit: 'Unit',
    place: 'Local office',
    total: 'Total',
    noData: 'No data in this period.',
    noOverdue: 'Nothing is overdue now.',
    noMap: 'The map is not set up, so the cases cannot be shown on a map. Ask the system administrator if you need it.',
    noMapAdmin: "The map is not set up, so the cases cannot be shown on a map: set the map tile address, MAP_TILE_URL, in the service's configuration.",
    located: 'Cases with a location: ',
    zoomIn: 'Zoom in',
    zoomOut: 'Zoom out',
    figures: 'Figures',
    back: 'Back to the desk',
  },
} as const;

/**
 * The rates of each group that has any. The cases whose place is unknown are a group of their own (属地不明), as the
 * statistics list them, so that the table accounts for every case (`unknown`).
 */
function rates(groups: readonly GroupStats[], opts: { unknown?: boolean } = {}) {
  return groups
    .filter((g) => (g.key !== null || opts.unknown === true) && (g.dispatched > 0 || g.rated > 0))
    .map((g) => ({
      key: g.key ?? '',
      name: g.name,
      response: g.responseRate,
      resolution: g.resolutionRate,
      satisfaction: g.satisfactionRate,
      dispatched: g.dispatched,
      // What each rate divides by, shown beside it in the table.
      signDue: g.signDue,
      due: g.due,
      rated: g.rated,
    }));
}

function pct(x: number | null): string {
  return x === null ? '—' : `${Math.round(x * 1000) / 10}%`;
}

export async function dashboardData(c: Context<AppEnv>, lang: Lang, q: { from?: string; to?: string }) {
  const deps = c.get('deps');
  const { district } = deps;
  const tz = district.file.district.timezone;
  const period = periodOf(deps, q);
  // Drawn day by day: a longer period would leave its later days, and their cases, out of the chart and the total.
  if (addDays(period.from, MAX_DAYS - 1) < period.to) {
    throw new AppError(
      'validation_failed',
      lang === 'zh' ? `统计看板最多显示 ${MAX_DAYS} 天（${period.from} 至 ${period.to} 超出），请缩短期间或按月导出统计。` : `The dashboard shows at most ${MAX_DAYS} days (${period.from} to ${period.to} is longer): choose a shorter period, or export the figures by month.`,
      { to: `at most ${MAX_DAYS} days after from` },
    );
  }
  const days: string[] = [];
  for (let d = period.from; d <= period.to; d = addDays(d, 1)) days.push(d);
  const now = deps.clock.now();
  // Cases per day and type: every case of the period, read in batches (the map's points are capped; the counts never are).
  const dayIndex = new Map(days.map((d, i) => [d, i]));
  const perDayCounts = async () => {
    const counts = new Map<string, number[]>();
    for await (const batch of receivedTypeBatches(deps.db, period.fromInstant, period.toInstant)) {
      for (const p of batch) {
        const i = dayIndex.get(localDate(p.receivedAt, tz));
        if (i === undefined) continue;
        const key = p.typeCode ?? '';
        const row = counts.get(key) ?? days.map(() => 0);
        row[i]! += 1;
        counts.set(key, row);
      }
    }
    return counts;
  };
  const [counts, points, byBureau, byJurisdiction, overdue] = await Promise.all([
    perDayCounts(),
    deps.env.MAP_TILE_URL ? casePoints(deps.db, period.fromInstant, period.toInstant) : Promise.resolve([]),
    computeStats(deps, period, 'bureau', lang),
    computeStats(deps, period, 'jurisdiction', lang),
    overdueByUnit(deps.db, now.toISOString()),
  ]);

  // One series per type that occurs, in the district file's order.
  // A type the district file dropped since cases got it is still drawn (after the file's types, by code), as the
  // statistics still count it: leaving it out would leave its cases out of the chart and the period's total.
  const fileOrder = district.file.types.map((t) => t.code);
  const dropped = [...counts.keys()].filter((k) => k !== '' && !fileOrder.includes(k)).sort();
  const order = [...fileOrder, ...dropped, ''];
  const perDay = {
    days,
    series: order.filter((k) => counts.has(k)).map((k) => ({ key: k || null, name: typeName(district, k || null, lang), data: counts.get(k)! })),
  };

  const env = deps.env;
  const b = district.file.district.bounds;
  const map = env.MAP_TILE_URL
    ? {
        tiles: env.MAP_TILE_URL,
        attribution: env.MAP_ATTRIBUTION ?? '',
        center: [env.MAP_CENTER?.lat ?? (b.south + b.north) / 2, env.MAP_CENTER?.lng ?? (b.west + b.east) / 2],
        zoom: env.MAP_CENTER?.zoom ?? 12,
        points: points
          .filter((p) => p.lat !== null && p.lng !== null)
          .map((p) => ({
            lat: p.lat,
            lng: p.lng,
            code: p.trackingCode,
            href: `/desk/cases/${p.id}`,
            type: typeName(district, p.typeCode, lang),
            status: STATUS_LABEL[lang][p.status] ?? p.status,
            open: !['closed', 'merged', 'transferred'].includes(p.status),
          })),
      }
    : null;

  return {
    period: { from: period.from, to: period.to },
    labels: {
      response: T[lang].response,
      resolution: T[lang].resolution,
      satisfaction: T[lang].satisfaction,
      signOverdue: T[lang].signOverdue,
      replyOverdue: T[lang].replyOverdue,
      noData: T[lang].noData,
    },
    perDay,
    byBureau: rates(byBureau.groups),
    byJurisdiction: rates(byJurisdiction.groups, { unknown: true }),
    overdue: overdue.map((o) => ({ key: o.unitCode, name: unitName(district, o.unitCode, lang), sign: o.sign, reply: o.reply })),
    map,
  };
}

type DashboardData = Awaited<ReturnType<typeof dashboardData>>;

/** JSON inside a <script> element: `<` escaped so no text can close the element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

interface PeriodProblem {
  field: 'from' | 'to';
  message: string;
}

/** The way back to the desk and the page's title, above the period's form. */
function Heading({ t }: { t: (typeof T)[Lang] }) {
  return (
    <>
      <p>
        <a href="/desk">← {t.back}</a>
      </p>
      <h1>{t.title}</h1>
    </>
  );
}

function PeriodForm({ t, from, to, problem }: { t: (typeof T)[Lang]; from: string; to: string; problem: PeriodProblem | null }) {
  const invalid = (field: PeriodProblem['field']) => (problem?.field === field ? { 'aria-invalid': 'true' as const, 'aria-describedby': errorId(field) } : {});
  return (
    <form method="get" action="/desk/dashboard" class="filters">
      <div>
        <label for="from">{t.from}</label>
        <input id="from" name="from" type="date" value={from} {...invalid('from')} />
        <FieldError name="from" message={problem?.field === 'from' ? problem.message : undefined} />
      </div>
      <div>
        <label for="to">{t.to}</label>
        <input id="to" name="to" type="date" value={to} {...invalid('to')} />
        <FieldError name="to" message={problem?.field === 'to' ? problem.message : undefined} />
      </div>
      <button type="submit">{t.show}</button>
    </form>
  );
}

/** A chart's figures: `column` names what its rows are (单位 for the bureaus, 属地 for the local offices). */
function RateTable({ rows, lang, caption, column }: { rows: DashboardData['byBureau']; lang: Lang; caption: string; column: string }) {
  const t = T[lang];
  return (
    <details>
      <summary>{t.figures}</summary>
      {/* Focusable, so a keyboard can scroll it sideways on a narrow screen. */}
      <div class="table-wrap" role="region" aria-label={caption} tabindex={0}>
        <table>
          <caption class="hint" style="text-align:left">
            {caption}
          </caption>
          <thead>
            <tr>
              <th scope="col">{column}</th>
              <th scope="col">{t.signDue}</th>
              <th scope="col">{t.response}</th>
              <th scope="col">{t.due}</th>
              <th scope="col">{t.resolution}</th>
              <th scope="col">{t.rated}</th>
              <th scope="col">{t.satisfaction}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr>
                <th scope="row">{r.name}</th>
                <td>{r.signDue}</td>
                <td>{pct(r.response)}</td>
                <td>{r.due}</td>
                <td>{pct(r.resolution)}</td>
                <td>{r.rated}</td>
                <td>{pct(r.satisfaction)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}

/** Adds the dashboard to the desk's router, behind the desk area's session, CSRF and role checks. */
export function dashboardRoutes(router: Hono<AppEnv>): void {
  router.get('/desk/dashboard', async (c) => {
    const p = pageContext(c);
    const t = T[p.lang];
    const q = { from: c.req.query('from') || undefined, to: c.req.query('to') || undefined };
    // A period it cannot draw comes back in the form as typed, with why next to the date to correct.
    let problem: PeriodProblem | null = null;
    for (const [k, v] of Object.entries(q)) {
      if (!problem && v !== undefined && !isCalendarDate(v)) {
        problem = { field: k as PeriodProblem['field'], message: p.lang === 'zh' ? `日期格式应为 YYYY-MM-DD（${SERVICE_YEARS.first}–${SERVICE_YEARS.last} 年）。` : `Use dates as YYYY-MM-DD (years ${SERVICE_YEARS.first}–${SERVICE_YEARS.last}).` };
      }
    }
    if (!problem && q.from && q.to && q.from > q.to) {
      problem = { field: 'from', message: p.lang === 'zh' ? `起始日期（${q.from}）不能晚于截止日期（${q.to}）。` : `The start date (${q.from}) is after the end date (${q.to}).` };
    }
    let data: Awaited<ReturnType<typeof dashboardData>> | null = null;
    if (!problem) {
      try {
        data = await dashboardData(c, p.lang, { ...(q.from ? { from: q.from } : {}), ...(q.to ? { to: q.to } : {}) });
      } catch (err) {
        if (!(err instanceof AppError) || err.code !== 'validation_failed') throw err;
        problem = { field: err.fields?.from !== undefined ? 'from' : 'to', message: err.message };
      }
    }
    if (!data || problem) {
      return renderPage(
        c,
        t.title,
        <section>
          <Heading t={t} />
          <PeriodForm t={t} from={q.from ?? ''} to={q.to ?? ''} problem={problem} />
        </section>,
        { status: 400, refused: true },
      );
    }
    const total = data.perDay.series.reduce((n, s) => n + s.data.reduce((a, b) => a + b, 0), 0);
    const scripts = ['echarts.min.js', 'chart-labels.js', ...(data.map ? ['leaflet.js'] : []), 'dashboard.js'];
    return renderPage(
      c,
      t.title,
      <section>
        <Heading t={t} />
        <PeriodForm t={t} from={data.period.from} to={data.period.to} problem={null} />
        <p class="hint" role="status">
          {p.lang === 'zh' ? `${data.period.from} 至 ${data.period.to}，共受理 ${total} 件。` : `${data.period.from} to ${data.period.to}: ${total} cases received.`}
        </p>
        <script type="application/json" id="dashboard-data" dangerouslySetInnerHTML={{ __html: scriptJson(data) }} />

        <h2 id="h-per-day">{t.perDay}</h2>
        {/* Nothing to draw: a sentence, not empty axes and a table of headings without rows. */}
        {data.perDay.series.length ? (
          <>
            <div class="chart" id="chart-per-day" data-chart="perDay" role="img" aria-labelledby="h-per-day"></div>
            <details>
              <summary>{t.figures}</summary>
              <div class="table-wrap" role="region" aria-labelledby="h-per-day" tabindex={0}>
                <table>
                  <thead>
                    <tr>
                      <th scope="col">{t.date}</th>
                      {data.perDay.series.map((s) => (
                        <th scope="col">{s.name}</th>
                      ))}
                    </tr>
                  </thead>
                  <tbody>
                    {data.perDay.days.map((d, i) => (
                      <tr>
                        <th scope="row">{d}</th>
                        {data.perDay.series.map((s) => (
                          <td>{s.data[i]}</td>
                        ))}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </details>
          </>
        ) : (
          <p class="hint">{t.noData}</p>
        )}

        <h2 id="h-by-bureau">{t.byBureau}</h2>
        {data.byBureau.length ? (
          <>
            <div class="chart" id="chart-by-bureau" data-chart="byBureau" role="img" aria-labelledby="h-by-bureau"></div>
            <RateTable rows={data.byBureau} lang={p.lang} caption={t.byBureau} column={t.unit} />
          </>
        ) : (
          <p class="hint">{t.noData}</p>
        )}

        <h2 id="h-by-jurisdiction">{t.byJurisdiction}</h2>
        {data.byJurisdiction.length ? (
          <>
            <div class="chart" id="chart-by-jurisdiction" data-chart="byJurisdiction" role="img" aria-labelledby="h-by-jurisdiction"></div>
            <RateTable rows={data.byJurisdiction} lang={p.lang} caption={t.byJurisdiction} column={t.place} />
          </>
        ) : (
          <p class="hint">{t.noData}</p>
        )}
        {data.byBureau.length || data.byJurisdiction.length ? (
          <p class="hint" id="rates-note">
            {t.ratesNote}
          </p>
        ) : null}

        <h2 id="h-overdue">{t.overdue}</h2>
        {data.overdue.length ? (
          <>
            <div class="chart" id="chart-overdue" data-chart="overdue" role="img" aria-labelledby="h-overdue"></div>
            <details>
              <summary>{t.figures}</summary>
              <table>
                <thead>
                  <tr>
                    <th scope="col">{t.unit}</th>
                    <th scope="col">{t.signOverdue}</th>
                    <th scope="col">{t.replyOverdue}</th>
                  </tr>
                </thead>
                <tbody>
                  {data.overdue.map((o) => (
                    <tr>
                      <th scope="row">{o.name}</th>
                      <td>{o.sign}</td>
                      <td>{o.reply}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </details>
          </>
        ) : (
          <p class="hint" id="overdue-none">
            {t.noOverdue}
          </p>
        )}

        <h2 id="h-map">{t.map}</h2>
        {data.map ? (
          <>
            {/* Leaflet's zoom buttons are named in the page's language (dashboard.js), not Leaflet's English. */}
            <div class="map" id="case-map" role="region" aria-labelledby="h-map" data-zoom-in={t.zoomIn} data-zoom-out={t.zoomOut}></div>
            <p class="hint">
              {t.located}
              {data.map.points.length}
            </p>
          </>
        ) : (
          // Only an administrator can set the map up: a dispatcher is told whom to ask, not the setting's name.
          <p class="notice" id="no-map">
            {c.get('principal')?.role === 'admin' ? t.noMapAdmin : t.noMap}
          </p>
        )}
      </section>,
      { scripts, styles: data.map ? ['leaflet.css'] : [] },
    );
  });
}
