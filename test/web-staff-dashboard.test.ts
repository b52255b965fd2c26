import { statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../src/auth/principal.js';
import { insertCases } from '../db/repositories/cases.repository.js';
import { newId } from '../src/domain/ids.js';
import { acceptAssignment } from '../src/workflow/bureau.js';
import { newPage } from './browser.js';
import { drawnText, overlapping } from './chart-helpers.js';
import { tempDir } from './harness.js';
import { formClient, signIn, startStaffWebService, type WebStaff } from './web-staff-helpers.js';
import { seedCase } from './workflow-helpers.js';

let web: WebStaff;
let base: string;

beforeAll(async () => {
  // Tiles from a path on this service: none exist, but the map and its markers are drawn all the same.
  web = await startStaffWebService('web-dashboard', { MAP_TILE_URL: '/tiles/{z}/{x}/{y}.png', MAP_CENTER: '25.165,111.34,12' });
  base = web.service.url;
  const db = web.service.deps.db;
  const clerk = (unit: string): Principal => ({ userId: web.userIds.epb!, name: 'clerk', role: 'bureau', unitCode: unit, tokenId: 't' });
  // Two days of cases of several types; some signed for, some left to go overdue; two with a map pin.
  const seeded = [
    await seedCase(web.service, web.clock, { type: 'illegal_discharge' }),
    await seedCase(web.service, web.clock, { type: 'noise', jurisdiction: 'huilongxu' }),
  ];
  web.clock.advance(24 * 3600_000);
  seeded.push(
    await seedCase(web.service, web.clock, { type: 'illegal_discharge' }),
    await seedCase(web.service, web.clock, { type: 'garbage_sludge', jurisdiction: 'maludou', assignments: [{ unit: 'enforcement', role: 'lead' }, { unit: 'maludou', role: 'jurisdiction' }] }),
  );
  await acceptAssignment(web.service.deps, clerk('epb'), seeded[0]!.id);
  await acceptAssignment(web.service.deps, clerk('enforcement'), seeded[3]!.id);
  await db.updateTable('cases').set({ lat: 25.16, lng: 111.33 }).where('id', '=', seeded[0]!.id).execute();
  await db.updateTable('cases').set({ lat: 25.18, lng: 111.36 }).where('id', '=', seeded[1]!.id).execute();
  web.clock.advance(26 * 3600_000);
}, 90_000);

describe('dispatcher dashboard', () => {
  it('says a period that ends before it starts is wrong, in the page language', async () => {
    const client = formClient(base, { 'x-forwarded-for': '10.3.0.1' });
    await client.signIn('dispatcher');
    const res = await client.get('/desk/dashboard?from=2026-11-30&to=2026-11-01');
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('起始日期（2026-11-30）不能晚于截止日期（2026-11-01）');
  });

  it('shows a period it refuses in the form as typed, with why next to the date to correct, in the page language', async () => {
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders({ 'x-forwarded-for': '10.3.0.9' });
    await signIn(page, base, 'dispatcher', undefined, '/desk/dashboard');
    await page.fill('#from', '2026-11-30');
    await page.fill('#to', '2026-11-01');
    const [ended] = await Promise.all([page.waitForNavigation(), page.click('main form button[type=submit]')]);
    expect(ended?.status()).toBe(400);
    expect(await page.title()).toMatch(/^错误：/);
    expect([await page.inputValue('#from'), await page.inputValue('#to')]).toEqual(['2026-11-30', '2026-11-01']);
    expect(await page.getAttribute('#from', 'aria-describedby')).toBe('from-error');
    expect(await page.textContent('#from-error')).toBe('起始日期（2026-11-30）不能晚于截止日期（2026-11-01）。');
    expect(await page.$('#dashboard-data')).toBeNull();

    await page.goto(`${base}/desk/dashboard?from=2025-06-01&to=2026-12-31&lang=en`);
    expect([await page.inputValue('#from'), await page.inputValue('#to')]).toEqual(['2025-06-01', '2026-12-31']);
    expect(await page.getAttribute('#to', 'aria-invalid')).toBe('true');
    expect(await page.textContent('#to-error')).toContain('The dashboard shows at most 366 days');
    // Corrected in the same form, the period is drawn.
    await page.fill('#from', '2026-01-01');
    const [drawn] = await Promise.all([page.waitForNavigation(), page.click('main form button[type=submit]')]);
    expect(drawn?.status()).toBe(200);
    expect(await page.$('#to-error')).toBeNull();
    await context.close();
  });

  it('starts the period of an early end date alone on 1900-01-01, the first date its form takes', async () => {
    const client = formClient(base, { 'x-forwarded-for': '10.3.0.3' });
    await client.signIn('dispatcher');
    const res = await client.get('/desk/dashboard?to=1900-01-05');
    const html = await res.text();
    expect(res.status).toBe(200);
    expect(html).toContain('1900-01-01 至 1900-01-05，共受理 0 件。');
    // The form shows the start it drew from, which sent again is taken.
    expect(html).toMatch(/<input id="from" name="from" type="date" value="1900-01-01"/);
    expect((await client.get('/desk/dashboard?from=1900-01-01&to=1900-01-05')).status).toBe(200);
  });

  it('refuses a period longer than it draws instead of leaving the later days out of the charts and the total', async () => {
    const client = formClient(base, { 'x-forwarded-for': '10.3.0.2' });
    await client.signIn('dispatcher');
    // The seeded cases fall in the last days of such a period: drawn from its first 366 days, none was counted.
    const res = await client.get('/desk/dashboard?from=2025-06-01&to=2026-12-31');
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('统计看板最多显示 366 天');
    // A whole year is drawn, and counts what the statistics count.
    const year = await client.get('/desk/dashboard?from=2026-01-01&to=2026-12-31');
    expect(year.status).toBe(200);
    const received = Number(/共受理 (\d+) 件/.exec(await year.text())?.[1]);
    const csv = await (await client.get('/desk/export/stats.csv?groupBy=type&from=2026-01-01&to=2026-12-31')).text();
    expect(received).toBeGreaterThan(0);
    expect(received).toBe(Number(csv.trimEnd().split('\r\n').at(-1)!.split(',')[2]));
  });

  it('draws every chart with ECharts on a canvas, and the cases on the map', async () => {
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders({ 'x-forwarded-for': '10.4.0.1' });
    await signIn(page, base, 'dispatcher', undefined, '/desk/dashboard');
    expect(new URL(page.url()).pathname).toBe('/desk/dashboard');
    await page.waitForSelector('html[data-dashboard="drawn"]');
    const shot = join(tempDir('dashboard-'), 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(20_000);

    for (const id of ['chart-per-day', 'chart-by-bureau', 'chart-by-jurisdiction', 'chart-overdue']) {
      const drawn = (await page.evaluate(`(() => {
        const el = document.getElementById('${id}');
        const chart = window.echarts.getInstanceByDom(el);
        const canvas = el.querySelector('canvas');
        const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let painted = 0;
        for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
        return {
          width: canvas.width,
          painted,
          series: chart.getOption().series.map((s) => s.data.filter((v) => v !== null && v !== 0).length),
        };
      })()`)) as { width: number; painted: number; series: number[] };
      expect(drawn.width, id).toBeGreaterThan(0);
      expect(drawn.painted, id).toBeGreaterThan(1000);
      expect(Math.max(...drawn.series), id).toBeGreaterThan(0);
    }

    // Cases per day, stacked by type: two days with cases, illegal discharge on both.
    const perDay = (await page.evaluate(`window.echarts.getInstanceByDom(document.getElementById('chart-per-day')).getOption().series.map((s) => ({ name: s.name, stack: s.stack, total: s.data.reduce((a, b) => a + b, 0) }))`)) as Array<{ name: string; stack: string; total: number }>;
    expect(perDay).toEqual(
      expect.arrayContaining([
        { name: '非法排放有毒有害污染物', stack: 'cases', total: 2 },
        { name: '噪声扰民', stack: 'cases', total: 1 },
        { name: '生活垃圾与污泥乱倒', stack: 'cases', total: 1 },
      ]),
    );
    // The three rates by bureau: the EPB signed one of its three lead and co assignments in time.
    const bureaus = (await page.evaluate(`window.echarts.getInstanceByDom(document.getElementById('chart-by-bureau')).getOption().xAxis[0].data`)) as string[];
    expect(bureaus).toEqual(expect.arrayContaining(['区环保局', '区综合行政执法大队']));
    // Overdue now: the assignments nobody signed for.
    const overdue = (await page.evaluate(`window.echarts.getInstanceByDom(document.getElementById('chart-overdue')).getOption().yAxis[0].data`)) as string[];
    expect(overdue).toContain('区经信委');
    expect(await page.getAttribute('#case-map', 'data-points')).toBe('2');
    expect(await page.$$eval('#case-map path.leaflet-interactive', (els) => els.length)).toBe(2);
    await context.close();
  });

  it('heads the figures of the local offices with 属地, those of the bureaus with 单位, in either language', async () => {
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders({ 'x-forwarded-for': '10.4.0.4' });
    await signIn(page, base, 'dispatcher', undefined, '/desk/dashboard?lang=zh');
    const heads = () =>
      page.$$eval('details table', (tables) => tables.filter((t) => t.querySelector('caption')).map((t) => [t.querySelector('caption')!.textContent!.trim(), t.querySelector('thead th')!.textContent!.trim()]));
    expect(await heads()).toEqual([
      ['各单位办理指标', '单位'],
      ['各属地办理指标', '属地'],
    ]);
    // What the rates divide by: what was due, so a period just begun is not understated.
    expect(await page.textContent('#rates-note')).toContain('响应率 = 按时签收的派单 / 应签收的派单（已签收，或签收期限已过）');
    // Each rate follows the count it divides by, the figures of the API's statistics.
    const table = (caption: string) =>
      page.evaluate(`(() => {
        const t = Array.from(document.querySelectorAll('details table')).find((x) => x.querySelector('caption')?.textContent.trim() === ${JSON.stringify(caption)});
        return Array.from(t.querySelectorAll('tr')).map((tr) => Array.from(tr.children).map((cell) => cell.textContent.trim()));
      })()`) as Promise<string[][]>;
    const [head, ...rows] = await table('各单位办理指标');
    expect(head).toEqual(['单位', '应签收', '响应率', '应答复', '办结率', '评价数', '满意率']);
    const stats = (await (await fetch(`${base}/api/v1/stats?groupBy=bureau`, { headers: { authorization: `Bearer ${web.staff.dispatcher}` } })).json()) as {
      groups: Array<{ name: string; signDue: number; due: number; rated: number; responseRate: number | null; resolutionRate: number | null; satisfactionRate: number | null }>;
    };
    const pct = (x: number | null) => (x === null ? '—' : `${Math.round(x * 1000) / 10}%`);
    const epb = stats.groups.find((g) => g.name === '区环保局')!;
    expect(rows.find((r) => r[0] === '区环保局')).toEqual(['区环保局', String(epb.signDue), pct(epb.responseRate), String(epb.due), pct(epb.resolutionRate), String(epb.rated), pct(epb.satisfactionRate)]);
    expect(epb.signDue).toBeGreaterThan(0);
    await page.goto(`${base}/desk/dashboard?lang=en`);
    expect(await heads()).toEqual([
      ['Rates by bureau', 'Unit'],
      ['Rates by local office', 'Local office'],
    ]);
    expect(await page.textContent('#rates-note')).toContain('Response rate = assignments signed for on time / assignments due to be signed for (signed, or past the deadline)');
    expect((await table('Rates by local office'))[0]).toEqual(['Local office', 'Due for signing', 'Response rate', 'Due for an answer', 'Resolution rate', 'Ratings', 'Satisfaction rate']);
    await context.close();
  });

  it('lists the cases whose place is unknown as a local office of their own (属地不明), as the statistics do', async () => {
    // A case of its own month, far from the others' days: no local office was ever found for it.
    const lost = await seedCase(web.service, web.clock, { type: 'noise', jurisdiction: null, assignments: [{ unit: 'epb', role: 'lead' }] });
    await web.service.deps.db.updateTable('cases').set({ received_at: '2020-06-15T02:00:00.000Z', dispatched_at: '2020-06-15T02:05:00.000Z' }).where('id', '=', lost.id).execute();
    const client = formClient(base, { 'x-forwarded-for': '10.3.0.9' });
    await client.signIn('dispatcher');
    const data = async (lang: string) => {
      const html = await (await client.get(`/desk/dashboard?from=2020-06-01&to=2020-06-30&lang=${lang}`)).text();
      const json = /<script type="application\/json" id="dashboard-data">([\s\S]*?)<\/script>/.exec(html)![1]!;
      return JSON.parse(json) as { byJurisdiction: Array<{ name: string; dispatched: number }>; byBureau: Array<{ name: string; dispatched: number }> };
    };
    const zh = await data('zh');
    expect(zh.byJurisdiction).toEqual([expect.objectContaining({ name: '属地不明', dispatched: 1 })]);
    expect(zh.byBureau.map((b) => b.name)).toEqual(['区环保局']);
    expect((await data('en')).byJurisdiction.map((j) => j.name)).toEqual(['place unknown']);
    // The API's statistics say the same.
    const stats = await (await fetch(`${base}/api/v1/stats?from=2020-06-01&to=2020-06-30&groupBy=jurisdiction`, { headers: { authorization: `Bearer ${web.staff.dispatcher}` } })).json() as { groups: Array<{ key: string | null; dispatched: number }> };
    expect(stats.groups).toEqual([expect.objectContaining({ key: null, dispatched: 1 })]);
  });

  it('names the days on the axis by month and day within one year, and with the year across a new year', async () => {
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders({ 'x-forwarded-for': '10.4.0.5' });
    await signIn(page, base, 'dispatcher', undefined, '/desk/dashboard?from=2025-11-02&to=2026-11-02');
    await page.waitForSelector('html[data-dashboard="drawn"]');
    const axis = () => page.evaluate(`window.echarts.getInstanceByDom(document.getElementById('chart-per-day')).getOption().xAxis[0].data`) as Promise<string[]>;
    const year = await axis();
    expect(year).toHaveLength(366);
    // The first and the last day are a year apart: told apart.
    expect([year[0], year.at(-1)]).toEqual(['2025-11-02', '2026-11-02']);
    expect(new Set(year).size).toBe(366);
    await page.goto(`${base}/desk/dashboard?from=2026-10-20&to=2026-11-02`);
    await page.waitForSelector('html[data-dashboard="drawn"]');
    expect((await axis()).slice(0, 2)).toEqual(['10-20', '10-21']);
    await context.close();
  });

  it('draws the charts on a phone screen too, in English', async () => {
    const { page, context } = await newPage({ locale: 'en-GB' });
    await context.setExtraHTTPHeaders({ 'x-forwarded-for': '10.4.0.2' });
    await page.setViewportSize({ width: 375, height: 800 });
    await signIn(page, base, 'admin', undefined, '/desk/dashboard?lang=en');
    await page.waitForSelector('html[data-dashboard="drawn"]');
    expect(await page.textContent('h1')).toBe('Dashboard');
    const width = (await page.evaluate(`document.querySelector('#chart-per-day canvas').getBoundingClientRect().width`)) as number;
    expect(width).toBeGreaterThan(200);
    expect(width).toBeLessThanOrEqual(375);
    // Nothing wider than the screen.
    expect((await page.evaluate('document.documentElement.scrollWidth')) as number).toBeLessThanOrEqual(375);
    // The bureaus' long English names would not fit side by side under their bars, nor turned: they lie down, one a
    // row, the bars across, none over another.
    const axes = (p: typeof page) =>
      p.evaluate(`(() => { const o = window.echarts.getInstanceByDom(document.getElementById('chart-by-bureau')).getOption(); return { x: o.xAxis[0].type, y: o.yAxis[0].type, rotate: o.xAxis[0].axisLabel.rotate }; })()`) as Promise<{ x: string; y: string; rotate: number }>;
    expect(await axes(page)).toMatchObject({ x: 'value', y: 'category' });
    expect(overlapping(await drawnText(page, 'chart-by-bureau'))).toEqual([]);
    // The shorter Chinese names of as many bureaus stand turned under their bars.
    await page.goto(`${base}/desk/dashboard?lang=zh`);
    await page.waitForSelector('html[data-dashboard="drawn"]');
    expect(await axes(page)).toEqual({ x: 'category', y: 'value', rotate: 30 });
    await context.close();

    // On a wide screen the same names in Chinese fit: left level.
    const wide = await newPage();
    await wide.context.setExtraHTTPHeaders({ 'x-forwarded-for': '10.4.0.3' });
    await wide.page.setViewportSize({ width: 1600, height: 900 });
    await signIn(wide.page, base, 'admin', undefined, '/desk/dashboard?lang=zh');
    await wide.page.waitForSelector('html[data-dashboard="drawn"]');
    const names = (await wide.page.evaluate(`window.echarts.getInstanceByDom(document.getElementById('chart-by-bureau')).getOption().xAxis[0].data`)) as string[];
    expect(names.length).toBeGreaterThan(1);
    expect(await wide.page.evaluate(`window.echarts.getInstanceByDom(document.getElementById('chart-by-bureau')).getOption().xAxis[0].axisLabel.rotate`)).toBe(0);
    await wide.context.close();
  });
});

describe('dispatcher dashboard without map tiles', () => {
  let bare: WebStaff;
  beforeAll(async () => {
    bare = await startStaffWebService('web-dashboard-nomap');
  }, 60_000);

  it('tells a dispatcher the map is not set up and to ask the administrator, and names the setting to the administrator only', async () => {
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders({ 'x-forwarded-for': '10.4.0.3' });
    const said: Record<string, string> = {};
    for (const [who, lang] of [
      ['dispatcher', 'zh'],
      ['dispatcher', 'en'],
      ['admin', 'zh'],
      ['admin', 'en'],
    ] as const) {
      await signIn(page, bare.service.url, who, undefined, `/desk/dashboard?lang=${lang}`);
      await page.waitForSelector('html[data-dashboard="drawn"]');
      expect(await page.$('#case-map')).toBeNull();
      said[`${who} ${lang}`] = (await page.textContent('#h-map + p.notice'))!.trim();
    }
    expect(said['dispatcher zh']).toBe('地图尚未配置，暂时无法显示案件分布图。如需使用，请联系系统管理员。');
    expect(said['dispatcher en']).toBe('The map is not set up, so the cases cannot be shown on a map. Ask the system administrator if you need it.');
    expect(said['admin zh']).toContain('MAP_TILE_URL');
    expect(said['admin en']).toContain('MAP_TILE_URL');
    await context.close();
  });
});

describe('dispatcher dashboard: a type the district file dropped', () => {
  it('draws and counts the cases of a type the district file no longer has, as the statistics count them', async () => {
    const own = await startStaffWebService('web-dashboard-dropped');
    await seedCase(own.service, own.clock, { type: 'noise', jurisdiction: 'huilongxu' });
    const old = await seedCase(own.service, own.clock, { type: 'illegal_discharge' });
    // Classified under a type a later district file dropped.
    await own.service.deps.db.updateTable('cases').set({ type_code: 'soil_odour' }).where('id', '=', old.id).execute();

    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders({ 'x-forwarded-for': '10.4.1.1' });
    await signIn(page, own.service.url, 'dispatcher', undefined, '/desk/dashboard');
    await page.waitForSelector('html[data-dashboard="drawn"]');
    expect(await page.textContent('p[role=status]')).toContain('共受理 2 件');
    const series = (await page.evaluate(
      `window.echarts.getInstanceByDom(document.getElementById('chart-per-day')).getOption().series.map((s) => [s.name, s.data.reduce((a, b) => a + b, 0)])`,
    )) as Array<[string, number]>;
    expect(series).toEqual([
      ['噪声扰民', 1],
      ['soil_odour', 1],
    ]);
    // The same total as the statistics' export of the period.
    const csv = await page.evaluate(`fetch('/desk/export/stats.csv?groupBy=type').then((r) => r.text())`) as string;
    expect(csv.trimEnd().split('\r\n').at(-1)!.split(',').slice(1, 3)).toEqual(['合计', '2']);
    await context.close();
  }, 60_000);
});

describe('dispatcher dashboard: a busy period', () => {
  it('counts every case of the period per day, more than the map draws', async () => {
    const own = await startStaffWebService('web-dashboard-busy');
    // 20,010 reports over three days of October 2026, all still in triage: more than the 20,000 points the map takes.
    const n = 20_010;
    const rows = Array.from({ length: n }, (_, i) => {
      const at = new Date(Date.parse('2026-10-09T16:00:00.000Z') + Math.floor(i / 7) * 90_000).toISOString();
      return {
        id: newId(),
        tracking_code: `BUSY${String(i).padStart(6, '0')}`,
        channel: 'web',
        text: `批量 ${i}`,
        address: null,
        lat: null,
        lng: null,
        occurred_at: null,
        status: 'triage',
        type_code: i % 2 === 0 ? 'noise' : 'air_pollution',
        confidence: 0.5,
        classification: null,
        urgent: 0,
        urgency_reasons: null,
        anonymous: 1,
        jurisdiction_code: null,
        place_source: null,
        flags: '[]',
        triage_reason: 'low_confidence',
        received_at: at,
        dispatched_at: null,
        sign_deadline_at: null,
        reply_deadline_at: null,
        updated_at: at,
        version: 1,
        replied_at: null,
        rate_deadline_at: null,
        closed_at: null,
        close_reason: null,
        merged_into: null,
        round: 1,
        overdue: 0,
        supervised_at: null,
        extended: 0,
      };
    });
    for (let i = 0; i < rows.length; i += 500) await insertCases(own.service.deps.db, rows.slice(i, i + 500));

    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders({ 'x-forwarded-for': '10.4.2.1' });
    await signIn(page, own.service.url, 'dispatcher', undefined, '/desk/dashboard?from=2026-10-01&to=2026-10-31');
    expect(await page.textContent('p[role=status]')).toBe(`2026-10-01 至 2026-10-31，共受理 ${n} 件。`);
    const perDay = (await page.evaluate(
      `(() => { const o = JSON.parse(document.getElementById('dashboard-data').textContent); return o.perDay.days.map((d, i) => [d, o.perDay.series.reduce((a, s) => a + s.data[i], 0)]).filter((x) => x[1] > 0); })()`,
    )) as Array<[string, number]>;
    // 20,010 reports, seven every minute and a half from 2026-10-10 00:00 local: 6,720 a day.
    expect(perDay).toEqual([
      ['2026-10-10', 6720],
      ['2026-10-11', 6720],
      ['2026-10-12', n - 2 * 6720],
    ]);
    const csv = (await page.evaluate(`fetch('/desk/export/stats.csv?groupBy=type&from=2026-10-01&to=2026-10-31').then((r) => r.text())`)) as string;
    expect(csv.trimEnd().split('\r\n').at(-1)!.split(',').slice(1, 3)).toEqual(['合计', String(n)]);
    await context.close();
  }, 120_000);
});

describe('dispatcher dashboard on a phone: every unit with cases', () => {
  it("draws every unit's and office's name on a 360 px wide screen, in either language, none over another", async () => {
    const own = await startStaffWebService('web-dashboard-phone');
    const file = own.service.deps.district.file;
    // A case for each bureau, each with a local office: every unit and office has a rate to draw, and none signed
    // for its part in time, so all are overdue too.
    const bureaus = file.bureaus.map((b) => b.code).filter((b) => b !== 'hotline12345');
    const places = file.jurisdictions.map((j) => j.code);
    for (const [i, b] of bureaus.entries()) {
      const j = places[i % places.length]!;
      await seedCase(own.service, own.clock, { jurisdiction: j, assignments: [{ unit: b, role: 'lead' }, { unit: j, role: 'jurisdiction' }] });
    }
    own.clock.advance(50 * 3600_000);
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders({ 'x-forwarded-for': '10.4.3.1' });
    await page.setViewportSize({ width: 360, height: 800 });
    await signIn(page, own.service.url, 'dispatcher', undefined, '/desk/dashboard');
    for (const lang of ['zh', 'en'] as const) {
      await page.goto(`${own.service.url}/desk/dashboard?lang=${lang}`);
      await page.waitForSelector('html[data-dashboard="drawn"]');
      expect((await page.evaluate('document.documentElement.scrollWidth')) as number).toBeLessThanOrEqual(360);
      for (const id of ['chart-per-day', 'chart-by-bureau', 'chart-by-jurisdiction', 'chart-overdue']) {
        const drawn = await drawnText(page, id);
        expect(drawn.length, id).toBeGreaterThan(3);
        expect(overlapping(drawn), `${lang} ${id}`).toEqual([]);
        // Every name is there to read, none left out to make room (a name may take more than one line).
        const option = (await page.evaluate(`(() => { const o = window.echarts.getInstanceByDom(document.getElementById('${id}')).getOption(); return [o.xAxis[0], o.yAxis[0]].filter((a) => a.type === 'category').map((a) => a.data)[0]; })()`)) as string[];
        if (id === 'chart-per-day') continue;
        const all = drawn.map((d) => d.text).join('').replace(/\s/g, '');
        const missing = option.filter((name) => !all.includes(name.replace(/\s/g, '')));
        expect(missing, `${lang} ${id}`).toEqual([]);
        expect(option.length, id).toBeGreaterThan(id === 'chart-by-jurisdiction' ? 5 : 10);
      }
    }
    await context.close();
  }, 120_000);
});
