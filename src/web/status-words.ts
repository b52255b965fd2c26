import type { RatingValue } from '../workflow/feedback.js';
import type { Lang } from './i18n.js';

/**
 * What a resident reads a case's status and their rating as, in both
 * languages: on the tracking and public pages, and in the Telegram chat.
 */

export const STATUS_LABEL: Record<Lang, Record<string, string>> = {
  zh: {
    received: '已受理',
    triage: '待分派',
    dispatched: '已派单',
    accepted: '已签收，办理中',
    replied: '已答复',
    closed: '已办结',
    returned: '已退回，重新分派中',
    transferred: '已转12345热线',
    merged: '已并案',
    reopened: '重办中',
  },
  en: {
    received: 'Received',
    triage: 'Being assigned',
    dispatched: 'Sent to the bureau',
    accepted: 'Signed for, in progress',
    replied: 'Answered',
    closed: 'Closed',
    returned: 'Returned, being reassigned',
    transferred: 'Handed to the 12345 hotline',
    merged: 'Merged with another report',
    reopened: 'Reopened',
  },
};

/**
 * A bureau's reason for returning a case (退回), in both languages: one wording
 * wherever a bureau or dispatcher reads it — the inbox's return form and case
 * history, the desk's triage cards and history, the Telegram group's buttons
 * and posts, the desk's refusal of a route that would give the case back to
 * the office that disowned its place.
 */
export const RETURN_REASON_LABEL: Record<Lang, Record<'not_our_remit' | 'wrong_jurisdiction' | 'unclear_ownership', string>> = {
  zh: { not_our_remit: '不属于本单位职责', wrong_jurisdiction: '不属于本辖区', unclear_ownership: '职责不清，请调度确定' },
  en: { not_our_remit: 'not within our remit', wrong_jurisdiction: 'outside our area', unclear_ownership: 'unclear who is responsible' },
};

export function statusLabel(lang: Lang, status: string): string {
  return STATUS_LABEL[lang][status] ?? status;
}

export const RATING_LABEL: Record<Lang, Record<RatingValue, string>> = {
  zh: { satisfied: '满意', basic: '基本满意', dissatisfied: '不满意' },
  en: { satisfied: 'Satisfied', basic: 'Basically satisfied', dissatisfied: 'Dissatisfied' },
};
