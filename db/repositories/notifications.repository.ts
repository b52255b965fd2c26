import { PostgresAdapter, sql, type ExpressionBuilder, type RawBuilder } from 'kysely';
import type { CasesTable, Database, TelegramBureauPostsTable } from '../schema.js';
import { WORKING } from '../../src/domain/case.js';
import { reportersNamedIn } from '../../src/pipeline/extract.js';
import type { Case } from '../../src/domain/case.js';
import { toAttachment, type StoredAttachment } from './attachments.repository.js';
import { toCase } from './cases.repository.js';
import { reporterNames } from './contacts.repository.js';
import { inChunks, parseJson, type Db } from './db-types.js';

/**
 * Reads for notifications: who follows a case besides its own reporter, and,
 * for the reconciler, the notifications and Telegram group posts the
 * database still owes, whose jobs Redis may have lost.
 */

/**
 * The reports merged into a case, as the table `merged_reports(id)`: those
 * merged into it, and those merged into one of them before it was merged in
 * turn (their reporters follow the case their report is handled in).
 */
function withMergedReports(db: Db, caseId: string) {
  return db.withRecursive('merged_reports(id)', (qc) =>
    qc
      .selectFrom('cases')
      .select('id')
      .where('merged_into', '=', caseId)
      .unionAll((eb) => eb.selectFrom('cases as c').innerJoin('merged_reports as m', 'm.id', 'c.merged_into').select('c.id')),
  );
}

/**
 * Whether any report is merged into the case now. Few cases ever have a duplicate merged into them: one probe of the
 * index answers for the rest (it runs for every notice of a reporter and every case page) before the recursive query.
 */
async function anyMergedInto(db: Db, caseId: string): Promise<boolean> {
  return (await db.selectFrom('cases').select('id').where('merged_into', '=', caseId).limit(1).executeTakeFirst()) !== undefined;
}

/**
 * The reports merged into a case (and into those before they were merged in turn), oldest first, with their photos:
 * their words and pictures are the handling unit's to read on the case they were merged into.
 */
export async function listMergedReports(db: Db, caseId: string): Promise<Array<{ report: Case; photos: StoredAttachment[] }>> {
  if (!(await anyMergedInto(db, caseId))) return [];
  const rows = await withMergedReports(db, caseId)
    .selectFrom('cases as d')
    .innerJoin('merged_reports as m', 'm.id', 'd.id')
    .selectAll('d')
    .orderBy('d.received_at')
    .orderBy('d.id')
    .execute();
  if (rows.length === 0) return [];
  const files = await inChunks(
    rows.map((r) => r.id),
    (ids) => db.selectFrom('case_attachments').selectAll().where('case_id', 'in', ids).where('kind', '=', 'photo').orderBy('created_at').orderBy('id').execute(),
  );
  return rows.map((r) => ({ report: toCase(r), photos: files.filter((f) => f.case_id === r.id).map(toAttachment) }));
}

/**
 * The Telegram chats that follow a case through reports merged into it,
 * less the case's own chat (a resident may have reported both).
 */
export async function mergedFollowers(db: Db, caseId: string): Promise<string[]> {
  if (!(await anyMergedInto(db, caseId))) return [];
  const rows = await withMergedReports(db, caseId)
    .selectFrom('telegram_reporters as r')
    .innerJoin('merged_reports as m', 'm.id', 'r.case_id')
    .select('r.chat_id')
    .distinct()
    .where('r.chat_id', 'not in', (eb) => eb.selectFrom('telegram_reporters').select('chat_id').where('case_id', '=', caseId))
    .orderBy('r.chat_id')
    .execute();
  return rows.map((r) => r.chat_id);
}

/**
 * A chat that follows the case through a report merged into it: the chat's
 * language and that report's tracking code (its latest, when it sent more
 * than one), under which it is told; undefined for a chat that does not.
 */
export async function followerOf(db: Db, caseId: string, chatId: string): Promise<{ language: string | null; trackingCode: string } | undefined> {
  const row = await withMergedReports(db, caseId)
    .selectFrom('telegram_reporters as r')
    .innerJoin('merged_reports as m', 'm.id', 'r.case_id')
    .innerJoin('cases as d', 'd.id', 'r.case_id')
    .select(['r.language', 'd.tracking_code'])
    .where('r.chat_id', '=', chatId)
    .orderBy('r.created_at', 'desc')
    .executeTakeFirst();
  return row ? { language: row.language, trackingCode: row.tracking_code } : undefined;
}

