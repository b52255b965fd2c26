import { beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../src/clock.js';
import { Queue } from 'bullmq';
import { appendEvents } from '../db/repositories/events.repository.js';
import { checkDeadlines } from '../src/workflow/deadline-check.js';
import { createPgDatabase, waitFor } from './harness.js';
import { ROLE_NAMED, ROLE_NAMED_NOT } from './role-name-fixtures.js';
import { client, json, notificationsOf, seedCase, startWorkflowService, submitReport, type Staff, type TestService } from './workflow-helpers.js';

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);

describe.each([
  ['SQLite', async () => ({})],
  ['PostgreSQL', async () => ({ DATABASE_URL: await createPgDatabase('wfbureau') })],
])('bureau work on %s', (_engine, dbEnv) => {
  let service: TestService;
  let clock: ManualClock;
  let staff: Staff;
  const as = (token: string | null) => client(service.url, token);

  beforeAll(async () => {
    ({ service, clock, staff } = await startWorkflowService('wfbureau', await dbEnv()));
  });

  it('refuses a NUL character in any text, body, query or path, with a 400 naming it and nothing written', async () => {
    const { id } = await seedCase(service, clock, { assignments: [{ unit: 'epb', role: 'lead' }] });
    // Signing for takes no body: a field sent with it is named, and nothing signed.
    const noted = await json(as(staff.epb).post(`/api/v1/cases/${id}/accept`, { note: '已签收' }));
    expect(noted.status).toBe(400);
    expect(noted.body.error.fields).toEqual({ note: 'unknown field' });
    expect((await service.deps.db.selectFrom('cases').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status).toBe('dispatched');
    expect((await as(staff.epb).post(`/api/v1/cases/${id}/accept`, {})).status).toBe(200);
    const before = (await service.deps.db.selectFrom('case_events').select('id').where('case_id', '=', id).execute()).length;
    // PostgreSQL cannot store the character and SQLite could: both refuse it alike, before any write.
    for (const [res, field] of [
      [await json(as(staff.epb).post(`/api/v1/cases/${id}/progress`, { note: '已到\u0000现场' })), 'note'],
      [await json(as(staff.epb).get('/api/v1/cases?cursor=ab%00cd')), 'cursor'],
      [await json(as(staff.epb).get(`/api/v1/cases/${id}%00`)), 'id'],
    ] as const) {
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.fields).toEqual({ [field]: 'must not contain NUL characters' });
    }
    expect((await service.deps.db.selectFrom('case_events').select('id').where('case_id', '=', id).execute()).length).toBe(before);
  });

  it('refuses a lone surrogate or bytes that are not UTF-8 alike on both databases, with a 400 naming the field and nothing written', async () => {
    const { id } = await seedCase(service, clock, { assignments: [{ unit: 'epb', role: 'lead' }] });
    expect((await as(staff.epb).post(`/api/v1/cases/${id}/accept`, {})).status).toBe(200);
    const events = async () => (await service.deps.db.selectFrom('case_events').select('id').where('case_id', '=', id).execute()).length;
    const before = await events();
    // Each database would keep a lone surrogate as a different number of U+FFFD; neither is asked to.
    const surrogate = await json(as(staff.epb).post(`/api/v1/cases/${id}/progress`, { note: '已到\ud800现场' }));
    expect(surrogate.status, JSON.stringify(surrogate.body)).toBe(400);
    expect(surrogate.body.error.fields).toEqual({ note: 'must be well-formed Unicode (found a lone surrogate)' });
    // GBK bytes sent as UTF-8: the JSON parses, each bad byte becomes U+FFFD, and the note is refused rather than kept garbled.
    const gbk = Buffer.concat([Buffer.from('{"note":"'), Buffer.from([0xd2, 0xd1, 0xb5, 0xbd]), Buffer.from('现场"}')]);
    const bytes = await json(
      fetch(`${service.url}/api/v1/cases/${id}/progress`, { method: 'POST', headers: { authorization: `Bearer ${staff.epb}`, 'content-type': 'application/json' }, body: gbk }),
    );
    expect(bytes.status, JSON.stringify(bytes.body)).toBe(400);
    expect(bytes.body.error.fields).toEqual({ note: 'must be UTF-8 text (found bytes that are not)' });
    expect(await events()).toBe(before);
    // Well-formed text beyond the Basic Multilingual Plane (a surrogate pair) is kept as it was sent.
    const ok = await json(as(staff.epb).post(`/api/v1/cases/${id}/progress`, { note: '已到现场𠀋，已取样' }));
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    const notes = await service.deps.db.selectFrom('case_events').select('note').where('case_id', '=', id).execute();
    expect(notes.map((n) => n.note)).toContain('已到现场𠀋，已取样');
  });

  describe('a case through the happy path', () => {
    it('dispatch → lead signs → co-handlers sign and reply → lead replies → replied with a rating window', async () => {
      const { id, trackingCode } = await submitReport(service, {
        text: '兴隆办事处盐下路边那个电镀厂晚上偷排废水，沟里全是黑水',
        name: '李四',
        phone: '13912345678',
      });
      const before = await json(as(staff.epb).get(`/api/v1/cases/${id}`));
      expect(before.status, JSON.stringify(before.body)).toBe(200);
      expect(before.body.assignments.map((a: any) => [a.bureau.code, a.role, a.status])).toEqual([
        ['epb', 'lead', 'pending'],
        ['econ', 'co', 'pending'],
        ['xinglong', 'jurisdiction', 'pending'],
      ]);
      expect(before.body.type).toMatchObject({ code: 'illegal_discharge', classifiedAs: 'illegal_discharge' });
      expect(before.body.type.evidence.length).toBeGreaterThan(0);

      clock.advance(3600_000);
      const signed = await json(as(staff.epb).post(`/api/v1/cases/${id}/accept`));
      expect(signed.status, JSON.stringify(signed.body)).toBe(200);
      expect(signed.body.status).toBe('accepted');
      expect(signed.body.assignments[0]).toMatchObject({ status: 'accepted', acceptedAt: clock.now().toISOString() });
      expect((await notificationsOf(service, id)).filter((n) => n.audience === 'reporter').map((n) => n.kind)).toEqual(['dispatched', 'accepted']);

      for (const co of [staff.econ, staff.xinglong]) {
        expect((await as(co).post(`/api/v1/cases/${id}/accept`)).status).toBe(200);
        const r = await json(as(co).post(`/api/v1/cases/${id}/reply`, { text: '已配合现场检查' }));
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        expect(r.body.status).toBe('accepted');
      }
      expect((await as(staff.epb).post(`/api/v1/cases/${id}/progress`, { note: '已派执法人员到现场', public: true })).status).toBe(200);
      // A co-handler that has replied has nothing under way: refused for that, not for a missing signature.
      const late = await json(as(staff.econ).post(`/api/v1/cases/${id}/progress`, { note: '补充说明' }));
      expect(late.status).toBe(409);
      expect(late.body.error.message).toBe('your assignment is replied: progress notes are for work under way');

      clock.advance(24 * 3600_000);
      const replyAt = clock.now();
      const replied = await json(as(staff.epb).post(`/api/v1/cases/${id}/reply`, { text: '经查属实，已责令停产整改并立案处罚。' }));
      expect(replied.status, JSON.stringify(replied.body)).toBe(200);
      expect(replied.body.status).toBe('replied');
      expect(replied.body.repliedAt).toBe(replyAt.toISOString());
      // The default rating window is 7 calendar days.
      expect(replied.body.deadlines.rateBy).toBe(new Date(replyAt.getTime() + 7 * 86_400_000).toISOString());
      expect(replied.body.assignments.map((a: any) => a.status)).toEqual(['replied', 'replied', 'replied']);

      const reporterNotes = (await notificationsOf(service, id)).filter((n) => n.audience === 'reporter');
      expect(reporterNotes.map((n) => n.kind)).toEqual(['dispatched', 'accepted', 'replied']);
      expect(reporterNotes[2]!.data).toMatchObject({ text: '经查属实，已责令停产整改并立案处罚。' });

      const events = replied.body.events as Array<{ kind: string; note: string | null; public: boolean; actor: { role: string | null } }>;
      const reply = events.find((e) => e.kind === 'reply' && e.public);
      expect(reply).toMatchObject({ note: '经查属实，已责令停产整改并立案处罚。', actor: { role: 'bureau' } });
      expect(events.filter((e) => e.kind === 'reply' && !e.public)).toHaveLength(2);
      expect(events.find((e) => e.kind === 'progress')).toMatchObject({ public: true, note: '已派执法人员到现场' });

      // A wake-up is set for the end of the rating window (the outbox relays it as a delayed job).
      const queue = new Queue('deadline', { connection: { url: service.deps.env.REDIS_URL }, prefix: service.deps.env.QUEUE_PREFIX });
      try {
        const job = await waitFor(() => queue.getJob(`deadline-${id}-${Date.parse(replied.body.deadlines.rateBy)}`), { what: 'the rating-window wake-up' });
        expect(job.data).toEqual({ caseId: id, at: replied.body.deadlines.rateBy });
      } finally {
        await queue.close();
      }
      const track = (await (await fetch(`${service.url}/api/v1/track/${trackingCode}`)).json()) as { status: string; deadlines: { rateBy: string } };
      expect(track.status).toBe('replied');
      expect(track.deadlines.rateBy).toBe(replied.body.deadlines.rateBy);
    });

    it('keeps the case accepted when the lead replies first, until the last co-handler replies', async () => {
      const { id } = await seedCase(service, clock);
      for (const t of [staff.epb, staff.econ, staff.xinglong]) expect((await as(t).post(`/api/v1/cases/${id}/accept`)).status).toBe(200);
      expect((await json(as(staff.epb).post(`/api/v1/cases/${id}/reply`, { text: '已处理' }))).body.status).toBe('accepted');
      expect((await json(as(staff.econ).post(`/api/v1/cases/${id}/reply`, { text: '已配合' }))).body.status).toBe('accepted');
      const last = await json(as(staff.xinglong).post(`/api/v1/cases/${id}/reply`, { text: '属地已核实' }));
      expect(last.body.status).toBe('replied');
      expect(last.body.deadlines.rateBy).not.toBeNull();
      const rateCheck = await service.deps.db
        .selectFrom('case_events')
        .select('id')
        .where('case_id', '=', id)
        .where('kind', '=', 'status')
        .where('to_status', '=', 'replied')
        .execute();
      expect(rateCheck).toHaveLength(1);
    });

    it('lets a co-handler signing leave the case status alone', async () => {
      const { id } = await seedCase(service, clock);
      const r = await json(as(staff.econ).post(`/api/v1/cases/${id}/accept`));
      expect(r.body.status).toBe('dispatched');
      expect(r.body.assignments.find((a: any) => a.bureau.code === 'econ').status).toBe('accepted');
      expect((await notificationsOf(service, id)).filter((n) => n.kind === 'accepted')).toHaveLength(0);
    });
  });

  describe('a reply with attachments', () => {
    it('takes images and PDFs as multipart, checks them by content, and serves them to the case staff', async () => {
      const { id } = await seedCase(service, clock);
      await as(staff.epb).post(`/api/v1/cases/${id}/accept`);
      const pdf = new TextEncoder().encode('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n');
      const post = (form: FormData) => fetch(`${service.url}/api/v1/cases/${id}/reply`, { method: 'POST', headers: { authorization: `Bearer ${staff.epb}` }, body: form });

      const bad = new FormData();
      bad.append('text', '处理结果见附件');
      bad.append('attachments', new File(['just text'], 'a.png', { type: 'image/png' }));
      const rejected = await json(post(bad));
      expect(rejected.status).toBe(400);
      expect(rejected.body.error.fields).toHaveProperty('attachments');
      expect((await json(as(staff.epb).post(`/api/v1/cases/${id}/reply`, { text: 'x', attachments: ['a'] }))).status).toBe(400);
      // Files under the report API's field name are named, not dropped while the reply goes through without them.
      const misnamed = new FormData();
      misnamed.append('text', '处理结果见照片');
      misnamed.append('photos', new File([PNG], 'site.png', { type: 'image/png' }));
      const refused = await json(post(misnamed));
      expect(refused.status).toBe(400);
      expect(refused.body.error.fields).toEqual({ photos: 'unknown field' });
      expect((await json(as(staff.epb).post(`/api/v1/cases/${id}/reply`, { text: 'x', note: 'y' }))).body.error.fields).toEqual({ note: 'unknown field' });
      // A body of another type is not read as an empty reply.
      const urlencoded = await json(
        fetch(`${service.url}/api/v1/cases/${id}/reply`, {
          method: 'POST',
          headers: { authorization: `Bearer ${staff.epb}`, 'content-type': 'application/x-www-form-urlencoded' },
          body: 'text=%E5%B7%B2%E5%A4%84%E7%90%86',
        }),
      );
      expect(urlencoded.status).toBe(415);
      expect(urlencoded.body.error.fields).toEqual({ 'content-type': 'not accepted: application/x-www-form-urlencoded' });

      const form = new FormData();
      form.append('text', '处理结果见附件');
      form.append('attachments', new File([PNG], 'site.png', { type: 'image/png' }));
      form.append('attachments', new File([pdf], 'decision.pdf', { type: 'application/pdf' }));
      const r = await json(post(form));
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.photos).toEqual([]);
      expect(r.body.replyAttachments.map((a: any) => a.mime).sort()).toEqual(['application/pdf', 'image/png']);
      const reply = r.body.events.find((e: any) => e.kind === 'reply');
      expect(reply.data.attachments).toHaveLength(2);
      const pdfId = r.body.replyAttachments.find((a: any) => a.mime === 'application/pdf').id;
      const res = await as(staff.dispatcher).get(`/api/v1/cases/${id}/photos/${pdfId}`);
      expect(res.status).toBe(200);
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(pdf);
      expect((await as(staff.agri).get(`/api/v1/cases/${id}/photos/${pdfId}`)).status).toBe(404);
    });
  });

  describe('the names of reply attachments', () => {
    it('keeps the name a bureau gave each file, without its path or control characters and cut to length, for the case staff only', async () => {
      const { id, trackingCode } = await seedCase(service, clock, {
        assignments: [{ unit: 'epb', role: 'lead' }],
        photo: { bytes: PNG, mime: 'image/png' },
      });
      expect((await as(staff.epb).post(`/api/v1/cases/${id}/accept`)).status).toBe(200);
      const pdf = new TextEncoder().encode('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n');
      const long = `${'现场检查记录'.repeat(30)}.pdf`;
      const form = new FormData();
      form.append('text', '处理结果见附件');
      // A client may send a whole path; a name may hold a direction mark that makes it read backwards.
      form.append('attachments', new File([pdf], 'D:\\扫描件\\整改通知书（幸福路12号王大妈家）.pdf', { type: 'application/pdf' }));
      form.append('attachments', new File([PNG], '现场\u202egnp.exe', { type: 'image/png' }));
      form.append('attachments', new File([pdf], long, { type: 'application/pdf' }));
      const r = await json(fetch(`${service.url}/api/v1/cases/${id}/reply`, { method: 'POST', headers: { authorization: `Bearer ${staff.epb}` }, body: form }));
      expect(r.status, JSON.stringify(r.body)).toBe(200);

      const rows = await service.deps.db.selectFrom('case_attachments').select(['kind', 'original_name']).where('case_id', '=', id).orderBy('original_name').execute();
      const kept = rows.filter((f) => f.kind === 'reply').map((f) => f.original_name);
      const cut = kept.find((n) => n!.startsWith('现场检查记录'))!;
      expect([...cut]).toHaveLength(120);
      expect(cut.endsWith('….pdf')).toBe(true);
      expect(kept.filter((n) => n !== cut).sort()).toEqual(['整改通知书（幸福路12号王大妈家）.pdf', '现场 gnp.exe'].sort());
      // The reporter's photo keeps no name.
      expect(rows.filter((f) => f.kind === 'photo').map((f) => f.original_name)).toEqual([null]);

      // The case staff read the names: the bureau that attached them and the dispatcher.
      for (const token of [staff.epb, staff.dispatcher]) {
        const view = await json(as(token).get(`/api/v1/cases/${id}`));
        expect(view.body.replyAttachments.map((f: any) => f.name).sort()).toEqual([...kept].sort());
      }
      // The public never does: a bureau's file name may hold the reporter's name or address.
      const track = await json(fetch(`${service.url}/api/v1/track/${trackingCode}`));
      expect(track.status).toBe(200);
      expect(track.body.reply.text).toBe('处理结果见附件');
      const page = await (await fetch(`${service.url}/track/${trackingCode}`)).text();
      expect(page).toContain('处理结果见附件');
      for (const seen of [JSON.stringify(track.body), page]) {
        for (const part of ['整改通知书', '王大妈', 'gnp', '现场检查记录']) expect(seen).not.toContain(part);
      }
    });

    it("masks in a file's name the reporter's name a bureau may not read, as in their words", async () => {
      const { id } = await seedCase(service, clock, {
        assignments: [{ unit: 'epb', role: 'lead' }],
        contact: { name: '孙海涛', phone: '13912340901', share: false },
      });
      expect((await as(staff.epb).post(`/api/v1/cases/${id}/accept`)).status).toBe(200);
      const form = new FormData();
      form.append('text', '处理结果见附件');
      form.append('attachments', new File([PNG], '孙海涛家门口排污口.png', { type: 'image/png' }));
      const r = await json(fetch(`${service.url}/api/v1/cases/${id}/reply`, { method: 'POST', headers: { authorization: `Bearer ${staff.epb}` }, body: form }));
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.replyAttachments.map((f: any) => f.name)).toEqual(['孙**家门口排污口.png']);
      expect((await json(as(staff.dispatcher).get(`/api/v1/cases/${id}`))).body.replyAttachments.map((f: any) => f.name)).toEqual(['孙海涛家门口排污口.png']);
    });
  });

  describe('a reply as clients other than browsers write multipart', () => {
    it("takes parameters given as bare tokens and a file's name given as filename* (as .NET's HttpClient sends them), keeping that name", async () => {
      const { id } = await seedCase(service, clock, { assignments: [{ unit: 'epb', role: 'lead' }] });
      expect((await as(staff.epb).post(`/api/v1/cases/${id}/accept`)).status).toBe(200);
      const boundary = '----bureau-system-7d1';
      const part = (disposition: string, type: string, bytes: Uint8Array) => [
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; ${disposition}\r\nContent-Type: ${type}\r\n\r\n`),
        Buffer.from(bytes),
        Buffer.from('\r\n'),
      ];
      const pdf = new TextEncoder().encode('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n');
      const body = Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name=text\r\n\r\n已现场核查，见附件。\r\n`),
        // .NET writes both: an encoded word in filename and the name itself in filename*.
        ...part(`name=attachments; filename="=?utf-8?B?5pW05pS56YCa55+l5LmmLnBkZg==?="; filename*=utf-8''${encodeURIComponent('整改通知书.pdf')}`, 'application/pdf', pdf),
        ...part(`name=attachments; filename=site.png; filename*=utf-8''site.png`, 'image/png', PNG),
        ...part(`name="attachments"; filename*=UTF-8''${encodeURIComponent('现场 "照片".png')}`, 'image/png', PNG),
        Buffer.from(`--${boundary}--\r\n`),
      ]);
      const r = await json(
        fetch(`${service.url}/api/v1/cases/${id}/reply`, {
          method: 'POST',
          headers: { authorization: `Bearer ${staff.epb}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
          body,
        }),
      );
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.status).toBe('replied');
      expect(r.body.replyAttachments.map((f: any) => [f.name, f.mime]).sort()).toEqual([
        ['site.png', 'image/png'],
        ['整改通知书.pdf', 'application/pdf'],
        ['现场 "照片".png', 'image/png'],
      ]);
      // The files themselves are stored as sent.
      const pdfId = r.body.replyAttachments.find((f: any) => f.mime === 'application/pdf').id;
      expect(new Uint8Array(await (await as(staff.epb).get(`/api/v1/cases/${id}/photos/${pdfId}`)).arrayBuffer())).toEqual(pdf);
    });
  });

  describe('illegal moves are 409', () => {
    it('refuses a reply before signing, a second signature, and any action on a closed case', async () => {
      const { id } = await seedCase(service, clock);
      const early = await json(as(staff.epb).post(`/api/v1/cases/${id}/reply`, { text: '已处理' }));
      expect(early.status).toBe(409);
      expect(early.body.error.code).toBe('illegal_transition');
      // Asked for in Chinese, the same refusal is said in Chinese, its code the same.
      const zh = await fetch(`${service.url}/api/v1/cases/${id}/reply`, {
        method: 'POST',
        headers: { authorization: `Bearer ${staff.epb}`, 'content-type': 'application/json', 'accept-language': 'zh-CN,zh;q=0.9,en;q=0.8' },
        body: JSON.stringify({ text: '已处理' }),
      });
      const zhBody = (await zh.json()) as { error: { code: string; message: string } };
      expect(zhBody.error.code).toBe('illegal_transition');
      expect(zhBody.error.message).toMatch(/\p{Script=Han}/u);
      expect(zhBody.error.message).not.toMatch(/[a-z]{4,}/);
      expect((await as(staff.epb).post(`/api/v1/cases/${id}/accept`)).status).toBe(200);
      const twice = await json(as(staff.epb2).post(`/api/v1/cases/${id}/accept`));
      expect(twice.status).toBe(409);
      expect(twice.body.error.code).toBe('illegal_transition');

      await service.deps.db.updateTable('cases').set({ status: 'closed', closed_at: clock.now().toISOString(), close_reason: 'rated' }).where('id', '=', id).execute();
      for (const [path, body] of [
        ['reply', { text: 'x' }],
        ['progress', { note: 'x' }],
        ['return', { reason: 'not_our_remit', note: 'x' }],
        ['extend', { workingDays: 3, reason: 'x' }],
      ] as const) {
        const r = await json(as(staff.epb).post(`/api/v1/cases/${id}/${path}`, body));
        expect(r.status, path).toBe(409);
      }
      expect((await as(staff.econ).post(`/api/v1/cases/${id}/accept`)).status).toBe(409);
    });

    it('validates the return reason and note, the reply text and the extension days', async () => {
      const { id } = await seedCase(service, clock);
      const bad = await json(as(staff.epb).post(`/api/v1/cases/${id}/return`, { reason: 'lazy', note: '' }));
      expect(bad.status).toBe(400);
      expect(Object.keys(bad.body.error.fields).sort()).toEqual(['note', 'reason']);
      expect((await as(staff.epb).post(`/api/v1/cases/${id}/return`, { reason: 'not_our_remit' })).status).toBe(400);
      expect((await as(staff.epb).post(`/api/v1/cases/${id}/reply`, { text: '   ' })).status).toBe(400);
      expect((await as(staff.epb).post(`/api/v1/cases/${id}/extend`, { workingDays: 31, reason: '需要检测' })).status).toBe(400);
      expect((await as(staff.epb).post(`/api/v1/cases/${id}/extend`, { workingDays: 0, reason: '需要检测' })).status).toBe(400);
    });

    it('names a field it does not know instead of acting without it: a misspelt public flag, a misnamed day count', async () => {
      const { id } = await seedCase(service, clock, { assignments: [{ unit: 'epb', role: 'lead' }] });
      const before = (await json(as(staff.epb).get(`/api/v1/cases/${id}`))).body.events.length;
      const returned = await json(as(staff.epb).post(`/api/v1/cases/${id}/return`, { reason: 'not_our_remit', note: '不归我局', notes: '应由农业委办理' }));
      expect(returned.status).toBe(400);
      expect(Object.keys(returned.body.error.fields)).toEqual(['notes']);
      const extend = await json(as(staff.epb).post(`/api/v1/cases/${id}/extend`, { workingDays: 3, days: 10, reason: '需要检测' }));
      expect(extend.status).toBe(400);
      expect(Object.keys(extend.body.error.fields)).toEqual(['days']);
      expect((await as(staff.epb).post(`/api/v1/cases/${id}/accept`)).status).toBe(200);
      const progress = await json(as(staff.epb).post(`/api/v1/cases/${id}/progress`, { note: '已派执法人员到现场', publc: true }));
      expect(progress.status).toBe(400);
      expect(Object.keys(progress.body.error.fields)).toEqual(['publc']);
      const events = (await json(as(staff.epb).get(`/api/v1/cases/${id}`))).body.events as Array<{ kind: string }>;
      // Only the signature went through.
      expect(events.length).toBe(before + 1);
      expect(events.map((e) => e.kind)).not.toContain('progress');
      expect(events.map((e) => e.kind)).not.toContain('extension_requested');
    });
  });

  describe('returns (退回)', () => {
    it("sends the case to triage when the lead returns it, and tells the dispatchers", async () => {
      const { id } = await seedCase(service, clock);
      const r = await json(as(staff.epb).post(`/api/v1/cases/${id}/return`, { reason: 'wrong_jurisdiction', note: '地点不在本辖区' }));
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      // The unit that returned it keeps its own record only: the case is no longer its to read.
      expect(r.body).toMatchObject({ status: 'triage', access: 'withdrawn', text: null });
      expect((await json(as(staff.dispatcher).get(`/api/v1/cases/${id}`))).body).toMatchObject({ status: 'triage', triageReason: 'returned' });
      expect(r.body.assignments[0]).toMatchObject({ status: 'returned', returnReason: 'wrong_jurisdiction' });
      const ev = r.body.events.at(-1);
      expect(ev).toMatchObject({ kind: 'status', fromStatus: 'dispatched', toStatus: 'triage', actor: { role: 'bureau' } });
      expect(ev.data).toMatchObject({ reason: 'wrong_jurisdiction', note: '地点不在本辖区' });
      expect((await notificationsOf(service, id)).find((n) => n.kind === 'returned')).toMatchObject({ audience: 'dispatchers' });
      // Returned: nothing more to do for the lead.
      expect((await as(staff.epb).post(`/api/v1/cases/${id}/accept`)).status).toBe(409);
    });

    it("leaves the case where it is when a co-handler returns its part", async () => {
      const { id } = await seedCase(service, clock);
      const r = await json(as(staff.econ).post(`/api/v1/cases/${id}/return`, { reason: 'not_our_remit', note: '不属于经信委职责' }));
      expect(r.status).toBe(200);
      expect(r.body.status).toBe('dispatched');
      expect(r.body.assignments.find((a: any) => a.bureau.code === 'econ').status).toBe('returned');
      expect(r.body.events.at(-1)).toMatchObject({ kind: 'returned' });
      expect((await notificationsOf(service, id)).find((n) => n.kind === 'returned')).toMatchObject({ audience: 'dispatchers' });

      // The others reply: the case waits for the dispatcher to release the unit that returned its part.
      for (const unit of [staff.xinglong, staff.epb]) {
        expect((await as(unit).post(`/api/v1/cases/${id}/accept`)).status).toBe(200);
        expect((await as(unit).post(`/api/v1/cases/${id}/reply`, { text: '已到现场核查并处理。' })).status).toBe(200);
      }
      expect((await json(as(staff.dispatcher).get(`/api/v1/cases/${id}`))).body.status).toBe('accepted');
      const released = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/release`, { unit: 'econ', reason: '不属于经信委职责' }));
      expect(released.status, JSON.stringify(released.body)).toBe(200);
      expect((await json(as(staff.dispatcher).get(`/api/v1/cases/${id}`))).body.status).toBe('replied');
    });
  });

  describe('what a bureau sees', () => {
    it('hides the reporter from a bureau unless shared, and masks phones in the text', async () => {
      const hidden = await seedCase(service, clock, { contact: { name: '王大妈', phone: '13800001111', share: false } });
      const d = await json(as(staff.dispatcher).get(`/api/v1/cases/${hidden.id}`));
      expect(d.body.reporter).toEqual({ name: '王大妈', phone: '13800001111' });
      expect(d.body.text).toContain('13912345678');
      expect((await json(as(staff.operator).get(`/api/v1/cases/${hidden.id}`))).body.reporter).toEqual({ name: '王大妈', phone: '13800001111' });
      const b = await json(as(staff.epb).get(`/api/v1/cases/${hidden.id}`));
      expect(b.body.reporter).toBeNull();
      expect(b.body.text).toContain('139****5678');
      expect(JSON.stringify(b.body)).not.toContain('13912345678');
      expect(JSON.stringify(b.body)).not.toContain('王大妈');

      // Nor where the reporter's own words name them or give their number in full-width digits.
      const named = await seedCase(service, clock, {
        text: '我叫王大妈，电话１３８００００１１１１。兴隆办事处那边的厂子晚上偷排废水，王大妈家门口的沟都黑了',
        contact: { name: '王大妈', phone: '13800001111', share: false },
      });
      const nb = await json(as(staff.epb).get(`/api/v1/cases/${named.id}`));
      expect(nb.body.text).toBe('我叫王**，电话138****1111。兴隆办事处那边的厂子晚上偷排废水，王**家门口的沟都黑了');
      expect(JSON.stringify(nb.body)).not.toContain('王大妈');
      expect((await json(as(staff.dispatcher).get(`/api/v1/cases/${named.id}`))).body.text).toContain('我叫王大妈');

      const shared = await seedCase(service, clock, { contact: { name: '王大妈', phone: '13800001111', share: true } });
      expect((await json(as(staff.epb).get(`/api/v1/cases/${shared.id}`))).body.reporter).toEqual({ name: '王大妈', phone: '13800001111' });
      const anon = await seedCase(service, clock, { anonymous: true, contact: { name: '王大妈', phone: '13800001111', share: true } });
      expect((await json(as(staff.epb).get(`/api/v1/cases/${anon.id}`))).body.reporter).toBeNull();
      expect((await json(as(staff.dispatcher).get(`/api/v1/cases/${anon.id}`))).body.reporter).toEqual({ name: '王大妈', phone: '13800001111' });
    });

    it("masks the reporter's own number wherever the words give it, also after a unit's name and without its area code", async () => {
      // The contact fields' landline is the reporter's, though the words make it look like a school's published number.
      const c = await seedCase(service, clock, {
        text: '兴隆办事处盐下村电镀厂晚上偷排废水。我是学校老师，学校电话0731-88886666，家里88886666也可以',
        contact: { name: '周老师', phone: '0731-88886666', share: false },
      });
      const b = await json(as(staff.epb).get(`/api/v1/cases/${c.id}`));
      expect(b.body.text).toBe('兴隆办事处盐下村电镀厂晚上偷排废水。我是学校老师，学校电话0731****6666，家里****6666也可以');
      const listed = await json(as(staff.epb).get('/api/v1/cases?limit=100'));
      const seen = JSON.stringify([b.body, listed.body]);
      expect(seen).not.toMatch(/8888[-\s]?6666/);
      // A unit's published number the reporter quotes is still shown as written.
      const unit = await seedCase(service, clock, {
        text: '兴隆办事处盐下村电镀厂偷排废水，打了学校电话0731-77776666没人管',
        contact: { name: '周老师', phone: '0731-88886666', share: false },
      });
      expect((await json(as(staff.epb).get(`/api/v1/cases/${unit.id}`))).body.text).toContain('学校电话0731-77776666');
    });

    it('lists its cases with the excerpt masked before it is cut: no phone cut short of its rule, no reporter name', async () => {
      // A phone number that starts 8 characters before the cut: cut first, its 8 digits escaped the phone rule.
      const head = `孙海涛提到：${'兴隆办事处盐下村电镀厂晚上偷排废水，'.repeat(3)}沟里全是黑水。联系电话：`;
      expect([...head]).toHaveLength(72);
      const { id } = await seedCase(service, clock, {
        text: `${head}13912345001。`,
        assignments: [{ unit: 'agri', role: 'lead' }],
        contact: { name: '孙海涛', phone: '13912345001', share: false },
      });
      const list = await json(as(staff.agri).get('/api/v1/cases?limit=100'));
      expect(list.status, JSON.stringify(list.body)).toBe(200);
      const excerpt = list.body.items.find((i: any) => i.id === id).excerpt as string;
      expect(excerpt).toBe(`孙**${head.slice(3)}139****5`);
      expect(excerpt).not.toContain('13912345');
      // Staff who may read the reporter's contact see the words as written.
      const all = await json(as(staff.dispatcher).get('/api/v1/cases?limit=100&unit=agri'));
      expect(all.body.items.find((i: any) => i.id === id).excerpt).toBe(`${head}13912345`);
      // A reporter who agreed to share is not masked by name (the phone still is).
      const shared = await seedCase(service, clock, {
        text: `${head}13912345001。`,
        assignments: [{ unit: 'agri', role: 'lead' }],
        contact: { name: '孙海涛', phone: '13912345001', share: true },
      });
      const again = await json(as(staff.agri).get('/api/v1/cases?limit=100'));
      expect(again.body.items.find((i: any) => i.id === shared.id).excerpt).toBe(`${head}139****5`);
    });

    it("masks the reporter in the classifier's evidence, the extracted place and the other units' replies", async () => {
      const { id } = await seedCase(service, clock, { contact: { name: '黄志强', phone: '13912342502', share: false } });
      const db = service.deps.db;
      // What the intake worker keeps: the evidence phrases and the place are the reporter's own words.
      const evidence = [
        { phrase: '13912342502', weight: 0.4, source: 'model' },
        { phrase: '黄志强家门口', weight: 0.2, source: 'model' },
        { phrase: '偷排废水', weight: 2.1, source: 'rule' },
      ];
      await db
        .updateTable('cases')
        .set({ classification: JSON.stringify({ type: 'illegal_discharge', confidence: 0.91, runnerUp: null, evidence, engine: 'linear@1' }) })
        .where('id', '=', id)
        .execute();
      await appendEvents(db, [
        { caseId: id, at: clock.now().toISOString(), kind: 'classified', data: { type: 'illegal_discharge', place: '回龙村的村民黄志强', evidence } },
      ]);
      // The lead's reply names the reporter; a co-handler reads the case.
      expect((await as(staff.epb).post(`/api/v1/cases/${id}/accept`)).status).toBe(200);
      const replied = await as(staff.epb).post(`/api/v1/cases/${id}/reply`, { text: '已电话联系举报人黄志强（13912342502）核实，电镀厂已停产整改。联系人：李科长' });
      expect(replied.status).toBe(200);

      for (const token of [staff.econ, staff.epb]) {
        const b = await json(as(token).get(`/api/v1/cases/${id}`));
        expect(b.status).toBe(200);
        expect(b.body.type.evidence.map((e: any) => e.phrase)).toEqual(['139****2502', '黄**家门口', '偷排废水']);
        // The official the reply names by surname and title is no name of the reporter's.
        expect(b.body.assignments.find((a: any) => a.role === 'lead').reply).toBe('已电话联系举报人黄**（139****2502）核实，电镀厂已停产整改。联系人：李科长');
        const classified = b.body.events.find((e: any) => e.kind === 'classified' && e.data.place);
        expect(classified.data.place).toBe('回龙村的村民黄**');
        expect(JSON.stringify(b.body)).not.toContain('黄志强');
        expect(JSON.stringify(b.body)).not.toContain('13912342502');
      }
      const d = await json(as(staff.dispatcher).get(`/api/v1/cases/${id}`));
      expect(d.body.type.evidence[0].phrase).toBe('13912342502');
      expect(d.body.assignments.find((a: any) => a.role === 'lead').reply).toContain('黄志强（13912342502）');
    });

    it("sees no character of the reporter's masked name as the classifier's evidence", async () => {
      const { id } = await seedCase(service, clock, {
        text: '我叫陈建国，永济亭办事处有人在河边焚烧垃圾，烟很大。建筑工地也在烧',
        contact: { name: '陈建国', phone: '13312345678', share: false },
        assignments: [{ unit: 'epb', role: 'lead' }],
      });
      // The trained model may weigh single characters: 建 of the name, and 国 found nowhere else in the words.
      const evidence = [
        { phrase: '国', weight: 0.3, source: 'model', start: 4, end: 5 },
        { phrase: '建', weight: 0.2, source: 'model', start: 3, end: 4 },
        { phrase: '焚烧垃圾', weight: 2.0, source: 'rule' },
      ];
      const db = service.deps.db;
      await db.updateTable('cases').set({ classification: JSON.stringify({ type: 'waste_burning', confidence: 0.9, runnerUp: null, evidence, engine: 'linear@1' }) }).where('id', '=', id).execute();
      await appendEvents(db, [{ caseId: id, at: clock.now().toISOString(), kind: 'classified', data: { type: 'waste_burning', evidence } }]);
      const b = await json(as(staff.epb).get(`/api/v1/cases/${id}`));
      expect(b.status).toBe(200);
      expect(b.body.text).toContain('我叫陈**');
      // 国 shows nowhere in the masked words: masked; 建 still shows in 建筑: nothing to hide.
      expect(b.body.type.evidence.map((e: any) => e.phrase)).toEqual(['*', '建', '焚烧垃圾']);
      const classified = b.body.events.find((e: any) => e.kind === 'classified' && e.data.evidence?.length === 3);
      expect(classified.data.evidence.map((e: any) => e.phrase)).toEqual(['*', '建', '焚烧垃圾']);
      const d = await json(as(staff.dispatcher).get(`/api/v1/cases/${id}`));
      expect(d.body.type.evidence.map((e: any) => e.phrase)).toEqual(['国', '建', '焚烧垃圾']);
    });

    it("reads the classifier's numbers as they are, though one prints with 15 digits in a row as an old ID number would", async () => {
      // Masking reads text: a confidence is no ID or phone number, and masking part of it broke the whole view (500).
      const confidence = 0.254826880320606;
      const { id } = await seedCase(service, clock, { confidence, assignments: [{ unit: 'epb', role: 'lead' }] });
      const b = await json(as(staff.epb).get(`/api/v1/cases/${id}`));
      expect(b.status, JSON.stringify(b.body)).toBe(200);
      expect(b.body.events.find((e: any) => e.kind === 'classified').data).toEqual({ type: 'illegal_discharge', confidence });
      // The reporter's phone in the same view stays masked: strings are masked one by one.
      expect(JSON.stringify(b.body)).not.toContain('13912345678');
    });

    it('sees no name, not even its surname, the anonymous reporter gave themself, in the words or the place the pipeline extracted', async () => {
      const { id } = await submitReport(service, { text: '我是回龙村的村民黄志强，村里养猪场的粪水直接排到稻田里，臭得不行', anonymous: true });
      const d = await json(as(staff.dispatcher).get(`/api/v1/cases/${id}`));
      expect(d.body.anonymous).toBe(true);
      expect(d.body.events.find((e: any) => e.kind === 'classified').data.place).toBe('回龙村的村民**');
      const lead = d.body.assignments.find((a: any) => a.role === 'lead').bureau.code as keyof Staff;
      const b = await json(as(staff[lead]).get(`/api/v1/cases/${id}`));
      expect(b.status).toBe(200);
      expect(b.body.text).toContain('我是回龙村的村民**，');
      expect(JSON.stringify(b.body)).not.toMatch(/黄志强|黄\*/);
    });

    it('reads without its surname the name of a reporter anonymous by their words, in the words and in what staff wrote', async () => {
      // Kept as written for dispatchers (the form's box was not ticked); the bureau reads it masked.
      const { id } = await seedCase(service, clock, {
        text: '我叫邝建国，电镀厂晚上偷排废水，不要透露我的名字',
        contact: { name: '邝建国', phone: '13312345679', share: true },
        anonymous: true,
        assignments: [{ unit: 'epb', role: 'lead' }],
      });
      expect((await as(staff.epb).post(`/api/v1/cases/${id}/accept`)).status).toBe(200);
      expect((await as(staff.epb).post(`/api/v1/cases/${id}/reply`, { text: '邝先生您好，已联系邝建国核实，电镀厂已停产。' })).status).toBe(200);
      const b = await json(as(staff.epb).get(`/api/v1/cases/${id}`));
      expect(b.status, JSON.stringify(b.body)).toBe(200);
      expect(b.body.text).toBe('我叫**，电镀厂晚上偷排废水，不要透露我的名字');
      expect(b.body.assignments[0].reply).toBe('**先生您好，已联系**核实，电镀厂已停产。');
      expect(JSON.stringify(b.body)).not.toContain('邝');
    });

    it('serves the photos of its cases, and 404 for another unit', async () => {
      const { id, photoId } = await seedCase(service, clock, { photo: { bytes: PNG, mime: 'image/png' } });
      const view = await json(as(staff.epb).get(`/api/v1/cases/${id}`));
      expect(view.body.photos).toEqual([{ id: photoId, mime: 'image/png', size: PNG.byteLength }]);
      const res = await as(staff.xinglong).get(`/api/v1/cases/${id}/photos/${photoId}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/png');
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(PNG);
      expect((await as(staff.agri).get(`/api/v1/cases/${id}/photos/${photoId}`)).status).toBe(404);
      expect((await as(staff.epb).get(`/api/v1/cases/${id}/photos/nope`)).status).toBe(404);
    });

    it('lists only its own cases, newest first, with filters and pages', async () => {
      const mine: string[] = [];
      for (let i = 0; i < 3; i++) {
        clock.advance(60_000);
        mine.push((await seedCase(service, clock, { assignments: [{ unit: 'police', role: 'lead' }], jurisdiction: null, type: 'hazardous_waste' })).id);
      }
      clock.advance(60_000);
      const notMine = (await seedCase(service, clock)).id;
      const all = await json(as(staff.police).get('/api/v1/cases?limit=100'));
      expect(all.status).toBe(200);
      const ids = all.body.items.map((i: any) => i.id);
      expect(ids.slice(0, 3)).toEqual([...mine].reverse());
      expect(ids).not.toContain(notMine);
      expect(all.body.items[0].myAssignment).toMatchObject({ role: 'lead', status: 'pending' });

      const p1 = await json(as(staff.police).get('/api/v1/cases?limit=2'));
      expect(p1.body.items.map((i: any) => i.id)).toEqual([mine[2], mine[1]]);
      expect(p1.body.nextCursor).toEqual(expect.any(String));
      const p2 = await json(as(staff.police).get(`/api/v1/cases?limit=2&cursor=${p1.body.nextCursor}`));
      expect(p2.body.items[0].id).toBe(mine[0]);
      const page2 = await json(as(staff.police).get('/api/v1/cases?limit=2&page=2'));
      expect(page2.body.items[0].id).toBe(mine[0]);

      await as(staff.police).post(`/api/v1/cases/${mine[0]}/accept`);
      const accepted = await json(as(staff.police).get('/api/v1/cases?status=accepted'));
      expect(accepted.body.items.map((i: any) => i.id)).toEqual([mine[0]]);
      const typed = await json(as(staff.dispatcher).get('/api/v1/cases?type=hazardous_waste&unit=police&limit=100'));
      expect(typed.body.items.map((i: any) => i.id).slice(0, 3)).toEqual([...mine].reverse());
      expect(typed.body.items[0].myAssignment).toBeNull();
      const since = encodeURIComponent(new Date(clock.now().getTime() - 150_000).toISOString());
      const recent = await json(as(staff.police).get(`/api/v1/cases?receivedFrom=${since}`));
      expect(recent.body.items.map((i: any) => i.id)).toEqual([mine[2], mine[1]]);
      // The same instant with its offset written without a colon (+0800, as %z writes it).
      const basic = encodeURIComponent(new Date(clock.now().getTime() - 150_000 + 8 * 3600_000).toISOString().replace('Z', '+0800'));
      expect((await json(as(staff.police).get(`/api/v1/cases?receivedFrom=${basic}`))).body.items.map((i: any) => i.id)).toEqual([mine[2], mine[1]]);
      // And with its + left unescaped, which a query string reads as a space.
      const unescaped = new Date(clock.now().getTime() - 150_000 + 8 * 3600_000).toISOString().replace('Z', '+08:00');
      expect((await json(as(staff.police).get(`/api/v1/cases?receivedFrom=${unescaped}`))).body.items.map((i: any) => i.id)).toEqual([mine[2], mine[1]]);
      // As RFC 3339 lets it be written too: a lower-case t and z, a space for the T (with the + read as a space as well).
      for (const other of [encodeURIComponent(decodeURIComponent(since).toLowerCase()), encodeURIComponent(decodeURIComponent(since).replace('T', ' ')), unescaped.replace('T', '%20')]) {
        const listed = await json(as(staff.police).get(`/api/v1/cases?receivedFrom=${other}`));
        expect(listed.status, `${other}: ${JSON.stringify(listed.body)}`).toBe(200);
        expect(listed.body.items.map((i: any) => i.id), other).toEqual([mine[2], mine[1]]);
      }
      expect((await json(as(staff.police).get('/api/v1/cases?overdue=true'))).body.items).toEqual([]);
      expect((await as(staff.police).get('/api/v1/cases?unit=epb')).status).toBe(403);
      expect((await as(staff.police).get('/api/v1/cases?limit=101')).status).toBe(400);
      // Each way a number can be wrong is named.
      for (const [query, field, reason] of [
        ['limit=0', 'limit', 'at least 1'],
        ['limit=abc', 'limit', 'must be a number'],
        ['limit=2.5', 'limit', 'must be a whole number'],
        ['page=10001', 'page', 'at most 10000'],
      ]) {
        const bad = await json(as(staff.police).get(`/api/v1/cases?${query}`));
        expect([bad.status, bad.body.error.fields[field!]]).toEqual([400, reason]);
      }
      expect((await as(staff.police).get('/api/v1/cases?cursor=garbage')).status).toBe(400);
    });

    it('says on each case what the unit itself owes and whether it is late, and lists only the cases it is late on with myOverdue', async () => {
      clock.advance(60_000);
      const since = encodeURIComponent(clock.now().toISOString());
      const seed = (co: boolean) =>
        seedCase(service, clock, { jurisdiction: null, assignments: [{ unit: 'agri', role: 'lead' }, ...(co ? [{ unit: 'xinglong', role: 'co' as const }] : [])] });
      const lateAlone = (await seed(false)).id;
      clock.advance(60_000);
      const late = (await seed(true)).id;
      clock.advance(60_000);
      const waiting = (await seed(true)).id;
      clock.advance(3600_000);
      const onTime = (await seed(true)).id;
      // The co-handler signs for the cases and answers the first in time; the lead signs for them and answers none.
      for (const id of [late, onTime]) expect((await as(staff.xinglong).post(`/api/v1/cases/${id}/accept`)).status).toBe(200);
      expect((await as(staff.xinglong).post(`/api/v1/cases/${late}/reply`, { text: '兴隆办已到现场核查' })).status).toBe(200);
      for (const id of [lateAlone, late, onTime]) expect((await as(staff.agri).post(`/api/v1/cases/${id}/accept`)).status).toBe(200);
      // The lead returns the third: it waits in triage for a dispatcher, and no unit's clock runs.
      expect((await as(staff.agri).post(`/api/v1/cases/${waiting}/return`, { reason: 'not_our_remit', note: '应由其他单位牵头' })).status).toBe(200);
      const replyBy = async (unit: string, id: string) => {
        const view = await json(as(staff.dispatcher).get(`/api/v1/cases/${id}`));
        return view.body.assignments.find((a: any) => a.bureau.code === unit).deadlines.replyBy as string;
      };
      const started = clock.now().toISOString();
      // Past the reply deadline of the first two cases, not yet past the last one's (an hour later).
      clock.set(new Date(Date.parse(await replyBy('agri', late)) + 60_000).toISOString());
      try {
        await checkDeadlines(service.deps, late);
        const list = async (token: string, query = '') => {
          const res = await json(as(token).get(`/api/v1/cases?receivedFrom=${since}${query.includes('limit=') ? '' : '&limit=100'}${query}`));
          expect(res.status, JSON.stringify(res.body)).toBe(200);
          return res.body as { items: any[]; nextCursor: string | null };
        };
        const mine = (items: any[], id: string) => items.find((i) => i.id === id)?.myAssignment;

        const lead = (await list(staff.agri)).items;
        expect(mine(lead, late)).toMatchObject({ role: 'lead', status: 'accepted', overdue: true, due: await replyBy('agri', late) });
        expect(mine(lead, onTime)).toMatchObject({ status: 'accepted', overdue: false, due: await replyBy('agri', onTime) });
        expect((await list(staff.agri, '&myOverdue=true')).items.map((i) => i.id)).toEqual([late, lateAlone]);
        expect((await list(staff.agri, '&myOverdue=false')).items.map((i) => i.id)).toEqual([onTime]);
        // Pages count only the cases the unit is late on, by cursor and by number.
        const p1 = await list(staff.agri, '&myOverdue=true&limit=1');
        expect([p1.items.map((i) => i.id), typeof p1.nextCursor]).toEqual([[late], 'string']);
        const p2 = await list(staff.agri, `&myOverdue=true&limit=1&cursor=${p1.nextCursor}`);
        expect([p2.items.map((i) => i.id), p2.nextCursor]).toEqual([[lateAlone], null]);
        expect((await list(staff.agri, '&myOverdue=true&limit=1&page=2')).items.map((i) => i.id)).toEqual([lateAlone]);

        // The co-handler answered in time: the case is overdue because of the lead, the co-handler is not late on it.
        const co = (await list(staff.xinglong)).items;
        expect(co.find((i) => i.id === late)?.overdue).toBe(true);
        expect(mine(co, late)).toMatchObject({ role: 'co', status: 'replied', overdue: false, due: null });
        expect(mine(co, onTime)).toMatchObject({ status: 'accepted', overdue: false, due: await replyBy('xinglong', onTime) });
        // Its sign-for deadline passed while the case waits for a dispatcher: nothing is owed, nothing late.
        expect(co.find((i) => i.id === waiting)?.status).toBe('triage');
        expect(mine(co, waiting)).toMatchObject({ status: 'pending', overdue: false, due: null });
        expect((await list(staff.xinglong, '&myOverdue=true')).items.map((i) => i.id)).toEqual([]);
        // `overdue` keeps its meaning: the case's mark, whoever is late.
        expect((await list(staff.xinglong, '&overdue=true')).items.map((i) => i.id)).toEqual([late]);

        // Only a bureau has a lateness of its own; a query parameter the list does not know is refused, naming it.
        const refused = await json(as(staff.dispatcher).get('/api/v1/cases?myOverdue=true'));
        expect([refused.status, Object.keys(refused.body.error?.fields ?? {})]).toEqual([400, ['myOverdue']]);
        const bad = await json(as(staff.agri).get('/api/v1/cases?myOverdue=yes'));
        expect([bad.status, Object.keys(bad.body.error?.fields ?? {})]).toEqual([400, ['myOverdue']]);
        const misspelt = await json(as(staff.agri).get('/api/v1/cases?mineOverdue=true'));
        expect([misspelt.status, misspelt.body.error?.fields]).toEqual([400, { mineOverdue: 'unknown query parameter' }]);
      } finally {
        clock.set(started);
      }
    });
  });

  describe('what the public sees', () => {
    it('masks a name the reporter gave only in their words wherever a bureau note repeats it alone', async () => {
      const { id, trackingCode } = await seedCase(service, clock, {
        assignments: [{ unit: 'epb', role: 'lead' }],
        text: '本人：邝振华，兴隆办事处盐下村电镀厂晚上偷排废水',
      });
      expect((await as(staff.epb).post(`/api/v1/cases/${id}/accept`)).status).toBe(200);
      expect((await as(staff.epb).post(`/api/v1/cases/${id}/progress`, { note: '已联系邝振华核实', public: true })).status).toBe(200);
      expect((await as(staff.epb).post(`/api/v1/cases/${id}/reply`, { text: '邝振华反映的电镀厂已停产整改。' })).status).toBe(200);
      const track = await json(fetch(`${service.url}/api/v1/track/${trackingCode}`));
      expect(track.body.history.map((h: any) => h.note)).toContain('已联系邝**核实');
      expect(track.body.reply.text).toBe('邝**反映的电镀厂已停产整改。');
      expect(JSON.stringify(track.body)).not.toContain('邝振华');
      // A bureau reading the case sees the note of its own timeline masked too.
      const view = await json(as(staff.epb).get(`/api/v1/cases/${id}`));
      expect(JSON.stringify(view.body)).not.toContain('邝振华');
    });

    it('masks the anonymous reporter a bureau greets or answers by name, though no name of theirs was kept, wherever the public reads it', async () => {
      // Masked when it came in: nothing kept holds the name, and the bureau learnt it elsewhere.
      const { id, trackingCode } = await submitReport(service, { text: '我叫邝建国，兴隆办事处盐下村电镀厂晚上偷排废水', anonymous: true });
      const lead = (await json(as(staff.dispatcher).get(`/api/v1/cases/${id}`))).body.assignments.find((a: any) => a.role === 'lead').bureau.code as keyof Staff;
      expect((await as(staff[lead]).post(`/api/v1/cases/${id}/accept`)).status).toBe(200);
      expect((await as(staff[lead]).post(`/api/v1/cases/${id}/progress`, { note: '已电话联系邝建国核实，邝先生说夜里仍在排', public: true })).status).toBe(200);
      expect((await as(staff[lead]).post(`/api/v1/cases/${id}/reply`, { text: '回复邝建国：邝先生您好，您反映的电镀厂已停产整改。' })).status).toBe(200);
      const track = await json(fetch(`${service.url}/api/v1/track/${trackingCode}`));
      expect(track.body.reply.text).toBe('回复**：**先生您好，您反映的电镀厂已停产整改。');
      // The note names them without a greeting, by surname too: the reply's greeting said who they are.
      expect(track.body.history.map((h: any) => h.note)).toContain('已电话联系**核实，**先生说夜里仍在排');
      expect(JSON.stringify(track.body)).not.toContain('邝建国');
      const view = await json(as(staff[lead]).get(`/api/v1/cases/${id}`));
      expect(JSON.stringify(view.body)).not.toContain('邝建国');
    });

    it('masks the anonymous reporter a bureau says it contacted to check with, with no greeting anywhere on the case', async () => {
      const { id, trackingCode } = await submitReport(service, { text: '我叫邝建国，兴隆办事处盐下村电镀厂晚上偷排废水', anonymous: true });
      const lead = (await json(as(staff.dispatcher).get(`/api/v1/cases/${id}`))).body.assignments.find((a: any) => a.role === 'lead').bureau.code as keyof Staff;
      expect((await as(staff[lead]).post(`/api/v1/cases/${id}/accept`)).status).toBe(200);
      expect((await as(staff[lead]).post(`/api/v1/cases/${id}/progress`, { note: '已电话联系邝建国核实，该厂夜间确有排放', public: true })).status).toBe(200);
      const track = await json(fetch(`${service.url}/api/v1/track/${trackingCode}`));
      expect(track.body.history.map((h: any) => h.note)).toContain('已电话联系**核实，该厂夜间确有排放');
      expect(JSON.stringify(track.body)).not.toContain('邝');
    });

    it("masks the reporter's name and phone in the bureau's public notes and reply on the tracking page", async () => {
      const { id, trackingCode } = await seedCase(service, clock, {
        assignments: [{ unit: 'epb', role: 'lead' }],
        contact: { name: '孙海涛', phone: '13912340901', share: false },
      });
      expect((await as(staff.epb).post(`/api/v1/cases/${id}/accept`)).status).toBe(200);
      const progress = await as(staff.epb).post(`/api/v1/cases/${id}/progress`, { note: '已电话联系举报人孙海涛（13912340901）核实', public: true });
      expect(progress.status).toBe(200);
      // The official who answers, named by surname and title, stays: that is no name of the reporter's.
      const reply = await as(staff.epb).post(`/api/v1/cases/${id}/reply`, { text: '经与孙海涛核实，电镀厂已停产整改，排污口已封堵。我是区生态环境局的执法人员，联系人：李科长。本人王副主任已到现场。' });
      expect(reply.status).toBe(200);

      const track = await json(fetch(`${service.url}/api/v1/track/${trackingCode}`));
      expect(track.status).toBe(200);
      expect(track.body.history.map((h: any) => h.note)).toContain('已电话联系举报人孙**（139****0901）核实');
      expect(track.body.reply.text).toBe('经与孙**核实，电镀厂已停产整改，排污口已封堵。我是区生态环境局的执法人员，联系人：李科长。本人王副主任已到现场。');
      const page = await (await fetch(`${service.url}/track/${trackingCode}`)).text();
      expect(page).toContain('已电话联系举报人孙**（139****0901）核实');
      for (const seen of [JSON.stringify(track.body), page]) {
        expect(seen).not.toContain('孙海涛');
        expect(seen).not.toContain('13912340901');
      }
    });
    it("masks the reporter's landline on the tracking page where a bureau's note puts it after a unit's name", async () => {
      const { id, trackingCode } = await seedCase(service, clock, {
        assignments: [{ unit: 'epb', role: 'lead' }],
        contact: { name: '周老师', phone: '(0731)88886666', share: false },
      });
      expect((await as(staff.epb).post(`/api/v1/cases/${id}/accept`)).status).toBe(200);
      expect((await as(staff.epb).post(`/api/v1/cases/${id}/progress`, { note: '已打举报人学校电话0731-88886666核实', public: true })).status).toBe(200);
      expect((await as(staff.epb).post(`/api/v1/cases/${id}/reply`, { text: '已处理，回访了举报人（办公室电话 8888 6666）。' })).status).toBe(200);
      const track = await json(fetch(`${service.url}/api/v1/track/${trackingCode}`));
      expect(track.body.history.map((h: any) => h.note)).toContain('已打举报人学校电话0731****6666核实');
      expect(track.body.reply.text).toBe('已处理，回访了举报人（办公室电话 ****6666）。');
      const page = await (await fetch(`${service.url}/track/${trackingCode}`)).text();
      for (const shown of [JSON.stringify(track.body), page]) expect(shown.replace(/\D/g, '')).not.toContain('88886666');
    });
  });

  describe('people the public reads named by who they are', () => {
    const masked = (expected: string) => expected.replaceAll('{N}', '**').replaceAll('{S}', '**');
    let track: { status: number; body: any };
    let page: string;
    let bureauView: string;

    beforeAll(async () => {
      const { id, trackingCode } = await seedCase(service, clock, { assignments: [{ unit: 'epb', role: 'lead' }] });
      expect((await as(staff.epb).post(`/api/v1/cases/${id}/accept`)).status).toBe(200);
      // Each example a public progress note, as a bureau publishes what it did.
      for (const note of [...ROLE_NAMED.map(([input]) => input), ...ROLE_NAMED_NOT]) {
        const res = await json(as(staff.epb).post(`/api/v1/cases/${id}/progress`, { note, public: true }));
        expect(res.status, JSON.stringify(res.body)).toBe(200);
      }
      expect((await as(staff.epb).post(`/api/v1/cases/${id}/reply`, { text: '已联系网格员张强核实，已责令停产整改。' })).status).toBe(200);
      track = await json(fetch(`${service.url}/api/v1/track/${trackingCode}`));
      expect(track.status).toBe(200);
      page = await (await fetch(`${service.url}/track/${trackingCode}`)).text();
      bureauView = JSON.stringify((await json(as(staff.epb).get(`/api/v1/cases/${id}`))).body);
    });

    it.each(ROLE_NAMED)('masks the person in the public note "%s"', (input, expected) => {
      expect(track.body.history.map((h: any) => h.note)).toContain(masked(expected));
      expect(page).toContain(masked(expected));
      // The bureau reads its own note as it wrote it.
      expect(bureauView).toContain(input);
    });

    it.each(ROLE_NAMED_NOT)('keeps the public note "%s", which names no one', (input) => {
      expect(track.body.history.map((h: any) => h.note)).toContain(input);
    });

    it('masks the person in the reply', () => {
      expect(track.body.reply.text).toBe('已联系网格员**核实，已责令停产整改。');
      expect(JSON.stringify(track.body)).not.toContain('张强');
    });
  });

  describe('two staff of one bureau at once', () => {
    it('lets exactly one of two simultaneous signatures through', async () => {
      for (let round = 0; round < 3; round++) {
        const { id } = await seedCase(service, clock);
        const results = await Promise.all([as(staff.epb).post(`/api/v1/cases/${id}/accept`), as(staff.epb2).post(`/api/v1/cases/${id}/accept`)]);
        expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
        const events = await service.deps.db.selectFrom('case_events').select('id').where('case_id', '=', id).where('to_status', '=', 'accepted').execute();
        expect(events).toHaveLength(1);
      }
    });

    it('lets exactly one of a simultaneous signature and return through', async () => {
      for (let round = 0; round < 3; round++) {
        const { id } = await seedCase(service, clock);
        const results = await Promise.all([
          as(staff.epb).post(`/api/v1/cases/${id}/accept`),
          as(staff.epb2).post(`/api/v1/cases/${id}/return`, { reason: 'not_our_remit', note: '非本局职责' }),
        ]);
        expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
        const row = await service.deps.db.selectFrom('cases').select('status').where('id', '=', id).executeTakeFirstOrThrow();
        expect(['accepted', 'triage']).toContain(row.status);
        const lead = await service.deps.db.selectFrom('assignments').select('status').where('case_id', '=', id).where('role', '=', 'lead').executeTakeFirstOrThrow();
        expect(lead.status).toBe(row.status === 'accepted' ? 'accepted' : 'returned');
      }
    });
  });
});
