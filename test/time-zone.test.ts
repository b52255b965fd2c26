import { describe, expect, it } from 'vitest';
import { instantOfWallTime, wallClockAt, zoneOffsetMs } from '../src/domain/time-zone.js';

/**
 * The wall clock of a zone, kept by the quarter hour (src/domain/time-zone.ts),
 * against Intl's own answer for each instant: at every change of offset from
 * 1890 to 2040 (the second before, of and after it) and at random instants,
 * in zones with daylight saving, half-hour and 45-minute offsets, 30-minute
 * changes and odd local-mean-time offsets of the nineteenth century.
 */

const ZONES = ['Asia/Shanghai', 'America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'America/St_Johns', 'Pacific/Chatham'];

const formats = new Map(
  ZONES.map((timeZone) => [
    timeZone,
    new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' }),
  ]),
);

function intlWallClock(ms: number, timeZone: string) {
  const parts = formats.get(timeZone)!.formatToParts(ms);
  const get = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  return { year: get('year'), month: get('month'), day: get('day'), hour: get('hour'), minute: get('minute'), second: get('second') };
}

const intlOffset = (ms: number, timeZone: string) => {
  const p = intlWallClock(ms, timeZone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(ms / 1000) * 1000;
};

/** The instants (to the second) at which the zone's offset changes between two instants. */
function changes(timeZone: string, from: number, to: number): number[] {
  const found: number[] = [];
  const DAY = 86_400_000;
  let before = intlOffset(from, timeZone);
  for (let t = from + DAY; t <= to; t += DAY) {
    const now = intlOffset(t, timeZone);
    if (now !== before) {
      let [lo, hi] = [t - DAY, t];
      while (hi - lo > 1000) {
        const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
        if (intlOffset(mid, timeZone) === before) lo = mid;
        else hi = mid;
      }
      found.push(hi);
      before = now;
    }
  }
  return found;
}

describe('the wall clock of a time zone', () => {
  it.each(ZONES)('is what Intl says in %s, at every change of its offset and around it', (timeZone) => {
    const found = changes(timeZone, Date.UTC(1890, 0, 1), Date.UTC(2040, 0, 1));
    if (timeZone !== 'Asia/Kathmandu') expect(found.length).toBeGreaterThan(10);
    for (const change of found) {
      for (const ms of [change - 60_000, change - 1000, change - 1, change, change + 999, change + 1000, change + 60_000]) {
        expect(wallClockAt(ms, timeZone), `${timeZone} at ${new Date(ms).toISOString()}`).toEqual(intlWallClock(ms, timeZone));
        expect(zoneOffsetMs(ms, timeZone), `${timeZone} at ${new Date(ms).toISOString()}`).toBe(intlOffset(ms, timeZone));
      }
    }
  });

  it.each(ZONES)('is what Intl says in %s at random instants, asked once or again', (timeZone) => {
    let seed = 20261206;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 3000; i++) {
      const ms = Date.UTC(1890, 0, 1) + Math.floor(random() * (Date.UTC(2100, 0, 1) - Date.UTC(1890, 0, 1)));
      const expected = intlWallClock(ms, timeZone);
      expect(wallClockAt(ms, timeZone), `${timeZone} at ${new Date(ms).toISOString()}`).toEqual(expected);
      expect(wallClockAt(new Date(ms), timeZone)).toEqual(expected);
    }
  });

  it('reads a wall time back as its instant across the change to summer time', () => {
    // New York, 2026-03-08: 01:59 EST is followed by 03:00 EDT; 2026-11-01: 01:30 comes twice.
    expect(new Date(instantOfWallTime(Date.UTC(2026, 2, 8, 1, 59), 'America/New_York')).toISOString()).toBe('2026-03-08T06:59:00.000Z');
    expect(new Date(instantOfWallTime(Date.UTC(2026, 2, 8, 3, 0), 'America/New_York')).toISOString()).toBe('2026-03-08T07:00:00.000Z');
    // Shanghai kept summer time from 1986 to 1991.
    expect(new Date(instantOfWallTime(Date.UTC(1988, 6, 1, 12, 0), 'Asia/Shanghai')).toISOString()).toBe('1988-07-01T03:00:00.000Z');
    expect(new Date(instantOfWallTime(Date.UTC(2026, 6, 1, 12, 0), 'Asia/Shanghai')).toISOString()).toBe('2026-07-01T04:00:00.000Z');
  });

  it('says an invalid time is one, as Intl does', () => {
    expect(() => wallClockAt(Number.NaN, 'Asia/Shanghai')).toThrow(RangeError);
  });
});
