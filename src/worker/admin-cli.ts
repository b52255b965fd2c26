import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { issueToken, hashToken, listTokens, revokeUserTokens } from '../../db/repositories/tokens.repository.js';
import { createUser, deactivateUser, findUser, listUsers } from '../../db/repositories/users.repository.js';
import { findUserIdByUsername, revokeUserSessions, setCredentials } from '../../db/repositories/web-sessions.repository.js';
import { hashPassword, isValidUsername, normaliseUsername, passwordProblems } from '../auth/password.js';
import { accountProblems, isRole, ROLES, type Role } from '../auth/principal.js';
import { expiryOfOptions, expiryText, MAX_TOKEN_DAYS, tokenState } from '../auth/token-lifetime.js';
import { loadDistrictFile } from '../district/district-file.js';
import { unitView, type District } from '../district/district.schema.js';
import { recordWrites } from './d1.js';
import { readPasswordFromStdin } from '../cli/cli-input.js';
import { ACCOUNT_IDENTIFIERS, ACCOUNT_OPTIONS, CommandError, isEntry, parseCommandLine, runTool, UsageError } from '../cli/command-line.js';
import { accountsTable, table } from '../cli/table.js';
import { describeTarget, executeD1, inlineSql, wranglerD1Reader, type D1Target } from './wrangler-d1.js';

export { inlineSql };

/**
 * Staff accounts of the Workers deployment. D1 is reached through wrangler,
 * not a connection string, so this tool builds the same rows as
 * `npm run admin` (same repositories, same token hashing), as SQL, and runs
 * them with `wrangler d1 execute` on the local (default) or the remote
 * database. The token is printed once; only its SHA-256 goes to D1. What a
 * command needs to find first (the account, the token) is looked up through
 * wrangler too, so a wrong id is said and nothing is written. Each wrangler
 * run takes seconds, so a command makes as few as it can: the lookups of a
 * command go in one run, and a change that matches no row when the lookup
 * finds nothing (disabling an account, revoking a token) is sent in the same
 * run as its lookup.
 */
const USAGE = `usage: npm run admin:cf -- <command> [--remote] [--persist-to DIR] [--print]

  user add --role ${ROLES.join('|')} [--bureau CODE] --name NAME [--label LABEL] [EXPIRY] [--district FILE]
  user list
  user disable --id USER_ID
  user passwd --id USER_ID --username NAME      (the password: one line on stdin)
  token add --user USER_ID [--label LABEL] [EXPIRY] [--district FILE]
  token list --user USER_ID [--district FILE]
  token revoke --token TOKEN | --id TOKEN_ID

EXPIRY (optional; without it a token works until revoked): --expires-in DAYS
(whole days from now, e.g. 90d, 1d to ${MAX_TOKEN_DAYS}d) or --expires-on DATE (the last
day it works, YYYY-MM-DD on the district's clock).

The local D1 database (.wrangler/, or --persist-to DIR as wrangler dev takes it)
unless --remote. --print prints the SQL of a change instead of running it,
without looking anything up.`;

/** Which options each command takes besides where the database is (an option of another command is a mistake worth naming). */
const COMMAND_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  'user add': ['role', 'bureau', 'name', 'label', 'expires-in', 'expires-on', 'district'],
  'user list': [],
  'user disable': ['id'],
  'user passwd': ['id', 'user', 'username'],
  'token add': ['user', 'label', 'expires-in', 'expires-on', 'district'],
  'token list': ['user', 'district'],
  'token revoke': ['token', 'id'],
};
const TARGET_OPTIONS: readonly string[] = ['remote', 'persist-to', 'print', 'help'];

