import { OpenAPIHono, z } from '@hono/zod-openapi';
import { statsCaseBatches } from '../db/repositories/stats.repository.js';
import type { Deps } from '../src/deps.js';
import { AppError } from '../src/errors.js';
import {
  caseGroupsOf,
  createStatsAccumulator,
  finishStats,
  GROUP_BY,
  CALENDAR_DATE_RULE,
  FIRST_DAY,
  groupKeysOf,
  isCalendarDate,
  publicCases,
  resolvePeriod,
  type CaseGroups,
  type GroupBy,
  type Lang,
  type PublicCases,
  type StatsCase,
  type StatsPeriod,
  type StatsResult,
} from '../src/stats/stats.js';
import type { AppEnv } from './app-env.js';
import { BEARER_SCHEME, authenticate, requireRoles } from './auth.middleware.js';
import { errorResponses } from './error-schema.js';
import { validationHook, apiRoute } from './validation.js';

const calendarDate = z
  .string()
  .refine(isCalendarDate, { message: CALENDAR_DATE_RULE })
  .openapi({ format: 'date', example: '2026-11-01' });

/** The query of the statistics and of their CSV export. */
export const statsQuerySchema = z.strictObject({
  from: calendarDate
    .optional()
    .openapi({ description: `First day (local to the district), inclusive. Default: 29 days before \`to\`, but not before ${FIRST_DAY}.` }),
  to: calendarDate.optional().openapi({ description: 'Last day (local to the district), inclusive. Default: today.' }),
  groupBy: z.enum(GROUP_BY, { error: `use one of ${GROUP_BY.join(', ')}` }),
  lang: z.enum(['zh', 'en']).optional().openapi({ description: 'Language of the group names (default zh).' }),
});

const rateSchema = z.number().min(0).max(1).nullable();
const measuresSchema = z
  .object({
    received: z.number().int().openapi({ description: 'Cases received in the period (by bureau: cases assigned to the unit).' }),
    dispatched: z.number().int().openapi({ description: 'Assignments made (lead, co-handlers and jurisdiction), less those a dispatcher took back unsigned before their sign-for deadline.' }),
    signedOnTime: z.number().int().openapi({ description: 'Assignments signed for by their sign-for deadline.' }),
    signDue: z.number().int().openapi({
      description: 'Assignments whose sign-for was due: signed for (on time or late), or past their sign-for deadline unsigned. One still inside its sign-for window is not counted yet.',
    }),
    due: z.number().int().openapi({ description: 'Assignments replied to, or past their reply deadline.' }),
    repliedOnTime: z.number().int().openapi({ description: 'Assignments replied to by their reply deadline.' }),
    overdueNow: z.number().int().openapi({ description: 'Open assignments past their sign-for or reply deadline now.' }),
    rated: z.number().int(),
    satisfied: z.number().int(),
    basic: z.number().int().openapi({ description: 'Rated basically satisfied (基本满意).' }),
    dissatisfied: z.number().int(),
    solved: z.number().int().openapi({ description: 'Ratings saying the problem was solved.' }),
    reopened: z.number().int().openapi({ description: 'Cases reopened (重办) at least once.' }),
    returned: z.number().int().openapi({ description: 'Assignments returned (退回) by their unit.' }),
    responseRate: rateSchema.openapi({ description: 'signedOnTime / signDue; null when no sign-for is due.' }),
    resolutionRate: rateSchema.openapi({ description: 'repliedOnTime / due; null when nothing is due.' }),
    satisfactionRate: rateSchema.openapi({ description: '(satisfied + basic) / rated; null when nothing was rated.' }),
  })
  .openapi('StatsMeasures');

const groupSchema = measuresSchema
  .extend({
    key: z.string().nullable().openapi({ description: 'Bureau, type or jurisdiction code, or YYYY-MM; null: no type / place unknown.' }),
    name: z.string(),
  })
  .openapi('StatsGroup');

const periodFields = {
  from: z.string(),
  to: z.string(),
  timeZone: z.string(),
  groupBy: z.enum(GROUP_BY),
};

export const statsSchema = z
  .object({ ...periodFields, groups: z.array(groupSchema), totals: measuresSchema })
  .openapi('Stats');

export const publicStatsSchema = z
  .object({
    ...periodFields,
    minGroupSize: z.number().int(),
    groups: z.array(groupSchema),
    hiddenGroups: z.number().int().openapi({ description: 'Groups of the period not listed: smaller than minGroupSize, or left with fewer cases once the cases of small groups of any grouping were left out.' }),
    totals: measuresSchema.openapi({ description: 'Of the cases counted: the same cases in every grouping of the period.' }),
  })
  .openapi('PublicStats');

const STATS_DESCRIPTION = [
  'The period selects cases by the day they were received (in the district time zone); every figure is about those cases.',
  'Grouped by bureau, each assignment (lead, co-handler, jurisdiction) counts under its unit and each case is received under every unit assigned to it,',
  'so bureau groups overlap and do not add up to the totals. Grouped by type, jurisdiction or month they do.',
  'By bureau, a rating (rated, satisfied, basic, dissatisfied, solved) counts under the lead bureau whose answer it rated, and a case reopened (重办)',
  'under the lead whose answer was rated dissatisfied: co-handlers and the local office are not rated.',
  'Every rating counts (one per round): a case rated dissatisfied, reopened and then rated satisfied counts in both.',
  'The response and resolution rates divide by what was due as they are read (signDue, due): an assignment still inside its sign-for or reply window',
  'lowers neither, so a period that has just begun is not understated.',
].join(' ');

