import { HOLDING_STATUSES, listAssignments } from '../../db/repositories/assignments.repository.js';
import { findCase } from '../../db/repositories/cases.repository.js';
import { findDelivery, lockedDeliveryStatus } from '../../db/repositories/deliveries.repository.js';
import { findContact, namesHiddenFromBureau } from '../../db/repositories/contacts.repository.js';
import { caseReference } from '../../src/domain/case.js';
import { parseJson } from '../../db/repositories/db-types.js';
import { appendEvents, enteredStatusAt, listEvents } from '../../db/repositories/events.repository.js';
import { anonymousReportMergedInto, groupPostOnItsWay, reporterNamesWithMerged } from '../../db/repositories/notifications.repository.js';
import type { Selectable } from 'kysely';
import type { NotificationsTable } from '../../db/schema.js';
import { caseTypeView, groupLanguage, unitName, unitView, type Unit } from '../../src/district/district.schema.js';
import { maskIdentityInText } from '../../src/pipeline/extract.js';
import { mergedIntoHeld } from '../../src/workflow/case-view.js';
import { inGroup } from '../../src/telegram/chat-migrations.js';
import { deadlineLabel } from '../../src/telegram/group-posts.js';
import { TelegramChatUnreachable, type TelegramPush } from '../../src/telegram/push.js';
import { TEXTS, type ReturnReasonCode } from '../../src/telegram/texts.js';
import { saidText, type Said } from '../../src/workflow/service-words.js';
import type { JobContext } from '../jobs.js';
import type { ProcessorDeps } from './processor-deps.js';
import { postSignedWebhook, WebhookError } from './webhook.js';

/**
 * Notices to a bureau or town office — 催办 (a deadline is near), 督办
 * (supervision), 重办 (the case is handed back after a dissatisfied rating)
 * a case given back to a unit that held it before, a case taken from a
 * unit whose webhook had it (the dispatcher's reason in `note`), new deadlines,
 * a case the lead returned that waits for a dispatcher with the others'
 * deadlines stopped, a case the units answered closed by the reporter's
 * rating or the end of the rating period, and a case the others answered
 * handed back to its lead alone after a dissatisfied rating — go out through every channel the unit has: its signed
 * webhook (`case.reminder`, `case.supervision`, `case.reopened`, `case.reassigned`,
 * `case.released`, `case.urgent`, `case.deadlines`, `case.extension_refused`,
 * `case.paused`, `case.closed`, `case.reopened_to_lead`) and its Telegram
 * group, in reply to the case's post there. The notification row remembers
 * which channels are settled, so a retry sends only what is still owed; a
 * channel that fails for good is recorded on the case (`notification_failed`).
 */

export type UnitChannel = 'webhook' | 'telegram';
/**
 * `waiting`: the channel waits for the unit's assignment, still on its way there, to reach it first: the webhook for
 * its `case.assigned` delivery, the group for the case's post.
 */
type Settled = Partial<Record<UnitChannel, 'delivered' | 'failed' | 'waiting'>>;

interface NoticeData {
  unit?: string;
  stage?: 'sign' | 'reply';
  due?: string;
  round?: number;
  workingDaysOverdue?: number;
  /** The dispatcher's note or reason, or the service's words for a one-click action: said in the reader's language. */
  note?: Said;
  units?: string[];
  deadlines?: { signBy: string | null; replyBy: string | null };
  role?: string;
  /** Why a unit's deadlines moved later (a `deadlines` notice): the case waited in triage, or its extension was approved. */
  why?: 'resumed' | 'extended';
  /** The working days an extension request the dispatcher refused asked for (an `extension_refused` notice). */
  workingDays?: number;
  /** The lead whose return stopped the case (a `paused` notice), or that was handed it back alone (`reopened_to_lead`); a return's reason code, and when the wait began. */
  lead?: string;
  /** A return's reason code (`paused`), or why the case was closed (`closed`: rated, not_rated). */
  reason?: string;
  since?: string;
  /** The reporter's rating that closed the case (a `closed` notice; never the comment), and whether they said it was solved (`reopened_to_lead` too). */
  rating?: string;
  solved?: boolean;
}

/**
 * A dispatcher's note (督办: 请尽快联系举报人王五 138…) reaches the unit as
 * the unit's own view of the case shows it (phone numbers and names given as
 * 我叫… masked; the contact's name too unless the reporter agreed to share it;
 * the reporters of the reports merged into the case always).
 */