export async function userAddSql(
  input: { role: Role; unitCode: string | null; name: string; label?: string | null; expiresAt?: string | null },
  district: District,
  at = new Date().toISOString(),
): Promise<{ sql: string[]; userId: string; tokenId: string; token: string }> {
  const problems = accountProblems({ role: input.role, unitCode: input.unitCode, name: input.name }, district);
  if (problems.length > 0) throw new UsageError(problems.join('; '));
  let userId = '';
  let tokenId = '';
  let token = '';
  const queries = await recordWrites(async (trx) => {
    const user = await createUser(trx, { name: input.name, role: input.role, unitCode: input.unitCode, at });
    userId = user.id;
    ({ id: tokenId, token } = await issueToken(trx, { userId: user.id, label: input.label ?? null, at, expiresAt: input.expiresAt ?? null }));
  });
  return { sql: queries.map(inlineSql), userId, tokenId, token };
}

/** Workers refuse PBKDF2 above this many iterations; wrangler.toml sets PASSWORD_ITERATIONS to it. */
export const WORKERS_PASSWORD_ITERATIONS = 100_000;

/** The web sign-in name and password of an account, as SQL; its open web sessions end. */
export async function userPasswdSql(
  input: { userId: string; username: string; password: string },
  iterations = WORKERS_PASSWORD_ITERATIONS,
  at = new Date().toISOString(),
): Promise<string[]> {
  const username = normaliseUsername(input.username);
  if (!isValidUsername(username)) throw new UsageError('--username: 2–64 letters, digits, . _ - (starting with a letter or digit)');
  const problems = passwordProblems(input.password);
  if (problems.length > 0) throw new CommandError(problems.join('; '));
  const passwordHash = await hashPassword(input.password, iterations);
  const queries = await recordWrites(async (trx) => {
    await setCredentials(trx, { userId: input.userId, username, passwordHash, at });
    await revokeUserSessions(trx, input.userId, at);
  });
  return queries.map(inlineSql);
}

export async function tokenAddSql(
  userId: string,
  label: string | null,
  at = new Date().toISOString(),
  expiresAt: string | null = null,
): Promise<{ sql: string[]; tokenId: string; token: string }> {
  let tokenId = '';
  let token = '';
  const queries = await recordWrites(async (trx) => {
    ({ id: tokenId, token } = await issueToken(trx, { userId, label, at, expiresAt }));
  });
  return { sql: queries.map(inlineSql), tokenId, token };
}

/** Revokes one live token, named by the token itself or by its id. */
export function tokenRevokeSql(which: { token: string } | { id: string }, at = new Date().toISOString()): string {
  const [column, value] = 'token' in which ? ['token_hash', hashToken(which.token)] : ['id', which.id];
  return inlineSql({ sql: `UPDATE api_tokens SET revoked_at = ? WHERE ${column} = ? AND revoked_at IS NULL`, parameters: [at, value] });
}

