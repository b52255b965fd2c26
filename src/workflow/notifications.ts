import type { Trx } from '../../db/repositories/db-types.js';
import { mergedFollowers, waitingForAssignment } from '../../db/repositories/notifications.repository.js';
import { addToOutbox } from '../../db/repositories/outbox.repository.js';
import { outboxEntry } from '../../queues/jobs.js';
import { newId } from '../domain/ids.js';
import { insertRows } from '../../db/insert-buffer.js';

/**
 * Reporter-visible changes (dispatched, accepted, replied, extended, merged,
 * closed, reopened; photos of a Telegram report that could not be saved), escalations to the dispatchers and notices to units
 * (催办, 督办, 重办, a case given back to them or taken from them, new deadlines, a case paused while it waits in triage) are queued as notifications, in the same transaction as
 * the change, and sent by the `notify` job through the audience's channel.
 */
/** Channels through which a reporter can be told about changes without asking. */
export const PUSH_CHANNELS: ReadonlySet<string> = new Set(['telegram']);

/** Notices about the reporter's own report (its photos, a merge of it undone), not about the case that duplicates' reporters follow. */
const OWN_REPORT_ONLY: ReadonlySet<NotificationKind> = new Set(['photos_not_saved', 'unmerged']);

/**
 * Who a notification is for: the case's reporter, the dispatchers, a unit, or
 * (`chat:<id>`) the Telegram chat of a duplicate merged into the case, which
 * follows the case from then on.
 */
export type Audience = 'reporter' | 'dispatchers' | `unit:${string}` | `chat:${string}`;

export type NotificationKind =
  | 'dispatched'
  | 'accepted'
  | 'replied'
  | 'extended'
  | 'merged'
  | 'unmerged'
  | 'closed'
  | 'reopened'
  | 'reopened_to_lead'
  | 'photos_not_saved'
  | 'transferred'
  | 'untransferred'
  | 'reminder'
  | 'overdue'
  | 'supervision'
  | 'returned'
  | 'extension_requested'
  | 'reassigned'
  | 'released'
  | 'urgent'
  | 'deadlines'
  | 'extension_refused'
  | 'paused';

export async function queueNotification(
  trx: Trx,
  n: {
    caseId: string;
    audience: Audience;
    kind: NotificationKind;
    data?: Record<string, unknown>;
    /** The case's channel when the caller has it at hand (saves a read). */
    channel?: string;
  },
  now: Date,
): Promise<string> {
  const id = newId();
  // Reporters who came through a channel that cannot push (the web form, the
  // hotline) follow the tracking page: their notification is recorded, not sent.
  let push = true;
  let followers: string[] = [];
  if (n.audience === 'reporter') {
    const channel =
      n.channel ?? (await trx.selectFrom('cases').select('channel').where('id', '=', n.caseId).executeTakeFirst())?.channel;
    push = channel !== undefined && PUSH_CHANNELS.has(channel);
    // The reporters of duplicates merged into the case follow it in their own chats, whatever the case's own
    // channel: each chat by a notice of its own, retried and recorded as the reporter's is.
    if (!OWN_REPORT_ONLY.has(n.kind)) followers = await mergedFollowers(trx, n.caseId);
  }
  const data = n.data ? JSON.stringify(n.data) : null;
  const at = now.toISOString();
  const rows = [
    { id, case_id: n.caseId, audience: n.audience as string, kind: n.kind, status: push ? 'pending' : 'skipped', data, created_at: at, sent_at: null },
    ...followers.map((chatId) => ({ id: newId(), case_id: n.caseId, audience: `chat:${chatId}`, kind: n.kind, status: 'pending', data, created_at: at, sent_at: null })),
  ];
  await insertRows(trx, 'notifications', rows);
  const jobs = rows.filter((r) => r.status === 'pending').map((r) => outboxEntry('notify', { notificationId: r.id, caseId: n.caseId }));
  if (jobs.length > 0) await addToOutbox(trx, jobs, now);
  return id;
}

/**
 * The notices to a unit that wait for its assignment to reach one of its channels (a notice never goes to its
 * webhook before `case.assigned`, nor to its Telegram group before the case's post there) go out again once that
 * delivery or post is settled, in the transaction that settles it: after the assignment when it was delivered;
 * recorded failed on that channel when it failed for good; as any notice when it is no longer to be made (the unit
 * no longer holds the case, or signed for it before its group was posted). The notify job decides which, as for any run.
 */
export async function releaseWaitingNotices(trx: Trx, caseId: string, unit: string, channel: 'webhook' | 'telegram', now: Date): Promise<number> {
  const waiting = await trx
    .selectFrom('notifications')
    .select('id')
    .where('case_id', '=', caseId)
    .where('audience', '=', `unit:${unit}`)
    .where('status', '=', 'pending')
    .where('channels', 'like', waitingForAssignment(channel))
    .orderBy('created_at')
    .execute();
  if (waiting.length > 0) await addToOutbox(trx, waiting.map((n) => outboxEntry('notify', { notificationId: n.id, caseId })), now);
  return waiting.length;
}

/**
 * The units that answered a case the reporter's rating (or the end of the rating period) closed are told so
 * (`case.closed` to their webhook, a line in their group): the case their own system still holds as answered is done.
 * A unit released or that returned its part no longer holds the case and is not told.
 */
export async function queueClosedNotices(
  trx: Trx,
  caseId: string,
  data: { reason: 'rated'; rating: string; solved: boolean; round: number } | { reason: 'not_rated'; round: number },
  now: Date,
): Promise<void> {
  for (const unit of await unitsThatAnswered(trx, caseId)) await queueNotification(trx, { caseId, audience: `unit:${unit}`, kind: 'closed', data }, now);
}

/**
 * The other units that answered a case a dissatisfied rating handed back to its lead alone (重办) — co-handlers, the
 * local office — are told so (`case.reopened_to_lead` to their webhook, a line in their group): the case their own
 * system holds as answered is open again, and their part, done, is not asked of them again. The lead gets its own
 * `reopened` notice (and its group a new post of the round).
 */
export async function queueReopenedToLeadNotices(
  trx: Trx,
  caseId: string,
  data: { lead: string; round: number; solved: boolean },
  now: Date,
): Promise<void> {
  for (const unit of await unitsThatAnswered(trx, caseId, data.lead)) {
    await queueNotification(trx, { caseId, audience: `unit:${unit}`, kind: 'reopened_to_lead', data }, now);
  }
}

/** The units whose assignment on the case stands answered (replied), but `except`, in the order of their codes. */
async function unitsThatAnswered(trx: Trx, caseId: string, except?: string): Promise<string[]> {
  let q = trx.selectFrom('assignments').select('unit_code').distinct().where('case_id', '=', caseId).where('status', '=', 'replied');
  if (except !== undefined) q = q.where('unit_code', '!=', except);
  return (await q.orderBy('unit_code').execute()).map((a) => a.unit_code);
}

/**
 * A wake-up at the earliest of the given instants still ahead; the `deadline`
 * job re-reads the case, applies whatever is due and schedules the next one,
 * so a case has one pending timer at a time rather than one per deadline.
 */
export async function scheduleDeadlineChecks(trx: Trx, caseId: string, instants: ReadonlyArray<string | null>, now: Date): Promise<void> {
  const ahead = instants.filter((x): x is string => Boolean(x) && Date.parse(x as string) > now.getTime()).sort();
  const first = ahead[0];
  if (!first) return;
  await addToOutbox(trx, [outboxEntry('deadline', { caseId, at: first }, new Date(first))], now);
}