async function maskedForUnit(
  deps: ProcessorDeps,
  c: { id: string; status: string; anonymous: boolean; text: string; address: string | null },
  data: NoticeData,
): Promise<NoticeData> {
  // The service's words (a 督办 from the overdue list) name nobody.
  if (!data.note || typeof data.note !== 'string') return data;
  const contact = await findContact(deps.db, c.id);
  const [merged, anonymousMerged] =
    c.status === 'merged' ? [[], false] : await Promise.all([reporterNamesWithMerged(deps.db, c.id, { own: false }), anonymousReportMergedInto(deps.db, c.id)]);
  // As in the unit's view of the case: phone numbers and self-given names masked; the contact-field name only when not
  // shared; an official the dispatcher names by surname and title (联系李科长) stays, as in staff-written words there.
  return { ...data, note: maskIdentityInText(data.note, [...namesHiddenFromBureau(contact, c), ...merged], { officials: true, anonymous: c.anonymous || anonymousMerged }) };
}

/** A channel failure no retry can fix (the bureau's server refuses the notice, the bot left the group). */
class FinalChannelError extends Error {}

/**
 * Notices whose news the unit's group reads in the case's posts instead: a new
 * post of the assignment (with its buttons) for a reopened or re-assigned
 * case, the post's own "withdrawn" line for a released unit.
 */
const TOLD_BY_GROUP_POST: ReadonlySet<string> = new Set(['reopened', 'reassigned', 'released']);

/** The channels a unit's notice of this kind goes through; the group is not told twice. */
export function unitChannels(unit: Unit, kind: string, opts: { webhookSecret: string | undefined; telegram: boolean }): UnitChannel[] {
  const out: UnitChannel[] = [];
  if (unit.webhook && (unit.webhook.secret ?? opts.webhookSecret)) out.push('webhook');
  if (unit.telegramChatId !== undefined && opts.telegram && !TOLD_BY_GROUP_POST.has(kind)) out.push('telegram');
  return out;
}

