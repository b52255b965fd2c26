import { OpenAPIHono, z } from '@hono/zod-openapi';
import { findContactsFor } from '../db/repositories/contacts.repository.js';
import { exportCaseBatches, type ExportCase } from '../db/repositories/stats.repository.js';
import { type District, typeName, unitName } from '../src/district/district.schema.js';
import { refuseUnknownFilterCodes } from '../src/district/gone-codes.js';
import { CASE_STATUSES } from '../src/domain/case.js';
import type { Logger } from '../src/logger.js';
import { maskIdentityInText } from '../src/pipeline/extract.js';
import { localDateTime } from '../src/domain/time-zone.js';
import { ADDED_COUNT_FIELDS, COUNT_FIELDS, RATE_FIELDS, type GroupStats, type Lang, type Measures } from '../src/stats/stats.js';
import type { AppEnv } from './app-env.js';
import { BEARER_SCHEME, authenticate, requireRoles } from './auth.middleware.js';
import { errorResponses } from './error-schema.js';
import { computeStats, periodOf, statsQuerySchema, type StatsQuery } from './stats.routes.js';
import { validationHook, apiRoute } from './validation.js';

/**
 * CSV exports for dispatchers and admins: RFC 4180 quoting, CRLF line ends,
 * UTF-8 with a byte-order mark (without it Excel reads Chinese as mojibake),
 * times on the district's wall clock (`YYYY-MM-DD HH:mm:ss`), and never the
 * reporter's name or phone: phones inside the text are masked, and so is the
 * reporter's name wherever the text gives it (我叫…, or the name they left in
 * the contact fields).
 */

export type CsvCell = string | number | boolean | null | undefined;

/**
 * One CSV line. A cell with a quote, comma, CR or LF is quoted with quotes
 * doubled. A text cell starting with = + - @ (or a tab / CR) gets a leading
 * apostrophe, so a spreadsheet shows it instead of running it as a formula
 * (reporters write the text; CSV injection).
 */
export function csvLine(cells: readonly CsvCell[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

function csvCell(value: CsvCell): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  let s = typeof value === 'boolean' ? (value ? '1' : '0') : value;
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const BOM = '\uFEFF';

const CSV_HEADERS = (filename: string) => ({
  'content-type': 'text/csv; charset=utf-8',
  'content-disposition': `attachment; filename="${filename}"`,
  'cache-control': 'no-store',
});

/**
 * A CSV body produced batch by batch as the client reads: the next batch of
 * rows is fetched only when the previous one has been taken (pull), so an
 * export of any size holds one batch in memory.
 */
function csvStream(header: readonly string[], batches: AsyncGenerator<CsvCell[][]>, logger: Logger): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let started = false;
  // The client stopped reading (closed the download): a batch still being fetched goes nowhere.
  let cancelled = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!started) {
        started = true;
        controller.enqueue(encoder.encode(BOM + csvLine(header)));
        return;
      }
      try {
        const next = await batches.next();
        if (cancelled) return;
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value.map(csvLine).join('')));
      } catch (err) {
        if (cancelled) return;
        // Headers are gone already: the client sees a cut-off download, the log says why.
        logger.error({ err: { type: (err as Error).name, message: (err as Error).message } }, 'csv export failed');
        controller.error(err);
      }
    },
    async cancel() {
      cancelled = true;
      await batches.return(undefined);
    },
  });
}

const CASE_COLUMNS: Record<Lang, string[]> = {
  en: [
    'tracking_code',
    'received_at',
    'channel',
    'status',
    'type_code',
    'type_name',
    'confidence',
    'urgent',
    'anonymous',
    'jurisdiction_code',
    'jurisdiction_name',
    'lead',
    'co_handlers',
    'sign_deadline',
    'reply_deadline',
    'accepted_at',
    'replied_at',
    'overdue',
    'rating',
    'solved',
    'closed_at',
    'close_reason',
    'text',
  ],
  zh: [
    '查询码',
    '受理时间',
    '渠道',
    '状态',
    '类型代码',
    '类型',
    '置信度',
    '紧急',
    '匿名',
    '属地代码',
    '属地',
    '牵头单位',
    '协办单位',
    '签收期限',
    '答复期限',
    '签收时间',
    '答复时间',
    '超期',
    '评价',
    '是否解决',
    '办结时间',
    '办结原因',
    '诉求内容',
  ],
};

