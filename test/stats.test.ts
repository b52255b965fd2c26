import { beforeAll, describe, expect, it } from 'vitest';
import { insertAssignments } from '../db/repositories/assignments.repository.js';
import { insertCases } from '../db/repositories/cases.repository.js';
import { insertContacts } from '../db/repositories/contacts.repository.js';
import { appendEvents } from '../db/repositories/events.repository.js';
import { exportCaseBatches, statsCaseBatches } from '../db/repositories/stats.repository.js';
import { issueToken } from '../db/repositories/tokens.repository.js';
import { createUser } from '../db/repositories/users.repository.js';
import type { NewCase } from '../db/schema.js';
import type { Role } from '../src/auth/principal.js';
import { ManualClock } from '../src/clock.js';
import { CASE_STATUSES } from '../src/domain/case.js';
import { newId } from '../src/domain/ids.js';
import type { Service } from '../src/runtime.js';
import { createStatsAccumulator, localMonth, publicCases, resolvePeriod, startOfLocalDay, type Measures } from '../src/stats/stats.js';
import { bodyOf, createPgDatabase, startTestService, testEnv } from './harness.js';

/**
 * A small dataset with known answers. "Now" is 2026-11-20 12:00 in Shanghai.
 * The period 2026-10-01 … 2026-11-30 (local days) holds cases H, B, A, C, D, E, I;
 * F is before it, G after it (2026-12-01 00:30 local, still November in UTC),
 * H is inside it only in local time (2026-10-01 00:30 local, September in UTC).
 */
const NOW = '2026-11-20T04:00:00.000Z';
const FROM = '2026-10-01';
const TO = '2026-11-30';

const TRICKY_TEXT = '厂子说"没事"，晚上排黑水,\n气味很大；联系我13812345678\r\n第二行';
const FORMULA_TEXT = '=HYPERLINK("http://evil.example","点我") 噪声扰民';

interface AssignmentSpec {
  unit: string;
  role: 'lead' | 'co' | 'jurisdiction';
  status: string;
  signBy: string | null;
  replyBy: string | null;
  acceptedAt?: string;
  repliedAt?: string;
  returnedAt?: string;
}

interface CaseSpec {
  key: string;
  receivedAt: string;
  status: string;
  type: string | null;
  jurisdiction: string | null;
  text?: string;
  assignments?: AssignmentSpec[];
  ratings?: Array<{ round: number; rating: string; solved: boolean }>;
  reopened?: boolean;
  contact?: { name: string; phone: string };
}

const CASES: CaseSpec[] = [
  {
    key: 'H',
    receivedAt: '2026-09-30T16:30:00.000Z',
    status: 'dispatched',
    type: 'noise',
    jurisdiction: 'maludou',
    assignments: [{ unit: 'epb', role: 'lead', status: 'pending', signBy: '2026-10-02T00:00:00.000Z', replyBy: '2026-10-20T00:00:00.000Z' }],
  },
  {
    key: 'B',
    receivedAt: '2026-10-15T02:00:00.000Z',
    status: 'reopened',
    type: 'illegal_discharge',
    jurisdiction: 'xinglong',
    reopened: true,
    ratings: [{ round: 1, rating: 'dissatisfied', solved: false }],
    assignments: [
      {
        unit: 'epb',
        role: 'lead',
        status: 'accepted',
        signBy: '2026-10-16T02:00:00.000Z',
        acceptedAt: '2026-10-15T08:00:00.000Z',
        replyBy: '2026-11-25T00:00:00.000Z',
      },
      { unit: 'econ', role: 'co', status: 'pending', signBy: '2026-10-16T02:00:00.000Z', replyBy: '2026-11-05T00:00:00.000Z' },
      {
        unit: 'xinglong',
        role: 'jurisdiction',
        status: 'replied',
        signBy: '2026-10-16T02:00:00.000Z',
        acceptedAt: '2026-10-16T01:59:00.000Z',
        replyBy: '2026-11-05T00:00:00.000Z',
        repliedAt: '2026-11-04T00:00:00.000Z',
      },
    ],
  },
  {
    key: 'A',
    receivedAt: '2026-10-31T17:00:00.000Z',
    status: 'closed',
    type: 'illegal_discharge',
    jurisdiction: 'xinglong',
    text: '盐下村有厂偷排废水，电话13700001111',
    contact: { name: '李四', phone: '13700001111' },
    ratings: [{ round: 1, rating: 'satisfied', solved: true }],
    assignments: [
      {
        unit: 'epb',
        role: 'lead',
        status: 'replied',
        signBy: '2026-11-02T17:00:00.000Z',
        acceptedAt: '2026-11-01T10:00:00.000Z',
        replyBy: '2026-11-10T00:00:00.000Z',
        repliedAt: '2026-11-09T00:00:00.000Z',
      },
      {
        unit: 'econ',
        role: 'co',
        status: 'replied',
        signBy: '2026-11-02T17:00:00.000Z',
        acceptedAt: '2026-11-03T00:00:00.000Z',
        replyBy: '2026-11-10T00:00:00.000Z',
        repliedAt: '2026-11-11T00:00:00.000Z',
      },
      {
        // Exactly at the deadlines: on time.
        unit: 'xinglong',
        role: 'jurisdiction',
        status: 'replied',
        signBy: '2026-11-02T17:00:00.000Z',
        acceptedAt: '2026-11-02T17:00:00.000Z',
        replyBy: '2026-11-10T00:00:00.000Z',
        repliedAt: '2026-11-10T00:00:00.000Z',
      },
    ],
  },
  {
    key: 'C',
    receivedAt: '2026-11-05T03:00:00.000Z',
    status: 'dispatched',
    type: 'hazardous_waste',
    jurisdiction: null,
    assignments: [
      {
        unit: 'epb',
        role: 'lead',
        status: 'returned',
        signBy: '2026-11-06T03:00:00.000Z',
        replyBy: '2026-11-18T00:00:00.000Z',
        returnedAt: '2026-11-05T06:00:00.000Z',
      },
      { unit: 'police', role: 'co', status: 'pending', signBy: '2026-11-21T03:00:00.000Z', replyBy: '2026-12-01T00:00:00.000Z' },
    ],
  },
  {
    key: 'D',
    receivedAt: '2026-11-10T01:00:00.000Z',
    status: 'closed',
    type: 'hazardous_waste',
    jurisdiction: 'huilongxu',
    ratings: [{ round: 1, rating: 'basic', solved: true }],
    assignments: [
      {
        unit: 'epb',
        role: 'lead',
        status: 'replied',
        signBy: '2026-11-11T01:00:00.000Z',
        acceptedAt: '2026-11-10T05:00:00.000Z',
        replyBy: '2026-11-15T00:00:00.000Z',
        repliedAt: '2026-11-14T00:00:00.000Z',
      },
    ],
  },
  {
    key: 'E',
    receivedAt: '2026-11-12T00:00:00.000Z',
    status: 'triage',
    type: null,
    jurisdiction: null,
    text: TRICKY_TEXT,
    contact: { name: '王小明', phone: '13912345678' },
  },
  {
    // Same received_at as E: the keyset pagination must not lose or repeat either.
    key: 'I',
    receivedAt: '2026-11-12T00:00:00.000Z',
    status: 'merged',
    type: 'noise',
    jurisdiction: 'maludou',
    text: FORMULA_TEXT,
    assignments: [{ unit: 'epb', role: 'lead', status: 'pending', signBy: '2026-11-13T00:00:00.000Z', replyBy: '2026-11-19T00:00:00.000Z' }],
  },
  {
    key: 'F',
    receivedAt: '2026-09-20T00:00:00.000Z',
    status: 'closed',
    type: 'noise',
    jurisdiction: 'maludou',
    ratings: [{ round: 1, rating: 'satisfied', solved: true }],
    assignments: [{ unit: 'epb', role: 'lead', status: 'replied', signBy: null, replyBy: null, acceptedAt: '2026-09-20T01:00:00.000Z', repliedAt: '2026-09-21T00:00:00.000Z' }],
  },
  {
    key: 'G',
    receivedAt: '2026-11-30T16:30:00.000Z',
    status: 'dispatched',
    type: 'noise',
    jurisdiction: 'maludou',
    assignments: [{ unit: 'epb', role: 'lead', status: 'pending', signBy: '2026-11-02T00:00:00.000Z', replyBy: '2026-11-03T00:00:00.000Z' }],
  },
];

