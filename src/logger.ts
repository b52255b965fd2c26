import { pino } from 'pino';

/** One log method: fields first and a message, or a message alone (pino's calling convention). */
export interface LogFn {
  (fields: object, message?: string): void;
  (message: string): void;
}

/**
 * What the service's code needs from a logger. pino's logger is one (Node);
 * the Workers build passes a console-based one (src/worker/logger.ts).
 */
export interface Logger {
  fatal: LogFn;
  error: LogFn;
  warn: LogFn;
  info: LogFn;
  debug: LogFn;
  trace: LogFn;
  /** A logger that adds these fields to every line. */
  child(bindings: Record<string, unknown>): Logger;
}

/**
 * Structured JSON logs. Reporter identity never belongs in a log line; the
 * redaction list is a safety net for a field logged by mistake.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): pino.Logger {
  return pino(
    {
      level,
      base: { service: 'intake' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          'name', 'phone', '*.name', '*.phone', '*.*.name', '*.*.phone',
          'reporterName', 'reporterPhone', '*.reporterName', '*.reporterPhone',
          'headers.authorization', '*.headers.authorization', 'text', '*.text',
        ],
        censor: '[redacted]',
      },
    },
    destination ?? process.stdout,
  );
}
