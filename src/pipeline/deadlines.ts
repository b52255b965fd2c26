import chineseDays from 'chinese-days';
import type { District, Duration, StageDeadlines } from '../district/district.schema.js';
import { instantOfWallTime } from '../domain/time-zone.js';

/**
 * Deadlines on the official Chinese working-day calendar (statutory holidays
 * and weekend make-up workdays come from the `chinese-days` data), with the
 * district's own extra days off and workdays on top. For a year whose
 * schedule the State Council has not published yet (neither the data nor the
 * district file has it), the days off the law itself fixes stand in for it
 * (`statutoryDaysOff`).
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
  /** By year: the days off the law fixes, for a year whose schedule is not known; null for a year whose schedule is. */
  private readonly lawDays = new Map<number, ReadonlySet<string> | null>();

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
      work = this.workdays.has(date) || (!this.daysOff.has(date) && !this.lawDayOff(date) && chineseDays.isWorkday(date));
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
   * The instant the local day after the one `at` falls on begins; always after `at` (a zone whose clocks skip
   * midnight has no such wall time, and the instant read for it could come before: a minute on then).
   */
  private nextLocalMidnight(at: Date): number {
    const [y, m, d] = this.localDate(at).split('-').map(Number) as [number, number, number];
    const next = instantOfWallTime(Date.UTC(y, m - 1, d + 1), this.timezone);
    return next > at.getTime() ? next : at.getTime() + 60_000;
  }

  /** The working time from `from` to `to`: the part of it that falls on working days, in ms. */
  workingTimeBetween(from: Date, to: Date): number {
    let total = 0;
    for (let at = from.getTime(); at < to.getTime(); ) {
      const end = Math.min(this.nextLocalMidnight(new Date(at)), to.getTime());
      if (this.isWorkday(this.localDate(new Date(at)))) total += end - at;
      at = end;
    }
    return total;
  }

  /**
   * The instant `ms` of working time after `from`: time on days off does not
   * count, so what is left of a working-day deadline ends on a working day.
   */
  addWorkingTime(from: Date, ms: number): Date {
    if (!(ms > 0)) return from;
    let left = ms;
    for (let at = from.getTime(); ; ) {
      const end = this.nextLocalMidnight(new Date(at));
      if (this.isWorkday(this.localDate(new Date(at)))) {
        if (left <= end - at) return new Date(at + left);
        left -= end - at;
      }
      at = end;
    }
  }

  /**
   * Years within `days` of `from` whose holiday schedule the calendar does not
   * know: neither the `chinese-days` data (published once the State Council
   * announces a year's holidays) nor the district's extraDaysOff has it.
   * Working-day deadlines there count the days off the law fixes, not the
   * working weekends (调休) the schedule will move them with.
   */
  yearsWithoutHolidays(from: Date, days: number): number[] {
    const first = Number(this.localDate(from).slice(0, 4));
    const last = Number(this.localDate(new Date(from.getTime() + days * DAY_MS)).slice(0, 4));
    const missing: number[] = [];
    for (let year = first; year <= last; year++) if (!this.scheduleKnown(year)) missing.push(year);
    return missing;
  }

  private scheduleKnown(year: number): boolean {
    const published = chineseDays.getHolidaysInRange(`${year}-01-01`, `${year}-12-31`, false).length > 0;
    return published || [...this.daysOff].some((d) => d.startsWith(`${year}-`));
  }

  /** Whether the law makes `date` a day off in a year whose schedule is not known. */
  private lawDayOff(date: string): boolean {
    const year = Number(date.slice(0, 4));
    let days = this.lawDays.get(year);
    if (days === undefined) {
      days = this.scheduleKnown(year) ? null : statutoryDaysOff(year);
      this.lawDays.set(year, days);
    }
    return days?.has(date) ?? false;
  }

  add(from: Date, duration: Duration): Date {
    if (duration.workingDays !== undefined) return this.addWorkingDays(from, duration.workingDays);
    if (duration.days !== undefined) return new Date(from.getTime() + duration.days * DAY_MS);
    return new Date(from.getTime() + (duration.hours ?? 0) * HOUR_MS);
  }
}

/**
 * The weekdays off that the law fixes for `year` (全国年节及纪念日放假办法,
 * as revised in 2024, Article 2 and 6): 元旦 (1 January), 春节 (除夕 to 初三),
 * 清明 (the day of the solar term), 劳动节 (1–2 May), 端午 (the 5th of the 5th
 * lunar month), 中秋 (the 15th of the 8th) and 国庆 (1–3 October); a holiday
 * that falls on a weekend, or on another holiday, is made up by the first
 * working day after it (补假). Thirteen weekdays off a year, as the State
 * Council's schedules have had since 2025; what the law leaves to the schedule
 * — the working weekends (调休) that join these into longer breaks — cannot be
 * known before it is published. Lunar dates come from `chinese-days`.
 */
export function statutoryDaysOff(year: number): Set<string> {
  const day = (month: number, date: number) => new Date(Date.UTC(year, month - 1, date));
  const lunar = (month: number, date: number) => {
    const solar = chineseDays.getSolarDateFromLunar(`${year}-${String(month).padStart(2, '0')}-${String(date).padStart(2, '0')}`).date;
    const [y, m, d] = solar.split('-').map(Number) as [number, number, number];
    return new Date(Date.UTC(y, m - 1, d));
  };
  const run = (first: Date, days: number) => Array.from({ length: days }, (_, i) => new Date(first.getTime() + i * DAY_MS));
  const newYear = lunar(1, 1);
  const qingming = chineseDays.getSolarTermDate(year, 4, 'pure_brightness').split('-').map(Number) as [number, number, number];
  const holidays = [
    [day(1, 1)],
    run(new Date(newYear.getTime() - DAY_MS), 4),
    [day(qingming[1], qingming[2])],
    run(day(5, 1), 2),
    [lunar(5, 5)],
    [lunar(8, 15)],
    run(day(10, 1), 3),
  ].sort((a, b) => a[0]!.getTime() - b[0]!.getTime());
  const iso = (d: Date) => d.toISOString().slice(0, 10);
  const weekend = (d: Date) => d.getUTCDay() === 0 || d.getUTCDay() === 6;
  const statutory = new Set(holidays.flat().map(iso));
  const off = new Set<string>();
  for (const days of holidays) {
    let owed = 0;
    for (const d of days) {
      if (weekend(d) || off.has(iso(d))) owed += 1;
      else off.add(iso(d));
    }
    // 补假: the first working days after the holiday that are no holiday themselves.
    for (let d = days.at(-1)!; owed > 0; ) {
      d = new Date(d.getTime() + DAY_MS);
      if (weekend(d) || off.has(iso(d)) || statutory.has(iso(d))) continue;
      off.add(iso(d));
      owed -= 1;
    }
  }
  return off;
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
