import type { Kysely } from 'kysely';
import { listAssignments } from '../../db/repositories/assignments.repository.js';
import { findCase } from '../../db/repositories/cases.repository.js';
import { appendEvents } from '../../db/repositories/events.repository.js';
import type { Database } from '../../db/schema.js';
import type { Clock } from '../clock.js';
import { queueNotification } from './notifications.js';
import { moveCase, SYSTEM } from './transition.js';

/**
 * What is due on a case at the clock's time: a missed sign-for or reply
 * deadline marks the assignment (and the case) overdue and escalates to the
 * dispatchers; a reply nobody rated within the window closes the case as
 * not rated. Idempotent: a mark is written once.
 */
export async function checkDeadlines(deps: { db: Kysely<Database>; clock: Clock }, caseId: string): Promise<string[]> {
  const now = deps.clock.now();
  const at = now.toISOString();
  const done: string[] = [];
  await deps.db.transaction().execute(async (trx) => {
    const c = await findCase(trx, caseId);
    if (!c) return;
    if (c.status === 'replied' && c.deadlines.rateBy && c.deadlines.rateBy <= at) {
      await moveCase(trx, c, 'closed', {
        actor: SYSTEM,
        at,
        reason: 'not_rated',
        note: '回访期满未评价，办结',
        changes: { closed_at: at, close_reason: 'not_rated' },
      });
      await queueNotification(trx, { caseId, audience: 'reporter', kind: 'closed', data: { reason: 'not_rated' } }, now);
      done.push('closed: not rated');
      return;
    }
    if (!['dispatched', 'accepted', 'reopened'].includes(c.status)) return;
    let overdue = false;
    for (const a of await listAssignments(trx, caseId)) {
      if (a.status === 'pending' && a.deadlines.signBy && a.deadlines.signBy <= at && !a.signOverdueAt) {
        await trx.updateTable('assignments').set({ sign_overdue_at: at, updated_at: at }).where('id', '=', a.id).execute();
        await appendEvents(trx, [{ caseId, at, kind: 'overdue', data: { unit: a.unitCode, stage: 'sign', due: a.deadlines.signBy } }]);
        await queueNotification(trx, { caseId, audience: 'dispatchers', kind: 'overdue', data: { unit: a.unitCode, stage: 'sign' } }, now);
        done.push(`overdue: ${a.unitCode} sign`);
        overdue = true;
      }
      if (
        (a.status === 'pending' || a.status === 'accepted') &&
        a.deadlines.replyBy &&
        a.deadlines.replyBy <= at &&
        !a.replyOverdueAt
      ) {
        await trx.updateTable('assignments').set({ reply_overdue_at: at, updated_at: at }).where('id', '=', a.id).execute();
        await appendEvents(trx, [{ caseId, at, kind: 'overdue', data: { unit: a.unitCode, stage: 'reply', due: a.deadlines.replyBy } }]);
        await queueNotification(trx, { caseId, audience: 'dispatchers', kind: 'overdue', data: { unit: a.unitCode, stage: 'reply' } }, now);
        done.push(`overdue: ${a.unitCode} reply`);
        overdue = true;
      }
    }
    if (overdue && !c.overdue) {
      await trx.updateTable('cases').set((eb) => ({ overdue: 1, updated_at: at, version: eb('version', '+', 1) })).where('id', '=', caseId).execute();
    }
  });
  return done;
}
