import { z } from 'zod';

/**
 * The district file: everything that differs between districts (taxonomy,
 * bureaus, jurisdictions, routing, urgency and anonymity phrases, deadlines)
 * lives in one validated data file, never in code.
 */

const code = z.string().regex(/^[a-z][a-z0-9_]*$/, 'lower-case letters, digits and _ only');
const localized = z.object({ zh: z.string().min(1), en: z.string().min(1) });
/**
 * A place's name in Latin letters, as English-speaking residents write it (pinyin: Xinglong, Huilong Village):
 * words of letters apart by a space, a hyphen or an apostrophe. Found in a report in any case, written with or
 * without those breaks (Xing-long, HUILONG VILLAGE), never inside a longer word (Huilong is not in Huilongxu).
 */
const latinName = z
  .string()
  .regex(/^[A-Za-z]+(?:[ '-][A-Za-z]+)*$/, 'Latin letters only, words apart by a space, hyphen or apostrophe (e.g. "Huilong Village")');
/**
 * An IANA time zone the runtime knows, by its Area/Location name (Asia/Shanghai) or UTC: the district's
 * wall clock for deadlines, statistics by day and month, and the hotline calls and report times that come
 * without a UTC offset. A misspelt zone stops the start here rather than failing the first request that
 * reads a time; an abbreviation is refused because the runtime reads some as another place's (CST is
 * America/Chicago, not China Standard Time).
 */
function isTimeZone(name: string): boolean {
  if (name !== 'UTC' && !name.includes('/')) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const latLng = z.tuple([z.number().min(-90).max(90), z.number().min(-180).max(180)]);

const duration = z
  .object({
    hours: z.number().positive().optional(),
    days: z.number().positive().optional(),
    workingDays: z.number().int().positive().optional(),
  })
  .strict()
  .refine((d) => [d.hours, d.days, d.workingDays].filter((x) => x !== undefined).length === 1, {
    message: 'give exactly one of hours, days, workingDays',
  });

const stageDeadlines = z
  .object({ sign: duration.optional(), reply: duration.optional(), rate: duration.optional() })
  .strict();

const webhookChannel = z
  .object({
    /** Where assignments are POSTed: https, or http inside the district's own network (the HMAC signature still holds). */
    url: z.url({ protocol: /^https?$/, error: 'must be an https:// (or http://) address' }),
    /** Per-bureau signing secret; falls back to WEBHOOK_SECRET. */
    secret: z.string().min(16).optional(),
  })
  .strict();

/** The language of what the bot writes in a unit's Telegram group (posts, buttons, notices): Chinese unless the file says English. */
const telegramLanguage = z.enum(['zh', 'en']);

const bureau = z
  .object({
    code,
    name: localized,
    webhook: webhookChannel.optional(),
    telegramChatId: z.number().int().optional(),
    telegramLanguage: telegramLanguage.optional(),
  })
  .strict();

const jurisdiction = z
  .object({
    code,
    kind: z.enum(['town', 'subdistrict', 'forest_farm', 'village', 'other']),
    name: localized,
    aliases: z.array(z.string().min(1)).default([]),
    places: z.array(z.string().min(1)).default([]),
    /** Its names and its places' in Latin letters (Xinglong, Huilong Village), for reports written in English. */
    englishNames: z.array(latinName).default([]),
    /** Polygon of [lat, lng] vertices. */
    area: z.array(latLng).min(3).optional(),
    webhook: webhookChannel.optional(),
    telegramChatId: z.number().int().optional(),
    telegramLanguage: telegramLanguage.optional(),
  })
  .strict();

const violationType = z
  .object({
    code,
    name: localized,
    description: z.string().default(''),
    urgent: z.boolean().default(false),
    phrases: z
      .array(z.object({ text: z.string().min(1), weight: z.number().positive() }).strict())
      .default([]),
  })
  .strict();

const route = z
  .object({
    lead: code,
    co: z.array(code).default([]),
    /** Cases of this type leave the environmental workflow (handed to 12345). */
    transfer: z.boolean().default(false),
  })
  .strict();

export const districtFileSchema = z
  .object({
    $comment: z.string().optional(),
    version: z.literal(1),
    district: z
      .object({
        code,
        name: localized,
        aliases: z.array(z.string().min(1)).default([]),
        /** The district's names in Latin letters (Huilongxu District): they name no jurisdiction. */
        englishNames: z.array(latinName).default([]),
        timezone: z.string().min(1).refine(isTimeZone, 'must be an IANA time zone name, e.g. Asia/Shanghai (not an abbreviation: CST is read as America/Chicago)'),
        bounds: z
          .object({ south: z.number(), west: z.number(), north: z.number(), east: z.number() })
          .strict(),
      })
      .strict(),
    bureaus: z.array(bureau).min(1),
    jurisdictions: z.array(jurisdiction).default([]),
    types: z.array(violationType).min(1),
    routing: z.record(z.string(), route),
    urgency: z
      .object({ types: z.array(code).default([]), phrases: z.array(z.string().min(1)).default([]) })
      .strict(),
    anonymity: z.object({ phrases: z.array(z.string().min(1)).default([]) }).strict(),
    classifier: z
      .object({
        minConfidence: z.number().min(0).max(1).default(0.5),
        /** Labelled examples (JSONL) for the trained classifier, relative to this file. */
        examples: z.string().min(1).optional(),
        /** `rules` uses the phrase rules alone, without a trained model. */
        engine: z.enum(['trained', 'rules']).default('trained'),
      })
      .strict()
      .default({ minConfidence: 0.5, engine: 'trained' }),
    deadlines: z
      .object({
        normal: stageDeadlines,
        urgent: stageDeadlines,
        byType: z.record(z.string(), z.object({ normal: stageDeadlines.optional(), urgent: stageDeadlines.optional() }).strict()).default({}),
        /** The shorter deadlines of a case reopened after a dissatisfied rating (重办); reply defaults to half the normal one. */
        reopened: stageDeadlines.optional(),
      })
      .strict(),
    /** Timers around each deadline: a reminder (催办) before it, supervision (督办) some working days after it. */
    supervision: z
      .object({
        remindBeforeHours: z.number().min(0).default(4),
        superviseAfterWorkingDays: z.number().int().min(0).default(2),
      })
      .strict()
      .default({ remindBeforeHours: 4, superviseAfterWorkingDays: 2 }),
    calendar: z
      .object({
        extraDaysOff: z.array(z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'YYYY-MM-DD')).default([]),
        extraWorkdays: z.array(z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'YYYY-MM-DD')).default([]),
      })
      .strict()
      .default({ extraDaysOff: [], extraWorkdays: [] }),
    /** Public statistics hide groups with fewer cases than this, so a small group cannot point at a reporter. */
    publicStats: z
      .object({ minGroupSize: z.number().int().min(1).default(5) })
      .strict()
      .default({ minGroupSize: 5 }),
  })
  .strict();

export type DistrictFile = z.infer<typeof districtFileSchema>;
export type Localized = z.infer<typeof localized>;
export type Duration = z.infer<typeof duration>;
export type StageDeadlines = z.infer<typeof stageDeadlines>;
export type WebhookChannel = z.infer<typeof webhookChannel>;

export interface Unit {
  code: string;
  name: Localized;
  kind: 'bureau' | 'jurisdiction';
  webhook?: WebhookChannel;
  telegramChatId?: number;
  /** Set in the file, else undefined: the group's posts are then in Chinese (`groupLanguage`). */
  telegramLanguage?: 'zh' | 'en';
}

/** The language the bot writes in a unit's Telegram group: the file's `telegramLanguage`, else Chinese. */
export function groupLanguage(unit: Pick<Unit, 'telegramLanguage'> | undefined): 'zh' | 'en' {
  return unit?.telegramLanguage ?? 'zh';
}

export interface District {
  file: DistrictFile;
  /** Bureaus and jurisdictions by code: both can hold assignments. */
  units: ReadonlyMap<string, Unit>;
  types: ReadonlyMap<string, DistrictFile['types'][number]>;
  jurisdictions: ReadonlyMap<string, DistrictFile['jurisdictions'][number]>;
  routing: DistrictFile['routing'];
  /**
   * The names of types and units this file no longer has, as an earlier file
   * had them (kept in the database: db/repositories/code-names.repository.ts),
   * so that the cases made before still show them. Filled at start.
   */
  former: FormerNames;
}

export interface FormerNames {
  types: Map<string, Localized>;
  units: Map<string, Localized>;
}

/** A violation type's name: the file's; else the one an earlier file gave it; else its code. */
export function typeName(district: District, code: string, lang: 'zh' | 'en' = 'zh'): string {
  return (district.types.get(code)?.name ?? district.former.types.get(code))?.[lang] ?? code;
}

/** A bureau's or office's name: the file's; else the one an earlier file gave it; else its code. */
export function unitName(district: District, code: string, lang: 'zh' | 'en' = 'zh'): string {
  return (district.units.get(code)?.name ?? district.former.units.get(code))?.[lang] ?? code;
}

/**
 * Why a unit cannot lead a case, or null when it can: the lead is always a
 * bureau; a town or sub-district office takes part as the jurisdiction (属地).
 * One rule for the routing table, the dispatcher's re-route and the hotline.
 */
export function leadProblem(units: ReadonlyMap<string, Pick<Unit, 'kind'>>, code: string): string | null {
  const unit = units.get(code);
  if (!unit) return `unknown bureau "${code}"`;
  if (unit.kind !== 'bureau') return `"${code}" is a local office, not a bureau: it takes part as the jurisdiction, not as the lead`;
  return null;
}

export class DistrictConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`invalid district file ${source}: ${problems.join('; ')}`);
    this.name = 'DistrictConfigError';
  }
}

