import type { Env } from '../env.js';
import type { PreparedReport } from './intake-writer.js';

/** Messages between the HTTP thread and the intake writer thread (src/intake/writer-thread.ts). */

export interface ThreadData {
  env: Env;
  /** SQLite: the shared memory of the process's WriteTurn (db/write-turn.ts). */
  writeTurn?: SharedArrayBuffer;
}

export type ToThread =
  | { t: 'write'; id: number; reports: PreparedReport[] }
  | { t: 'kick' }
  | { t: 'drain'; id: number }
  | { t: 'stop'; id: number };

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

export type FromThread =
  | { t: 'ready' }
  | { t: 'done'; id: number; error?: { message: string; code: string | undefined } }
  | { t: 'log'; level: LogLevel; fields: object; message: string | undefined };