/** Tracking codes by case key (10 characters of the tracking alphabet). */
const TRACKING: Record<string, string> = Object.fromEntries(CASES.map((c) => [c.key, `K7M3QXT9A${c.key === 'I' ? 'J' : c.key}`]));

function caseRow(spec: CaseSpec, id: string): NewCase {
  const lead = spec.assignments?.find((a) => a.role === 'lead');
  return {
    id,
    tracking_code: TRACKING[spec.key] ?? `SPEC${spec.key.padStart(6, '0')}`,
    channel: 'web',
    text: spec.text ?? `测试案件 ${spec.key}`,
    address: null,
    lat: null,
    lng: null,
    occurred_at: null,
    status: spec.status,
    type_code: spec.type,
    confidence: spec.type ? 0.87 : null,
    classification: null,
    urgent: 0,
    urgency_reasons: null,
    anonymous: spec.contact ? 0 : 1,
    jurisdiction_code: spec.jurisdiction,
    place_source: null,
    flags: '[]',
    triage_reason: null,
    received_at: spec.receivedAt,
    dispatched_at: spec.assignments ? spec.receivedAt : null,
    sign_deadline_at: lead?.signBy ?? null,
    reply_deadline_at: lead?.replyBy ?? null,
    updated_at: spec.receivedAt,
    version: 1,
    replied_at: lead?.repliedAt ?? null,
    rate_deadline_at: null,
    closed_at: spec.status === 'closed' ? '2026-11-16T00:00:00.000Z' : null,
    close_reason: spec.status === 'closed' ? 'rated' : null,
    merged_into: null,
    round: spec.reopened ? 2 : 1,
    overdue: spec.key === 'H' ? 1 : 0,
    supervised_at: null,
    extended: 0,
  };
}

async function seed(service: Service, specs: CaseSpec[] = CASES): Promise<Record<string, string>> {
  const db = service.deps.db;
  const ids: Record<string, string> = {};
  for (const spec of specs) ids[spec.key] = newId();
  await insertCases(
    db,
    specs.map((s) => caseRow(s, ids[s.key]!)),
  );
  for (const spec of specs) {
    const caseId = ids[spec.key]!;
    if (spec.assignments) {
      const list = spec.assignments.map((a) => ({
        id: newId(),
        caseId,
        unitCode: a.unit,
        role: a.role,
        signBy: a.signBy,
        replyBy: a.replyBy,
        at: spec.receivedAt,
      }));
      await insertAssignments(db, list);
      for (const [i, a] of spec.assignments.entries()) {
        await db
          .updateTable('assignments')
          .set({
            status: a.status,
            accepted_at: a.acceptedAt ?? null,
            replied_at: a.repliedAt ?? null,
            returned_at: a.returnedAt ?? null,
            return_reason: a.returnedAt ? 'not_our_remit' : null,
          })
          .where('id', '=', list[i]!.id)
          .execute();
      }
    }
    for (const r of spec.ratings ?? []) {
      await db
        .insertInto('ratings')
        .values({ id: newId(), case_id: caseId, round: r.round, rating: r.rating, solved: r.solved ? 1 : 0, comment: null, channel: 'web', created_at: '2026-11-16T00:00:00.000Z', chat_told_at: null })
        .execute();
    }
    if (spec.reopened) {
      await appendEvents(db, [
        // As rateCase records a reopening: the round that ended and its lead, whose answer was rated.
        {
          caseId,
          at: '2026-11-16T00:00:00.000Z',
          actor: { type: 'reporter' },
          kind: 'status',
          fromStatus: 'replied',
          toStatus: 'reopened',
          public: true,
          data: { rating: 'dissatisfied', solved: false, round: 1, lead: spec.assignments!.find((a) => a.role === 'lead')!.unit },
        },
      ]);
    }
  }
  await insertContacts(
    db,
    specs.filter((s) => s.contact).map((s) => ({ caseId: ids[s.key]!, name: s.contact!.name, phone: s.contact!.phone, shareWithBureau: false })),
  );
  return ids;
}

/** Every count (zeros unless given) and the three rates, given explicitly. */
function measures(
  counts: Partial<Omit<Measures, 'responseRate' | 'resolutionRate' | 'satisfactionRate'>>,
  rates: [number | null, number | null, number | null],
): Measures {
  return {
    received: 0,
    dispatched: 0,
    signedOnTime: 0,
    signDue: 0,
    due: 0,
    repliedOnTime: 0,
    overdueNow: 0,
    rated: 0,
    satisfied: 0,
    basic: 0,
    dissatisfied: 0,
    solved: 0,
    reopened: 0,
    returned: 0,
    ...counts,
    responseRate: rates[0],
    resolutionRate: rates[1],
    satisfactionRate: rates[2],
  };
}