/** What the cross-references between the parts of a district file are checked on. */
interface CrossReferences {
  bureaus: string[];
  jurisdictions: Array<{ code: string; names: string[]; englishNames: string[] }>;
  types: string[];
  /** A route whose lead cannot be read (the structure check names it) has a null lead. */
  routing: Array<[type: string, route: { lead: string | null; co: string[] }]>;
  urgencyTypes: string[];
  byTypes: string[];
  deadlines: Record<'normal' | 'urgent', Record<string, unknown> | null>;
}

/** Validates a parsed district file, naming every bad entry by its path. */
export function buildDistrict(raw: unknown, source = 'district file'): District {
  const parsed = districtFileSchema.safeParse(raw);
  if (!parsed.success) {
    // The cross-references are checked too, on what can be read, so one round of fixes meets every problem.
    const problems = parsed.error.issues.map((i) => `${describePath(raw, i.path)}: ${i.message}`);
    for (const p of crossReferenceProblems(salvagedReferences(raw))) if (!problems.includes(p)) problems.push(p);
    throw new DistrictConfigError(source, problems);
  }
  const file = parsed.data;
  const problems = crossReferenceProblems({
    bureaus: file.bureaus.map((b) => b.code),
    jurisdictions: file.jurisdictions.map((j) => ({ code: j.code, names: [j.name.zh, ...j.aliases, ...j.places], englishNames: j.englishNames })),
    types: file.types.map((t) => t.code),
    routing: Object.entries(file.routing),
    urgencyTypes: file.urgency.types,
    byTypes: Object.keys(file.deadlines.byType),
    deadlines: file.deadlines,
  });
  if (problems.length > 0) throw new DistrictConfigError(source, problems);
  const units = new Map<string, Unit>();
  for (const b of file.bureaus) units.set(b.code, { code: b.code, name: b.name, kind: 'bureau', webhook: b.webhook, telegramChatId: b.telegramChatId, telegramLanguage: b.telegramLanguage });
  for (const j of file.jurisdictions) units.set(j.code, { code: j.code, name: j.name, kind: 'jurisdiction', webhook: j.webhook, telegramChatId: j.telegramChatId, telegramLanguage: j.telegramLanguage });
  const types = new Map(file.types.map((t) => [t.code, t] as const));
  const jurisdictions = new Map(file.jurisdictions.map((j) => [j.code, j] as const));
  return { file, units, types, jurisdictions, routing: file.routing, former: { types: new Map(), units: new Map() } };
}

