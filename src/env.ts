import { z } from 'zod';
import { decimalOf } from './domain/text.js';

/**
 * The service's whole configuration, read once from the environment.
 * No other module reads `process.env`.
 */

const boolish = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no'])
  .transform((v) => v === '1' || v === 'true' || v === 'yes');

export interface HostPort {
  host: string;
  port: number;
}

/** `host:port,host:port` → addresses; throws naming the bad entry. */
export function parseHostPorts(value: string): HostPort[] {
  const list = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (list.length === 0) throw new Error('give at least one host:port');
  return list.map((entry) => {
    // [::1]:26379 for IPv6, host:port otherwise.
    const m = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(entry);
    const port = m ? Number(m[3]) : NaN;
    if (!m || !(port > 0 && port < 65536)) throw new Error(`"${entry}" is not host:port`);
    return { host: (m[1] ?? m[2])!, port };
  });
}

/** `host:port,host:port` (IPv6 as `[::1]:26379`). */
const hostPorts = z.string().transform((value, ctx) => {
  try {
    return parseHostPorts(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `${(err as Error).message}; expected host:port,host:port` });
    return z.NEVER;
  }
});

/** How REDIS_URL reads, for its error messages. */
const REDIS_URL_SHAPE = 'redis://[user:password@]host[:port][/db]';

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
/** A port as people write one: decimal digits (z.coerce alone would take 0x10 as 16). */
const port = () =>
  z
    .string()
    .regex(/^\d{1,5}$/, 'must be a port number, 0–65535')
    .transform(Number)
    .pipe(z.number().int().min(0).max(65535, 'must be a port number, 0–65535'));

