import { closeSync, existsSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import type { Kysely } from 'kysely';
import { connectDatabase, DatabaseUnavailableError, isPostgresUrl, migrateToLatest, sqlitePath } from '../../db/connect.js';
import { createUser, deactivateUser, findUser, listUsers } from '../../db/repositories/users.repository.js';
import { issueToken, listTokens, revokeToken, revokeUserTokens } from '../../db/repositories/tokens.repository.js';
import { findUserIdByUsername, revokeUserSessions, setCredentials } from '../../db/repositories/web-sessions.repository.js';
import { hashPassword, isValidUsername, normaliseUsername, passwordProblems } from '../auth/password.js';
import type { Database } from '../../db/schema.js';
import { accountProblems, isRole, ROLES } from '../auth/principal.js';
import { expiryOfOptions, expiryText, MAX_TOKEN_DAYS, tokenState } from '../auth/token-lifetime.js';
import { unitView } from '../district/district.schema.js';
import { INSTANT_RULE } from '../domain/service-years.js';
import { loadDistrictFile } from '../district/district-file.js';
import { parseEnv, type Env } from '../env.js';
import { issueLinkToken, LINK_TOKEN_TTL_HOURS, unlink } from '../telegram/links.js';
import { REDELIVER_SINCE, redeliverFailed } from '../workflow/redeliver.js';
import { missingSqliteDatabase, readPasswordFromStdin } from './cli-input.js';
import { ACCOUNT_IDENTIFIERS, ACCOUNT_OPTIONS, CommandError, isEntry, normaliseIdentifier, parseCommandLine, runToolOutcome, toolOutcome, UsageError, type ToolOutcome } from './command-line.js';
import { accountsTable, table } from './table.js';

/**
 * Account administration: `npm run admin -- <command>`. Uses the service's own
 * DATABASE_URL and DISTRICT_CONFIG. A command that issues a token prints it
 * alone on the last line of stdout and nothing after it, so scripts can take
 * it with `tail -n 1`.
 */
const USAGE = `usage: npm run admin -- <command>

  user add --role ${ROLES.join('|')} [--bureau CODE] --name NAME [--label LABEL] [EXPIRY] [--create]
      create an account and its first API token (printed alone on the last line);
      --bureau (a bureau or town / sub-district code of the district file) is
      required for --role bureau and not allowed for the other roles; --create
      creates the SQLite database of DATABASE_URL if it does not exist yet (the
      first account, before the service's first start)
  user list
      every account: id, name, web sign-in username (- if none), role, unit,
      active, live tokens
  user disable --id USER_ID
      deactivate an account and revoke its tokens and web sessions
  user passwd --id USER_ID --username NAME
      set the account's web sign-in name and password; the password is read
      from stdin (one line), e.g. printf '%s\\n' "$PW" | npm run admin -- user passwd …;
      the account's open web sessions end
  token add --user USER_ID [--label LABEL] [EXPIRY]
      issue another token for an account (printed alone on the last line)
  token list --user USER_ID
      the account's tokens: id, label, created, last used, expires, state
      (live, expired or revoked)
  token revoke --token TOKEN | --id TOKEN_ID
      revoke one token

  EXPIRY (optional; without it a token works until revoked):
    --expires-in DAYS   whole days from now, e.g. 90d (1d to ${MAX_TOKEN_DAYS}d)
    --expires-on DATE   the last day it works, YYYY-MM-DD on the district's clock
  telegram-link USER
      a one-time code (printed alone on the last line, valid ${LINK_TOKEN_TTL_HOURS} h) with which the
      account's owner links their Telegram user: they send /link CODE to the bot
      in a private chat. USER is the web username, the account id or its name
  telegram-unlink USER
      remove the account's Telegram link (the user can also send /unlink)
  backup FILE
      a consistent copy of the SQLite database, taken while the service runs
      (one read transaction; writers are not held up), checked and written to
      FILE, which must not exist yet; on PostgreSQL use pg_dump instead
  redeliver --bureau CODE [--since ISO_TIME]
      after a bureau or town office fixed its webhook server or Telegram group:
      every assignment and notice that failed for good to it (since the time,
      if given) is set to go out again; the running service's reconciler
      queues them within a couple of minutes

Reads DATABASE_URL (default ./data/intake.db) and DISTRICT_CONFIG like the service.
A SQLite database must exist (the service creates it on its first start); only
user add --create makes a new one.`;

const OPTIONS = {
  ...ACCOUNT_OPTIONS,
  since: { type: 'string' },
  create: { type: 'boolean' },
} as const;

type Values = ReturnType<typeof parseCommandLine<typeof OPTIONS>>['values'];

interface Output {
  lines: string[];
}

/** Where the tool reads DATABASE_URL, DISTRICT_CONFIG and the rest: the process's environment, or what a test gives. */
type Environment = Record<string, string | undefined>;

async function main(argv: string[], environment: Environment): Promise<Output> {
  const { values, positionals } = parseCommandLine(argv, OPTIONS, ACCOUNT_IDENTIFIERS);
  if (values.help) return { lines: [USAGE] };
  if (positionals.length === 0) throw new UsageError('no command given');
  if (positionals[0] === 'telegram-link' || positionals[0] === 'telegram-unlink') return telegramLink(positionals, values, environment);
  if (positionals[0] === 'backup') return backup(positionals, values, environment);
  const command = positionals.join(' ');
  const known = ['user add', 'user list', 'user disable', 'user passwd', 'token add', 'token list', 'token revoke', 'redeliver'];
  if (!known.includes(command)) throw new UsageError(`unknown command "${command}"`);
  checkOptions(command, values);

  const env = parseEnv(environment);
  // Validate against the district file before touching the database.
  const district = ['user add', 'redeliver', 'token add', 'token list'].includes(command) ? loadDistrictFile(env.DISTRICT_CONFIG) : null;
  const timeZone = district?.file.district.timezone ?? 'UTC';
  const now = new Date();
  // A lifetime is checked before anything is written, as a mistake in the command line.
  const expiry = expiryOfOptions(values, now, timeZone);
  if (expiry && 'problem' in expiry) throw new UsageError(expiry.problem);
  const expiresAt = expiry?.expiresAt ?? null;
  // Said only for a token that expires: without one the line stays as scripts have read it.
  const expiresLine = expiresAt === null ? '' : ` it expires at ${expiryText(expiresAt, timeZone)};`;
  let since: string | undefined;
  if (command === 'redeliver') {
    if (!district!.units.has(values.bureau!)) throw new UsageError(`--bureau: ${values.bureau} is not a bureau or office of the district file`);
    if (values.since !== undefined) {
      // The time as the API's redeliver takes it.
      const checked = REDELIVER_SINCE.safeParse(values.since);
      if (!checked.success) {
        // Only a well-formed time can be out of the years: a word (yesterday) fails both checks, and is no date-time.
        const outOfYears = checked.error.issues.every((i) => i.message === INSTANT_RULE);
        throw new UsageError(`--since: ${outOfYears ? INSTANT_RULE : 'give an ISO 8601 date-time with its offset, e.g. 2026-12-01T00:00:00+08:00'}`);
      }
      since = new Date(checked.data).toISOString();
    }
  }
  if (command === 'user add') {
    const problems = accountProblems({ role: values.role, unitCode: values.bureau ?? null, name: values.name ?? '' }, district!);
    if (problems.length > 0) throw new UsageError(problems.join('; '));
  }
  if (command === 'user passwd' && !isValidUsername(normaliseUsername(values.username!))) {
    throw new UsageError('--username: 2–64 letters, digits, . _ - (starting with a letter or digit)');
  }

  const create = command === 'user add' && values.create === true;
  return withDatabase(env, { create, hint: command === 'user add' ? 'or add --create to create it now' : undefined }, async (db) => {
    const at = now.toISOString();
    switch (command) {
      case 'user add': {
        const role = values.role;
        if (!isRole(role)) throw new UsageError(`unknown role "${role}"`);
        const { user, issued } = await db.transaction().execute(async (trx) => {
          const user = await createUser(trx, { name: values.name!, role, unitCode: values.bureau ?? null, at });
          const issued = await issueToken(trx, { userId: user.id, label: values.label ?? null, at, expiresAt });
          return { user, issued };
        });
        const unit = unitView(district!, user.unitCode);
        return {
          lines: [
            `created ${user.role} account ${user.name}${unit ? ` of ${unit.name} (${unit.code})` : ''}, id ${user.id}`,
            `API token ${issued.id};${expiresLine} shown only now, keep it secret:`,
            issued.token,
          ],
        };
      }
      case 'user list': {
        const users = await listUsers(db, now);
        if (users.length === 0) return { lines: ['no accounts yet: create the first with `npm run admin -- user add --role admin --name NAME`'] };
        return {
          lines: accountsTable(users),
        };
      }
      case 'user disable': {
        const id = values.id!;
        const result = await db.transaction().execute(async (trx) => {
          const user = await findUser(trx, id);
          if (!user) return null;
          const deactivated = await deactivateUser(trx, id, at);
          const revoked = await revokeUserTokens(trx, id, at);
          await revokeUserSessions(trx, id, at);
          return { user, deactivated, revoked };
        });
        if (!result) throw new CommandError(`no user with id ${id}`);
        const state = result.deactivated ? 'disabled' : 'was already disabled:';
        return { lines: [`${state} ${result.user.name} (${id}); revoked ${result.revoked} token(s)`] };
      }
      case 'user passwd': {
        const id = values.id!;
        const username = normaliseUsername(values.username!);
        // Before asking for the password: a mistyped id or a taken name is said at once.
        if (!(await findUser(db, id))) throw new CommandError(`no user with id ${id}`);
        const owner = await findUserIdByUsername(db, username);
        if (owner !== null && owner !== id) throw new CommandError(`the username ${username} belongs to another account`);
        const password = await readPasswordFromStdin();
        const problems = passwordProblems(password);
        if (problems.length > 0) throw new CommandError(problems.join('; '));
        const passwordHash = await hashPassword(password, env.PASSWORD_ITERATIONS);
        const outcome = await db.transaction().execute(async (trx) => {
          const user = await findUser(trx, id);
          if (!user) return 'no_user' as const;
          const holder = await findUserIdByUsername(trx, username);
          if (holder !== null && holder !== id) return 'taken' as const;
          await setCredentials(trx, { userId: id, username, passwordHash, at });
          await revokeUserSessions(trx, id, at);
          return user;
        });
        if (outcome === 'no_user') throw new CommandError(`no user with id ${id}`);
        if (outcome === 'taken') throw new CommandError(`the username ${username} belongs to another account`);
        return { lines: [`${outcome.name} (${id}) signs in on the web as ${username}${outcome.active ? '' : ' (the account is disabled)'}`] };
      }
      case 'token add': {
        const userId = values.user!;
        const user = await findUser(db, userId);
        if (!user) throw new CommandError(`no user with id ${userId}`);
        if (!user.active) throw new CommandError(`the user ${user.name} (${userId}) is disabled`);
        const issued = await issueToken(db, { userId, label: values.label ?? null, at, expiresAt });
        return {
          lines: [`API token ${issued.id} for ${user.name} (${user.role});${expiresLine} shown only now, keep it secret:`, issued.token],
        };
      }
      case 'token list': {
        const userId = values.user!;
        const user = await findUser(db, userId);
        if (!user) throw new CommandError(`no user with id ${userId}`);
        const tokens = await listTokens(db, userId);
        if (tokens.length === 0) return { lines: [`${user.name} (${userId}) has no tokens`] };
        const when = (iso: string | null) => (iso === null ? '-' : expiryText(iso, timeZone));
        return {
          lines: table(
            ['id', 'label', 'created', 'last used', 'expires', 'state'],
            tokens.map((t) => [t.id, t.label ?? '-', when(t.createdAt), when(t.lastUsedAt), t.expiresAt === null ? 'never' : when(t.expiresAt), tokenState(t, now)]),
          ),
        };
      }
      case 'redeliver': {
        const unit = values.bureau!;
        const r = await redeliverFailed({ db, clock: { now: () => new Date() } }, { type: 'system', id: null, role: 'admin' }, { unit, ...(since ? { since } : {}) });
        if (r.deliveries + r.posts + r.notifications === 0) return { lines: [`nothing failed for good to ${unit}${since ? ` since ${since}` : ''}`] };
        return {
          lines: [
            `set to go out again to ${unit}: ${r.deliveries} webhook deliveries, ${r.posts} Telegram group posts, ${r.notifications} notices (${r.cases} cases)`,
            "the running service's reconciler queues them within a couple of minutes",
          ],
        };
      }
      case 'token revoke': {
        const which = values.token !== undefined ? { token: values.token } : { id: values.id! };
        const result = await revokeToken(db, which, at);
        if (result.status === 'not_found') throw new CommandError('no such token');
        return {
          lines: [result.status === 'revoked' ? `revoked token ${result.id}` : `token ${result.id} was already revoked`],
        };
      }
    }
    throw new UsageError(`unknown command "${command}"`);
  });
}

/** telegram-link / telegram-unlink USER: the account by web username, id or (unique) name. */
async function telegramLink(positionals: string[], values: Values, environment: Environment): Promise<Output> {
  const [command, typed, ...rest] = positionals;
  const who = typed === undefined ? '' : normaliseIdentifier(typed);
  if (!who || rest.length > 0) throw new UsageError(`${command} takes one account: ${command} USER`);
  const extra = Object.keys(values).filter((k) => k !== 'help');
  if (extra.length > 0) throw new UsageError(`${command} takes no --${extra[0]}`);
  const env = parseEnv(environment);
  return withDatabase(env, {}, async (db) => {
    const byUsername = await findUserIdByUsername(db, normaliseUsername(who)).catch(() => null);
    let user = await findUser(db, byUsername ?? who);
    if (!user) {
      const named = (await listUsers(db, new Date())).filter((u) => normaliseIdentifier(u.name) === who);
      if (named.length > 1) throw new CommandError(`several accounts are named ${who}: give the account id`);
      user = named[0] ?? null;
    }
    if (!user) throw new CommandError(`no account ${who} (give the web username, the account id or the name)`);
    if (command === 'telegram-unlink') {
      const removed = await unlink(db, { userId: user.id });
      return { lines: [removed ? `unlinked the Telegram user of ${user.name} (${user.id})` : `${user.name} (${user.id}) had no Telegram link`] };
    }
    if (!user.active) throw new CommandError(`the user ${user.name} (${user.id}) is disabled`);
    const issued = await issueLinkToken(db, { userId: user.id, now: new Date() });
    return {
      lines: [
        `Telegram link code for ${user.name} (${user.role}${user.unitCode ? `, ${user.unitCode}` : ''}), valid until ${issued.expiresAt}, usable once.`,
        'Send it to the bot in a private chat as: /link CODE. Shown only now:',
        issued.token,
      ],
    };
  });
}

/**
 * backup FILE: `VACUUM INTO` copies the live SQLite database as of one read
 * transaction (in WAL mode writers go on meanwhile), into FILE.partial (which
 * must not exist either); the
 * copy is checked (quick_check, the cases it holds) and only then renamed to
 * FILE, so a failed backup leaves no file that looks like one.
 */
async function backup(positionals: string[], values: Values, environment: Environment): Promise<Output> {
  const [, target, ...rest] = positionals;
  if (!target || rest.length > 0) throw new UsageError('backup takes one file: backup FILE');
  const extra = Object.keys(values).filter((k) => k !== 'help');
  if (extra.length > 0) throw new UsageError(`backup takes no --${extra[0]}`);
  const env = parseEnv(environment);
  if (isPostgresUrl(env.DATABASE_URL)) {
    throw new CommandError('DATABASE_URL is a PostgreSQL database: back it up with pg_dump, e.g. pg_dump -Fc "$DATABASE_URL" > intake.dump');
  }
  const source = resolve(sqlitePath(env.DATABASE_URL));
  const file = resolve(target);
  if (file === source) throw new CommandError('the backup cannot be the database itself');
  if (existsSync(file)) throw new CommandError(`${target} exists: a backup never overwrites a file`);
  if (!existsSync(source)) throw new CommandError(`no SQLite database at ${source} (DATABASE_URL)`);
  if (!existsSync(dirname(file))) throw new CommandError(`no directory ${dirname(target)} for ${target}`);
  const partial = `${file}.partial`;
  let db: SQLite.Database;
  try {
    db = new SQLite(source, { fileMustExist: true });
  } catch (err) {
    throw new CommandError(`cannot open the SQLite database ${source}: ${(err as Error).message}`);
  }
  // Claimed as an empty file (which VACUUM INTO accepts), never removed when it was there before:
  // it may be another backup to the same FILE still running, or what an interrupted one left.
  try {
    closeSync(openSync(partial, 'wx'));
  } catch (err) {
    db.close();
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new CommandError(`${partial} exists: another backup to ${target} is running, or one was interrupted (remove it if none is running)`);
    }
    throw new CommandError(`cannot write ${partial}: ${(err as Error).message}`);
  }
  try {
    db.pragma('busy_timeout = 5000');
    try {
      db.prepare('select count(*) from cases').pluck().get();
    } catch {
      throw new CommandError(`${source} is not a database of this service (it has no cases table)`);
    }
    db.prepare('VACUUM INTO ?').run(partial);
  } catch (err) {
    rmSync(partial, { force: true });
    if (err instanceof CommandError) throw err;
    throw new CommandError(`backup of ${source} failed: ${(err as Error).message}`);
  } finally {
    db.close();
  }
  let cases: number;
  const copy = new SQLite(partial, { fileMustExist: true });
  try {
    const check = copy.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new CommandError(`the copy of ${source} failed its check (${String(check)}); nothing was written to ${target}`);
    // A backup is one file: no write-ahead log beside it.
    copy.pragma('journal_mode = DELETE');
    cases = copy.prepare('select count(*) from cases').pluck().get() as number;
  } catch (err) {
    copy.close();
    for (const f of [partial, `${partial}-wal`, `${partial}-shm`]) rmSync(f, { force: true });
    throw err instanceof CommandError ? err : new CommandError(`the copy of ${source} cannot be read: ${(err as Error).message}`);
  }
  copy.close();
  renameSync(partial, file);
  const mb = (statSync(file).size / 1_048_576).toFixed(1);
  return { lines: [`backed up ${source} to ${file}: ${cases} cases, ${mb} MB, check ok`] };
}