const TOTALS = measures(
  { received: 7, dispatched: 11, signedOnTime: 5, signDue: 9, due: 7, repliedOnTime: 4, overdueNow: 2, rated: 3, satisfied: 1, basic: 1, dissatisfied: 1, solved: 2, reopened: 1, returned: 1 },
  [0.5556, 0.5714, 0.6667],
);

// B and A: the illegal-discharge cases in 兴隆.
const B_AND_A = measures(
  { received: 2, dispatched: 6, signedOnTime: 4, signDue: 6, due: 5, repliedOnTime: 3, overdueNow: 1, rated: 2, satisfied: 1, dissatisfied: 1, solved: 1, reopened: 1 },
  [0.6667, 0.6, 0.5],
);
// H and I: the noise cases in 马鹿头.
const H_AND_I = measures({ received: 2, dispatched: 2, signDue: 1, due: 1, overdueNow: 1 }, [0, 0, null]);

const EXPECTED: Record<string, Array<{ key: string | null; name: string } & Measures>> = {
  bureau: [
    {
      key: 'epb',
      name: '区环保局',
      ...measures(
        { received: 6, dispatched: 6, signedOnTime: 3, signDue: 5, due: 3, repliedOnTime: 2, overdueNow: 1, rated: 3, satisfied: 1, basic: 1, dissatisfied: 1, solved: 2, reopened: 1, returned: 1 },
        [0.6, 0.6667, 0.6667],
      ),
    },
    // A co-handler of B and A: the reporter rated the lead's answers (epb's), not its part, nor sent it back.
    { key: 'econ', name: '区经信委', ...measures({ received: 2, dispatched: 2, signDue: 2, due: 2, overdueNow: 1 }, [0, 0, null]) },
    // Its one assignment is still inside its sign-for window (C): nothing to rate it on yet.
    { key: 'police', name: '区派出所', ...measures({ received: 1, dispatched: 1 }, [null, null, null]) },
    // The local office of B and A: likewise no rating of its own.
    { key: 'xinglong', name: '兴隆办事处', ...measures({ received: 2, dispatched: 2, signedOnTime: 2, signDue: 2, due: 2, repliedOnTime: 2 }, [1, 1, null]) },
  ],
  type: [
    { key: 'illegal_discharge', name: '非法排放有毒有害污染物', ...B_AND_A },
    {
      key: 'hazardous_waste',
      name: '危险废物非法处置',
      ...measures({ received: 2, dispatched: 3, signedOnTime: 1, signDue: 2, due: 1, repliedOnTime: 1, rated: 1, basic: 1, solved: 1, returned: 1 }, [0.5, 1, 1]),
    },
    { key: 'noise', name: '噪声扰民', ...H_AND_I },
    { key: null, name: '未分类', ...measures({ received: 1 }, [null, null, null]) },
  ],
  jurisdiction: [
    {
      key: 'huilongxu',
      name: '回龙圩镇',
      ...measures({ received: 1, dispatched: 1, signedOnTime: 1, signDue: 1, due: 1, repliedOnTime: 1, rated: 1, basic: 1, solved: 1 }, [1, 1, 1]),
    },
    { key: 'maludou', name: '马鹿头办事处', ...H_AND_I },
    { key: 'xinglong', name: '兴隆办事处', ...B_AND_A },
    { key: null, name: '属地不明', ...measures({ received: 2, dispatched: 2, signDue: 1, returned: 1 }, [0, null, null]) },
  ],
  month: [
    {
      key: '2026-10',
      name: '2026年10月',
      ...measures({ received: 2, dispatched: 4, signedOnTime: 2, signDue: 4, due: 3, repliedOnTime: 1, overdueNow: 2, rated: 1, dissatisfied: 1, reopened: 1 }, [0.5, 0.3333, 0]),
    },
    {
      key: '2026-11',
      name: '2026年11月',
      ...measures(
        { received: 5, dispatched: 7, signedOnTime: 3, signDue: 5, due: 4, repliedOnTime: 3, rated: 2, satisfied: 1, basic: 1, solved: 2, returned: 1 },
        [0.6, 0.75, 1],
      ),
    },
  ],
};

