import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { CompiledQuery } from 'kysely';
import { issueToken, hashToken } from '../../db/repositories/tokens.repository.js';
import { createUser } from '../../db/repositories/users.repository.js';
import { revokeUserSessions, setCredentials } from '../../db/repositories/web-sessions.repository.js';
import { hashPassword, isValidUsername, normaliseUsername, passwordProblems } from '../auth/password.js';
import { accountProblems, isRole, type Role } from '../auth/principal.js';
import { loadDistrictFile } from '../district/district-file.js';
import type { District } from '../district/district.schema.js';
import { recordWrites } from './d1.js';

/**
 * Staff accounts of the Workers deployment. D1 is reached through wrangler,
 * not a connection string, so this tool builds the same rows as
 * `npm run admin` (same repositories, same token hashing), as SQL, and runs
 * them with `wrangler d1 execute` on the local (default) or the remote
 * database. The token is printed once; only its SHA-256 goes to D1.
 *
 *   npm run admin:cf -- user add --role admin --name 管理员 [--remote]
 *   npm run admin:cf -- user add --role bureau --bureau epb --name 张三 [--remote]
 *   printf '%s\n' "$PW" | npm run admin:cf -- user passwd --id USER_ID --username NAME [--remote]
 *   npm run admin:cf -- token add --user USER_ID [--remote]
 *   npm run admin:cf -- token revoke --token TOKEN | --id TOKEN_ID [--remote]
 *   add --print to print the SQL instead of running it
 * The options are those of `npm run admin` (`user passwd --user` is taken too).
 */

/** SQL text with the parameters written in (wrangler d1 execute takes no bound parameters). */
export function inlineSql(query: CompiledQuery): string {
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

export async function userAddSql(
  input: { role: Role; unitCode: string | null; name: string; label?: string | null },
  district: District,
  at = new Date().toISOString(),
): Promise<{ sql: string[]; userId: string; token: string }> {
  const problems = accountProblems({ role: input.role, unitCode: input.unitCode, name: input.name }, district);
  if (problems.length > 0) throw new Error(problems.join('; '));
  let userId = '';
  let token = '';
  const queries = await recordWrites(async (trx) => {
    const user = await createUser(trx, { name: input.name, role: input.role, unitCode: input.unitCode, at });
    userId = user.id;
    token = (await issueToken(trx, { userId: user.id, label: input.label ?? null, at })).token;
  });
  return { sql: queries.map(inlineSql), userId, token };
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
  if (!isValidUsername(username)) throw new Error('--username: 2–64 letters, digits, . _ - (starting with a letter or digit)');
  const problems = passwordProblems(input.password);
  if (problems.length > 0) throw new Error(problems.join('; '));
  const passwordHash = await hashPassword(input.password, iterations);
  const queries = await recordWrites(async (trx) => {
    await setCredentials(trx, { userId: input.userId, username, passwordHash, at });
    await revokeUserSessions(trx, input.userId, at);
  });
  return queries.map(inlineSql);
}

export async function tokenAddSql(userId: string, label: string | null, at = new Date().toISOString()): Promise<{ sql: string[]; token: string }> {
  let token = '';
  const queries = await recordWrites(async (trx) => {
    token = (await issueToken(trx, { userId, label, at })).token;
  });
  return { sql: queries.map(inlineSql), token };
}

/** Revokes one live token, named by the token itself or by its id. */
export function tokenRevokeSql(which: { token: string } | { id: string }, at = new Date().toISOString()): string {
  const [column, value] = 'token' in which ? ['token_hash', hashToken(which.token)] : ['id', which.id];
  return inlineSql({ sql: `UPDATE api_tokens SET revoked_at = ? WHERE ${column} = ? AND revoked_at IS NULL`, parameters: [at, value] } as unknown as CompiledQuery);
}

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  return text;
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      role: { type: 'string' },
      bureau: { type: 'string' },
      name: { type: 'string' },
      label: { type: 'string' },
      user: { type: 'string' },
      id: { type: 'string' },
      username: { type: 'string' },
      token: { type: 'string' },
      district: { type: 'string' },
      remote: { type: 'boolean', default: false },
      print: { type: 'boolean', default: false },
    },
  });
  const command = positionals.join(' ');
  let sql: string[];
  let after: string[] = [];
  switch (command) {
    case 'user add': {
      if (!isRole(values.role)) throw new Error(`--role must be one of operator, bureau, dispatcher, admin`);
      const made = await userAddSql(
        { role: values.role, unitCode: values.bureau ?? null, name: values.name ?? '', label: values.label ?? null },
        loadDistrictFile(values.district),
      );
      sql = made.sql;
      after = [`created ${values.role} account ${values.name}, id ${made.userId}`, 'API token; shown only now, keep it secret:', made.token];
      break;
    }
    case 'user passwd': {
      if (values.id && values.user && values.id !== values.user) throw new Error('give the account once: --id USER_ID (or --user USER_ID)');
      const userId = values.id ?? values.user;
      if (!userId) throw new Error('--id USER_ID is required');
      if (!values.username) throw new Error('--username NAME is required');
      const password = (await readStdin()).split(/\r?\n/)[0] ?? '';
      sql = await userPasswdSql({ userId, username: values.username, password });
      after = [`account ${userId} signs in on the web as ${normaliseUsername(values.username)} (if the id exists)`];
      break;
    }
    case 'token add': {
      if (!values.user) throw new Error('--user USER_ID is required');
      const made = await tokenAddSql(values.user, values.label ?? null);
      sql = made.sql;
      after = ['API token; shown only now, keep it secret:', made.token];
      break;
    }
    case 'token revoke': {
      if (!values.token === !values.id) throw new Error('give --token TOKEN or --id TOKEN_ID');
      sql = [tokenRevokeSql(values.token ? { token: values.token } : { id: values.id! })];
      after = ['token revoked (if it existed and was live)'];
      break;
    }
    default:
      throw new Error(`unknown command "${command}" (user add, user passwd, token add, token revoke)`);
  }
  if (values.print) {
    process.stdout.write(sql.map((s) => `${s};\n`).join(''));
    process.stderr.write(after.map((l) => `${l}\n`).join(''));
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'intake-admin-'));
  try {
    const file = join(dir, 'account.sql');
    writeFileSync(file, sql.map((s) => `${s};\n`).join(''));
    execFileSync('npx', ['wrangler', 'd1', 'execute', 'DB', '--file', file, values.remote ? '--remote' : '--local'], { stdio: ['ignore', 'inherit', 'inherit'] });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(after.map((l) => `${l}\n`).join(''));
}

if (process.argv[1]?.endsWith('admin-cli.ts')) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
