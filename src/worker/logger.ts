import type { LogFn, Logger } from '../logger.js';

/**
 * Structured logs on Workers: one JSON object per line through `console`,
 * which Workers Logs and `wrangler tail` collect. The same fields as pino on
 * Node, and the same safety net: reporter identity and complaint text are
 * redacted wherever they turn up in a log line.
 */

const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity } as const;
export type LogLevel = keyof typeof LEVELS;

const REDACTED = new Set(['name', 'phone', 'reporterName', 'reporterPhone', 'text', 'authorization']);

function redact(value: unknown, depth: number): unknown {
  if (depth > 3 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return { type: value.name, message: value.message, stack: value.stack };
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = REDACTED.has(k) ? '[redacted]' : redact(v, depth + 1);
  return out;
}

export function createConsoleLogger(
  level: LogLevel,
  bindings: Record<string, unknown> = { service: 'intake', platform: 'workers' },
  write: (line: string, level: number) => void = defaultWrite,
): Logger {
  const threshold = LEVELS[level];
  const method = (name: Exclude<LogLevel, 'silent'>): LogFn => {
    const n = LEVELS[name];
    return ((fieldsOrMessage: object | string, message?: string) => {
      if (n < threshold) return;
      const fields = typeof fieldsOrMessage === 'string' ? {} : (redact(fieldsOrMessage, 0) as Record<string, unknown>);
      const msg = typeof fieldsOrMessage === 'string' ? fieldsOrMessage : message;
      write(JSON.stringify({ level: n, time: new Date().toISOString(), ...bindings, ...fields, ...(msg ? { msg } : {}) }), n);
    }) as LogFn;
  };
  return {
    fatal: method('fatal'),
    error: method('error'),
    warn: method('warn'),
    info: method('info'),
    debug: method('debug'),
    trace: method('trace'),
    child: (more) => createConsoleLogger(level, { ...bindings, ...more }, write),
  };
}

function defaultWrite(line: string, level: number): void {
  if (level >= LEVELS.error) console.error(line);
  else if (level >= LEVELS.warn) console.warn(line);
  else console.log(line);
}