export const envSchema = z.object({
  PORT: port().default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: z
    .string()
    .min(1)
    .default('./data/intake.db')
    .refine((v) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(v) || /^(postgres|postgresql|file):\/\//i.test(v), {
      message: 'must be a SQLite file path, a file: URL or a postgres:// URL',
    })
    .superRefine((v, ctx) => {
      const problem = /^(postgres|postgresql|file):\/\//i.test(v) ? databaseUrlProblem(v) : null;
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
  REDIS_URL: z
    .string()
    .default('redis://127.0.0.1:6379')
    .refine((v) => {
      if (!/^rediss?:\/\//.test(v) || !URL.canParse(v)) return false;
      const u = new URL(v);
      return u.hostname !== '' && /^(\/\d*)?$/.test(u.pathname);
    }, `must be a redis:// or rediss:// URL: ${REDIS_URL_SHAPE}`),
  /** Redis Sentinel: `host:port,host:port` of the sentinels; REDIS_URL is then ignored. */
  REDIS_SENTINELS: hostPorts.optional(),
  /** The primary's name the sentinels monitor. */
  REDIS_SENTINEL_NAME: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits and _ . - only').optional(),
  REDIS_SENTINEL_PASSWORD: z.string().min(1).optional(),
  /** Redis Cluster: `host:port,...` of some cluster nodes (the rest are discovered); REDIS_URL is then ignored. */
  REDIS_CLUSTER_NODES: hostPorts.optional(),
  /** Password of the Redis servers behind Sentinel or Cluster (REDIS_URL carries its own). */
  REDIS_PASSWORD: z.string().min(1).optional(),
  REDIS_TLS: boolish.optional(),
  REDIS_DB: z.coerce.number().int().min(0).max(15).optional(),
  /**
   * A connection to Redis that gets no answer to a command for this long is
   * closed and made again: a host that vanished without closing it (powered
   * off, its address moved to a replica) is not waited out for TCP's minutes.
   * Workers' connections allow their 10 s blocking reads on top.
   */
  REDIS_ANSWER_TIMEOUT_MS: positiveInt(15_000),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits and _ . : - only')
    .default('intake'),
  DISTRICT_CONFIG: z.string().min(1).optional(),
  /** Put into every tracking link residents get: an http(s) address. */
  PUBLIC_URL: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// address' }).optional(),
  UPLOAD_DIR: z.string().min(1).default('./data/uploads'),
  /** Trained classifier artifacts (cache and the last retrained model). */
  CLASSIFIER_DIR: z.string().min(1).default('./data/classifier'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Shared secret used to sign bureau webhook deliveries (HMAC-SHA256). */
  WEBHOOK_SECRET: z.string().min(16, 'at least 16 characters').optional(),
  /** Attempts for one bureau delivery before it is recorded as failed. */
  DISPATCH_ATTEMPTS: positiveInt(8),
  /** First retry delay of a failed delivery, doubled on every attempt. */
  DISPATCH_BACKOFF_MS: positiveInt(5000),
  WORKER_CONCURRENCY: positiveInt(50),
  /**
   * Where accepted reports are committed and the outbox is relayed: on a
   * thread of their own (a second core for the database and Redis work of
   * intake), or inline on the main thread. `auto`: the thread in an API-only
   * process (`--role api`); inline where the queue workers run too, whose
   * writes would otherwise contend with the thread's for SQLite's one write lock.
   */
  INTAKE_WRITER: z.enum(['auto', 'thread', 'inline']).default('auto'),
  /** A job whose worker died is taken over by another worker after this long. */
  JOB_LOCK_MS: positiveInt(30_000),
  /** How often the reconciler looks for cases whose queue work got lost. */
  RECONCILE_INTERVAL_MS: positiveInt(30_000),
  /** A case untouched for this long in an intermediate state is re-enqueued. */
  RECONCILE_GRACE_MS: positiveInt(60_000),
  TRUST_PROXY: boolish.default(false),
  /**
   * How many reports one network address may send through the web form and
   * `POST /api/v1/reports`, and one chat through the Telegram bot:
   * `<count>/<window>`, the window in s, m or h (`30/1h`), or `off`. Counted
   * where INTAKE_RATE_LIMIT_STORE says. Staff signed in on the form and the
   * hotline calls are not counted.
   */
  INTAKE_RATE_LIMIT: rateLimitSetting('30/1h'),
  /**
   * Where the reports per address are counted: `memory`, by each API process
   * on its own (free; several API processes each allow the limit), or
   * `redis`, one count shared by every API process (a round trip to Redis
   * per report, about a quarter of the intake's throughput on two cores).
   */
  INTAKE_RATE_LIMIT_STORE: z.enum(['memory', 'redis']).default('memory'),
  /**
   * How many lookups of a tracking code no case has one network address may
   * make (tracking page, `GET /api/v1/track/…`, a rating sent to a wrong
   * code), `<count>/<window>` or `off`: past it every lookup from there is a
   * 429 until the window ends, so codes cannot be tried by the thousand.
   * Counted in each process's memory.
   */
  TRACK_LOOKUP_LIMIT: rateLimitSetting('20/10m'),
  /**
   * PBKDF2 work factor of new staff password hashes (and of hashes renewed at
   * sign-in). Cloudflare Workers refuse more than 100,000, so the Workers
   * build sets that; older hashes keep verifying at their own factor.
   */
  PASSWORD_ITERATIONS: z.coerce.number().int().min(100_000, 'at least 100000').max(10_000_000).default(600_000),
  /** Bearer token for GET /metrics on the API port; without it the API port does not serve metrics. */
  METRICS_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  /** A separate admin port serving GET /metrics (API and worker processes alike). */
  METRICS_PORT: port().optional(),
  /** Bind address of the admin port. */
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  /** Database-derived gauges (cases by status, overdue by bureau) are re-read at most this often. */
  METRICS_DB_CACHE_MS: z.coerce.number().int().min(0).default(10_000),
  /** The Telegram bot's token; without it the bot is switched off. */
  TELEGRAM_BOT_TOKEN: z.string().regex(/^\d+:[A-Za-z0-9_-]+$/, 'looks like 123456:ABC-…').optional(),
  /** The Bot API server: Telegram's own, a self-hosted one, or an emulator in tests. */
  TELEGRAM_API_ROOT: z.string().url().default('https://api.telegram.org'),
  /** Telegram sends it in X-Telegram-Bot-Api-Secret-Token; required in webhook mode. */
  TELEGRAM_WEBHOOK_SECRET: z.string().regex(/^[A-Za-z0-9_-]{1,256}$/, '1–256 of A-Z a-z 0-9 _ -').optional(),
  /**
   * A Bot API call with no answer after this many seconds fails (a stalled Telegram or proxy): a job's
   * call is tried again by the queue's backoff, an update's by Telegram's redelivery. Polling waits
   * longer, its own 30 s long poll besides.
   */
  TELEGRAM_API_TIMEOUT_S: z.coerce.number().int().min(1).max(300).default(20),
  /** webhook: Telegram POSTs to /telegram/webhook; polling: the API process asks for updates (development). */
  TELEGRAM_MODE: z.enum(['webhook', 'polling']).default('webhook'),
  /** Map tiles for the report form's pin, e.g. `https://tiles.example/{z}/{x}/{y}.png`; without it the form has no map. */
  MAP_TILE_URL: z
    .string()
    .refine((v) => /^(https?:\/\/|\/)/.test(v) && ['{z}', '{x}', '{y}'].every((p) => v.includes(p)), {
      message: 'must be an http(s) URL or a path with {z}, {x} and {y}',
    })
    .optional(),
  /** Where the map opens: `lat,lng` or `lat,lng,zoom`; default the middle of the district. */
  MAP_CENTER: z
    .string()
    .transform((v, ctx) => {
      // Each part a decimal number: Number('') would be 0, so ',' would open the map at 0,0.
      const parts = v.split(',').map(decimalOf);
      const [lat, lng, zoom] = parts;
      const ok =
        (parts.length === 2 || parts.length === 3) &&
        lat !== undefined && Math.abs(lat) <= 90 &&
        lng !== undefined && Math.abs(lng) <= 180 &&
        (zoom === undefined || (Number.isInteger(zoom) && zoom >= 0 && zoom <= 22));
      if (!ok) {
        ctx.addIssue({ code: 'custom', message: 'expected lat,lng or lat,lng,zoom, e.g. 25.165,111.34,13' });
        return z.NEVER;
      }
      return { lat: lat!, lng: lng!, zoom: zoom ?? null };
    })
    .optional(),
  /** The attribution the tile provider requires, shown on the map. */
  MAP_ATTRIBUTION: z.string().max(300).optional(),
  /**
   * Web origins whose pages may call the public API from a browser (report, track, rate):
   * `https://portal.example,https://app.example`, or `*` for any; none by default (no CORS).
   */
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((v, ctx) => {
      if (v.trim() === '*') return '*' as const;
      const origins: string[] = [];
      for (const entry of v.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
        const origin = webOrigin(entry);
        if (origin === null) {
          ctx.addIssue({ code: 'custom', message: `"${entry}" is not an origin: scheme, host and port only, e.g. https://portal.example.gov.cn, or * for any` });
          return z.NEVER;
        }
        origins.push(origin);
      }
      return origins;
    }),
}).superRefine((env, ctx) => {
  if (env.REDIS_SENTINELS && env.REDIS_CLUSTER_NODES) {
    ctx.addIssue({ code: 'custom', path: ['REDIS_CLUSTER_NODES'], message: 'set either REDIS_SENTINELS or REDIS_CLUSTER_NODES, not both' });
  }
  if (env.REDIS_SENTINELS && !env.REDIS_SENTINEL_NAME) {
    ctx.addIssue({ code: 'custom', path: ['REDIS_SENTINEL_NAME'], message: 'required with REDIS_SENTINELS (the monitored primary, e.g. mymaster)' });
  }
  if (env.REDIS_SENTINEL_NAME && !env.REDIS_SENTINELS) {
    ctx.addIssue({ code: 'custom', path: ['REDIS_SENTINELS'], message: 'required with REDIS_SENTINEL_NAME (host:port of each sentinel)' });
  }
  if (env.REDIS_CLUSTER_NODES && typeof env.REDIS_DB === 'number' && env.REDIS_DB !== 0) {
    ctx.addIssue({ code: 'custom', path: ['REDIS_DB'], message: 'a Redis Cluster has only database 0' });
  }
  if (env.TELEGRAM_BOT_TOKEN && env.TELEGRAM_MODE === 'webhook' && !env.TELEGRAM_WEBHOOK_SECRET) {
    ctx.addIssue({ code: 'custom', path: ['TELEGRAM_WEBHOOK_SECRET'], message: 'required when the bot runs in webhook mode' });
  }
  // Checked even when a variable on its own is bad, so one start names every problem.
}, { when: () => true });

/** An http(s) origin as browsers send it in `Origin` (`https://host[:port]`, a trailing slash let go), or null. */
function webOrigin(entry: string): string | null {
  const bare = entry.replace(/\/$/, '');
  if (!URL.canParse(bare)) return null;
  const url = new URL(bare);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  // Only what an origin holds: a path, query, fragment or user would never match a browser's Origin header.
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '' || /[?#]/.test(bare)) return null;
  return url.origin;
}

/** At most `reports` reports per `windowS` seconds from one address. */
export interface IntakeLimit {
  reports: number;
  windowS: number;
}

const WINDOW_UNIT_S = { s: 1, m: 60, h: 3600 } as const;

/** A `<count>/<window>` or `off` setting (parseIntakeLimit), with its default. */
function rateLimitSetting(fallback: string) {
  return z
    .string()
    .default(fallback)
    .transform((v, ctx) => {
      const limit = parseIntakeLimit(v);
      if (limit === undefined) {
        ctx.addIssue({ code: 'custom', message: 'expected <count>/<window> (e.g. 30/1h, 10/15m, 5/90s) or off' });
        return z.NEVER;
      }
      return limit;
    });
}

/** `30/1h` → 30 reports an hour; `off` → null (no limit); anything else → undefined. */
export function parseIntakeLimit(value: string): IntakeLimit | null | undefined {
  const v = value.trim().toLowerCase();
  if (v === 'off') return null;
  const m = /^(\d{1,6})\s*\/\s*(\d{1,6})?\s*(s|m|h)$/.exec(v);
  if (!m) return undefined;
  const reports = Number(m[1]);
  const windowS = Number(m[2] ?? 1) * WINDOW_UNIT_S[m[3] as keyof typeof WINDOW_UNIT_S];
  // A day at most: the count is kept for the window, and a longer one would outlive anybody's memory of it.
  if (reports < 1 || windowS < 1 || windowS > 86_400) return undefined;
  return { reports, windowS };
}

/** Why a postgres:// or file:// URL cannot be used, or null. */
function databaseUrlProblem(v: string): string | null {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return 'not a valid URL';
  }
  if (u.protocol === 'file:' && u.host !== '' && u.host !== 'localhost') return 'a file: URL names a file on this machine (file:///path or file:path)';
  return null;
}

export type Env = z.infer<typeof envSchema>;

export class EnvError extends Error {
  constructor(readonly problems: Array<{ variable: string; message: string }>) {
    super(
      'invalid configuration: ' +
        problems.map((p) => `${p.variable}: ${p.message}`).join('; '),
    );
    this.name = 'EnvError';
  }
}

/** Parses the environment, naming every bad variable at once. */
export function parseEnv(source: Record<string, string | undefined>): Env {
  // Empty strings count as unset, the way shells usually mean them.
  const cleaned = Object.fromEntries(
    Object.entries(source).filter(([, v]) => v !== undefined && v !== ''),
  );
  const result = envSchema.safeParse(cleaned);
  if (!result.success) {
    throw new EnvError(
      result.error.issues.map((issue) => ({
        variable: String(issue.path[0] ?? '(root)'),
        message: issue.message,
      })),
    );
  }
  return result.data;
}

/** Where the public tracking page of a case lives. */
export function publicUrl(env: Env): string {
  return (env.PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/+$/, '');
}
