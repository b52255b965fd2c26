import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caseReference } from '../src/domain/case.js';
import { buildDistrict, type DistrictFile } from '../src/district/district.schema.js';
import { DEFAULT_DISTRICT_PATH } from '../src/district/district-file.js';
import type { Service } from '../src/runtime.js';
import { bureauServer as startBureauServer, type ReceivedPost } from './bureau-server.js';
import { createPgDatabase, postJson, startTestService, testEnv, waitFor } from './harness.js';

const SECRET = 'test-webhook-secret-0123456789';

type Received = ReceivedPost<{
  event: string;
  deliveryId: string;
  case: Record<string, unknown> & { id: string; reference: string; text: string; reporter: unknown };
  assignment: { unit: { code: string }; role: string; deadlines: { signBy: string; replyBy: string } };
  caseUrl: string;
}>;

/** A stand-in for the bureaus' own servers: records what arrives, answers per path. */
const bureauServer = () => startBureauServer<Received['body']>((path) => (path === '/down' ? 503 : path === '/reject' ? 400 : 204));

function districtWithWebhooks(base: string) {
  const file = JSON.parse(readFileSync(DEFAULT_DISTRICT_PATH, 'utf8')) as DistrictFile;
  const hooks: Record<string, string> = {
    epb: `${base}/epb`,
    agri: `${base}/agri`,
    econ: `${base}/down`,
    police: `${base}/reject`,
    xinglong: `${base}/xinglong`,
    hotline12345: `${base}/hotline12345`,
  };
  for (const b of file.bureaus) if (hooks[b.code]) b.webhook = { url: hooks[b.code]! };
  for (const j of file.jurisdictions) if (hooks[j.code]) j.webhook = { url: hooks[j.code]! };
  return buildDistrict(file);
}

function verify(r: Received): boolean {
  const ts = String(r.headers['x-intake-timestamp']);
  const expected = `sha256=${createHmac('sha256', SECRET).update(`${ts}.${r.raw}`).digest('hex')}`;
  return r.headers['x-intake-signature'] === expected;
}