/** Which options each command takes; anything else is a mistake worth naming. */
function checkOptions(command: string, values: Values): void {
  const allowed: Record<string, { required: Array<keyof Values>; optional: Array<keyof Values> }> = {
    'user add': { required: ['name'], optional: ['role', 'bureau', 'label', 'expires-in', 'expires-on', 'create'] },
    'user list': { required: [], optional: [] },
    'user disable': { required: ['id'], optional: [] },
    'user passwd': { required: ['id', 'username'], optional: [] },
    'token add': { required: ['user'], optional: ['label', 'expires-in', 'expires-on'] },
    'token list': { required: ['user'], optional: [] },
    'token revoke': { required: [], optional: ['token', 'id'] },
    redeliver: { required: ['bureau'], optional: ['since'] },
  };
  const spec = allowed[command]!;
  const problems: string[] = [];
  for (const key of Object.keys(values) as Array<keyof Values>) {
    if (key === 'help') continue;
    if (!spec.required.includes(key) && !spec.optional.includes(key)) problems.push(`${command} takes no --${key}`);
  }
  for (const key of spec.required) {
    const v = values[key];
    if (typeof v !== 'string' || v.trim() === '') problems.push(`--${key} is required`);
  }
  if (command === 'token revoke' && (values.token === undefined) === (values.id === undefined)) {
    problems.push('give exactly one of --token TOKEN or --id TOKEN_ID');
  }
  // `user add` reports a missing --name together with the other account problems.
  if (command === 'user add') {
    const rest = problems.filter((p) => p !== '--name is required');
    if (rest.length > 0) throw new UsageError(rest.join('; '));
    return;
  }
  if (problems.length > 0) throw new UsageError(problems.join('; '));
}

