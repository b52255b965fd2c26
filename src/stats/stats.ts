import { type District, typeName, unitName } from '../district/district.schema.js';
import { instantOfWallTime, localDateTime } from '../domain/time-zone.js';
import { SERVICE_YEARS } from '../domain/service-years.js';
import { WORKING } from '../domain/case.js';

/**
 * Hotline statistics (受理 / 签收 / 答复 / 回访), aggregated in code from the
 * rows of the cases received in a period. Pure: no I/O. The repository pages
 * through the rows; one accumulator turns them into counts, so the numbers
 * are the same on every database engine by construction.
 *
 * What is counted, and at which level:
 * - The period selects CASES by `received_at` (a cohort): every figure is
 *   about the cases received in the period, whenever the work on them happened.
 * - Case-level counts: `received`, `reopened`, and the ratings (`rated`,
 *   `satisfied`, `basic`, `dissatisfied`, `solved`: every rating counts, one
 *   per round, so a case rated dissatisfied, reopened and then rated
 *   satisfied counts once in each; by bureau, see below).
 * - Assignment-level counts: `dispatched` (every assignment: lead, co-handler
 *   and jurisdiction; a reopened case's lead once per round; not one a
 *   dispatcher took back unsigned before it was due), `signedOnTime`,
 *   `signDue`, `due`, `repliedOnTime`, `overdueNow`, `returned`.
 * - The rates divide by what was due as the statistics are read: the
 *   response rate by the assignments whose sign-for was due (`signDue`), the
 *   resolution rate by those whose reply was due (`due`). An assignment still
 *   inside its window counts in neither until its unit acts or the deadline
 *   passes, so the current period is not understated in its first days.
 * - Grouped by bureau, each assignment counts under its unit, and a case is
 *   `received` under every unit assigned to it. A rating judges the answer of
 *   its round, which the lead bureau (承办单位) gives: it counts under that
 *   round's lead alone, as does the case's `reopened` (重办 goes back to the
 *   lead; the co-handlers' and the local office's parts stay answered). A case
 *   with a lead and two co-handlers therefore appears in three bureau groups,
 *   its ratings in one, and the totals (each case, assignment and rating once)
 *   are not the sum of the bureau groups. Grouped by type, jurisdiction or
 *   month every case belongs to exactly one group and the groups add up to the
 *   totals.
 */

export const GROUP_BY = ['bureau', 'type', 'jurisdiction', 'month'] as const;
export type GroupBy = (typeof GROUP_BY)[number];
export type Lang = 'zh' | 'en';

export interface StatsAssignment {
  unitCode: string;
  status: string;
  signBy: string | null;
  replyBy: string | null;
  acceptedAt: string | null;
  repliedAt: string | null;
  returnedAt: string | null;
  /** When a dispatcher took it back (released, re-routed, merged, transferred); unknown (null) for a stint recorded before it was kept. */
  releasedAt?: string | null;
  /**
   * When the case entered triage, if it waited there when the unit was let go or waits there now: no unit can act on a
   * case in triage, so its clock stopped then, and only a deadline passed before that moment was missed.
   */
  stoppedAt?: string | null;
}

export interface StatsRating {
  rating: string;
  solved: boolean;
  /** The lead bureau of the round rated, whose answer the rating judges; null when the record does not say. */
  unitCode: string | null;
}

/** One case as the statistics see it: no text, no reporter. */
export interface StatsCase {
  id: string;
  receivedAt: string;
  status: string;
  typeCode: string | null;
  jurisdictionCode: string | null;
  /** Reopened (重办) at least once. */
  reopened: boolean;
  assignments: StatsAssignment[];
  ratings: StatsRating[];
}

export interface Counts {
  /** Cases received (by bureau: cases assigned to the unit). */
  received: number;
  /** Assignments made. */
  dispatched: number;
  /** Assignments signed for by their sign-for deadline (accepted_at <= sign_deadline_at). */
  signedOnTime: number;
  /** Assignments signed for (on time or late), or whose sign-for deadline has passed unsigned. */
  signDue: number;
  /** Assignments replied to, or whose reply deadline has passed while they were still the unit's work. */
  due: number;
  /** Assignments replied to by their reply deadline (replied_at <= reply_deadline_at). */
  repliedOnTime: number;
  /** Open assignments past their sign-for or reply deadline now. */
  overdueNow: number;
  rated: number;
  satisfied: number;
  basic: number;
  dissatisfied: number;
  /** Ratings where the reporter said the problem was solved. */
  solved: number;
  /** Cases reopened at least once. */
  reopened: number;
  /** Assignments returned (退回) by their unit. */
  returned: number;
}

