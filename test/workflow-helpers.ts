import { insertAssignments } from '../db/repositories/assignments.repository.js';
import { insertAttachments } from '../db/repositories/attachments.repository.js';
import { insertCase } from '../db/repositories/cases.repository.js';
import { insertContact } from '../db/repositories/contacts.repository.js';
import { appendEvents } from '../db/repositories/events.repository.js';
import { issueToken } from '../db/repositories/tokens.repository.js';
import { createUser } from '../db/repositories/users.repository.js';
import type { Role } from '../src/auth/principal.js';
import { ManualClock } from '../src/clock.js';
import { newId } from '../src/domain/ids.js';
import { newTrackingCode } from '../src/domain/tracking-code.js';
import { loadDistrictFile } from '../src/district/district-file.js';
import type { District } from '../src/district/district.schema.js';
import type { Classifier } from '../src/pipeline/classifier.js';
import { dispatchDeadlines } from '../src/pipeline/deadlines.js';
import { createRuleClassifier } from '../src/pipeline/rule-classifier.js';
import type { AssignmentRole } from '../src/pipeline/route.js';
import type { Service } from '../src/runtime.js';
import { startTestService, testEnv, waitFor } from './harness.js';

/** Monday 2026-11-02 10:00 in Yongzhou (UTC+8): a plain working day. */
export const T0 = '2026-11-02T02:00:00.000Z';

export type TestService = Service & { url: string };

export interface Staff {
  operator: string;
  dispatcher: string;
  admin: string;
  /** Two staff of the environmental protection bureau (the usual lead). */
  epb: string;
  epb2: string;
  econ: string;
  xinglong: string;
  agri: string;
  police: string;
  /** A clerk of the 12345 hotline, the unit cases that are not environmental are handed to. */
  hotline: string;
}

export async function startWorkflowService(
  name: string,
  dbEnv: Record<string, string>,
  opts: { classifier?: (district: District) => Classifier; role?: 'api' | 'all' } = {},
): Promise<{ service: TestService; clock: ManualClock; staff: Staff }> {
  const clock = new ManualClock(T0);
  // The district's phrase rules unless a test asks for another: these tests are about the workflow, not the trained model.
  const district = loadDistrictFile();
  // 'api': no worker takes the jobs, so a test runs the processors itself at the clock's time.
  const service = await startTestService(testEnv(name, dbEnv), opts.role ?? 'all', { clock, district, classifier: (opts.classifier ?? createRuleClassifier)(district) });
  const db = service.deps.db;
  const account = async (role: Role, unit: string | null, label: string) => {
    const user = await createUser(db, { name: label, role, unitCode: unit, at: T0 });
    return (await issueToken(db, { userId: user.id, label: null, at: T0 })).token;
  };
  const staff: Staff = {
    operator: await account('operator', null, '坐席小王'),
    dispatcher: await account('dispatcher', null, '调度老李'),
    admin: await account('admin', null, '管理员'),
    epb: await account('bureau', 'epb', '环保局张三'),
    epb2: await account('bureau', 'epb', '环保局李四'),
    econ: await account('bureau', 'econ', '经信委王五'),
    xinglong: await account('bureau', 'xinglong', '兴隆办赵六'),
    agri: await account('bureau', 'agri', '农业委钱七'),
    police: await account('bureau', 'police', '派出所孙八'),
    hotline: await account('bureau', 'hotline12345', '12345热线小周'),
  };
  return { service, clock, staff };
}

export interface SeedOptions {
  text?: string;
  type?: string | null;
  confidence?: number;
  status?: 'dispatched' | 'triage';
  triageReason?: string | null;
  assignments?: Array<{ unit: string; role: AssignmentRole }>;
  jurisdiction?: string | null;
  contact?: { name: string; phone: string; share: boolean } | null;
  anonymous?: boolean;
  urgent?: boolean;
  flags?: string[];
  photo?: { bytes: Uint8Array; mime: string };
  channel?: string;
}

export const DEFAULT_TEXT = '兴隆办事处盐下村电镀厂晚上偷排废水，沟里全是黑水。我电话13912345678';

/**
 * A case as the intake worker leaves it (classified, routed, dispatched with
 * deadlines), written through the repositories: fast and deterministic.
 */
