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

export function statusLabel(lang: Lang, status: string): string {
  return STATUS_LABEL[lang][status] ?? status;
}

export const RATING_LABEL: Record<Lang, Record<RatingValue, string>> = {
  zh: { satisfied: '满意', basic: '基本满意', dissatisfied: '不满意' },
  en: { satisfied: 'Satisfied', basic: 'Basically satisfied', dissatisfied: 'Dissatisfied' },
};
