/**
 * The years a date or instant from outside may fall in: wider than any
 * district's records, and inside what the service's arithmetic and storage
 * handle. Timestamps are stored as `YYYY-MM-DDTHH:MM:SS.sssZ` and compared as
 * text, which holds only for four-digit years (a year-10000 instant is
 * `+010000-…`); `Date.UTC` reads years below 100 as 19xx.
 */
export const SERVICE_YEARS = { first: 1900, last: 2999 } as const;

const EARLIEST = Date.UTC(SERVICE_YEARS.first, 0, 1);
const AFTER_LAST = Date.UTC(SERVICE_YEARS.last + 1, 0, 1);

/** The last Unix second (as Telegram dates its messages) in SERVICE_YEARS. */
export const LAST_UNIX_SECOND = AFTER_LAST / 1000 - 1;

/** What a date-time out of range is told. */
export const INSTANT_RULE = `must fall in the years ${SERVICE_YEARS.first}–${SERVICE_YEARS.last} (UTC)`;

/** True for an ISO 8601 date-time whose instant falls in SERVICE_YEARS. */
export function instantInServiceYears(value: string): boolean {
  const t = Date.parse(value);
  return Number.isFinite(t) && t >= EARLIEST && t < AFTER_LAST;
}
