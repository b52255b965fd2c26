import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AxeResults } from 'axe-core';
import type { BrowserContext, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../src/auth/principal.js';
import { acceptAssignment, replyAssignment } from '../src/workflow/bureau.js';
import { mergeCase, transferCase } from '../src/workflow/dispatcher.js';
import { newPage } from './browser.js';
import { signIn, startStaffWebService, TRANSCRIPT, type WebStaff } from './web-staff-helpers.js';
import { seedCase } from './workflow-helpers.js';

/**
 * An automated accessibility check of every page a resident or a staff member
 * uses, in both languages: axe-core in a real browser, against WCAG 2.0/2.1
 * A and AA. A serious or critical finding fails the test with the rule, the
 * elements and what to do about it. Swagger UI (/docs) is a third-party page
 * and not checked here.
 */

const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
/** axe-core's browser build, run in each page as it is. */
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const LANGS = ['zh', 'en'] as const;

let web: WebStaff;
let base: string;
let replied: { id: string; trackingCode: string };
let open: { id: string; trackingCode: string };
let triage: { id: string; trackingCode: string };
let accepted: { id: string; trackingCode: string };
let merged: { id: string; trackingCode: string };
let transferred: { id: string; trackingCode: string };

let address = 0;
const fromNewAddress = () => ({ 'x-forwarded-for': `10.9.0.${++address}` });

beforeAll(async () => {
  // Map tiles from the service itself (any PNG will do), so the maps draw without the internet.
  web = await startStaffWebService('web-a11y', { MAP_TILE_URL: '/assets/images/marker-shadow.png?z={z}&x={x}&y={y}', MAP_CENTER: '25.165,111.34,12' });
  base = web.service.url;
  const epb: Principal = { userId: web.userIds.epb!, name: '环保局张三', role: 'bureau', unitCode: 'epb', tokenId: 'test' };
  // A case the bureau has answered (the tracking page shows the reply and the rating form) ...
  replied = await seedCase(web.service, web.clock, { text: '盐下村电镀厂晚上偷排废水，沟里全是黑水', assignments: [{ unit: 'epb', role: 'lead' }] });
  await web.service.deps.db.updateTable('cases').set({ lat: 25.16, lng: 111.33 }).where('id', '=', replied.id).execute();
  await acceptAssignment(web.service.deps, epb, replied.id);
  web.clock.advance(3600_000);
  await replyAssignment(web.service.deps, epb, replied.id, { text: '经现场检查，已责令电镀厂停产整改' });
  // ... and one waiting for the bureaus to sign (the staff case pages show their action forms).
  open = await seedCase(web.service, web.clock, { text: '回龙圩镇养猪场粪水直排河道，臭味很大', urgent: true });
  // ... and one the bureau has signed for (its reply, progress and extension forms).
  accepted = await seedCase(web.service, web.clock, { assignments: [{ unit: 'epb', role: 'lead' }] });
  await acceptAssignment(web.service.deps, epb, accepted.id);
  // ... and a report merged into the answered one (its page shows how that case goes).
  merged = await seedCase(web.service, web.clock, { text: '盐下村那个电镀厂又在偷排废水' });
  const dispatcher: Principal = { userId: web.userIds.dispatcher!, name: '调度老李', role: 'dispatcher', unitCode: null, tokenId: 'test' };
  await mergeCase(web.service.deps, dispatcher, merged.id, { into: accepted.id, reason: '重复举报' });
  // ... and one handed to 12345 (the desk's form to undo that, 12345's forms to sign for it or return it).
  transferred = await seedCase(web.service, web.clock, { text: '小区门口路灯坏了好几天' });
  await transferCase(web.service.deps, dispatcher, transferred.id, { reason: '非环境类诉求' });
  // ... and one for a dispatcher to route (the desk's triage list and its dispatch form).
  triage = await seedCase(web.service, web.clock, { status: 'triage', type: null, confidence: 0.3, jurisdiction: null });
  // Enough cases of one type and place for the public page to show its tables and charts.
  for (let i = 0; i < 4; i++) await seedCase(web.service, web.clock);
  web.clock.advance(3600_000);
}, 90_000);

/**
 * What the page as it is now gets wrong, ready to print: axe's serious and
 * critical findings, and two things axe leaves for a person to review —
 * a table of headings without a single data row (axe: th-has-data-cells,
 * "needs review"), and a map's zoom buttons named in Leaflet's English on a
 * Chinese page (read out with a Chinese voice, WCAG 3.1.2).
 */
async function check(page: Page, what: string): Promise<string[]> {
  await page.waitForLoadState('load');
  // Evaluated through the browser's debugging protocol, which the pages' Content-Security-Policy does not govern.
  await page.evaluate(AXE_SOURCE);
  const results = (await page.evaluate(`axe.run(document, { runOnly: { type: 'tag', values: ${JSON.stringify(TAGS)} } })`)) as AxeResults;
  const found = results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${what}: [${v.impact}] ${v.id} — ${v.help} (${v.helpUrl})\n    ${v.nodes.map((n) => JSON.stringify(n.target)).join('\n    ')}`);
  const emptyTables = await page.$$eval('table', (tables) => tables.filter((t) => !t.querySelector('td')).map((t) => t.outerHTML.slice(0, 160)));
  found.push(...emptyTables.map((html) => `${what}: a table with no data rows\n    ${html}`));
  const zh = (await page.getAttribute('html', 'lang')) === 'zh-CN';
  const zoomNames = await page.$$eval('.leaflet-control-zoom a', (links) => links.map((a) => a.getAttribute('aria-label') ?? a.getAttribute('title') ?? ''));
  found.push(...zoomNames.filter((name) => zh !== /\p{Script=Han}/u.test(name)).map((name) => `${what}: a map button named "${name}" in another language than the page`));
  return found;
}

async function visit(page: Page, path: string): Promise<void> {
  const res = await page.goto(`${base}${path}`);
  expect(res?.status(), path).toBeLessThan(400);
}

/** Submits a form and waits for the page that answers (the refusal). */
async function submit(page: Page, selector: string): Promise<void> {
  await Promise.all([page.waitForNavigation(), page.click(selector)]);
}

async function staffPage(username: string): Promise<{ context: BrowserContext; page: Page }> {
  const { context, page } = await newPage();
  await context.setExtraHTTPHeaders(fromNewAddress());
  await signIn(page, base, username);
  return { context, page };
}

describe('accessibility (axe-core, WCAG 2.1 A and AA)', { timeout: 120_000 }, () => {
  it('finds nothing serious on the resident pages, with their refusals, in Chinese and English', async () => {
    const { context, page } = await newPage();
    const found: string[] = [];
    for (const lang of LANGS) {
      await visit(page, `/?lang=${lang}`);
      found.push(...(await check(page, `/ (${lang})`)));
      await submit(page, '#report-form button[type=submit]');
      found.push(...(await check(page, `/ refused (${lang})`)));

      await visit(page, `/track?lang=${lang}`);
      found.push(...(await check(page, `/track (${lang})`)));
      await page.fill('#code', 'nonsense');
      await submit(page, 'form.lookup button[type=submit]');
      found.push(...(await check(page, `/track refused (${lang})`)));

      await visit(page, `/track/${replied.trackingCode}?lang=${lang}`);
      expect(await page.$('#rate-form')).not.toBeNull();
      found.push(...(await check(page, `/track/CODE (${lang})`)));
      await submit(page, '#rate-form button[type=submit]');
      expect(await page.$('#rating-error')).not.toBeNull();
      found.push(...(await check(page, `/track/CODE refused rating (${lang})`)));

      await visit(page, `/track/${merged.trackingCode}?lang=${lang}`);
      expect(await page.$('#merged-case')).not.toBeNull();
      found.push(...(await check(page, `/track/CODE merged (${lang})`)));

      await visit(page, `/public?month=2026-11&lang=${lang}`);
      found.push(...(await check(page, `/public (${lang})`)));

      await visit(page, `/signin?lang=${lang}`);
      found.push(...(await check(page, `/signin (${lang})`)));
    }
    await context.close();
    expect(found, found.join('\n')).toEqual([]);
  });

  it("finds nothing serious on the staff pages at a phone's width, where their tables scroll sideways", async () => {
    const found: string[] = [];
    const visits: Array<[string, string[]]> = [
      ['epb', [`/inbox/cases/${open.id}`]],
      ['dispatcher', [`/desk/cases/${open.id}`, '/desk/dashboard']],
    ];
    for (const [username, paths] of visits) {
      const { context, page } = await staffPage(username);
      await page.setViewportSize({ width: 375, height: 667 });
      for (const lang of LANGS) {
        for (const path of paths) {
          await visit(page, `${path}?lang=${lang}`);
          // The dashboard's figures, folded away under each chart, opened as a reader would.
          await page.$$eval('details', (all) => all.forEach((d) => d.setAttribute('open', '')));
          found.push(...(await check(page, `${path.replace(open.id, 'OPEN')} as ${username} at 375 px (${lang})`)));
        }
      }
      await context.close();
    }
    expect(found, found.join('\n')).toEqual([]);
  });

  it('finds nothing serious on the staff pages in Chinese and English', async () => {
    const found: string[] = [];
    const visits: Array<[string, string[]]> = [
      // The merged report is withdrawn from epb, which holds the case it went into: its page links that one. The
      // accepted case comes last: its reply form is sent empty below.
      ['epb', ['/inbox', `/inbox/cases/${open.id}`, `/inbox/cases/${merged.id}`, `/inbox/cases/${accepted.id}`]],
      ['hotline', [`/inbox/cases/${transferred.id}`]],
      [
        'dispatcher',
        ['/desk', `/desk/cases/${open.id}`, `/desk/cases/${triage.id}`, `/desk/cases/${merged.id}`, `/desk/cases/${transferred.id}`, '/desk/dashboard', '/desk/dashboard?from=2026-01-01&to=2026-01-31'],
      ],
      ['operator', ['/console']],
    ];
    for (const [username, paths] of visits) {
      const { context, page } = await staffPage(username);
      for (const lang of LANGS) {
        for (const path of paths) {
          await visit(page, `${path}${path.includes('?') ? '&' : '?'}lang=${lang}`);
          found.push(...(await check(page, `${path.replace(open.id, 'OPEN').replace(triage.id, 'TRIAGE').replace(accepted.id, 'ACCEPTED').replace(merged.id, 'MERGED').replace(transferred.id, 'TRANSFERRED')} as ${username} (${lang})`)));
          // The count under the map, with the page language's colon.
          if (path === '/desk/dashboard') expect(await page.textContent('#case-map + p.hint')).toBe(lang === 'zh' ? '有定位的案件：1' : 'Cases with a location: 1');
        }
        if (username === 'epb') {
          // A reply sent empty (past the browser's own check): refused, next to the answer box.
          await page.$eval('#reply-text', (el) => el.closest('form')!.setAttribute('novalidate', ''));
          await submit(page, '#reply');
          expect(await page.$('[role=alert]')).not.toBeNull();
          found.push(...(await check(page, `/inbox/cases/ACCEPTED refused reply as epb (${lang})`)));
        }
        if (username === 'operator') {
          // The call as the classifier reads it, for the operator to check before the case is created.
          await page.fill('#transcript', TRANSCRIPT);
          await submit(page, '#analyse');
          found.push(...(await check(page, `/console review as operator (${lang})`)));
          // Nothing to analyse: refused, next to the transcript box.
          await visit(page, `/console?lang=${lang}`);
          await submit(page, '#analyse');
          found.push(...(await check(page, `/console refused as operator (${lang})`)));
        }
      }
      await context.close();
    }
    expect(found, found.join('\n')).toEqual([]);
  });
});