/** Codes, routes and names as they stand in a file that failed its structure check: what has the right shape. */
function salvagedReferences(raw: unknown): CrossReferences {
  const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
  const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
  const strings = (v: unknown): string[] => list(v).filter((x): x is string => typeof x === 'string');
  const codes = (v: unknown): string[] => list(v).flatMap((e) => (typeof obj(e).code === 'string' ? [obj(e).code as string] : []));
  const file = obj(raw);
  const deadlines = obj(file.deadlines);
  return {
    bureaus: codes(file.bureaus),
    jurisdictions: list(file.jurisdictions).flatMap((e) => {
      const j = obj(e);
      const zh = obj(j.name).zh;
      const names = [...(typeof zh === 'string' ? [zh] : []), ...strings(j.aliases), ...strings(j.places)];
      return typeof j.code === 'string' ? [{ code: j.code, names, englishNames: strings(j.englishNames) }] : [];
    }),
    types: codes(file.types),
    routing: Object.entries(obj(file.routing)).map(([type, r]) => {
      const lead = obj(r).lead;
      return [type, { lead: typeof lead === 'string' ? lead : null, co: strings(obj(r).co) }];
    }),
    urgencyTypes: strings(obj(file.urgency).types),
    byTypes: Object.keys(obj(deadlines.byType)),
    deadlines: { normal: deadlines.normal === undefined ? null : obj(deadlines.normal), urgent: deadlines.urgent === undefined ? null : obj(deadlines.urgent) },
  };
}

