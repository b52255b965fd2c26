import { MERGED_PUBLIC_NOTE } from '../../src/domain/case.js';
import type { District } from '../../src/district/district.schema.js';
import type { Lang } from '../../src/web/i18n.js';
import type { RatingValue } from '../../src/workflow/feedback.js';
import { RATING_LABEL } from '../../src/web/status-words.js';

/** Words the resident-facing pages share (statuses and ratings: src/web/status-words.ts). */

/**
 * The `lang` of words people wrote (a report, a bureau's reply or note) when
 * they are not in the page's language: Chinese words on the English page,
 * English ones on the Chinese page, so that a screen reader reads them with
 * the right voice. Nothing when they are in the page's language.
 */
export function wordsLang(page: Lang, words: string): 'zh-CN' | 'en' | undefined {
  const han = /\p{Script=Han}/u.test(words);
  if (page === 'en') return han ? 'zh-CN' : undefined;
  return !han && /[A-Za-z]/.test(words) ? 'en' : undefined;
}

/** A local date (no time of day) in the district's time zone. */
export function formatDate(iso: string | null | undefined, lang: Lang, timeZone: string): string {
  if (!iso) return '—';
  return new Intl.DateTimeFormat(lang === 'zh' ? 'zh-CN' : 'en-GB', { timeZone, dateStyle: 'medium' }).format(new Date(iso));
}

/**
 * A timeline note in the page's language. The notes the service writes itself
 * (已受理, 已派发至…办理, 办理期限延长至…) are stored in Chinese, the public
 * record; on the English page they are said in English, with the units'
 * English names, and a day in them is said as the pages say dates.
 * A bureau's own words (a progress note) stay as written. The staff pages'
 * history says the same notes, and a few only staff see, the same way.
 */
export function timelineNote(lang: Lang, note: string, district: District): string {
  // The day a deadline was extended to is kept as the district's calendar day (2027-01-05), said as the pages say dates.
  const extended = /^办理期限延长至(\d{4})-(\d{2})-(\d{2})$/.exec(note);
  if (extended) {
    const day = new Intl.DateTimeFormat(lang === 'zh' ? 'zh-CN' : 'en-GB', { timeZone: 'UTC', dateStyle: 'medium' }).format(
      Date.UTC(Number(extended[1]), Number(extended[2]) - 1, Number(extended[3])),
    );
    return lang === 'zh' ? `办理期限延长至${day}` : `Deadline extended to ${day}`;
  }
  if (lang === 'zh') return note;
  // Units an earlier file had too: notes written then name them. The file's own names win.
  const units = new Map([...district.former.units.values(), ...[...district.units.values()].map((u) => u.name)].map((n) => [n.zh, n.en] as const));
  const unit = (zh: string) => units.get(zh) ?? zh;
  const rating = (zh: string) => RATING_LABEL.en[(Object.entries(RATING_LABEL.zh).find(([, v]) => v === zh)?.[0] ?? '') as RatingValue] ?? zh;
  const solved = (zh: string) => (zh === '已解决' ? 'solved' : 'not solved');
  // Rules that take any words before or after must name a unit, or a bureau's own note could match.
  const known = (zh: string, say: (en: string) => string) => (units.has(zh) ? say(units.get(zh)!) : null);
  const rules: Array<[RegExp, (m: RegExpExecArray) => string | null]> = [
    [/^已受理$/, () => 'Received'],
    [/^待人工分派$/, () => 'Waiting for a dispatcher to assign it'],
    [/^已重新派发至(.+)办理$/, (m) => `Sent again, to ${unit(m[1]!)}`],
    [/^已派发至(.+)办理$/, (m) => `Sent to ${unit(m[1]!)}`],
    [/^承办单位退回，待重新分派$/, () => 'Returned by the bureau; waiting to be assigned again'],
    [/^已督办$/, () => 'Supervised: the bureau was pressed to act'],
    [/^已答复，请评价办理结果$/, () => 'Answered: please rate the handling'],
    [/^评价：不满意（(已解决|未解决)），已退回(.+)重新办理$/, (m) => `Rated dissatisfied (${solved(m[1]!)}): handed back to ${unit(m[2]!)}`],
    [/^评价：(.+)（(已解决|未解决)），办结$/, (m) => `Rated ${rating(m[1]!).toLowerCase()} (${solved(m[2]!)}); closed`],
    [/^回访期满未评价，办结$/, () => 'Closed: not rated within the rating period'],
    [new RegExp(`^${MERGED_PUBLIC_NOTE}$`), () => 'Handled together with another report of the same problem: follow it here, with this code'],
    // Staff pages: the merge's note names the other case (older ones also told the reporter to follow its code).
    [/^与案件 (\S+) 合并办理(?:，请以该编号查询进展)?$/, (m) => `Handled together with case ${m[1]!}`],
    [/^已撤销合并，待重新分派$/, () => 'No longer handled together with another report: waiting to be assigned on its own'],
    [/^已撤销转办，待重新分派$/, () => 'An environmental matter after all: no longer handed over, waiting to be assigned'],
    [/^非环境类诉求，已转(.+)$/, (m) => `Not an environmental matter: passed to ${unit(m[1]!)}`],
    [/^(.+)已签收$/, (m) => known(m[1]!, (en) => `${en} signed for it`)],
    // Notes only staff pages show.
    [/^属地：(.+)$/, (m) => known(m[1]!, (en) => `Place: ${en}`)],
    [/^(签收|答复)即将到期，已催办$/, (m) => `The ${m[1] === '签收' ? 'sign-for' : 'reply'} deadline is near: the unit was reminded`],
  ];
  for (const [re, say] of rules) {
    const m = re.exec(note);
    const said = m ? say(m) : null;
    if (said !== null) return said;
  }
  return note;
}
