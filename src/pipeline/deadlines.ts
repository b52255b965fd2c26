import chineseDays from 'chinese-days';
import type { District, Duration, StageDeadlines } from '../district/district.schema.js';
import { instantOfWallTime } from '../domain/time-zone.js';

/**
 * Deadlines on the official Chinese working-day calendar (statutory holidays
 * and weekend make-up workdays come from the `chinese-days` data), with the
 * district's own extra days off and workdays on top.
 */
export class WorkCalendar {
  private readonly daysOff: ReadonlySet<string>;
  private readonly workdays: ReadonlySet<string>;
  private readonly dateFormat: Intl.DateTimeFormat;
  /** Days already looked up: deadlines keep asking about the same few weeks. */
  private readonly known = new Map<string, boolean>();
  /**
   * Local dates by quarter hour of UTC: every zone's offset changes on a
   * quarter-hour boundary, so all instants of one quarter share a date.
   * Formatting a date costs microseconds; most lookups hit the same weeks.
   */
  private readonly dates = new Map<number, string>();

  constructor(
    readonly timezone: string,
    extra: { extraDaysOff: string[]; extraWorkdays: string[] } = { extraDaysOff: [], extraWorkdays: [] },
  ) {
    this.daysOff = new Set(extra.extraDaysOff);
    this.workdays = new Set(extra.extraWorkdays);
    this.dateFormat = new Intl.DateTimeFormat('en-CA', {
      timeZone: timezone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
  }

  /** The calendar date (YYYY-MM-DD) of an instant in the district's time zone. */
  localDate(at: Date): string {
    const quarter = Math.floor(at.getTime() / QUARTER_HOUR_MS);
    let date = this.dates.get(quarter);
    if (date === undefined) {
      if (this.dates.size >= 100_000) this.dates.clear();
      date = this.dateFormat.format(at);
      this.dates.set(quarter, date);
    }
    return date;
  }

  isWorkday(date: string): boolean {
    let work = this.known.get(date);
    if (work === undefined) {
      work = this.workdays.has(date) || (!this.daysOff.has(date) && chineseDays.isWorkday(date));
      this.known.set(date, work);
    }
    return work;
  }

  /**
   * The instant N working days after `from`, at the same local time of day:
   * received on Friday 10:00 with one working day to go is due Monday 10:00
   * (or later when Monday is a holiday). Time received on a weekend or a
   * holiday does not count: the N days are the next N working days, whole,
   * and the deadline is the end of the last (Saturday 01:30 or 20:00 with one
   * working day → Monday 23:59:59.999), not the same hour of it, which would
   * leave the unit less of that day the earlier in the night the report came.
   * Days are stepped in whole days, which is exact for time zones without
   * daylight saving such as China's.
   */
  addWorkingDays(from: Date, n: number): Date {
    let at = from;
    let left = n;
    while (left > 0) {
      at = new Date(at.getTime() + DAY_MS);
      if (this.isWorkday(this.localDate(at))) left -= 1;
    }
    if (n <= 0 || this.isWorkday(this.localDate(from))) return at;
    // Received on a day off: the end of the last working day (the instant before the next local midnight).
    const [y, m, d] = this.localDate(at).split('-').map(Number) as [number, number, number];
    return new Date(instantOfWallTime(Date.UTC(y, m - 1, d + 1), this.timezone) - 1);
  }

  /**
   * Years within `days` of `from` for which the calendar knows no statutory
   * holiday: neither the `chinese-days` data (published once the State
   * Council announces a year's holidays) nor the district's extraDaysOff.
   * Working-day deadlines there would count only weekends as days off.
   */
  yearsWithoutHolidays(from: Date, days: number): number[] {
    const first = Number(this.localDate(from).slice(0, 4));
    const last = Number(this.localDate(new Date(from.getTime() + days * DAY_MS)).slice(0, 4));
    const missing: number[] = [];
    for (let year = first; year <= last; year++) {
      const known = chineseDays.getHolidaysInRange(`${year}-01-01`, `${year}-12-31`, false).length > 0;
      if (!known && ![...this.daysOff].some((d) => d.startsWith(`${year}-`))) missing.push(year);
    }
    return missing;
  }

  add(from: Date, duration: Duration): Date {
    if (duration.workingDays !== undefined) return this.addWorkingDays(from, duration.workingDays);
    if (duration.days !== undefined) return new Date(from.getTime() + duration.days * DAY_MS);
    return new Date(from.getTime() + (duration.hours ?? 0) * HOUR_MS);
  }
}

const HOUR_MS = 3_600_000;
const QUARTER_HOUR_MS = 900_000;
const DAY_MS = 24 * HOUR_MS;

export function calendarFor(district: District): WorkCalendar {
  return new WorkCalendar(district.file.district.timezone, district.file.calendar);
}

/** The stage durations for a type and priority: type overrides over the priority defaults. */
export function stageDurations(district: District, typeCode: string | null, urgent: boolean): Required<StageDeadlines> {
  const level = urgent ? 'urgent' : 'normal';
  const base = district.file.deadlines[level];
  const override = typeCode ? district.file.deadlines.byType[typeCode]?.[level] : undefined;
  const pick = (stage: keyof StageDeadlines): Duration => {
    const d = override?.[stage] ?? base[stage];
    if (!d) throw new Error(`district file has no ${level} ${stage} deadline`);
    return d;
  };
  return { sign: pick('sign'), reply: pick('reply'), rate: pick('rate') };
}

export interface CaseDeadlines {
  signBy: string;
  replyBy: string;
}

export function dispatchDeadlines(
  district: District,
  calendar: WorkCalendar,
  typeCode: string | null,
  urgent: boolean,
  dispatchedAt: Date,
): CaseDeadlines {
  const d = stageDurations(district, typeCode, urgent);
  return {
    signBy: calendar.add(dispatchedAt, d.sign).toISOString(),
    replyBy: calendar.add(dispatchedAt, d.reply).toISOString(),
  };
}