/** Duplicate codes, and references to types, bureaus and jurisdictions the file does not have. */
function crossReferenceProblems(refs: CrossReferences): string[] {
  const problems: string[] = [];
  const units = new Map<string, Pick<Unit, 'kind'>>();
  for (const code of refs.bureaus) {
    if (units.has(code)) problems.push(`bureaus: duplicate code "${code}"`);
    units.set(code, { kind: 'bureau' });
  }
  for (const { code } of refs.jurisdictions) {
    if (units.has(code)) problems.push(`jurisdictions: code "${code}" is already used by a bureau or jurisdiction`);
    units.set(code, { kind: 'jurisdiction' });
  }
  const types = new Set<string>();
  const routed = new Set(refs.routing.map(([type]) => type));
  for (const code of refs.types) {
    if (types.has(code)) problems.push(`types: duplicate code "${code}"`);
    types.add(code);
    if (!routed.has(code)) problems.push(`routing: type "${code}" has no route`);
  }
  for (const [typeCode, r] of refs.routing) {
    if (!types.has(typeCode)) problems.push(`routing.${typeCode}: unknown type "${typeCode}"`);
    const badLead = r.lead === null ? null : leadProblem(units, r.lead);
    if (badLead) problems.push(`routing.${typeCode}.lead: ${badLead}`);
    for (const co of r.co) {
      if (!units.has(co)) problems.push(`routing.${typeCode}.co: unknown bureau "${co}"`);
      // The case's own local office joins every case as its jurisdiction (属地); one named here would be a co-handler of
      // cases in every other office's area, which the dispatcher's re-route refuses as well.
      else if (units.get(co)!.kind !== 'bureau') problems.push(`routing.${typeCode}.co: "${co}" is a local office, not a bureau: it takes part as the jurisdiction, not as a co-handler`);
      if (co === r.lead) problems.push(`routing.${typeCode}.co: "${co}" is already the lead`);
    }
  }
  for (const t of refs.urgencyTypes) {
    if (!types.has(t)) problems.push(`urgency.types: unknown type "${t}"`);
  }
  for (const t of refs.byTypes) {
    if (!types.has(t)) problems.push(`deadlines.byType.${t}: unknown type "${t}"`);
  }
  for (const level of ['normal', 'urgent'] as const) {
    const stages = refs.deadlines[level];
    if (!stages) continue;
    for (const stage of ['sign', 'reply', 'rate'] as const) {
      if (!stages[stage]) problems.push(`deadlines.${level}.${stage}: missing`);
    }
  }
  const seenNames = new Map<string, string>();
  const seenEnglish = new Map<string, string>();
  for (const j of refs.jurisdictions) {
    for (const n of j.names) {
      const other = seenNames.get(n);
      if (other && other !== j.code) problems.push(`jurisdictions.${j.code}: place name "${n}" also belongs to "${other}"`);
      seenNames.set(n, j.code);
    }
    // Xinglong and xing-long are one name to the text they are looked for in.
    for (const n of j.englishNames) {
      const other = seenEnglish.get(latinKey(n));
      if (other && other !== j.code) problems.push(`jurisdictions.${j.code}: English name "${n}" also belongs to "${other}"`);
      seenEnglish.set(latinKey(n), j.code);
    }
  }
  return problems;
}

/** What a name in Latin letters is compared by: its letters in lower case (Huilong Village, huilong-village). */
export function latinKey(name: string): string {
  return name.toLowerCase().replace(/[^a-z]/g, '');
}

/** Turns a zod path into something a person can find in the file, e.g. `types[3] (noise).phrases[0].weight`. */
function describePath(raw: unknown, path: ReadonlyArray<PropertyKey>): string {
  let node: unknown = raw;
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') {
      out += `[${key}]`;
      node = Array.isArray(node) ? node[key] : undefined;
      const entryCode = node && typeof node === 'object' && 'code' in node ? (node as { code: unknown }).code : undefined;
      if (typeof entryCode === 'string') out += ` (${entryCode})`;
    } else {
      out += (out ? '.' : '') + String(key);
      node = node && typeof node === 'object' ? (node as Record<string, unknown>)[String(key)] : undefined;
    }
  }
  return out || '(file)';
}

/** Parses and validates the text of a district file. */
export function parseDistrictJson(text: string, source = 'district file'): District {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new DistrictConfigError(source, [`not valid JSON: ${(err as Error).message}`]);
  }
  return buildDistrict(raw, source);
}

export function unitView(district: District, code: string | null): { code: string; name: string } | null {
  if (!code) return null;
  return { code, name: unitName(district, code) };
}

/** A violation type as the bureaus' webhooks name it; null when the case has none, or one no district file named. */
export function caseTypeView(district: District, code: string | null): { code: string; name: string } | null {
  if (!code || !(district.types.has(code) || district.former.types.has(code))) return null;
  return { code, name: typeName(district, code) };
}