export interface Measures extends Counts {
  /** signedOnTime / signDue; null when no sign-for is due. */
  responseRate: number | null;
  /** repliedOnTime / due; null when nothing is due. */
  resolutionRate: number | null;
  /** (satisfied + basic) / rated; null when nothing was rated. */
  satisfactionRate: number | null;
}

export type GroupKey = string | null;

export interface GroupStats extends Measures {
  /** Bureau, type or jurisdiction code, or `YYYY-MM`; null for cases without a type or without a known place. */
  key: GroupKey;
  name: string;
}

export interface StatsResult {
  groups: GroupStats[];
  totals: Measures;
}

export const COUNT_FIELDS = [
  'received',
  'dispatched',
  'signedOnTime',
  'due',
  'repliedOnTime',
  'overdueNow',
  'rated',
  'satisfied',
  'basic',
  'dissatisfied',
  'solved',
  'reopened',
  'returned',
] as const satisfies ReadonlyArray<keyof Counts>;

export const RATE_FIELDS = ['responseRate', 'resolutionRate', 'satisfactionRate'] as const satisfies ReadonlyArray<keyof Measures>;
/** Counts added after the files first listed the ones above and the rates: an export lists them last, so a sheet reading its columns by position still finds its own. */
export const ADDED_COUNT_FIELDS = ['signDue'] as const satisfies ReadonlyArray<keyof Counts>;

export function emptyCounts(): Counts {
  return {
    received: 0,
    dispatched: 0,
    signedOnTime: 0,
    signDue: 0,
    due: 0,
    repliedOnTime: 0,
    overdueNow: 0,
    rated: 0,
    satisfied: 0,
    basic: 0,
    dissatisfied: 0,
    solved: 0,
    reopened: 0,
    returned: 0,
  };
}

/** A ratio rounded to 4 decimals, or null when there is nothing to divide by. */
export function rate(numerator: number, denominator: number): number | null {
  if (denominator === 0) return null;
  return Math.round((numerator / denominator) * 10_000) / 10_000;
}

export function withRates(c: Counts): Measures {
  return {
    ...c,
    responseRate: rate(c.signedOnTime, c.signDue),
    resolutionRate: rate(c.repliedOnTime, c.due),
    satisfactionRate: rate(c.satisfied + c.basic, c.rated),
  };
}

/** Assignments in these statuses are no longer the unit's work. */
const LET_GO = new Set(['returned', 'released']);
const OPEN_ASSIGNMENT = new Set(['pending', 'accepted']);

const ms = (iso: string) => Date.parse(iso);
const notAfter = (at: string, deadline: string | null) => deadline === null || ms(at) <= ms(deadline);
const passed = (deadline: string | null, now: number) => deadline !== null && ms(deadline) < now;

export interface AssignmentFacts {
  signedOnTime: boolean;
  signDue: boolean;
  due: boolean;
  repliedOnTime: boolean;
  overdueNow: boolean;
  returned: boolean;
}

/**
 * The per-assignment definitions. An assignment without a deadline cannot
 * miss it. A returned or released assignment, or one of a case that is closed,
 * merged or transferred, is not due unless it was replied to (it stopped being
 * the unit's work), and is never overdue; nor is one of a case waiting in
 * triage overdue: its clock stops there (`caseTimed` false, the case is not under
 * handling), and a unit kept on it gets the time back when the case is routed
 * again. A deadline it had already missed when the case went there (`stoppedAt`) is not given back, so it stays
 * due while the case waits, as before and after. `dispatched` counts every assignment counted
 * (`countedAssignments`): all assignments made, less those taken back before their unit owed them anything.
 * `signDue` mirrors `due` for the sign-for stage: signed for (on time or late), or its deadline passed unsigned
 * while the case was under handling (while it waits in triage: before it went there). Unlike a reply, a sign-for the
 * unit returned unsigned, or a dispatcher took back after its deadline, stays a miss once that deadline has passed,
 * as the response rate always counted it.
 */