export async function deliverUnitNotice(
  deps: ProcessorDeps,
  telegram: TelegramPush | null,
  n: Selectable<NotificationsTable>,
  ctx: JobContext | undefined,
  /** The notice's last attempt got no outcome (its worker was killed during it): what is still owed fails, unsent. */
  cutOff?: string,
): Promise<{ status: 'sent' | 'skipped' | 'failed' | 'pending'; outcome: string }> {
  const code = n.audience.slice('unit:'.length);
  const unit = deps.district.units.get(code);
  const c = await findCase(deps.db, n.case_id);
  if (!unit || !c) return { status: 'skipped', outcome: `skipped: no such ${unit ? 'case' : 'unit'}` };
  const data = await maskedForUnit(deps, c, parseJson<NoticeData>(n.data, {}));

  const mine = (await listAssignments(deps.db, c.id)).filter((a) => a.unitCode === code).at(-1);
  // A reminder or a supervision about a stage the unit has completed since (or whose deadline moved) says nothing true any more.
  if (data.stage && data.due) {
    const open = data.stage === 'sign' ? mine?.status === 'pending' : mine?.status === 'pending' || mine?.status === 'accepted';
    const due = data.stage === 'sign' ? mine?.deadlines.signBy : mine?.deadlines.replyBy;
    if (!open || due !== data.due) return { status: 'skipped', outcome: `skipped: ${code} no longer owes the ${data.stage} stage by ${data.due}` };
  }

  // New deadlines (made urgent, extended, resumed) for a unit that replied or returned its part since: it owes no stage
  // they could time.
  if ((n.kind === 'urgent' || n.kind === 'deadlines' || n.kind === 'extension_refused') && mine?.status !== 'pending' && mine?.status !== 'accepted') {
    return { status: 'skipped', outcome: `skipped: ${code} owes no stage the new deadlines time` };
  }
  // A pause that is over (the case routed again: the unit hears of its deadlines by `deadlines`, resumed) says
  // nothing true any more, nor one of an earlier wait than the one the case is in now.
  if (n.kind === 'paused' && (c.status !== 'triage' || (await enteredStatusAt(deps.db, c.id, 'triage')) !== data.since)) {
    return { status: 'skipped', outcome: `skipped: the case no longer waits in triage since ${data.since ?? '?'}` };
  }
  if (n.kind === 'closed' && c.status !== 'closed') return { status: 'skipped', outcome: `skipped: the case is ${c.status}, not closed` };
  // The round the lead was handed back is over (answered and rated, or reopened again): its own notice says what is true now.
  if (n.kind === 'reopened_to_lead' && (c.round !== data.round || c.status === 'closed')) {
    return { status: 'skipped', outcome: `skipped: round ${data.round ?? '?'} of the case is no longer open at the lead` };
  }
  if (n.kind === 'paused' && mine?.status !== 'pending' && mine?.status !== 'accepted') {
    return { status: 'skipped', outcome: `skipped: ${code} owes no stage the pause stops` };
  }

  const holds = mine !== undefined && HOLDING_STATUSES.includes(mine.status);
  // Given the case back since it was taken: the `reassigned` notice says so, this one would say the opposite.
  if (n.kind === 'released' && holds) return { status: 'skipped', outcome: `skipped: ${code} holds the case again` };
  // Taken from the unit (or returned by it) since the notice was queued: a 督办 or a case given back says nothing true
  // any more, and would name the case's type and place, and the dispatcher's note, to a unit that no longer reads them.
  if (n.kind !== 'released' && !holds) return { status: 'skipped', outcome: `skipped: ${code} no longer holds the case` };

  // A unit whose server never took the assignment (its delivery failed for good, or was withdrawn before it went out)
  // hears nothing of the case through its webhook: a reminder, 督办 or release about a case its system does not know.
  // It still reads the case in the web inbox and its group; sending the assignment again (redeliver, the case given
  // back or reopened to it) brings the case to its system as it stands then.
  const delivery = await findDelivery(deps.db, c.id, code, 'webhook');
  const neverReached = delivery !== null && (delivery.status === 'failed' || delivery.status === 'withdrawn');
  const settled = parseJson<Settled>(n.channels, {});
  // Waited for the assignment, which is settled now (the settling released the notice): delivered, the notice follows
  // it; failed for good, the notice fails there too, recorded on the case, rather than vanish. So for the group and
  // the case's post there.
  const waited = settled.webhook === 'waiting';
  if (waited) delete settled.webhook;
  const followsFailed = waited && delivery?.status === 'failed';
  const waitedForPost = settled.telegram === 'waiting';
  if (waitedForPost) delete settled.telegram;
  const channels = unitChannels(unit, n.kind, { webhookSecret: deps.webhookSecret, telegram: Boolean(telegram) }).filter(
    (ch) => ch !== 'webhook' || !neverReached || followsFailed,
  );
  if (channels.length === 0) {
    return {
      status: 'skipped',
      outcome: neverReached
        ? `skipped: ${code}'s webhook never took the case (its assignment ${delivery.status === 'failed' ? 'failed for good' : 'was withdrawn'}) and it has no Telegram group (the case history shows the ${n.kind})`
        : `skipped: ${code} has no webhook or Telegram group (the case history shows the ${n.kind})`,
    };
  }
  const toGroupToo = channels.includes('telegram') && settled.telegram === undefined;
  // The case's post to the unit's group is still being made (Telegram refused an attempt), or a new one is owed since the
  // unit was given the case again before the notice was made: the notice goes there after it, in reply to it. One made
  // before that is about the post the unit had then, and replies to it.
  const postOnItsWay = toGroupToo && (await groupPostOnItsWay(deps.db, c.id, code, { madeAt: n.created_at }));
  const postFailed = toGroupToo && waitedForPost && !postOnItsWay ? await groupPostFailure(deps, c.id, code, c.round) : null;

  let retry: Error | null = null;
  // The channels the unit's assignment is still on its way to (a delivery or a post being retried): the notice goes
  // there after it.
  const behind: UnitChannel[] = [];
  for (const channel of channels) {
    if (settled[channel]) continue;
    if ((channel === 'webhook' && delivery?.status === 'pending') || (channel === 'telegram' && postOnItsWay)) {
      behind.push(channel);
      continue;
    }
    try {
      if (cutOff) throw new FinalChannelError(cutOff);
      if (channel === 'webhook' && followsFailed) {
        throw new FinalChannelError(`the assignment never reached ${code}'s webhook (${delivery.lastError ?? 'failed for good'}): the notice waited for it and was not sent there`);
      }
      if (channel === 'telegram' && postFailed !== null) {
        throw new FinalChannelError(`the case's post never reached ${code}'s group (${postFailed}): the notice waited for it and was not sent there`);
      }
      if (channel === 'webhook') await toWebhook(deps, unit, c, n, data);
      else await toGroup(deps, telegram!, unit, c, n, data);
      settled[channel] = 'delivered';
      await deps.db.updateTable('notifications').set({ channels: JSON.stringify(settled) }).where('id', '=', n.id).execute();
    } catch (err) {
      const final = err instanceof FinalChannelError || !ctx || ctx.attempt >= ctx.maxAttempts;
      if (!final) {
        retry ??= err as Error;
        continue;
      }
      settled[channel] = 'failed';
      const at = deps.clock.now().toISOString();
      const error = (err as Error).message;
      await deps.transactions.run(async (trx) => {
        await trx.updateTable('notifications').set({ channels: JSON.stringify(settled) }).where('id', '=', n.id).execute();
        await appendEvents(trx, [
          { caseId: c.id, at, kind: 'notification_failed', data: { audience: n.audience, channel, notice: n.kind, attempts: ctx?.attempt ?? 1, error } },
        ]);
      });
      deps.logger.error({ caseId: c.id, unit: code, channel, notice: n.kind, err: error }, 'notice to the unit failed for good');
    }
  }
  // Some channel may still take it: the queue tries again with backoff, skipping what was delivered.
  if (retry) throw retry;
  if (behind.length > 0) {
    // Marked waiting only while the delivery or post, read locked, is still on its way: whatever settles it then finds
    // the notice waiting and releases it. Settled meanwhile, the notice goes on at once, as it stands now.
    const waits = await deps.transactions.run(async (trx) => {
      if (behind.includes('webhook') && (await lockedDeliveryStatus(trx, delivery!.id)) !== 'pending') return false;
      if (behind.includes('telegram') && !(await groupPostOnItsWay(trx, c.id, code, { lock: true, madeAt: n.created_at }))) return false;
      const waiting: Settled = { ...settled, ...Object.fromEntries(behind.map((ch) => [ch, 'waiting'])) };
      await trx.updateTable('notifications').set({ channels: JSON.stringify(waiting) }).where('id', '=', n.id).where('status', '=', 'pending').execute();
      return true;
    });
    if (!waits) return deliverUnitNotice(deps, telegram, { ...n, channels: JSON.stringify(settled) }, ctx, cutOff);
    const sent = channels.filter((ch) => settled[ch] === 'delivered');
    const where = behind.map((ch) => (ch === 'webhook' ? `${code}'s webhook gets it once its assignment is delivered` : `${code}'s group once the case's post is made`)).join(', ');
    return {
      status: 'pending',
      outcome: `${sent.length > 0 ? `${n.kind} sent to ${code} by ${sent.join(' and ')}; ` : ''}waiting: ${where}`,
    };
  }
  const delivered = channels.filter((ch) => settled[ch] === 'delivered');
  const failed = channels.filter((ch) => settled[ch] === 'failed');
  return {
    // Failed when any channel failed for good, so it can be sent again there (the channels that took it keep it).
    status: failed.length > 0 ? 'failed' : 'sent',
    outcome: [delivered.length > 0 ? `${n.kind} sent to ${code} by ${delivered.join(' and ')}` : '', failed.length > 0 ? `failed by ${failed.join(' and ')}` : '']
      .filter(Boolean)
      .join('; '),
  };
}

