import { checkDeadlines } from '../../src/workflow/deadline-check.js';
import type { JobPayloads } from '../jobs.js';
import type { ProcessorDeps } from './processor-deps.js';

/**
 * deadline: a delayed job that wakes up at one of a case's deadlines. It
 * decides nothing from its payload: it re-reads the case and applies
 * whatever is due at the clock's current time, so a stale or repeated
 * wake-up is harmless and the reconciler's sweep can do the same.
 */
export function createDeadlineProcessor(deps: ProcessorDeps) {
  return async function processDeadline({ caseId }: JobPayloads['deadline']): Promise<string> {
    const done = await checkDeadlines(deps, caseId);
    if (done.length === 0) return 'nothing due';
    // Reminders and escalations wait in the outbox: move them now rather than on the next poll.
    deps.kickOutbox();
    return done.join(', ');
  };
}
