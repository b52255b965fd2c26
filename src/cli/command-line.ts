import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DatabaseUnavailableError } from '../../db/migrate.js';
import { databaseUnavailable } from '../../db/unavailable.js';
import { DistrictConfigError } from '../district/district.schema.js';
import { EnvError } from '../env.js';
import { AppError } from '../errors.js';

/** How the command-line tools (`npm run admin`, `hotline`, `classifier`, `admin:cf`) read their arguments and end. */

/** A mistake in the command line: exit status 2, the message, then the tool's usage. */
export class UsageError extends Error {}

/** The command could not be done (no such user, no database, …): exit status 1 with the message alone. */
export class CommandError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;

/** The options of the account and token commands, which `npm run admin` and `npm run admin:cf` both take. */
export const ACCOUNT_OPTIONS = {
  role: { type: 'string' },
  bureau: { type: 'string' },
  name: { type: 'string' },
  label: { type: 'string' },
  user: { type: 'string' },
  id: { type: 'string' },
  token: { type: 'string' },
  username: { type: 'string' },
  'expires-in': { type: 'string' },
  'expires-on': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The account options that name an account, a token, a unit or a web username, rather than say something new. */
export const ACCOUNT_IDENTIFIERS = ['id', 'user', 'token', 'bureau', 'username'] as const;

/**
 * An identifier as it was copied or typed: from a table with the spaces around it, or with a Chinese input method in
 * full-width mode (ｅｐｂ, an ideographic space after it). Read trimmed and in its NFKC forms, as the sign-in reads a
 * username; ids, tokens and codes are ASCII, so nothing else is changed.
 */
export function normaliseIdentifier(value: string): string {
  return value.normalize('NFKC').trim();
}

/**
 * The options and positionals of `argv`, strictly: an unknown option, a
 * missing value or an option given twice (parseArgs would keep only the
 * last) is a UsageError naming it. `given` holds the options typed. The
 * string options named in `identifiers` are read through `normaliseIdentifier`.
 */
export function parseCommandLine<const O extends Options>(argv: string[], options: O, identifiers: readonly string[] = []) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true, tokens: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const given = new Set<string>();
  for (const t of parsed.tokens) {
    if (t.kind !== 'option') continue;
    if (given.has(t.name)) throw new UsageError(`--${t.name} is given more than once`);
    given.add(t.name);
  }
  const values: Record<string, unknown> = parsed.values;
  for (const name of identifiers) {
    const v = values[name];
    if (typeof v === 'string') values[name] = normaliseIdentifier(v);
  }
  return { values: parsed.values, positionals: parsed.positionals, given };
}

/** Errors whose message is the whole story for the person at the terminal: said in one line, without a stack trace. */
function expected(err: unknown): err is Error {
  return (
    err instanceof CommandError ||
    err instanceof AppError ||
    err instanceof DatabaseUnavailableError ||
    err instanceof EnvError ||
    err instanceof DistrictConfigError
  );
}

/** How a run of a tool ended: its exit status and what it wrote. */
export interface ToolOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The exit status and stderr of a failed run: 2 with the usage for a
 * UsageError, 1 with one line for an expected failure (an AppError's fields
 * named), 1 with the stack for anything else — unless `oneLine` says every
 * failure is told in one line.
 */
export function failureOf(tool: string, usage: string, err: unknown, opts: { oneLine?: boolean } = {}): { code: number; stderr: string } {
  if (err instanceof UsageError) return { code: 2, stderr: `${tool}: ${err.message}\n\n${usage}\n` };
  // A database locked by another process past the busy timeout, a server gone away: no fault of the tool, told in one line.
  if (!expected(err) && err instanceof Error && databaseUnavailable(err)) {
    return { code: 1, stderr: `${tool}: the database cannot be used now: ${err.message}${/locked|busy/i.test(err.message) ? ' (another process holds it: try again)' : ''}\n` };
  }
  if (expected(err) || (opts.oneLine && err instanceof Error)) {
    // A field whose problem the message already says (the CSV header's, a message listing its fields') is not said twice.
    const named = err instanceof AppError && err.fields ? Object.entries(err.fields).filter(([, v]) => !err.message.includes(v)) : [];
    const fields = named.length > 0 ? ` (${named.map(([k, v]) => `${k}: ${v}`).join('; ')})` : '';
    return { code: 1, stderr: `${tool}: ${err.message}${fields}\n` };
  }
  return { code: 1, stderr: `${tool}: failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n` };
}

/**
 * A tool whose `main` answers with the lines it prints, run to its outcome:
 * the lines and status 0, or nothing on stdout and the failure. What its
 * process does (`runToolOutcome`) and what a test in the same process sees.
 */
export async function toolOutcome(tool: string, usage: string, main: () => Promise<string[]>): Promise<ToolOutcome> {
  try {
    const lines = await main();
    return { code: 0, stdout: `${lines.join('\n')}\n`, stderr: '' };
  } catch (err) {
    return { stdout: '', ...failureOf(tool, usage, err) };
  }
}

/** Writes an outcome as the process's output and exit status (one write each, then a natural exit). */
export function runToolOutcome(outcome: Promise<ToolOutcome>): void {
  void outcome.then(({ code, stdout, stderr }) => {
    if (stdout) process.stdout.write(stdout);
    if (stderr) process.stderr.write(stderr);
    process.exitCode = code;
  });
}

/**
 * Runs a tool's `main` and sets the exit status: what `main` returns (0 when
 * nothing), or the failure's (`failureOf`).
 */
export function runTool(tool: string, usage: string, main: () => Promise<number | void>, opts: { oneLine?: boolean } = {}): void {
  main().then(
    (code) => {
      process.exitCode = code ?? 0;
    },
    (err: unknown) => {
      const failed = failureOf(tool, usage, err, opts);
      process.stderr.write(failed.stderr);
      process.exitCode = failed.code;
    },
  );
}

/** True in the module the process was started with (`node --import tsx src/cli/admin.ts`), not when a test imports it. */
export function isEntry(moduleUrl: string): boolean {
  const started = process.argv[1];
  return started !== undefined && resolve(started) === fileURLToPath(moduleUrl);
}
