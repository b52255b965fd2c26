import { spawn, type ChildProcess } from 'node:child_process';
import http, { type ServerResponse } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import SQLite from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DISTRICT_PATH } from '../src/district/district-file.js';
import type { DistrictFile } from '../src/district/district.schema.js';
import { compiled, freePort, onCleanup, PG_ADMIN_URL, postJson, REDIS_URL, removeQueueKeys, runCli, tempDir, uniquePrefix, waitFor } from './harness.js';

/**
 * The service as a real process: started the way `npm start` starts it,
 * stopped with SIGTERM or killed with SIGKILL in the middle of a load.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Proc {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

async function startProcess(env: Record<string, string>, args: string[] = []): Promise<Proc> {
  const port = await freePort();
  let out = '';
  const [node, main] = compiled('src/main.ts');
  const child = spawn(node, [main, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  onCleanup(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, url: `http://127.0.0.1:${port}`, output: () => out, exited };
}

async function listening(p: Proc): Promise<void> {
  await waitFor(() => p.output().includes('listening on'), { timeoutMs: 20_000, what: `service to listen; output:\n${p.output()}` });
}

function serviceEnv(name: string): Record<string, string> {
  const dir = tempDir();
  const prefix = uniquePrefix(name);
  onCleanup(() => removeQueueKeys(REDIS_URL, prefix));
  return {
    DATABASE_URL: join(dir, 'intake.db'),
    UPLOAD_DIR: join(dir, 'uploads'),
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    // The load of these tests comes from one address.
    INTAKE_RATE_LIMIT: 'off',
  };
}

function openDb(env: Record<string, string>) {
  const db = new SQLite(env.DATABASE_URL!, { readonly: true });
  onCleanup(() => {
    db.close();
  });
  return db;
}

describe('npm start', () => {
  it('refuses to start with bad configuration, naming every bad variable', async () => {
    for (const redisUrl of ['http://nope', 'redis://127.0.0.1:abc']) {
      const p = await startProcess({ PORT: 'abc', REDIS_URL: redisUrl, QUEUE_PREFIX: 'has space' });
      expect(await p.exited).toBe(1);
      const out = p.output();
      expect(out).toContain('PORT');
      expect(out).toContain('REDIS_URL: must be a redis:// or rediss:// URL');
      expect(out).toContain('QUEUE_PREFIX');
    }
  });

  it('refuses a port in use, a host that is not here and an upload directory that is a file, in one line naming the setting', async () => {
    const { createServer } = await import('node:net');
    const taken = createServer();
    const port = await new Promise<number>((resolve) => taken.listen(0, '127.0.0.1', () => resolve((taken.address() as { port: number }).port)));
    onCleanup(() => new Promise<void>((resolve) => taken.close(() => resolve())));
    const notADir = join(tempDir(), 'uploads');
    writeFileSync(notADir, 'a file');
    for (const [env, said] of [
      [{ PORT: String(port) }, `cannot listen on 127.0.0.1:${port}: the port is already in use (PORT=${port})`],
      [{ HOST: 'not a host' }, 'cannot listen on not a host:'],
      [{ UPLOAD_DIR: notADir }, `UPLOAD_DIR: cannot store photos in ${notADir}: it is not a directory`],
      [{ UPLOAD_DIR: '/proc/intake-nowhere/uploads' }, 'UPLOAD_DIR: cannot store photos in /proc/intake-nowhere/uploads: no directory can be made there'],
    ] as const) {
      const p = await startProcess({ ...serviceEnv('bad-start'), LOG_LEVEL: 'error', ...env });
      expect(await p.exited).toBe(1);
      const lines = p.output().trim().split('\n');
      expect(lines.at(-1), p.output()).toContain(said);
      expect(p.output()).not.toMatch(/\bat .*:\d+:\d+/);
      expect(p.output()).not.toContain('Unhandled');
    }
    // Four processes started one after the other, each loading the service.
  }, 90_000);

  it.each([
    [['--role', 'web'], '--role must be api, worker or all (got "web")'],
    [['--verbose'], "Unknown option '--verbose'"],
  ])('refuses the command line %j in one line, without a stack trace', async (args, said) => {
    const p = await startProcess(serviceEnv('bad-args'), args);
    expect(await p.exited).toBe(1);
    const lines = p.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(said);
    expect(lines[0]).not.toMatch(/\bat .*:\d+:\d+/);
  });

  it('refuses to start with a broken district file, naming the bad entry', async () => {
    const dir = tempDir();
    const file = join(dir, 'district.json');
    const { readFileSync, writeFileSync } = await import('node:fs');
    const district = JSON.parse(readFileSync(join(ROOT, 'src/district/default.district.json'), 'utf8')) as {
      routing: Record<string, { lead: string }>;
    };
    district.routing.noise!.lead = 'no_such_bureau';
    writeFileSync(file, JSON.stringify(district));
    const p = await startProcess({ ...serviceEnv('bad-district'), DISTRICT_CONFIG: file });
    expect(await p.exited).toBe(1);
    expect(p.output()).toContain('routing.noise.lead: unknown bureau "no_such_bureau"');
  });

  it('refuses to start on a PostgreSQL database that does not exist, saying what to do in one line', async () => {
    const url = new URL(PG_ADMIN_URL);
    url.pathname = `/${uniquePrefix('no-such-db').replace(/[^a-z0-9]/gi, '_')}`;
    const p = await startProcess({ ...serviceEnv('no-pg-db'), DATABASE_URL: url.href });
    expect(await p.exited).toBe(1);
    const lines = p.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`cannot use postgres://${url.host}${url.pathname}:`);
    expect(lines[0]).toContain('does not exist (create the database first');
    expect(lines[0]).not.toMatch(/\bat .*:\d+:\d+/);
  });

  it.each([
    ['a directory', (dir: string) => dir, 'unable to open database file'],
    ['a file that is not SQLite', (dir: string) => {
      const file = join(dir, 'notes.txt');
      writeFileSync(file, 'this is not a database, just some notes that are long enough to fill a page header…'.repeat(20));
      return file;
    }, 'file is not a database'],
    // procfs answers "no such file" to a mkdir under an existing directory: a recursive mkdir
    // that read that as "make the parent first" would spin for ever, deaf to SIGTERM.
    ['a place no directory can be made', () => `/proc/intake-nowhere-${process.pid}/intake.db`, `ENOENT: no such file or directory, mkdir '/proc/intake-nowhere-${process.pid}'`],
  ])('refuses to start on %s as the SQLite database, in one line naming it', async (_what, pathIn, said) => {
    const env = serviceEnv('bad-sqlite');
    const path = pathIn(tempDir());
    const p = await startProcess({ ...env, DATABASE_URL: path });
    expect(await p.exited).toBe(1);
    const lines = p.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`cannot use the SQLite database ${path}: ${said}`);
  });

  it('starts without Redis, says so in one line, accepts reports and is not ready', async () => {
    const deadPort = await freePort();
    const p = await startProcess({ ...serviceEnv('no-redis'), REDIS_URL: `redis://127.0.0.1:${deadPort}` });
    await listening(p);
    const res = await postJson(`${p.url}/api/v1/reports`, { text: '河里有死鱼' });
    expect(res.status).toBe(202);
    expect((await fetch(`${p.url}/readyz`)).status).toBe(503);
    await new Promise((r) => setTimeout(r, 2500));
    const lines = p.output().split('\n').filter((l) => l.includes('redis unreachable'));
    expect(lines).toHaveLength(1);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  });

  it('shuts down gracefully on SIGTERM: in-flight requests finish, accepted reports are kept', async () => {
    const env = serviceEnv('sigterm');
    const p = await startProcess(env);
    await listening(p);
    const accepted: string[] = [];
    /** Texts of requests that got no answer (the connection went away): none of them may have been stored. */
    const unanswered: string[] = [];
    const refusedWhileStopping: Array<{ status: number; connection: string | null; code: string }> = [];
    let stop = false;
    // Kept-alive connections busy right up to the signal: each answer must come whole.
    const load = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        const text = `垃圾堆没人清运 ${w}-${i}`;
        try {
          const res = await postJson(`${p.url}/api/v1/reports`, { text });
          if (res.status === 202) accepted.push(((await res.json()) as { id: string }).id);
          else refusedWhileStopping.push({ status: res.status, connection: res.headers.get('connection'), code: ((await res.json()) as { error: { code: string } }).error.code });
        } catch {
          unanswered.push(text);
          return; // the server no longer takes connections
        }
      }
    });
    await waitFor(() => accepted.length >= 50, { what: 'some load' });
    p.child.kill('SIGTERM');
    const code = await p.exited;
    stop = true;
    await Promise.all(load);
    expect(code).toBe(0);
    expect(p.output()).toContain('shutdown complete');
    // A normal start says nothing of Redis: the first relay pass waited for the connection being made.
    expect(p.output()).not.toMatch(/cannot reach the queue|redis unreachable/);
    const db = openDb(env);
    const ids = new Set((db.prepare('select id from cases').all() as Array<{ id: string }>).map((r) => r.id));
    for (const id of accepted) expect(ids.has(id), `accepted case ${id} is stored`).toBe(true);
    // Nothing was stored without its 202 reaching the client (a retry without an Idempotency-Key would make it twice).
    const stored = db.prepare('select count(*) from cases where text = ?').pluck();
    for (const text of unanswered) expect(stored.get(text), `"${text}" got no answer and is not stored`).toBe(0);
    expect(ids.size).toBe(accepted.length);
    // A request that came in on a kept-alive connection after the signal is turned away whole, closing it.
    for (const r of refusedWhileStopping) expect(r).toEqual({ status: 503, connection: 'close', code: 'not_ready' });
    // From the signal on, only the requests already being handled (one per connection) were taken.
    const signalled = (JSON.parse(p.output().split('\n').find((l) => l.includes('"signal":"SIGTERM"'))!) as { time: string }).time;
    const after = db.prepare('select count(*) from cases where received_at > ?').pluck().get(signalled) as number;
    expect(after).toBeLessThanOrEqual(8);
    // No connection was left for the server's close to cut after its 10 s.
    expect(p.output()).not.toContain('connections still open');
  });

  it('answers 503 with Connection: close, rather than cutting it, a request sent on a kept-alive connection just after SIGTERM', async () => {
    const env = serviceEnv('sigterm-kept-alive');
    const p = await startProcess(env);
    await listening(p);
    // One kept-alive connection: the second request goes on the socket the first one used.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    onCleanup(() => agent.destroy());
    const post = (text: string) =>
      new Promise<{ status: number; connection: string | undefined; socket: unknown }>((resolve, reject) => {
        const req = http.request(`${p.url}/api/v1/reports`, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, socket: req.socket }));
        });
        req.on('error', reject);
        req.end(JSON.stringify({ text }));
      });
    const first = await post('垃圾堆没人清运 before the signal');
    expect(first.status).toBe(202);
    p.child.kill('SIGTERM');
    await waitFor(() => p.output().includes('"signal":"SIGTERM"'), { what: 'the signal to be taken' });
    // The connection sat idle when the stop began; a request sent on it now is answered, not reset.
    const second = await post('垃圾堆没人清运 after the signal').catch((err: NodeJS.ErrnoException) => ({ status: 0, connection: err.code, socket: null }));
    expect({ status: second.status, connection: second.connection, sameSocket: second.socket === first.socket }).toEqual({ status: 503, connection: 'close', sameSocket: true });
    expect(await p.exited).toBe(0);
  });

  it('stops gracefully on a SIGTERM that arrives while it is still starting', async () => {
    // A classifier directory of its own: the start trains a model (seconds), so the signal lands mid-start.
    const p = await startProcess({ ...serviceEnv('sigterm-starting'), CLASSIFIER_DIR: join(tempDir(), 'classifier') });
    await waitFor(() => p.output().includes('database ready'), { timeoutMs: 20_000, what: `database to open; output:\n${p.output()}` });
    expect(p.output()).not.toContain('listening on');
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(p.output()).toContain('"signal":"SIGTERM"');
    expect(p.output()).toContain('shutdown complete');
  });

  it('shuts down gracefully when `npm start` is sent SIGTERM, as a process supervisor does', async () => {
    const env = serviceEnv('npm-sigterm');
    const port = await freePort();
    let out = '';
    const npm = spawn('npm', ['start', '--silent'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    npm.stdout.on('data', (d: Buffer) => (out += d.toString()));
    npm.stderr.on('data', (d: Buffer) => (out += d.toString()));
    onCleanup(() => {
      if (npm.exitCode === null && npm.signalCode === null) npm.kill('SIGKILL');
    });
    await waitFor(() => out.includes('listening on'), { timeoutMs: 30_000, what: `npm start to listen; output:\n${out}` });
    npm.kill('SIGTERM');
    // The service itself got the signal: it says so, finishes and frees the port.
    await waitFor(() => out.includes('shutdown complete'), { timeoutMs: 20_000, what: `the service to shut down; output:\n${out}` });
    expect(out).toContain('"signal":"SIGTERM"');
    await waitFor(
      async () => {
        try {
          await fetch(`http://127.0.0.1:${port}/healthz`);
          return false;
        } catch {
          return true;
        }
      },
      { what: 'the port to be free' },
    );
  });

  // The suite's other tests run the tools compiled (test/compiled-sources.ts); users run them through npm and tsx.
  it.concurrent.each(['admin', 'classifier', 'hotline', 'telegram', 'admin:cf'])('runs `npm run %s` through tsx, as users do', async (script) => {
    const run = await runCli(['npm', 'run', '--silent', script, '--'], ['--help'], { env: { DATABASE_URL: join(tempDir(), 'none.db') } });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`usage: npm run ${script} -- `);
  });

  it('loses nothing and routes nothing twice when killed with SIGKILL mid-load', async () => {
    const env = { ...serviceEnv('sigkill'), JOB_LOCK_MS: '1500', RECONCILE_INTERVAL_MS: '500', RECONCILE_GRACE_MS: '500' };
    const first = await startProcess(env);
    await listening(first);
    const accepted: string[] = [];
    let stop = false;
    const texts = ['兴隆那边厂子偷排废水', '养猪场粪水乱排', '烧垃圾烟好大', '半夜施工噪音', '河里死鱼水发臭', '想问一下情况'];
    const load = Array.from({ length: 10 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        try {
          const res = await postJson(`${first.url}/api/v1/reports`, { text: `${texts[(w + i) % texts.length]} #${w}-${i}` });
          if (res.status === 202) accepted.push(((await res.json()) as { id: string }).id);
        } catch {
          return;
        }
      }
    });
    await waitFor(() => accepted.length >= 400, { timeoutMs: 30_000, what: 'load' });
    first.child.kill('SIGKILL');
    await first.exited;
    stop = true;
    await Promise.all(load);

    const second = await startProcess(env);
    await listening(second);
    const db = openDb(env);
    await waitFor(
      () => {
        const row = db.prepare(`select count(*) as n from cases where status = 'received'`).get() as { n: number };
        return row.n === 0;
      },
      { timeoutMs: 30_000, what: 'every case routed after restart' },
    );
    const stored = new Set((db.prepare('select id from cases').all() as Array<{ id: string }>).map((r) => r.id));
    for (const id of accepted) expect(stored.has(id), `accepted case ${id} survived`).toBe(true);
    const twice = db
      .prepare(
        `select case_id, count(*) as n from case_events where kind in ('classified', 'status') group by case_id having n <> 2`,
      )
      .all();
    expect(twice).toEqual([]);
    const statuses = db.prepare('select distinct status from cases').all() as Array<{ status: string }>;
    expect(statuses.map((s) => s.status).sort()).toEqual(expect.arrayContaining(['dispatched']));
    expect(statuses.every((s) => ['dispatched', 'triage', 'transferred'].includes(s.status))).toBe(true);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });

  it('runs API and worker as separate processes with --role', async () => {
    const env = serviceEnv('roles');
    const api = await startProcess(env, ['--role', 'api']);
    await listening(api);
    const res = await postJson(`${api.url}/api/v1/reports`, { text: '八字桥社区旁边有人烧垃圾' });
    const { id } = (await res.json()) as { id: string };
    const worker = await startProcess({ ...env, PORT: '0' }, ['--role', 'worker']);
    await waitFor(() => worker.output().includes('worker running'), { what: 'worker' });
    const db = openDb(env);
    await waitFor(() => (db.prepare('select status from cases where id = ?').get(id) as { status: string }).status === 'dispatched', {
      what: 'dispatch by the worker process',
    });
    api.child.kill('SIGTERM');
    worker.child.kill('SIGTERM');
    expect([await api.exited, await worker.exited]).toEqual([0, 0]);
  });
});