const getStats = apiRoute({
  method: 'get',
  path: '/api/v1/stats',
  operationId: 'getStats',
  tags: ['statistics'],
  summary: 'Response, resolution and satisfaction rates by bureau, type, jurisdiction or month',
  description: `Dispatchers and admins. ${STATS_DESCRIPTION}`,
  security: [{ [BEARER_SCHEME]: [] }],
  middleware: [authenticate(), requireRoles('dispatcher', 'admin')] as const,
  request: { query: statsQuerySchema },
  responses: {
    200: { description: 'The statistics', content: { 'application/json': { schema: statsSchema } } },
    ...errorResponses(400, 401, 403),
  },
});

const getPublicStats = apiRoute({
  method: 'get',
  path: '/api/v1/public/stats',
  operationId: 'getPublicStats',
  tags: ['statistics'],
  summary: 'The public statistics',
  description: `No authentication. The same counts and rates, nothing about single cases, of the cases that every grouping (type, jurisdiction, bureau, month) puts in a group of at least the district's \`publicStats.minGroupSize\` cases of the period (recomputed until stable). Every grouping of a period counts the same cases, so no table nor a difference of two gives a small group away; groups left out are counted in \`hiddenGroups\`. ${STATS_DESCRIPTION}`,
  request: { query: statsQuerySchema },
  responses: {
    200: { description: 'The statistics', content: { 'application/json': { schema: publicStatsSchema } } },
    ...errorResponses(400),
  },
});

export type StatsQuery = z.infer<typeof statsQuerySchema>;

/** The period of a query, with `from` after `to` refused. */
export function periodOf(deps: Deps, q: { from?: string | undefined; to?: string | undefined }): StatsPeriod {
  const period = resolvePeriod(
    { ...(q.from ? { from: q.from } : {}), ...(q.to ? { to: q.to } : {}) },
    deps.clock.now(),
    deps.district.file.district.timezone,
  );
  if (period.from > period.to) {
    throw new AppError('validation_failed', 'from is after to', { from: `must not be after to (${period.to})` });
  }
  return period;
}

/** Reads the cases of the period batch by batch and aggregates them (those `include` takes, if given). */
export async function computeStats(
  deps: Deps,
  period: StatsPeriod,
  groupBy: GroupBy,
  lang: Lang,
  include?: (c: StatsCase) => boolean,
): Promise<StatsResult> {
  const acc = createStatsAccumulator({
    groupBy,
    now: deps.clock.now(),
    timeZone: deps.district.file.district.timezone,
    ...(include ? { include } : {}),
  });
  for await (const batch of statsCaseBatches(deps.db, { fromInstant: period.fromInstant, toInstant: period.toInstant })) {
    for (const c of batch) acc.add(c);
  }
  return finishStats(acc, deps.district, groupBy, lang);
}

/** The cases of the period the public statistics count (`publicCases`), and every grouping's groups before. */
export async function selectPublicCases(deps: Deps, period: StatsPeriod): Promise<PublicCases> {
  const timeZone = deps.district.file.district.timezone;
  const cases: CaseGroups[] = [];
  for await (const batch of statsCaseBatches(deps.db, { fromInstant: period.fromInstant, toInstant: period.toInstant })) {
    for (const c of batch) cases.push(caseGroupsOf(c, timeZone));
  }
  return publicCases(cases, deps.district.file.publicStats.minGroupSize);
}

/**
 * The public view: only the cases every grouping puts in a group of at least
 * `publicStats.minGroupSize` (`publicCases`), so that every public table —
 * and its totals — counts the same cases and no table, nor a difference of
 * two, gives a small group's figures away. `selection` lets a page showing
 * several tables of one period choose the cases once.
 */
export async function computePublicStats(deps: Deps, period: StatsPeriod, groupBy: GroupBy, lang: Lang, selection?: PublicCases) {
  const minGroupSize = deps.district.file.publicStats.minGroupSize;
  const { ids, groupsBefore, groupsKept } = selection ?? (await selectPublicCases(deps, period));
  const timeZone = deps.district.file.district.timezone;
  // A case changed between the two reads (re-routed to another type, say) is left out if it moved out of the groups kept.
  const chosen = await computeStats(deps, period, groupBy, lang, (c) => ids.has(c.id) && groupKeysOf(c, groupBy, timeZone).every((k) => groupsKept[groupBy].has(k)));
  const groups = chosen.groups.filter((g) => g.received >= minGroupSize);
  return { minGroupSize, groups, hiddenGroups: groupsBefore[groupBy].size - groups.length, totals: chosen.totals };
}

export function statsRoutes() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  app.openapi(getStats, async (c) => {
    const deps = c.get('deps');
    const q = c.req.valid('query');
    const period = periodOf(deps, q);
    const result = await computeStats(deps, period, q.groupBy, q.lang ?? 'zh');
    return c.json(
      { from: period.from, to: period.to, timeZone: deps.district.file.district.timezone, groupBy: q.groupBy, ...result },
      200,
    );
  });

  app.openapi(getPublicStats, async (c) => {
    const deps = c.get('deps');
    const q = c.req.valid('query');
    const period = periodOf(deps, q);
    const result = await computePublicStats(deps, period, q.groupBy, q.lang ?? 'zh');
    return c.json(
      { from: period.from, to: period.to, timeZone: deps.district.file.district.timezone, groupBy: q.groupBy, ...result },
      200,
    );
  });

  return app;
}
