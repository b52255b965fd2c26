import type { Kysely } from 'kysely';
import type { Trx } from '../../db/repositories/db-types.js';
import { appendEvents, eventKindsAfter, type ActorType } from '../../db/repositories/events.repository.js';
import type { CaseUpdate, Database } from '../../db/schema.js';
import { canTransition, type Case, type CaseStatus } from '../domain/case.js';
import { AppError, refused } from '../errors.js';
import type { Said } from './service-words.js';

/** Who did something: a person with a role, the reporter, or the system. */
export interface Actor {
  type: ActorType;
  id: string | null;
  role: string | null;
}

export const SYSTEM: Actor = { type: 'system', id: null, role: null };
export const REPORTER: Actor = { type: 'reporter', id: null, role: null };

export interface TransitionOptions {
  actor: Actor;
  at: string;
  /** Why (reason code, free text, or the service's words for a one-click action), kept on the event. */
  reason?: Said | null;
  /** Shown on the public timeline when `public` is true. */
  note?: string | null;
  public?: boolean;
  data?: Record<string, unknown>;
  /** Further columns changed together with the status. */
  changes?: Omit<CaseUpdate, 'status' | 'updated_at' | 'version'>;
}

/**
 * The case as the one acting saw it when deciding. A page's form says the version it was drawn from (`ifVersion`)
 * and the latest event it showed (`seenEvent`); an API client says the versions its `If-Match` names (`ifMatch`,
 * read from the ETags `GET /api/v1/cases/{id}` gave it; none for `If-Match: *`).
 */
export interface SeenCase {
  /** The case's version a page's form was drawn from: a case changed since is refused, not acted on again. */
  ifVersion?: number;
  /** The case's latest event the page showed with that version (`lastEventId`, read before it). */
  seenEvent?: number;
  /** The versions an API client's `If-Match` names: the case must be at one of them, whatever changed it since. */
  ifMatch?: readonly number[];
}

/**
 * The case's version as the API's ETag says it (`"v7"`), a strong entity tag. A view that shows what the case's
 * version does not follow — a withdrawn unit's view of a merged case names the case it went into while the unit
 * holds that one — adds what it shows (`"v7-<id of that case>"`), so a conditional GET sees it change.
 */
export function caseETag(version: number, shows?: string): string {
  return `"v${version}${shows ? `-${shows}` : ''}"`;
}

/** What the deadline timers record on their own — a reminder sent, a deadline marked missed: nobody decided anything. */
const TIMER_EVENTS: readonly string[] = ['reminder', 'overdue'];

/**
 * Refuses an action decided on an earlier state of the case (another dispatcher routed it meanwhile, a unit acted,
 * or the client's own first try went through before it timed out). Called with the case locked (lockCase), so of
 * two actions decided on one version, the second sees what the first did and is refused.
 *
 * A page's form: a case the deadline timers alone touched since is the case the dispatcher decided on (the overdue
 * list's 督办 is clicked just as a case becomes overdue, and its mark must not turn the click away); refused as
 * `conflict`. An API client's If-Match is compared as HTTP says, with the version as it is (its ETag changed with
 * the timers' marks too); refused as `precondition_failed` (412) naming If-Match.
 */
export async function unchangedSince(db: Trx, c: Case, seen: SeenCase): Promise<void> {
  if (seen.ifMatch !== undefined && !seen.ifMatch.includes(c.version)) {
    throw new AppError('precondition_failed', `the case was changed since the version If-Match names: read it again (version ${c.version} now) and decide`, {
      'If-Match': `not the case's current version (now ${caseETag(c.version)})`,
    });
  }
  if (seen.ifVersion === undefined || c.version === seen.ifVersion) return;
  if (seen.seenEvent !== undefined) {
    const since = await eventKindsAfter(db, c.id, seen.seenEvent);
    if (since.length > 0 && since.every((kind) => TIMER_EVENTS.includes(kind))) return;
  }
  throw refused('conflict', 'the case was changed after this page was loaded (someone else routed or handled it): look at it again and decide', { reason: 'page_outdated' });
}

/**
 * PostgreSQL's ways of telling a transaction it crossed another one:
 * deadlock_detected, serialization_failure, and unique_violation (two
 * actions adding the same row). Case actions lock the case row first
 * (lockCase), so these should not happen; if one does, nothing was written.
 */
const LOST_RACE = new Set(['40P01', '40001', '23505']);

/**
 * Runs one action on a case in a transaction. Losing a race with another
 * action on the same case is a `conflict` (409) to try again, not a fault.
 */
export async function inCaseTransaction<T>(db: Kysely<Database>, fn: (trx: Trx) => Promise<T>): Promise<T> {
  try {
    return await db.transaction().execute(fn);
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && LOST_RACE.has(code)) {
      // The database's own error goes along (and into the log), so a real fault never hides as a mere 409.
      throw Object.assign(refused('conflict', 'the case was changed by someone else meanwhile; reload it and try again', { reason: 'changed_meanwhile' }), { cause: err });
    }
    throw err;
  }
}

/**
 * The one way a case changes status: checked against the transition table,
 * applied only if nobody changed the case since it was read (version), and
 * recorded as one event with who, when, from, to and why. An illegal move
 * is `illegal_transition`; losing a race is `conflict` — both 409.
 */
export async function moveCase(trx: Trx, c: Case, to: CaseStatus, opts: TransitionOptions): Promise<void> {
  if (!canTransition(c.status, to)) {
    throw refused('illegal_transition', `a case that is ${c.status} cannot become ${to}`, { reason: 'transition', from: c.status, to });
  }
  const moved = await trx
    .updateTable('cases')
    .set((eb) => ({ ...opts.changes, status: to, updated_at: opts.at, version: eb('version', '+', 1) }))
    .where('id', '=', c.id)
    .where('status', '=', c.status)
    .where('version', '=', c.version)
    .executeTakeFirst();
  if (Number(moved.numUpdatedRows) !== 1) {
    throw refused('conflict', 'the case was changed by someone else meanwhile; reload it and try again', { reason: 'changed_meanwhile' });
  }
  await appendEvents(trx, [
    {
      caseId: c.id,
      at: opts.at,
      actor: opts.actor,
      kind: 'status',
      fromStatus: c.status,
      toStatus: to,
      note: opts.note ?? null,
      data: { ...(opts.reason ? { reason: opts.reason } : {}), ...opts.data },
      public: opts.public ?? true,
    },
  ]);
}

/**
 * Records something that happened to a case without changing its status
 * (progress note, co-handler's reply, reminder…), bumping the version so
 * concurrent status changes based on an older read fail cleanly. Says the
 * case's version after it.
 */
export async function touchCase(
  trx: Trx,
  c: Case,
  event: { kind: string; actor: Actor; at: string; note?: string | null; public?: boolean; data?: Record<string, unknown> },
  changes: Omit<CaseUpdate, 'status' | 'updated_at' | 'version'> = {},
): Promise<number> {
  const touched = await trx
    .updateTable('cases')
    .set((eb) => ({ ...changes, updated_at: event.at, version: eb('version', '+', 1) }))
    .where('id', '=', c.id)
    .where('version', '=', c.version)
    .executeTakeFirst();
  if (Number(touched.numUpdatedRows) !== 1) {
    throw refused('conflict', 'the case was changed by someone else meanwhile; reload it and try again', { reason: 'changed_meanwhile' });
  }
  await appendEvents(trx, [
    { caseId: c.id, at: event.at, actor: event.actor, kind: event.kind, note: event.note ?? null, data: event.data ?? null, public: event.public ?? false },
  ]);
  return c.version + 1;
}