type CaseRow = NonNullable<Awaited<ReturnType<typeof findCase>>>;

/**
 * Why the case's post to the unit's group of this round failed for good (the error its `delivery_failed` event
 * recorded), or null when it did not fail.
 */
async function groupPostFailure(deps: ProcessorDeps, caseId: string, unit: string, round: number): Promise<string | null> {
  const post = await deps.db.selectFrom('telegram_bureau_posts').select('status').where('case_id', '=', caseId).where('unit_code', '=', unit).where('round', '=', round).executeTakeFirst();
  if (post?.status !== 'failed') return null;
  const failed = (await listEvents(deps.db, caseId))
    .filter((e) => e.kind === 'delivery_failed')
    .map((e) => (e.data ?? {}) as { unit?: unknown; channel?: unknown; error?: unknown })
    .filter((d) => d.unit === unit && d.channel === 'telegram')
    .at(-1);
  return typeof failed?.error === 'string' ? failed.error : 'failed for good';
}

async function toWebhook(deps: ProcessorDeps, unit: Unit, c: CaseRow, n: Selectable<NotificationsTable>, data: NoticeData): Promise<void> {
  // Merged into a case the unit holds too: its work on the report goes on there, so the notice names that case.
  const into = n.kind === 'released' ? await mergedIntoHeld(deps.db, c, unit.code) : null;
  const body = JSON.stringify({
    event: `case.${n.kind}`,
    notificationId: n.id,
    // The service's words for a one-click action as the district's record says them, in Chinese, as the rest of it.
    notice: { kind: n.kind, ...data, ...(data.note !== undefined ? { note: saidText(data.note, 'zh', deps.district) } : {}), ...(into ? { mergedInto: { id: into.id, reference: caseReference(into.id) } } : {}) },
    // Not the tracking code: with it anyone can rate the case, the bureau its own answer too. A unit
    // the case was taken from reads only which case it was, not where it went (as in its view of the case),
    // unless a merge took it into a case the unit holds as well (`notice.mergedInto`).
    case:
      n.kind === 'released'
        ? { id: c.id, reference: caseReference(c.id) }
        : {
            id: c.id,
            reference: caseReference(c.id),
            status: c.status,
            type: caseTypeView(deps.district, c.typeCode),
            urgent: c.urgent,
            jurisdiction: unitView(deps.district, c.jurisdictionCode),
          },
    unit: unitView(deps.district, unit.code),
    caseUrl: `${deps.publicUrl}/inbox/cases/${c.id}`,
    sentAt: deps.clock.now().toISOString(),
  });
  try {
    await postSignedWebhook(deps.fetch, { url: unit.webhook!.url, secret: (unit.webhook!.secret ?? deps.webhookSecret)!, deliveryId: n.id }, body);
  } catch (err) {
    if (err instanceof WebhookError && !err.retryable) throw new FinalChannelError(err.message);
    throw err;
  }
}