export function assignmentFacts(a: StatsAssignment, caseTimed: boolean, now: number): AssignmentFacts {
  const signedOnTime = a.acceptedAt !== null && notAfter(a.acceptedAt, a.signBy);
  const repliedOnTime = a.repliedAt !== null && notAfter(a.repliedAt, a.replyBy);
  const open = caseTimed && OPEN_ASSIGNMENT.has(a.status);
  // The unit's clock: now while the case is under handling, the moment it went to triage while it waits there.
  const clock = caseTimed ? now : a.stoppedAt ? ms(a.stoppedAt) : null;
  const missed = (deadline: string | null) => clock !== null && passed(deadline, clock);
  const letGo = LET_GO.has(a.status);
  const due = a.repliedAt !== null || (!letGo && missed(a.replyBy));
  const signDue = a.acceptedAt !== null || (letGo || a.returnedAt !== null ? passed(a.signBy, now) : missed(a.signBy));
  const overdueNow =
    open && ((a.acceptedAt === null && passed(a.signBy, now)) || (a.repliedAt === null && passed(a.replyBy, now)));
  return { signedOnTime, signDue, due, repliedOnTime, overdueNow, returned: a.returnedAt !== null || a.status === 'returned' };
}

function addAssignment(to: Counts, f: AssignmentFacts): void {
  to.dispatched += 1;
  if (f.signedOnTime) to.signedOnTime += 1;
  if (f.signDue) to.signDue += 1;
  if (f.due) to.due += 1;
  if (f.repliedOnTime) to.repliedOnTime += 1;
  if (f.overdueNow) to.overdueNow += 1;
  if (f.returned) to.returned += 1;
}

function addRating(to: Counts, r: StatsRating): void {
  to.rated += 1;
  if (r.rating === 'satisfied') to.satisfied += 1;
  else if (r.rating === 'basic') to.basic += 1;
  else if (r.rating === 'dissatisfied') to.dissatisfied += 1;
  if (r.solved) to.solved += 1;
}

function addCaseLevel(to: Counts, c: StatsCase): void {
  to.received += 1;
  if (c.reopened) to.reopened += 1;
  for (const r of c.ratings) addRating(to, r);
}

/**
 * A case's ratings by bureau: each under the lead of the round it rated, and the case reopened under each lead whose
 * answer was rated dissatisfied (once per unit). A rating whose lead is not on record counts in the totals alone.
 */
function addRatingsByLead(group: (key: GroupKey) => Counts, c: StatsCase): void {
  const sentBack = new Set<string>();
  for (const r of c.ratings) {
    if (r.unitCode === null) continue;
    addRating(group(r.unitCode), r);
    if (r.rating === 'dissatisfied') sentBack.add(r.unitCode);
  }
  for (const unit of sentBack) group(unit).reopened += 1;
}

/** `YYYY-MM-DD` of an instant in a time zone. */
export function localDate(instant: Date | string, timeZone: string): string {
  return localDateTime(instant, timeZone).slice(0, 10);
}

/** `YYYY-MM` of an instant in a time zone. */
export function localMonth(instant: Date | string, timeZone: string): string {
  return localDateTime(instant, timeZone).slice(0, 7);
}

/** The instant a local calendar day (`YYYY-MM-DD`) begins in a time zone. */
export function startOfLocalDay(date: string, timeZone: string): Date {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(instantOfWallTime(Date.UTC(y, m - 1, d), timeZone));
}

/** Adds calendar days to a `YYYY-MM-DD` date. */
export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** What a bad date is told, for the API's field errors and the pages. */
export const CALENDAR_DATE_RULE = `use a date YYYY-MM-DD from ${SERVICE_YEARS.first}-01-01 to ${SERVICE_YEARS.last}-12-31`;

export function isCalendarDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const year = Number(value.slice(0, 4));
  if (year < SERVICE_YEARS.first || year > SERVICE_YEARS.last) return false;
  return addDays(value, 0) === value;
}

export interface StatsPeriod {
  /** First local day, inclusive. */
  from: string;
  /** Last local day, inclusive. */
  to: string;
  /** [fromInstant, toInstant) as ISO UTC timestamps, for the query on received_at. */
  fromInstant: string;
  toInstant: string;
}

/** The first day of the service years: a `from` or `to` given before it is refused (`isCalendarDate`). */
export const FIRST_DAY = `${SERVICE_YEARS.first}-01-01`;