/**
 * Whether any report was ever merged into the case (still merged, or merged and taken out again): its
 * reporter may be named in what staff wrote on it, a name kept or not (an anonymous one's, 与王小明的举报重复).
 * Each merge records `merged_in` on the case it went into.
 */
export async function hadMergedReports(db: Db, caseId: string): Promise<boolean> {
  const row = await db.selectFrom('case_events').select('id').where('case_id', '=', caseId).where('kind', '=', 'merged_in').limit(1).executeTakeFirst();
  return row !== undefined;
}

/**
 * Whether a report whose reporter asked not to be named was merged into the case, or into one merged into it: what
 * staff write on the case may name that reporter (与王小明的举报重复), whose names keep no surname either. One probe of
 * the index answers for the cases no report was merged into.
 */
export async function anonymousReportMergedInto(db: Db, caseId: string): Promise<boolean> {
  const anyMerged = await db.selectFrom('cases').select('id').where('merged_into', '=', caseId).limit(1).executeTakeFirst();
  if (!anyMerged) return false;
  const row = await withMergedReports(db, caseId)
    .selectFrom('cases as d')
    .innerJoin('merged_reports as m', 'm.id', 'd.id')
    .select('d.id')
    .where('d.anonymous', '=', 1)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * The reporters' names (and contact phones) of a case and of the reports merged into it (through
 * merges in turn too, and those merged into it once and taken out again): a bureau's answer or a dispatcher's note on the case
 * may name any of them, and whoever reads it who is not that reporter — the
 * case's bureaus, the public, the case's own reporter, the reporter of
 * another merged report — reads it with those names masked. With them the
 * names staff wrote on these cases as a reporter's (reportersStaffNamed), which
 * no contact keeps for an anonymous report. `own: false` leaves out the case's
 * own reporter's (for what that reporter reads).
 */
export async function reporterNamesWithMerged(db: Db, caseId: string, opts: { own?: boolean } = {}): Promise<string[]> {
  const own = opts.own ?? true;
  // Reports merged into the case once and taken out again (撤销并案): what was written on the case meanwhile may name
  // their reporters still.
  const formerly = (await db.selectFrom('case_events').select('data').where('case_id', '=', caseId).where('kind', '=', 'merged_in').execute())
    .map((e) => parseJson<{ from?: unknown }>(e.data, {}).from)
    .filter((id): id is string => typeof id === 'string');
  const merged = await withMergedReports(db, caseId)
    .selectFrom('cases as d')
    .leftJoin('case_contacts as k', 'k.case_id', 'd.id')
    .select(['d.id', 'd.text', 'd.address', 'k.name', 'k.phone'])
    .where((eb) => eb.or([eb('d.id', '=', caseId), eb('d.id', 'in', eb.selectFrom('merged_reports').select('id'))]))
    .execute();
  // Every merge is recorded: those still merged were read above, the others are read by their ids.
  const read = new Set(merged.map((r) => r.id));
  const takenOut = await inChunks(
    formerly.filter((id) => !read.has(id)),
    (ids) => db.selectFrom('cases as d').leftJoin('case_contacts as k', 'k.case_id', 'd.id').select(['d.id', 'd.text', 'd.address', 'k.name', 'k.phone']).where('d.id', 'in', ids).execute(),
  );
  const rows = [...merged, ...takenOut];
  const namesOf = (r: (typeof rows)[number]) => reporterNames({ name: r.name ?? null, phone: r.phone ?? null }, { text: r.text, address: r.address });
  const ownNames = rows.filter((r) => r.id === caseId).flatMap(namesOf);
  const named = (await reportersStaffNamed(db, rows.map((r) => r.id))).filter((n) => own || !isOwnName(ownNames, n));
  return [...new Set([...rows.filter((r) => own || r.id !== caseId).flatMap(namesOf), ...named])];
}