export async function seedCase(service: TestService, clock: ManualClock, o: SeedOptions = {}): Promise<{ id: string; trackingCode: string; photoId: string | null }> {
  const { db, district, calendar } = service.deps;
  const id = newId();
  const trackingCode = newTrackingCode();
  const now = clock.now();
  const at = now.toISOString();
  const type = o.type === undefined ? 'illegal_discharge' : o.type;
  const status = o.status ?? 'dispatched';
  const jurisdiction = o.jurisdiction === undefined ? 'xinglong' : o.jurisdiction;
  const assignments =
    status === 'triage'
      ? []
      : (o.assignments ?? [
          { unit: 'epb', role: 'lead' as const },
          { unit: 'econ', role: 'co' as const },
          ...(jurisdiction ? [{ unit: jurisdiction, role: 'jurisdiction' as const }] : []),
        ]);
  const deadlines = dispatchDeadlines(district, calendar, type, o.urgent ?? false, now);
  const classification = {
    type,
    confidence: o.confidence ?? 0.91,
    runnerUp: { type: 'water_pollution', confidence: 0.05 },
    evidence: [{ phrase: '偷排废水', weight: 2.1, source: 'rule' }],
    engine: 'rules@1',
  };
  await db.transaction().execute(async (trx) => {
    await insertCase(trx, {
      id,
      tracking_code: trackingCode,
      channel: o.channel ?? 'web',
      text: o.text ?? DEFAULT_TEXT,
      address: null,
      lat: null,
      lng: null,
      occurred_at: null,
      status,
      type_code: type,
      confidence: classification.confidence,
      classification: JSON.stringify(classification),
      urgent: o.urgent ? 1 : 0,
      urgency_reasons: '[]',
      anonymous: o.anonymous ? 1 : 0,
      jurisdiction_code: jurisdiction,
      place_source: jurisdiction ? 'text' : null,
      flags: JSON.stringify(o.flags ?? (jurisdiction ? [] : ['place_unknown'])),
      triage_reason: status === 'triage' ? (o.triageReason ?? 'low_confidence') : null,
      received_at: at,
      dispatched_at: status === 'dispatched' ? at : null,
      sign_deadline_at: status === 'dispatched' ? deadlines.signBy : null,
      reply_deadline_at: status === 'dispatched' ? deadlines.replyBy : null,
      updated_at: at,
      version: 1,
      round: 1,
      overdue: 0,
      extended: 0,
    });
    if (o.contact !== null) {
      const contact = o.contact ?? { name: '李四', phone: '13912345678', share: false };
      await insertContact(trx, id, { name: contact.name, phone: contact.phone, shareWithBureau: contact.share });
    }
    await insertAssignments(
      trx,
      assignments.map((a) => ({ id: newId(), caseId: id, unitCode: a.unit, role: a.role, signBy: deadlines.signBy, replyBy: deadlines.replyBy, at, round: 1 })),
    );
    await appendEvents(trx, [
      { caseId: id, at, kind: 'status', toStatus: 'received', note: '已受理', public: true },
      { caseId: id, at, kind: 'classified', data: { type, confidence: classification.confidence } },
      // The notes the intake worker writes.
      {
        caseId: id,
        at,
        kind: 'status',
        fromStatus: 'received',
        toStatus: status,
        note: status === 'triage' ? '待人工分派' : `已派发至${district.units.get(assignments.find((a) => a.role === 'lead')?.unit ?? '')?.name.zh ?? ''}办理`,
        public: true,
      },
    ]);
  });
  let photoId: string | null = null;
  if (o.photo) {
    photoId = newId();
    const storageKey = `${id}/${photoId}.png`;
    await service.deps.photos.put(storageKey, o.photo.bytes, o.photo.mime);
    await insertAttachments(db, [
      { id: photoId, caseId: id, kind: 'photo', storageKey, mime: o.photo.mime, size: o.photo.bytes.byteLength, sha256: 'x', createdAt: at },
    ]);
  }
  return { id, trackingCode, photoId };
}

/** An HTTP client for one token (or none). */
export function client(base: string, token: string | null) {
  const headers = (extra: Record<string, string> = {}) => ({ ...(token ? { authorization: `Bearer ${token}` } : {}), ...extra });
  return {
    get: (path: string) => fetch(`${base}${path}`, { headers: headers() }),
    post: (path: string, body?: unknown) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: headers(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
    /** A body sent as it is, with its own content type (an NDJSON import, say). */
    postText: (path: string, body: string, contentType: string) => fetch(`${base}${path}`, { method: 'POST', headers: headers({ 'content-type': contentType }), body }),
  };
}

export async function json<T = any>(res: Response | Promise<Response>): Promise<{ status: number; body: T }> {
  const r = await res;
  const text = await r.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: r.status, body: body as T };
}

/** Submits a report over HTTP and waits until the pipeline has moved it to `status`. */
export async function submitReport(service: TestService, body: Record<string, unknown>, status = 'dispatched'): Promise<{ id: string; trackingCode: string }> {
  const res = await fetch(`${service.url}/api/v1/reports`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status !== 202) throw new Error(`report not accepted: ${res.status} ${await res.text()}`);
  const accepted = (await res.json()) as { id: string; trackingCode: string };
  await waitFor(
    async () => {
      const v = (await (await fetch(`${service.url}/api/v1/track/${accepted.trackingCode}`)).json()) as { status: string };
      return v.status === status;
    },
    { what: `case ${accepted.trackingCode} to be ${status}` },
  );
  return accepted;
}

export async function notificationsOf(service: TestService, caseId: string): Promise<Array<{ audience: string; kind: string; data: Record<string, unknown> | null }>> {
  const rows = await service.deps.db.selectFrom('notifications').selectAll().where('case_id', '=', caseId).orderBy('created_at').execute();
  return rows.map((r) => ({ audience: r.audience, kind: r.kind, data: r.data ? (JSON.parse(r.data) as Record<string, unknown>) : null }));
}
