import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync, crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { connectDatabase, DatabaseUnavailableError, migrateToLatest } from '../db/connect.js';
import { databaseUnavailable } from '../db/unavailable.js';
import { bodyOf, createPgDatabase, foreignServer, freePort, onCleanup, PG_ADMIN_URL, postJson, runCli, startTestService, tempDir, testEnv, waitFor } from './harness.js';
import { startTcpProxy } from './tcp-proxy.js';

/**
 * What the service depends on failing under it: PostgreSQL going away —
 * restarted, its network cut — reached through a TCP proxy that the tests
 * take down and bring back, and the disk of the uploads filling up (a small
 * tmpfs). The service keeps running, refuses what it cannot do with a 503
 * that says to send it again, keeps nothing of a refused request, and serves
 * again once the database or the room is back.
 */

describe('PostgreSQL going away', () => {
  it('refuses to start on an address where a server takes the connection and never answers, naming it, after the connect timeout', async () => {
    // Another service's port (Redis reads the startup message as a command line not yet ended): silence.
    const url = `postgres://127.0.0.1:${await foreignServer(() => {})}/intake`;
    const handle = connectDatabase(url, { connectTimeoutMs: 300 });
    onCleanup(() => handle.db.destroy());
    const error = await migrateToLatest(handle.db, handle.where).then(() => null, (err: unknown) => err);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect((error as Error).message).toBe(
      `cannot use ${url}: Connection terminated due to connection timeout (no answer as PostgreSQL from that address: is DATABASE_URL right, and the server up?)`,
    );
  });

  it('does not bring the process down when a connection a transaction holds between two queries is lost', async () => {
    // Its own process: an unhandled 'error' event of a pg client ends it (exit status 1), as it would end the service.
    const script = `
      const { startTcpProxy } = await import('./test/tcp-proxy.ts');
      const { connectDatabase } = await import('./db/connect.ts');
      const { sql } = await import('kysely');
      const proxy = await startTcpProxy(${JSON.stringify(PG_ADMIN_URL)});
      const handle = connectDatabase(proxy.url(${JSON.stringify(PG_ADMIN_URL)}), { poolSize: 2 });
      const outcome = await handle.db
        .transaction()
        .execute(async (trx) => {
          await sql\`select 1\`.execute(trx);
          // Between the transaction's queries its connection is lost: no query of the client is running.
          await proxy.drop();
          await new Promise((r) => setTimeout(r, 300));
          await sql\`select 1\`.execute(trx);
        })
        .then(() => 'committed', (err) => 'failed: ' + err.message);
      console.log('transaction ' + outcome);
      // The pool drops the broken client; the next query takes a new connection.
      const { rows } = await sql\`select 2 as n\`.execute(handle.db);
      console.log('next query: ' + rows[0].n);
      await handle.db.destroy();
      await proxy.cut();
    `;
    const run = await runCli([process.execPath, '--import', 'tsx', '--input-type=module', '-e', script], []);
    expect(run.stderr).not.toContain("Unhandled 'error' event");
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^transaction failed: .+$/m);
    expect(run.stdout).toContain('next query: 2');
  }, 30_000);

  it('answers 503 with Retry-After while the database cannot be reached, loses nothing it accepted, and serves again once it is back', async () => {
    const proxy = await startTcpProxy(PG_ADMIN_URL, await freePort());
    onCleanup(() => proxy.cut());
    const service = await startTestService(testEnv('pg-outage', { DATABASE_URL: proxy.url(await createPgDatabase('outage')) }));
    const report = (text: string) => postJson(`${service.url}/api/v1/reports`, { text, anonymous: true });

    const before = await report('兴隆办事处化工厂晚上往河里排黑水');
    expect(before.status, JSON.stringify(await bodyOf(before.clone()))).toBe(202);
    const { id: acceptedId, trackingCode } = (await before.json()) as { id: string; trackingCode: string };

    await proxy.cut();
    const refused = await report('回龙村养猪场粪水直接排进水沟');
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(refused.status, JSON.stringify(body)).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(body.error).toMatchObject({ code: 'not_ready', message: expect.stringContaining('send the request again') });
    const ready = await fetch(`${service.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ checks: { database: 'down' } });
    // A resident's page says it in their language, not as a fault of the service.
    const page = await fetch(`${service.url}/track/${trackingCode}`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(503);
    const html = await page.text();
    expect(html).toContain('服务暂时不可用');
    expect(html).toContain('请稍等片刻');

    await proxy.restore();
    const after = await waitFor(
      async () => {
        const res = await report('李家塘有人烧垃圾，烟好大');
        return res.status === 202 ? ((await res.json()) as { id: string }) : null;
      },
      { what: 'a report accepted again' },
    );
    expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
    // The refused report was not kept; the one accepted before the outage and the one after go through the pipeline.
    await waitFor(
      async () => {
        const rows = await service.deps.db.selectFrom('cases').select(['id', 'status']).execute();
        return rows.length === 2 && rows.every((r) => r.status !== 'received') ? rows : null;
      },
      { timeoutMs: 20_000, what: 'both accepted cases to be routed' },
    ).then((rows) => expect(rows.map((r) => r.id).sort()).toEqual([acceptedId, after.id].sort()));
  }, 60_000);
});

describe('databaseUnavailable', () => {
  it('tells a database that cannot serve now from a fault of the request or the code', () => {
    const coded = (code: string, message = 'x') => Object.assign(new Error(message), { code });
    const socket = (code: string, syscall: string) => Object.assign(new Error(`${syscall} ${code}`), { code, syscall });
    for (const err of [
      socket('ECONNREFUSED', 'connect'),
      socket('ECONNRESET', 'read'),
      coded('57P01', 'terminating connection due to administrator command'),
      coded('57P03', 'the database system is starting up'),
      coded('53300', 'sorry, too many clients already'),
      coded('08006'),
      coded('SQLITE_BUSY', 'database is locked'),
      coded('SQLITE_IOERR_WRITE'),
      coded('SQLITE_FULL'),
      new Error('Connection terminated unexpectedly'),
      new Error('wrapped', { cause: socket('ECONNREFUSED', 'connect') }),
    ]) {
      expect(databaseUnavailable(err), `${(err as { code?: string }).code ?? err.message}`).toBe(true);
    }
    for (const err of [
      coded('23505', 'duplicate key value violates unique constraint'),
      coded('42P01', 'relation "cases" does not exist'),
      coded('22021'),
      coded('SQLITE_CONSTRAINT_UNIQUE'),
      coded('SQLITE_ERROR', 'no such table: cases'),
      new Error('Connection terminated by the user, who typed this'),
      // What Node gives a request whose client went away: no system call.
      coded('ECONNRESET', 'aborted'),
      new TypeError("Cannot read properties of undefined (reading 'id')"),
      'ECONNREFUSED',
      null,
    ]) {
      expect(databaseUnavailable(err), String(err instanceof Error ? err.message : err)).toBe(false);
    }
  });
});

/** Whether this machine lets the tests mount a small tmpfs (root, and a kernel that allows it here). */
function canMountTmpfs(): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  const probe = mkdtempSync(join(tmpdir(), 'intake-tmpfs-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

/** A PNG of about `bytes` (stored, not compressed, pixels that vary), as a phone would send a photo. */
function pngOf(bytes: number): Uint8Array {
  const width = 512;
  const height = Math.max(1, Math.ceil(bytes / (width * 3 + 1)));
  const rows = Buffer.alloc(height * (width * 3 + 1));
  for (let i = 0; i < rows.length; i++) rows[i] = (i * 7919) % 251;
  for (let y = 0; y < height; y++) rows[y * (width * 3 + 1)] = 0;
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  return new Uint8Array(
    Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(rows, { level: 0 })), chunk('IEND', Buffer.alloc(0))]),
  );
}

/** Every regular file under a directory. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(join(dir, f)).isFile());
}

/** A directory on a tmpfs of its own of `size` (mount's notation: 1536k, 8m), unmounted after the file. */
function smallDisk(size: string): string {
  const disk = tempDir('intake-full-disk-');
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', disk]);
  onCleanup(() => {
    execFileSync('umount', ['--lazy', disk]);
  });
  return disk;
}

describe('the disk filling up', () => {
  const mountable = canMountTmpfs();

  it.runIf(mountable)('of the uploads: answers 503 with Retry-After, keeps no part of the photos nor the case, and takes reports again once there is room', async () => {
    const disk = smallDisk('1536k');
    const service = await startTestService(testEnv('disk-full', { UPLOAD_DIR: join(disk, 'uploads') }), 'api');
    const send = (photos: Uint8Array[]) => {
      const form = new FormData();
      form.set('text', '回龙村河边有人倾倒建筑垃圾，照片为证');
      form.set('anonymous', 'true');
      for (const [i, p] of photos.entries()) form.append('photos', new Blob([p], { type: 'image/png' }), `photo-${i + 1}.png`);
      return fetch(`${service.url}/api/v1/reports`, { method: 'POST', body: form });
    };
    const countCases = async () => Number((await service.deps.db.selectFrom('cases').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

    // Two photos of 1 MB: the first fits, the second finds no room midway.
    const refused = await send([pngOf(1_000_000), pngOf(1_000_000)]);
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(refused.status, JSON.stringify(body)).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(body.error).toMatchObject({ code: 'not_ready', message: expect.stringContaining('no room on its disk') });
    expect(await countCases()).toBe(0);
    expect(filesUnder(disk)).toEqual([]);

    // The room the refused report took is free again: a report with one such photo goes through.
    const accepted = await send([pngOf(1_000_000)]);
    expect(accepted.status, JSON.stringify(await bodyOf(accepted.clone()))).toBe(202);
    expect(await countCases()).toBe(1);
    expect(filesUnder(disk)).toHaveLength(1);
  }, 30_000);

  it.runIf(mountable)('of the SQLite database: answers 503 with Retry-After, never 500, keeps every report it accepted whole, and takes reports again once there is room', async () => {
    const disk = smallDisk('8m');
    const service = await startTestService(testEnv('db-disk-full', { DATABASE_URL: join(disk, 'intake.db') }), 'api');
    // Leave the database a little room: a file takes the rest, to be removed later.
    const filler = join(disk, 'filler');
    const { bavail, bsize } = statfsSync(disk);
    writeFileSync(filler, Buffer.alloc(Math.max(0, bavail * bsize - 256 * 1024)));
    const report = (i: number) => postJson(`${service.url}/api/v1/reports`, { text: `回龙村河边有人倾倒垃圾，第${i}次。${'堆得很高'.repeat(1200)}`, anonymous: true });

    const statuses: number[] = [];
    let refusal: { status: number; retryAfter: string | null; body: unknown } | null = null;
    for (let i = 0; i < 200 && !refusal; i++) {
      const res = await report(i);
      statuses.push(res.status);
      if (res.status !== 202) refusal = { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.json() };
    }
    expect(refusal, `statuses: ${statuses.join(',')}`).not.toBeNull();
    expect(refusal).toMatchObject({ status: 503, retryAfter: '5', body: { error: { code: 'not_ready' } } });
    const accepted = statuses.filter((s) => s === 202).length;
    expect(accepted).toBeGreaterThan(0);

    // Room again: the service takes reports without a restart, and every report it accepted is there whole.
    rmSync(filler);
    const after = await report(1000);
    expect(after.status, JSON.stringify(await bodyOf(after.clone()))).toBe(202);
    const cases = await service.deps.db.selectFrom('cases').select('id').execute();
    expect(cases).toHaveLength(accepted + 1);
    const received = await service.deps.db.selectFrom('case_events').select('case_id').where('kind', '=', 'received').execute();
    expect(new Set(received.map((e) => e.case_id))).toEqual(new Set(cases.map((c) => c.id)));
  }, 60_000);
});