/**
 * What staff wrote may name the case's own reporter too: left out with their other names (`own: false`), as is a part
 * of one a rule reads short (举报人钱多多 read as 钱多).
 */
function isOwnName(ownNames: readonly string[], n: string): boolean {
  return ownNames.some((o) => [...o].length >= 2 && (o.includes(n) || n.includes(o)));
}

/**
 * `reporterNamesWithMerged(db, id, { own: false })` for a page of cases at once, by case id: a list of cases masks
 * in each what its case page masks. The cases that never had a report merged into them (nearly all) cost two queries
 * together; each of the others its own.
 */
export async function reporterNamesWithMergedFor(
  db: Db,
  cases: ReadonlyArray<{ id: string; text: string; address: string | null; contact: { name: string | null; phone: string | null } | null }>,
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (cases.length === 0) return out;
  const ids = [...new Set(cases.map((c) => c.id))];
  const [hadMerges, named] = await Promise.all([
    inChunks(ids, (chunk) => db.selectFrom('case_events').select('case_id').distinct().where('case_id', 'in', chunk).where('kind', '=', 'merged_in').execute()),
    reportersStaffNamedByCase(db, ids),
  ]);
  const merging = new Set(hadMerges.map((r) => r.case_id));
  for (const c of cases) {
    if (merging.has(c.id)) {
      out.set(c.id, await reporterNamesWithMerged(db, c.id, { own: false }));
      continue;
    }
    const ownNames = reporterNames(c.contact, { text: c.text, address: c.address });
    out.set(c.id, (named.get(c.id) ?? []).filter((n) => !isOwnName(ownNames, n)));
  }
  return out;
}

/**
 * The names staff wrote on the cases as a reporter's or a caller's (与王小明的举报重复 in a merge's reason, 已回访王小明
 * in a reply, 来电人张伟 in a note): no contact keeps an anonymous reporter's name, and another text on the case may
 * give it alone (已联系王小明核实). Staff's events only: their notes and the words in their data (a reason, a reply).
 */
async function reportersStaffNamed(db: Db, caseIds: readonly string[]): Promise<string[]> {
  return [...new Set([...(await reportersStaffNamedByCase(db, caseIds)).values()].flat())];
}

/** reportersStaffNamed for each of several cases (a page of them), by case id, a query per LIST_PER_STATEMENT cases. */
export async function reportersStaffNamedByCase(db: Db, caseIds: readonly string[]): Promise<Map<string, string[]>> {
  const byCase = new Map<string, Set<string>>();
  if (caseIds.length === 0) return new Map();
  const events = await inChunks(caseIds, (ids) =>
    db.selectFrom('case_events').select(['case_id', 'note', 'data']).where('case_id', 'in', ids).where('actor_type', '=', 'staff').execute(),
  );
  for (const e of events) {
    const out = byCase.get(e.case_id) ?? new Set<string>();
    byCase.set(e.case_id, out);
    const read = (v: unknown): void => {
      if (typeof v === 'string') for (const name of reportersNamedIn(v)) out.add(name);
      else if (Array.isArray(v)) v.forEach(read);
      else if (v !== null && typeof v === 'object') Object.values(v).forEach(read);
    };
    read(e.note);
    read(parseJson<unknown>(e.data, null));
  }
  return new Map([...byCase].map(([id, names]) => [id, [...names]]));
}

/**
 * Counts a run of a pending notice before it sends anything, as a bureau delivery counts its attempts: a run cut off
 * by a killed worker counts, and so do the runs of a job that was lost or re-created with a fresh set of the queue's
 * attempts. The notice's attempts begun, this one included; null once it is no longer pending.
 */
export async function beginNoticeAttempt(db: Db, id: string): Promise<number | null> {
  const counted = await db
    .updateTable('notifications')
    .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  if (Number(counted.numUpdatedRows) !== 1) return null;
  const row = await db.selectFrom('notifications').select('attempts').where('id', '=', id).executeTakeFirst();
  return Number(row?.attempts ?? 1);
}

/**
 * A unit notice's `channels` while the channel waits for the unit's assignment to reach it first (a LIKE pattern):
 * the webhook for its `case.assigned` delivery, the Telegram group for the case's post there.
 */
export function waitingForAssignment(channel: 'webhook' | 'telegram'): string {
  return `%"${channel}":"waiting"%`;
}

