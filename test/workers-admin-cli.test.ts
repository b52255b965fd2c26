import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Miniflare } from 'miniflare';
import { beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest } from '../db/migrate.js';
import { createLogger } from '../src/logger.js';
import { connectD1 } from '../src/worker/d1.js';
import { createLogScope } from '../src/worker/log-scope.js';
import { type CliRun, compiled, runCli, tempDir } from './harness.js';

/**
 * `npm run admin:cf` against a real local D1 database, through the real
 * `wrangler d1 execute`: the database of wrangler.toml, kept in a directory of
 * this test (`--persist-to`, as `wrangler dev --persist-to` takes it) and
 * migrated beforehand as the Worker does on its first request.
 */

const ROOT = join(import.meta.dirname, '..');
const DATABASE_ID = /database_id\s*=\s*"([^"]+)"/.exec(readFileSync(join(ROOT, 'wrangler.toml'), 'utf8'))![1]!;

// Each command is a Node process and one or more wrangler runs: allow for a busy machine.
describe('npm run admin:cf on a local D1 database', { timeout: 120_000 }, () => {
  const persistTo = tempDir('intake-d1-');

  const adminCf = (args: string[], input = ''): Promise<CliRun> =>
    runCli(compiled('src/worker/admin-cli.ts'), [...args, '--persist-to', persistTo], {
      env: { WRANGLER_SEND_METRICS: 'false', CI: '1' },
      input,
    });

  /** The rows of the accounts and tokens, read from the local D1 file itself. */
  const snapshot = (): unknown => {
    const dir = join(persistTo, 'v3/d1/miniflare-D1DatabaseObject');
    const file = readdirSync(dir).find((f) => f.endsWith('.sqlite') && f !== 'metadata.sqlite')!;
    const db = new SQLite(join(dir, file), { readonly: true });
    try {
      return {
        users: db.prepare('select * from users order by id').all(),
        tokens: db.prepare('select * from api_tokens order by id').all(),
        sessions: db.prepare('select * from web_sessions order by id').all(),
      };
    } finally {
      db.close();
    }
  };

  beforeAll(async () => {
    const mf = new Miniflare({
      modules: true,
      script: 'export default { fetch() { return new Response(null, { status: 404 }); } }',
      d1Databases: { DB: DATABASE_ID },
      d1Persist: join(persistTo, 'v3/d1'),
    });
    try {
      await migrateToLatest(connectD1((await mf.getD1Database('DB')) as never, createLogScope(createLogger('silent'))));
    } finally {
      await mf.dispose();
    }
  }, 60_000);

  let userId: string;
  let tokenId: string;

  it('makes an account, printing its id and its token id, and lists it', async () => {
    const add = await adminCf(['user', 'add', '--role', 'bureau', '--bureau', 'epb', '--name', '张三']);
    expect(add.code, add.stderr).toBe(0);
    const lines = add.stdout.trimEnd().split('\n');
    userId = /^created bureau account 张三 of 区环保局 \(epb\), id (\S+)$/.exec(lines[0]!)![1]!;
    tokenId = /^API token (\S+); shown only now, keep it secret:$/.exec(lines[1]!)![1]!;
    expect(lines[2]).toMatch(/^eci_/);
    expect(lines).toHaveLength(3);

    const list = await adminCf(['user', 'list']);
    expect(list.code, list.stderr).toBe(0);
    const rows = list.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^id\s+name\s+username\s+role\s+unit\s+active\s+tokens$/);
    expect(rows.find((r) => r.startsWith(userId))).toMatch(/张三\s+-\s+bureau\s+epb\s+yes\s+1$/);
  });

  it('issues another token, revokes one by the printed id, and says when it was revoked already', async () => {
    const added = await adminCf(['token', 'add', '--user', userId, '--label', 'second']);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/^API token \S+ for 张三 \(bureau\); shown only now, keep it secret:\neci_\S+\n$/);

    const revoked = await adminCf(['token', 'revoke', '--id', tokenId]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toBe(`revoked token ${tokenId}\n`);
    const again = await adminCf(['token', 'revoke', '--id', tokenId]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe(`token ${tokenId} was already revoked\n`);
    const { tokens } = snapshot() as { tokens: Array<{ id: string; revoked_at: string | null }> };
    expect(tokens.map((t) => [t.id === tokenId, t.revoked_at !== null]).sort()).toEqual([[false, false], [true, true]]);
  });

  it('issues a token with an expiry, lists it with its expiry, and refuses a lifetime it cannot read', async () => {
    const added = await adminCf(['token', 'add', '--user', userId, '--label', 'until mid-2030', '--expires-on', '2030-06-30']);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/^API token (\S+) for 张三 \(bureau\); it expires at 2030-07-01T00:00:00\+08:00; shown only now, keep it secret:\neci_\S+\n$/);
    const id = /^API token (\S+)/.exec(added.stdout)![1]!;
    const { tokens } = snapshot() as { tokens: Array<{ id: string; expires_at: string | null }> };
    expect(tokens.find((t) => t.id === id)?.expires_at).toBe('2030-06-30T16:00:00.000Z');

    const list = await adminCf(['token', 'list', '--user', userId]);
    expect(list.code, list.stderr).toBe(0);
    const rows = list.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^id\s+label\s+created\s+last used\s+expires\s+state$/);
    expect(rows.find((r) => r.startsWith(id))).toMatch(/until mid-2030 .*2030-07-01T00:00:00\+08:00\s+live$/);

    const before = snapshot();
    const bad = await adminCf(['token', 'add', '--user', userId, '--expires-in', '90']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.split('\n\n')[0]).toBe('admin:cf: --expires-in: give whole days from now, 1d to 3650d (e.g. 90d), not "90"');
    expect(bad.stdout).toBe('');
    expect(snapshot()).toEqual(before);
    // The account keeps one live token, as the tests after this one expect.
    expect((await adminCf(['token', 'revoke', '--id', id])).code).toBe(0);
  });

  it('sets a web sign-in, checking the account before reading the password', async () => {
    const run = await adminCf(['user', 'passwd', '--id', userId, '--username', 'ZhangSan'], 'a long enough password\n');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(`张三 (${userId}) signs in on the web as zhangsan\n`);
    const { users } = snapshot() as { users: Array<{ id: string; username: string | null; password_hash: string | null }> };
    expect(users.find((u) => u.id === userId)).toMatchObject({ username: 'zhangsan', password_hash: expect.stringMatching(/^pbkdf2-sha256\$100000\$/) });
    // `user list` names it.
    const list = await adminCf(['user', 'list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout.split('\n').find((r) => r.startsWith(userId))).toMatch(/张三\s+zhangsan\s+bureau\s+epb\s+yes\s+\d+$/);
  });

  it('refuses an unknown account or token, saying what is wrong, and changes nothing', async () => {
    const before = snapshot();
    // One after the other: several wrangler runs on one local D1 file at once may find it locked.
    const tokenAdd = await adminCf(['token', 'add', '--user', 'no-such']);
    // Nothing on stdin: a password read first would be refused as too short.
    const passwd = await adminCf(['user', 'passwd', '--id', 'no-such', '--username', 'ghost']);
    const revoke = await adminCf(['token', 'revoke', '--id', 'nope']);
    const disable = await adminCf(['user', 'disable', '--id', 'no-such']);
    for (const [run, message] of [
      [tokenAdd, 'no user with id no-such in the local D1 database DB'],
      [passwd, 'no user with id no-such in the local D1 database DB'],
      [revoke, 'no such token in the local D1 database DB'],
      [disable, 'no user with id no-such in the local D1 database DB'],
    ] as const) {
      expect(run.code, run.stdout).toBe(1);
      expect(run.stderr).toBe(`admin:cf: ${message} in ${persistTo}\n`);
      expect(run.stdout).toBe('');
    }
    expect(snapshot()).toEqual(before);
  });

  it('disables an account with its tokens and sessions, and then issues it no token', async () => {
    // The id as copied from the list's column, spaces around it: read as the id.
    const disabled = await adminCf(['user', 'disable', '--id', `  ${userId}\u3000`]);
    expect(disabled.code, disabled.stderr).toBe(0);
    expect(disabled.stdout).toBe(`disabled 张三 (${userId}); revoked 1 token(s)\n`);
    const after = snapshot() as { users: Array<{ id: string; active: number }>; tokens: Array<{ revoked_at: string | null }> };
    expect(after.users.find((u) => u.id === userId)?.active).toBe(0);
    expect(after.tokens.every((t) => t.revoked_at !== null)).toBe(true);

    const refused = await adminCf(['token', 'add', '--user', ` ${userId} `]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(`admin:cf: the user 张三 (${userId}) is disabled\n`);
    expect(refused.stdout).toBe('');
    expect(snapshot()).toEqual(after);
  });

  it('refuses an option given twice, or an unknown command, as a usage mistake (exit status 2, with the usage)', async () => {
    const twice = await adminCf(['user', 'add', '--role', 'operator', '--name', '赵六', '--name', '钱七']);
    const unknown = await adminCf(['user', 'rename', '--id', 'someone']);
    for (const [run, message] of [
      [twice, '--name is given more than once'],
      [unknown, 'unknown command "user rename"'],
    ] as const) {
      expect(run.code).toBe(2);
      expect(run.stderr.split('\n\n')[0]).toBe(`admin:cf: ${message}`);
      expect(run.stderr).toContain('\n\nusage: npm run admin:cf -- <command>');
      expect(run.stdout).toBe('');
    }
  });

  it("refuses an option of another command, before looking anything up", async () => {
    const before = snapshot();
    const run = await adminCf(['token', 'add', '--user', 'someone', '--name', '张三']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^admin:cf: token add takes no --name\n\nusage: /);
    expect(snapshot()).toEqual(before);
  });
});
