/**
 * The wall clock of an IANA time zone (the district's, `Asia/Shanghai` by
 * default): what it shows at an instant, and how far it is ahead of UTC.
 */

export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** What the zone's clock shows at an instant, as Intl formats it (a few microseconds each time). */
function formattedWallClock(instant: number, timeZone: string): WallClock {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  const out: WallClock = { year: NaN, month: NaN, day: NaN, hour: NaN, minute: NaN, second: NaN };
  for (const part of f.formatToParts(instant)) {
    if (part.type in out) out[part.type as keyof WallClock] = Number(part.value);
  }
  return out;
}

function formattedOffsetMs(instant: number, timeZone: string): number {
  const p = formattedWallClock(instant, timeZone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(instant / 1000) * 1000;
}

/**
 * A zone's offset is kept for each quarter of an hour it does not change in
 * (the same at the quarter's first and last second: no zone changes its offset
 * twice within one): deadlines, incident times and statistics ask for the
 * same few days' offsets over and over.
 */
const QUARTER_MS = 15 * 60_000;
const YEAR_1000 = Date.UTC(1000, 0, 2);
const YEAR_10000 = Date.UTC(9999, 11, 31);
const KEPT_QUARTERS = 50_000;
const offsets = new Map<string, Map<number, number>>();

/** How far the zone's wall clock is ahead of UTC at an instant, in ms (whole seconds). */
export function zoneOffsetMs(instant: number, timeZone: string): number {
  const quarter = Math.floor(instant / QUARTER_MS);
  let kept = offsets.get(timeZone);
  const known = kept?.get(quarter);
  if (known !== undefined) return known;
  const start = quarter * QUARTER_MS;
  const first = formattedOffsetMs(start, timeZone);
  if (first !== formattedOffsetMs(start + QUARTER_MS - 1000, timeZone)) return formattedOffsetMs(instant, timeZone);
  if (!kept) offsets.set(timeZone, (kept = new Map()));
  if (kept.size >= KEPT_QUARTERS) kept.clear();
  kept.set(quarter, first);
  return first;
}

/** The date and time the zone's wall clock shows at an instant. */
export function wallClockAt(instant: Date | number, timeZone: string): WallClock {
  const ms = typeof instant === 'number' ? instant : instant.getTime();
  // Outside the years 1000–9999 (or no time at all) as Intl says it: Date.UTC reads years below 100 as 19xx.
  if (!(ms >= YEAR_1000 && ms < YEAR_10000)) return formattedWallClock(ms, timeZone);
  const wall = new Date(Math.floor(ms / 1000) * 1000 + zoneOffsetMs(ms, timeZone));
  return {
    year: wall.getUTCFullYear(),
    month: wall.getUTCMonth() + 1,
    day: wall.getUTCDate(),
    hour: wall.getUTCHours(),
    minute: wall.getUTCMinutes(),
    second: wall.getUTCSeconds(),
  };
}

/**
 * The instant (ms) at which the zone's wall clock shows `wallMs` (a wall time
 * written as if it were UTC, e.g. `Date.UTC(y, m - 1, d, h, mi)`). Across a
 * daylight-saving change the offset at the answer can differ from the one at
 * the guess: one correction settles it.
 */
export function instantOfWallTime(wallMs: number, timeZone: string): number {
  const first = zoneOffsetMs(wallMs, timeZone);
  return wallMs - zoneOffsetMs(wallMs - first, timeZone);
}

/** `+08:00`: how a zone's offset at an instant is written after an ISO 8601 local time. */
export function offsetSuffix(instant: number, timeZone: string): string {
  const minutes = Math.round(zoneOffsetMs(instant, timeZone) / 60_000);
  const abs = Math.abs(minutes);
  return `${minutes < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?$/;

/**
 * An ISO 8601 date-time as an instant: one with an offset (or Z) as written,
 * one without (`2026-12-03T22:00`) read on the zone's wall clock, and written
 * back with that offset (`2026-12-03T22:00+08:00`). Expects a valid date-time.
 */
export function withZoneOffset(value: string, timeZone: string): { text: string; instant: number } {
  const m = LOCAL_DATE_TIME.exec(value);
  if (!m) return { text: value, instant: Date.parse(value) };
  const [y, mo, d, h, mi, sec] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number) as [number, number, number, number, number, number];
  const ms = m[7] ? Number(`0.${m[7]}`) * 1000 : 0;
  const instant = instantOfWallTime(Date.UTC(y, mo - 1, d, h, mi, sec, ms), timeZone);
  return { text: `${value}${offsetSuffix(instant, timeZone)}`, instant };
}

/** A date-time whose offset is written in the ISO 8601 basic form (`+0800`, `-0530`). */
const BASIC_OFFSET = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)([+-])(\d{2})(\d{2})$/;

/** A date-time to the minute with an offset or Z (`2026-12-03T22:00+08:00`), which zod's check refuses though it takes one without. */
const MINUTES_WITH_OFFSET = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})(Z|[+-]\d{2}:\d{2})$/;

/**
 * A date-time as RFC 3339 also lets it be written (its section 5.6): a lower-case `t` or `z`, or a space for the T.
 * What follows the time is left as it is (an offset is checked afterwards).
 */
const RFC3339_SPELLINGS = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)([Zz]?)(?=[+-]|$)/;

/**
 * A date-time written as the checks read it (zod's ISO check, the offset and years rules), as the same instant:
 * `2026-11-03t09:15:00z` and `2026-11-03 09:15:00Z` → `2026-11-03T09:15:00Z`, the other spellings RFC 3339
 * allows; `2026-11-03T09:15:00+0800` → `2026-11-03T09:15:00+08:00`, the basic form of an offset, which systems
 * exporting with `%z` write; and a time to the minute with an offset (`09:15+08:00`, as the service itself
 * writes a time given without one) with its seconds. Only these are changed: an impossible offset (+0875)
 * stays one. Anything else is returned as it came.
 */
export function normalizeDateTime(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  return value
    .replace(RFC3339_SPELLINGS, (_m, date: string, time: string, z: string) => `${date}T${time}${z ? 'Z' : ''}`)
    .replace(BASIC_OFFSET, '$1$2$3:$4')
    .replace(MINUTES_WITH_OFFSET, '$1:00$2');
}

export const OFFSET_RULE = 'must have a UTC offset between -12:00 and +14:00';

/**
 * No time zone is more than 12 hours behind or 14 ahead of UTC: a time at
 * +15:00 or -13:00 is a wrong export setting, and read as it is it would put
 * it hours away from when it happened. Z, or no offset, passes.
 */
export function offsetExists(iso: string): boolean {
  const m = /T[^+-]*([+-])(\d{2}):?(\d{2})$/.exec(iso);
  if (!m) return true;
  const minutes = (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
  return minutes >= -12 * 60 && minutes <= 14 * 60;
}

/** `YYYY-MM-DD HH:mm:ss` of an instant on the wall clock of a time zone. */
export function localDateTime(instant: Date | string, timeZone: string): string {
  const p = wallClockAt(typeof instant === 'string' ? new Date(instant) : instant, timeZone);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${p.year}-${two(p.month)}-${two(p.day)} ${two(p.hour)}:${two(p.minute)}:${two(p.second)}`;
}

/** `YYYY-MM-DD HH:mm` in the zone: how the bot writes a time (a deadline, when a rating period ended). */
export function localTime(iso: string, timeZone: string): string {
  return new Intl.DateTimeFormat('sv-SE', { timeZone, dateStyle: 'short', timeStyle: 'short' }).format(new Date(iso));
}