/**
 * Opens (and migrates) the database of DATABASE_URL. A SQLite file that does
 * not exist is refused unless `create`: a mistyped DATABASE_URL must not
 * become a fresh, empty database (and directories) that the service never reads.
 */
async function withDatabase<T>(env: Env, opts: { create?: boolean; hint?: string | undefined }, fn: (db: Kysely<Database>) => Promise<T>): Promise<T> {
  if (!opts.create) {
    const missing = missingSqliteDatabase(env.DATABASE_URL, opts.hint);
    if (missing) throw new CommandError(missing);
  }
  const handle = connectDatabase(env.DATABASE_URL, { poolSize: 2 });
  try {
    try {
      await migrateToLatest(handle.db, handle.where);
    } catch (err) {
      throw new CommandError(err instanceof DatabaseUnavailableError ? err.message : `database ${handle.where}: ${(err as Error).message}`);
    }
    return await fn(handle.db);
  } finally {
    await handle.db.destroy();
  }
}

/** `npm run admin -- …` with these arguments and environment, to its outcome (run in this process by the tests of its refusals). */
export function runAdmin(argv: string[], environment: Environment): Promise<ToolOutcome> {
  // One write, then a natural exit: nothing can follow the token line.
  return toolOutcome('admin', USAGE, async () => (await main(argv, environment)).lines);
}

if (isEntry(import.meta.url)) runToolOutcome(runAdmin(process.argv.slice(2), process.env));
