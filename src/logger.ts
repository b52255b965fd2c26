import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs. Reporter identity never belongs in a log line; the
 * redaction list is a safety net for a field logged by mistake.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
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