/**
 * Whether the unit's Telegram group post of the case is still on its way: the post of the case's current round is
 * being made (`posting`: Telegram refused an attempt, or photos are awaited), or the unit was given the case again
 * within the round and the new post is still to be made (`renewed_at`), and it is still owed, the unit's assignment
 * of that round still waiting to be signed for (a post for a part signed for, returned or taken away is not made).
 * `madeAt`: for a notice made then, which waits for a new post only when made after the unit was given the case
 * again; one made before is about the post the row still holds, and replies to it.
 * `lock` reads with the unit's post rows of the case locked (PostgreSQL; SQLite transactions run one at a time):
 * a transaction that settles the post commits either before this read, which then sees it, or after this
 * transaction, and then sees what it wrote.
 */
export async function groupPostOnItsWay(db: Db, caseId: string, unit: string, opts: { lock?: boolean; madeAt?: string } = {}): Promise<boolean> {
  if (opts.lock && db.getExecutor().adapter instanceof PostgresAdapter) {
    await db.selectFrom('telegram_bureau_posts').select('id').where('case_id', '=', caseId).where('unit_code', '=', unit).forUpdate().execute();
  }
  const row = await db
    .selectFrom('telegram_bureau_posts as p')
    .innerJoin('cases as c', 'c.id', 'p.case_id')
    .select('p.id')
    .where('p.case_id', '=', caseId)
    .where('p.unit_code', '=', unit)
    .where((eb) => postOwedAndOnItsWay(eb, opts.madeAt))
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * The condition of `groupPostOnItsWay` on a post `p` joined with its case `c`, for a notice made at `madeAt` (a
 * value, or the notice's column), or for any notice without it.
 */
function postOwedAndOnItsWay(eb: ExpressionBuilder<Database & { p: TelegramBureauPostsTable; c: CasesTable }, 'p' | 'c'>, madeAt?: string | RawBuilder<string>) {
  // ISO instants, compared as text: a notice made with the re-assignment (the same instant) is about the new stint.
  const renewed = eb('p.renewed_at', 'is not', null);
  return eb.and([
    eb.or([eb('p.status', '=', 'posting'), madeAt === undefined ? renewed : eb.and([renewed, eb('p.renewed_at', '<=', madeAt)])]),
    eb('p.round', '=', eb.fn.coalesce('c.round', eb.lit(1))),
    eb.exists(
      eb
        .selectFrom('assignments as a')
        .select('a.id')
        .whereRef('a.case_id', '=', 'p.case_id')
        .whereRef('a.unit_code', '=', 'p.unit_code')
        .where('a.status', '=', 'pending')
        .where((e) => e(e.fn.coalesce('a.round', e.lit(1)), '=', e.ref('p.round'))),
    ),
  ]);
}

/** Notifications still pending, queued before `olderThan`: oldest first. */
export async function listStalePendingNotifications(
  db: Db,
  olderThan: string,
  limit: number,
  afterId?: string,
): Promise<Array<{ notificationId: string; caseId: string }>> {
  let q = db
    .selectFrom('notifications')
    .select(['id', 'case_id'])
    .where('status', '=', 'pending')
    .where('created_at', '<', olderThan)
    // Not a notice waiting for its unit's assignment, still on its way to the webhook or the group: settling that
    // delivery or post sends it.
    .where((eb) =>
      eb.or([
        eb('channels', 'is', null),
        eb.and([
          eb.or([
            eb('channels', 'not like', waitingForAssignment('webhook')),
            eb.not(
              eb.exists(
                eb
                  .selectFrom('deliveries as d')
                  .select('d.id')
                  .whereRef('d.case_id', '=', 'notifications.case_id')
                  .where('d.status', '=', 'pending')
                  .where('d.channel', '=', 'webhook')
                  .where(sql<boolean>`notifications.audience = 'unit:' || d.unit_code`),
              ),
            ),
          ]),
          eb.or([
            eb('channels', 'not like', waitingForAssignment('telegram')),
            eb.not(
              eb.exists(
                eb
                  .selectFrom('telegram_bureau_posts as p')
                  .innerJoin('cases as c', 'c.id', 'p.case_id')
                  .select('p.id')
                  .whereRef('p.case_id', '=', 'notifications.case_id')
                  .where(sql<boolean>`notifications.audience = 'unit:' || p.unit_code`)
                  .where((e) => postOwedAndOnItsWay(e, sql<string>`notifications.created_at`)),
              ),
            ),
          ]),
        ]),
      ]),
    );
  if (afterId !== undefined) q = q.where('id', '>', afterId);
  const rows = await q.orderBy('id').limit(limit).execute();
  return rows.map((r) => ({ notificationId: r.id, caseId: r.case_id }));
}

/**
 * Assignments a bureau group should have a post for and has none finished:
 * pending in the case's current round, last changed before `olderThan`,
 * for a unit with a group, with no post, one still `posting`, or one owed
 * since the unit was given the case again (`renewed_at`; for rows from before
 * that was kept, one settled before) — then `again`, with the instant of the
 * re-assignment, as the workflow queued it, so a job still retrying is found
 * under its own id rather than joined by a second one. The notices to the unit
 * made since wait for that post.
 */
export async function listOwedGroupPosts(
  db: Db,
  units: readonly string[],
  olderThan: string,
  limit: number,
  afterId?: string,
): Promise<Array<{ assignmentId: string; post: { caseId: string; unit: string; round: number; again?: boolean; at?: number } }>> {
  if (units.length === 0) return [];
  let q = db
    .selectFrom('assignments as a')
    .innerJoin('cases as c', 'c.id', 'a.case_id')
    .leftJoin('telegram_bureau_posts as p', (join) =>
      join.onRef('p.case_id', '=', 'a.case_id').onRef('p.unit_code', '=', 'a.unit_code').onRef('p.round', '=', 'c.round'),
    )
    .select(['a.id as assignmentId', 'a.case_id as caseId', 'a.unit_code as unit', 'c.round as round', 'p.status as postStatus', 'p.created_at as postedFirstAt', 'p.renewed_at as renewedAt', 'a.updated_at as assignedAt'])
    .where('a.status', '=', 'pending')
    .where('a.unit_code', 'in', [...units])
    .where('a.updated_at', '<', olderThan)
    .where('c.status', 'in', WORKING)
    .where((eb) => eb(eb.fn.coalesce('a.round', eb.lit(1)), '=', eb.ref('c.round')))
    .where((eb) => eb.or([eb('p.id', 'is', null), eb('p.status', 'in', ['posting', 'accepted', 'returned']), eb('p.renewed_at', 'is not', null)]));
  if (afterId !== undefined) q = q.where('a.id', '>', afterId);
  const rows = await q.orderBy('a.id').limit(limit).execute();
  return rows.map((r) => {
    // Owed since the unit got the case again: the workflow's `again` job, whose id holds the re-assignment's instant.
    if (r.renewedAt !== null) return { assignmentId: r.assignmentId, post: { caseId: r.caseId, unit: r.unit, round: Number(r.round), again: true, at: Date.parse(r.renewedAt) } };
    // A row from before that was kept: a post settled before the unit got the case again, or one being re-posted
    // since (its row is older than the assignment's last change).
    const again =
      r.postStatus === 'accepted' || r.postStatus === 'returned' || (r.postStatus === 'posting' && r.postedFirstAt !== null && r.postedFirstAt < r.assignedAt);
    return { assignmentId: r.assignmentId, post: { caseId: r.caseId, unit: r.unit, round: Number(r.round), ...(again ? { again: true, at: Date.parse(r.assignedAt) } : {}) } };
  });
}

/**
 * Case ids of Telegram reports whose photos are still to be fetched since
 * before `olderThan` (their \`telegram_photos\` job lost with Redis, say), a
 * page at a time by case id.
 */
export async function listStalePhotoFetches(db: Db, olderThan: string, limit: number, afterCaseId?: string): Promise<string[]> {
  let q = db.selectFrom('telegram_photo_fetches').select('case_id').where('status', '=', 'pending').where('created_at', '<', olderThan);
  if (afterCaseId !== undefined) q = q.where('case_id', '>', afterCaseId);
  const rows = await q.orderBy('case_id').limit(limit).execute();
  return rows.map((r) => r.case_id);
}
