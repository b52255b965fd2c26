import { addToOutbox } from '../../db/repositories/outbox.repository.js';
import { checkDeadlines, nextWakeUp } from '../../src/workflow/deadline-check.js';
import { outboxEntry, type JobPayloads } from '../jobs.js';
import type { ProcessorDeps } from './processor-deps.js';

/**
 * deadline: a delayed job that wakes up at one of a case's deadlines. It
 * decides nothing from its payload: it re-reads the case and applies
 * whatever is due at the clock's current time, so a stale or repeated
 * wake-up is harmless and the reconciler's sweep can do the same.
 */
export function createDeadlineProcessor(deps: ProcessorDeps) {
  return async function processDeadline({ caseId }: JobPayloads['deadline']): Promise<string> {
    const now = deps.clock.now();
    const done = await checkDeadlines(deps, caseId, now);
    // Chain the next timer of the case (a repeated job id is ignored by the queue).
    const next = await nextWakeUp(deps, caseId, now);
    if (next) await addToOutbox(deps.db, [outboxEntry('deadline', { caseId, at: next }, new Date(next))], now);
    // Reminders, escalations and the next wake-up wait in the outbox: move them now.
    if (done.length > 0 || next) deps.kickOutbox();
    return done.length > 0 ? done.join(', ') : 'nothing due';
  };
}
