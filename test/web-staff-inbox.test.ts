import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { listAssignments } from '../db/repositories/assignments.repository.js';
import { findCase } from '../db/repositories/cases.repository.js';
import { caseReference } from '../src/domain/case.js';
import { newId } from '../src/domain/ids.js';
import { TEXTS } from '../src/telegram/texts.js';
import { SESSION_IDLE_MS } from '../src/web/session.js';
import { checkDeadlines } from '../src/workflow/deadline-check.js';
import { newPage } from './browser.js';
import { tempDir } from './harness.js';
import { browserDrafts, formClient, signIn, signInHere, startStaffWebService, type WebStaff } from './web-staff-helpers.js';
import { client as apiClient, json, seedCase } from './workflow-helpers.js';

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

let web: WebStaff;
let base: string;

beforeAll(async () => {
  web = await startStaffWebService('web-inbox');
  base = web.service.url;
}, 60_000);

let address = 0;
const fromNewAddress = () => ({ 'x-forwarded-for': `10.1.0.${++address}` });

describe('bureau inbox', () => {
  it("marks a deadline due soon only within the district's reminder window, not for a whole sign-for day", async () => {
    const seeded = await seedCase(web.service, web.clock, { text: '盐下村电镀厂排污（期限提示测试）', assignments: [{ unit: 'epb', role: 'lead' }] });
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'epb');
    const row = async () => {
      await page.goto(`${base}/inbox`);
      return page.locator(`tr[data-case="${caseReference(seeded.id)}"]`).innerHTML();
    };
    const signBy = Date.parse((await listAssignments(web.service.deps.db, seeded.id))[0]!.deadlines.signBy!);
    const started = web.clock.now().toISOString();
    // 20 h before the sign-for deadline: inside a day, outside the district's 4 h reminder window.
    web.clock.set(new Date(signBy - 20 * 3600_000).toISOString());
    await signIn(page, base, 'epb');
    expect(await row()).not.toContain('due-soon');
    web.clock.set(new Date(signBy - 3 * 3600_000).toISOString());
    await signIn(page, base, 'epb');
    expect(await row()).toContain('badge due-soon');
    web.clock.set(started);
    await context.close();
  });

  it('lets a clerk sign for a case and reply with an attachment; the case is replied', async () => {
    const seeded = await seedCase(web.service, web.clock, {
      assignments: [{ unit: 'epb', role: 'lead' }],
      photo: { bytes: PNG, mime: 'image/png' },
    });
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'epb');
    expect(new URL(page.url()).pathname).toBe('/inbox');
    await Promise.all([page.waitForNavigation(), page.click(`tr[data-case="${caseReference(seeded.id)}"] a`)]);
    expect(await page.textContent('h1')).toContain(caseReference(seeded.id));
    // The reporter's number in the text is masked and the reporter did not agree to share the contact.
    const text = await page.textContent('#case-text');
    expect(text).toContain('139****5678');
    expect(await page.textContent('main')).not.toContain('李四');
    // The photo comes through the access-checked route and is drawn (it loads lazily: bring it into view, wait for it).
    await page.locator('.photos img').scrollIntoViewIfNeeded();
    await page.waitForFunction("document.querySelector('.photos img')?.complete === true");
    expect(await page.$eval('.photos img', (img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBe(1);

    await Promise.all([page.waitForNavigation(), page.click('#accept')]);
    expect(await page.textContent('#done')).toBe('已签收。');
    expect((await findCase(web.service.deps.db, seeded.id))?.status).toBe('accepted');

    await page.fill('#reply-text', '经现场检查，电镀厂已停产整改，排污口已封堵。');
    await page.setInputFiles('#reply-files', { name: 'inspection.png', mimeType: 'image/png', buffer: PNG });
    await Promise.all([page.waitForNavigation(), page.click('#reply')]);
    expect(await page.textContent('#done')).toBe('答复已提交。');
    const after = await findCase(web.service.deps.db, seeded.id);
    expect(after?.status).toBe('replied');
    const files = await web.service.deps.db.selectFrom('case_attachments').select(['kind', 'mime']).where('case_id', '=', seeded.id).execute();
    expect(files.filter((f) => f.kind !== 'photo')).toHaveLength(1);
    expect(await page.textContent('main')).toContain('经现场检查');
    // The attachment is linked by the name the clerk's file had, on the inbox and on the dispatcher's desk.
    expect(await page.locator('a.file-name').allTextContents()).toEqual(['inspection.png']);
    await context.close();
    const desk = await newPage();
    await desk.context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(desk.page, base, 'dispatcher');
    await desk.page.goto(`${base}/desk/cases/${seeded.id}`);
    expect(await desk.page.locator('a.file-name').allTextContents()).toEqual(['inspection.png']);
    await desk.context.close();
  });

  it('sends a reply attachment under the name the page links it by, masked for a bureau as there, and a photo under none', async () => {
    const seeded = await seedCase(web.service, web.clock, {
      assignments: [{ unit: 'epb', role: 'lead' }],
      contact: { name: '孙海涛', phone: '13912340902', share: false },
      photo: { bytes: PNG, mime: 'image/png' },
    });
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'epb');
    await page.goto(`${base}/inbox/cases/${seeded.id}`);
    await Promise.all([page.waitForNavigation(), page.click('#accept')]);
    await page.fill('#reply-text', '处理结果见附件。');
    await page.setInputFiles('#reply-files', { name: '孙海涛家门口排污口 (1).png', mimeType: 'image/png', buffer: PNG });
    await Promise.all([page.waitForNavigation(), page.click('#reply')]);
    expect(await page.textContent('#done')).toBe('答复已提交。');
    expect(await page.locator('a.file-name').allTextContents()).toEqual(['孙**家门口排污口 (1).png']);
    const href = (await page.getAttribute('a.file-name', 'href'))!;
    await context.close();
    const fileId = href.split('/').at(-1)!;

    /** The Content-Disposition of the file as `who` downloads it from their page. */
    const disposition = async (who: 'epb' | 'dispatcher', path: string) => {
      const client = formClient(base, fromNewAddress());
      await client.signIn(who);
      const res = await client.get(path);
      expect(res.status).toBe(200);
      // The file's own policy (sandboxed, nothing runs in the site's origin) is what the browser gets, with the rest of every answer's headers.
      expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox");
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('cache-control')).toBe('no-store');
      return res.headers.get('content-disposition');
    };
    // The bureau's name for it is the page's, masked; the header holds ASCII only, the name percent-encoded as UTF-8.
    expect(await disposition('epb', `/inbox/cases/${seeded.id}/files/${fileId}`)).toBe(
      `inline; filename="_**_ (1).png"; filename*=UTF-8''${encodeURIComponent('孙')}%2A%2A${encodeURIComponent('家门口排污口 ')}%281%29.png`,
    );
    // The dispatcher reads the name whole, as on the desk.
    const whole = await disposition('dispatcher', `/desk/cases/${seeded.id}/files/${fileId}`);
    expect(decodeURIComponent(/filename\*=UTF-8''(\S+)$/.exec(whole!)![1]!)).toBe('孙海涛家门口排污口 (1).png');
    expect(whole).not.toMatch(/[^\x20-\x7e]/);
    // The reporter's photo keeps no name, and none is made up.
    expect(await disposition('epb', `/inbox/cases/${seeded.id}/files/${seeded.photoId}`)).toBeNull();
  });

  it('sends a reply attachment naming the reporter of a report merged into the case under the masked name its page shows', async () => {
    const seeded = await seedCase(web.service, web.clock, { assignments: [{ unit: 'epb', role: 'lead' }], contact: { name: '王大林', phone: '13912340911', share: false } });
    const duplicate = await seedCase(web.service, web.clock, {
      text: '我叫孙志刚，盐下村电镀厂又在排污',
      assignments: [{ unit: 'epb', role: 'lead' }],
      contact: { name: '孙志刚', phone: '13912340912', share: false },
    });
    const merged = await json(apiClient(base, web.staff.dispatcher).post(`/api/v1/cases/${duplicate.id}/merge`, { into: seeded.id, reason: '重复举报' }));
    expect(merged.status, JSON.stringify(merged.body)).toBe(200);
    const clerk = apiClient(base, web.staff.epb);
    expect((await clerk.post(`/api/v1/cases/${seeded.id}/accept`)).status).toBe(200);
    const form = new FormData();
    form.append('text', '已处理，见附件。');
    form.append('attachments', new File([PNG], '现场照片-孙志刚.png', { type: 'image/png' }));
    const replied = await fetch(`${base}/api/v1/cases/${seeded.id}/reply`, { method: 'POST', headers: { authorization: `Bearer ${web.staff.epb}` }, body: form });
    const view = (await replied.json()) as { replyAttachments: Array<{ id: string; name: string }> };
    expect(replied.status, JSON.stringify(view)).toBe(200);
    expect(view.replyAttachments.map((f) => f.name)).toEqual(['现场照片-孙**.png']);

    const page = formClient(base, fromNewAddress());
    await page.signIn('epb');
    const html = await (await page.get(`/inbox/cases/${seeded.id}`)).text();
    expect(html).toContain('现场照片-孙**.png');
    expect(html).not.toContain('孙志刚');
    const file = await page.get(`/inbox/cases/${seeded.id}/files/${view.replyAttachments[0]!.id}`);
    expect(file.status).toBe(200);
    const disposition = file.headers.get('content-disposition')!;
    // The download is saved under the name the page shows, not the one the page masks.
    expect(decodeURIComponent(/filename\*=UTF-8''(\S+)$/.exec(disposition)![1]!)).toBe('现场照片-孙**.png');
  });

  it("does not open another bureau's case by URL, its photos or its actions, and shows none of its text", async () => {
    const other = await seedCase(web.service, web.clock, {
      text: '八仙洞办事处某养猪场粪水直排稻田，秘密内容ABC',
      type: 'livestock_waste',
      assignments: [{ unit: 'agri', role: 'lead' }],
      photo: { bytes: PNG, mime: 'image/png' },
    });
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'epb');
    const res = await page.goto(`${base}/inbox/cases/${other.id}`);
    expect(res?.status()).toBe(404);
    const body = await page.textContent('body');
    expect(body).not.toContain('秘密内容ABC');
    expect(body).not.toContain(other.trackingCode);
    const photo = await page.goto(`${base}/inbox/cases/${other.id}/files/${other.photoId}`);
    expect(photo?.status()).toBe(404);
    // Nor is it in the list, even when searched for.
    await page.goto(`${base}/inbox?status=all&q=${encodeURIComponent('秘密内容')}`);
    expect(await page.textContent('main')).not.toContain('秘密内容ABC');
    await context.close();

    const client = formClient(base, fromNewAddress());
    await client.signIn('epb');
    const csrf = await client.token('/inbox');
    const post = await client.post(`/inbox/cases/${other.id}/accept`, { _csrf: csrf });
    expect(post.status).toBe(404);
    expect(await post.text()).not.toContain('秘密内容ABC');
    expect((await listAssignments(web.service.deps.db, other.id)).map((a) => a.status)).toEqual(['pending']);
  });

  it('shows a unit released from a case only its own record: not in its list, no text, photo or later history', async () => {
    const seeded = await seedCase(web.service, web.clock, {
      text: '盐下村电镀厂偷排废水，撤回测试秘密内容XYZ',
      photo: { bytes: PNG, mime: 'image/png' },
    });
    const clerk = formClient(base, fromNewAddress());
    await clerk.signIn('econ');
    const csrf = await clerk.token(`/inbox/cases/${seeded.id}`);
    expect((await clerk.post(`/inbox/cases/${seeded.id}/accept`, { _csrf: csrf })).status).toBe(303);
    expect((await clerk.post(`/inbox/cases/${seeded.id}/progress`, { _csrf: csrf, note: '经信委已到现场' })).status).toBe(303);
    const dispatcher = formClient(base, fromNewAddress());
    await dispatcher.signIn('dispatcher');
    const dcsrf = await dispatcher.token(`/desk/cases/${seeded.id}`);
    expect((await dispatcher.post(`/desk/cases/${seeded.id}/release`, { _csrf: dcsrf, unit: 'econ', reason: '无需经信委参与', confirm: '1' })).status).toBe(303);

    const page = await clerk.get(`/inbox/cases/${seeded.id}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('本单位已不再承办此案件');
    expect(html).toContain('经信委已到现场');
    expect(html).toContain('无需经信委参与');
    expect(html).not.toContain('撤回测试秘密内容XYZ');
    expect(html).not.toContain(`/files/${seeded.photoId}`);
    expect(html).not.toContain('id="accept"');
    expect((await clerk.get(`/inbox/cases/${seeded.id}/files/${seeded.photoId}`)).status).toBe(404);
    for (const q of ['status=all', 'status=all&q=' + encodeURIComponent('撤回测试'), '']) {
      expect(await (await clerk.get(`/inbox?${q}`)).text(), q).not.toContain(caseReference(seeded.id));
    }
    // The lead still reads it all.
    const lead = formClient(base, fromNewAddress());
    await lead.signIn('epb');
    expect(await (await lead.get(`/inbox/cases/${seeded.id}`)).text()).toContain('撤回测试秘密内容XYZ');
  });

  it('leads a clerk whose case was merged into another case of the unit to that case, and names the duplicate there; a unit not on it reads neither', async () => {
    const survivor = await seedCase(web.service, web.clock, { text: '盐下村电镀厂偷排废水（并案去向测试）', assignments: [{ unit: 'epb', role: 'lead' }] });
    const duplicate = await seedCase(web.service, web.clock, { text: '盐下村电镀厂晚上又在排（并案去向测试）' });
    const clerk = formClient(base, fromNewAddress());
    await clerk.signIn('epb');
    const csrf = await clerk.token(`/inbox/cases/${duplicate.id}`);
    expect((await clerk.post(`/inbox/cases/${duplicate.id}/accept`, { _csrf: csrf })).status).toBe(303);
    const merged = await apiClient(base, web.staff.dispatcher).post(`/api/v1/cases/${duplicate.id}/merge`, { into: survivor.id, reason: '重复举报' });
    expect(merged.status).toBe(200);

    // The clerk about to reply on the duplicate learns where its work goes on, and gets there in one click.
    const page = await clerk.get(`/inbox/cases/${duplicate.id}`);
    const html = await page.text();
    expect(html).toContain('本单位已不再承办此案件');
    expect(html).toMatch(new RegExp(`id="continues-in"[^]*<a href="/inbox/cases/${survivor.id}">${caseReference(survivor.id)}</a>`));
    expect(html).not.toContain(survivor.trackingCode);
    const view = await json(apiClient(base, web.staff.epb).get(`/api/v1/cases/${duplicate.id}`));
    expect(view.body).toMatchObject({ access: 'withdrawn', mergedInto: { id: survivor.id, reference: caseReference(survivor.id), trackingCode: null } });
    // The case it went into names the duplicate by its reference in its history.
    const into = await (await clerk.get(`/inbox/cases/${survivor.id}`)).text();
    expect(into).toMatch(new RegExp(`并入重复举报</strong> · ${caseReference(duplicate.id)}`));

    // A co-handler the merge let go, which does not hold the other case, is not told where it went.
    const econ = formClient(base, fromNewAddress());
    await econ.signIn('econ');
    const econPage = await (await econ.get(`/inbox/cases/${duplicate.id}`)).text();
    expect(econPage).toContain('本单位已不再承办此案件');
    expect(econPage).not.toContain('continues-in');
    expect(econPage).not.toContain(caseReference(survivor.id));
    expect((await json(apiClient(base, web.staff.econ).get(`/api/v1/cases/${duplicate.id}`))).body.mergedInto).toBeNull();
  });

  it('shows the unit handling a case the words of a merged report whose reporter asked not to be named without their surname, though the case\'s reporter did not ask', async () => {
    const survivor = await seedCase(web.service, web.clock, { text: '盐下村电镀厂偷排废水（并案匿名测试）', assignments: [{ unit: 'epb', role: 'lead' }] });
    const unnamed = await seedCase(web.service, web.clock, { text: '我叫李梅，盐下村电镀厂偷排（并案匿名测试）', contact: null, anonymous: true });
    expect((await apiClient(base, web.staff.dispatcher).post(`/api/v1/cases/${unnamed.id}/merge`, { into: survivor.id, reason: '重复举报' })).status).toBe(200);
    const withUnnamed = await json(apiClient(base, web.staff.epb).get(`/api/v1/cases/${survivor.id}`));
    const unnamedText = (withUnnamed.body.mergedReports as Array<{ id: string; text: string }>).find((r) => r.id === unnamed.id)?.text;
    expect(unnamedText).toBe('我叫**，盐下村电镀厂偷排（并案匿名测试）');
  });

  it("shows the unit handling a case the words and photos of the reports merged into it, masked as the case's own, and nothing of them to a unit not on it", async () => {
    const survivor = await seedCase(web.service, web.clock, { text: '盐下村电镀厂偷排废水（并案内容测试）', assignments: [{ unit: 'epb', role: 'lead' }] });
    const duplicate = await seedCase(web.service, web.clock, {
      text: '盐下村电镀厂晚上又在排黑水，我叫王小明，电话13712345678（并案内容测试）',
      contact: { name: '王小明', phone: '13712345678', share: false },
      photo: { bytes: PNG, mime: 'image/png' },
    });
    const merged = await apiClient(base, web.staff.dispatcher).post(`/api/v1/cases/${duplicate.id}/merge`, { into: survivor.id, reason: '重复举报' });
    expect(merged.status).toBe(200);

    // The API: the duplicate's words as the case's own read to the unit, its photo fetched under the case.
    const view = await json(apiClient(base, web.staff.epb).get(`/api/v1/cases/${survivor.id}`));
    expect(view.body.mergedReports).toEqual([
      {
        id: duplicate.id,
        reference: caseReference(duplicate.id),
        trackingCode: null,
        channel: 'web',
        receivedAt: expect.any(String),
        text: '盐下村电镀厂晚上又在排黑水，我叫王**，电话137****5678（并案内容测试）',
        address: null,
        photos: [{ id: duplicate.photoId, mime: 'image/png', size: PNG.length }],
      },
    ]);
    const photo = await apiClient(base, web.staff.epb).get(`/api/v1/cases/${survivor.id}/photos/${duplicate.photoId}`);
    expect(photo.status).toBe(200);
    expect(Buffer.from(await photo.arrayBuffer())).toEqual(PNG);
    // The dispatcher reads them as written, with the duplicate's tracking code.
    const desk = await json(apiClient(base, web.staff.dispatcher).get(`/api/v1/cases/${survivor.id}`));
    expect(desk.body.mergedReports[0]).toMatchObject({ trackingCode: duplicate.trackingCode, text: expect.stringContaining('王小明，电话13712345678') });
    // A unit not on the case reads neither, under this case or the duplicate's.
    for (const path of [`/api/v1/cases/${survivor.id}/photos/${duplicate.photoId}`, `/api/v1/cases/${survivor.id}`]) {
      expect((await apiClient(base, web.staff.agri).get(path)).status).toBe(404);
    }

    // The case page shows them, the photo drawn through the page's file route.
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'epb');
    await page.goto(`${base}/inbox/cases/${survivor.id}`);
    const section = page.locator('section[aria-labelledby="h-merged-reports"]');
    expect(await section.locator('h2').textContent()).toBe('并案的重复举报（1）');
    const words = await section.textContent();
    expect(words).toContain(caseReference(duplicate.id));
    expect(words).toContain('我叫王**，电话137****5678');
    expect(await page.textContent('main')).not.toContain('王小明');
    await section.locator('img').scrollIntoViewIfNeeded();
    await page.waitForFunction("document.querySelector('section[aria-labelledby=\"h-merged-reports\"] img')?.complete === true");
    expect(await section.locator('img').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBe(1);
    await page.goto(`${base}/inbox/cases/${survivor.id}?lang=en`);
    expect(await page.locator('#h-merged-reports').textContent()).toBe('Duplicate reports merged into this case (1)');
    await context.close();
  });

  describe('drafts of the case page', () => {
    /** The drafts this browser keeps (the script's storage), by key. */

    it('puts back a reply and a note typed past the end of the session once the clerk has signed in again, says the files must be chosen again, and forgets the reply once it is sent', async () => {
      const seeded = await seedCase(web.service, web.clock, { assignments: [{ unit: 'epb', role: 'lead' }] });
      const { page, context } = await newPage();
      await context.setExtraHTTPHeaders(fromNewAddress());
      await signIn(page, base, 'epb', undefined, `/inbox/cases/${seeded.id}`);
      await Promise.all([page.waitForNavigation(), page.click('#accept')]);
      // A note sent while the session lives: its draft is dropped, and ?done= leaves the address so a reload keeps the next one.
      await page.fill('#progress-note', '已到现场取样。');
      await Promise.all([page.waitForNavigation(), page.click('form[action$="/progress"] button[type=submit]')]);
      expect(await page.textContent('#done')).toBe('办理进展已记录。');
      await page.waitForFunction("!location.search.includes('done')");
      expect(Object.keys(await browserDrafts(page))).toEqual([]);

      const reply = `经现场检查，盐下村电镀厂已停产整改，排污口已封堵。${'执法人员将持续跟踪复查。'.repeat(40)}`;
      await page.fill('#reply-text', reply);
      await page.setInputFiles('#reply-files', { name: 'inspection.png', mimeType: 'image/png', buffer: PNG });
      await page.fill('#progress-note', '第二次复查：已封堵。');
      const started = web.clock.now().toISOString();
      try {
        // The clerk types longer than the session's idle timeout, then sends: the post lands on the sign-in page.
        web.clock.set(new Date(Date.parse(started) + SESSION_IDLE_MS + 60_000).toISOString());
        await Promise.all([page.waitForNavigation(), page.click('#reply')]);
        expect(new URL(page.url()).pathname).toBe('/signin');
        expect(decodeURIComponent(page.url())).not.toContain('电镀厂');
        expect(await page.locator('[data-drafts-kept]').textContent()).toBe('您填写但尚未提交的内容已保存在本浏览器中，重新登录后回到原页面即可继续。');
        expect(await page.locator('[data-drafts-kept]').isVisible()).toBe(true);
        expect((await findCase(web.service.deps.db, seeded.id))?.status).toBe('accepted');

        await signInHere(page, 'epb');
        expect(new URL(page.url()).pathname).toBe(`/inbox/cases/${seeded.id}`);
        expect(await page.inputValue('#reply-text')).toBe(reply);
        expect(await page.inputValue('#progress-note')).toBe('第二次复查：已封堵。');
        const replyCard = page.locator('section[aria-labelledby="h-reply"]');
        expect(await replyCard.locator('[data-draft-restored]').isVisible()).toBe(true);
        expect((await replyCard.locator('[data-draft-files]').textContent())?.replace(/\s+/g, '')).toBe('上次选择的1个附件无法随草稿保留，请重新选择。');

        await page.setInputFiles('#reply-files', { name: 'inspection.png', mimeType: 'image/png', buffer: PNG });
        await Promise.all([page.waitForNavigation(), page.click('#reply')]);
        expect(await page.textContent('#done')).toBe('答复已提交。');
        expect((await findCase(web.service.deps.db, seeded.id))?.status).toBe('replied');
        const assignment = (await listAssignments(web.service.deps.db, seeded.id))[0]!;
        expect(assignment.replyText).toBe(reply);
        // The reply's draft is gone; the note, never sent, is still kept.
        expect(Object.keys(await browserDrafts(page)).filter((k) => k.endsWith(`/inbox/cases/${seeded.id}/reply`))).toEqual([]);
        expect(Object.values(await browserDrafts(page)).map((d) => d.fields.note)).toEqual(['第二次复查：已封堵。']);
      } finally {
        web.clock.set(started);
      }
      await context.close();
    });

    it('forgets the draft of a return once the case is returned, on the page of the case the unit no longer holds', async () => {
      const seeded = await seedCase(web.service, web.clock, { assignments: [{ unit: 'epb', role: 'lead' }] });
      const { page, context } = await newPage();
      await context.setExtraHTTPHeaders(fromNewAddress());
      await signIn(page, base, 'epb', undefined, `/inbox/cases/${seeded.id}`);
      await page.selectOption('#return-reason', 'not_our_remit');
      await page.fill('#return-note', '此为农业委职责范围。');
      expect(Object.keys(await browserDrafts(page))).toHaveLength(1);
      page.once('dialog', (d) => void d.accept());
      await Promise.all([page.waitForNavigation(), page.click('form[action$="/return"] button[type=submit]')]);
      expect(await page.textContent('#withdrawn')).toContain('本单位已不再承办此案件');
      expect(await browserDrafts(page)).toEqual({});
      await context.close();
    });

    it('takes a reply typed on a case merged meanwhile into another case of the unit to that case, and puts it back there', async () => {
      const survivor = await seedCase(web.service, web.clock, { text: '盐下村电镀厂偷排废水（草稿随并案测试）', assignments: [{ unit: 'epb', role: 'lead' }] });
      const duplicate = await seedCase(web.service, web.clock, { text: '盐下村电镀厂晚上又在排（草稿随并案测试）', assignments: [{ unit: 'epb', role: 'lead' }] });
      for (const id of [survivor.id, duplicate.id]) expect((await apiClient(base, web.staff.epb).post(`/api/v1/cases/${id}/accept`)).status).toBe(200);
      const { page, context } = await newPage();
      await context.setExtraHTTPHeaders(fromNewAddress());
      await signIn(page, base, 'epb', undefined, `/inbox/cases/${duplicate.id}`);
      const reply = '经现场检查，该电镀厂已停产整改，排污口已封堵。';
      await page.fill('#reply-text', reply);
      await page.fill('#progress-note', '已到现场取样。');
      // While the clerk types, a dispatcher merges the report into the case the unit also handles.
      expect((await apiClient(base, web.staff.dispatcher).post(`/api/v1/cases/${duplicate.id}/merge`, { into: survivor.id, reason: '重复举报' })).status).toBe(200);
      await Promise.all([page.waitForNavigation(), page.click('#reply')]);
      expect(await page.textContent('#withdrawn')).toContain('本单位已不再承办此案件');
      expect(await page.locator('#continues-in [data-draft-carried]').isVisible()).toBe(true);
      // On the case it went into, the reply and the note wait in their forms.
      await Promise.all([page.waitForNavigation(), page.click('#continues-in a')]);
      expect(new URL(page.url()).pathname).toBe(`/inbox/cases/${survivor.id}`);
      expect(await page.inputValue('#reply-text')).toBe(reply);
      expect(await page.inputValue('#progress-note')).toBe('已到现场取样。');
      expect(await page.locator('form[action$="/reply"]').locator('xpath=..').locator('[data-draft-restored]').isVisible()).toBe(true);
      const drafts = Object.keys(await browserDrafts(page));
      expect(drafts.some((k) => k.includes(duplicate.id))).toBe(false);
      expect(drafts.filter((k) => k.includes(survivor.id)).map((k) => k.split('/').at(-1)).sort()).toEqual(['progress', 'reply']);
      await context.close();
    });

    it('keeps no draft past signing out, and shows none of one account to another signing in on the same browser', async () => {
      const seeded = await seedCase(web.service, web.clock, { assignments: [{ unit: 'epb', role: 'lead' }] });
      const client = formClient(base, fromNewAddress());
      await client.signIn('epb');
      expect((await client.post(`/inbox/cases/${seeded.id}/accept`, { _csrf: await client.token(`/inbox/cases/${seeded.id}`) })).status).toBe(303);
      const { page, context } = await newPage();
      await context.setExtraHTTPHeaders(fromNewAddress());
      const typeNote = async (note: string) => {
        await signIn(page, base, 'epb', undefined, `/inbox/cases/${seeded.id}`);
        await page.fill('#progress-note', note);
        expect(Object.values(await browserDrafts(page)).map((d) => d.fields.note)).toEqual([note]);
      };

      await typeNote('已约谈企业负责人王某，地址幸福路12号。');
      await Promise.all([page.waitForNavigation(), page.click('header.site form[action="/signout"] button')]);
      expect(await page.textContent('#signin-notice')).toBe('您已安全退出。');
      expect(await browserDrafts(page)).toEqual({});
      await signIn(page, base, 'epb', undefined, `/inbox/cases/${seeded.id}`);
      expect(await page.inputValue('#progress-note')).toBe('');

      // A colleague of the same bureau signs in on this browser while the first clerk's draft is kept.
      await typeNote('已约谈企业负责人王某，第二稿。');
      await signIn(page, base, 'epb2', undefined, `/inbox/cases/${seeded.id}`);
      expect(new URL(page.url()).pathname).toBe(`/inbox/cases/${seeded.id}`);
      expect(await page.inputValue('#progress-note')).toBe('');
      expect(await page.locator('[data-draft-restored]').first().isVisible()).toBe(false);
      expect(await browserDrafts(page)).toEqual({});

      // A dispatcher signs in on this browser and only opens the desk: the clerk's draft is not left behind for it.
      await typeNote('已约谈企业负责人王某，第三稿。');
      await signIn(page, base, 'dispatcher', undefined, '/desk');
      expect(new URL(page.url()).pathname).toBe('/desk');
      expect(await browserDrafts(page)).toEqual({});
      await context.close();
    });
  });

  it('refuses an action posted without the CSRF token and changes nothing', async () => {
    const seeded = await seedCase(web.service, web.clock, { assignments: [{ unit: 'epb', role: 'lead' }] });
    const client = formClient(base, fromNewAddress());
    await client.signIn('epb2');
    const res = await client.post(`/inbox/cases/${seeded.id}/accept`, {});
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('表单已过期或不是从本站提交的');
    expect((await findCase(web.service.deps.db, seeded.id))?.status).toBe('dispatched');
    expect((await listAssignments(web.service.deps.db, seeded.id))[0]?.status).toBe('pending');
    // With the token it goes through.
    const csrf = await client.token(`/inbox/cases/${seeded.id}`);
    const ok = await client.post(`/inbox/cases/${seeded.id}/accept`, { _csrf: csrf });
    expect(ok.status).toBe(303);
    expect((await findCase(web.service.deps.db, seeded.id))?.status).toBe('accepted');
    // Signing for it again is refused with the reason at the top of the page.
    const again = await client.post(`/inbox/cases/${seeded.id}/accept`, { _csrf: csrf });
    expect(again.status).toBe(409);
    expect(await again.text()).toContain('id="action-problem"');
  });

  it('shows a missing return reason next to its field, keeps what was typed, and changes nothing', async () => {
    const seeded = await seedCase(web.service, web.clock, { assignments: [{ unit: 'epb', role: 'lead' }] });
    const client = formClient(base, fromNewAddress());
    await client.signIn('epb');
    const csrf = await client.token(`/inbox/cases/${seeded.id}`);
    const res = await client.post(`/inbox/cases/${seeded.id}/return`, { _csrf: csrf, reason: '', note: '这是农业委的事' });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('id="return-reason-error"');
    expect(html).toContain('请选择退回理由');
    expect(html).toContain('这是农业委的事');
    expect((await findCase(web.service.deps.db, seeded.id))?.status).toBe('dispatched');

    // In a browser the page comes back open on the problem, however far down the form is.
    const { page, context } = await newPage();
    await page.setViewportSize({ width: 375, height: 640 });
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'epb', undefined, `/inbox/cases/${seeded.id}`);
    const form = `form[action="/inbox/cases/${seeded.id}/return"]`;
    await page.fill(`${form} textarea[name=note]`, '这是农业委的事');
    await page.evaluate(`document.querySelector('${form}').noValidate = true`);
    page.once('dialog', (d) => void d.accept());
    await Promise.all([page.waitForNavigation(), page.click(`${form} button[type=submit]`)]);
    expect(await page.evaluate('document.activeElement && document.activeElement.id')).toBe('return-problem');
    const box = await page.evaluate(`(() => { const r = document.activeElement.getBoundingClientRect(); return [r.top, r.bottom, window.innerHeight, window.scrollY]; })()`) as number[];
    expect(box[3]).toBeGreaterThan(0);
    expect(box[0]).toBeGreaterThanOrEqual(0);
    expect(box[1]).toBeLessThanOrEqual(box[2]!);
    await context.close();

    const ok = await client.post(`/inbox/cases/${seeded.id}/return`, { _csrf: csrf, reason: 'not_our_remit', note: '这是农业委的事' });
    expect(ok.status).toBe(303);
    expect((await findCase(web.service.deps.db, seeded.id))?.status).toBe('triage');
  });

  it('refuses a return note or a reply of only invisible characters next to the field, as an empty one, and changes nothing', async () => {
    const seeded = await seedCase(web.service, web.clock, { assignments: [{ unit: 'epb', role: 'lead' }] });
    const client = formClient(base, fromNewAddress());
    await client.signIn('epb');
    const csrf = await client.token(`/inbox/cases/${seeded.id}`);
    const returned = await client.post(`/inbox/cases/${seeded.id}/return`, { _csrf: csrf, reason: 'not_our_remit', note: '\u200b\u3164' });
    expect(returned.status).toBe(400);
    const html = await returned.text();
    expect(html).toContain('id="return-note-error"');
    expect(html).toContain('请填写此项');
    expect((await findCase(web.service.deps.db, seeded.id))?.status).toBe('dispatched');
    expect((await client.post(`/inbox/cases/${seeded.id}/accept`, { _csrf: csrf })).status).toBe(303);
    const replied = await client.post(`/inbox/cases/${seeded.id}/reply`, { _csrf: csrf, text: '\u2800\u200f' });
    expect(replied.status).toBe(400);
    expect(await replied.text()).toContain('id="reply-text-error"');
    expect((await listAssignments(web.service.deps.db, seeded.id))[0]?.status).toBe('accepted');
  });

  it('refuses a number of working days written in hex or with an exponent, as the API takes only whole numbers, and takes full-width digits', async () => {
    const seeded = await seedCase(web.service, web.clock, { assignments: [{ unit: 'epb', role: 'lead' }] });
    const client = formClient(base, fromNewAddress());
    await client.signIn('epb');
    const csrf = await client.token(`/inbox/cases/${seeded.id}`);
    for (const days of ['0x10', '1e1', '2.5', '']) {
      const res = await client.post(`/inbox/cases/${seeded.id}/extend`, { _csrf: csrf, workingDays: days, reason: '需要检测报告' });
      expect(res.status, days).toBe(400);
      expect(await res.text(), days).toContain('id="extend-workingDays-error"');
    }
    expect(await web.service.deps.db.selectFrom('extension_requests').select('id').where('case_id', '=', seeded.id).execute()).toEqual([]);
    // Typed with a Chinese input method's full-width digits, and spaces around.
    const ok = await client.post(`/inbox/cases/${seeded.id}/extend`, { _csrf: csrf, workingDays: ' ３ ', reason: '需要检测报告' });
    expect(ok.status).toBe(303);
    const [request] = await web.service.deps.db.selectFrom('extension_requests').select('working_days').where('case_id', '=', seeded.id).execute();
    expect(Number(request?.working_days)).toBe(3);
  });

  it('lists overdue cases first with their badge, and filters by type and text', async () => {
    const urgent = await seedCase(web.service, web.clock, {
      text: '回龙村化工厂危废桶泄漏，气味刺鼻，紧急',
      type: 'hazardous_chemicals',
      urgent: true,
      assignments: [{ unit: 'epb', role: 'lead' }],
    });
    web.clock.advance(3 * 3600_000);
    const fresh = await seedCase(web.service, web.clock, { text: '盐下村工地夜间施工噪声很大', type: 'noise', assignments: [{ unit: 'epb', role: 'lead' }] });
    const { page, context } = await newPage({ locale: 'en-GB' });
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'epb');
    await page.goto(`${base}/inbox?lang=zh`);
    const order = await page.$$eval('#inbox tbody tr', (rows) => rows.map((r) => r.getAttribute('data-case')));
    expect(order.indexOf(caseReference(urgent.id))).toBeLessThan(order.indexOf(caseReference(fresh.id)));
    expect(await page.textContent(`tr[data-case="${caseReference(urgent.id)}"]`)).toContain('已超期');

    await page.selectOption('#f-type', 'noise');
    await Promise.all([page.waitForNavigation(), page.click('form.filters button[type=submit]')]);
    const filtered = await page.$$eval('#inbox tbody tr', (rows) => rows.map((r) => r.getAttribute('data-case')));
    expect(filtered).toEqual([caseReference(fresh.id)]);

    await page.goto(`${base}/inbox?q=${encodeURIComponent('危废桶')}`);
    expect(await page.$$eval('#inbox tbody tr', (rows) => rows.map((r) => r.getAttribute('data-case')))).toEqual([caseReference(urgent.id)]);
    // The search reads the text as the clerk sees it: a masked phone number finds nothing.
    await page.goto(`${base}/inbox?status=all&q=13912345678`);
    expect(await page.$$('#inbox tbody tr')).toHaveLength(0);

    await page.goto(`${base}/inbox?lang=en`);
    expect(await page.textContent('h1')).toContain('Case inbox');
    await context.close();
  });

  it('finds a case by four or more characters of its reference, and reads a shorter search as words of the text', async () => {
    const seeded = await seedCase(web.service, web.clock, { text: '盐下村电镀厂偷排废水（工单号搜索测试）', assignments: [{ unit: 'epb', role: 'lead' }] });
    const reference = caseReference(seeded.id);
    const clerk = formClient(base, fromNewAddress());
    await clerk.signIn('epb');
    const listed = async (q: string) => [...(await (await clerk.get(`/inbox?status=all&q=${encodeURIComponent(q)}`)).text()).matchAll(/<tr data-case="([^"]+)"/g)].map((m) => m[1]);
    // The text holds no Latin letter nor digit: one or two characters of the reference are not taken for it.
    for (const q of [reference.slice(0, 1), reference.slice(0, 2), reference.slice(5, 7).toLowerCase()]) expect(await listed(q), q).not.toContain(reference);
    // Four characters are, as typed or copied: any case, across a dash, in full-width characters.
    const across = `${reference.slice(2, 4)}-${reference.slice(5, 7)}`;
    const fullWidth = [...reference.slice(-4)].map((ch) => String.fromCharCode(ch.charCodeAt(0) + 0xfee0)).join('');
    for (const q of [reference.slice(0, 4), across.toLowerCase(), fullWidth, reference]) expect(await listed(q), q).toContain(reference);
    // Words of the text are found at any length.
    for (const q of ['搜索测试', '镀']) expect(await listed(q), q).toContain(reference);
    // So is the reference's line as a clerk copies it from the case page, a notice or the group post.
    for (const q of [`工单号：${reference}`, `工单号 ${reference}`, `工单编号:${reference.toLowerCase()}`, `Case ref: ${reference}`]) expect(await listed(q), q).toEqual([reference]);
  });

  it("finds a case by the reference of a report merged into it, for a unit that holds the case only", async () => {
    // The survivor: epb leads, econ co-handles; the duplicate, merged in, went to epb and xinglong.
    const survivor = await seedCase(web.service, web.clock, { text: '盐下村电镀厂偷排废水（并案工单号搜索）', assignments: [{ unit: 'epb', role: 'lead' }, { unit: 'econ', role: 'co' }] });
    const duplicate = await seedCase(web.service, web.clock, { text: '盐下村电镀厂晚上又在排（并案工单号搜索）', assignments: [{ unit: 'epb', role: 'lead' }, { unit: 'xinglong', role: 'jurisdiction' }] });
    // Merged into the duplicate before that was merged in turn: its reference leads to the survivor too.
    const earlier = await seedCase(web.service, web.clock, { text: '盐下村电镀厂排黑水（并案工单号搜索）', assignments: [{ unit: 'epb', role: 'lead' }] });
    const desk = apiClient(base, web.staff.dispatcher);
    expect((await desk.post(`/api/v1/cases/${earlier.id}/merge`, { into: duplicate.id, reason: '重复举报' })).status).toBe(200);
    expect((await desk.post(`/api/v1/cases/${duplicate.id}/merge`, { into: survivor.id, reason: '重复举报' })).status).toBe(200);
    const listed = async (unit: 'epb' | 'econ' | 'xinglong', q: string) => {
      const clerk = formClient(base, fromNewAddress());
      await clerk.signIn(unit);
      const html = await (await clerk.get(`/inbox?status=all&q=${encodeURIComponent(q)}`)).text();
      return [...html.matchAll(/<tr data-case="([^"]+)"/g)].map((m) => m[1]);
    };
    const [ref, dup, first] = [survivor, duplicate, earlier].map((c) => caseReference(c.id)) as [string, string, string];
    for (const q of [dup, `工单号：${dup}`, dup.toLowerCase().replaceAll('-', ''), first]) {
      expect(await listed('epb', q), q).toEqual([ref]);
      // A co-handler of the survivor that never held the duplicate finds the case its work is in all the same.
      expect(await listed('econ', q), q).toEqual([ref]);
    }
    // The duplicate's local office, released by the merge, holds neither: nothing is shown to it.
    expect(await listed('xinglong', dup)).toEqual([]);
    // The survivor's own reference still finds it alone.
    expect(await listed('epb', ref)).toEqual([ref]);
  });

  it('finds a case by several words typed apart, and by its place as the case page shows it', async () => {
    const seeded = await seedCase(web.service, web.clock, { text: '化工厂夜里排放红色污水，河面漂着泡沫（多词搜索测试）', assignments: [{ unit: 'epb', role: 'lead' }] });
    await web.service.deps.db.updateTable('cases').set({ address: '兴隆办事处朱家观村5组，王秀英家旁边' }).where('id', '=', seeded.id).execute();
    await web.service.deps.db.updateTable('case_contacts').set({ name: '王秀英' }).where('case_id', '=', seeded.id).execute();
    const reference = caseReference(seeded.id);
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'epb');
    const listed = async (q: string) => {
      await page.goto(`${base}/inbox`);
      await page.fill('#f-q', q);
      await Promise.all([page.waitForNavigation(), page.click('form.filters button[type=submit]')]);
      return page.$$eval('#inbox tbody tr', (rows) => rows.map((r) => r.getAttribute('data-case')));
    };
    // Two words of the text, with an ASCII or an ideographic space between; a word of the place; one of each.
    for (const q of ['红色污水 泡沫', '河面漂着\u3000多词搜索', '朱家观村5组', '朱家观村5组 红色', ' 泡沫  红色污水 ']) expect(await listed(q), q).toEqual([reference]);
    // Every word must be there; the place is read masked, as the page shows it.
    for (const q of ['红色污水 养猪场', '王秀英', '朱家观村5组 王秀英']) expect(await listed(q), q).toEqual([]);
    await page.goto(`${base}/inbox/cases/${seeded.id}`);
    expect(await page.textContent('main')).toContain('王**家旁边');
    await context.close();
  });

  it("finds nothing by the reporter's hidden name or phone, and lists the case with both masked", async () => {
    const seeded = await seedCase(web.service, web.clock, {
      text: '兴隆办事处盐下村电镀厂偷排废水，周桂兰家门口的沟都黑了，回电13912347702',
      assignments: [{ unit: 'epb', role: 'lead' }],
      contact: { name: '周桂兰', phone: '13912347702', share: false },
    });
    const client = formClient(base, fromNewAddress());
    await client.signIn('epb');
    const rows = async (q: string) => {
      const html = await (await client.get(`/inbox?q=${encodeURIComponent(q)}`)).text();
      return [...html.matchAll(/<tr[^>]*data-case="([^"]+)"/g)].map((m) => m[1]);
    };
    // What the clerk can read finds the case: the reference (typed any way), the words, the masked number as shown.
    expect(await rows(caseReference(seeded.id))).toEqual([caseReference(seeded.id)]);
    expect(await rows(caseReference(seeded.id).replaceAll('-', '').toLowerCase())).toEqual([caseReference(seeded.id)]);
    const fullWidth = [...caseReference(seeded.id)].map((ch) => (ch === '-' ? '－' : String.fromCharCode(ch.charCodeAt(0) + 0xfee0))).join('');
    expect(await rows(fullWidth)).toEqual([caseReference(seeded.id)]);
    // Not the tracking code, which a bureau never reads (with it the clerk could rate the bureau's own answer).
    expect(await rows(seeded.trackingCode)).toEqual([]);
    expect(await rows('沟都黑了')).toEqual([caseReference(seeded.id)]);
    expect(await rows('周**家门口')).toEqual([caseReference(seeded.id)]);
    // What the clerk may not read finds nothing: searching it would tell which case the reporter is on.
    for (const hidden of ['周桂兰', '桂兰家', '13912347702', '1391234']) expect(await rows(hidden), hidden).toEqual([]);
    const list = await (await client.get('/inbox')).text();
    expect(list).toContain(caseReference(seeded.id));
    expect(list).not.toContain(seeded.trackingCode);
    expect(list).not.toContain('周桂兰');
    expect(list).not.toContain('13912347702');
  });

  it('masks in the list and its search the names its case page masks: a reporter staff named as such, and the reporter of a report merged in', async () => {
    // An anonymous report whose words name the reporter in a way the rules do not read as the reporter's.
    const seeded = await seedCase(web.service, web.clock, {
      text: '刘德华说：盐下村电镀厂偷排废水（名单测试）',
      assignments: [{ unit: 'epb', role: 'lead' }],
      contact: null,
      anonymous: true,
    });
    const duplicate = await seedCase(web.service, web.clock, {
      text: '盐下村电镀厂又排黑水了，我叫郭富成',
      assignments: [{ unit: 'epb', role: 'lead' }],
      contact: { name: '郭富成', phone: '13912347731', share: false },
    });
    const desk = apiClient(base, web.staff.dispatcher);
    // The dispatcher's note names the caller as the reporter; the merge brings in a reporter the case's text also names.
    expect((await json(desk.post(`/api/v1/cases/${seeded.id}/supervise`, { note: '来电人刘德华要求保密，请尽快处理' }))).status).toBe(200);
    expect((await json(desk.post(`/api/v1/cases/${duplicate.id}/merge`, { into: seeded.id, reason: '重复举报' }))).status).toBe(200);
    await web.service.deps.db.updateTable('cases').set({ text: '刘德华说：盐下村电镀厂偷排废水，郭富成也看见了（名单测试）' }).where('id', '=', seeded.id).execute();

    const client = formClient(base, fromNewAddress());
    await client.signIn('epb');
    const page = await (await client.get(`/inbox/cases/${seeded.id}`)).text();
    // The reporter asked not to be named: no surname either.
    expect(page).toContain('>**说：盐下村');
    expect(page).not.toContain('刘德华');
    expect(page).not.toContain('郭富成');
    const rows = async (q: string) => {
      const html = await (await client.get(`/inbox?status=all&q=${encodeURIComponent(q)}`)).text();
      return { refs: [...html.matchAll(/<tr[^>]*data-case="([^"]+)"/g)].map((m) => m[1]), html };
    };
    const found = await rows('名单测试');
    expect(found.refs).toEqual([caseReference(seeded.id)]);
    expect(found.html).toContain('>**说：盐下村');
    for (const name of ['刘德华', '郭富成']) {
      expect(found.html).not.toContain(name);
      expect((await rows(name)).refs, name).toEqual([]);
    }
    // The API's list says the same.
    const listed = await json(apiClient(base, web.staff.epb).get('/api/v1/cases?limit=100'));
    const item = listed.body.items.find((i: { id: string }) => i.id === seeded.id);
    expect(item.excerpt.startsWith('**说：盐下村')).toBe(true);
    expect(JSON.stringify(listed.body)).not.toMatch(/刘德华|郭富成/);
  });

  it("shows an official a dispatcher's 督办 note or a co-handler's reply names by title, as the notice does, the reporter's number still masked", async () => {
    const seeded = await seedCase(web.service, web.clock, { text: '盐下村电镀厂偷排废水（联系人测试）', contact: { name: '何家明', phone: '13912347741', share: false } });
    const desk = apiClient(base, web.staff.dispatcher);
    expect((await json(desk.post(`/api/v1/cases/${seeded.id}/supervise`, { note: '请尽快办理，联系人：王副主任，举报人电话13912347741' }))).status).toBe(200);
    const co = apiClient(base, web.staff.econ);
    expect((await json(co.post(`/api/v1/cases/${seeded.id}/accept`))).status).toBe(200);
    expect((await json(co.post(`/api/v1/cases/${seeded.id}/reply`, { text: '该厂用电已核查，我是经信委李科长，何家明反映属实' }))).status).toBe(200);

    const page = formClient(base, fromNewAddress());
    await page.signIn('epb');
    const html = await (await page.get(`/inbox/cases/${seeded.id}`)).text();
    const history = html.slice(html.indexOf('<ol class="timeline">'));
    expect(history).toContain('联系人：王副主任');
    expect(history).toContain('我是经信委李科长');
    expect(history).toContain('139****7741');
    expect(history).not.toContain('13912347741');
    expect(history).not.toContain('何家明');
    const events = (await json(apiClient(base, web.staff.epb).get(`/api/v1/cases/${seeded.id}`))).body.events as Array<{ kind: string; data: Record<string, unknown> }>;
    expect(events.find((e) => e.kind === 'supervised')?.data.note).toBe('请尽快办理，联系人：王副主任，举报人电话139****7741');
  });

  it("shows a co-handler and the local office their own deadlines: a sign-for still owed after the lead signed, nothing owed after their reply", async () => {
    const seeded = await seedCase(web.service, web.clock, { text: '盐下村电镀厂偷排废水（本单位期限测试）' });
    const api = (token: string, action: string, body?: unknown) =>
      fetch(`${base}/api/v1/cases/${seeded.id}/${action}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
    expect((await api(web.staff.epb, 'accept')).status).toBe(200);
    expect((await api(web.staff.econ, 'accept')).status).toBe(200);
    expect((await api(web.staff.econ, 'reply', { text: '经信委已核查该厂用电情况' })).status).toBe(200);
    const started = web.clock.now().toISOString();
    // A month on: the local office never signed for its part; the reply deadline has passed too.
    web.clock.advance(30 * 24 * 3600_000);
    try {
      const office = formClient(base, fromNewAddress());
      await office.signIn('xinglong');
      const officePage = await (await office.get(`/inbox/cases/${seeded.id}`)).text();
      const signBy = /<dd id="sign-by">([\s\S]*?)<\/dd>/.exec(officePage)?.[1] ?? '';
      expect(officePage).toContain('本单位签收期限');
      expect(signBy).toContain('已超期');
      const co = formClient(base, fromNewAddress());
      await co.signIn('econ');
      const coPage = await (await co.get(`/inbox/cases/${seeded.id}`)).text();
      // The co-handler replied in time: nothing of its own is overdue, and what it did reads as done, when, by which deadline.
      const coReply = /<dd id="reply-by">([\s\S]*?)<\/dd>/.exec(coPage)?.[1] ?? '';
      const coSign = /<dd id="sign-by">([\s\S]*?)<\/dd>/.exec(coPage)?.[1] ?? '';
      expect(coReply).not.toContain('已超期');
      expect(coSign).not.toContain('已超期');
      expect(coPage).toContain('<dt>本单位签收时间</dt>');
      expect(coPage).toContain('<dt>本单位答复时间</dt>');
      expect(coPage).not.toContain('本单位签收期限');
      expect(coSign).toMatch(/^\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}<span class="hint">（期限 \d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}）<\/span>$/);
      expect(coReply).toContain('（期限 ');
    } finally {
      web.clock.set(started);
    }
  });

  it('answers a double-submitted reply once, and tells the second submit why in the page\'s language', async () => {
    const seeded = await seedCase(web.service, web.clock, { assignments: [{ unit: 'epb', role: 'lead' }] });
    const client = formClient(base, fromNewAddress());
    await client.signIn('epb');
    const csrf = await client.token(`/inbox/cases/${seeded.id}`);
    expect((await client.post(`/inbox/cases/${seeded.id}/accept`, { _csrf: csrf })).status).toBe(303);
    const twice = await Promise.all([
      client.post(`/inbox/cases/${seeded.id}/reply`, { _csrf: csrf, text: '已责令电镀厂停产整改。' }),
      client.post(`/inbox/cases/${seeded.id}/reply`, { _csrf: csrf, text: '已责令电镀厂停产整改。' }),
    ]);
    expect(twice.map((r) => r.status).sort()).toEqual([303, 409]);
    const refused = await twice.find((r) => r.status === 409)!.text();
    const notice = /<p[^>]*id="action-problem"[^>]*>([^<]*)<\/p>/.exec(refused)?.[1] ?? '';
    expect(notice).toMatch(/\p{Script=Han}/u);
    // No English sentence of the API on a Chinese page.
    expect(notice).not.toMatch(/[A-Za-z]{3,}/);
    expect((await listAssignments(web.service.deps.db, seeded.id))[0]?.replyText).toBe('已责令电镀厂停产整改。');
    // Signing for it again, and the English page, alike.
    const again = await client.post(`/inbox/cases/${seeded.id}/accept`, { _csrf: csrf });
    expect(again.status).toBe(409);
    expect(/<p[^>]*id="action-problem"[^>]*>([^<]*)<\/p>/.exec(await again.text())?.[1] ?? '').not.toMatch(/[A-Za-z]{3,}/);
    // Two clerks of one unit: one signs for a case while the other, on the page as it was, returns it.
    const other = await seedCase(web.service, web.clock, { assignments: [{ unit: 'epb', role: 'lead' }] });
    const colleague = formClient(base, fromNewAddress());
    await colleague.signIn('epb2');
    const stale = await colleague.token(`/inbox/cases/${other.id}`);
    expect((await client.post(`/inbox/cases/${other.id}/accept`, { _csrf: csrf })).status).toBe(303);
    const late = await colleague.post(`/inbox/cases/${other.id}/return`, { _csrf: stale, reason: 'not_our_remit', note: '不归我局' });
    expect(late.status).toBe(409);
    expect(/<p[^>]*id="action-problem"[^>]*>([^<]*)<\/p>/.exec(await late.text())?.[1]).toBe('本单位已签收，只有尚未签收的案件才能退回；如确需调整，请联系调度员。');
    expect((await findCase(web.service.deps.db, other.id))?.status).toBe('accepted');
    const english = await client.post(`/inbox/cases/${seeded.id}/accept?lang=en`, { _csrf: csrf });
    expect(/<p[^>]*id="action-problem"[^>]*>([^<]*)<\/p>/.exec(await english.text())?.[1] ?? '').toMatch(/^The case is replied; there is nothing left to do on it/);
  });

  it('says a refusal on the English page in its own words, not the API sentence, and in Chinese without any English', async () => {
    const seeded = await seedCase(web.service, web.clock, { assignments: [{ unit: 'epb', role: 'lead' }] });
    const client = formClient(base, fromNewAddress());
    await client.signIn('epb');
    const csrf = await client.token(`/inbox/cases/${seeded.id}`);
    expect((await client.post(`/inbox/cases/${seeded.id}/accept`, { _csrf: csrf })).status).toBe(303);
    const notice = async (res: Response) => /<p[^>]*id="action-problem"[^>]*>([^<]*)<\/p>/.exec(await res.text())?.[1] ?? '';
    const english = await client.post(`/inbox/cases/${seeded.id}/accept?lang=en`, { _csrf: csrf });
    expect(english.status).toBe(409);
    expect(await notice(english)).toBe('Your unit has already signed for the case; there is nothing to submit again.');
    // Asking again for more time while the first request waits (the language chosen stays until changed).
    const ask = { _csrf: csrf, workingDays: '3', reason: '等待检测报告' };
    expect((await client.post(`/inbox/cases/${seeded.id}/extend`, ask)).status).toBe(303);
    const again = await client.post(`/inbox/cases/${seeded.id}/extend?lang=zh`, ask);
    expect(again.status).toBe(409);
    expect(await notice(again)).toBe('本单位已有一份延期申请在等待调度员审批。');
    const againEn = await client.post(`/inbox/cases/${seeded.id}/extend?lang=en`, ask);
    const againEnHtml = await againEn.text();
    expect(/<p[^>]*id="action-problem"[^>]*>([^<]*)<\/p>/.exec(againEnHtml)?.[1]).toBe('Your unit already has an extension request waiting for the dispatcher.');
    // The page a POST sent back switches language to the case's own page, which has an address; the
    // resident's Chinese words are marked as such on the English page.
    expect(/<a href="([^"]+)" hreflang="zh-CN"/.exec(againEnHtml)?.[1]).toBe(`/inbox/cases/${seeded.id}?lang=zh`);
    expect(againEnHtml).toMatch(/<p class="reply" id="case-text" lang="zh-CN">/);
    const list = await (await client.get('/inbox?lang=en')).text();
    expect(list).toMatch(/<div class="hint" lang="zh-CN">/);
  });

  it('keeps a reply pasted longer than its limit whole and refuses it naming the limit, instead of the browser cutting it short', async () => {
    const seeded = await seedCase(web.service, web.clock, { assignments: [{ unit: 'epb', role: 'lead' }] });
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'epb', undefined, `/inbox/cases/${seeded.id}`);
    await Promise.all([page.waitForNavigation(), page.click('#accept')]);
    const reply = `${'经现场检查，电镀厂已停产整改。'.repeat(667)}整改报告完`;
    await page.focus('#reply-text');
    await page.keyboard.insertText(reply);
    expect(await page.inputValue('#reply-text')).toBe(reply);
    const [res] = await Promise.all([page.waitForNavigation(), page.click('#reply')]);
    expect(res?.status()).toBe(400);
    expect(await page.textContent('#reply-text-error')).toBe('不能超过 10000 个字。');
    expect(await page.inputValue('#reply-text')).toBe(reply);
    expect((await listAssignments(web.service.deps.db, seeded.id))[0]?.status).toBe('accepted');
    await context.close();
  });

  it('refuses a reply without text next to its field, and says the attachments chosen must be chosen again', async () => {
    const seeded = await seedCase(web.service, web.clock, { assignments: [{ unit: 'epb', role: 'lead' }] });
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'epb', undefined, `/inbox/cases/${seeded.id}`);
    await Promise.all([page.waitForNavigation(), page.click('#accept')]);
    await page.evaluate(`document.querySelector('#reply').form.noValidate = true`);
    await page.setInputFiles('#reply-files', [
      { name: '现场检查照片.png', mimeType: 'image/png', buffer: PNG },
      { name: '整改通知书.png', mimeType: 'image/png', buffer: PNG },
    ]);
    const [res] = await Promise.all([page.waitForNavigation(), page.click('#reply')]);
    expect(res?.status()).toBe(400);
    expect(await page.textContent('#reply-text-error')).toContain('请填写此项');
    expect(await page.textContent('#reply-files-again')).toContain('2 个附件未提交，请重新选择');
    expect((await listAssignments(web.service.deps.db, seeded.id))[0]?.status).toBe('accepted');
    const files = await web.service.deps.db.selectFrom('case_attachments').select('kind').where('case_id', '=', seeded.id).execute();
    expect(files).toHaveLength(0);
    // Chosen again with the text, the reply goes through with both files.
    await page.fill('#reply-text', '已现场检查并下达整改通知。');
    await page.setInputFiles('#reply-files', [
      { name: '现场检查照片.png', mimeType: 'image/png', buffer: PNG },
      { name: '整改通知书.png', mimeType: 'image/png', buffer: PNG },
    ]);
    await Promise.all([page.waitForNavigation(), page.click('#reply')]);
    expect(await page.textContent('#done')).toBe('答复已提交。');
    expect(await page.$('#reply-files-again')).toBeNull();
    await context.close();
  });

  it('says too many attachments, or one over the size limit, next to the field before sending, with the answer kept', async () => {
    const seeded = await seedCase(web.service, web.clock, { assignments: [{ unit: 'epb', role: 'lead' }] });
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'epb', undefined, `/inbox/cases/${seeded.id}`);
    await Promise.all([page.waitForNavigation(), page.click('#accept')]);
    let posted = 0;
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().endsWith('/reply')) posted++;
    });
    await page.fill('#reply-text', '已现场检查，检测报告见附件。');
    // A scanned report larger than the service reads at all: refused whole, it would come back as an error page.
    const scan = join(tempDir('inbox-scan-'), '检测报告（扫描件）.pdf');
    writeFileSync(scan, Buffer.alloc(60 * 1024 * 1024, 0x25));
    await page.setInputFiles('#reply-files', scan);
    await page.click('#reply');
    expect(await page.textContent('#reply-files-client-error')).toBe('每个附件不超过 10 MB。');
    expect(await page.getAttribute('#reply-files', 'aria-invalid')).toBe('true');
    const six = Array.from({ length: 6 }, (_, i) => ({ name: `现场照片${i + 1}.png`, mimeType: 'image/png', buffer: PNG }));
    await page.setInputFiles('#reply-files', six);
    await page.click('#reply');
    expect(await page.textContent('#reply-files-client-error')).toBe('最多 5 个附件。');
    expect(await page.locator('#reply-files-client-error').count()).toBe(1);
    expect(await page.inputValue('#reply-text')).toBe('已现场检查，检测报告见附件。');
    expect(posted).toBe(0);
    expect((await listAssignments(web.service.deps.db, seeded.id))[0]?.status).toBe('accepted');
    // Within the limits, it goes.
    await page.setInputFiles('#reply-files', six.slice(0, 5));
    await Promise.all([page.waitForNavigation(), page.click('#reply')]);
    expect(await page.textContent('#done')).toBe('答复已提交。');
    await context.close();
  });

  it("marks and sorts a case overdue for a unit only when the unit itself is late, not because the lead is", async () => {
    const late = await seedCase(web.service, web.clock, { text: '盐下村电镀厂偷排废水（牵头单位超期测试）' });
    web.clock.advance(3600_000);
    const mine = await seedCase(web.service, web.clock, { text: '盐下村电镀厂偷排废水（协办待答复测试）', assignments: [{ unit: 'epb', role: 'lead' }, { unit: 'econ', role: 'co' }] });
    const api = (token: string, id: string, action: string, body?: unknown) =>
      fetch(`${base}/api/v1/cases/${id}/${action}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
    // The co-handler signs for both and replies in time on the first; the lead signs for the first and never replies.
    for (const id of [late.id, mine.id]) expect((await api(web.staff.econ, id, 'accept')).status).toBe(200);
    expect((await api(web.staff.econ, late.id, 'reply', { text: '经信委已核查该厂用电情况' })).status).toBe(200);
    expect((await api(web.staff.epb, late.id, 'accept')).status).toBe(200);
    expect((await api(web.staff.epb, mine.id, 'accept')).status).toBe(200);
    const started = web.clock.now().toISOString();
    const replyBy = (await listAssignments(web.service.deps.db, late.id)).find((a) => a.role === 'lead')!.deadlines.replyBy!;
    // Past the first case's reply deadline, not yet past the second's (an hour later).
    web.clock.set(new Date(Date.parse(replyBy) + 60_000).toISOString());
    try {
      await checkDeadlines(web.service.deps, late.id);
      expect((await findCase(web.service.deps.db, late.id))?.overdue).toBe(true);
      const co = formClient(base, fromNewAddress());
      await co.signIn('econ');
      const html = await (await co.get('/inbox')).text();
      const row = (id: string) => /<tr data-case="[^"]*"[\s\S]*?<\/tr>/.exec(html.slice(html.indexOf(`data-case="${caseReference(id)}"`) - 10))?.[0] ?? '';
      expect(row(late.id)).not.toContain('已超期');
      const order = [...html.matchAll(/<tr data-case="([^"]+)"/g)].map((m) => m[1]);
      // The case the co-handler still owes a reply on comes before the one it answered.
      expect(order.indexOf(caseReference(mine.id))).toBeLessThan(order.indexOf(caseReference(late.id)));
      // The lead is late, and sees so.
      const lead = formClient(base, fromNewAddress());
      await lead.signIn('epb');
      const leadHtml = await (await lead.get('/inbox')).text();
      expect(/<tr data-case="[^"]*"[\s\S]*?<\/tr>/.exec(leadHtml.slice(leadHtml.indexOf(`data-case="${caseReference(late.id)}"`) - 10))?.[0]).toContain('已超期');
      // So says the case page's status: 超期 to the lead, not to the co-handler that answered in time.
      const status = async (who: ReturnType<typeof formClient>) => /<dt>状态<\/dt><dd>([\s\S]*?)<\/dd>/.exec(await (await who.get(`/inbox/cases/${late.id}`)).text())?.[1] ?? '';
      expect(await status(lead)).toContain('超期');
      expect(await status(co)).not.toContain('超期');
      expect(await status(co)).toContain('办理中');
      // "Overdue only" lists what the unit itself is late on, as the badge says.
      const listed = async (who: ReturnType<typeof formClient>, q: string) =>
        [...(await (await who.get(`/inbox?${q}`)).text()).matchAll(/<tr data-case="([^"]+)"/g)].map((m) => m[1]);
      for (const q of ['overdue=1', 'overdue=1&status=all', 'overdue=1&status=accepted']) {
        expect(await listed(co, q), q).not.toContain(caseReference(late.id));
        expect(await listed(lead, q), q).toContain(caseReference(late.id));
      }
    } finally {
      web.clock.set(started);
    }
  });

  it('shows no deadline or overdue mark on a case waiting in triage after the lead returned it: no unit can act on it', async () => {
    const seeded = await seedCase(web.service, web.clock, { text: '盐下村电镀厂偷排废水（退回后待分派测试）' });
    const res = await fetch(`${base}/api/v1/cases/${seeded.id}/return`, {
      method: 'POST',
      headers: { authorization: `Bearer ${web.staff.epb}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'not_our_remit', note: '应由经信委牵头' }),
    });
    expect(res.status).toBe(200);
    expect((await findCase(web.service.deps.db, seeded.id))?.status).toBe('triage');
    const started = web.clock.now().toISOString();
    // Two days on: the co-handler's sign-for time has passed while the case waits for a dispatcher.
    web.clock.advance(2 * 24 * 3600_000);
    try {
      const co = formClient(base, fromNewAddress());
      await co.signIn('econ');
      const html = await (await co.get('/inbox')).text();
      const row = /<tr data-case="[^"]*"[\s\S]*?<\/tr>/.exec(html.slice(html.indexOf(`data-case="${caseReference(seeded.id)}"`) - 10))?.[0] ?? '';
      expect(row).toContain('待分派');
      expect(row).not.toContain('已超期');
      expect(row).not.toContain('due-soon');
    } finally {
      web.clock.set(started);
    }
  });

  it('tells a co-handler of a case waiting in triage that it waits for the dispatcher, not that there is nothing left to do', async () => {
    const seeded = await seedCase(web.service, web.clock, { text: '盐下村电镀厂偷排废水（待分派协办提示测试）' });
    const returned = await apiClient(base, web.staff.epb).post(`/api/v1/cases/${seeded.id}/return`, { reason: 'not_our_remit', note: '应由经信委牵头' });
    expect(returned.status).toBe(200);
    const co = formClient(base, fromNewAddress());
    await co.signIn('econ');
    const notice = (html: string) => /<p class="notice" id="nothing-to-do">([^<]*)<\/p>/.exec(html)?.[1];
    const html = await (await co.get(`/inbox/cases/${seeded.id}`)).text();
    expect(notice(html)).toBe('牵头单位已退回此案件，正等待调度员重新分派；在此之前各单位暂不能办理，期限暂停计算。重新分派后本单位如仍承办，可继续办理。');
    // A sign-for posted from a page opened before the lead returned it says the same, above the form.
    const csrf = await co.token(`/inbox/cases/${seeded.id}`);
    const refused = await co.post(`/inbox/cases/${seeded.id}/accept`, { _csrf: csrf });
    expect(refused.status).toBe(409);
    const page = await refused.text();
    expect(page).toContain('牵头单位已退回此案件，正等待调度员重新分派');
    expect(page).not.toContain('无需再办理');
    expect((await listAssignments(web.service.deps.db, seeded.id)).find((a) => a.unitCode === 'econ')?.status).toBe('pending');
    const en = await (await co.get(`/inbox/cases/${seeded.id}?lang=en`)).text();
    expect(notice(en)).toMatch(/^The lead returned this case and it waits for a dispatcher to route it again/);
  });

  it("words a return reason as the unit's Telegram group does: the return form, the case's units and its history, in both languages", async () => {
    const seeded = await seedCase(web.service, web.clock, { text: '盐下村电镀厂偷排废水（退回理由用语测试）' });
    expect((await apiClient(base, web.staff.xinglong).post(`/api/v1/cases/${seeded.id}/return`, { reason: 'wrong_jurisdiction', note: '地点在八仙洞' })).status).toBe(200);
    const clerk = formClient(base, fromNewAddress());
    await clerk.signIn('epb');
    for (const lang of ['zh', 'en'] as const) {
      const page = await (await clerk.get(`/inbox/cases/${seeded.id}?lang=${lang}`)).text();
      const words = TEXTS[lang].group.reasons;
      // The return form offers each reason in the words of the group's buttons.
      const offered = [...page.split('id="return-reason"')[1]!.split('</select>')[0]!.matchAll(/<option value="(\w+)"[^>]*>([^<]*)<\/option>/g)].map((m) => [m[1], m[2]!.trim()]);
      expect(Object.fromEntries(offered)).toEqual(words);
      // The local office's return, in the list of units and in the history, as its group's post said it.
      expect(page).toContain(` · ${words.wrong_jurisdiction}</td>`);
      expect(page.split('<ol class="timeline">')[1]).toContain(words.wrong_jurisdiction);
    }
    expect(TEXTS.zh.group.reasons.wrong_jurisdiction).toBe('不属于本辖区');
  });

  it('says in the history how many working days a request for more time asked, and until when an approval moved the reply deadline', async () => {
    const seeded = await seedCase(web.service, web.clock, { text: '盐下村电镀厂偷排废水（延期记录测试）' });
    const co = apiClient(base, web.staff.econ);
    expect((await co.post(`/api/v1/cases/${seeded.id}/accept`)).status).toBe(200);
    const asked = await json(co.post(`/api/v1/cases/${seeded.id}/extend`, { workingDays: 5, reason: '等待检测报告' }));
    expect(asked.status).toBe(201);
    expect((await apiClient(base, web.staff.dispatcher).post(`/api/v1/extensions/${asked.body.id}/approve`)).status).toBe(200);
    const clerk = formClient(base, fromNewAddress());
    await clerk.signIn('econ');
    const page = await (await clerk.get(`/inbox/cases/${seeded.id}`)).text();
    const history = page.split('<ol class="timeline">')[1]!;
    const line = (label: string) => new RegExp(`<strong>${label}</strong>[^]*?</li>`).exec(history)?.[0] ?? '';
    expect(line('申请延期')).toContain('<div>申请延长 5 个工作日</div>');
    expect(line('申请延期')).toContain('等待检测报告');
    // The co-handler's new reply deadline, as its facts show it: its approval has no public note that would say it.
    const when = /<dd id="reply-by">([^<]*?) ?</.exec(page)?.[1]?.trim();
    expect(when).toMatch(/^\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}$/);
    expect(line('延期已批准')).toContain(`<div>申请延长 5 个工作日 · 答复期限延至 ${when}</div>`);
  });

  it("offers in the status filter only what the unit's cases can be: never received or merged, in triage for a co-handler after the lead returned it, transferred only to the 12345 hotline", async () => {
    const offered = async (page: Page) => page.$$eval('#f-status option', (els) => els.map((el) => el.getAttribute('value')));
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    // A co-handler keeps its part of a case whose lead returned it: the case waits in triage in its inbox.
    const seeded = await seedCase(web.service, web.clock, { text: '盐下村电镀厂偷排废水（状态筛选测试）' });
    const returned = await fetch(`${base}/api/v1/cases/${seeded.id}/return`, {
      method: 'POST',
      headers: { authorization: `Bearer ${web.staff.epb}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'not_our_remit', note: '应由经信委牵头' }),
    });
    expect(returned.status).toBe(200);
    await signIn(page, base, 'econ');
    expect(await offered(page)).toEqual(['open', 'all', 'triage', 'dispatched', 'accepted', 'replied', 'closed', 'reopened']);
    await page.selectOption('#f-status', 'triage');
    await Promise.all([page.waitForNavigation(), page.click('form.filters button[type=submit]')]);
    expect(await page.$(`tr[data-case="${caseReference(seeded.id)}"]`)).not.toBeNull();

    // The 12345 hotline's clerks hold what the desk hands to 12345.
    const other = await seedCase(web.service, web.clock, { status: 'triage', type: 'other', text: '小区门口路灯坏了（状态筛选测试）' });
    const transferred = await fetch(`${base}/api/v1/cases/${other.id}/transfer`, {
      method: 'POST',
      headers: { authorization: `Bearer ${web.staff.dispatcher}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: '非环境类诉求' }),
    });
    expect(transferred.status).toBe(200);
    await signIn(page, base, 'hotline');
    expect(await offered(page)).toEqual(['open', 'all', 'triage', 'dispatched', 'accepted', 'replied', 'closed', 'transferred', 'reopened']);
    await page.selectOption('#f-status', 'transferred');
    await Promise.all([page.waitForNavigation(), page.click('form.filters button[type=submit]')]);
    expect(await page.textContent(`tr[data-case="${caseReference(other.id)}"]`)).toContain('已转办');
    await context.close();
  });

  it("filters 待签收 and 办理中 by the unit's own stage: a co-handler still to sign for a case the lead signed for finds it under 待签收", async () => {
    const leadSigned = await seedCase(web.service, web.clock, { text: '盐下村电镀厂偷排废水（本单位阶段筛选一）' });
    const coSigned = await seedCase(web.service, web.clock, { text: '盐下村电镀厂偷排废水（本单位阶段筛选二）' });
    expect((await json(apiClient(base, web.staff.epb).post(`/api/v1/cases/${leadSigned.id}/accept`))).status).toBe(200);
    expect((await json(apiClient(base, web.staff.xinglong).post(`/api/v1/cases/${coSigned.id}/accept`))).status).toBe(200);
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    const listed = async (status: string) => {
      await page.goto(`${base}/inbox`);
      await page.fill('#f-q', '本单位阶段筛选');
      await page.selectOption('#f-status', status);
      await Promise.all([page.waitForNavigation(), page.click('form.filters button[type=submit]')]);
      return (await page.$$eval('#inbox tbody tr', (rows) => rows.map((r) => r.getAttribute('data-case')))).sort();
    };
    // The town office: to sign for the case the lead signed for, signed for the one the lead has not.
    await signIn(page, base, 'xinglong');
    expect(await listed('dispatched')).toEqual([caseReference(leadSigned.id)]);
    expect(await listed('accepted')).toEqual([caseReference(coSigned.id)]);
    expect(await page.textContent(`tr[data-case="${caseReference(coSigned.id)}"]`)).toContain('属地 · 已签收');
    // The lead: the other way round.
    await signIn(page, base, 'epb');
    expect(await listed('dispatched')).toEqual([caseReference(coSigned.id)]);
    expect(await listed('accepted')).toEqual([caseReference(leadSigned.id)]);
    expect((await listed('all')).length).toBe(2);
    await context.close();
  });

  it('shows a co-handler that answered before the case was reopened to the lead alone nothing overdue of the new round', async () => {
    const seeded = await seedCase(web.service, web.clock, { text: '盐下村电镀厂偷排废水（重办测试）', assignments: [{ unit: 'epb', role: 'lead' }, { unit: 'econ', role: 'co' }] });
    const post = (token: string | null, path: string, body?: unknown) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
    for (const token of [web.staff.econ, web.staff.epb]) {
      expect((await post(token, `/api/v1/cases/${seeded.id}/accept`)).status).toBe(200);
      expect((await post(token, `/api/v1/cases/${seeded.id}/reply`, { text: '已核查处理' })).status).toBe(200);
    }
    expect((await post(null, `/api/v1/track/${seeded.trackingCode}/feedback`, { rating: 'dissatisfied', solved: false })).status).toBe(201);
    expect((await findCase(web.service.deps.db, seeded.id))?.status).toBe('reopened');
    const started = web.clock.now().toISOString();
    web.clock.advance(30 * 24 * 3600_000);
    try {
      const co = formClient(base, fromNewAddress());
      await co.signIn('econ');
      const html = await (await co.get(`/inbox/cases/${seeded.id}`)).text();
      expect(html).toContain('本单位在此案件上暂无待办事项');
      expect(/<dd id="sign-by">([\s\S]*?)<\/dd>/.exec(html)?.[1] ?? '').not.toContain('已超期');
      expect(/<dd id="reply-by">([\s\S]*?)<\/dd>/.exec(html)?.[1] ?? '').not.toContain('已超期');
      // The lead, on the new round, is late.
      const lead = formClient(base, fromNewAddress());
      await lead.signIn('epb');
      expect(/<dd id="sign-by">([\s\S]*?)<\/dd>/.exec(await (await lead.get(`/inbox/cases/${seeded.id}`)).text())?.[1] ?? '').toContain('已超期');
    } finally {
      web.clock.set(started);
    }
  });

  it('shows no 督办 of an earlier round on a case reopened (重办), until the new round is supervised', async () => {
    const seeded = await seedCase(web.service, web.clock, { text: '盐下村电镀厂偷排废水（重办标记测试）', assignments: [{ unit: 'epb', role: 'lead' }] });
    const desk = apiClient(base, web.staff.dispatcher);
    const clerk = apiClient(base, web.staff.epb);
    expect((await json(desk.post(`/api/v1/cases/${seeded.id}/supervise`, { note: '群众反映强烈，请尽快办理' }))).status).toBe(200);
    expect((await json(clerk.post(`/api/v1/cases/${seeded.id}/accept`))).status).toBe(200);
    expect((await json(clerk.post(`/api/v1/cases/${seeded.id}/reply`, { text: '已责令停产整改' }))).status).toBe(200);
    expect((await json(apiClient(base, null).post(`/api/v1/track/${seeded.trackingCode}/feedback`, { rating: 'dissatisfied', solved: false }))).status).toBe(201);

    const page = formClient(base, fromNewAddress());
    await page.signIn('epb');
    const badges = async () => {
      const list = await (await page.get('/inbox')).text();
      const row = new RegExp(`<tr data-case="${caseReference(seeded.id)}">([\\s\\S]*?)</tr>`).exec(list)?.[1] ?? '';
      const facts = /<dt>状态<\/dt><dd>([\s\S]*?)<\/dd>/.exec(await (await page.get(`/inbox/cases/${seeded.id}`)).text())?.[1] ?? '';
      return { row: row.includes('督办'), facts: facts.includes('督办'), listed: row !== '' };
    };
    expect(await badges()).toEqual({ row: false, facts: false, listed: true });
    expect((await json(clerk.get(`/api/v1/cases/${seeded.id}`))).body.supervisedAt).toBeNull();
    // Supervised on the new round, it says so again.
    expect((await json(desk.post(`/api/v1/cases/${seeded.id}/supervise`, { note: '重办请抓紧' }))).status).toBe(200);
    expect(await badges()).toEqual({ row: true, facts: true, listed: true });
  });

  it("shows 督办 to a unit only for its own part: a co-handler reads none when only the lead was supervised, on the list, the case page and in the API", async () => {
    const seeded = await seedCase(web.service, web.clock, { text: '盐下村电镀厂偷排废水（协办标记测试）' });
    // Nothing is late yet: the dispatcher's 督办 falls on the lead alone.
    const supervised = await json(apiClient(base, web.staff.dispatcher).post(`/api/v1/cases/${seeded.id}/supervise`, { note: '群众反映强烈，请尽快办理' }));
    expect(supervised.status).toBe(200);
    expect((await listAssignments(web.service.deps.db, seeded.id)).filter((a) => a.supervisedAt !== null).map((a) => a.unitCode)).toEqual(['epb']);
    const seen = async (unit: 'epb' | 'econ' | 'xinglong') => {
      const page = formClient(base, fromNewAddress());
      await page.signIn(unit);
      const list = await (await page.get('/inbox')).text();
      const row = new RegExp(`<tr data-case="${caseReference(seeded.id)}">([\\s\\S]*?)</tr>`).exec(list)?.[1] ?? '';
      const facts = /<dt>状态<\/dt><dd>([\s\S]*?)<\/dd>/.exec(await (await page.get(`/inbox/cases/${seeded.id}`)).text())?.[1] ?? '';
      const api = apiClient(base, web.staff[unit]);
      const listed = (await json(api.get('/api/v1/cases?limit=100'))).body.items.find((i: { id: string }) => i.id === seeded.id);
      return { listed: row !== '', row: row.includes('督办'), facts: facts.includes('督办'), api: listed?.supervised, view: (await json(api.get(`/api/v1/cases/${seeded.id}`))).body.supervisedAt !== null };
    };
    expect(await seen('epb')).toEqual({ listed: true, row: true, facts: true, api: true, view: true });
    expect(await seen('econ')).toEqual({ listed: true, row: false, facts: false, api: false, view: false });
    expect(await seen('xinglong')).toEqual({ listed: true, row: false, facts: false, api: false, view: false });
    // Its history says whom the 督办 was of.
    const econ = formClient(base, fromNewAddress());
    await econ.signIn('econ');
    const history = (await (await econ.get(`/inbox/cases/${seeded.id}`)).text()).split('<ol class="timeline">')[1]!;
    expect(history).toMatch(/<strong>督办<\/strong> · 区环保局/);
    // The desk still reads the case as supervised.
    expect((await json(apiClient(base, web.staff.dispatcher).get(`/api/v1/cases/${seeded.id}`))).body.supervisedAt).not.toBeNull();
  });

  it('asks before returning a case, which the unit then no longer sees, and returns nothing when the clerk thinks again', async () => {
    const seeded = await seedCase(web.service, web.clock, { text: '盐下村电镀厂排污（退回确认测试）', assignments: [{ unit: 'epb', role: 'lead' }] });
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'epb', undefined, `/inbox/cases/${seeded.id}`);
    const asked: string[] = [];
    page.on('dialog', (d) => {
      asked.push(d.message());
      void d.dismiss();
    });
    // No reason chosen yet: the browser says what is missing, and nothing is asked before that.
    await page.click('form[action$="/return"] button[type=submit]');
    expect(await page.evaluate("document.querySelector('#return-reason').matches(':invalid')")).toBe(true);
    expect(asked).toEqual([]);
    await page.selectOption('#return-reason', 'not_our_remit');
    await page.fill('#return-note', '此为农业委职责范围。');
    await page.click('form[action$="/return"] button[type=submit]');
    expect(asked).toEqual(['确定退回？退回后本单位将不能再查看此案件。']);
    page.removeAllListeners('dialog');
    expect((await findCase(web.service.deps.db, seeded.id))?.status).toBe('dispatched');
    expect(await page.inputValue('#return-note')).toBe('此为农业委职责范围。');
    page.once('dialog', (d) => void d.accept());
    await Promise.all([page.waitForNavigation(), page.click('form[action$="/return"] button[type=submit]')]);
    expect((await findCase(web.service.deps.db, seeded.id))?.status).toBe('triage');
    await context.close();
  });

  it('lets the 12345 hotline return a case handed to it that is environmental after all, or sign for one it takes over', async () => {
    const transferred = async (text: string) => {
      const seeded = await seedCase(web.service, web.clock, { text });
      const moved = await fetch(`${base}/api/v1/cases/${seeded.id}/transfer`, {
        method: 'POST',
        headers: { authorization: `Bearer ${web.staff.dispatcher}`, 'content-type': 'application/json' },
        body: JSON.stringify({ reason: '非环境类诉求' }),
      });
      expect(moved.status).toBe(200);
      return seeded;
    };
    const back = await transferred('河边工厂夜里倒废液（12345退回页面测试）');
    const taken = await transferred('楼下饭店占道经营（12345签收页面测试）');
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'hotline');
    // Handed over and not yet signed for, both are the hotline's open work.
    const listed = async (id: string) => (await page.$(`tr[data-case="${caseReference(id)}"]`)) !== null;
    expect([await listed(back.id), await listed(taken.id)]).toEqual([true, true]);
    await page.goto(`${base}/inbox/cases/${back.id}`);
    expect(await page.textContent('section[aria-labelledby="h-accept"] .hint')).toContain('如属环境问题，请退回');
    expect(await page.$('#reply-text')).toBeNull();
    // No deadline here to extend: the hotline is not offered a request that could only be refused.
    expect(await page.$('section[aria-labelledby="h-extend"]')).toBeNull();
    await page.selectOption('#return-reason', 'not_our_remit');
    await page.fill('#return-note', '倒废液属环境问题，请派环保局。');
    page.once('dialog', (d) => void d.accept());
    await Promise.all([page.waitForNavigation(), page.click('form[action$="/return"] button[type=submit]')]);
    expect(await findCase(web.service.deps.db, back.id)).toMatchObject({ status: 'triage', triageReason: 'transfer_returned' });

    await page.goto(`${base}/inbox/cases/${taken.id}`);
    await Promise.all([page.waitForNavigation(), page.click('form[action$="/accept"] button[type=submit]')]);
    expect((await findCase(web.service.deps.db, taken.id))?.status).toBe('transferred');
    expect(await page.textContent('#nothing-to-do')).toBe('本单位已签收这件转办的非环境类诉求，请按本单位的流程办理；本系统不再跟踪它。');
    expect(await page.$('form[action$="/return"]')).toBeNull();
    // Signed for, it is handled on the hotline's own system: no longer open work, still found among the transferred.
    await page.goto(`${base}/inbox`);
    expect([await listed(back.id), await listed(taken.id)]).toEqual([false, false]);
    await page.goto(`${base}/inbox?status=transferred`);
    expect(await listed(taken.id)).toBe(true);
    await context.close();
  });

  it('says a unit that replied while the others still work on the case has nothing left to do, instead of an empty section', async () => {
    const seeded = await seedCase(web.service, web.clock, { text: '盐下村电镀厂排污（已答复测试）', assignments: [{ unit: 'epb', role: 'lead' }, { unit: 'econ', role: 'co' }] });
    const client = formClient(base, fromNewAddress());
    await client.signIn('epb');
    expect((await client.post(`/inbox/cases/${seeded.id}/accept`, { _csrf: await client.token(`/inbox/cases/${seeded.id}`) })).status).toBe(303);
    const form = new FormData();
    form.set('_csrf', await client.token(`/inbox/cases/${seeded.id}`));
    form.set('text', '经现场核查，已责令停产整改。');
    expect((await fetch(`${base}/inbox/cases/${seeded.id}/reply`, { method: 'POST', body: form, headers: { ...fromNewAddress(), cookie: [...client.jar].map(([k, v]) => `${k}=${v}`).join('; ') }, redirect: 'manual' })).status).toBe(303);
    // The co-handler has not replied: the case is still being handled, the lead has nothing left to do.
    expect((await findCase(web.service.deps.db, seeded.id))?.status).toBe('accepted');
    const html = await (await client.get(`/inbox/cases/${seeded.id}`)).text();
    expect(/<p class="notice" id="nothing-to-do">([^<]*)<\/p>/.exec(html)?.[1]).toBe('本单位已答复，在此案件上暂无待办事项。');
    const en = await (await client.get(`/inbox/cases/${seeded.id}?lang=en`)).text();
    expect(/<p class="notice" id="nothing-to-do">([^<]*)<\/p>/.exec(en)?.[1]).toBe('Your unit has replied: nothing more for it to do on this case now.');
  });

  it('keeps Chinese words of the list whole on a phone, the table scrolling sideways instead of one character a line', async () => {
    const seeded = await seedCase(web.service, web.clock, { text: '盐下村电镀厂排污（手机列表测试）', assignments: [{ unit: 'epb', role: 'lead' }] });
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await page.setViewportSize({ width: 375, height: 667 });
    await signIn(page, base, 'epb');
    const row = `tr[data-case="${caseReference(seeded.id)}"]`;
    // How many lines the text of a cell takes on the screen.
    const lines = async (cell: string) =>
      (await page.evaluate(`(() => {
        const range = document.createRange();
        range.selectNodeContents(document.querySelector('${row} td:nth-child(${cell})').firstChild);
        return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
      })()`)) as number;
    expect(await page.textContent(`${row} td:nth-child(3)`)).toBe('待签收');
    expect(await lines('3')).toBe(1);
    expect(await page.textContent(`${row} td:nth-child(4)`)).toBe('牵头 · 待签收');
    expect(await lines('4')).toBeLessThanOrEqual(2);
    // The page itself stays within the screen: the table scrolls in its own box.
    expect((await page.evaluate('document.documentElement.scrollWidth')) as number).toBeLessThanOrEqual(375);
    await context.close();
  });

  it('says which deadline of the unit the list shows: to sign for it, or to reply', async () => {
    const pending = await seedCase(web.service, web.clock, { text: '盐下村电镀厂偷排废水（签收期限列测试）', assignments: [{ unit: 'epb', role: 'lead' }] });
    const signed = await seedCase(web.service, web.clock, { text: '盐下村电镀厂偷排废水（答复期限列测试）', assignments: [{ unit: 'epb', role: 'lead' }] });
    expect(
      (await fetch(`${base}/api/v1/cases/${signed.id}/accept`, { method: 'POST', headers: { authorization: `Bearer ${web.staff.epb}` } })).status,
    ).toBe(200);
    const clerk = formClient(base, fromNewAddress());
    await clerk.signIn('epb');
    const cell = async (id: string, lang: string) => {
      const html = await (await clerk.get(`/inbox?lang=${lang}`)).text();
      const row = /<tr data-case="[^"]*"[\s\S]*?<\/tr>/.exec(html.slice(html.indexOf(`data-case="${caseReference(id)}"`) - 10))?.[0] ?? '';
      return [...row.matchAll(/<td>([\s\S]*?)<\/td>/g)].at(-1)?.[1] ?? '';
    };
    expect(await cell(pending.id, 'zh')).toMatch(/^签收 2026年/);
    expect(await cell(signed.id, 'zh')).toMatch(/^答复 2026年/);
    expect(await cell(pending.id, 'en')).toMatch(/^sign for by /);
    expect(await cell(signed.id, 'en')).toMatch(/^reply by /);
  });

  it('says in English that a case and an assignment wait to be signed for (待签收), on every staff page that shows it, not that they were dispatched', async () => {
    const seeded = await seedCase(web.service, web.clock, { text: '盐下村电镀厂偷排废水（待签收英文测试）', assignments: [{ unit: 'epb', role: 'lead' }] });
    const words = (html: string) => html.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ');
    const cells = (html: string, ref: string) => {
      const row = /<tr data-case="[^"]*"[\s\S]*?<\/tr>/.exec(html.slice(html.indexOf(`data-case="${ref}"`) - 10))?.[0] ?? '';
      return [...row.matchAll(/<td>([\s\S]*?)<\/td>/g)].map((m) => words(m[1]!).trim());
    };
    const clerk = formClient(base, fromNewAddress());
    await clerk.signIn('epb');
    const list = await (await clerk.get('/inbox?lang=en')).text();
    const [, , status, mine] = cells(list, caseReference(seeded.id));
    expect(status).toBe('awaiting sign-for');
    expect(mine).toBe('lead · awaiting sign-for');
    expect(/<option value="dispatched"[^>]*>([^<]*)<\/option>/.exec(list)?.[1]?.trim()).toBe('awaiting sign-for');
    expect(words(list)).not.toMatch(/\bdispatched\b/i);
    // The case page: its status, the unit's row, and the history's status change, as in Chinese (待签收).
    const page = await (await clerk.get(`/inbox/cases/${seeded.id}?lang=en`)).text();
    expect(words(/<dt>Status<\/dt>\s*<dd>([\s\S]*?)<\/dd>/.exec(page)?.[1] ?? '').trim()).toBe('awaiting sign-for');
    expect(words(/<ol class="timeline">([\s\S]*?)<\/ol>/.exec(page)?.[1] ?? '')).toContain('awaiting sign-for');
    expect(words(page)).not.toMatch(/\bdispatched\b/i);
    const zh = await (await clerk.get(`/inbox/cases/${seeded.id}?lang=zh`)).text();
    expect(words(/<dt>状态<\/dt>\s*<dd>([\s\S]*?)<\/dd>/.exec(zh)?.[1] ?? '').trim()).toBe('待签收');

    // The dispatcher's desk and its download say it so as well.
    const dispatcher = formClient(base, fromNewAddress());
    await dispatcher.signIn('dispatcher');
    const desk = await (await dispatcher.get(`/desk/cases/${seeded.id}?lang=en`)).text();
    expect(words(/<dt>Status<\/dt>\s*<dd>([\s\S]*?)<\/dd>/.exec(desk)?.[1] ?? '').trim()).toBe('awaiting sign-for');
    expect(words(desk)).toMatch(/lead awaiting sign-for/);
    expect(words(desk)).not.toMatch(/\bdispatched\b/i);
    const csv = await (await dispatcher.get('/desk/export/cases.csv?lang=en')).text();
    const line = csv.split('\n').find((l) => l.startsWith(seeded.trackingCode)) ?? '';
    expect(line).toContain('awaiting sign-for');
    expect(line).not.toMatch(/\bdispatched\b/);
  });

  it('sends a visitor without a session to sign in, and refuses other roles', async () => {
    const anonymous = await fetch(`${base}/inbox?status=all`, { redirect: 'manual', headers: { accept: 'text/html' } });
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get('location')).toBe('/signin?next=%2Finbox%3Fstatus%3Dall');
    const operator = formClient(base, fromNewAddress());
    await operator.signIn('operator');
    const res = await operator.get('/inbox');
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('无权访问');
  });

  it('keeps an open case in the list however many newer closed cases the unit has, and says when the list is cut short', async () => {
    const open = await seedCase(web.service, web.clock, { text: '盐下村电镀厂半夜排黑水，历史案件很多时也要看到', assignments: [{ unit: 'epb', role: 'lead' }] });
    const db = web.service.deps.db;
    const row = await db.selectFrom('cases').selectAll().where('id', '=', open.id).executeTakeFirstOrThrow();
    const assignment = await db.selectFrom('assignments').selectAll().where('case_id', '=', open.id).executeTakeFirstOrThrow();
    // 510 closed cases of the bureau, all received after the open one.
    for (let chunk = 0; chunk < 510; chunk += 85) {
      const ids = Array.from({ length: 85 }, () => newId());
      const receivedAt = (i: number) => new Date(Date.parse(row.received_at) + (chunk + i + 1) * 1000).toISOString();
      await db
        .insertInto('cases')
        .values(ids.map((id, i) => ({ ...row, id, tracking_code: `C${String(chunk + i).padStart(4, '0')}${open.trackingCode.slice(0, 4)}`, status: 'closed', received_at: receivedAt(i) })))
        .execute();
      await db
        .insertInto('assignments')
        .values(ids.map((id) => ({ ...assignment, id: `a-${id}`, case_id: id, status: 'replied' })))
        .execute();
    }
    const client = formClient(base, fromNewAddress());
    await client.signIn('epb');
    const inbox = await (await client.get('/inbox')).text();
    expect(inbox).toContain(caseReference(open.id));
    const all = await (await client.get('/inbox?status=all')).text();
    expect(all).toContain('只显示最新的 500 件');
    expect(all).not.toContain(caseReference(open.id));
  });
});