/**
 * The period of a query: defaults to the last 30 days ending today (local), both ends inclusive.
 * The default start is never before FIRST_DAY: with a `to` in its first 29 days the period starts
 * there. Refusing it instead would name a `from` the client never sent.
 */
export function resolvePeriod(q: { from?: string; to?: string }, now: Date, timeZone: string): StatsPeriod {
  const to = q.to ?? localDate(now, timeZone);
  const thirtyDays = addDays(to, -29);
  const from = q.from ?? (thirtyDays < FIRST_DAY ? FIRST_DAY : thirtyDays);
  return {
    from,
    to,
    fromInstant: startOfLocalDay(from, timeZone).toISOString(),
    toInstant: startOfLocalDay(addDays(to, 1), timeZone).toISOString(),
  };
}

export interface AccumulatorOptions {
  groupBy: GroupBy;
  now: Date;
  timeZone: string;
  /** Which cases are counted (all when absent): the public view counts only `publicCases`. */
  include?: (c: StatsCase) => boolean;
}

export interface StatsAccumulator {
  add(c: StatsCase): void;
  /** Counts per group key, in no particular order. */
  counts(): ReadonlyMap<GroupKey, Counts>;
  totals(): Counts;
}

/**
 * Taken back by a dispatcher (released: a re-route, a merge, a transfer) before its unit was due to sign for it,
 * while still unsigned and not returned: the unit never owed anything on it. Counted, every duplicate merged and
 * every case re-routed within its first hours would lower the response rate of units that missed nothing. A unit let
 * go when the case was routed out of triage is judged at the time the case went there: it could not sign meanwhile.
 */
function takenBackBeforeDue(a: StatsAssignment): boolean {
  if (a.status !== 'released' || a.acceptedAt !== null || a.returnedAt !== null || !a.releasedAt) return false;
  const gone = a.stoppedAt && ms(a.stoppedAt) < ms(a.releasedAt) ? a.stoppedAt : a.releasedAt;
  return a.signBy === null || ms(gone) <= ms(a.signBy);
}

/**
 * The assignments a case is counted with. One with no deadline at all (the 12345 hotline taking a
 * transferred case) was never this workflow's to sign for or reply to, nor was one a dispatcher took
 * back unsigned before its sign-for deadline: neither counts as dispatched.
 */
function countedAssignments(c: StatsCase): StatsAssignment[] {
  return c.assignments.filter((a) => (a.signBy !== null || a.replyBy !== null) && !takenBackBeforeDue(a));
}

/**
 * The groups a case is counted in: one for type, place and month; for bureau,
 * each unit it was assigned to (none for a case without assignments).
 */
export function groupKeysOf(c: StatsCase, groupBy: GroupBy, timeZone: string): GroupKey[] {
  switch (groupBy) {
    case 'type':
      return [c.typeCode];
    case 'jurisdiction':
      return [c.jurisdictionCode];
    case 'month':
      return [localMonth(c.receivedAt, timeZone)];
    case 'bureau':
      return [...new Set(countedAssignments(c).map((a) => a.unitCode))];
  }
}

export function createStatsAccumulator(opts: AccumulatorOptions): StatsAccumulator {
  const groups = new Map<GroupKey, Counts>();
  const totals = emptyCounts();
  const now = opts.now.getTime();
  const group = (key: GroupKey) => {
    let g = groups.get(key);
    if (!g) groups.set(key, (g = emptyCounts()));
    return g;
  };

  return {
    add(c) {
      if (opts.include && !opts.include(c)) return;
      const keys = groupKeysOf(c, opts.groupBy, opts.timeZone);
      if (opts.groupBy === 'bureau') {
        for (const key of keys) group(key).received += 1;
        addRatingsByLead(group, c);
      } else {
        for (const key of keys) addCaseLevel(group(key), c);
      }
      // A case without assignments (triage, transferred) has no bureau but is still received.
      addCaseLevel(totals, c);
      for (const a of countedAssignments(c)) {
        const facts = assignmentFacts(a, (WORKING as readonly string[]).includes(c.status), now);
        addAssignment(group(opts.groupBy === 'bureau' ? a.unitCode : keys[0]!), facts);
        addAssignment(totals, facts);
      }
    },
    counts: () => groups,
    totals: () => totals,
  };
}

/** A case's groups in every grouping. */
export type CaseGroups = { id: string } & Record<GroupBy, GroupKey[]>;