describe.each([
  ['SQLite', async () => ({})],
  ['PostgreSQL', async () => ({ DATABASE_URL: await createPgDatabase('pipeline') })],
  // Reports committed and relayed on the HTTP thread instead of the writer thread.
  ['SQLite, intake writer inline', async () => ({ INTAKE_WRITER: 'inline' })],
])('the pipeline from POST to dispatched on %s', (_engine, dbEnv) => {
  let service: Service & { url: string };
  let bureaus: Awaited<ReturnType<typeof bureauServer>>;

  beforeAll(async () => {
    bureaus = await bureauServer();
    const env = testEnv('pipeline', { WEBHOOK_SECRET: SECRET, ...(await dbEnv()) });
    service = await startTestService(env, 'all', { district: districtWithWebhooks(bureaus.url) });
  });
  afterAll(() => new Promise<void>((r) => bureaus.server.close(() => r())));

  async function submit(body: Record<string, unknown>): Promise<{ id: string; trackingCode: string }> {
    const res = await postJson(`${service.url}/api/v1/reports`, body);
    expect(res.status).toBe(202);
    return (await res.json()) as { id: string; trackingCode: string };
  }

  async function trackUntil(code: string, status: string) {
    return waitFor(
      async () => {
        const v = (await (await fetch(`${service.url}/api/v1/track/${code}`)).json()) as { status: string };
        return v.status === status ? (v as Record<string, unknown>) : null;
      },
      { what: `case ${code} to be ${status}` },
    );
  }

  it('classifies, routes to lead + co-handlers + jurisdiction, and delivers signed webhooks', async () => {
    const { id, trackingCode } = await submit({
      text: '兴隆办事处盐下路边那个电镀厂晚上偷排废水，沟里全是黑水。我电话13912345678，别说是我举报的',
      address: '电镀厂后门 李四家旁边 13912345678',
      name: '李四',
      phone: '13912345678',
      shareContact: true,
    });
    const view = await trackUntil(trackingCode, 'dispatched');
    expect(view.lead).toEqual({ code: 'epb', name: '区环保局' });
    expect(view.jurisdiction).toEqual({ code: 'xinglong', name: '兴隆办事处' });

    const assignments = await service.deps.db.selectFrom('assignments').select(['unit_code', 'role']).where('case_id', '=', id).orderBy('unit_code').execute();
    expect(assignments).toEqual([
      { unit_code: 'econ', role: 'co' },
      { unit_code: 'epb', role: 'lead' },
      { unit_code: 'xinglong', role: 'jurisdiction' },
    ]);

    const deliveries = await waitFor(() => {
      const mine = bureaus.received.filter((r) => r.body.case.id === id && r.path !== '/down');
      return mine.length === 2 ? mine : null;
    }, { what: 'webhooks to epb and xinglong' });
    for (const d of deliveries) {
      expect(verify(d), `signature of ${d.path}`).toBe(true);
      expect(d.body.event).toBe('case.assigned');
      expect(d.body.case.status).toBe('dispatched');
      // The reporter asked not to be named: no identity reaches the bureau, even with shareContact.
      expect(d.body.case.reporter).toBeNull();
      expect(d.raw).not.toContain('李四');
      expect(d.raw).not.toContain('13912345678');
      // The case is named by its reference and the staff page; the tracking code would let the bureau rate its own answer.
      expect(d.body.case.reference).toBe(caseReference(id));
      expect(d.body.caseUrl).toBe(`http://intake.test/inbox/cases/${id}`);
      expect(d.raw).not.toContain(trackingCode);
      expect(d.body.case.text).toContain('139****5678');
      expect(d.body.case.address).toBe('电镀厂后门 **家旁边 139****5678');
    }
    expect(deliveries.map((d) => d.body.assignment.role).sort()).toEqual(['jurisdiction', 'lead']);
    const lead = deliveries.find((d) => d.path === '/epb')!;
    expect(lead.body.assignment.deadlines.signBy).toEqual(expect.any(String));

    await waitFor(async () => {
      const rows = await service.deps.db.selectFrom('deliveries').select(['unit_code', 'status']).where('case_id', '=', id).execute();
      return rows.filter((r) => r.status === 'delivered').length === 2 ? rows : null;
    }, { what: 'deliveries recorded' });
  });

  it('records a delivery that keeps failing on the case instead of dropping it', async () => {
    const { id, trackingCode } = await submit({ text: '八仙洞有个小厂偷排废水，重金属超标' });
    await trackUntil(trackingCode, 'dispatched');
    const failed = await waitFor(async () => {
      const row = await service.deps.db
        .selectFrom('deliveries')
        .selectAll()
        .where('case_id', '=', id)
        .where('unit_code', '=', 'econ')
        .executeTakeFirst();
      return row?.status === 'failed' ? row : null;
    }, { what: 'econ delivery to fail' });
    expect(Number(failed.attempts)).toBe(3);
    expect(failed.last_error).toBe('HTTP 503');
    expect(bureaus.received.filter((r) => r.path === '/down' && r.body.case.id === id)).toHaveLength(3);
    const events = await service.deps.db.selectFrom('case_events').selectAll().where('case_id', '=', id).where('kind', '=', 'delivery_failed').execute();
    expect(events).toHaveLength(1);
    expect(JSON.parse(events[0]!.data!)).toMatchObject({ unit: 'econ', attempts: 3, error: 'HTTP 503' });
  });

  it('does not retry a delivery the bureau rejects as bad (4xx)', async () => {
    const { id, trackingCode } = await submit({ text: '有人在河边焚烧废机油和医疗废物，危废乱倒' });
    await trackUntil(trackingCode, 'dispatched');
    const row = await waitFor(async () => {
      const r = await service.deps.db.selectFrom('deliveries').selectAll().where('case_id', '=', id).where('unit_code', '=', 'police').executeTakeFirst();
      return r?.status === 'failed' ? r : null;
    });
    expect(Number(row.attempts)).toBe(1);
    expect(row.last_error).toBe('HTTP 400');
  });

  it('marks urgent cases and gives them the short deadlines', async () => {
    const { id, trackingCode } = await submit({ text: '回龙村小学旁边有化工桶在漏，危化品味道很冲，孩子们头晕' });
    const view = (await trackUntil(trackingCode, 'dispatched')) as { urgent: boolean; dispatchedAt: string; deadlines: { signBy: string } };
    expect(view.urgent).toBe(true);
    expect(new Date(view.deadlines.signBy).getTime() - new Date(view.dispatchedAt).getTime()).toBe(2 * 3600_000);
    const c = await service.deps.db.selectFrom('cases').select(['type_code', 'jurisdiction_code']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(c).toEqual({ type_code: 'hazardous_chemicals', jurisdiction_code: 'huilongxu' });
  });

  it('takes the jurisdiction from the map pin when there is one', async () => {
    const { trackingCode } = await submit({ text: '养猪场的猪粪水排到水沟里，臭得很', location: { lat: 25.21, lng: 111.30 } });
    const view = await trackUntil(trackingCode, 'dispatched');
    expect(view.jurisdiction).toEqual({ code: 'maludou', name: '马鹿头办事处' });
    expect(view.lead).toEqual({ code: 'agri', name: '区农业委' });
  });

  it('dispatches a report written in English as the same report in Chinese, to its type, lead bureau and jurisdiction', async () => {
    const { id, trackingCode } = await submit({
      text: 'A pig farm near Yanxia village lets manure run into the river every night',
      anonymous: true,
    });
    const view = await trackUntil(trackingCode, 'dispatched');
    expect(view.lead).toEqual({ code: 'agri', name: '区农业委' });
    expect(view.jurisdiction).toEqual({ code: 'huilongxu', name: '回龙圩镇' });
    const c = await service.deps.db.selectFrom('cases').select(['type_code', 'confidence']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(c.type_code).toBe('livestock_waste');
    expect(Number(c.confidence)).toBeGreaterThanOrEqual(service.deps.district.file.classifier.minConfidence);
    const assignments = await service.deps.db.selectFrom('assignments').select(['unit_code', 'role']).where('case_id', '=', id).orderBy('unit_code').execute();
    expect(assignments).toEqual([
      { unit_code: 'agri', role: 'lead' },
      { unit_code: 'epb', role: 'co' },
      { unit_code: 'huilongxu', role: 'jurisdiction' },
    ]);
  });

  it('sends a report the classifier cannot place to triage, with nobody assigned', async () => {
    const { id, trackingCode } = await submit({ text: 'asdf qwer zxcv 1234' });
    const view = await trackUntil(trackingCode, 'triage');
    expect(view.lead).toBeNull();
    expect((view.history as Array<{ status: string }>).map((h) => h.status)).toEqual(['received', 'triage']);
    const c = await service.deps.db.selectFrom('cases').select(['triage_reason', 'confidence']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(c.triage_reason).toBe('low_confidence');
    expect(Number(c.confidence)).toBeLessThan(service.deps.district.file.classifier.minConfidence);
  });

  it('keeps the classifier evidence with the case', async () => {
    const text = '回龙村养猪场的猪粪水直接排到河里';
    const { id, trackingCode } = await submit({ text });
    await trackUntil(trackingCode, 'dispatched');
    const c = await service.deps.db.selectFrom('cases').select(['type_code', 'classification']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(c.type_code).toBe('livestock_waste');
    const classification = JSON.parse(c.classification!) as { evidence: Array<{ phrase: string; start?: number; end?: number }>; runnerUp: unknown };
    expect(classification.evidence.length).toBeGreaterThan(0);
    for (const e of classification.evidence) {
      if (e.start !== undefined) expect(text.slice(e.start, e.end)).toBe(e.phrase);
    }
  });

  it('transfers a non-environmental request to the 12345 hotline', async () => {
    const { id, trackingCode } = await submit({ text: '老板拖欠工资三个月了，欠薪不给，社保也没交' });
    const view = await trackUntil(trackingCode, 'transferred');
    expect(view.lead).toEqual({ code: 'hotline12345', name: '区12345热线' });
    // 12345's own system is told it is a transfer: no deadlines of this workflow.
    const delivered = await waitFor(() => bureaus.received.find((r) => r.path === '/hotline12345' && r.body.case.id === id), { what: 'the delivery to 12345' });
    expect(delivered.body.case.status).toBe('transferred');
    expect(delivered.body.assignment).toMatchObject({ role: 'lead', deadlines: { signBy: null, replyBy: null } });
  });

  it('flags a case whose place is unknown but still sends it to the lead bureau', async () => {
    const { id, trackingCode } = await submit({ text: '附近有个养鸡场，鸡粪堆在路边臭死了' });
    const view = await trackUntil(trackingCode, 'dispatched');
    expect(view.jurisdiction).toBeNull();
    const c = await service.deps.db.selectFrom('cases').select(['flags']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(JSON.parse(c.flags)).toContain('place_unknown');
  });

  it('processes a redelivered intake job as a no-op', async () => {
    const { id, trackingCode } = await submit({ text: '马鹿头有个厂子晚上噪音很大，机器声吵得睡不着' });
    await trackUntil(trackingCode, 'dispatched');
    const processors = (await import('../queues/processors/index.js')).createProcessors(
      (await import('../src/deps.js')).processorDeps(service.deps),
    );
    const outcome = await processors.intake({ caseId: id }, { jobId: `intake-${id}`, attempt: 1, maxAttempts: 1 });
    expect(outcome).toBe('skipped: case already dispatched');
    const events = await service.deps.db
      .selectFrom('case_events')
      .select('kind')
      .where('case_id', '=', id)
      .where('kind', 'in', ['received', 'classified', 'status'])
      .orderBy('id')
      .execute();
    expect(events.map((e) => e.kind)).toEqual(['received', 'classified', 'status']);
  });

  it('keeps a phone number written in the text in the protected contact fields', async () => {
    const { id, trackingCode } = await submit({ text: '李家塘有人烧垃圾，烟好大，有事打我电话13655556666' });
    await trackUntil(trackingCode, 'dispatched');
    const contact = await service.deps.db.selectFrom('case_contacts').selectAll().where('case_id', '=', id).executeTakeFirstOrThrow();
    expect(contact.phone).toBe('13655556666');
    expect(Number(contact.share_with_bureau)).toBe(0);
    const view = JSON.stringify(await (await fetch(`${service.url}/api/v1/track/${trackingCode}`)).json());
    expect(view).not.toContain('13655556666');
  });

  it('keeps no phone number written in the text of an anonymous report, ticked or asked for in words', async () => {
    const ticked = await submit({ text: '李家塘有人烧垃圾，烟好大，有事打我电话13655557777', anonymous: true });
    const asked = await submit({ text: '李家塘有人烧垃圾，烟好大，别说是我举报的，我电话13655558888' });
    for (const { id, trackingCode } of [ticked, asked]) {
      await trackUntil(trackingCode, 'dispatched');
      const c = await service.deps.db.selectFrom('cases').select('anonymous').where('id', '=', id).executeTakeFirstOrThrow();
      expect(Number(c.anonymous)).toBe(1);
      // 不保存您的姓名和电话: no contact row at all (the text itself is masked wherever a bureau reads it).
      expect(await service.deps.db.selectFrom('case_contacts').selectAll().where('case_id', '=', id).executeTakeFirst()).toBeUndefined();
    }
  });

  it('never puts reporter text or contact into job payloads', async () => {
    const { id } = await submit({ text: '有人往荒地倾倒有毒废渣，我是赵六 13700001234', name: '赵六', phone: '13700001234' });
    const jobs = await service.deps.db.selectFrom('outbox').selectAll().execute();
    for (const j of jobs) expect(j.payload).not.toMatch(/赵六|13700001234/);
    // What reached Redis: read the job back by its id.
    const { Queue } = await import('bullmq');
    const q = new Queue('intake', { connection: { url: service.deps.env.REDIS_URL }, prefix: service.deps.env.QUEUE_PREFIX });
    const job = await waitFor(() => q.getJob(`intake-${id}`));
    expect(job.data).toEqual({ caseId: id });
    await q.close();
  });
});