const YES_NO: Record<Lang, [string, string]> = { zh: ['是', '否'], en: ['yes', 'no'] };
const RATING_NAMES: Record<Lang, Record<string, string>> = {
  zh: { satisfied: '满意', basic: '基本满意', dissatisfied: '不满意' },
  en: { satisfied: 'satisfied', basic: 'basically satisfied', dissatisfied: 'dissatisfied' },
};

/**
 * Names for the status, channel and close reason of a case, in the file's
 * language: the desk's download is read by people. Without them (the API's
 * export) the cells hold the codes a script can rely on.
 */
export interface CaseCodeNames {
  status: Readonly<Record<string, string>>;
  channel: Readonly<Record<string, string>>;
  closeReason: Readonly<Record<string, string>>;
}

/** One case's cells; the reporter's name and phone (from the protected contact fields) are only masked in the text, never written. */
function caseCells(c: ExportCase, district: District, lang: Lang, reporter: { name: string | null; phone: string | null } | null, names: CaseCodeNames | null): CsvCell[] {
  const named = (code: string | null, of: keyof CaseCodeNames) => (code !== null && names ? (names[of][code] ?? code) : code);
  const tz = district.file.district.timezone;
  const at = (iso: string | null) => (iso ? localDateTime(iso, tz) : null);
  const yn = (b: boolean) => YES_NO[lang][b ? 0 : 1];
  const unitLabel = (code: string) => unitName(district, code, lang);
  return [
    c.trackingCode,
    at(c.receivedAt),
    named(c.channel, 'channel'),
    named(c.status, 'status'),
    c.typeCode,
    c.typeCode ? typeName(district, c.typeCode, lang) : null,
    c.confidence === null ? null : Math.round(c.confidence * 1000) / 1000,
    yn(c.urgent),
    yn(c.anonymous),
    c.jurisdictionCode,
    c.jurisdictionCode ? unitLabel(c.jurisdictionCode) : null,
    c.lead ? unitLabel(c.lead.unitCode) : null,
    c.coHandlers.map((code) => unitLabel(code)).join(lang === 'zh' ? '、' : '; '),
    at(c.signBy),
    at(c.replyBy),
    at(c.lead?.acceptedAt ?? null),
    at(c.repliedAt),
    yn(c.overdue),
    c.rating ? (RATING_NAMES[lang][c.rating.rating] ?? c.rating.rating) : null,
    c.rating ? yn(c.rating.solved) : null,
    at(c.closedAt),
    named(c.closeReason, 'closeReason'),
    maskIdentityInText(c.text, [reporter?.name, reporter?.phone], { anonymous: c.anonymous }),
  ];
}

const STATS_COLUMNS: Record<Lang, string[]> = {
  en: [
    'key',
    'name',
    'received',
    'dispatched',
    'signed_on_time',
    'due',
    'replied_on_time',
    'overdue_now',
    'rated',
    'satisfied',
    'basic',
    'dissatisfied',
    'solved',
    'reopened',
    'returned',
    'response_rate',
    'resolution_rate',
    'satisfaction_rate',
    // The response rate's denominator, after the columns the file always had.
    'sign_due',
  ],
  zh: [
    '代码',
    '名称',
    '受理',
    '派单',
    '按时签收',
    '应答复',
    '按时答复',
    '当前超期',
    '已评价',
    '满意',
    '基本满意',
    '不满意',
    '已解决',
    '重办',
    '退回',
    '响应率',
    '办结率',
    '满意率',
    '应签收',
  ],
};

const TOTAL: Record<Lang, string> = { zh: '合计', en: 'Total' };

function measureCells(m: Measures): CsvCell[] {
  return [...COUNT_FIELDS.map((f) => m[f]), ...RATE_FIELDS.map((f) => m[f]), ...ADDED_COUNT_FIELDS.map((f) => m[f])];
}

export const exportCasesQuery = z.strictObject({
  from: statsQuerySchema.shape.from,
  to: statsQuerySchema.shape.to,
  status: z.enum(CASE_STATUSES, { error: `use one of ${CASE_STATUSES.join(', ')}` }).optional(),
  type: z
    .string()
    .max(60, 'at most 60 characters')
    .regex(/^[a-z][a-z0-9_]*$/, 'must be a code of the district file, e.g. illegal_discharge')
    .optional()
    .openapi({ description: 'Only cases of this type code: one of the district file, or one it dropped that cases still carry; another is a 400 naming `type`.' }),
  lang: z.enum(['zh', 'en']).optional().openapi({ description: 'Language of the headers and names (default zh).' }),
});