async function toGroup(deps: ProcessorDeps, telegram: TelegramPush, unit: Unit, c: CaseRow, n: Selectable<NotificationsTable>, data: NoticeData): Promise<void> {
  const lang = groupLanguage(unit);
  const t = TEXTS[lang].group;
  const tz = deps.district.file.district.timezone;
  const stage = data.stage ? t.stage[data.stage] : '';
  const due = data.due ? deadlineLabel(data.due, tz, lang) : '';
  const when = (iso: string | null | undefined) => (iso ? deadlineLabel(iso, tz, lang) : null);
  const ref = caseReference(c.id);
  // The dispatcher's words as written; the service's in the group's language.
  const note = saidText(data.note, lang, deps.district) ?? '';
  let text: string;
  if (n.kind === 'reminder') text = t.reminder(ref, stage, due);
  else if (n.kind === 'urgent') text = t.urgent(ref, when(data.deadlines?.signBy), when(data.deadlines?.replyBy), note);
  else if (n.kind === 'deadlines') text = t.deadlines(ref, when(data.deadlines?.signBy), when(data.deadlines?.replyBy), data.why ?? 'resumed');
  else if (n.kind === 'paused') text = t.paused(ref, data.lead ? unitName(deps.district, data.lead, lang) : '', data.reason ? (t.reasons[data.reason as ReturnReasonCode] ?? '') : '');
  else if (n.kind === 'closed') text = data.reason === 'rated' ? t.closedRated(ref, t.rating[data.rating ?? ''] ?? '', data.solved === true) : t.closedUnrated(ref);
  else if (n.kind === 'reopened_to_lead') text = t.reopenedToLead(ref, data.lead ? unitName(deps.district, data.lead, lang) : '', data.solved === true);
  else if (n.kind === 'extension_refused') text = t.extensionRefused(ref, data.workingDays ?? 0, when(data.deadlines?.replyBy), note);
  else if (data.stage && data.due) text = t.overdueSupervision(ref, stage, due, data.workingDaysOverdue ?? 0);
  // The lead is told of a 督办 of other units too (`units` names those supervised): not as its own.
  else if (data.units && !data.units.includes(unit.code)) text = t.supervisionOfOthers(ref, data.units.map((u) => unitName(deps.district, u, lang)).join(lang === 'en' ? ', ' : '、'), note);
  else text = t.supervision(ref, note);
  // In reply to the unit's latest post of the case, so the group sees which assignment it is about.
  const post = await deps.db
    .selectFrom('telegram_bureau_posts')
    .select('message_id')
    .where('case_id', '=', c.id)
    .where('unit_code', '=', unit.code)
    .where('message_id', 'is not', null)
    .orderBy('round', 'desc')
    .executeTakeFirst();
  try {
    // To the supergroup Telegram made of the group, if it did.
    await inGroup(deps, String(unit.telegramChatId), (to) => telegram.send(to, text, post?.message_id ? { replyTo: Number(post.message_id) } : {}));
  } catch (err) {
    if (err instanceof TelegramChatUnreachable) throw new FinalChannelError(err.message);
    throw err;
  }
}
