import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { statsCaseBatches } from '../db/repositories/stats.repository.js';
import type { Deps } from '../src/deps.js';
import { AppError } from '../src/errors.js';
import {
  createStatsAccumulator,
  finishStats,
  GROUP_BY,
  CALENDAR_DATE_RULE,
  isCalendarDate,
  resolvePeriod,
  type GroupBy,
  type GroupKey,
  type Lang,
  type StatsPeriod,
  type StatsResult,
} from '../src/stats/stats.js';
import type { AppEnv } from './app-env.js';
import { BEARER_SCHEME, authenticate, requireRoles } from './auth.middleware.js';
import { errorResponses } from './error-schema.js';
import { validationHook } from './validation.js';

const calendarDate = z
  .string()
  .refine(isCalendarDate, { message: CALENDAR_DATE_RULE })
  .openapi({ example: '2026-11-01' });

/** The query of the statistics and of their CSV export. */
export const statsQuerySchema = z.object({
  from: calendarDate.optional().openapi({ description: 'First day (local to the district), inclusive. Default: 29 days before `to`.' }),
  to: calendarDate.optional().openapi({ description: 'Last day (local to the district), inclusive. Default: today.' }),
  groupBy: z.enum(GROUP_BY, { error: `use one of ${GROUP_BY.join(', ')}` }),
  lang: z.enum(['zh', 'en']).optional().openapi({ description: 'Language of the group names (default zh).' }),
});

const rateSchema = z.number().min(0).max(1).nullable();
const measuresSchema = z
  .object({
    received: z.number().int().openapi({ description: 'Cases received in the period (by bureau: cases assigned to the unit).' }),
    dispatched: z.number().int().openapi({ description: 'Assignments made (lead, co-handlers and jurisdiction).' }),
    signedOnTime: z.number().int().openapi({ description: 'Assignments signed for by their sign-for deadline.' }),
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
    responseRate: rateSchema.openapi({ description: 'signedOnTime / dispatched; null when nothing was dispatched.' }),
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
    hiddenGroups: z.number().int().openapi({ description: 'Groups with fewer cases than minGroupSize: not listed, and left out of the totals.' }),
    totals: measuresSchema,
  })
  .openapi('PublicStats');

const STATS_DESCRIPTION = [
  'The period selects cases by the day they were received (in the district time zone); every figure is about those cases.',
  'Grouped by bureau, each assignment (lead, co-handler, jurisdiction) counts under its unit and each case counts under every unit assigned to it,',
  'so bureau groups overlap and do not add up to the totals. Grouped by type, jurisdiction or month they do.',
  'Every rating counts (one per round): a case rated dissatisfied, reopened and then rated satisfied counts in both.',
].join(' ');

const getStats = createRoute({
  method: 'get',
  path: '/api/v1/stats',
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

const getPublicStats = createRoute({
  method: 'get',
  path: '/api/v1/public/stats',
  tags: ['statistics'],
  summary: 'The public statistics',
  description: `No authentication. The same counts and rates, nothing about single cases, and groups with fewer cases than the district's \`publicStats.minGroupSize\` hidden (counted in \`hiddenGroups\`, left out of the totals). ${STATS_DESCRIPTION}`,
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

/** Reads the cases of the period batch by batch and aggregates them. */
export async function computeStats(
  deps: Deps,
  period: StatsPeriod,
  groupBy: GroupBy,
  lang: Lang,
  inTotals?: (key: GroupKey) => boolean,
): Promise<StatsResult> {
  const acc = createStatsAccumulator({
    groupBy,
    now: deps.clock.now(),
    timeZone: deps.district.file.district.timezone,
    ...(inTotals ? { inTotals } : {}),
  });
  for await (const batch of statsCaseBatches(deps.db, { fromInstant: period.fromInstant, toInstant: period.toInstant })) {
    for (const c of batch) acc.add(c);
  }
  return finishStats(acc, deps.district, groupBy, lang);
}

/**
 * The public view: small groups hidden. Hidden groups are left out of the
 * totals too (a second pass over the rows), or totals minus the listed groups
 * would give a single hidden group's figures away.
 */
export async function computePublicStats(deps: Deps, period: StatsPeriod, groupBy: GroupBy, lang: Lang) {
  const minGroupSize = deps.district.file.publicStats.minGroupSize;
  const all = await computeStats(deps, period, groupBy, lang);
  const shown = all.groups.filter((g) => g.received >= minGroupSize);
  const hiddenGroups = all.groups.length - shown.length;
  if (hiddenGroups === 0) return { minGroupSize, groups: shown, hiddenGroups, totals: all.totals };
  const visible = new Set(shown.map((g) => g.key));
  const restricted = await computeStats(deps, period, groupBy, lang, (key) => visible.has(key));
  // Rows received between the passes would change the groups: take the groups from the second pass as well.
  const groups = restricted.groups.filter((g) => visible.has(g.key) && g.received >= minGroupSize);
  return { minGroupSize, groups, hiddenGroups: restricted.groups.length - groups.length, totals: restricted.totals };
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
