import type { JobPayloads } from '../jobs.js';
import type { ProcessorDeps } from './processor-deps.js';

/**
 * notify: send one queued notification through its audience's channel.
 * Web reporters follow their case on the tracking page, which shows every
 * public event, so nothing is pushed to them; dispatchers read theirs on the
 * desk. Channels that push (the Telegram bot) deliver here.
 */
export function createNotifyProcessor(deps: ProcessorDeps) {
  return async function processNotify({ notificationId }: JobPayloads['notify']): Promise<string> {
    const n = await deps.db.selectFrom('notifications').selectAll().where('id', '=', notificationId).executeTakeFirst();
    if (!n) return 'skipped: no such notification';
    if (n.status !== 'pending') return `skipped: already ${n.status}`;
    const c = await deps.db.selectFrom('cases').select(['channel']).where('id', '=', n.case_id).executeTakeFirst();
    const at = deps.clock.now().toISOString();
    let status: 'sent' | 'skipped';
    let outcome: string;
    if (n.audience === 'reporter') {
      // No pushing channel for this reporter yet: the tracking page is where they follow the case.
      status = 'skipped';
      outcome = `skipped: ${c?.channel ?? 'unknown'} reporters follow the tracking page`;
    } else {
      status = 'sent';
      outcome = `recorded for ${n.audience}`;
      deps.logger.info({ caseId: n.case_id, audience: n.audience, kind: n.kind }, 'notification for staff');
    }
    await deps.db
      .updateTable('notifications')
      .set({ status, sent_at: at })
      .where('id', '=', notificationId)
      .where('status', '=', 'pending')
      .execute();
    return outcome;
  };
}
