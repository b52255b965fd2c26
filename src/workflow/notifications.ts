import type { Trx } from '../../db/repositories/db-types.js';
import { mergedFollowers } from '../../db/repositories/notifications.repository.js';
import { addToOutbox } from '../../db/repositories/outbox.repository.js';
import { outboxEntry } from '../../queues/jobs.js';
import { newId } from '../domain/ids.js';
import { insertRows } from '../../db/insert-buffer.js';

/**
 * Reporter-visible changes (dispatched, accepted, replied, extended, merged,
 * closed, reopened; photos of a Telegram report that could not be saved), escalations to the dispatchers and notices to units
 * (催办, 督办, 重办, a case given back to them or taken from them) are queued as notifications, in the same transaction as
 * the change, and sent by the `notify` job through the audience's channel.
 */
/** Channels through which a reporter can be told about changes without asking. */
export const PUSH_CHANNELS: ReadonlySet<string> = new Set(['telegram']);

export type Audience = 'reporter' | 'dispatchers' | `unit:${string}`;

export type NotificationKind =
  | 'dispatched'
  | 'accepted'
  | 'replied'
  | 'extended'
  | 'merged'
  | 'closed'
  | 'reopened'
  | 'photos_not_saved'
  | 'transferred'
  | 'reminder'
  | 'overdue'
  | 'supervision'
  | 'returned'
  | 'extension_requested'
  | 'reassigned'
  | 'released';

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
  if (n.audience === 'reporter') {
    const channel =
      n.channel ?? (await trx.selectFrom('cases').select('channel').where('id', '=', n.caseId).executeTakeFirst())?.channel;
    push = channel !== undefined && PUSH_CHANNELS.has(channel);
    // The reporters of duplicates merged into the case follow it in their own chats, whatever the case's own channel.
    if (!push) push = (await mergedFollowers(trx, n.caseId)).length > 0;
  }
  await insertRows(trx, 'notifications', [
    {
      id,
      case_id: n.caseId,
      audience: n.audience,
      kind: n.kind,
      status: push ? 'pending' : 'skipped',
      data: n.data ? JSON.stringify(n.data) : null,
      created_at: now.toISOString(),
      sent_at: null,
    },
  ]);
  if (push) await addToOutbox(trx, [outboxEntry('notify', { notificationId: id, caseId: n.caseId })], now);
  return id;
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

