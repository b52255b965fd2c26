import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Service } from '../src/runtime.js';
import { type CliRun, compiled, runCli, startTestService, tempDir, testEnv } from './harness.js';
import { formClient } from './web-staff-helpers.js';


/** Runs `npm run admin -- …` as its own process, with `input` on stdin. */
function admin(databaseUrl: string, input: string | null, ...args: string[]): Promise<CliRun> {
  return runCli('admin', args, { env: { DATABASE_URL: databaseUrl, DISTRICT_CONFIG: '' }, input: input ?? '' });
}

describe('npm run admin -- user passwd', { timeout: 60_000 }, () => {
  const dbPath = join(tempDir(), 'intake.db');
  let service: Service & { url: string };
  let operatorId: string;
  let dispatcherId: string;

  beforeAll(async () => {
    const op = await admin(dbPath, null, 'user', 'add', '--role', 'operator', '--name', '坐席小周', '--create');
    operatorId = /id ([0-9a-f-]{36})/.exec(op.stdout)![1]!;
    const disp = await admin(dbPath, null, 'user', 'add', '--role', 'dispatcher', '--name', '调度小吴');
    dispatcherId = /id ([0-9a-f-]{36})/.exec(disp.stdout)![1]!;
    service = await startTestService(testEnv('cli-passwd', { DATABASE_URL: dbPath, TRUST_PROXY: '1' }), 'api');
  }, 90_000);

  it('sets a username and a password read from stdin, with which the account signs in on the web', async () => {
    const run = await admin(dbPath, 'a long enough secret\n', 'user', 'passwd', '--id', operatorId, '--username', 'Zhou.Op');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('zhou.op');
    // The password is stored only as a PBKDF2 hash.
    const row = await service.deps.db.selectFrom('users').select(['username', 'password_hash']).where('id', '=', operatorId).executeTakeFirst();
    expect(row?.username).toBe('zhou.op');
    expect(row?.password_hash).toMatch(/^pbkdf2-sha256\$600000\$/);
    expect(row?.password_hash).not.toContain('a long enough secret');

    const client = formClient(service.url, { 'x-forwarded-for': '10.5.0.1' });
    const res = await client.signIn('ZHOU.OP', 'a long enough secret');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/console');
  });

  it('lists each account with its web sign-in username, - for one that has none', async () => {
    const set = await admin(dbPath, 'a long enough secret\n', 'user', 'passwd', '--id', operatorId, '--username', 'Zhou.Op');
    expect(set.code, set.stderr).toBe(0);
    const list = await admin(dbPath, null, 'user', 'list');
    expect(list.code, list.stderr).toBe(0);
    const rows = list.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^id\s+name\s+username\s+role\s+unit\s+active\s+tokens$/);
    expect(rows.find((r) => r.startsWith(operatorId))).toMatch(/\s坐席小周\s+zhou\.op\s+operator\s+-\s+yes\s+1$/);
    expect(rows.find((r) => r.startsWith(dispatcherId))).toMatch(/\s调度小吴\s+-\s+dispatcher\s+-\s+yes\s+1$/);
  });

  it('refuses a short password and a username another account has, changing nothing', async () => {
    const short = await admin(dbPath, 'short\n', 'user', 'passwd', '--id', dispatcherId, '--username', 'wu');
    expect(short.code).toBe(1);
    expect(short.stderr).toContain('at least 10 characters');
    const taken = await admin(dbPath, 'another long secret\n', 'user', 'passwd', '--id', dispatcherId, '--username', 'zhou.op');
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('belongs to another account');
    const row = await service.deps.db.selectFrom('users').select(['username', 'password_hash']).where('id', '=', dispatcherId).executeTakeFirst();
    expect(row).toEqual({ username: null, password_hash: null });
  });

  it('names an unknown account or a taken username before reading any password', async () => {
    // Nothing on stdin: a password read first would be refused as too short.
    const unknown = await admin(dbPath, '', 'user', 'passwd', '--id', 'nope', '--username', 'zs');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('admin: no user with id nope\n');
    const taken = await admin(dbPath, '', 'user', 'passwd', '--id', dispatcherId, '--username', 'zhou.op');
    expect(taken.code).toBe(1);
    expect(taken.stderr).toBe('admin: the username zhou.op belongs to another account\n');
  });

  it('asks for the password at a terminal without echoing it', async () => {
    const made = await admin(dbPath, null, 'user', 'add', '--role', 'dispatcher', '--name', '调度小郑');
    const id = /id ([0-9a-f-]{36})/.exec(made.stdout)![1]!;
    // `script` runs the tool on a pseudo-terminal; its output is everything the terminal showed.
    const child = spawn('script', ['-qfec', `${compiled('src/cli/admin.ts').map((a) => `"${a}"`).join(' ')} user passwd --id ${id} --username zheng`, '/dev/null'], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: { ...process.env, DATABASE_URL: dbPath, DISTRICT_CONFIG: '' },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let screen = '';
    let typed = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      screen += d;
      // Typed once the prompt is up: what a terminal receives before that, it echoes whatever the tool does.
      if (screen.includes('password: ') && !typed) typed = child.stdin.write('a terminal secret\r') || true;
    });
    const [code] = (await once(child, 'close')) as [number | null];
    child.stdin.destroy();
    expect(code, screen).toBe(0);
    expect(screen).toContain(`调度小郑 (${id}) signs in on the web as zheng`);
    expect(screen).not.toContain('a terminal secret');
    const res = await formClient(service.url, { 'x-forwarded-for': '10.5.0.3' }).signIn('zheng', 'a terminal secret');
    expect(res.headers.get('location')).toBe('/desk');
  });

  it('ends the web sessions of a disabled account', async () => {
    const client = formClient(service.url, { 'x-forwarded-for': '10.5.0.2' });
    expect((await client.signIn('zhou.op', 'a long enough secret')).status).toBe(303);
    expect((await client.get('/console')).status).toBe(200);
    const run = await admin(dbPath, null, 'user', 'disable', '--id', operatorId);
    expect(run.code, run.stderr).toBe(0);
    const after = await client.get('/console');
    expect(after.status).toBe(303);
    expect(after.headers.get('location')).toBe('/signin?next=%2Fconsole');
    const revoked = await service.deps.db.selectFrom('web_sessions').select('revoked_at').where('user_id', '=', operatorId).execute();
    expect(revoked.every((s) => s.revoked_at !== null)).toBe(true);
  });
});
