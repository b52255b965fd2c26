import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { runAdmin } from '../src/cli/admin.js';
import type { Service } from '../src/runtime.js';
import { bodyOf, runCli, startTestService, tempDir, testEnv, type CliRun } from './harness.js';


/** Runs the admin tool as its own process, the way `npm run admin -- …` does. */
function admin(databaseUrl: string, ...args: string[]): Promise<CliRun> {
  return runCli('admin', args, { env: { DATABASE_URL: databaseUrl, DISTRICT_CONFIG: '' } });
}

/**
 * The same tool run in this process, to the same outcome (what it prints, its
 * exit status): for its refusals, which need no Node process of their own each.
 */
function adminHere(databaseUrl: string, ...args: string[]): Promise<CliRun> {
  return runAdmin(args, { ...process.env, DATABASE_URL: databaseUrl, DISTRICT_CONFIG: '' });
}

/** The last line of stdout, where a token is printed alone. */
const lastLine = (out: string): string => out.replace(/\n$/, '').split('\n').at(-1) ?? '';

// Every command is a fresh Node process compiling TypeScript: allow for a busy machine.
describe('npm run admin', { timeout: 60_000 }, () => {
  const dbPath = join(tempDir(), 'intake.db');
  let service: Service & { url: string };
  let epbToken: string;
  let epbAdd: CliRun;

  const me = (token: string) => fetch(`${service.url}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });

  beforeAll(async () => {
    // The first account, before the service's first start: --create makes and migrates the database; the service then opens the same file.
    epbAdd = await admin(dbPath, 'user', 'add', '--role', 'bureau', '--bureau', 'epb', '--name', '张三', '--create');
    epbToken = lastLine(epbAdd.stdout);
    service = await startTestService(testEnv('cli', { DATABASE_URL: dbPath }), 'api');
  });

  it('creates a bureau account and prints its token alone on the last line', async () => {
    expect(epbAdd.code, epbAdd.stderr).toBe(0);
    expect(epbAdd.stdout).toMatch(/\n$/);
    expect(epbToken).toMatch(/^eci_[A-Za-z0-9_-]{43}$/);
    expect(epbAdd.stdout).toContain('张三');
    const res = await me(epbToken);
    const body = await bodyOf(res);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ name: '张三', role: 'bureau', unit: { code: 'epb', name: '区环保局' } });
  });

  it('takes a sub-district office as the bureau of an account', async () => {
    const run = await admin(dbPath, 'user', 'add', '--role', 'bureau', '--bureau', 'xinglong', '--name', '李四');
    expect(run.code, run.stderr).toBe(0);
    const body = await bodyOf(await me(lastLine(run.stdout)));
    expect(body).toMatchObject({ name: '李四', role: 'bureau', unit: { code: 'xinglong', name: '兴隆办事处' } });
  });

  it('creates the first admin, without a unit', async () => {
    const run = await admin(dbPath, 'user', 'add', '--role', 'admin', '--name', 'Root', '--label', 'setup');
    expect(run.code, run.stderr).toBe(0);
    expect(await bodyOf(await me(lastLine(run.stdout)))).toMatchObject({ name: 'Root', role: 'admin', unit: null });
  });

  // Each refusal touches nothing shared: run them side by side.
  it.concurrent.each([
    ['an unknown role', ['--role', 'boss', '--name', 'X'], 'unknown role "boss"'],
    ['a bureau not in the district file', ['--role', 'bureau', '--bureau', 'nowhere', '--name', 'X'], 'unknown bureau "nowhere"'],
    ['a bureau role without --bureau', ['--role', 'bureau', '--name', 'X'], '--bureau'],
    ['a district-wide role with --bureau', ['--role', 'dispatcher', '--bureau', 'epb', '--name', 'X'], 'takes no --bureau'],
    ['no name', ['--role', 'operator'], 'name is required'],
    ['no role', ['--name', 'X'], 'role is required'],
    ['an unknown option', ['--role', 'operator', '--name', 'X', '--colour', 'red'], "'--colour'"],
  ])('refuses %s, naming the problem', async (_what, args, problem) => {
    const run = await adminHere(dbPath, 'user', 'add', ...args);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(problem);
    expect(run.stdout).not.toMatch(/eci_/);
  });

  it('refuses a DATABASE_URL whose SQLite file is empty, and leaves it empty', async () => {
    const empty = join(tempDir(), 'touched.db');
    writeFileSync(empty, '');
    const run = await adminHere(empty, 'user', 'list');
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(`no SQLite database at ${empty}, an empty file (DATABASE_URL=${empty})`);
    expect(statSync(empty).size).toBe(0);
  });

  it('refuses a DATABASE_URL whose SQLite file does not exist, and creates nothing', async () => {
    const dir = join(tempDir(), 'typo');
    const missing = join(dir, 'intake.db');
    const commands = [['user', 'list'], ['user', 'add', '--role', 'operator', '--name', 'X'], ['token', 'revoke', '--id', 'x'], ['telegram-link', 'x']];
    const [list, add, revoke, link] = await Promise.all(commands.map((args) => adminHere(missing, ...args)));
    for (const run of [list!, add!, revoke!, link!]) {
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toContain(`no SQLite database at ${missing} (DATABASE_URL=${missing})`);
      expect(run.stdout).toBe('');
    }
    // Only user add offers --create.
    expect(add!.stderr).toContain('add --create');
    expect(list!.stderr).not.toContain('--create');
    expect(existsSync(dir)).toBe(false);
    const [relative, listCreate] = await Promise.all([
      // Relative to the working directory, which the message resolves.
      adminHere('./no-such-dir/intake.db', 'user', 'list'),
      adminHere(missing, 'user', 'list', '--create'),
    ]);
    expect(relative!.stderr).toContain(`no SQLite database at ${join(process.cwd(), 'no-such-dir/intake.db')}`);
    expect(existsSync(join(process.cwd(), 'no-such-dir'))).toBe(false);
    expect(listCreate!.code).toBe(2);
    expect(listCreate!.stderr).toContain('user list takes no --create');
    const created = await admin(missing, 'user', 'add', '--role', 'operator', '--name', '首个坐席', '--create');
    expect(created.code, created.stderr).toBe(0);
    expect((await admin(missing, 'user', 'list')).stdout).toContain('首个坐席');
  });

  it.concurrent.each([
    ['a day the month does not have', '2026-02-30T00:00:00+08:00', 'give an ISO 8601 date-time with its offset'],
    ['a bare date (read as midnight UTC)', '2026-12-01', 'give an ISO 8601 date-time with its offset'],
    ['a time without its offset', '2026-12-01T00:00:00', 'give an ISO 8601 date-time with its offset'],
    ['a year out of service', '9999-01-01T00:00:00Z', 'must fall in the years'],
    ['a word, which is no date-time at all', 'yesterday', 'give an ISO 8601 date-time with its offset'],
  ])('refuses redeliver --since with %s, as the API does', async (_what, since, problem) => {
    const run = await adminHere(dbPath, 'redeliver', '--bureau', 'epb', '--since', since);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`admin: --since: ${problem}`);
    expect(run.stdout).toBe('');
  });

  it('says in one line that DATABASE_URL names a file that is no database, or a server that does not answer', async () => {
    const notDb = join(tempDir(), 'notes.db');
    writeFileSync(notDb, 'not a database\n');
    const [file, server] = await Promise.all([
      adminHere(notDb, 'user', 'list'),
      adminHere('postgres://admin:pw-not-shown@127.0.0.1:1/intake', 'user', 'list'),
    ]);
    expect(file.code).toBe(1);
    expect(file.stderr).toBe(`admin: cannot use the SQLite database ${notDb}: file is not a database\n`);
    expect(server.code).toBe(1);
    expect(server.stderr).toMatch(/^admin: cannot use postgres:\/\/127\.0\.0\.1:1\/intake: .*ECONNREFUSED.*\n$/);
    expect(server.stderr).not.toContain('pw-not-shown');
  });

  it('says in one line that the database is locked by another process, creating nothing', async () => {
    const locked = join(tempDir(), 'locked.db');
    expect((await admin(locked, 'user', 'add', '--role', 'admin', '--name', '管理员', '--create')).code).toBe(0);
    const holder = new SQLite(locked);
    holder.exec('BEGIN EXCLUSIVE');
    let run: CliRun;
    try {
      run = await adminHere(locked, 'user', 'add', '--role', 'operator', '--name', '锁住时');
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('admin: the database cannot be used now: database is locked (another process holds it: try again)\n');
    expect(run.stdout).toBe('');
    expect((await adminHere(locked, 'user', 'list')).stdout).not.toContain('锁住时');
  });

  it('refuses an option given twice, creating no account', async () => {
    const run = await admin(dbPath, 'user', 'add', '--role', 'operator', '--name', '赵六', '--name', '钱七');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--name is given more than once');
    expect(run.stdout).toBe('');
    const list = await adminHere(dbPath, 'user', 'list');
    expect(list.stdout).not.toMatch(/赵六|钱七/);
  });

  it('refuses an unknown command', async () => {
    const run = await adminHere(dbPath, 'user', 'promote');
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('unknown command "user promote"');
  });

  it('lists the accounts with their role, unit and tokens', async () => {
    const run = await admin(dbPath, 'user', 'list');
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^id\s+name\s+username\s+role\s+unit\s+active\s+tokens$/);
    const zhang = lines.find((l) => l.includes('张三'));
    // No web sign-in name set: `-`.
    expect(zhang).toMatch(/张三\s+-\s+bureau\s+epb\s+yes\s+\d+$/);
  });

  it('issues another token for an account, and revokes a token so that it fails with 401', async () => {
    const body = (await bodyOf(await me(epbToken))) as { id: string };
    const added = await admin(dbPath, 'token', 'add', '--user', body.id);
    expect(added.code, added.stderr).toBe(0);
    const second = lastLine(added.stdout);
    expect(second).toMatch(/^eci_/);
    expect((await me(second)).status).toBe(200);

    const revoked = await admin(dbPath, 'token', 'revoke', '--token', second);
    expect(revoked.code, revoked.stderr).toBe(0);
    const res = await me(second);
    expect(res.status, JSON.stringify(await bodyOf(res))).toBe(401);
    // The account's other token still works.
    expect((await me(epbToken)).status).toBe(200);

    const again = await admin(dbPath, 'token', 'revoke', '--token', second);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already revoked');
    const unknown = await adminHere(dbPath, 'token', 'revoke', '--id', 'no-such-token');
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('no such token');
  }, 90_000);

  it('issues a token with an expiry, says when it expires, and lists it with its expiry and state', async () => {
    const { id } = (await bodyOf(await me(epbToken))) as { id: string };
    const started = Date.now();
    const added = await admin(dbPath, 'token', 'add', '--user', id, '--label', 'epb system', '--expires-in', '30d');
    expect(added.code, added.stderr).toBe(0);
    const token = lastLine(added.stdout);
    expect(token).toMatch(/^eci_/);
    expect(added.stdout).toMatch(/it expires at \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00/);
    const row = await service.deps.db.selectFrom('api_tokens').select(['id', 'expires_at']).where('label', '=', 'epb system').executeTakeFirstOrThrow();
    const lifetime = Date.parse(row.expires_at!) - started;
    expect(lifetime).toBeGreaterThanOrEqual(30 * 86_400_000);
    expect(lifetime).toBeLessThan(30 * 86_400_000 + 60_000);
    expect((await me(token)).status).toBe(200);

    // A token that expired: as the service sees it once its day has passed.
    await service.deps.db.updateTable('api_tokens').set({ expires_at: '2026-01-01T16:00:00.000Z' }).where('id', '=', row.id).execute();
    const res = await me(token);
    const body = await bodyOf(res);
    expect(res.status, JSON.stringify(body)).toBe(401);
    expect(body).toMatchObject({ error: { code: 'token_expired', message: expect.stringContaining('2026-01-02T00:00:00+08:00') } });

    const list = await adminHere(dbPath, 'token', 'list', '--user', id);
    expect(list.code, list.stderr).toBe(0);
    const lines = list.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^id\s+label\s+created\s+last used\s+expires\s+state$/);
    expect(lines.find((l) => l.startsWith(row.id))).toMatch(/epb system .*2026-01-02T00:00:00\+08:00\s+expired$/);
    // The account's first token, issued without an expiry, never expires.
    expect(lines.filter((l) => /\snever\s+live$/.test(l)).length).toBeGreaterThanOrEqual(1);
    // The expired token is no longer counted among the account's live ones.
    const users = await adminHere(dbPath, 'user', 'list');
    const tokensBefore = lines.filter((l) => /\slive$/.test(l)).length;
    expect(users.stdout.split('\n').find((l) => l.startsWith(id))).toMatch(new RegExp(`\\s${tokensBefore}$`));
  }, 90_000);

  it.each([
    [['--expires-in', '90'], '--expires-in: give whole days from now, 1d to 3650d (e.g. 90d), not "90"'],
    [['--expires-in', '0d'], '--expires-in: give whole days from now, 1d to 3650d (e.g. 90d), not "0d"'],
    [['--expires-in', '3651d'], '--expires-in: give whole days from now, 1d to 3650d (e.g. 90d), not "3651d"'],
    [['--expires-in', '2w'], '--expires-in: give whole days from now, 1d to 3650d (e.g. 90d), not "2w"'],
    [['--expires-on', '2027-02-30'], '--expires-on: give a date as YYYY-MM-DD (the last day the token works), not "2027-02-30"'],
    [['--expires-on', 'next year'], '--expires-on: give a date as YYYY-MM-DD (the last day the token works), not "next year"'],
    [['--expires-on', '2020-01-01'], '--expires-on: 2020-01-01 has passed; give today or a later date'],
    [['--expires-on', '2999-03-31'], '--expires-on: at most 3650 days ahead'],
    [['--expires-in', '30d', '--expires-on', '2027-12-31'], 'give one of --expires-in DAYS or --expires-on DATE, not both'],
  ])('refuses the lifetime %j in one line, issuing nothing', async (lifetime, said) => {
    const { id } = (await bodyOf(await me(epbToken))) as { id: string };
    const count = async () => Number((await service.deps.db.selectFrom('api_tokens').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    const before = await count();
    const run = await adminHere(dbPath, 'token', 'add', '--user', id, ...lifetime);
    expect(run.code).toBe(2);
    expect(run.stderr.split('\n')[0]).toBe(`admin: ${said}`);
    expect(run.stdout).toBe('');
    const userAdd = await adminHere(dbPath, 'user', 'add', '--role', 'operator', '--name', '不该建成', ...lifetime);
    expect(userAdd.code).toBe(2);
    expect(userAdd.stderr.split('\n')[0]).toBe(`admin: ${said}`);
    expect(await count()).toBe(before);
  });

  it('reads ids, tokens, unit codes and usernames as copied from a table or typed in full-width forms, spaces around them and all', async () => {
    // Copied from `user list`, with the column's padding; typed with a Chinese input method in full-width mode.
    const fullWidth = (s: string) => s.replace(/[!-~]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) + 0xfee0));
    const added = await adminHere(dbPath, 'user', 'add', '--role', 'bureau', '--bureau', ` ${fullWidth('water')}\u3000`, '--name', '赵六');
    expect(added.code, added.stderr).toBe(0);
    const token = lastLine(added.stdout);
    const { id, unit } = (await bodyOf(await me(token))) as { id: string; unit: { code: string } };
    expect(unit.code).toBe('water');
    const copied = `  ${id}   `;
    const list = await adminHere(dbPath, 'token', 'list', '--user', copied);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/\snever\s+live$/m);
    const second = await adminHere(dbPath, 'token', 'add', '--user', `\t${fullWidth(id)}\u3000`);
    expect(second.code, second.stderr).toBe(0);
    const revoked = await adminHere(dbPath, 'token', 'revoke', '--token', ` ${lastLine(second.stdout)}\n`);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect((await me(lastLine(second.stdout))).status).toBe(401);
    const link = await adminHere(dbPath, 'telegram-link', copied);
    expect(link.code, link.stderr).toBe(0);
    expect(link.stdout).toContain(`赵六 (bureau, water)`);
    const redeliver = await adminHere(dbPath, 'redeliver', '--bureau', ' water ');
    expect(redeliver.code, redeliver.stderr).toBe(0);
    expect(redeliver.stdout).toContain('nothing failed for good to water');
    // An id of spaces alone is no id.
    const blank = await adminHere(dbPath, 'user', 'disable', '--id', '\u3000 ');
    expect(blank.code).toBe(2);
    expect(blank.stderr.split('\n')[0]).toBe('admin: --id is required');
    const disabled = await adminHere(dbPath, 'user', 'disable', '--id', copied);
    expect(disabled.code, disabled.stderr).toBe(0);
    expect(disabled.stdout).toBe(`disabled 赵六 (${id}); revoked 1 token(s)\n`);
    expect((await me(token)).status).toBe(401);
  }, 90_000);

  it('disables an account and revokes its tokens', async () => {
    const run = await admin(dbPath, 'user', 'add', '--role', 'operator', '--name', '王五');
    const token = lastLine(run.stdout);
    const { id } = (await bodyOf(await me(token))) as { id: string };
    const disabled = await admin(dbPath, 'user', 'disable', '--id', id);
    expect(disabled.code, disabled.stderr).toBe(0);
    expect(disabled.stdout).toContain('revoked 1 token');
    expect((await me(token)).status).toBe(401);
    const refused = await adminHere(dbPath, 'token', 'add', '--user', id);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('disabled');
  }, 90_000);

  it("sets a unit's failed deliveries to go out again, and names a bad unit or time", async () => {
    const report = await fetch(`${service.url}/api/v1/reports`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: '兴隆办事处电镀厂晚上偷排废水', anonymous: true }),
    });
    const { id: caseId } = (await report.json()) as { id: string };
    const other = await fetch(`${service.url}/api/v1/reports`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: '兴隆办事处另一个厂也在偷排，后来改派走了', anonymous: true }),
    });
    const { id: movedAway } = (await other.json()) as { id: string };
    const at = new Date().toISOString();
    // epb holds the first case; the second was re-routed away from it meanwhile.
    for (const [id, status] of [[caseId, 'pending'], [movedAway, 'released']] as const) {
      await service.deps.db
        .insertInto('assignments')
        .values({ id: `a-${id}`, case_id: id, unit_code: 'epb', role: 'lead', status, sign_deadline_at: null, reply_deadline_at: null, created_at: at, updated_at: at, round: 1 })
        .execute();
      await service.deps.db
        .insertInto('deliveries')
        .values({ id: `d-${id}`, case_id: id, unit_code: 'epb', channel: 'webhook', status: 'failed', attempts: 8, last_error: 'HTTP 503', last_attempt_at: at, created_at: at })
        .execute();
    }

    const badUnit = await adminHere(dbPath, 'redeliver', '--bureau', 'nowhere');
    expect(badUnit.code).toBe(2);
    expect(badUnit.stderr).toContain('--bureau: nowhere');
    const badTime = await adminHere(dbPath, 'redeliver', '--bureau', 'epb', '--since', 'last week');
    expect(badTime.code).toBe(2);
    expect(badTime.stderr).toContain('--since');
    const none = await adminHere(dbPath, 'redeliver', '--bureau', 'econ');
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout).toContain('nothing failed for good to econ');

    const run = await admin(dbPath, 'redeliver', '--bureau', 'epb', '--since', '2026-01-01T00:00:00+08:00');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('set to go out again to epb: 1 webhook deliveries, 0 Telegram group posts, 0 notices (1 cases)');
    const row = await service.deps.db.selectFrom('deliveries').select(['status', 'attempts']).where('id', '=', `d-${caseId}`).executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'pending', attempts: 0 });
    // Not what epb no longer holds.
    expect((await service.deps.db.selectFrom('deliveries').select('status').where('id', '=', `d-${movedAway}`).executeTakeFirstOrThrow()).status).toBe('failed');
    const events = await service.deps.db.selectFrom('case_events').select(['kind', 'actor_type', 'actor_role']).where('case_id', '=', caseId).where('kind', '=', 'redelivery').execute();
    expect(events).toEqual([{ kind: 'redelivery', actor_type: 'system', actor_role: 'admin' }]);
  }, 90_000);

  it('backs up the live database while reports keep coming in, and refuses what it cannot do', async () => {
    const submit = async (i: number) => {
      const res = await fetch(`${service.url}/api/v1/reports`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: `兴隆办事处化工厂第${i}次夜间偷排废水`, anonymous: true }),
      });
      expect(res.status).toBe(202);
      return ((await res.json()) as { id: string }).id;
    };
    const before = await Promise.all(Array.from({ length: 20 }, (_, i) => submit(i)));
    // Reports go on arriving while the copy is taken.
    let stop = false;
    let during = 0;
    const load = (async () => {
      while (!stop) {
        await submit(1000 + during);
        during++;
      }
    })();
    const file = join(tempDir(), 'backup.db');
    const run = await admin(dbPath, 'backup', file);
    stop = true;
    await load;
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^backed up .*intake\.db to .*backup\.db: \d+ cases, [\d.]+ MB, check ok\n$/);
    expect(during).toBeGreaterThan(0);
    expect(existsSync(`${file}.partial`)).toBe(false);
    expect(existsSync(`${file}-wal`)).toBe(false);

    const copy = new SQLite(file, { readonly: true, fileMustExist: true });
    try {
      expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(copy.pragma('journal_mode', { simple: true })).toBe('delete');
      const ids = new Set(copy.prepare('select id from cases').pluck().all() as string[]);
      // Everything answered before the backup began is in it; the copy is one moment of the database.
      for (const id of before) expect(ids.has(id)).toBe(true);
      const total = (await service.deps.db.selectFrom('cases').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n;
      expect(ids.size).toBeLessThanOrEqual(Number(total));
      expect(run.stdout).toContain(`: ${ids.size} cases`);
      // Each case in the copy has its events: no half-written report.
      const orphans = copy.prepare("select count(*) from cases c where not exists (select 1 from case_events e where e.case_id = c.id)").pluck().get();
      expect(orphans).toBe(0);
    } finally {
      copy.close();
    }

    // A service started on the copy has the accounts and the cases.
    const restored = await admin(file, 'user', 'list');
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toContain('张三');

    const again = await adminHere(dbPath, 'backup', file);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('exists: a backup never overwrites a file');
    // What another backup to the same file is writing (or an interrupted one left) is not removed.
    const other = join(tempDir(), 'other.db');
    writeFileSync(`${other}.partial`, 'another backup, still being written');
    const busy = await adminHere(dbPath, 'backup', other);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain(`${other}.partial exists`);
    expect(readFileSync(`${other}.partial`, 'utf8')).toBe('another backup, still being written');
    expect(existsSync(other)).toBe(false);
    const missing = await adminHere(join(tempDir(), 'none.db'), 'backup', join(tempDir(), 'x.db'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no SQLite database at');
    const postgres = await adminHere('postgres://postgres@127.0.0.1:5432/test', 'backup', join(tempDir(), 'y.db'));
    expect(postgres.code).toBe(1);
    expect(postgres.stderr).toContain('pg_dump');
    const noFile = await adminHere(dbPath, 'backup');
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toContain('backup takes one file');
  }, 120_000);
});