/** Disables an account, revokes its tokens and ends its web sessions, as `npm run admin -- user disable` does. */
export async function userDisableSql(userId: string, at = new Date().toISOString()): Promise<string[]> {
  const queries = await recordWrites(async (trx) => {
    await deactivateUser(trx, userId, at);
    await revokeUserTokens(trx, userId, at);
    await revokeUserSessions(trx, userId, at);
  });
  return queries.map(inlineSql);
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals, given: seen } = parseCommandLine(
    argv,
    {
      ...ACCOUNT_OPTIONS,
      district: { type: 'string' },
      remote: { type: 'boolean', default: false },
      'persist-to': { type: 'string' },
      print: { type: 'boolean', default: false },
    },
    ACCOUNT_IDENTIFIERS,
  );
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const command = positionals.join(' ');
  const takes = COMMAND_OPTIONS[command];
  if (takes) {
    const foreign = [...seen].filter((name) => !takes.includes(name) && !TARGET_OPTIONS.includes(name));
    if (foreign.length > 0) throw new UsageError(foreign.map((name) => `${command} takes no --${name}`).join('; '));
  }
  if (values.remote && values['persist-to'] !== undefined) throw new UsageError('--persist-to names a local database: not with --remote');
  const target: D1Target = { remote: values.remote, persistTo: values['persist-to'] };
  const where = describeTarget(target);
  // Lookups go through wrangler; --print looks nothing up (it may have no database at hand).
  const reader = (): Kysely<Database> | null => (values.print ? null : wranglerD1Reader(target));
  const now = new Date();
  // The district file (its time zone) only for what issues or lists tokens; a lifetime is checked before anything is looked up.
  const district = ['user add', 'token add', 'token list'].includes(command) ? loadDistrictFile(values.district) : null;
  const timeZone = district?.file.district.timezone ?? 'UTC';
  const expiry = expiryOfOptions(values, now, timeZone);
  if (expiry && 'problem' in expiry) throw new UsageError(expiry.problem);
  const expiresAt = expiry?.expiresAt ?? null;
  // Said only for a token that expires: without one the line stays as scripts have read it.
  const expiresLine = expiresAt === null ? '' : ` it expires at ${expiryText(expiresAt, timeZone)};`;
  let sql: string[];
  let after: string[];
  switch (command) {
    case 'user add': {
      if (!isRole(values.role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
      const made = await userAddSql(
        { role: values.role, unitCode: values.bureau ?? null, name: values.name ?? '', label: values.label ?? null, expiresAt },
        district!,
        now.toISOString(),
      );
      const unit = unitView(district!, values.bureau ?? null);
      sql = made.sql;
      after = [
        `created ${values.role} account ${values.name!.trim()}${unit ? ` of ${unit.name} (${unit.code})` : ''}, id ${made.userId}`,
        `API token ${made.tokenId};${expiresLine} shown only now, keep it secret:`,
        made.token,
      ];
      break;
    }
    case 'user list': {
      const db = reader();
      if (!db) throw new UsageError('user list only reads: run it without --print');
      const users = await listUsers(db, now);
      const lines =
        users.length === 0
          ? [`no accounts yet in ${where}: create the first with \`npm run admin:cf -- user add --role admin --name NAME\``]
          : accountsTable(users);
      process.stdout.write(`${lines.join('\n')}\n`);
      return;
    }
    case 'user disable': {
      const id = values.id;
      if (!id) throw new UsageError('--id USER_ID is required');
      sql = await userDisableSql(id);
      const db = reader();
      if (!db) {
        after = [`the SQL disables account ${id} and revokes its tokens and web sessions (--print: nothing was looked up)`];
        break;
      }
      // The account as it was, read in the same wrangler run as the change (one batch, in order):
      // for an unknown id the change matches no row.
      const [users, live] = await executeD1(
        [
          inlineSql(db.selectFrom('users').select(['name', 'active']).where('id', '=', id).compile()),
          inlineSql(db.selectFrom('api_tokens').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', id).where('revoked_at', 'is', null).compile()),
          ...sql,
        ],
        target,
      );
      const user = users?.[0] as { name: string; active: number } | undefined;
      if (!user) throw new CommandError(`no user with id ${id} in ${where}`);
      const revoked = Number((live?.[0] as { n: number } | undefined)?.n ?? 0);
      process.stdout.write(`${user.active ? 'disabled' : 'was already disabled:'} ${user.name} (${id}); revoked ${revoked} token(s)\n`);
      return;
    }
    case 'user passwd': {
      if (values.id && values.user && values.id !== values.user) throw new UsageError('give the account once: --id USER_ID (or --user USER_ID)');
      const userId = values.id ?? values.user;
      if (!userId) throw new UsageError('--id USER_ID is required');
      if (!values.username) throw new UsageError('--username NAME is required');
      const username = normaliseUsername(values.username);
      if (!isValidUsername(username)) throw new UsageError('--username: 2–64 letters, digits, . _ - (starting with a letter or digit)');
      // The account and the name are checked before the password is asked for.
      const db = reader();
      const [user, holder] = db ? await Promise.all([findUser(db, userId), findUserIdByUsername(db, username)]) : [null, null];
      if (db && !user) throw new CommandError(`no user with id ${userId} in ${where}`);
      if (holder !== null && holder !== userId) throw new CommandError(`the username ${username} belongs to another account`);
      sql = await userPasswdSql({ userId, username, password: await readPasswordFromStdin() });
      after = user
        ? [`${user.name} (${userId}) signs in on the web as ${username}${user.active ? '' : ' (the account is disabled)'}`]
        : [`the SQL lets account ${userId} sign in on the web as ${username} (--print: nothing was looked up)`];
      break;
    }
    case 'token add': {
      if (!values.user) throw new UsageError('--user USER_ID is required');
      const db = reader();
      const user = db ? await findUser(db, values.user) : null;
      if (db && !user) throw new CommandError(`no user with id ${values.user} in ${where}`);
      if (user && !user.active) throw new CommandError(`the user ${user.name} (${user.id}) is disabled`);
      const made = await tokenAddSql(values.user, values.label ?? null, now.toISOString(), expiresAt);
      sql = made.sql;
      after = [`API token ${made.tokenId}${user ? ` for ${user.name} (${user.role})` : ''};${expiresLine} shown only now, keep it secret:`, made.token];
      break;
    }
    case 'token list': {
      if (!values.user) throw new UsageError('--user USER_ID is required');
      const db = reader();
      if (!db) throw new UsageError('token list only reads: run it without --print');
      const [user, tokens] = await Promise.all([findUser(db, values.user), listTokens(db, values.user)]);
      if (!user) throw new CommandError(`no user with id ${values.user} in ${where}`);
      const when = (iso: string | null) => (iso === null ? '-' : expiryText(iso, timeZone));
      const lines =
        tokens.length === 0
          ? [`${user.name} (${user.id}) has no tokens`]
          : table(
              ['id', 'label', 'created', 'last used', 'expires', 'state'],
              tokens.map((t) => [t.id, t.label ?? '-', when(t.createdAt), when(t.lastUsedAt), t.expiresAt === null ? 'never' : when(t.expiresAt), tokenState(t, now)]),
            );
      process.stdout.write(`${lines.join('\n')}\n`);
      return;
    }
    case 'token revoke': {
      if (!values.token === !values.id) throw new UsageError('give --token TOKEN or --id TOKEN_ID');
      const which: { token: string } | { id: string } = values.token ? { token: values.token } : { id: values.id! };
      const db = reader();
      if (!db) {
        sql = [tokenRevokeSql(which)];
        after = ['the SQL revokes the token if it exists and is live (--print: nothing was looked up)'];
        break;
      }
      // Looked up in the same wrangler run as the revocation, which takes only a live token.
      const query = db.selectFrom('api_tokens').select(['id', 'revoked_at']);
      const lookup = 'id' in which ? query.where('id', '=', which.id) : query.where('token_hash', '=', hashToken(which.token));
      const [rows] = await executeD1([inlineSql(lookup.compile()), tokenRevokeSql(which)], target);
      const row = rows?.[0] as { id: string; revoked_at: string | null } | undefined;
      if (!row) throw new CommandError(`no such token in ${where}`);
      process.stdout.write(row.revoked_at !== null ? `token ${row.id} was already revoked\n` : `revoked token ${row.id}\n`);
      return;
    }
    default:
      throw new UsageError(command ? `unknown command "${command}"` : 'no command given');
  }
  if (values.print) {
    process.stdout.write(sql.map((s) => `${s};\n`).join(''));
    process.stderr.write(after.map((l) => `${l}\n`).join(''));
    return;
  }
  await executeD1(sql, target);
  process.stdout.write(after.map((l) => `${l}\n`).join(''));
}

if (isEntry(import.meta.url)) {
  // wrangler's failures are told in one line too: its own output above says the rest.
  runTool('admin:cf', USAGE, () => main(process.argv.slice(2)), { oneLine: true });
}