/** A small RFC 4180 parser: quoted fields with doubled quotes, commas and line breaks inside. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += ch;
  }
  if (field !== '' || row.length > 0) throw new Error(`the CSV does not end with CRLF: ${JSON.stringify(text.slice(-40))}`);
  return rows;
}

describe('stats helpers', () => {
  it('finds local days and months in the district time zone', () => {
    expect(startOfLocalDay('2026-10-01', 'Asia/Shanghai').toISOString()).toBe('2026-09-30T16:00:00.000Z');
    expect(localMonth('2026-10-31T17:00:00.000Z', 'Asia/Shanghai')).toBe('2026-11');
    expect(localMonth('2026-10-31T15:59:59.999Z', 'Asia/Shanghai')).toBe('2026-10');
    // A zone with daylight saving time: the day starts at local midnight whatever the offset.
    expect(startOfLocalDay('2026-03-29', 'Europe/Berlin').toISOString()).toBe('2026-03-28T23:00:00.000Z');
    expect(startOfLocalDay('2026-03-30', 'Europe/Berlin').toISOString()).toBe('2026-03-29T22:00:00.000Z');
  });

  it('chooses the public cases until every group of every grouping holds at least the minimum', () => {
    const make = (n: number, type: string, place: string, bureaus = ['epb']) =>
      Array.from({ length: n }, () => ({ id: newId(), type: [type], jurisdiction: [place], month: ['2026-11'], bureau: bureaus }));
    // One discharge case in a village with one case: listed by type, it would be the type total minus the place total.
    const lone = make(1, 'illegal_discharge', 'lijiatang');
    const chosen = publicCases([...make(5, 'illegal_discharge', 'xinglong'), ...lone], 5);
    expect(chosen.ids.size).toBe(5);
    expect(chosen.ids.has(lone[0]!.id)).toBe(false);
    expect([...chosen.groupsKept.jurisdiction]).toEqual(['xinglong']);
    expect([...chosen.groupsBefore.jurisdiction].sort()).toEqual(['lijiatang', 'xinglong']);
    // Leaving out the small noise group leaves Xinglong too small, which leaves discharge too small: nothing is counted.
    const cascade = publicCases([...make(3, 'illegal_discharge', 'xinglong'), ...make(2, 'illegal_discharge', 'huilongxu'), ...make(3, 'noise', 'xinglong')], 5);
    expect(cascade.ids.size).toBe(0);
    // A unit with few cases takes its cases out of every table.
    const police = make(1, 'illegal_discharge', 'xinglong', ['epb', 'police']);
    expect(publicCases([...make(5, 'illegal_discharge', 'xinglong'), ...police], 5).ids.has(police[0]!.id)).toBe(false);
  });

  it('counts no unit overdue on a case waiting in triage, where nobody can act and the deadlines wait', () => {
    const late = (status: string) => {
      const acc = createStatsAccumulator({ groupBy: 'bureau', now: new Date(NOW), timeZone: 'Asia/Shanghai' });
      const co = { unitCode: 'water', status: 'pending', signBy: '2026-11-18T04:00:00.000Z', replyBy: '2026-12-01T04:00:00.000Z', acceptedAt: null, repliedAt: null, returnedAt: null };
      const lead = { ...co, unitCode: 'epb', status: 'returned', returnedAt: '2026-11-17T04:00:00.000Z' };
      acc.add({ id: newId(), receivedAt: '2026-11-17T02:00:00.000Z', status, typeCode: 'water_pollution', jurisdictionCode: null, reopened: false, assignments: [lead, co], ratings: [] });
      return acc.counts().get('water')!.overdueNow;
    };
    // The water bureau missed its sign-for deadline two days ago.
    expect(late('dispatched')).toBe(1);
    // The lead returned the case: it waits in triage for a dispatcher.
    expect(late('triage')).toBe(0);
  });

  it('counts a unit due, on a case waiting in triage, on a deadline it had missed before the case went there, and on no later one', () => {
    const acc = createStatsAccumulator({ groupBy: 'bureau', now: new Date(NOW), timeZone: 'Asia/Shanghai' });
    // The lead returned the case on 11-15: it waits in triage since.
    const stoppedAt = '2026-11-15T04:00:00.000Z';
    const kept = { status: 'pending', acceptedAt: null, repliedAt: null, returnedAt: null, stoppedAt };
    const lead = { ...kept, unitCode: 'epb', status: 'returned', signBy: '2026-11-11T04:00:00.000Z', replyBy: '2026-11-30T04:00:00.000Z', acceptedAt: '2026-11-10T06:00:00.000Z', returnedAt: stoppedAt };
    // Missed its sign-for (11-11) and its reply (11-14) before the wait.
    const missedBoth = { ...kept, unitCode: 'water', signBy: '2026-11-11T04:00:00.000Z', replyBy: '2026-11-14T04:00:00.000Z' };
    // Signed for; its reply deadline (11-18) came during the wait, when it could not act.
    const inTime = { ...kept, unitCode: 'agri', status: 'accepted', acceptedAt: '2026-11-10T06:00:00.000Z', signBy: '2026-11-11T04:00:00.000Z', replyBy: '2026-11-18T04:00:00.000Z' };
    // Its sign-for deadline (11-16) came during the wait.
    const later = { ...kept, unitCode: 'econ', signBy: '2026-11-16T04:00:00.000Z', replyBy: '2026-11-30T04:00:00.000Z' };
    acc.add({ id: newId(), receivedAt: '2026-11-10T04:00:00.000Z', status: 'triage', typeCode: 'water_pollution', jurisdictionCode: null, reopened: false, assignments: [lead, missedBoth, inTime, later], ratings: [] });
    const counts = acc.counts();
    const rates = (unit: string) => {
      const c = counts.get(unit)!;
      return { signDue: c.signDue, due: c.due, overdueNow: c.overdueNow };
    };
    expect(rates('water')).toEqual({ signDue: 1, due: 1, overdueNow: 0 });
    expect(rates('agri')).toEqual({ signDue: 1, due: 0, overdueNow: 0 });
    expect(rates('econ')).toEqual({ signDue: 0, due: 0, overdueNow: 0 });
    expect(rates('epb')).toEqual({ signDue: 1, due: 0, overdueNow: 0 });
  });

  it('does not count against a unit an assignment a dispatcher took back unsigned before it was due to sign for it', () => {
    const acc = createStatsAccumulator({ groupBy: 'bureau', now: new Date(NOW), timeZone: 'Asia/Shanghai' });
    const given = { status: 'released', signBy: '2026-11-18T04:00:00.000Z', replyBy: '2026-12-01T04:00:00.000Z', acceptedAt: null, repliedAt: null, returnedAt: null };
    const lead = { ...given, unitCode: 'epb', releasedAt: '2026-11-17T05:00:00.000Z' };
    // Taken back after its deadline passed unsigned: a miss. Signed for, then taken back: on time. Returned: counted as returned.
    const late = { ...given, unitCode: 'water', releasedAt: '2026-11-18T05:00:00.000Z' };
    const signed = { ...given, unitCode: 'agri', acceptedAt: '2026-11-17T04:30:00.000Z', releasedAt: '2026-11-17T05:00:00.000Z' };
    const returned = { ...given, unitCode: 'police', returnedAt: '2026-11-17T04:30:00.000Z', releasedAt: '2026-11-17T05:00:00.000Z' };
    // A stint recorded before release times were kept counts as it always did.
    const unknownWhen = { ...given, unitCode: 'econ' };
    acc.add({ id: newId(), receivedAt: '2026-11-17T02:00:00.000Z', status: 'merged', typeCode: 'water_pollution', jurisdictionCode: null, reopened: false, assignments: [lead, late, signed, returned, unknownWhen], ratings: [] });
    const counts = acc.counts();
    expect(counts.has('epb')).toBe(false);
    expect(counts.get('water')).toMatchObject({ received: 1, dispatched: 1, signedOnTime: 0 });
    expect(counts.get('agri')).toMatchObject({ received: 1, dispatched: 1, signedOnTime: 1 });
    expect(counts.get('police')).toMatchObject({ received: 1, dispatched: 1, returned: 1 });
    expect(counts.get('econ')).toMatchObject({ received: 1, dispatched: 1 });
    expect(acc.totals()).toMatchObject({ received: 1, dispatched: 4, signedOnTime: 1 });
  });

  it('starts a default period no earlier than 1900-01-01, the first day a date may be', () => {
    expect(resolvePeriod({ to: '1900-01-05' }, new Date(NOW), 'Asia/Shanghai')).toMatchObject({ from: '1900-01-01', to: '1900-01-05' });
    expect(resolvePeriod({ to: '1900-01-30' }, new Date(NOW), 'Asia/Shanghai')).toMatchObject({ from: '1900-01-01', to: '1900-01-30' });
    expect(resolvePeriod({ to: '1900-01-31' }, new Date(NOW), 'Asia/Shanghai')).toMatchObject({ from: '1900-01-02', to: '1900-01-31' });
  });

  it('defaults the period to the last 30 days ending today (local)', () => {
    expect(resolvePeriod({}, new Date(NOW), 'Asia/Shanghai')).toEqual({
      from: '2026-10-22',
      to: '2026-11-20',
      fromInstant: '2026-10-21T16:00:00.000Z',
      toInstant: '2026-11-20T16:00:00.000Z',
    });
  });
});

describe.each([
  ['SQLite', async () => ({})],
  ['PostgreSQL', async () => ({ DATABASE_URL: await createPgDatabase('stats') })],
])('statistics and exports on %s', (_engine, overrides) => {
  let service: Service & { url: string };
  let clock: ManualClock;
  let ids: Record<string, string>;
  const tokens = {} as Record<Role | 'bureau', string>;

  beforeAll(async () => {
    clock = new ManualClock(NOW);
    service = await startTestService(testEnv('stats', await overrides()), 'api', { clock });
    ids = await seed(service);
    for (const role of ['operator', 'bureau', 'dispatcher', 'admin'] as const) {
      const user = await createUser(service.deps.db, { name: `${role} 测试`, role, unitCode: role === 'bureau' ? 'epb' : null, at: NOW });
      tokens[role] = (await issueToken(service.deps.db, { userId: user.id, label: null, at: NOW })).token;
    }
  });

  const get = (path: string, role?: Role) =>
    fetch(`${service.url}${path}`, role ? { headers: { authorization: `Bearer ${tokens[role]}` } } : {});

  describe('GET /api/v1/stats', () => {
    it.each(['bureau', 'type', 'jurisdiction', 'month'])('counts and rates every group by %s', async (groupBy) => {
      const res = await get(`/api/v1/stats?from=${FROM}&to=${TO}&groupBy=${groupBy}`, 'dispatcher');
      const body = (await bodyOf(res)) as { groups: unknown[]; totals: unknown };
      expect(res.status, JSON.stringify(body)).toBe(200);
      expect(body).toEqual({ from: FROM, to: TO, timeZone: 'Asia/Shanghai', groupBy, groups: EXPECTED[groupBy], totals: TOTALS });
    });

    it('rates the response on the assignments whose sign-for was due: one still inside its window lowers no rate, one past its deadline unsigned or signed late does', async () => {
      // May 2025: far from the dataset above, so the other tests do not see these. Read on 2025-05-10, 12:00 local.
      const lead = (unit: string, signBy: string, acceptedAt?: string): AssignmentSpec => ({
        unit,
        role: 'lead',
        status: acceptedAt ? 'accepted' : 'pending',
        signBy,
        replyBy: '2025-05-30T02:00:00.000Z',
        ...(acceptedAt ? { acceptedAt } : {}),
      });
      await seed(service, [
        // The EPB signed for one case on time, and has until tomorrow to sign for the one received this morning (with the economy commission).
        { key: 'P', receivedAt: '2025-05-08T02:00:00.000Z', status: 'accepted', type: 'noise', jurisdiction: null, assignments: [lead('epb', '2025-05-09T02:00:00.000Z', '2025-05-08T06:00:00.000Z')] },
        {
          key: 'Q',
          receivedAt: '2025-05-10T02:00:00.000Z',
          status: 'dispatched',
          type: 'illegal_discharge',
          jurisdiction: null,
          assignments: [lead('epb', '2025-05-11T02:00:00.000Z'), { unit: 'econ', role: 'co', status: 'pending', signBy: '2025-05-11T02:00:00.000Z', replyBy: '2025-05-30T02:00:00.000Z' }],
        },
        // The water bureau signed for its case six hours late.
        { key: 'R', receivedAt: '2025-05-09T02:00:00.000Z', status: 'accepted', type: 'water_pollution', jurisdiction: null, assignments: [lead('water', '2025-05-10T02:00:00.000Z', '2025-05-10T08:00:00.000Z')] },
      ]);
      const read = async () => {
        const res = await get('/api/v1/stats?from=2025-05-01&to=2025-05-31&groupBy=bureau', 'dispatcher');
        const body = (await bodyOf(res)) as { groups: Array<Measures & { key: string }>; totals: Measures };
        expect(res.status, JSON.stringify(body)).toBe(200);
        const unit = (key: string) => {
          const g = body.groups.find((x) => x.key === key)!;
          return { dispatched: g.dispatched, signedOnTime: g.signedOnTime, signDue: g.signDue, responseRate: g.responseRate };
        };
        return { epb: unit('epb'), econ: unit('econ'), water: unit('water'), totals: body.totals };
      };
      try {
        clock.set('2025-05-10T04:00:00.000Z');
        const early = await read();
        // The case of this morning is no miss yet: the EPB signed for all it was due to.
        expect(early.epb).toEqual({ dispatched: 2, signedOnTime: 1, signDue: 1, responseRate: 1 });
        expect(early.econ).toEqual({ dispatched: 1, signedOnTime: 0, signDue: 0, responseRate: null });
        // Signed, but late: due, and not on time.
        expect(early.water).toEqual({ dispatched: 1, signedOnTime: 0, signDue: 1, responseRate: 0 });
        expect(early.totals).toMatchObject({ dispatched: 4, signedOnTime: 1, signDue: 2, responseRate: 0.5 });
        const csv = await (await get('/api/v1/export/stats.csv?from=2025-05-01&to=2025-05-31&groupBy=bureau&lang=en', 'dispatcher')).text();
        expect(csv.split('\r\n').at(-2)).toBe(',Total,3,4,1,0,0,0,0,0,0,0,0,0,0,0.5,,,2');

        // The next day the deadline has passed unsigned: now it is a miss.
        clock.set('2025-05-11T04:00:00.000Z');
        const late = await read();
        expect(late.epb).toEqual({ dispatched: 2, signedOnTime: 1, signDue: 2, responseRate: 0.5 });
        expect(late.econ).toEqual({ dispatched: 1, signedOnTime: 0, signDue: 1, responseRate: 0 });
        expect(late.totals).toMatchObject({ dispatched: 4, signedOnTime: 1, signDue: 4, responseRate: 0.25 });
      } finally {
        clock.set(NOW);
      }
    });

    it('names the groups in English with lang=en', async () => {
      const res = await get(`/api/v1/stats?from=${FROM}&to=${TO}&groupBy=bureau&lang=en`, 'admin');
      const body = (await bodyOf(res)) as { groups: Array<{ key: string; name: string }> };
      expect(res.status, JSON.stringify(body)).toBe(200);
      expect(body.groups.map((g) => g.name)).toEqual([
        'District Environmental Protection Bureau',
        'District Economy and Information Technology Commission',
        'District Police Station',
        'Xinglong Sub-district Office',
      ]);
    });

    it('defaults to the last 30 days', async () => {
      const res = await get('/api/v1/stats?groupBy=month', 'dispatcher');
      const body = (await bodyOf(res)) as { from: string; to: string; totals: Measures; groups: Array<{ key: string }> };
      expect(res.status, JSON.stringify(body)).toBe(200);
      expect([body.from, body.to]).toEqual(['2026-10-22', '2026-11-20']);
      // A, C, D, E, I were received from 2026-11-01 local on.
      expect(body.totals.received).toBe(5);
      expect(body.groups.map((g) => g.key)).toEqual(['2026-11']);
    });

    it('starts the default period of an early to on 1900-01-01, a day it takes when given, in the statistics and the exports alike', async () => {
      for (const path of ['/api/v1/stats?groupBy=month&to=1900-01-05', '/api/v1/public/stats?groupBy=month&to=1900-01-05']) {
        const res = await get(path, 'dispatcher');
        const body = (await bodyOf(res)) as { from: string; to: string };
        expect(res.status, JSON.stringify(body)).toBe(200);
        expect([body.from, body.to], path).toEqual(['1900-01-01', '1900-01-05']);
      }
      for (const path of ['/api/v1/export/stats.csv?groupBy=month&to=1900-01-05', '/api/v1/export/cases.csv?to=1900-01-05']) {
        const res = await get(path, 'dispatcher');
        expect(res.status, path).toBe(200);
        expect(res.headers.get('content-disposition'), path).toMatch(/_1900-01-01_1900-01-05\.csv"$/);
        await res.arrayBuffer();
      }
      // Given, the day before is refused as ever.
      expect((await get('/api/v1/stats?groupBy=month&from=1899-12-31&to=1900-01-05', 'dispatcher')).status).toBe(400);
    });

    it('rejects a missing or unknown groupBy, a bad date, and from after to', async () => {
      for (const [query, field] of [
        ['', 'groupBy'],
        ['groupBy=week', 'groupBy'],
        ['groupBy=type&from=2026-02-30', 'from'],
        ['groupBy=type&to=yesterday', 'to'],
        ['groupBy=type&from=2026-11-02&to=2026-11-01', 'from'],
        // The day after 9999-12-31 has no YYYY-MM-DD; years below 100 are not what Date.UTC makes of them.
        ['groupBy=type&to=9999-12-31', 'to'],
        ['groupBy=type&from=0050-01-01', 'from'],
      ] as const) {
        const res = await get(`/api/v1/stats?${query}`, 'dispatcher');
        const body = (await bodyOf(res)) as { error: { code: string; fields: Record<string, string> } };
        expect(res.status, `${query}: ${JSON.stringify(body)}`).toBe(400);
        expect(body.error.code).toBe('validation_failed');
        expect(Object.keys(body.error.fields)).toContain(field);
      }
    });

    it('is for dispatchers and admins only', async () => {
      expect((await get('/api/v1/stats?groupBy=type')).status).toBe(401);
      for (const role of ['operator', 'bureau'] as const) {
        const res = await get('/api/v1/stats?groupBy=type', role);
        expect(res.status, role).toBe(403);
        expect(((await bodyOf(res)) as { error: { code: string } }).error.code).toBe('forbidden');
      }
      expect((await get('/api/v1/stats?groupBy=type', 'admin')).status).toBe(200);
    });
  });

  describe('GET /api/v1/public/stats', () => {
    it('needs no token, and counts no case that any grouping puts in a group smaller than publicStats.minGroupSize', async () => {
      // Every type group of this small dataset is under 5 cases: no case is counted, in any grouping (the two
      // months hold 7 cases between them, but November's listed alone would give the small type groups away).
      for (const groupBy of ['type', 'jurisdiction', 'bureau', 'month'] as const) {
        const res = await get(`/api/v1/public/stats?from=${FROM}&to=${TO}&groupBy=${groupBy}`);
        const body = (await bodyOf(res)) as { groups: unknown[]; hiddenGroups: number; totals: Measures };
        expect(res.status, JSON.stringify(body)).toBe(200);
        expect(body, groupBy).toMatchObject({ from: FROM, to: TO, timeZone: 'Asia/Shanghai', groupBy, minGroupSize: 5, groups: [] });
        expect(body.hiddenGroups, groupBy).toBe(EXPECTED[groupBy]!.length);
        expect(body.totals.received, groupBy).toBe(0);
      }
    });

    it('answers a date it cannot count from or to with a 400 naming it', async () => {
      for (const [query, field] of [
        ['groupBy=type&to=9999-12-31', 'to'],
        ['groupBy=month&from=0000-01-01', 'from'],
      ] as const) {
        const res = await get(`/api/v1/public/stats?${query}`);
        const body = (await bodyOf(res)) as { error: { fields: Record<string, string> } };
        expect(res.status, `${query}: ${JSON.stringify(body)}`).toBe(400);
        expect(body.error.fields[field]).toMatch(/YYYY-MM-DD/);
      }
    });

    it('lists nothing when every group is small', async () => {
      const res = await get(`/api/v1/public/stats?from=${FROM}&to=${TO}&groupBy=type&lang=en`);
      const body = await bodyOf(res);
      expect(res.status, JSON.stringify(body)).toBe(200);
      expect(body).toMatchObject({ groups: [], hiddenGroups: 4, totals: measures({}, [null, null, null]) });
    });

    it('says nothing that identifies a case or a reporter', async () => {
      for (const groupBy of ['bureau', 'type', 'jurisdiction', 'month']) {
        const text = await (await get(`/api/v1/public/stats?from=${FROM}&to=${TO}&groupBy=${groupBy}`)).text();
        for (const id of Object.values(ids)) expect(text).not.toContain(id);
        for (const code of Object.values(TRACKING)) expect(text).not.toContain(code);
        for (const secret of ['王小明', '13912345678', '李四', '13700001111', '排黑水']) expect(text).not.toContain(secret);
      }
    });

    it('validates its query like the private one', async () => {
      expect((await get('/api/v1/public/stats?groupBy=day')).status).toBe(400);
    });
  });

  describe('GET /api/v1/export/cases.csv', () => {
    async function download(query: string, role: Role = 'dispatcher') {
      const res = await get(`/api/v1/export/cases.csv?${query}`, role);
      const bytes = new Uint8Array(await res.arrayBuffer());
      return { res, bytes, text: new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes) };
    }

    it('gives one row per case, oldest first, as UTF-8 CSV with a BOM and as an attachment', async () => {
      const { res, bytes, text } = await download(`from=${FROM}&to=${TO}&lang=en`);
      expect(res.status, text).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(res.headers.get('content-disposition')).toBe(`attachment; filename="cases_${FROM}_${TO}.csv"`);
      expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
      const rows = parseCsv(text.slice(1));
      const [header, ...data] = rows;
      expect(header).toEqual([
        'tracking_code',
        'received_at',
        'channel',
        'status',
        'type_code',
        'type_name',
        'confidence',
        'urgent',
        'anonymous',
        'jurisdiction_code',
        'jurisdiction_name',
        'lead',
        'co_handlers',
        'sign_deadline',
        'reply_deadline',
        'accepted_at',
        'replied_at',
        'overdue',
        'rating',
        'solved',
        'closed_at',
        'close_reason',
        'text',
      ]);
      for (const row of data) expect(row).toHaveLength(header!.length);
      const byCode = (key: string) => data.find((r) => r[0] === TRACKING[key])!;
      // E and I share received_at: ordered by id after it.
      const sameTime = [ids.E!, ids.I!].sort().map((id) => (id === ids.E ? TRACKING.E : TRACKING.I));
      expect(data.map((r) => r[0])).toEqual([TRACKING.H, TRACKING.B, TRACKING.A, TRACKING.C, TRACKING.D, ...sameTime]);
      expect(byCode('A')).toEqual([
        TRACKING.A,
        '2026-11-01 01:00:00',
        'web',
        'closed',
        'illegal_discharge',
        'Illegal discharge of toxic pollutants',
        '0.87',
        'no',
        'no',
        'xinglong',
        'Xinglong Sub-district Office',
        'District Environmental Protection Bureau',
        'District Economy and Information Technology Commission',
        '2026-11-03 01:00:00',
        '2026-11-10 08:00:00',
        '2026-11-01 18:00:00',
        '2026-11-09 08:00:00',
        'no',
        'satisfied',
        'yes',
        '2026-11-16 08:00:00',
        'rated',
        '盐下村有厂偷排废水，电话137****1111',
      ]);
      // Quotes, commas and line breaks survive the round trip; the phone inside is masked.
      expect(byCode('E')!.at(-1)).toBe('厂子说"没事"，晚上排黑水,\n气味很大；联系我138****5678\r\n第二行');
      expect(byCode('E')!.slice(4, 6)).toEqual(['', '']);
      expect(byCode('H')![17]).toBe('yes');
      expect(byCode('B')![18]).toBe('dissatisfied');
      // A text that looks like a formula is not run by a spreadsheet.
      expect(byCode('I')!.at(-1)).toBe(`'${FORMULA_TEXT}`);
    });

    it('never contains the reporter name or phone, even when the text repeats the phone', async () => {
      const { text } = await download(`from=${FROM}&to=${TO}`);
      for (const secret of ['王小明', '13912345678', '李四', '13700001111', '13812345678']) expect(text).not.toContain(secret);
      expect(text).toContain('138****5678');
    });

    it("masks the reporter's name from the contact fields wherever the text repeats it", async () => {
      // June 2025: far from the dataset above, so the other tests do not see these.
      const cases = [
        { name: '孙海涛', text: '盐下村电镀厂偷排废水，孙海涛家门口的沟都黑了' },
        { name: '欧阳娜娜', text: '欧阳娜娜反映：回龙村有人半夜烧垃圾' },
        { name: null, text: '朱家观村后山有人倒废渣，孙海涛说的' },
      ].map((c, i) => ({
        ...c,
        row: {
          ...caseRow({ key: 'N', receivedAt: `2025-06-0${i + 1}T02:00:00.000Z`, status: 'triage', type: 'noise', jurisdiction: null, text: c.text }, newId()),
          tracking_code: `NAMED${String(i).padStart(5, '0')}`,
        },
      }));
      await insertCases(service.deps.db, cases.map((c) => c.row));
      await insertContacts(
        service.deps.db,
        cases.filter((c) => c.name).map((c) => ({ caseId: c.row.id, name: c.name, phone: null, shareWithBureau: false })),
      );
      const { res, text } = await download('from=2025-06-01&to=2025-06-30&lang=en');
      expect(res.status, text).toBe(200);
      const data = parseCsv(text.slice(1)).slice(1);
      expect(data.map((r) => r.at(-1))).toEqual([
        // Anonymous cases: their reporter's name shows without the surname.
        '盐下村电镀厂偷排废水，**家门口的沟都黑了',
        '**反映：回龙村有人半夜烧垃圾',
        // Another case's reporter is no name to mask here.
        '朱家观村后山有人倒废渣，孙海涛说的',
      ]);
    });

    it('uses Chinese headers and names by default', async () => {
      const { text } = await download(`from=${FROM}&to=${TO}`);
      const [header, ...data] = parseCsv(text.slice(1));
      expect(header!.slice(0, 3)).toEqual(['查询码', '受理时间', '渠道']);
      expect(data.find((r) => r[0] === TRACKING.A)!.slice(11, 13)).toEqual(['区环保局', '区经信委']);
      expect(data.find((r) => r[0] === TRACKING.D)![18]).toBe('基本满意');
      // The API's file keeps the codes of the status, channel and close reason for scripts (the desk's download names them).
      const a = data.find((r) => r[0] === TRACKING.A)!;
      expect([a[2], a[3], a[21]]).toEqual(['web', 'closed', 'rated']);
    });

    it('filters by status and by type', async () => {
      const closed = parseCsv((await download(`from=${FROM}&to=${TO}&status=closed`)).text.slice(1)).slice(1);
      expect(closed.map((r) => r[0])).toEqual([TRACKING.A, TRACKING.D]);
      const hazardous = parseCsv((await download(`from=${FROM}&to=${TO}&type=hazardous_waste`)).text.slice(1)).slice(1);
      expect(hazardous.map((r) => r[0])).toEqual([TRACKING.C, TRACKING.D]);
      const none = await download(`from=${FROM}&to=${TO}&status=transferred`);
      expect(parseCsv(none.text.slice(1))).toHaveLength(1);
      expect((await download('status=finished')).res.status).toBe(400);
    });

    it('refuses a type no district file has and no case carries, or one too long for a code, with a 400 naming type, instead of an empty file', async () => {
      for (const [query, reason] of [
        ['type=noize', 'unknown type "noize"'],
        [`type=${'a'.repeat(61)}`, 'at most 60 characters'],
        ['type=噪声', 'must be a code of the district file, e.g. illegal_discharge'],
        ['status=finished', `use one of ${CASE_STATUSES.join(', ')}`],
      ] as const) {
        const { res, text } = await download(`from=${FROM}&to=${TO}&${query}`);
        expect(res.status, `${query}: ${text}`).toBe(400);
        expect(res.headers.get('content-type'), query).toMatch(/^application\/json/);
        expect((JSON.parse(text) as { error: { fields: Record<string, string> } }).error.fields, query).toEqual({ [query.split('=')[0]!]: reason });
      }
      // A type of the district file no case of the period has is an empty file, as before.
      const none = await download(`from=${FROM}&to=${TO}&type=mining_tailings`);
      expect(none.res.status, none.text).toBe(200);
      expect(parseCsv(none.text.slice(1))).toHaveLength(1);
    });

    it('is for dispatchers and admins only', async () => {
      expect((await get('/api/v1/export/cases.csv')).status).toBe(401);
      for (const role of ['operator', 'bureau'] as const) expect((await get('/api/v1/export/cases.csv', role)).status, role).toBe(403);
      expect((await download('', 'admin')).res.status).toBe(200);
    });
  });

  describe('GET /api/v1/export/stats.csv', () => {
    it('gives one row per group and a total, the same figures as /stats', async () => {
      const res = await get(`/api/v1/export/stats.csv?from=${FROM}&to=${TO}&groupBy=bureau&lang=en`, 'dispatcher');
      const bytes = new Uint8Array(await res.arrayBuffer());
      expect(res.status).toBe(200);
      expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
      expect(res.headers.get('content-disposition')).toBe(`attachment; filename="stats_bureau_${FROM}_${TO}.csv"`);
      const text = new TextDecoder().decode(bytes);
      expect(text.split('\r\n')).toEqual([
        // The response rate's denominator comes last, after the columns the file always had.
        'key,name,received,dispatched,signed_on_time,due,replied_on_time,overdue_now,rated,satisfied,basic,dissatisfied,solved,reopened,returned,response_rate,resolution_rate,satisfaction_rate,sign_due',
        'epb,District Environmental Protection Bureau,6,6,3,3,2,1,3,1,1,1,2,1,1,0.6,0.6667,0.6667,5',
        'econ,District Economy and Information Technology Commission,2,2,0,2,0,1,0,0,0,0,0,0,0,0,0,,2',
        'police,District Police Station,1,1,0,0,0,0,0,0,0,0,0,0,0,,,,0',
        'xinglong,Xinglong Sub-district Office,2,2,2,2,2,0,0,0,0,0,0,0,0,1,1,,2',
        ',Total,7,11,5,7,4,2,3,1,1,1,2,1,1,0.5556,0.5714,0.6667,9',
        '',
      ]);
    });

    it('is for dispatchers and admins only, and validates like /stats', async () => {
      expect((await get('/api/v1/export/stats.csv?groupBy=type')).status).toBe(401);
      for (const role of ['operator', 'bureau'] as const) expect((await get('/api/v1/export/stats.csv?groupBy=type', role)).status, role).toBe(403);
      expect((await get('/api/v1/export/stats.csv', 'dispatcher')).status).toBe(400);
      expect((await get('/api/v1/export/stats.csv?groupBy=type', 'admin')).status).toBe(200);
    });
  });

  it('documents the routes in the OpenAPI document, the public one without security', async () => {
    const doc = (await (await fetch(`${service.url}/openapi.json`)).json()) as {
      paths: Record<string, { get: { security?: unknown[] } }>;
    };
    for (const path of ['/api/v1/stats', '/api/v1/export/cases.csv', '/api/v1/export/stats.csv']) {
      expect(doc.paths[path]?.get.security, path).toEqual([{ bearerAuth: [] }]);
    }
    expect(doc.paths['/api/v1/public/stats']?.get.security).toBeUndefined();
  });

  describe('keyset pagination', () => {
    it('reads every case of the period once, in order, across batch boundaries and equal timestamps', async () => {
      const window = { fromInstant: startOfLocalDay(FROM, 'Asia/Shanghai').toISOString(), toInstant: '2026-11-30T16:00:00.000Z' };
      const seen: string[] = [];
      let batches = 0;
      for await (const batch of exportCaseBatches(service.deps.db, window, 2)) {
        batches++;
        seen.push(...batch.map((c) => c.id));
      }
      const all: string[] = [];
      for await (const batch of statsCaseBatches(service.deps.db, window, 3)) all.push(...batch.map((c) => c.id));
      const expected = ['H', 'B', 'A', 'C', 'D'].map((k) => ids[k]!).concat([ids.E!, ids.I!].sort());
      expect(seen).toEqual(expected);
      expect(all).toEqual(expected);
      expect(batches).toBe(4);
    });

    it('streams an export larger than one batch of 1000, and counts it', async () => {
      // March 2025: far from the dataset above, so the other tests do not see these.
      const n = 2100;
      const rows = Array.from({ length: n }, (_, i) => {
        const at = new Date(Date.parse('2025-03-01T00:00:00.000Z') + Math.floor(i / 3) * 60_000).toISOString();
        return caseRow({ key: 'X', receivedAt: at, status: 'triage', type: 'noise', jurisdiction: null, text: `批量 ${i} 电话13512345678` }, newId());
      }).map((r, i) => ({ ...r, tracking_code: `BULK${String(i).padStart(6, '0')}` }));
      for (let i = 0; i < rows.length; i += 500) await insertCases(service.deps.db, rows.slice(i, i + 500));
      const res = await get('/api/v1/export/cases.csv?from=2025-03-01&to=2025-03-31&lang=en', 'dispatcher');
      const text = await res.text();
      expect(res.status).toBe(200);
      const data = parseCsv(text).slice(1);
      expect(data).toHaveLength(n);
      expect(new Set(data.map((r) => r[0])).size).toBe(n);
      expect(text).not.toContain('13512345678');
      const stats = (await bodyOf(await get('/api/v1/stats?from=2025-03-01&to=2025-03-31&groupBy=type', 'dispatcher'))) as { totals: Measures };
      expect(stats.totals.received).toBe(n);
    });
  });
});
