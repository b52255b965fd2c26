import { beforeAll, describe, expect, it } from 'vitest';
import { findCase } from '../db/repositories/cases.repository.js';
import { listCorrections } from '../db/repositories/corrections.repository.js';
import { listPendingExtensions } from '../db/repositories/desk.repository.js';
import { lastEventId } from '../db/repositories/events.repository.js';
import { checkDeadlines } from '../src/workflow/deadline-check.js';
import { mergeCase, releaseUnit, routeCase, setCasePlace, superviseCase, transferCase, untransferCase } from '../src/workflow/dispatcher.js';
import type { ManualClock } from '../src/clock.js';
import { createPgDatabase } from './harness.js';
import { client, json, notificationsOf, seedCase, startWorkflowService, type Staff, type TestService } from './workflow-helpers.js';

describe.each([
  ['SQLite', async () => ({})],
  ['PostgreSQL', async () => ({ DATABASE_URL: await createPgDatabase('wfdesk') })],
])('dispatcher work on %s', (_engine, dbEnv) => {
  let service: TestService;
  let clock: ManualClock;
  let staff: Staff;
  const as = (token: string | null) => client(service.url, token);

  beforeAll(async () => {
    ({ service, clock, staff } = await startWorkflowService('wfdesk', await dbEnv()));
  });

  describe('return and re-route', () => {
    it('keeps a signed-for case accepted when a re-route only adds a co-handler', async () => {
      const { id } = await seedCase(service, clock, { text: '电镀厂偷排（加协办测试）', jurisdiction: null, assignments: [{ unit: 'epb', role: 'lead' }] });
      expect((await as(staff.epb).post(`/api/v1/cases/${id}/accept`, {})).status).toBe(200);
      const noticesBefore = (await notificationsOf(service, id)).filter((n) => n.audience === 'reporter' && n.kind === 'dispatched').length;
      const r = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/route`, { type: 'illegal_discharge', lead: 'epb', co: ['police'], reason: '涉嫌犯罪，请派出所协办' }));
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.status).toBe('accepted');
      expect(r.body.assignments.filter((a: any) => a.status !== 'released').map((a: any) => `${a.role}:${a.bureau.code}:${a.status}`).sort()).toEqual(['co:police:pending', 'lead:epb:accepted']);
      expect(r.body.events.at(-1)).toMatchObject({ kind: 'rerouted', actor: { role: 'dispatcher' } });
      expect((await notificationsOf(service, id)).filter((n) => n.audience === 'reporter' && n.kind === 'dispatched')).toHaveLength(noticesBefore);

      // The lead answers while the police station has not: releasing it by a re-route completes the case.
      expect((await json(as(staff.epb).post(`/api/v1/cases/${id}/reply`, { text: '已责令整改' }))).body.status).toBe('accepted');
      const done = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/route`, { type: 'illegal_discharge', lead: 'epb', co: [], reason: '不需要派出所了' }));
      expect(done.status, JSON.stringify(done.body)).toBe(200);
      expect(done.body.status).toBe('replied');
    });

    it("keeps the case's local office in its role when it is named among the co-handlers too: nothing released, nothing sent again", async () => {
      const { id } = await seedCase(service, clock, { text: '电镀厂偷排（属地列为协办测试）' });
      const before = (await json(as(staff.dispatcher).get(`/api/v1/cases/${id}`))).body;
      const r = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/route`, { type: 'illegal_discharge', co: ['econ', 'xinglong'], reason: '兴隆办事处配合' }));
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.assignments.map((a: any) => `${a.role}:${a.bureau.code}:${a.status}`).sort()).toEqual(['co:econ:pending', 'jurisdiction:xinglong:pending', 'lead:epb:pending']);
      expect(r.body.assignments.find((a: any) => a.bureau.code === 'xinglong').deadlines).toEqual(before.assignments.find((a: any) => a.bureau.code === 'xinglong').deadlines);
      expect((await notificationsOf(service, id)).filter((n) => n.audience === 'unit:xinglong')).toEqual([]);
      // A new place named both ways: it joins once, as the jurisdiction.
      const moved = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/route`, { type: 'illegal_discharge', co: ['econ', 'lijiatang'], jurisdiction: 'lijiatang', reason: '属地改为李家塘' }));
      expect(moved.status, JSON.stringify(moved.body)).toBe(200);
      expect(moved.body.assignments.filter((a: any) => a.status === 'pending').map((a: any) => `${a.role}:${a.bureau.code}`).sort()).toEqual(['co:econ', 'jurisdiction:lijiatang', 'lead:epb']);
    });

    it("refuses a local office named as a co-handler but not as the case's jurisdiction: a 400 naming co, nothing changed", async () => {
      // A case with no place: named among the co-handlers only, the office would handle it while the case stays without a
      // place (listed on the desk for one, counted under 属地不明), and given the place later it would hold the wrong role.
      const { id } = await seedCase(service, clock, { text: '电镀厂偷排（无属地，办事处列为协办）', jurisdiction: null, assignments: [{ unit: 'epb', role: 'lead' }] });
      const db = service.deps.db;
      const stateOf = async () => ({
        row: await db.selectFrom('cases').select(['version', 'jurisdiction_code', 'flags']).where('id', '=', id).executeTakeFirstOrThrow(),
        assignments: await db.selectFrom('assignments').select(['unit_code', 'role', 'status']).where('case_id', '=', id).orderBy('unit_code').execute(),
        notices: (await notificationsOf(service, id)).length,
      });
      const before = await stateOf();
      const refused = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/route`, { type: 'illegal_discharge', co: ['econ', 'xinglong'], reason: '兴隆办事处配合' }));
      expect(refused.status, JSON.stringify(refused.body)).toBe(400);
      expect(refused.body.error.code).toBe('validation_failed');
      expect(refused.body.error.fields).toEqual({ co: '"xinglong" is a local office, not a bureau: it takes part as the case\'s jurisdiction (give it as jurisdiction), not as a co-handler' });
      expect(await stateOf()).toEqual(before);
      // So is one that says the case needs no place.
      const none = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/route`, { type: 'illegal_discharge', co: ['xinglong'], jurisdiction: null, reason: '兴隆办事处配合' }));
      expect(none.status, JSON.stringify(none.body)).toBe(400);
      expect(Object.keys(none.body.error.fields)).toEqual(['co']);
      expect(await stateOf()).toEqual(before);

      // Given as the case's place, the office takes part as its jurisdiction and the case has its place.
      const placed = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/route`, { type: 'illegal_discharge', co: ['econ', 'xinglong'], jurisdiction: 'xinglong', reason: '属地为兴隆办事处' }));
      expect(placed.status, JSON.stringify(placed.body)).toBe(200);
      expect(placed.body.jurisdiction.code).toBe('xinglong');
      expect(placed.body.flags).not.toContain('place_unknown');
      expect(placed.body.assignments.filter((a: any) => a.status === 'pending').map((a: any) => `${a.role}:${a.bureau.code}`).sort()).toEqual(['co:econ', 'jurisdiction:xinglong', 'lead:epb']);

      // Another office beside the case's own is refused as well: a case has one place.
      const second = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/route`, { type: 'illegal_discharge', co: ['econ', 'huilongxu', 'xinglong'], reason: '回龙圩镇配合' }));
      expect(second.status, JSON.stringify(second.body)).toBe(400);
      expect(second.body.error.fields.co).toMatch(/^"huilongxu" is a local office/);
    });

    it('makes a case urgent when it is routed to an urgent type, or when the dispatcher says so, with the urgent deadlines', async () => {
      const hours = (iso: string | null, h: number) => expect(iso).toBe(new Date(clock.now().getTime() + h * 3600_000).toISOString());
      // Out of triage as 危险废物: urgent like one the intake read so, signed for within 2 hours.
      const vague = await seedCase(service, clock, { text: '厂后面堆了好多桶（紧急度测试）', status: 'triage', type: 'other', confidence: 0.3 });
      const routed = await json(as(staff.dispatcher).post(`/api/v1/cases/${vague.id}/route`, { type: 'hazardous_waste', reason: '桶装废液，按危废派发' }));
      expect(routed.status, JSON.stringify(routed.body)).toBe(200);
      expect(routed.body.urgent).toBe(true);
      hours(routed.body.deadlines.signBy, 2);
      expect(routed.body.assignments.filter((a: any) => a.status === 'pending').every((a: any) => a.deadlines.signBy === routed.body.deadlines.signBy)).toBe(true);
      expect(routed.body.events.at(-1).data).toMatchObject({ urgent: true, previousUrgent: false });

      // Under handling, made urgent by the dispatcher: the units that keep their part get the urgent deadlines
      // where sooner (the lead signed for already: its reply only); said once, then nothing to change.
      const plain = await seedCase(service, clock, { text: '电镀厂偷排（督办紧急测试）', jurisdiction: null, assignments: [{ unit: 'epb', role: 'lead' }, { unit: 'econ', role: 'co' }] });
      expect((await as(staff.epb).post(`/api/v1/cases/${plain.id}/accept`, {})).status).toBe(200);
      const before = (await json(as(staff.dispatcher).get(`/api/v1/cases/${plain.id}`))).body;
      const lead = (b: any) => b.assignments.find((a: any) => a.role === 'lead' && a.status !== 'released');
      const co = (b: any) => b.assignments.find((a: any) => a.role === 'co' && a.status !== 'released');
      const urgent = await json(as(staff.dispatcher).post(`/api/v1/cases/${plain.id}/route`, { type: 'illegal_discharge', urgent: true, reason: '村民饮用水井受影响' }));
      expect(urgent.status, JSON.stringify(urgent.body)).toBe(200);
      expect(urgent.body.urgent).toBe(true);
      expect(urgent.body.status).toBe('accepted');
      expect(lead(urgent.body).deadlines.signBy).toBe(lead(before).deadlines.signBy);
      expect(lead(urgent.body).deadlines.replyBy < lead(before).deadlines.replyBy).toBe(true);
      expect(urgent.body.deadlines.replyBy).toBe(lead(urgent.body).deadlines.replyBy);
      hours(co(urgent.body).deadlines.signBy, 2);
      const again = await json(as(staff.dispatcher).post(`/api/v1/cases/${plain.id}/route`, { type: 'illegal_discharge', urgent: true, reason: '再点一次' }));
      expect(again.body.events.length).toBe(urgent.body.events.length);

      // Not urgent after all, as the dispatcher says: the deadlines given stay; left unsaid, a re-route keeps it urgent.
      const kept = await json(as(staff.dispatcher).post(`/api/v1/cases/${vague.id}/route`, { type: 'hazardous_waste', jurisdiction: 'xinglong', reason: '补属地' }));
      expect(kept.body.urgent).toBe(true);
      const calm = await json(as(staff.dispatcher).post(`/api/v1/cases/${vague.id}/route`, { type: 'hazardous_waste', urgent: false, reason: '核实为空桶，不紧急' }));
      expect(calm.status, JSON.stringify(calm.body)).toBe(200);
      expect(calm.body.urgent).toBe(false);
      expect(calm.body.deadlines).toEqual(kept.body.deadlines);
      expect((await json(as(staff.dispatcher).post(`/api/v1/cases/${vague.id}/route`, { type: 'hazardous_waste', urgent: 'yes', reason: 'x' }))).body.error.fields).toEqual({ urgent: 'must be true or false' });
    });

    it('writes nothing for a re-route that would change nothing, dispatched or signed for, and takes one that changes only the place', async () => {
      const { id, trackingCode } = await seedCase(service, clock, {
        text: '电镀厂偷排（原样改派测试）',
        type: 'illegal_discharge',
        jurisdiction: null,
        assignments: [
          { unit: 'epb', role: 'lead' },
          { unit: 'econ', role: 'co' },
        ],
      });
      const same = { type: 'illegal_discharge', reason: '按原类型再派一次' };
      const dispatcher = { userId: 'desk', name: '调度老李', role: 'dispatcher' as const, unitCode: null, tokenId: 'desk' };
      const track = async () => (await json(client(service.url, null).get(`/api/v1/track/${trackingCode}`))).body;
      const before = { c: await findCase(service.deps.db, id), event: await lastEventId(service.deps.db, id), notices: (await notificationsOf(service, id)).length, track: await track() };
      for (const status of ['dispatched', 'accepted']) {
        if (status === 'accepted') expect((await as(staff.epb).post(`/api/v1/cases/${id}/accept`, {})).status).toBe(200);
        const was = { c: await findCase(service.deps.db, id), event: await lastEventId(service.deps.db, id), notices: (await notificationsOf(service, id)).length };
        expect(was.c!.status).toBe(status);
        // Answered as a re-route is (a double submit or a retry gets what the first got), with the case as it is.
        const r = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/route`, same));
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        expect(r.body.status).toBe(status);
        expect(await routeCase(service.deps, dispatcher, id, { ...same, lead: 'epb', co: ['econ'] })).toEqual({ rerouted: false, unchanged: true });
        // Nothing written: no event, no notice, the case as it was.
        expect(await lastEventId(service.deps.db, id)).toBe(was.event);
        expect((await notificationsOf(service, id)).length).toBe(was.notices);
        expect(await findCase(service.deps.db, id)).toEqual(was.c);
      }
      // The public history never said the case was sent again.
      expect((await track()).history.filter((h: any) => h.status === 'dispatched')).toEqual(before.track.history.filter((h: any) => h.status === 'dispatched'));

      // The same type and units with a place: the local office joins, the lead keeps the case it signed for.
      const placed = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/route`, { ...same, jurisdiction: 'xinglong' }));
      expect(placed.status, JSON.stringify(placed.body)).toBe(200);
      expect(placed.body.status).toBe('accepted');
      expect(placed.body.assignments.filter((a: any) => a.status !== 'released').map((a: any) => `${a.role}:${a.bureau.code}:${a.status}`).sort()).toEqual([
        'co:econ:pending',
        'jurisdiction:xinglong:pending',
        'lead:epb:accepted',
      ]);
      // Saying "no place" to a case routed without one is a change too: the case is no longer flagged as missing one.
      const { id: unplaced } = await seedCase(service, clock, { text: '电镀厂偷排（无属地测试）', type: 'illegal_discharge', jurisdiction: null, flags: ['place_unknown'], assignments: [{ unit: 'epb', role: 'lead' }, { unit: 'econ', role: 'co' }] });
      const none = await json(as(staff.dispatcher).post(`/api/v1/cases/${unplaced}/route`, { ...same, jurisdiction: null }));
      expect(none.status, JSON.stringify(none.body)).toBe(200);
      expect((await findCase(service.deps.db, unplaced))!.flags).not.toContain('place_unknown');
    });

    it('lets a case re-routed after its lead returned it be answered and closed without the unit that returned it', async () => {
      const { id, trackingCode } = await seedCase(service, clock, { text: '电镀厂偷排（退回后改派测试）', jurisdiction: null, assignments: [{ unit: 'agri', role: 'lead' }] });
      expect((await as(staff.agri).post(`/api/v1/cases/${id}/return`, { reason: 'not_our_remit', note: '是工厂排污，不是农业' })).status).toBe(200);
      const r = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/route`, { type: 'illegal_discharge', co: [], reason: '改派环保局' }));
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      // The unit that returned it is let go by the re-route: its return stays in the history.
      expect(r.body.assignments.map((a: any) => `${a.role}:${a.bureau.code}:${a.status}`).sort()).toEqual(['lead:agri:released', 'lead:epb:pending']);
      expect(r.body.events.some((e: any) => e.kind === 'status' && e.toStatus === 'triage' && e.data?.unit === 'agri')).toBe(true);
      expect((await as(staff.epb).post(`/api/v1/cases/${id}/accept`)).status).toBe(200);
      const replied = await json(as(staff.epb).post(`/api/v1/cases/${id}/reply`, { text: '已查处' }));
      expect(replied.status, JSON.stringify(replied.body)).toBe(200);
      expect(replied.body.status).toBe('replied');
      const rated = await json(client(service.url, null).post(`/api/v1/track/${trackingCode}/feedback`, { rating: 'satisfied', solved: true }));
      expect(rated.status, JSON.stringify(rated.body)).toBe(201);
      expect(rated.body.status).toBe('closed');
      // Counted once as returned by agri, whose assignment was made and let go.
      const stats = await json(as(staff.dispatcher).get('/api/v1/stats?groupBy=bureau&from=2026-10-01&to=2026-12-31'));
      expect(stats.body.groups.find((g: any) => g.key === 'agri')?.returned).toBeGreaterThanOrEqual(1);
    });

    it('lets a case answered by everyone else close when the local office that returned it as not theirs is replaced by a re-route', async () => {
      const { id } = await seedCase(service, clock, { text: '电镀厂偷排（属地退回测试）' });
      expect((await as(staff.xinglong).post(`/api/v1/cases/${id}/return`, { reason: 'wrong_jurisdiction', note: '不在我办辖区' })).status).toBe(200);
      const r = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/route`, { jurisdiction: 'lijiatang', reason: '属地改为李家塘' }));
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.assignments.filter((a: any) => a.bureau.code === 'xinglong').map((a: any) => a.status)).toEqual(['released']);
      for (const token of [staff.epb, staff.econ]) expect((await as(token).post(`/api/v1/cases/${id}/accept`)).status).toBe(200);
      expect((await json(as(staff.econ).post(`/api/v1/cases/${id}/reply`, { text: '已配合' }))).status).toBe(200);
      // The new local office is released by the dispatcher (it has no staff here): the lead's answer completes the case.
      expect((await as(staff.dispatcher).post(`/api/v1/cases/${id}/release`, { unit: 'lijiatang', reason: '无需属地配合' })).status).toBe(200);
      const replied = await json(as(staff.epb).post(`/api/v1/cases/${id}/reply`, { text: '已查处' }));
      expect(replied.status, JSON.stringify(replied.body)).toBe(200);
      expect(replied.body.status).toBe('replied');
    });

    it('refuses a route that would keep, without a word, the local office that returned the case as not in its area', async () => {
      const { id } = await seedCase(service, clock, { text: '电镀厂偷排（属地退回后直接派单）' });
      expect((await as(staff.xinglong).post(`/api/v1/cases/${id}/return`, { reason: 'wrong_jurisdiction', note: '不在我办辖区' })).status).toBe(200);
      const kept = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/route`, { type: 'illegal_discharge', reason: '按规则派单' }));
      expect(kept.status, JSON.stringify(kept.body)).toBe(400);
      expect(kept.body.error.fields).toEqual({ jurisdiction: expect.stringContaining('returned the case as outside its area') });
      expect((await json(as(staff.dispatcher).get(`/api/v1/cases/${id}`))).body.assignments.find((a: any) => a.bureau.code === 'xinglong').status).toBe('returned');
      // Naming the same office on purpose, or none, is the dispatcher's decision.
      const none = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/route`, { type: 'illegal_discharge', jurisdiction: null, reason: '属地待定' }));
      expect(none.status, JSON.stringify(none.body)).toBe(200);
      expect(none.body.assignments.find((a: any) => a.bureau.code === 'xinglong').status).toBe('released');
    });

    it('lets the place given on the desk replace a local office that returned the case as not in its area', async () => {
      const { id } = await seedCase(service, clock, { text: '电镀厂偷排（补充属地测试）', assignments: [{ unit: 'epb', role: 'lead' }, { unit: 'xinglong', role: 'jurisdiction' }] });
      expect((await as(staff.xinglong).post(`/api/v1/cases/${id}/return`, { reason: 'wrong_jurisdiction', note: '不在我办辖区' })).status).toBe(200);
      const dispatcher = { userId: 'desk', name: '调度老李', role: 'dispatcher' as const, unitCode: null, tokenId: 'desk' };
      // Not the office that said the case is not in its area: giving it back is a re-route's decision, with its reason.
      await expect(setCasePlace(service.deps, dispatcher, id, { jurisdiction: 'xinglong', reason: '调度员补充属地' })).rejects.toMatchObject({
        code: 'validation_failed',
        fields: { jurisdiction: expect.stringContaining('xinglong returned the case as outside its area: give another local office') },
      });
      expect((await json(as(staff.dispatcher).get(`/api/v1/cases/${id}`))).body.assignments.find((a: any) => a.bureau.code === 'xinglong').status).toBe('returned');
      await setCasePlace(service.deps, dispatcher, id, { jurisdiction: 'lijiatang', reason: '调度员补充属地' });
      const view = await json(as(staff.dispatcher).get(`/api/v1/cases/${id}`));
      expect(view.body.assignments.map((a: any) => `${a.bureau.code}:${a.status}`).sort()).toEqual(['epb:pending', 'lijiatang:pending', 'xinglong:released']);
    });

    /** Applies what is due on the case at the test clock's time, as the deadline job does. */
    const checkDeadlinesOf = (id: string) => checkDeadlines({ db: service.deps.db, clock, district: service.deps.district, calendar: service.deps.calendar }, id);
    const overdueNow = async (id: string) => (await json(as(staff.dispatcher).get(`/api/v1/cases/${id}`))).body.overdue as boolean;

    it('clears the overdue flag when an extension or a re-route ends what was late, and transfers a signed-for case', async () => {

      // The police station never signs: overdue; the dispatcher re-routes to the EPB with fresh deadlines.
      // (No local office: the lead is the only unit whose deadlines count.)
      const late = await seedCase(service, clock, { text: '厂子晚上排黑水（超期改派测试）', jurisdiction: null, assignments: [{ unit: 'police', role: 'lead' }] });
      clock.advance(30 * 3600_000);
      await checkDeadlinesOf(late.id);
      expect(await overdueNow(late.id)).toBe(true);
      expect((await as(staff.dispatcher).post(`/api/v1/cases/${late.id}/route`, { type: 'illegal_discharge', lead: 'epb', co: [], reason: '改派环保局' })).status).toBe(200);
      expect(await overdueNow(late.id)).toBe(false);

      // The EPB signs, then misses its reply deadline; an approved extension moves it ahead.
      expect((await as(staff.epb).post(`/api/v1/cases/${late.id}/accept`, {})).status).toBe(200);
      clock.advance(30 * 24 * 3600_000);
      await checkDeadlinesOf(late.id);
      expect(await overdueNow(late.id)).toBe(true);
      const asked = await json(as(staff.epb).post(`/api/v1/cases/${late.id}/extend`, { workingDays: 10, reason: '等检测报告' }));
      expect(asked.status, JSON.stringify(asked.body)).toBe(201);
      expect((await as(staff.dispatcher).post(`/api/v1/extensions/${asked.body.id}/approve`, { note: '同意' })).status).toBe(200);
      expect(await overdueNow(late.id)).toBe(false);

      // Signed for, and found not environmental after all: handed to 12345.
      const moved = await json(as(staff.dispatcher).post(`/api/v1/cases/${late.id}/transfer`, { reason: '实为劳资纠纷' }));
      expect(moved.status, JSON.stringify(moved.body)).toBe(200);
      expect(moved.body.status).toBe('transferred');
      // 12345 takes it outside this workflow, with no deadlines: not an assignment the response rate counts.
      const day = new Date(clock.now().getTime() + 8 * 3600_000).toISOString().slice(0, 10);
      const stats = await json(as(staff.dispatcher).get(`/api/v1/stats?from=2026-01-01&to=${day}&groupBy=bureau`));
      expect(stats.status).toBe(200);
      expect(stats.body.groups.map((g: any) => g.key)).not.toContain('hotline12345');
    });

    it('clears the overdue flag when the late unit signs for the case, and again when it replies late', async () => {
      const late = await seedCase(service, clock, { text: '厂子晚上排黑水（迟签收测试）', jurisdiction: null, assignments: [{ unit: 'epb', role: 'lead' }] });
      clock.advance(30 * 3600_000);
      await checkDeadlinesOf(late.id);
      expect(await overdueNow(late.id)).toBe(true);
      expect((await as(staff.epb).post(`/api/v1/cases/${late.id}/accept`, {})).status).toBe(200);
      expect(await overdueNow(late.id)).toBe(false);
      const overdueList = await json(as(staff.dispatcher).get('/api/v1/cases?overdue=true&limit=100'));
      expect(overdueList.body.items.map((i: any) => i.id)).not.toContain(late.id);
      // The reply deadline passes too; the late reply ends it.
      clock.advance(30 * 24 * 3600_000);
      await checkDeadlinesOf(late.id);
      expect(await overdueNow(late.id)).toBe(true);
      expect((await as(staff.epb).post(`/api/v1/cases/${late.id}/reply`, { text: '已查处（逾期答复）' })).status).toBe(200);
      expect(await overdueNow(late.id)).toBe(false);
    });

    it("keeps a unit's earlier stint in the statistics when a re-route gives it the case again", async () => {
      const { id } = await seedCase(service, clock, { text: '盐下村一个小作坊晚上往沟里排废水（统计测试）', assignments: [{ unit: 'police', role: 'lead' }] });
      const statsOfPolice = async () => {
        const day = new Date(clock.now().getTime() + 8 * 3600_000).toISOString().slice(0, 10);
        const r = await json(as(staff.dispatcher).get(`/api/v1/stats?from=2026-01-01&to=${day}&groupBy=bureau`));
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        return r.body.groups.find((g: any) => g.key === 'police');
      };
      const before = await statsOfPolice();
      // Two days later (past the sign-for deadline) the police station returns it; the dispatcher gives it back.
      clock.advance(48 * 3600_000);
      expect((await as(staff.police).post(`/api/v1/cases/${id}/return`, { reason: 'not_our_remit', note: '不是我们的' })).status).toBe(200);
      const routed = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/route`, { type: 'illegal_discharge', lead: 'police', reason: '涉嫌环境犯罪，仍由派出所牵头' }));
      expect(routed.status, JSON.stringify(routed.body)).toBe(200);
      expect((await as(staff.police).post(`/api/v1/cases/${id}/accept`, {})).status).toBe(200);
      const after = await statsOfPolice();
      // Two assignments made to it (the first was counted before): the late, returned one and the one signed for on time.
      expect(after.dispatched - before.dispatched).toBe(1);
      expect(after.returned - before.returned).toBe(1);
      expect(after.signedOnTime - before.signedOnTime).toBe(1);
      // Given back is not reopened (重办).
      expect(after.reopened - before.reopened).toBe(0);
      const renewed = routed.body.events.filter((e: any) => e.kind === 'assignment_renewed');
      expect(renewed).toHaveLength(1);
      expect(renewed[0].data.earlier).toMatchObject({ unit: 'police', status: 'returned' });
    });

    it('lets go a co-handler that answered the first round when the reopened case is re-routed without it', async () => {
      const { id, trackingCode } = await seedCase(service, clock, { text: '电镀厂偷排（重办改派测试）', jurisdiction: null, assignments: [{ unit: 'epb', role: 'lead' }, { unit: 'econ', role: 'co' }] });
      for (const token of [staff.epb, staff.econ]) expect((await as(token).post(`/api/v1/cases/${id}/accept`)).status).toBe(200);
      expect((await as(staff.econ).post(`/api/v1/cases/${id}/reply`, { text: '已配合检查' })).status).toBe(200);
      expect((await json(as(staff.epb).post(`/api/v1/cases/${id}/reply`, { text: '已责令整改' }))).body.status).toBe('replied');
      const rated = await json(client(service.url, null).post(`/api/v1/track/${trackingCode}/feedback`, { rating: 'dissatisfied', solved: false }));
      expect(rated.body.status).toBe('reopened');
      // Reopened, the lead works the case again; the co-handler's first-round answer still lets it read the case.
      expect((await json(as(staff.econ).get(`/api/v1/cases/${id}`))).body.access).toBe('full');

      const routed = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/route`, { type: 'illegal_discharge', lead: 'epb', co: ['police'], reason: '重办改由派出所协办' }));
      expect(routed.status, JSON.stringify(routed.body)).toBe(200);
      expect(routed.body.events.at(-1).data.released).toEqual(['econ']);
      const econ = await json(as(staff.econ).get(`/api/v1/cases/${id}`));
      expect(econ.body).toMatchObject({ access: 'withdrawn', text: null });
      // Its answer stays on its record.
      expect(econ.body.assignments.map((a: any) => `${a.bureau.code}:${a.status}:${a.repliedAt !== null}`)).toEqual(['econ:released:true']);
      // The lead kept in the plan holds the case.
      expect((await json(as(staff.epb).get(`/api/v1/cases/${id}`))).body.access).toBe('full');
    });

    it('teaches the classifier only the latest type a case was routed to, including back to its own guess', async () => {
      const text = '朱家观村有个厂子往沟里排废水，颜色发黑（多次改派）';
      const { id } = await seedCase(service, clock, { text });
      const route = async (type: string) => {
        clock.advance(60_000);
        const r = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/route`, { type, reason: '改派' }));
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        return r.body.events.at(-1).data.corrected as boolean;
      };
      const taught = async () => (await listCorrections(service.deps.db)).filter((c) => c.text === text).map((c) => c.label);
      // The machine said illegal_discharge.
      expect(await route('livestock_waste')).toBe(true);
      expect(await route('water_pollution')).toBe(true);
      expect(await taught()).toEqual(['water_pollution']);
      // The same type again changes nothing: no event, nothing new taught.
      const events = (await json(as(staff.dispatcher).get(`/api/v1/cases/${id}`))).body.events.length;
      const again = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/route`, { type: 'water_pollution', reason: '改派' }));
      expect(again.status, JSON.stringify(again.body)).toBe(200);
      expect(again.body.events).toHaveLength(events);
      expect(await taught()).toEqual(['water_pollution']);
      // The same type with another co-handler is a re-route, and teaches nothing new either.
      clock.advance(60_000);
      const moreUnits = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/route`, { type: 'water_pollution', co: ['police'], reason: '加派出所协办' }));
      expect(moreUnits.status, JSON.stringify(moreUnits.body)).toBe(200);
      expect(moreUnits.body.events.at(-1).data.corrected).toBe(false);
      expect(await taught()).toEqual(['water_pollution']);
      // Back to what the machine said: that is the label now, not the earlier corrections.
      expect(await route('illegal_discharge')).toBe(true);
      expect(await taught()).toEqual(['illegal_discharge']);
    });

    it('puts a returned case in triage with the classifier’s choices, re-routes it and keeps the correction', async () => {
      const { id, trackingCode } = await seedCase(service, clock, { text: '盐下村养殖场把废水排进沟里，很臭' });
      expect((await as(staff.epb).post(`/api/v1/cases/${id}/return`, { reason: 'not_our_remit', note: '是养殖场，归农业委' })).status).toBe(200);

      const triage = await json(as(staff.dispatcher).get('/api/v1/triage'));
      expect(triage.status).toBe(200);
      const item = triage.body.items.find((i: any) => i.id === id);
      expect(item.reasons).toContain('returned');
      expect(item.suggestions).toEqual([
        { code: 'illegal_discharge', name: expect.any(String), confidence: 0.91 },
        { code: 'water_pollution', name: expect.any(String), confidence: 0.05 },
      ]);

      clock.advance(3600_000);
      const routed = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/route`, { type: 'livestock_waste', reason: '养殖污染，改派农业委' }));
      expect(routed.status, JSON.stringify(routed.body)).toBe(200);
      expect(routed.body.status).toBe('dispatched');
      expect(routed.body.type).toMatchObject({ code: 'livestock_waste', classifiedAs: 'illegal_discharge' });
      const live = routed.body.assignments.filter((a: any) => a.status === 'pending').map((a: any) => [a.bureau.code, a.role]);
      expect(live).toEqual([
        ['agri', 'lead'],
        ['epb', 'co'],
        ['xinglong', 'jurisdiction'],
      ]);
      const byUnit = (u: string) => routed.body.assignments.filter((a: any) => a.bureau.code === u).map((a: any) => a.status);
      expect(byUnit('econ')).toEqual(['released']);
      // One row per unit: the bureau that returned the lead is back as a co-handler, with fresh deadlines.
      expect(byUnit('epb')).toEqual(['pending']);
      // xinglong kept its place (same role): no second assignment.
      expect(byUnit('xinglong')).toEqual(['pending']);
      const agri = routed.body.assignments.find((a: any) => a.bureau.code === 'agri');
      expect(agri.deadlines.signBy).toBe(new Date(clock.now().getTime() + 24 * 3600_000).toISOString());
      expect(routed.body.deadlines.signBy).toBe(agri.deadlines.signBy);
      const ev = routed.body.events.at(-1);
      expect(ev).toMatchObject({ kind: 'status', fromStatus: 'triage', toStatus: 'dispatched', actor: { role: 'dispatcher' } });
      expect(ev.data).toMatchObject({ reason: '养殖污染，改派农业委', type: 'livestock_waste', previousType: 'illegal_discharge', released: ['econ'], corrected: true });

      const corrections = (await listCorrections(service.deps.db)).filter((c) => c.text === '盐下村养殖场把废水排进沟里，很臭');
      expect(corrections).toEqual([{ text: '盐下村养殖场把废水排进沟里，很臭', label: 'livestock_waste', source: 'dispatcher', createdAt: clock.now().toISOString() }]);
      const row = await service.deps.db.selectFrom('classifier_corrections').selectAll().where('case_id', '=', id).executeTakeFirstOrThrow();
      expect(row.predicted).toBe('illegal_discharge');
      expect((await notificationsOf(service, id)).filter((n) => n.audience === 'reporter').map((n) => n.kind)).toEqual(['dispatched']);
      expect((await json(as(staff.dispatcher).get('/api/v1/triage'))).body.items.map((i: any) => i.id)).not.toContain(id);

      // The new lead works the case; the released one cannot.
      expect((await as(staff.agri).post(`/api/v1/cases/${id}/accept`)).status).toBe(200);
      expect((await as(staff.econ).post(`/api/v1/cases/${id}/accept`)).status).toBe(409);
      const track = (await (await fetch(`${service.url}/api/v1/track/${trackingCode}`)).json()) as { lead: { code: string }; status: string };
      expect(track).toMatchObject({ status: 'accepted', lead: { code: 'agri' } });

      // Routing again to the same type records nothing new.
      await as(staff.dispatcher).post(`/api/v1/cases/${id}/route`, { type: 'livestock_waste', co: [], reason: '去掉协办' });
      expect((await listCorrections(service.deps.db)).filter((c) => c.text === '盐下村养殖场把废水排进沟里，很臭')).toHaveLength(1);
    });

    it('routes a low-confidence case from triage with explicit units, and refuses bad ones', async () => {
      const { id } = await seedCase(service, clock, { status: 'triage', type: null, confidence: 0.2, jurisdiction: null });
      const triage = await json(as(staff.dispatcher).get('/api/v1/triage'));
      expect(triage.body.items.find((i: any) => i.id === id).reasons.sort()).toEqual(['low_confidence', 'place_unknown']);
      const noType = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/route`, { reason: '人工分派' }));
      expect(noType.status).toBe(400);
      expect(noType.body.error.fields).toHaveProperty('type');
      const badUnit = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/route`, { type: 'noise', lead: 'nobody', jurisdiction: 'epb', reason: 'x' }));
      expect(badUnit.status).toBe(400);
      expect(Object.keys(badUnit.body.error.fields).sort()).toEqual(['jurisdiction', 'lead']);
      // A town office is the 属地 co-handler, never the lead: the same rule as the routing table and the hotline.
      const officeLead = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/route`, { type: 'noise', lead: 'xinglong', reason: 'x' }));
      expect(officeLead.status).toBe(400);
      expect(officeLead.body.error.fields).toEqual({ lead: expect.stringContaining('"xinglong" is a local office, not a bureau') });
      expect((await service.deps.db.selectFrom('assignments').select('id').where('case_id', '=', id).execute()).length).toBe(0);
      const r = await json(
        as(staff.dispatcher).post(`/api/v1/cases/${id}/route`, { type: 'noise', lead: 'enforcement', co: ['epb'], jurisdiction: 'maludou', reason: '夜间施工噪声' }),
      );
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.assignments.map((a: any) => [a.bureau.code, a.role])).toEqual([
        ['enforcement', 'lead'],
        ['epb', 'co'],
        ['maludou', 'jurisdiction'],
      ]);
      expect(r.body.flags).not.toContain('place_unknown');
      expect(r.body.jurisdiction).toEqual({ code: 'maludou', name: '马鹿头办事处' });
      const row = await service.deps.db.selectFrom('classifier_corrections').selectAll().where('case_id', '=', id).executeTakeFirstOrThrow();
      expect(row).toMatchObject({ label: 'noise', predicted: null });
    });

    it('names a field it does not know instead of acting without it: misnamed co-handlers, a note under another name', async () => {
      const { id } = await seedCase(service, clock, { text: '电镀厂偷排（字段名拼错测试）', jurisdiction: null, assignments: [{ unit: 'epb', role: 'lead' }] });
      const other = await seedCase(service, clock, { text: '电镀厂偷排（合并目标）' });
      const before = (await json(as(staff.dispatcher).get(`/api/v1/cases/${id}`))).body;
      for (const [path, body, field] of [
        // Without the co-handlers it names, the routing table's would be given the case.
        [`/api/v1/cases/${id}/route`, { type: 'illegal_discharge', lead: 'epb', coHandlers: ['police'], reason: '涉嫌犯罪，请派出所协办' }, 'coHandlers'],
        [`/api/v1/cases/${id}/merge`, { into: other.id, reason: '重复举报', note: '同一家电镀厂' }, 'note'],
        [`/api/v1/cases/${id}/transfer`, { reason: '应由12345办理', to: '12369' }, 'to'],
        [`/api/v1/cases/${id}/release`, { unit: 'epb', reason: '无需配合', units: ['police'] }, 'units'],
        [`/api/v1/cases/${id}/supervise`, { note: '请尽快办理', notes: '已超期' }, 'notes'],
        // Without its time, everything that ever failed to the unit would go out again.
        ['/api/v1/units/epb/redeliver', { from: '2026-12-01T00:00:00+08:00' }, 'from'],
        ['/api/v1/extensions/no-such/approve', { comment: '同意' }, 'comment'],
        ['/api/v1/extensions/no-such/refuse', { note: '不同意', reason: '材料不足' }, 'reason'],
      ] as const) {
        const res = await json(as(staff.dispatcher).post(path, body));
        expect(res.status, `${path} ${JSON.stringify(res.body)}`).toBe(400);
        expect(res.body.error.fields, path).toEqual({ [field]: 'unknown field' });
      }
      const after = (await json(as(staff.dispatcher).get(`/api/v1/cases/${id}`))).body;
      expect(after.status).toBe(before.status);
      expect(after.events).toHaveLength(before.events.length);
      expect(after.assignments).toEqual(before.assignments);
      expect((await json(as(staff.dispatcher).get(`/api/v1/cases/${other.id}`))).body.status).toBe('dispatched');
    });
  });

  describe('merge', () => {
    it("merges a duplicate into an open case; its reporter follows that case under their own code, never learning the other's", async () => {
      const survivor = await seedCase(service, clock, { contact: { name: '赵大妈', phone: '13700001111', share: false }, assignments: [{ unit: 'epb', role: 'lead' }] });
      const dup = await seedCase(service, clock);
      const self = await json(as(staff.dispatcher).post(`/api/v1/cases/${dup.id}/merge`, { into: dup.id, reason: '重复' }));
      expect(self.status).toBe(400);
      const nowhere = await json(as(staff.dispatcher).post(`/api/v1/cases/${dup.id}/merge`, { reason: '重复' }));
      expect(nowhere.status).toBe(400);
      expect(nowhere.body.error.fields).toEqual({ into: 'required' });
      const r = await json(as(staff.dispatcher).post(`/api/v1/cases/${dup.id}/merge`, { into: survivor.id, reason: '同一工厂重复举报' }));
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      // Staff read both codes.
      expect(r.body).toMatchObject({ status: 'merged', mergedInto: { id: survivor.id, trackingCode: survivor.trackingCode }, closeReason: 'merged' });
      expect(r.body.assignments.every((a: any) => a.status === 'released')).toBe(true);
      expect(r.body.events.at(-1)).toMatchObject({ toStatus: 'merged', note: `与案件 ${survivor.trackingCode} 合并办理` });
      const target = await json(as(staff.dispatcher).get(`/api/v1/cases/${survivor.id}`));
      expect(target.body.events.at(-1)).toMatchObject({ kind: 'merged_in', data: { from: dup.id, fromTrackingCode: dup.trackingCode } });
      // The reporter is told under their own code: the surviving case's code opens its page and rates its answer.
      const notice = (await notificationsOf(service, dup.id)).find((n) => n.kind === 'merged');
      expect(notice).toMatchObject({ audience: 'reporter' });
      expect(JSON.stringify(notice)).not.toContain(survivor.trackingCode);
      const track = async (code: string) => (await (await fetch(`${service.url}/api/v1/track/${code}`)).json()) as any;
      let view = await track(dup.trackingCode);
      expect(view).toMatchObject({ trackingCode: dup.trackingCode, status: 'merged' });
      expect(view.history.at(-1)).toMatchObject({ status: 'merged', note: '已与反映同一问题的案件合并办理，请继续以本查询码查询进展' });
      expect(view.mergedCase).toMatchObject({ status: 'dispatched', lead: { code: 'epb', name: '区环保局' }, type: { code: 'illegal_discharge' }, reply: null });
      expect(JSON.stringify(view)).not.toContain(survivor.trackingCode);
      expect((await track(survivor.trackingCode)).mergedCase).toBeNull();

      // The answer reaches the duplicate's page, with the other reporter's name and phone masked; only the case's own code rates it.
      expect((await as(staff.epb).post(`/api/v1/cases/${survivor.id}/accept`)).status).toBe(200);
      expect((await as(staff.epb).post(`/api/v1/cases/${survivor.id}/reply`, { text: '赵大妈您好，已责令停产整改，电话13700001111已回访。' })).status).toBe(200);
      view = await track(dup.trackingCode);
      expect(view.mergedCase).toMatchObject({ status: 'replied', reply: { text: '赵**您好，已责令停产整改，电话137****1111已回访。' } });
      expect(view.rating).toBeNull();
      const byDuplicate = await json(client(service.url, null).post(`/api/v1/track/${dup.trackingCode}/feedback`, { rating: 'dissatisfied', solved: false }));
      expect(byDuplicate.status).toBe(409);
      expect((await track(survivor.trackingCode)).status).toBe('replied');

      // Nothing more happens on the merged case, and nothing merges into it.
      expect((await as(staff.epb).post(`/api/v1/cases/${dup.id}/accept`)).status).toBe(409);
      const third = await seedCase(service, clock);
      expect((await as(staff.dispatcher).post(`/api/v1/cases/${third.id}/merge`, { into: dup.id, reason: 'x' })).status).toBe(409);
      expect((await as(staff.dispatcher).post(`/api/v1/cases/${third.id}/merge`, { into: 'no-such-case', reason: 'x' })).status).toBe(400);
    });

    it('leaves a merged case no deadlines of its own, nor the case a merge undone sends back to triage, until it is routed again', async () => {
      const survivor = await seedCase(service, clock, { text: '电镀厂偷排（并案期限测试，原案）', assignments: [{ unit: 'epb', role: 'lead' }] });
      const dup = await seedCase(service, clock, { text: '电镀厂偷排（并案期限测试，重复）' });
      const before = (await json(as(staff.dispatcher).get(`/api/v1/cases/${dup.id}`))).body;
      expect(before.deadlines.signBy).not.toBeNull();
      const merged = await json(as(staff.dispatcher).post(`/api/v1/cases/${dup.id}/merge`, { into: survivor.id, reason: '重复举报' }));
      expect(merged.status, JSON.stringify(merged.body)).toBe(200);
      expect(merged.body.deadlines).toMatchObject({ signBy: null, replyBy: null });
      const track = (await (await fetch(`${service.url}/api/v1/track/${dup.trackingCode}`)).json()) as any;
      expect(track.deadlines).toMatchObject({ signBy: null, replyBy: null });
      expect(track.mergedCase.deadlines.signBy).not.toBeNull();
      const undone = await json(as(staff.dispatcher).post(`/api/v1/cases/${dup.id}/unmerge`, { reason: '不是同一个问题' }));
      expect(undone.body).toMatchObject({ status: 'triage', deadlines: { signBy: null, replyBy: null } });
      const routed = await json(as(staff.dispatcher).post(`/api/v1/cases/${dup.id}/route`, { type: 'illegal_discharge', reason: '单独办理' }));
      expect(routed.status, JSON.stringify(routed.body)).toBe(200);
      expect(Date.parse(routed.body.deadlines.signBy)).toBeGreaterThan(clock.now().getTime());
    });

    it('masks the name of a reporter merged into a case wherever its bureau, its own reporter and the public read what staff wrote', async () => {
      const survivor = await seedCase(service, clock, { text: '电镀厂偷排（并案姓名测试）', contact: { name: '赵大妈', phone: '13700001111', share: false }, assignments: [{ unit: 'epb', role: 'lead' }] });
      const dup = await seedCase(service, clock, { text: '那个电镀厂又在偷排了', contact: { name: '上官短语', phone: '0773-2812345', share: false } });
      const merged = await json(as(staff.dispatcher).post(`/api/v1/cases/${dup.id}/merge`, { into: survivor.id, reason: '重复举报：上官短语反映的是同一家工厂' }));
      expect(merged.status, JSON.stringify(merged.body)).toBe(200);
      expect((await as(staff.epb).post(`/api/v1/cases/${survivor.id}/accept`)).status).toBe(200);
      // The merged reporter left a school's number; the answer gives it without its area code, as a unit's number would be.
      const answer = '已联系上官短语（学校电话2812345）和赵大妈核实，电镀厂已停产整改。';
      expect((await as(staff.epb).post(`/api/v1/cases/${survivor.id}/reply`, { text: answer })).status).toBe(200);

      // The case's bureau: the merge's reason and its own answer as it reads them back.
      const bureau = JSON.stringify((await json(as(staff.epb).get(`/api/v1/cases/${survivor.id}`))).body);
      expect(bureau).toContain('上***');
      expect(bureau).not.toContain('上官短语');
      // The dispatcher reads what was written.
      expect(JSON.stringify((await json(as(staff.dispatcher).get(`/api/v1/cases/${survivor.id}`))).body)).toContain('上官短语');
      // The case's own reporter and the duplicate's, on their tracking pages.
      const track = async (code: string) => (await (await fetch(`${service.url}/api/v1/track/${code}`)).json()) as any;
      const shown = '已联系上***（学校电话****2345）和赵**核实，电镀厂已停产整改。';
      expect((await track(survivor.trackingCode)).reply.text).toBe(shown);
      expect((await track(dup.trackingCode)).mergedCase.reply.text).toBe(shown);
      // The public list of closed cases.
      const rated = await json(client(service.url, null).post(`/api/v1/track/${survivor.trackingCode}/feedback`, { rating: 'satisfied', solved: true }));
      expect(rated.status, JSON.stringify(rated.body)).toBe(201);
      const page = await (await fetch(`${service.url}/public`)).text();
      expect(page).toContain('电镀厂已停产整改');
      expect(page).not.toContain('上官短语');
      expect(page).not.toContain('赵大妈');
      expect(page).not.toContain('2812345');
    });

    it('masks the name staff give the reporter of an anonymous report merged into a case, wherever its bureau and the public read what staff wrote', async () => {
      const survivor = await seedCase(service, clock, { text: '电镀厂偷排（匿名并案测试）', assignments: [{ unit: 'epb', role: 'lead' }] });
      const dup = await seedCase(service, clock, { text: '那个电镀厂又在偷排了' });
      // No name is kept for the duplicate's reporter: the dispatcher and the bureau name them in their own words.
      const merged = await json(as(staff.dispatcher).post(`/api/v1/cases/${dup.id}/merge`, { into: survivor.id, reason: '与王小明的举报重复，王小明反映的是同一家工厂' }));
      expect(merged.status, JSON.stringify(merged.body)).toBe(200);
      expect((await as(staff.epb).post(`/api/v1/cases/${survivor.id}/accept`)).status).toBe(200);
      const progress = await as(staff.epb).post(`/api/v1/cases/${survivor.id}/progress`, { note: '据王小明反映，夜里仍有异味，已安排夜查', public: true });
      expect(progress.status).toBe(200);
      expect((await as(staff.epb).post(`/api/v1/cases/${survivor.id}/reply`, { text: '已回访王小明，电镀厂已停产整改。' })).status).toBe(200);

      const bureau = JSON.stringify((await json(as(staff.epb).get(`/api/v1/cases/${survivor.id}`))).body);
      expect(bureau).toContain('与王**的举报重复');
      expect(bureau).toContain('已回访王**');
      expect(bureau).not.toContain('王小明');
      expect(JSON.stringify((await json(as(staff.dispatcher).get(`/api/v1/cases/${survivor.id}`))).body)).toContain('与王小明的举报重复');
      const track = async (code: string) => (await (await fetch(`${service.url}/api/v1/track/${code}`)).json()) as any;
      const own = await track(survivor.trackingCode);
      expect(own.reply.text).toBe('已回访王**，电镀厂已停产整改。');
      expect(JSON.stringify(own.history)).toContain('据王**反映，夜里仍有异味');
      expect(JSON.stringify(await track(dup.trackingCode))).not.toContain('王小明');
      const rated = await json(client(service.url, null).post(`/api/v1/track/${survivor.trackingCode}/feedback`, { rating: 'satisfied', solved: true }));
      expect(rated.status, JSON.stringify(rated.body)).toBe(201);
      const page = await (await fetch(`${service.url}/public`)).text();
      expect(page).toContain('电镀厂已停产整改');
      expect(page).not.toContain('王小明');
    });

    it('masks without the surname the name staff give the reporter of a report merged into a case who asked not to be named', async () => {
      const survivor = await seedCase(service, clock, {
        text: '我叫赵大海，电镀厂偷排（匿名并案姓氏测试）',
        contact: { name: '赵大海', phone: '13700003333', share: false },
        assignments: [{ unit: 'epb', role: 'lead' }],
      });
      const dup = await seedCase(service, clock, { text: '那个电镀厂又在偷排了', anonymous: true });
      expect((await as(staff.dispatcher).post(`/api/v1/cases/${dup.id}/merge`, { into: survivor.id, reason: '与王小明的举报重复' })).status).toBe(200);
      expect((await as(staff.epb).post(`/api/v1/cases/${survivor.id}/accept`)).status).toBe(200);
      expect((await as(staff.epb).post(`/api/v1/cases/${survivor.id}/reply`, { text: '已联系王小明核实，电镀厂已停产整改。' })).status).toBe(200);
      const view = (await json(as(staff.epb).get(`/api/v1/cases/${survivor.id}`))).body;
      // The case's own reporter, who did not ask so, reads as any reporter does in their own words.
      expect(view.text).toBe('我叫赵**，电镀厂偷排（匿名并案姓氏测试）');
      const bureau = JSON.stringify(view);
      expect(bureau).toContain('与**的举报重复');
      expect(bureau).toContain('已联系**核实');
      expect(bureau).not.toMatch(/王小明|王\*/);
      const track = async (code: string) => (await (await fetch(`${service.url}/api/v1/track/${code}`)).json()) as any;
      expect((await track(survivor.trackingCode)).reply.text).toBe('已联系**核实，电镀厂已停产整改。');
      expect((await track(dup.trackingCode)).mergedCase.reply.text).toBe('已联系**核实，电镀厂已停产整改。');
    });

    it("masks on the case a reporter's name staff gave once as a reporter's wherever else staff write it alone, not a name the reporter shared", async () => {
      const survivor = await seedCase(service, clock, { text: '电镀厂偷排（点名并案测试）', assignments: [{ unit: 'epb', role: 'lead' }] });
      const dup = await seedCase(service, clock, { text: '那个电镀厂又在偷排了' });
      expect((await as(staff.dispatcher).post(`/api/v1/cases/${dup.id}/merge`, { into: survivor.id, reason: '与王小明的举报重复' })).status).toBe(200);
      expect((await as(staff.epb).post(`/api/v1/cases/${survivor.id}/accept`)).status).toBe(200);
      // The answer names them alone: no rule says who 王小明 is there, the merge's reason did.
      expect((await as(staff.epb).post(`/api/v1/cases/${survivor.id}/reply`, { text: '已联系王小明核实，电镀厂已停产整改。' })).status).toBe(200);
      const bureau = JSON.stringify((await json(as(staff.epb).get(`/api/v1/cases/${survivor.id}`))).body);
      expect(bureau).toContain('已联系王**核实');
      expect(bureau).not.toContain('王小明');
      const track = async (code: string) => (await (await fetch(`${service.url}/api/v1/track/${code}`)).json()) as any;
      expect((await track(survivor.trackingCode)).reply.text).toBe('已联系王**核实，电镀厂已停产整改。');
      expect((await track(dup.trackingCode)).mergedCase.reply.text).toBe('已联系王**核实，电镀厂已停产整改。');
      const rated = await json(client(service.url, null).post(`/api/v1/track/${survivor.trackingCode}/feedback`, { rating: 'satisfied', solved: true }));
      expect(rated.status, JSON.stringify(rated.body)).toBe(201);
      expect(await (await fetch(`${service.url}/public`)).text()).not.toContain('王小明');

      // A case nothing was merged into: the public page reads its answer with the name a note gave as the caller's masked.
      const single = await seedCase(service, clock, { text: '电镀厂偷排（来电人点名测试）', assignments: [{ unit: 'epb', role: 'lead' }] });
      expect((await as(staff.epb).post(`/api/v1/cases/${single.id}/accept`)).status).toBe(200);
      expect((await as(staff.epb).post(`/api/v1/cases/${single.id}/progress`, { note: '经与来电人张伟沟通，情况属实' })).status).toBe(200);
      expect((await as(staff.epb).post(`/api/v1/cases/${single.id}/reply`, { text: '已联系张伟核实，单独一案已整改。' })).status).toBe(200);
      expect((await track(single.trackingCode)).reply.text).toBe('已联系张*核实，单独一案已整改。');
      expect((await json(client(service.url, null).post(`/api/v1/track/${single.trackingCode}/feedback`, { rating: 'satisfied', solved: true }))).status).toBe(201);
      const page = await (await fetch(`${service.url}/public`)).text();
      expect(page).toContain('单独一案已整改');
      expect(page).not.toContain('张伟');

      // A reporter who shared their name with the bureau: staff naming them as the reporter hides it nowhere else.
      const shared = await seedCase(service, clock, { text: '电镀厂偷排（同意告知姓名）', contact: { name: '钱多多', phone: '13700002222', share: true }, assignments: [{ unit: 'epb', role: 'lead' }] });
      expect((await as(staff.epb).post(`/api/v1/cases/${shared.id}/accept`)).status).toBe(200);
      expect((await as(staff.epb).post(`/api/v1/cases/${shared.id}/progress`, { note: '已电话联系举报人钱多多' })).status).toBe(200);
      expect((await as(staff.epb).post(`/api/v1/cases/${shared.id}/reply`, { text: '钱多多您好，电镀厂已停产整改。' })).status).toBe(200);
      const sharedView = (await json(as(staff.epb).get(`/api/v1/cases/${shared.id}`))).body;
      expect(sharedView.assignments[0].reply).toBe('钱多多您好，电镀厂已停产整改。');
    });

    it('undoes a merge made by mistake: the report goes back to triage on its own, its reporter told, both histories saying so', async () => {
      const survivor = await seedCase(service, clock, { assignments: [{ unit: 'epb', role: 'lead' }] });
      const dup = await seedCase(service, clock, { text: '回龙村养猪场粪水直排（并错的）' });
      // Only a merged case can be taken out again.
      const notMerged = await json(as(staff.dispatcher).post(`/api/v1/cases/${dup.id}/unmerge`, { reason: '并错了' }));
      expect(notMerged.status).toBe(409);
      expect(notMerged.body.error.code).toBe('illegal_transition');
      expect((await as(staff.dispatcher).post(`/api/v1/cases/${dup.id}/merge`, { into: survivor.id, reason: '重复举报' })).status).toBe(200);
      expect((await json(as(staff.dispatcher).post(`/api/v1/cases/${dup.id}/unmerge`, {}))).body.error.fields).toEqual({ reason: expect.any(String) });

      const r = await json(as(staff.dispatcher).post(`/api/v1/cases/${dup.id}/unmerge`, { reason: '不是同一个问题' }));
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body).toMatchObject({ status: 'triage', mergedInto: null, closedAt: null, closeReason: null, triageReason: 'unmerged' });
      expect(r.body.events.at(-1)).toMatchObject({ toStatus: 'triage', note: '已撤销合并，待重新分派', data: { reason: '不是同一个问题', from: survivor.id, fromTrackingCode: survivor.trackingCode } });
      const target = await json(as(staff.dispatcher).get(`/api/v1/cases/${survivor.id}`));
      expect(target.body.events.at(-1)).toMatchObject({ kind: 'unmerged_out', data: { from: dup.id, fromTrackingCode: dup.trackingCode, reason: '不是同一个问题' } });
      expect((await notificationsOf(service, dup.id)).filter((n) => n.kind === 'unmerged')).toMatchObject([{ audience: 'reporter' }]);
      const track = (await (await fetch(`${service.url}/api/v1/track/${dup.trackingCode}`)).json()) as any;
      expect(track).toMatchObject({ status: 'triage', mergedCase: null });
      expect(track.history.at(-1)).toMatchObject({ status: 'triage', note: '已撤销合并，待重新分派' });
      // In the triage list for its own routing, and routed like any case there; undone once, it cannot be undone again.
      const triage = await json(as(staff.dispatcher).get('/api/v1/triage'));
      expect(JSON.stringify(triage.body)).toContain(dup.id);
      expect((await as(staff.dispatcher).post(`/api/v1/cases/${dup.id}/unmerge`, { reason: 'x' })).status).toBe(409);
      const routed = await json(as(staff.dispatcher).post(`/api/v1/cases/${dup.id}/route`, { type: 'livestock_waste', reason: '单独派发' }));
      expect(routed.status, JSON.stringify(routed.body)).toBe(200);
      expect(routed.body.status).toBe('dispatched');
    });

    it('keeps masking the reporter of a report merged by mistake in what was written on the case while it was merged', async () => {
      const survivor = await seedCase(service, clock, { text: '电镀厂偷排（撤销并案测试）', assignments: [{ unit: 'epb', role: 'lead' }] });
      const dup = await seedCase(service, clock, { text: '那个电镀厂又在偷排了', contact: { name: '司马长青', phone: '13700003333', share: false } });
      expect((await as(staff.dispatcher).post(`/api/v1/cases/${dup.id}/merge`, { into: survivor.id, reason: '重复举报' })).status).toBe(200);
      expect((await as(staff.epb).post(`/api/v1/cases/${survivor.id}/accept`)).status).toBe(200);
      expect((await as(staff.epb).post(`/api/v1/cases/${survivor.id}/progress`, { note: '已联系司马长青（13700003333）核实', public: true })).status).toBe(200);
      expect((await as(staff.dispatcher).post(`/api/v1/cases/${dup.id}/unmerge`, { reason: '不是同一个问题' })).status).toBe(200);

      const track = (await (await fetch(`${service.url}/api/v1/track/${survivor.trackingCode}`)).json()) as any;
      expect(track.history.map((h: any) => h.note)).toContain('已联系司***（137****3333）核实');
      const bureau = JSON.stringify((await json(as(staff.epb).get(`/api/v1/cases/${survivor.id}`))).body);
      for (const seen of [JSON.stringify(track), bureau]) expect(seen).not.toContain('司马长青');
    });

    it('follows a case merged on in turn to the case it is handled in, with every reporter on the way masked', async () => {
      const first = await seedCase(service, clock, { text: '兴隆办事处电镀厂偷排废水（最早的重复举报）' });
      const middle = await seedCase(service, clock, { contact: { name: '钱秀英', phone: '13600002222', share: false } });
      const last = await seedCase(service, clock, { contact: { name: '孙建国', phone: '13500003333', share: false }, assignments: [{ unit: 'agri', role: 'lead' }] });
      for (const [from, into] of [
        [first, middle],
        [middle, last],
      ] as const) {
        expect((await as(staff.dispatcher).post(`/api/v1/cases/${from.id}/merge`, { into: into.id, reason: '重复举报' })).status).toBe(200);
      }
      // The unit's public note names the reporters of the cases on the way.
      expect((await as(staff.agri).post(`/api/v1/cases/${last.id}/accept`)).status).toBe(200);
      expect((await as(staff.agri).post(`/api/v1/cases/${last.id}/progress`, { note: '已联系钱秀英、孙建国（13500003333），正在核查', public: true })).status).toBe(200);
      const view = (await (await fetch(`${service.url}/api/v1/track/${first.trackingCode}`)).json()) as any;
      expect(view.status).toBe('merged');
      expect(view.mergedCase).toMatchObject({ status: 'accepted', lead: { code: 'agri', name: '区农业委' } });
      expect(view.mergedCase.history.at(-1)).toMatchObject({ status: 'accepted', note: '已联系钱**、孙**（135****3333），正在核查' });
      const all = JSON.stringify(view);
      for (const secret of [middle.trackingCode, last.trackingCode, '钱秀英', '孙建国', '13600002222', '13500003333']) expect(all).not.toContain(secret);
    });
  });

  describe('statistics of units a dispatcher took a case from', () => {
    it('counts no dispatch against the units of a duplicate merged before they were due to sign for it, and still counts one taken back after its deadline passed unsigned', async () => {
      clock.set('2026-12-21T02:00:00.000Z');
      const survivor = await seedCase(service, clock, { text: '电镀厂偷排（统计：保留案件）' });
      const dup = await seedCase(service, clock, { text: '电镀厂偷排（统计：重复举报）' });
      const late = await seedCase(service, clock, { text: '养殖场粪水直排（统计：超期后改派）', assignments: [{ unit: 'agri', role: 'lead' }] });
      clock.advance(60 * 60_000);
      expect((await as(staff.dispatcher).post(`/api/v1/cases/${dup.id}/merge`, { into: survivor.id, reason: '同一工厂重复举报' })).status).toBe(200);
      for (const token of [staff.epb, staff.econ, staff.xinglong]) expect((await as(token).post(`/api/v1/cases/${survivor.id}/accept`)).status).toBe(200);
      // The agriculture committee never signed for its case; past its deadline the dispatcher gives it to the EPB.
      clock.advance(3 * 24 * 60 * 60_000);
      const rerouted = await json(as(staff.dispatcher).post(`/api/v1/cases/${late.id}/route`, { type: 'illegal_discharge', lead: 'epb', co: [], jurisdiction: null, reason: '农业委超期未签收，改派环保局' }));
      expect(rerouted.status, JSON.stringify(rerouted.body)).toBe(200);
      const stats = await json(as(staff.dispatcher).get('/api/v1/stats?groupBy=bureau&from=2026-12-21&to=2026-12-21'));
      expect(stats.status, JSON.stringify(stats.body)).toBe(200);
      const unit = (code: string) => stats.body.groups.find((g: any) => g.key === code);
      // Each unit signed for the one case it was due to: the duplicate taken from it an hour in is no miss.
      for (const code of ['econ', 'xinglong']) expect(unit(code)).toMatchObject({ received: 1, dispatched: 1, signedOnTime: 1, responseRate: 1 });
      expect(unit('epb')).toMatchObject({ received: 2, dispatched: 2, signedOnTime: 1 });
      expect(unit('agri')).toMatchObject({ received: 1, dispatched: 1, signedOnTime: 0, responseRate: 0 });
      expect(stats.body.totals).toMatchObject({ received: 3, dispatched: 5, signedOnTime: 3 });
    });

    it('counts no missed signature against a co-handler let go when the case is routed out of triage, where it waited past that deadline and nobody could sign', async () => {
      clock.set('2026-12-23T02:00:00.000Z');
      const { id } = await seedCase(service, clock, { text: '养殖场粪水直排（统计：牵头退回后改派）' });
      clock.advance(60 * 60_000);
      expect((await as(staff.epb).post(`/api/v1/cases/${id}/return`, { reason: 'not_our_remit', note: '是养殖场，归农业委' })).status).toBe(200);
      // Over the weekend nobody routes it: the co-handler's sign-for deadline passes while the case waits in triage.
      clock.advance(3 * 24 * 60 * 60_000);
      expect((await as(staff.econ).post(`/api/v1/cases/${id}/accept`)).status).toBe(409);
      const routed = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/route`, { type: 'livestock_waste', reason: '养殖污染，改派农业委' }));
      expect(routed.status, JSON.stringify(routed.body)).toBe(200);
      expect(routed.body.assignments.find((a: any) => a.bureau.code === 'econ').status).toBe('released');
      const stats = await json(as(staff.dispatcher).get('/api/v1/stats?groupBy=bureau&from=2026-12-23&to=2026-12-23'));
      expect(stats.status, JSON.stringify(stats.body)).toBe(200);
      expect(stats.body.groups.map((g: any) => g.key)).not.toContain('econ');
      // The lead's return is counted, as before.
      expect(stats.body.groups.find((g: any) => g.key === 'epb')).toMatchObject({ returned: 1 });
    });
  });

  describe('transfer', () => {
    it('hands a case to 12345: assignments released, 12345 the lead', async () => {
      const { id } = await seedCase(service, clock, { text: '小区门口路灯坏了好几天' });
      const r = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/transfer`, { reason: '非环境类诉求' }));
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.status).toBe('transferred');
      expect(r.body.assignments.filter((a: any) => a.status !== 'released').map((a: any) => [a.bureau.code, a.role])).toEqual([['hotline12345', 'lead']]);
      expect(r.body.type.code).toBe('other');
      expect((await notificationsOf(service, id)).find((n) => n.kind === 'transferred')).toMatchObject({ audience: 'reporter' });
      expect((await as(staff.dispatcher).post(`/api/v1/cases/${id}/transfer`, { reason: 'again' })).status).toBe(409);
    });

    const seededType = 'illegal_discharge';
    const transferred = async (text: string) => {
      const seeded = await seedCase(service, clock, { text, type: seededType });
      expect((await as(staff.dispatcher).post(`/api/v1/cases/${seeded.id}/transfer`, { reason: '非环境类诉求' })).status).toBe(200);
      return seeded;
    };
    const liveUnits = (view: any) => view.assignments.filter((a: any) => a.status !== 'released' && a.status !== 'returned').map((a: any) => `${a.role}:${a.bureau.code}:${a.status}`);

    it('undoes a transfer made by mistake: 12345 let go, the case back in triage to be routed, its reporter told', async () => {
      const { id, trackingCode } = await transferred('河边工厂排黑水（撤销转办测试）');
      expect((await findCase(service.deps.db, id))?.typeCode).toBe('other');
      expect((await as(staff.hotline).get(`/api/v1/cases/${id}`)).status).toBe(200);
      expect((await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/untransfer`, {}))).body.error.fields).toEqual({ reason: expect.any(String) });
      expect((await findCase(service.deps.db, id))?.status).toBe('transferred');

      const r = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/untransfer`, { reason: '属环境问题，转错了' }));
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body).toMatchObject({ status: 'triage', triageReason: 'untransferred' });
      // Environmental after all: the type it had before the transfer, not the one that sends a case to 12345.
      expect(r.body.type?.code).toBe(seededType);
      expect(liveUnits(r.body)).toEqual([]);
      expect(r.body.assignments.find((a: any) => a.bureau.code === 'hotline12345').status).toBe('released');
      expect(r.body.events.at(-1)).toMatchObject({
        kind: 'status',
        fromStatus: 'transferred',
        toStatus: 'triage',
        note: '已撤销转办，待重新分派',
        actor: { role: 'dispatcher' },
        data: { reason: '属环境问题，转错了', released: ['hotline12345'] },
      });
      expect((await notificationsOf(service, id)).filter((n) => n.kind === 'untransferred')).toMatchObject([{ audience: 'reporter' }]);
      // What retraining learns of the case is the type given back, not the transfer's 非环境类诉求.
      expect((await listCorrections(service.deps.db)).filter((c) => c.text === '河边工厂排黑水（撤销转办测试）').map((c) => c.label)).toEqual([seededType]);
      const track = await json(client(service.url, null).get(`/api/v1/track/${trackingCode}`));
      expect(track.body.status).toBe('triage');
      expect(track.body.history.at(-1)).toMatchObject({ status: 'triage', note: '已撤销转办，待重新分派' });

      // 12345 has nothing to do on it any more; undone once, there is no transfer left to undo.
      expect((await as(staff.hotline).post(`/api/v1/cases/${id}/accept`)).status).toBe(409);
      const again = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/untransfer`, { reason: 'again' }));
      expect(again.status).toBe(409);
      expect(again.body.error).toMatchObject({ code: 'illegal_transition', message: 'the case is triage, not transferred' });

      const routed = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/route`, { type: 'illegal_discharge', reason: '派环保局' }));
      expect(routed.status, JSON.stringify(routed.body)).toBe(200);
      expect(routed.body.status).toBe('dispatched');
      expect(liveUnits(routed.body)).toContain('lead:epb:pending');
      expect((await as(staff.epb).post(`/api/v1/cases/${id}/accept`)).status).toBe(200);
    });

    it('teaches retraining the type a case routed by hand had before its transfer, once the transfer is undone', async () => {
      const text = '养殖场粪水直排进河（改派后转办再撤销）';
      const { id } = await seedCase(service, clock, { text, type: seededType });
      const taught = async () => (await listCorrections(service.deps.db)).filter((c) => c.text === text).map((c) => c.label);
      clock.advance(60_000);
      expect((await as(staff.dispatcher).post(`/api/v1/cases/${id}/route`, { type: 'livestock_waste', reason: '养殖污染' })).status).toBe(200);
      clock.advance(60_000);
      expect((await as(staff.dispatcher).post(`/api/v1/cases/${id}/transfer`, { reason: '非环境类诉求' })).status).toBe(200);
      expect(await taught()).toEqual(['other']);
      clock.advance(60_000);
      const r = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/untransfer`, { reason: '属环境问题，转错了' }));
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.type?.code).toBe('livestock_waste');
      expect(r.body.events.at(-1).data.corrected).toBe(true);
      expect(await taught()).toEqual(['livestock_waste']);
      // Routed on as the type it has, nothing new is taught.
      clock.advance(60_000);
      const routed = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/route`, { reason: '按原类型派单' }));
      expect(routed.status, JSON.stringify(routed.body)).toBe(200);
      expect(routed.body.events.at(-1).data.corrected).toBe(false);
      expect(await taught()).toEqual(['livestock_waste']);
    });

    it('refuses to undo the transfer of a case that was not transferred, and one changed since the page showed it', async () => {
      const dispatcher = { userId: 'desk', name: '调度老李', role: 'dispatcher' as const, unitCode: null, tokenId: 'desk' };
      const { id } = await seedCase(service, clock, { text: '电镀厂偷排（撤销转办拒绝测试）' });
      await expect(untransferCase(service.deps, dispatcher, id, { reason: 'x' })).rejects.toMatchObject({ code: 'illegal_transition', refusal: { reason: 'not_transferred', status: 'dispatched' } });
      expect((await as(staff.epb).post(`/api/v1/cases/${id}/untransfer`, { reason: 'x' })).status).toBe(403);
      const moved = await transferred('路灯坏了（撤销转办版本测试）');
      const ifVersion = (await findCase(service.deps.db, moved.id))!.version;
      expect((await as(staff.hotline).post(`/api/v1/cases/${moved.id}/accept`)).status).toBe(200);
      await expect(untransferCase(service.deps, dispatcher, moved.id, { reason: 'x', ifVersion })).rejects.toMatchObject({ refusal: { reason: 'page_outdated' } });
      expect((await findCase(service.deps.db, moved.id))?.status).toBe('transferred');
    });

    it('lets 12345 return a case transferred to it that is environmental after all: to triage, the dispatchers and the reporter told', async () => {
      const { id } = await transferred('厂里在倒废机油（12345退回测试）');
      const r = await json(as(staff.hotline).post(`/api/v1/cases/${id}/return`, { reason: 'not_our_remit', note: '属环境问题，请派环保局' }));
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      const notices = await notificationsOf(service, id);
      expect(notices.filter((n) => n.kind === 'untransferred')).toMatchObject([{ audience: 'reporter' }]);
      expect(notices.filter((n) => n.kind === 'returned')).toMatchObject([{ audience: 'dispatchers', data: { unit: 'hotline12345', reason: 'not_our_remit' } }]);
      const view = await json(as(staff.dispatcher).get(`/api/v1/cases/${id}`));
      expect(view.body).toMatchObject({ status: 'triage', triageReason: 'transfer_returned' });
      expect(view.body.assignments.find((a: any) => a.bureau.code === 'hotline12345').status).toBe('returned');
      // Environmental after all, as when a dispatcher undoes the transfer: the type it had before, which retraining reads for it too.
      expect(view.body.type?.code).toBe(seededType);
      expect((await listCorrections(service.deps.db)).filter((c) => c.text === '厂里在倒废机油（12345退回测试）').map((c) => [c.label, c.source])).toEqual([[seededType, 'transfer_returned']]);
      // The dispatcher routes it by that type; 12345's return stays in the history, its assignment let go.
      const routedAsItWas = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/route`, { reason: '按原类型派环保局', co: [] }));
      expect(routedAsItWas.status, JSON.stringify(routedAsItWas.body)).toBe(200);
      expect(routedAsItWas.body).toMatchObject({ status: 'dispatched', type: { code: seededType } });
      expect(liveUnits(routedAsItWas.body)).toContain('lead:epb:pending');
      // Handed over again after all (the dispatcher disagrees), 12345 holds it anew and can answer again.
      expect((await as(staff.dispatcher).post(`/api/v1/cases/${id}/transfer`, { reason: '确属非环境类' })).status).toBe(200);
      const again = await json(as(staff.hotline).get(`/api/v1/cases/${id}`));
      expect(liveUnits(again.body)).toEqual(['lead:hotline12345:pending']);
      expect((await as(staff.hotline).post(`/api/v1/cases/${id}/return`, { reason: 'not_our_remit', note: '还是环境问题' })).status).toBe(200);
      const routed = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/route`, { type: 'hazardous_waste', reason: '危废，派环保局' }));
      expect(routed.status, JSON.stringify(routed.body)).toBe(200);
      expect(routed.body.assignments.filter((a: any) => a.bureau.code === 'hotline12345').map((a: any) => a.status)).toEqual(['released']);
      expect(liveUnits(routed.body)).toContain('lead:epb:pending');
    });

    it('lets 12345 sign for a case transferred to it: the case stays transferred, its reporter reads who took it, nothing more to do here', async () => {
      const { id, trackingCode } = await transferred('楼上装修太吵（12345签收测试）');
      const r = await json(as(staff.hotline).post(`/api/v1/cases/${id}/accept`));
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.status).toBe('transferred');
      expect(liveUnits(r.body)).toEqual(['lead:hotline12345:accepted']);
      expect((await notificationsOf(service, id)).filter((n) => n.kind === 'accepted')).toMatchObject([{ audience: 'reporter', data: { unit: 'hotline12345' } }]);
      const track = await json(client(service.url, null).get(`/api/v1/track/${trackingCode}`));
      expect(track.body.status).toBe('transferred');
      expect(track.body.history.at(-1)).toMatchObject({ status: 'transferred', note: '区12345热线已签收' });
      // Signed for, it is handled on 12345's own system: no return, progress or reply here.
      expect((await as(staff.hotline).post(`/api/v1/cases/${id}/return`, { reason: 'not_our_remit', note: 'x' })).status).toBe(409);
      expect((await as(staff.hotline).post(`/api/v1/cases/${id}/accept`)).status).toBe(409);
      expect((await as(staff.hotline).post(`/api/v1/cases/${id}/progress`, { note: '已联系' })).status).toBe(409);
      expect((await as(staff.hotline).post(`/api/v1/cases/${id}/reply`, { text: '已处理' })).status).toBe(409);
      // Not counted as a bureau's signing for a dispatch.
      const stats = await json(as(staff.dispatcher).get('/api/v1/stats?groupBy=bureau&from=2026-10-01&to=2026-12-31'));
      expect(stats.body.groups.map((g: any) => g.key)).not.toContain('hotline12345');
    });
  });

  describe('extensions', () => {
    it('approves one: the reply deadline moves by working days and the reporter sees it', async () => {
      clock.set('2026-11-09T02:00:00.000Z');
      const { id, trackingCode } = await seedCase(service, clock);
      await as(staff.epb).post(`/api/v1/cases/${id}/accept`);
      const asked = await json(as(staff.epb).post(`/api/v1/cases/${id}/extend`, { workingDays: 5, reason: '需等待土壤检测结果' }));
      expect(asked.status, JSON.stringify(asked.body)).toBe(201);
      expect((await as(staff.epb2).post(`/api/v1/cases/${id}/extend`, { workingDays: 3, reason: '再要一次' })).status).toBe(409);
      expect((await notificationsOf(service, id)).find((n) => n.kind === 'extension_requested')).toMatchObject({ audience: 'dispatchers' });
      const pending = await json(as(staff.dispatcher).get(`/api/v1/cases/${id}`));
      expect(pending.body.extensionRequests).toEqual([
        { id: asked.body.id, unit: { code: 'epb', name: '区环保局' }, workingDays: 5, reason: '需等待土壤检测结果', status: 'pending', requestedAt: expect.any(String) },
      ]);

      // Dispatched Mon 9 Nov 2026 10:00 (+08): 15 working days → Mon 30 Nov; 5 more → Mon 7 Dec.
      const before = (await (await fetch(`${service.url}/api/v1/track/${trackingCode}`)).json()) as { deadlines: { replyBy: string } };
      expect(before.deadlines.replyBy).toBe('2026-11-30T02:00:00.000Z');
      const ok = await json(as(staff.dispatcher).post(`/api/v1/extensions/${asked.body.id}/approve`, { note: '同意' }));
      expect(ok.status, JSON.stringify(ok.body)).toBe(200);
      expect(ok.body).toEqual({ id: asked.body.id, status: 'approved', replyBy: '2026-12-07T02:00:00.000Z' });
      const track = (await (await fetch(`${service.url}/api/v1/track/${trackingCode}`)).json()) as { deadlines: { replyBy: string }; history: Array<{ note: string }> };
      expect(track.deadlines.replyBy).toBe('2026-12-07T02:00:00.000Z');
      // The reporter sees the extension on the public timeline.
      expect(track.history.map((h) => h.note)).toContain('办理期限延长至2026-12-07');
      const view = await json(as(staff.epb).get(`/api/v1/cases/${id}`));
      expect(view.body.extended).toBe(true);
      expect(view.body.assignments[0].deadlines.replyBy).toBe('2026-12-07T02:00:00.000Z');
      expect(view.body.events.find((e: any) => e.kind === 'extended')).toMatchObject({ public: true, note: '办理期限延长至2026-12-07' });
      expect(view.body.extensionRequests).toEqual([]);
      expect((await notificationsOf(service, id)).find((n) => n.kind === 'extended')).toMatchObject({ audience: 'reporter' });
      expect((await as(staff.dispatcher).post(`/api/v1/extensions/${asked.body.id}/approve`)).status).toBe(409);
      expect((await as(staff.dispatcher).post(`/api/v1/extensions/no-such/approve`)).status).toBe(404);
    });

    it('ends a request undecided when the unit replies, so it never stretches a later round', async () => {
      const { id } = await seedCase(service, clock);
      await as(staff.epb).post(`/api/v1/cases/${id}/accept`);
      const asked = await json(as(staff.epb).post(`/api/v1/cases/${id}/extend`, { workingDays: 10, reason: '需等待检测结果' }));
      expect(asked.status).toBe(201);
      expect((await as(staff.epb).post(`/api/v1/cases/${id}/reply`, { text: '已查处' })).status).toBe(200);
      const view = await json(as(staff.dispatcher).get(`/api/v1/cases/${id}`));
      expect(view.body.extensionRequests).toEqual([]);
      const row = await service.deps.db.selectFrom('extension_requests').select(['status', 'decision_note']).where('id', '=', asked.body.id).executeTakeFirstOrThrow();
      expect(row).toEqual({ status: 'lapsed', decision_note: 'replied' });
      expect((await as(staff.dispatcher).post(`/api/v1/extensions/${asked.body.id}/approve`, { note: '同意' })).status).toBe(409);
    });

    it('ends a request undecided when the unit is given the case again, with new deadlines', async () => {
      const { id } = await seedCase(service, clock);
      const asked = await json(as(staff.econ).post(`/api/v1/cases/${id}/extend`, { workingDays: 10, reason: '人手不足' }));
      expect(asked.status).toBe(201);
      // The dispatcher re-routes without econ, then brings it back: a new assignment with its own deadlines.
      expect((await as(staff.dispatcher).post(`/api/v1/cases/${id}/route`, { type: 'illegal_discharge', lead: 'epb', co: [], reason: '不需要经信委' })).status).toBe(200);
      clock.advance(60_000);
      expect((await as(staff.dispatcher).post(`/api/v1/cases/${id}/route`, { type: 'illegal_discharge', lead: 'epb', co: ['econ'], reason: '还是需要经信委' })).status).toBe(200);
      const before = await json(as(staff.dispatcher).get(`/api/v1/cases/${id}`));
      const replyBy = before.body.assignments.find((a: any) => a.bureau.code === 'econ' && a.status === 'pending').deadlines.replyBy;
      expect(before.body.extensionRequests).toEqual([]);
      const r = await json(as(staff.dispatcher).post(`/api/v1/extensions/${asked.body.id}/approve`, { note: '同意' }));
      expect(r.status).toBe(409);
      expect(r.body.error.message).toContain('already lapsed');
      const after = await json(as(staff.dispatcher).get(`/api/v1/cases/${id}`));
      expect(after.body.assignments.find((a: any) => a.bureau.code === 'econ' && a.status === 'pending').deadlines.replyBy).toBe(replyBy);
      // The renewal names the dispatcher who made it.
      expect(after.body.events.find((e: any) => e.kind === 'assignment_renewed').actor).toMatchObject({ type: 'staff', role: 'dispatcher' });
    });

    it('ends a request undecided when the unit is released from the case, so it leaves the desk', async () => {
      const { id } = await seedCase(service, clock);
      for (const t of [staff.econ, staff.epb]) await as(t).post(`/api/v1/cases/${id}/accept`);
      const asked = await json(as(staff.econ).post(`/api/v1/cases/${id}/extend`, { workingDays: 10, reason: '人手不足' }));
      expect(asked.status).toBe(201);
      const lead = await json(as(staff.epb).post(`/api/v1/cases/${id}/extend`, { workingDays: 5, reason: '需等待检测结果' }));
      expect(lead.status).toBe(201);
      expect((await listPendingExtensions(service.deps.db)).map((x) => x.id)).toContain(asked.body.id);
      clock.advance(60_000);
      expect((await as(staff.dispatcher).post(`/api/v1/cases/${id}/release`, { unit: 'econ', reason: '经信委无需参与' })).status).toBe(200);
      expect((await listPendingExtensions(service.deps.db)).map((x) => x.id)).not.toContain(asked.body.id);
      const row = await service.deps.db.selectFrom('extension_requests').select(['status', 'decision_note', 'decided_at']).where('id', '=', asked.body.id).executeTakeFirstOrThrow();
      expect(row).toEqual({ status: 'lapsed', decision_note: 'released', decided_at: clock.now().toISOString() });
      const r = await json(as(staff.dispatcher).post(`/api/v1/extensions/${asked.body.id}/approve`, { note: '同意' }));
      expect(r.status).toBe(409);
      expect(r.body.error.message).toContain('already lapsed');
      // The units still on the case keep theirs.
      expect((await listPendingExtensions(service.deps.db)).map((x) => x.id)).toContain(lead.body.id);
      expect((await as(staff.dispatcher).post(`/api/v1/extensions/${lead.body.id}/approve`, { note: '同意' })).status).toBe(200);
    });

    it('refuses one with a note: the deadline stays, and the unit may ask again', async () => {
      const { id } = await seedCase(service, clock);
      const asked = await json(as(staff.econ).post(`/api/v1/cases/${id}/extend`, { workingDays: 10, reason: '人手不足' }));
      expect((await as(staff.dispatcher).post(`/api/v1/extensions/${asked.body.id}/refuse`, {})).status).toBe(400);
      const r = await json(as(staff.dispatcher).post(`/api/v1/extensions/${asked.body.id}/refuse`, { note: '理由不充分' }));
      expect(r.status).toBe(200);
      expect(r.body.status).toBe('refused');
      const view = await json(as(staff.dispatcher).get(`/api/v1/cases/${id}`));
      expect(view.body.extended).toBe(false);
      expect(view.body.assignments.find((a: any) => a.bureau.code === 'econ').deadlines.replyBy).toBe(view.body.deadlines.replyBy);
      expect(view.body.events.at(-1)).toMatchObject({ kind: 'extension_refused', data: { note: '理由不充分' } });
      expect((await as(staff.econ).post(`/api/v1/cases/${id}/extend`, { workingDays: 3, reason: '需复测' })).status).toBe(201);
    });
  });

  describe('release and supervision', () => {
    it('releasing the last co-handler that had not replied completes the bureau phase', async () => {
      const { id } = await seedCase(service, clock);
      for (const t of [staff.epb, staff.xinglong]) await as(t).post(`/api/v1/cases/${id}/accept`);
      await as(staff.xinglong).post(`/api/v1/cases/${id}/reply`, { text: '属地已核实' });
      expect((await json(as(staff.epb).post(`/api/v1/cases/${id}/reply`, { text: '已处理完毕' }))).body.status).toBe('accepted');
      expect((await as(staff.dispatcher).post(`/api/v1/cases/${id}/release`, { unit: 'epb', reason: 'x' })).status).toBe(409);
      const unknown = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/release`, { unit: 'zzz', reason: 'x' }));
      expect(unknown.status, JSON.stringify(unknown.body)).toBe(400);
      expect(unknown.body.error.fields).toEqual({ unit: 'unknown unit "zzz"' });
      const r = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/release`, { unit: 'econ', reason: '经信委无需参与' }));
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.status).toBe('replied');
      expect(r.body.deadlines.rateBy).not.toBeNull();
      expect((await notificationsOf(service, id)).find((n) => n.kind === 'replied')).toMatchObject({ audience: 'reporter', data: { text: '已处理完毕' } });
    });

    it('leaves the place unknown when it releases the local office that returned the case as outside its area: desk, tracking page and statistics alike, and a later re-route does not give the office the case again', async () => {
      clock.set('2026-11-20T02:00:00.000Z');
      const { id, trackingCode } = await seedCase(service, clock, { text: '电镀厂偷排（属地退回后撤回属地）' });
      expect((await as(staff.xinglong).post(`/api/v1/cases/${id}/return`, { reason: 'wrong_jurisdiction', note: '不在我办辖区' })).status).toBe(200);
      const r = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/release`, { unit: 'xinglong', reason: '属地不明，待核实' }));
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.jurisdiction).toBeNull();
      expect(r.body.flags).toContain('place_unknown');
      expect(r.body.events.at(-1)).toMatchObject({ kind: 'released', data: { unit: 'xinglong', placeCleared: 'xinglong' } });
      // The desk lists it for a place, as a case whose place was never known.
      const triage = await json(as(staff.dispatcher).get('/api/v1/triage'));
      expect(triage.body.items.find((i: any) => i.id === id)?.reasons).toEqual(['place_unknown']);
      expect((await json(client(service.url, null).get(`/api/v1/track/${trackingCode}`))).body.jurisdiction).toBeNull();
      const stats = await json(as(staff.dispatcher).get('/api/v1/stats?groupBy=jurisdiction&from=2026-11-20&to=2026-11-20'));
      expect(stats.body.groups.map((g: any) => [g.key, g.received])).toEqual([[null, 1]]);
      // Another co-handler added later: the office that said the case is not in its area is not given it again.
      const rerouted = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/route`, { co: ['econ', 'police'], reason: '加派出所协办' }));
      expect(rerouted.status, JSON.stringify(rerouted.body)).toBe(200);
      expect(rerouted.body.assignments.filter((a: any) => a.bureau.code === 'xinglong').map((a: any) => a.status)).toEqual(['released']);
      expect(rerouted.body.jurisdiction).toBeNull();
    });

    it('keeps the place when it releases a local office that did not say the case is outside its area', async () => {
      const { id } = await seedCase(service, clock, { text: '电镀厂偷排（撤回属地保留地点）' });
      expect((await as(staff.xinglong).post(`/api/v1/cases/${id}/return`, { reason: 'unclear_ownership', note: '职责不清' })).status).toBe(200);
      const r = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/release`, { unit: 'xinglong', reason: '无需属地配合' }));
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.jurisdiction?.code).toBe('xinglong');
      expect(r.body.flags).not.toContain('place_unknown');
    });

    it("gives each refusal of the desk its reason for the pages, while the API answers with the same body as before", async () => {
      const dispatcher = { userId: 'desk', name: '调度老李', role: 'dispatcher' as const, unitCode: null, tokenId: 'desk' };
      const { deps } = service;
      const { id } = await seedCase(service, clock, { text: '电镀厂偷排（拒绝原因测试）' });
      await expect(releaseUnit(deps, dispatcher, id, { unit: 'epb', reason: 'x' })).rejects.toMatchObject({ code: 'illegal_transition', refusal: { reason: 'release_lead' } });
      await expect(releaseUnit(deps, dispatcher, id, { unit: 'agri', reason: 'x' })).rejects.toMatchObject({
        code: 'illegal_transition',
        refusal: { reason: 'release_nothing_open', unit: 'agri' },
      });
      await expect(superviseCase(deps, dispatcher, id, { note: 'x', ifVersion: -1 })).rejects.toMatchObject({ code: 'conflict', refusal: { reason: 'page_outdated' } });

      expect((await as(staff.dispatcher).post(`/api/v1/cases/${id}/transfer`, { reason: '非环境类诉求' })).status).toBe(200);
      const route = { type: 'illegal_discharge', reason: 'x' };
      await expect(routeCase(deps, dispatcher, id, route)).rejects.toMatchObject({ refusal: { reason: 'not_routable', status: 'transferred' } });
      await expect(transferCase(deps, dispatcher, id, { reason: 'x' })).rejects.toMatchObject({ refusal: { reason: 'not_transferable', status: 'transferred' } });
      await expect(superviseCase(deps, dispatcher, id, { note: 'x' })).rejects.toMatchObject({ refusal: { reason: 'supervise_not_under_handling', status: 'transferred' } });
      await expect(setCasePlace(deps, dispatcher, id, { jurisdiction: 'xinglong', reason: 'x' })).rejects.toMatchObject({
        refusal: { reason: 'place_not_under_handling', status: 'transferred' },
      });
      const other = await seedCase(service, clock, { text: '另一件（拒绝原因测试）' });
      await expect(mergeCase(deps, dispatcher, other.id, { into: id, reason: 'x' })).rejects.toMatchObject({ refusal: { reason: 'merge_target_closed', status: 'transferred' } });

      // The reason stays inside the service: the API's error body is what it was.
      const again = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/transfer`, { reason: 'again' }));
      expect(again.status).toBe(409);
      expect(again.body).toEqual({ error: { code: 'illegal_transition', message: 'a case that is transferred cannot be transferred', requestId: expect.any(String) } });
    });

    it('names the field a refusal is about: a case to merge into that is no longer open (into), a unit with nothing to release or the lead (unit)', async () => {
      const { id } = await seedCase(service, clock, { text: '电镀厂偷排（拒绝时指明字段）' });
      const before = await json(as(staff.dispatcher).get(`/api/v1/cases/${id}`));
      const lead = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/release`, { unit: 'epb', reason: '撤回牵头' }));
      expect(lead.status, JSON.stringify(lead.body)).toBe(409);
      expect(lead.body.error).toMatchObject({ code: 'illegal_transition', fields: { unit: expect.stringContaining('lead') } });
      const none = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/release`, { unit: 'agri', reason: '撤回未派的单位' }));
      expect(none.status, JSON.stringify(none.body)).toBe(409);
      expect(none.body.error).toMatchObject({ code: 'illegal_transition', fields: { unit: expect.stringContaining('no open assignment') } });

      const handed = await seedCase(service, clock, { text: '路灯坏了（拒绝时指明字段）' });
      expect((await as(staff.dispatcher).post(`/api/v1/cases/${handed.id}/transfer`, { reason: '非环境类诉求' })).status).toBe(200);
      const merge = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/merge`, { into: handed.id, reason: '重复举报' }));
      expect(merge.status, JSON.stringify(merge.body)).toBe(409);
      expect(merge.body.error).toMatchObject({ code: 'illegal_transition', fields: { into: expect.stringContaining('transferred') } });
      // Said in Chinese to a client that asks for it, the field too.
      const zh = await json(
        fetch(`${service.url}/api/v1/cases/${id}/merge`, {
          method: 'POST',
          headers: { authorization: `Bearer ${staff.dispatcher}`, 'content-type': 'application/json', 'accept-language': 'zh-CN' },
          body: JSON.stringify({ into: handed.id, reason: '重复举报' }),
        }),
      );
      expect(zh.body.error.fields).toEqual({ into: '该案件已不在办理中（已办结、并案或转办），请填写仍在办理的案件' });
      // Nothing changed.
      expect((await json(as(staff.dispatcher).get(`/api/v1/cases/${id}`))).body).toEqual(before.body);
    });

    it('acts on a case only the deadline timers touched since the page showed it, and refuses one somebody changed', async () => {
      const dispatcher = { userId: 'desk', name: '调度老李', role: 'dispatcher' as const, unitCode: null, tokenId: 'desk' };
      const { deps } = service;
      const { id } = await seedCase(service, clock, { text: '电镀厂偷排（超期标记后督办测试）' });
      const stamp = async () => ({ seenEvent: await lastEventId(deps.db, id), ifVersion: (await findCase(deps.db, id))!.version });
      // The page is drawn; then the sign-for deadline passes and the timers mark it before the dispatcher clicks 督办.
      const shown = await stamp();
      clock.advance(25 * 3600_000);
      expect(await checkDeadlines(deps, id)).toContain('overdue: epb sign');
      expect((await findCase(deps.db, id))!.version).not.toBe(shown.ifVersion);
      const { units } = await superviseCase(deps, dispatcher, id, { note: '请尽快签收', ...shown });
      expect(units).toContain('epb');
      // Without the events it showed, a form cannot tell: the changed version is refused as before.
      const before = await stamp();
      await expect(superviseCase(deps, dispatcher, id, { note: 'x', ifVersion: shown.ifVersion })).rejects.toMatchObject({ refusal: { reason: 'page_outdated' } });
      // A unit signing for the case meanwhile is a change the dispatcher has not seen: refused.
      expect((await as(staff.epb).post(`/api/v1/cases/${id}/accept`, {})).status).toBe(200);
      await expect(superviseCase(deps, dispatcher, id, { note: 'x', ...before })).rejects.toMatchObject({ code: 'conflict', refusal: { reason: 'page_outdated' } });
      await expect(routeCase(deps, dispatcher, id, { type: 'illegal_discharge', reason: 'x', ...before })).rejects.toMatchObject({ refusal: { reason: 'page_outdated' } });
      await expect(transferCase(deps, dispatcher, id, { reason: 'x', ...before })).rejects.toMatchObject({ refusal: { reason: 'page_outdated' } });
    });

    it('supervises a case: supervised marks and a notice to the lead unit', async () => {
      const { id } = await seedCase(service, clock);
      await service.deps.db.updateTable('assignments').set({ sign_overdue_at: clock.now().toISOString() }).where('case_id', '=', id).where('unit_code', '=', 'econ').execute();
      const r = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/supervise`, { note: '请加快办理' }));
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.supervisedAt).toBe(clock.now().toISOString());
      expect(r.body.assignments.filter((a: any) => a.supervisedAt).map((a: any) => a.bureau.code)).toEqual(['econ']);
      const notes = (await notificationsOf(service, id)).filter((n) => n.kind === 'supervision').map((n) => n.audience).sort();
      expect(notes).toEqual(['unit:econ', 'unit:epb']);
      expect(r.body.events.at(-1)).toMatchObject({ kind: 'supervised', actor: { role: 'dispatcher' } });
    });

    it('reads a case as supervised only while a unit supervised holds it: not after a re-route gave it a new lead, nor after the unit supervised was released', async () => {
      const { id } = await seedCase(service, clock, { text: '电镀厂偷排（督办标记随单位测试）' });
      const supervised = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/supervise`, { note: '请加快办理' }));
      expect(supervised.body.supervisedAt).toBe(clock.now().toISOString());
      // The lead supervised keeps the case: still supervised.
      const more = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/route`, { type: 'illegal_discharge', co: ['econ', 'police'], reason: '请派出所协办' }));
      expect(more.status, JSON.stringify(more.body)).toBe(200);
      expect(more.body.supervisedAt).toBe(supervised.body.supervisedAt);
      // Given to another lead, which nobody supervised: no longer.
      const moved = await json(as(staff.dispatcher).post(`/api/v1/cases/${id}/route`, { type: 'irrigation_water', reason: '灌溉水问题，改由水利局牵头' }));
      expect(moved.status, JSON.stringify(moved.body)).toBe(200);
      expect(moved.body.supervisedAt).toBeNull();

      const other = await seedCase(service, clock, { text: '电镀厂偷排（督办后撤回单位测试）' });
      await service.deps.db.updateTable('assignments').set({ sign_overdue_at: clock.now().toISOString() }).where('case_id', '=', other.id).where('unit_code', '=', 'econ').execute();
      expect((await json(as(staff.dispatcher).post(`/api/v1/cases/${other.id}/supervise`, { note: '请尽快签收' }))).body.supervisedAt).not.toBeNull();
      const released = await json(as(staff.dispatcher).post(`/api/v1/cases/${other.id}/release`, { unit: 'econ', reason: '无需协办' }));
      expect(released.status, JSON.stringify(released.body)).toBe(200);
      expect(released.body.supervisedAt).toBeNull();
    });

    it('supervises the units late now: not one that signed late and is within its reply deadline, and one past its deadline before the timers marked it', async () => {
      const supervisedUnits = (body: any) => body.assignments.filter((a: any) => a.supervisedAt).map((a: any) => a.bureau.code).sort();
      // Every unit misses the sign-for deadline; the co-handler and the local office sign for it late, the lead does not.
      const late = await seedCase(service, clock, { text: '电镀厂偷排（督办对象测试）' });
      clock.advance(25 * 3600_000);
      expect(await checkDeadlines(service.deps, late.id)).toContain('overdue: econ sign');
      for (const t of [staff.econ, staff.xinglong]) expect((await as(t).post(`/api/v1/cases/${late.id}/accept`, {})).status).toBe(200);
      const r = await json(as(staff.dispatcher).post(`/api/v1/cases/${late.id}/supervise`, { note: '请尽快签收' }));
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(supervisedUnits(r.body)).toEqual(['epb']);
      expect(r.body.events.at(-1).data.units).toEqual(['epb']);
      expect((await notificationsOf(service, late.id)).filter((n) => n.kind === 'supervision').map((n) => n.audience)).toEqual(['unit:epb']);

      // The lead signed for it in time; the co-handler's deadline has passed, and no timer has marked it yet.
      const unmarked = await seedCase(service, clock, { text: '电镀厂偷排（未标记超期督办测试）', jurisdiction: null });
      expect((await as(staff.epb).post(`/api/v1/cases/${unmarked.id}/accept`, {})).status).toBe(200);
      clock.advance(25 * 3600_000);
      const u = await json(as(staff.dispatcher).post(`/api/v1/cases/${unmarked.id}/supervise`, { note: '请尽快签收' }));
      expect(u.status, JSON.stringify(u.body)).toBe(200);
      expect(supervisedUnits(u.body)).toEqual(['econ']);
      expect((await notificationsOf(service, unmarked.id)).filter((n) => n.kind === 'supervision').map((n) => n.audience).sort()).toEqual(['unit:econ', 'unit:epb']);
    });
  });
});