const csvContent = { 'text/csv': { schema: z.string() } };

const getCasesCsv = apiRoute({
  method: 'get',
  path: '/api/v1/export/cases.csv',
  operationId: 'exportCasesCsv',
  tags: ['statistics'],
  summary: 'Cases received in a period, one CSV row each',
  description:
    "Dispatchers and admins. Oldest first; times on the district wall clock; no reporter name or phone: phone numbers and the reporter's name in the text masked. UTF-8 with BOM. " +
    'Status, channel and close reason are codes (the dispatcher desk\'s download gives their names); `lang` names the types, units, ratings and headers.',
  security: [{ [BEARER_SCHEME]: [] }],
  middleware: [authenticate(), requireRoles('dispatcher', 'admin')] as const,
  request: { query: exportCasesQuery },
  responses: {
    200: { description: 'The CSV file', content: csvContent },
    ...errorResponses(400, 401, 403),
  },
});

const getStatsCsv = apiRoute({
  method: 'get',
  path: '/api/v1/export/stats.csv',
  operationId: 'exportStatsCsv',
  tags: ['statistics'],
  summary: 'The statistics as CSV: one row per group and a total',
  description: 'Dispatchers and admins. The same figures as GET /api/v1/stats; rates as fractions (0–1), empty when there is nothing to divide by.',
  security: [{ [BEARER_SCHEME]: [] }],
  middleware: [authenticate(), requireRoles('dispatcher', 'admin')] as const,
  request: { query: statsQuerySchema },
  responses: {
    200: { description: 'The CSV file', content: csvContent },
    ...errorResponses(400, 401, 403),
  },
});

export type ExportCasesQuery = z.infer<typeof exportCasesQuery>;
type Deps = AppEnv['Variables']['deps'];

/**
 * The cases of a period as a CSV body and its headers (the API route and the
 * dispatcher desk's download link, which gives `names` for the codes).
 */
export async function casesCsv(
  deps: Deps,
  q: ExportCasesQuery,
  names: CaseCodeNames | null = null,
): Promise<{ body: ReadableStream<Uint8Array>; headers: Record<string, string> }> {
  const lang = q.lang ?? 'zh';
  const period = periodOf(deps, q);
  // A type no case can carry would give a file of headers alone: refused, as the case list refuses it.
  await refuseUnknownFilterCodes(deps.db, deps.district, { type: q.type });
  const batches = exportCaseBatches(deps.db, {
    fromInstant: period.fromInstant,
    toInstant: period.toInstant,
    ...(q.status ? { status: q.status } : {}),
    ...(q.type ? { typeCode: q.type } : {}),
  });
  async function* rows(): AsyncGenerator<CsvCell[][]> {
    for await (const batch of batches) {
      // The reporters' names of the whole batch in one query, to mask them where the text repeats them.
      const contacts = await findContactsFor(deps.db, batch.map((x) => x.id));
      yield batch.map((x) => caseCells(x, deps.district, lang, contacts.get(x.id) ?? null, names));
    }
  }
  const body = csvStream(CASE_COLUMNS[lang], rows(), deps.logger);
  return { body, headers: CSV_HEADERS(`cases_${period.from}_${period.to}.csv`) };
}

/** The statistics as a CSV body and its headers. */
export async function statsCsv(deps: Deps, q: StatsQuery): Promise<{ body: string; headers: Record<string, string> }> {
  const lang = q.lang ?? 'zh';
  const period = periodOf(deps, q);
  const result = await computeStats(deps, period, q.groupBy, lang);
  const lines = [
    BOM + csvLine(STATS_COLUMNS[lang]),
    ...result.groups.map((g: GroupStats) => csvLine([g.key, g.name, ...measureCells(g)])),
    csvLine([null, TOTAL[lang], ...measureCells(result.totals)]),
  ];
  return { body: lines.join(''), headers: CSV_HEADERS(`stats_${q.groupBy}_${period.from}_${period.to}.csv`) };
}

export function exportRoutes() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  app.openapi(getCasesCsv, async (c) => {
    const csv = await casesCsv(c.get('deps'), c.req.valid('query'));
    return c.body(csv.body, 200, csv.headers);
  });

  app.openapi(getStatsCsv, async (c) => {
    const csv = await statsCsv(c.get('deps'), c.req.valid('query'));
    return c.body(csv.body, 200, csv.headers);
  });

  return app;
}