describe('a worker killed with SIGKILL in the middle of a delivery', () => {
  it('gives a bureau no more attempts than DISPATCH_ATTEMPTS, counting the attempt the kill cut off', async () => {
    // epb's server holds its first request unanswered; xinglong's answers 503 twice and holds the third, the last of
    // the three attempts. The worker is killed while both wait; from then on both servers answer 503.
    const received: Array<{ path: string; deliveryId: string }> = [];
    const held: ServerResponse[] = [];
    let killed = false;
    const server = http.createServer((req, res) => {
      let raw = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (raw += chunk));
      req.on('end', () => {
        const body = JSON.parse(raw) as { event: string; deliveryId: string };
        if (body.event !== 'case.assigned') return void res.writeHead(204).end();
        const path = req.url ?? '';
        expect(req.headers['x-intake-delivery']).toBe(body.deliveryId);
        received.push({ path, deliveryId: body.deliveryId });
        const nth = received.filter((r) => r.path === path).length;
        if (!killed && ((path === '/epb' && nth === 1) || (path === '/xinglong' && nth === 3))) held.push(res);
        else res.writeHead(503).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onCleanup(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const district = JSON.parse(readFileSync(DEFAULT_DISTRICT_PATH, 'utf8')) as DistrictFile;
    for (const b of district.bureaus) if (b.code === 'epb') b.webhook = { url: `${base}/epb` };
    for (const j of district.jurisdictions) if (j.code === 'xinglong') j.webhook = { url: `${base}/xinglong` };
    const districtPath = join(tempDir(), 'district.json');
    writeFileSync(districtPath, JSON.stringify(district));
    const env = {
      ...serviceEnv('sigkill-delivery'),
      DISTRICT_CONFIG: districtPath,
      WEBHOOK_SECRET: 'test-webhook-secret-0123456789',
      DISPATCH_ATTEMPTS: '3',
      DISPATCH_BACKOFF_MS: '100',
      // The killed worker's delivery jobs are taken over soon after.
      JOB_LOCK_MS: '1500',
    };

    const first = await startProcess(env);
    await listening(first);
    const res = await postJson(`${first.url}/api/v1/reports`, { text: '兴隆办事处盐下路边那个电镀厂晚上偷排废水，沟里全是黑水' });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const requestsTo = (path: string) => received.filter((r) => r.path === path);
    await waitFor(() => held.length === 2, { what: `both bureaus' servers to hold a request; received ${JSON.stringify(received.map((r) => r.path))}` });
    killed = true;
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await startProcess(env);
    await listening(second);
    const db = openDb(env);
    type Row = { unit_code: string; status: string; attempts: number; last_error: string | null; attempt_started_at: string | null };
    const rows = await waitFor(
      () => {
        const r = db.prepare('select unit_code, status, attempts, last_error, attempt_started_at from deliveries where case_id = ? order by unit_code').all(id) as Row[];
        return r.length === 2 && r.every((d) => d.status === 'failed') ? r : null;
      },
      { timeoutMs: 30_000, what: 'both deliveries to fail' },
    );
    // Give a fourth attempt the time it would take to come.
    await new Promise((r) => setTimeout(r, 1500));
    expect({ epb: requestsTo('/epb').length, xinglong: requestsTo('/xinglong').length }).toEqual({ epb: 3, xinglong: 3 });
    expect(rows).toEqual([
      { unit_code: 'epb', status: 'failed', attempts: 3, last_error: 'HTTP 503', attempt_started_at: null },
      { unit_code: 'xinglong', status: 'failed', attempts: 3, last_error: 'attempt 3 got no outcome: its worker stopped during the request', attempt_started_at: null },
    ]);
    // Every attempt carries the same delivery id, for the bureau to drop a repeat.
    for (const path of ['/epb', '/xinglong']) {
      expect(new Set(requestsTo(path).map((r) => r.deliveryId)).size).toBe(1);
    }
    const failures = (db.prepare(`select data from case_events where case_id = ? and kind = 'delivery_failed'`).all(id) as Array<{ data: string }>).map(
      (e) => JSON.parse(e.data) as Record<string, unknown>,
    );
    expect(failures.sort((a, b) => String(a.unit).localeCompare(String(b.unit)))).toEqual([
      { unit: 'epb', channel: 'webhook', attempts: 3, error: 'HTTP 503' },
      { unit: 'xinglong', channel: 'webhook', attempts: 3, error: 'attempt 3 got no outcome: its worker stopped during the request' },
    ]);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });
});
