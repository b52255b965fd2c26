import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { Kysely, type CompiledQuery, type DatabaseConnection, type QueryResult } from 'kysely';
import type { Database } from '../../db/schema.js';
import { singleConnectionDialect } from './d1.js';

/**
 * The D1 database `DB` of wrangler.toml, reached from a command-line tool
 * through `wrangler d1 execute --json` (D1 has no connection string): the
 * local one (under `.wrangler/`, or `persistTo` as `wrangler dev
 * --persist-to` takes it) or, with `remote`, the deployed one.
 */
export interface D1Target {
  remote: boolean;
  persistTo?: string | undefined;
}

/** wrangler could not run the SQL; the message says why in one line. */
export class WranglerD1Error extends Error {}

/** SQL text with the parameters written in (wrangler d1 execute takes no bound parameters). */
export function inlineSql(query: Pick<CompiledQuery, 'sql' | 'parameters'>): string {
  let i = 0;
  return query.sql.replace(/\?/g, () => literal(query.parameters[i++]));
}

function literal(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (typeof value === 'string') return `'${value.replace(/'/g, "''")}'`;
  throw new Error(`cannot write ${typeof value} into SQL`);
}

export function describeTarget(target: D1Target): string {
  return target.remote ? 'the remote D1 database DB' : `the local D1 database DB${target.persistTo ? ` in ${target.persistTo}` : ''}`;
}

/**
 * Runs the statements in one `wrangler d1 execute --command` and returns the
 * rows each of them gave (in order). `--command` rather than `--file`: on the
 * remote database a file is imported and answers with a summary, not rows.
 */
export async function executeD1(statements: string[], target: D1Target): Promise<unknown[][]> {
  const args = [
    wranglerBin(), 'd1', 'execute', 'DB', '--json',
    target.remote ? '--remote' : '--local',
    ...(target.persistTo ? ['--persist-to', target.persistTo] : []),
    '--command', statements.join(';\n'),
  ];
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)(process.execPath, args, { maxBuffer: 64 * 1024 * 1024 }));
  } catch (err) {
    const failed = err as { stdout?: string; stderr?: string; message: string };
    throw new WranglerD1Error(`${describeTarget(target)}: ${failureReason(failed)}`);
  }
  const parsed = parseJson(stdout);
  if (!Array.isArray(parsed)) throw new WranglerD1Error(`${describeTarget(target)}: unexpected answer from wrangler: ${stdout.trim().slice(0, 200)}`);
  return parsed.map((r: { results?: unknown[] }) => r.results ?? []);
}

/** The project's own wrangler (package.json pins it), run by this Node: no npx lookup per query. */
function wranglerBin(): string {
  return join(dirname(createRequire(import.meta.url).resolve('wrangler/package.json')), 'bin/wrangler.js');
}

/** The error wrangler put in its JSON answer, else the last words of its stderr. */
function failureReason(failed: { stdout?: string; stderr?: string; message: string }): string {
  const answer = parseJson(failed.stdout ?? '') as { error?: { text?: string } } | null;
  const text = answer?.error?.text ?? lastLines(failed.stderr ?? '') ?? failed.message;
  // The Worker migrates D1 on its first event; before that the tables do not exist.
  const hint = /no such table/i.test(text) ? ' (the Worker creates its tables on its first request: deploy it, or run npm run dev:cf, and open it once)' : '';
  return `${text}${hint}`;
}

function lastLines(text: string): string | null {
  const lines = text.replace(/\x1b\[[0-9;]*m/g, '').split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.length > 0 ? lines.slice(-3).join(' ') : null;
}

function parseJson(text: string): unknown {
  // wrangler may print a notice before the JSON.
  const start = text.search(/^[[{]/m);
  if (start < 0) return null;
  try {
    return JSON.parse(text.slice(start)) as unknown;
  } catch {
    return null;
  }
}

/**
 * Kysely over wrangler, for reads only, so the tools look rows up with the
 * service's own repositories. The queries issued together (`Promise.all`)
 * go in one wrangler run: each run starts wrangler and the database again,
 * a second or more. Writes are recorded and sent as one batch of SQL instead.
 */
export function wranglerD1Reader(target: D1Target): Kysely<Database> {
  let pending: Array<{ sql: string; settle: (rows: unknown[] | Error) => void }> = [];
  const flush = (): void => {
    const batch = pending;
    pending = [];
    void executeD1(
      batch.map((q) => q.sql),
      target,
    ).then(
      (results) => batch.forEach((q, i) => q.settle(results[i] ?? [])),
      (err: Error) => batch.forEach((q) => q.settle(err)),
    );
  };
  const connection: DatabaseConnection = {
    executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
      if (query.query.kind !== 'SelectQueryNode') return Promise.reject(new Error('wranglerD1Reader only reads'));
      return new Promise((resolve, reject) => {
        // Kysely reaches the connection after a few awaits: a macrotask later, every query issued together is here.
        if (pending.length === 0) setImmediate(flush);
        pending.push({ sql: inlineSql(query), settle: (rows) => (rows instanceof Error ? reject(rows) : resolve({ rows: rows as R[] })) });
      });
    },
    async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
      throw new Error('not supported');
    },
  };
  return new Kysely<Database>({ dialect: singleConnectionDialect(connection) });
}
