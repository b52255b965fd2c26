import { beforeAll, describe, expect, it } from 'vitest';
import { insertAssignments } from '../db/repositories/assignments.repository.js';
import { newId } from '../src/domain/ids.js';
import { AppError } from '../src/errors.js';
import { inCaseTransaction } from '../src/workflow/transition.js';
import pg from 'pg';
import { createPgDatabase, waitFor } from './harness.js';
import { formClient, startStaffWebService, type WebStaff } from './web-staff-helpers.js';
import { client, seedCase } from './workflow-helpers.js';

/** Races are probabilistic: each one is run this many times. */
const ROUNDS = 5;

/**
 * Two dispatchers acting on one case at once (a double submit, two people on
 * the same triage card, crossing merges). SQLite runs transactions one after
 * the other; PostgreSQL side by side: on both, each request either sees what
 * the other did (200) or is refused as a conflict (409), never a 500, and the
 * database is left as by one of them.
 */
describe.each([
  ['SQLite', async () => ({})],
  ['PostgreSQL', async () => ({ DATABASE_URL: await createPgDatabase('wfrace') })],
])('simultaneous case actions on %s', (engine, dbEnv) => {
  let web: WebStaff;
  let address = 0;
  const dispatcher = () => client(web.service.url, web.staff.dispatcher);
  const seed = (o: Parameters<typeof seedCase>[2] = {}) => seedCase(web.service, web.clock, o);

  let databaseUrl: string | undefined;

  beforeAll(async () => {
    const env: { DATABASE_URL?: string } = await dbEnv();
    databaseUrl = env.DATABASE_URL;
    web = await startStaffWebService('wfrace', env);
  }, 60_000);

  /** A dispatcher signed in on the web, with the CSRF token of the desk pages. */
  async function deskDispatcher() {
    const form = formClient(web.service.url, { 'x-forwarded-for': `10.7.0.${++address}` });
    expect((await form.signIn('dispatcher')).status).toBe(303);
    const csrf = await form.token('/desk');
    return { post: (path: string, fields: Record<string, string>) => form.post(path, { _csrf: csrf, ...fields }) };
  }

  /** Status and error code (JSON answers) of each response; none may be a 5xx. */
  async function answersOf(responses: Response[]): Promise<Array<{ status: number; code: string | null }>> {
    // Every body is read: a 500 shows what went wrong, and the connections are freed.
    const bodies = await Promise.all(responses.map((r) => r.text()));
    return responses.map((r, i) => {
      expect(r.status, bodies[i]!.slice(0, 500)).toBeLessThan(500);
      const code = r.headers.get('content-type')?.includes('json') ? ((JSON.parse(bodies[i]!) as { error?: { code: string } }).error?.code ?? null) : null;
      return { status: r.status, code };
    });
  }
  const statusesOf = async (responses: Response[]) => (await answersOf(responses)).map((a) => a.status);

  async function caseRow(id: string) {
    return web.service.deps.db.selectFrom('cases').select(['id', 'status', 'merged_into']).where('id', '=', id).executeTakeFirstOrThrow();
  }

  /** One row per unit on the case, and one lead at most still holding it. */
  async function expectAssignmentsIntact(caseId: string): Promise<Array<{ unit_code: string; role: string; status: string }>> {
    const rows = await web.service.deps.db.selectFrom('assignments').select(['unit_code', 'role', 'status']).where('case_id', '=', caseId).execute();
    const units = rows.map((r) => r.unit_code);
    expect(new Set(units).size, units.join(',')).toBe(units.length);
    expect(rows.filter((r) => r.role === 'lead' && r.status !== 'released').length).toBeLessThanOrEqual(1);
    return rows;
  }

  describe('crossing merges', () => {
    it('lets exactly one of two cases merged into each other at once through', async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const a = await seed({ text: `盐下村电镀厂偷排（交叉合并 A${round}）` });
        const b = await seed({ text: `盐下村电镀厂偷排（交叉合并 B${round}）` });
        const answers = await answersOf(
          await Promise.all([
            dispatcher().post(`/api/v1/cases/${a.id}/merge`, { into: b.id, reason: 'dup' }),
            dispatcher().post(`/api/v1/cases/${b.id}/merge`, { into: a.id, reason: 'dup' }),
          ]),
        );
        // The second waits for the first and finds its case, or the target, merged already.
        expect(answers.map((x) => `${x.status} ${x.code}`).sort()).toEqual(['200 null', '409 illegal_transition']);
        const rows = [await caseRow(a.id), await caseRow(b.id)];
        const merged = rows.filter((r) => r.status === 'merged');
        expect(merged).toHaveLength(1);
        const survivor = rows.find((r) => r.status !== 'merged')!;
        expect(merged[0]!.merged_into).toBe(survivor.id);
        expect(survivor.merged_into).toBeNull();
      }
    });

    // Only PostgreSQL runs the two side by side: SQLite takes one transaction after the other.
    it.skipIf(engine !== 'PostgreSQL')('refuses to undo a merge that was undone and made into another case while it waited for the case', async () => {
      const [dup, first, second] = [await seed({ text: '电镀厂偷排（撤销合并 D）' }), await seed({ text: '电镀厂偷排（撤销合并 A）' }), await seed({ text: '电镀厂偷排（撤销合并 C）' })];
      expect((await dispatcher().post(`/api/v1/cases/${dup.id}/merge`, { into: first.id, reason: 'dup' })).status).toBe(200);
      // Another session holds the merged case while it moves it to the other case, as an undo and a merge elsewhere do.
      const other = new pg.Client({ connectionString: databaseUrl });
      await other.connect();
      try {
        await other.query('begin');
        await other.query('select id from cases where id = $1 for update', [dup.id]);
        await other.query('update cases set merged_into = $1 where id = $2', [second.id, dup.id]);
        const undo = dispatcher().post(`/api/v1/cases/${dup.id}/unmerge`, { reason: '不是重复' });
        // The undo read the case merged into the first case, and now waits for its lock.
        await waitFor(async () => {
          const r = await other.query("select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'");
          return (r.rows[0] as { n: number }).n > 0 ? true : null;
        }, { what: 'the undo waiting for the case' });
        await other.query('commit');
        const [answer] = await answersOf([await undo]);
        expect(answer).toEqual({ status: 409, code: 'conflict' });
      } finally {
        await other.end();
      }
      expect(await caseRow(dup.id)).toMatchObject({ status: 'merged', merged_into: second.id });
      const firstEvents = await web.service.deps.db.selectFrom('case_events').select('kind').where('case_id', '=', first.id).execute();
      expect(firstEvents.map((e) => e.kind)).not.toContain('unmerged_out');
    });

    it('never merges a ring of three cases into itself', async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const ring = [
          await seed({ text: `电镀厂偷排（环形合并 X${round}）` }),
          await seed({ text: `电镀厂偷排（环形合并 Y${round}）` }),
          await seed({ text: `电镀厂偷排（环形合并 Z${round}）` }),
        ];
        const answers = await answersOf(
          await Promise.all(ring.map((c, i) => dispatcher().post(`/api/v1/cases/${c.id}/merge`, { into: ring[(i + 1) % 3]!.id, reason: 'dup' }))),
        );
        for (const x of answers) expect(['200 null', '409 illegal_transition']).toContain(`${x.status} ${x.code}`);
        const statuses = answers.map((x) => x.status);
        expect(statuses).toContain(200);
        const rows = await Promise.all(ring.map((c) => caseRow(c.id)));
        // Following merged_into from any case ends at an open one: no cycle.
        const byId = new Map(rows.map((r) => [r.id, r]));
        for (const start of rows) {
          let at = start;
          for (let hops = 0; at.status === 'merged'; hops++) {
            expect(hops).toBeLessThan(3);
            at = byId.get(at.merged_into!)!;
          }
        }
        expect(rows.filter((r) => r.status === 'merged')).toHaveLength(statuses.filter((s) => s === 200).length);
      }
    });

    it('gives the desk form the same answer: one merge, the other refused with a 409 page', async () => {
      const desk = await deskDispatcher();
      for (let round = 0; round < ROUNDS; round++) {
        const a = await seed({ text: `盐下村电镀厂偷排（表单交叉合并 A${round}）` });
        const b = await seed({ text: `盐下村电镀厂偷排（表单交叉合并 B${round}）` });
        const statuses = await statusesOf(
          await Promise.all([
            desk.post(`/desk/cases/${a.id}/merge`, { into: b.trackingCode, reason: '重复举报', confirm: '1' }),
            desk.post(`/desk/cases/${b.id}/merge`, { into: a.trackingCode, reason: '重复举报', confirm: '1' }),
          ]),
        );
        expect(statuses.sort()).toEqual([303, 409]);
        const rows = [await caseRow(a.id), await caseRow(b.id)];
        expect(rows.filter((r) => r.status === 'merged')).toHaveLength(1);
      }
    });
  });

  describe('double submits that add assignments', () => {
    it('routes a triage case sent three times at once, with one assignment per bureau', async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const { id } = await seed({ text: `工地晚上施工噪音扰民（重复派发 ${round}）`, status: 'triage', type: 'noise' });
        const statuses = await statusesOf(
          await Promise.all([1, 2, 3].map(() => dispatcher().post(`/api/v1/cases/${id}/route`, { type: 'noise', reason: 'r' }))),
        );
        // One after the other, each routes the case as the one before left it.
        expect(statuses).toEqual([200, 200, 200]);
        expect((await caseRow(id)).status).toBe('dispatched');
        const rows = await expectAssignmentsIntact(id);
        expect(rows.filter((r) => r.status !== 'released').map((r) => `${r.role}:${r.unit_code}`).sort()).toEqual(['co:enforcement', 'jurisdiction:xinglong', 'lead:epb']);
      }
    });

    it('adds a co-handler asked for twice at once only once', async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const { id } = await seed({ text: `电镀厂偷排（重复加协办 ${round}）` });
        const statuses = await statusesOf(
          await Promise.all([1, 2].map(() => dispatcher().post(`/api/v1/cases/${id}/route`, { co: ['econ', 'agri'], reason: 'r' }))),
        );
        // The second finds agri there already and keeps it.
        expect(statuses).toEqual([200, 200]);
        const rows = await expectAssignmentsIntact(id);
        expect(rows.filter((r) => r.unit_code === 'agri' && r.status === 'pending')).toHaveLength(1);
      }
    });

    it('transfers a triage case sent twice at once once', async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const { id } = await seed({ text: `楼上邻居装修纠纷（重复转办 ${round}）`, status: 'triage', type: 'other' });
        const answers = await answersOf(await Promise.all([1, 2].map(() => dispatcher().post(`/api/v1/cases/${id}/transfer`, { reason: 'r' }))));
        // The second finds the case transferred already.
        expect(answers.map((x) => `${x.status} ${x.code}`).sort()).toEqual(['200 null', '409 illegal_transition']);
        expect((await caseRow(id)).status).toBe('transferred');
        const rows = await expectAssignmentsIntact(id);
        expect(rows.map((r) => r.unit_code)).toEqual(['hotline12345']);
      }
    });

    it("answers the desk's one-click route and place forms sent twice with two redirects", async () => {
      const desk = await deskDispatcher();
      for (let round = 0; round < ROUNDS; round++) {
        const triage = await seed({ text: `工地晚上施工噪音扰民（一键派发 ${round}）`, status: 'triage', type: 'noise' });
        const routed = await statusesOf(await Promise.all([1, 2].map(() => desk.post(`/desk/cases/${triage.id}/route`, { type: 'noise', quick: '1' }))));
        expect(routed).toEqual([303, 303]);
        expect((await caseRow(triage.id)).status).toBe('dispatched');
        await expectAssignmentsIntact(triage.id);

        const placeless = await seed({ text: `电镀厂偷排（补充属地 ${round}）`, jurisdiction: null });
        const placed = await statusesOf(await Promise.all([1, 2].map(() => desk.post(`/desk/cases/${placeless.id}/place`, { jurisdiction: 'xinglong' }))));
        // The second finds the office there already: nothing to add.
        expect(placed).toEqual([303, 303]);
        const rows = await expectAssignmentsIntact(placeless.id);
        expect(rows.filter((r) => r.role === 'jurisdiction').map((r) => `${r.unit_code}:${r.status}`)).toEqual(['xinglong:pending']);
      }
    });
  });
  describe('a race the case lock does not prevent', () => {
    const at = '2026-11-02T02:00:00.000Z';

    it.runIf(engine === 'PostgreSQL')('is a conflict to try again when PostgreSQL breaks a deadlock', async () => {
      const db = web.service.deps.db;
      const a = await seed({ text: '电镀厂偷排（死锁 A）' });
      const b = await seed({ text: '电镀厂偷排（死锁 B）' });
      // Two transactions updating the same two cases in opposite orders: PostgreSQL aborts one of them.
      let arrived = 0;
      let release!: () => void;
      const bothStarted = new Promise<void>((resolve) => (release = resolve));
      const crossing = (first: string, second: string) =>
        inCaseTransaction(db, async (trx) => {
          await trx.updateTable('cases').set({ updated_at: at }).where('id', '=', first).execute();
          if (++arrived === 2) release();
          await bothStarted;
          await trx.updateTable('cases').set({ updated_at: at }).where('id', '=', second).execute();
        });
      const outcomes = await Promise.allSettled([crossing(a.id, b.id), crossing(b.id, a.id)]);
      expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
      const lost = outcomes.find((o) => o.status === 'rejected')!.reason as unknown;
      expect(lost).toBeInstanceOf(AppError);
      expect((lost as AppError).code).toBe('conflict');
    });

    it('turns a unique violation into a conflict on PostgreSQL only (SQLite never runs two actions at once)', async () => {
      const { id } = await seed({ text: '电镀厂偷排（重复的派单）' });
      const again = inCaseTransaction(web.service.deps.db, (trx) =>
        insertAssignments(trx, [{ id: newId(), caseId: id, unitCode: 'epb', role: 'lead', signBy: null, replyBy: null, at }]),
      );
      if (engine === 'PostgreSQL') await expect(again).rejects.toMatchObject({ code: 'conflict', status: 409 });
      else await expect(again).rejects.not.toBeInstanceOf(AppError);
      await expectAssignmentsIntact(id);
    });
  });
});