export function caseGroupsOf(c: StatsCase, timeZone: string): CaseGroups {
  return {
    id: c.id,
    type: groupKeysOf(c, 'type', timeZone),
    jurisdiction: groupKeysOf(c, 'jurisdiction', timeZone),
    month: groupKeysOf(c, 'month', timeZone),
    bureau: groupKeysOf(c, 'bureau', timeZone),
  };
}

/**
 * The cases public statistics may count: those that every grouping puts in
 * groups of at least `minGroupSize` of these cases. Leaving out the cases of
 * small groups can make other groups small, so it repeats until nothing
 * changes. Every public table then counts the same cases: the totals of two
 * tables agree, and no difference of tables (cases by type minus cases by
 * place) gives the figures of a small group away. Also returns, per grouping,
 * the groups before anything was left out (to say how many are not listed)
 * and the groups of the cases kept.
 */
export interface PublicCases {
  ids: Set<string>;
  groupsBefore: Record<GroupBy, Set<GroupKey>>;
  groupsKept: Record<GroupBy, Set<GroupKey>>;
}

export function publicCases(cases: readonly CaseGroups[], minGroupSize: number): PublicCases {
  const groupsOf = (list: readonly CaseGroups[]) => Object.fromEntries(GROUP_BY.map((g) => [g, new Set(list.flatMap((c) => c[g]))])) as Record<GroupBy, Set<GroupKey>>;
  const groupsBefore = groupsOf(cases);
  let alive = cases;
  for (;;) {
    const sizes = new Map<GroupBy, Map<GroupKey, number>>(GROUP_BY.map((g) => [g, new Map()]));
    for (const c of alive) for (const g of GROUP_BY) for (const k of c[g]) sizes.get(g)!.set(k, (sizes.get(g)!.get(k) ?? 0) + 1);
    const kept = alive.filter((c) => GROUP_BY.every((g) => c[g].every((k) => sizes.get(g)!.get(k)! >= minGroupSize)));
    if (kept.length === alive.length) break;
    alive = kept;
  }
  return { ids: new Set(alive.map((c) => c.id)), groupsBefore, groupsKept: groupsOf(alive) };
}

const NO_TYPE: Record<Lang, string> = { zh: '未分类', en: 'unclassified' };
const NO_PLACE: Record<Lang, string> = { zh: '属地不明', en: 'place unknown' };

/** The display name of a group, from the district file. */
export function groupName(district: District, groupBy: GroupBy, key: GroupKey, lang: Lang): string {
  switch (groupBy) {
    case 'bureau':
      return key === null ? '' : unitName(district, key, lang);
    case 'type':
      return key === null ? NO_TYPE[lang] : typeName(district, key, lang);
    case 'jurisdiction':
      return key === null ? NO_PLACE[lang] : unitName(district, key, lang);
    case 'month': {
      if (key === null) return '';
      const [y, m] = key.split('-');
      return lang === 'zh' ? `${y}年${Number(m)}月` : key;
    }
  }
}

/** Groups in the district file's order (months in time order); unknown codes by code, null last. */
function groupOrder(district: District, groupBy: GroupBy): (a: GroupKey, b: GroupKey) => number {
  const order =
    groupBy === 'bureau'
      ? [...district.units.keys()]
      : groupBy === 'type'
        ? [...district.types.keys()]
        : groupBy === 'jurisdiction'
          ? [...district.jurisdictions.keys()]
          : [];
  const rank = new Map(order.map((k, i) => [k, i] as const));
  return (a, b) => {
    if (a === b) return 0;
    if (a === null) return 1;
    if (b === null) return -1;
    const ra = rank.get(a) ?? Number.MAX_SAFE_INTEGER;
    const rb = rank.get(b) ?? Number.MAX_SAFE_INTEGER;
    return ra - rb || (a < b ? -1 : 1);
  };
}

/** Named, ordered groups with their rates. */
export function finishStats(acc: StatsAccumulator, district: District, groupBy: GroupBy, lang: Lang): StatsResult {
  const keys = [...acc.counts().keys()].sort(groupOrder(district, groupBy));
  return {
    groups: keys.map((key) => ({ key, name: groupName(district, groupBy, key, lang), ...withRates(acc.counts().get(key)!) })),
    totals: withRates(acc.totals()),
  };
}
