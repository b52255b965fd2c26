import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connectDatabase, migrateToLatest } from '../db/connect.js';
import type { Database } from '../db/schema.js';
import { ManualClock } from '../src/clock.js';
import { createDatabaseIntakeGate, pruneIntakeCounts } from '../src/intake/database-intake-gate.js';
import { EnvError, parseEnv } from '../src/env.js';
import { senderOfAddress } from '../src/intake/intake-gate.js';
import { lookupCounter } from '../src/intake/lookup-counter.js';
import type { Service } from '../src/runtime.js';
import { newPage } from './browser.js';
import { bodyOf, captureLogs, createPgDatabase, onCleanup, postJson, REDIS_URL, startTestService, tempDir, testEnv, waitFor } from './harness.js';
import { startTcpProxy } from './tcp-proxy.js';
import { residentChat, startTelegramEmulator, type TelegramEmulator } from './telegram-emulator.js';
import { deliver, sentTexts, telegramEnv, TOKEN } from './telegram-helpers.js';
import { signIn, startStaffWebService } from './web-staff-helpers.js';

/**
 * The limit of reports per sender on the public channels (INTAKE_RATE_LIMIT):
 * counted in Redis across API processes, refused with 429 and Retry-After,
 * never refusing a report because Redis is away.
 */

const LIMITED = { INTAKE_RATE_LIMIT: '3/1h', TRUST_PROXY: 'true' };
const SHARED = { ...LIMITED, INTAKE_RATE_LIMIT_STORE: 'redis' };

let report = 0;
/** A new report's body (each text differs, so no two are one report). */
const aReport = () => ({ text: `八字桥社区旁边的厂子晚上偷排废水，沟里的水都是黑的（第 ${++report} 次）` });

function postFrom(service: { url: string }, address: string, body: unknown = aReport(), headers: Record<string, string> = {}) {
  return postJson(`${service.url}/api/v1/reports`, body, { 'x-forwarded-for': address, ...headers });
}

async function countCases(service: Service): Promise<number> {
  const row = await service.deps.db.selectFrom('cases').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('INTAKE_RATE_LIMIT', () => {
  it('reads <count>/<window> and off, and names the variable when it is neither', () => {
    expect(parseEnv({}).INTAKE_RATE_LIMIT).toEqual({ reports: 30, windowS: 3600 });
    expect(parseEnv({ INTAKE_RATE_LIMIT: '10/15m' }).INTAKE_RATE_LIMIT).toEqual({ reports: 10, windowS: 900 });
    expect(parseEnv({ INTAKE_RATE_LIMIT: '5 / 90s' }).INTAKE_RATE_LIMIT).toEqual({ reports: 5, windowS: 90 });
    expect(parseEnv({ INTAKE_RATE_LIMIT: '100/h' }).INTAKE_RATE_LIMIT).toEqual({ reports: 100, windowS: 3600 });
    expect(parseEnv({ INTAKE_RATE_LIMIT: 'OFF' }).INTAKE_RATE_LIMIT).toBeNull();
    for (const bad of ['lots', '0/1h', '5/0m', '5/2d', '5/25h', '5', '-1/1h', '5/1.5h']) {
      let thrown: unknown;
      try {
        parseEnv({ INTAKE_RATE_LIMIT: bad });
      } catch (err) {
        thrown = err;
      }
      expect(thrown, bad).toBeInstanceOf(EnvError);
      expect((thrown as EnvError).problems.map((p) => p.variable), bad).toEqual(['INTAKE_RATE_LIMIT']);
    }
  });

  it('counts an IPv6 host by its /64 and an IPv4 address written as IPv6 as the IPv4 address', () => {
    expect(senderOfAddress('203.0.113.7')).toBe('203.0.113.7');
    expect(senderOfAddress('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(senderOfAddress('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(senderOfAddress('2001:0DB8:0001:0002:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(senderOfAddress('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
    expect(senderOfAddress('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(senderOfAddress('::1')).toBe('0:0:0:0::/64');
    // Not an address (a proxy's odd header): counted as it is.
    expect(senderOfAddress('unknown')).toBe('unknown');
  });
});

describe('reports per sender on POST /api/v1/reports', () => {
  let service: Service & { url: string };
  let other: Service & { url: string };
  const logs = captureLogs();

  beforeAll(async () => {
    // Counted in the process's memory, the default.
    const env = testEnv('intake-limit', LIMITED);
    expect(env.INTAKE_RATE_LIMIT_STORE).toBe('memory');
    service = await startTestService(env, 'api', { logger: logs.logger });
    // A second API process on the same Redis: it counts on its own.
    other = await startTestService(testEnv('intake-limit-2', { ...LIMITED, QUEUE_PREFIX: env.QUEUE_PREFIX }), 'api');
  });

  it('refuses the report after the limit with 429 rate_limited and Retry-After, and keeps nothing of it', async () => {
    for (let i = 0; i < 3; i++) expect((await postFrom(service, '198.51.100.1')).status).toBe(202);
    const before = await countCases(service);
    const refused = await postFrom(service, '198.51.100.1');
    const body = (await bodyOf(refused)) as { error: { code: string; message: string; requestId: string } };
    expect(refused.status).toBe(429);
    expect(body.error.code).toBe('rate_limited');
    expect(body.error.message).toContain('at most 3 in 1 h');
    expect(body.error.requestId).toBe(refused.headers.get('x-request-id'));
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect(await countCases(service)).toBe(before);
    // Logged for whoever runs the service, without the address.
    const refusal = logs.lines.find((l) => l.msg === 'report refused: its sender reached INTAKE_RATE_LIMIT');
    expect(refusal).toMatchObject({ reqId: body.error.requestId, retryAfterS: retryAfter });
    expect(JSON.stringify(logs.lines)).not.toContain('198.51.100');
    // And counted for the metrics, by channel.
    expect((await service.metrics.render()).body).toContain('intake_reports_refused_total{channel="web"} 1');
    // Another address is a sender of its own.
    expect((await postFrom(service, '198.51.100.2')).status).toBe(202);
  });

  it('counts an IPv6 sender by its /64', async () => {
    for (let i = 0; i < 3; i++) expect((await postFrom(service, `2001:db8:77:1::${i + 1}`)).status).toBe(202);
    expect((await postFrom(service, '2001:db8:77:1:ffff::9')).status).toBe(429);
    expect((await postFrom(service, '2001:db8:77:2::1')).status).toBe(202);
  });

  it('does not count a replayed submission nor a refused report', async () => {
    const sender = '198.51.100.3';
    const body = aReport();
    for (let i = 0; i < 2; i++) {
      const res = await postFrom(service, sender, body, { 'idempotency-key': 'limit-replay-1' });
      expect(res.status).toBe(202);
    }
    const bad = await postFrom(service, sender, { text: '' });
    expect(bad.status).toBe(400);
    const badPhoto = new FormData();
    badPhoto.set('text', aReport().text);
    badPhoto.append('photos', new Blob(['not an image'], { type: 'image/jpeg' }), 'a.jpg');
    const refusedPhoto = await fetch(`${service.url}/api/v1/reports`, { method: 'POST', body: badPhoto, headers: { 'x-forwarded-for': sender } });
    expect(refusedPhoto.status).toBe(400);
    // One report so far: two more are allowed, the third is one too many.
    expect((await postFrom(service, sender)).status).toBe(202);
    const last = aReport();
    const made = await postFrom(service, sender, last, { 'idempotency-key': 'limit-replay-3' });
    expect(made.status).toBe(202);
    expect((await postFrom(service, sender)).status).toBe(429);
    // Over the limit, a retry of a report already made (its answer was lost) still gets that report.
    for (const key of ['limit-replay-1', 'limit-replay-3']) {
      const retried = await postFrom(service, sender, key === 'limit-replay-1' ? body : last, { 'idempotency-key': key });
      expect(retried.status, key).toBe(202);
      expect(retried.headers.get('idempotent-replayed')).toBe('true');
    }
    expect(((await bodyOf(await postFrom(service, sender, last, { 'idempotency-key': 'limit-replay-3' }))) as { trackingCode: string }).trackingCode).toBe(
      ((await bodyOf(made)) as { trackingCode: string }).trackingCode,
    );
    // A key of a report made with other words is still refused as such, not taken for a new report.
    expect((await postFrom(service, sender, aReport(), { 'idempotency-key': 'limit-replay-3' })).status).toBe(409);
  });

  it('counts per process by default: each API process allows the limit', async () => {
    const sender = '198.51.100.4';
    for (let i = 0; i < 3; i++) expect((await postFrom(service, sender)).status).toBe(202);
    expect((await postFrom(service, sender)).status).toBe(429);
    for (let i = 0; i < 3; i++) expect((await postFrom(other, sender)).status).toBe(202);
    expect((await postFrom(other, sender)).status).toBe(429);
  });

  it('says at start what the limit is and where it is counted', () => {
    const said = logs.lines.find((l) => String(l.msg).startsWith('reports per sender'));
    expect(said).toMatchObject({ reports: 3, windowS: 3600, store: 'memory', msg: 'reports per sender (address or chat): at most 3 per 1 h, counted by this process' });
  });

  it('says the answer in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${service.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown>; description: string }>>;
    };
    const op = doc.paths['/api/v1/reports']!.post!;
    expect(op.responses['429']).toBeDefined();
    expect(op.description).toContain('INTAKE_RATE_LIMIT');
  });
});

describe('reports per sender counted in Redis (INTAKE_RATE_LIMIT_STORE=redis)', () => {
  let service: Service & { url: string };
  let other: Service & { url: string };

  beforeAll(async () => {
    const env = testEnv('intake-limit-shared', SHARED);
    service = await startTestService(env, 'api');
    // A second API process on the same Redis (its own database): the count is the same one.
    other = await startTestService(testEnv('intake-limit-shared-2', { ...SHARED, QUEUE_PREFIX: env.QUEUE_PREFIX }), 'api');
  });

  it('shares the count between API processes through Redis, which keeps no address', async () => {
    const sender = '198.51.100.7';
    expect((await postFrom(service, sender)).status).toBe(202);
    expect((await postFrom(other, sender)).status).toBe(202);
    expect((await postFrom(service, sender)).status).toBe(202);
    expect((await postFrom(other, sender)).status).toBe(429);
    expect((await postFrom(service, sender)).status).toBe(429);

    const redis = new Redis(REDIS_URL);
    onCleanup(() => void redis.disconnect());
    const keys = await redis.keys(`${service.deps.env.QUEUE_PREFIX}:intake-limit:*`);
    expect(keys.length).toBeGreaterThanOrEqual(1);
    expect(keys.join(' ')).not.toMatch(/198\.51|2001:db8|2001-db8/);
    for (const key of keys) {
      const ttl = await redis.ttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(3600);
    }
  });

  it('does not count a replayed submission', async () => {
    const sender = '198.51.100.8';
    const body = aReport();
    for (let i = 0; i < 3; i++) expect((await postFrom(other, sender, body, { 'idempotency-key': 'limit-replay-2' })).status).toBe(202);
    expect((await postFrom(service, sender)).status).toBe(202);
    expect((await postFrom(other, sender)).status).toBe(202);
    expect((await postFrom(service, sender)).status).toBe(429);
  });
});

describe.each([
  ['SQLite', async () => join(tempDir(), 'counts.db')],
  ['PostgreSQL', async () => createPgDatabase('intake_counts')],
])('reports per sender counted in the database (the Workers build, on D1), on %s', (_engine, url) => {
  let db: Kysely<Database>;
  const clock = new ManualClock('2026-12-06T08:00:00.000Z');
  const limit = { reports: 3, windowS: 3600 };

  beforeAll(async () => {
    db = connectDatabase(await url()).db;
    await migrateToLatest(db);
  });
  afterAll(async () => db.destroy());

  it('refuses the report after the limit until its window ends, each sender on its own, keeping no address', async () => {
    const gate = createDatabaseIntakeGate({ db, limit, clock, logger: captureLogs().logger });
    for (let i = 0; i < 3; i++) expect(await gate.take('203.0.113.7')).toEqual({ ok: true });
    clock.advance(600_000);
    expect(await gate.take('203.0.113.7')).toEqual({ ok: false, retryAfterS: 3000 });
    expect(await gate.take('203.0.113.8')).toEqual({ ok: true });
    expect(await gate.take('telegram:42')).toEqual({ ok: true });
    // Taken back twice (the refused one counted too, and one report that was not made after all): one more may be sent.
    await gate.giveBack('203.0.113.7');
    await gate.giveBack('203.0.113.7');
    expect(await gate.take('203.0.113.7')).toEqual({ ok: true });
    expect(await gate.take('203.0.113.7')).toEqual({ ok: false, retryAfterS: 3000 });
    const rows = await db.selectFrom('intake_counts').selectAll().execute();
    expect(JSON.stringify(rows)).not.toMatch(/203\.0\.113|telegram:42/);

    // The window over, the sender starts a new one.
    clock.advance(3000_000);
    expect(await gate.take('203.0.113.7')).toEqual({ ok: true });
    expect(await gate.take('203.0.113.7')).toEqual({ ok: true });
    // The other two senders' windows end ten minutes later: then theirs go, and the first sender's new one stays.
    clock.advance(600_000);
    expect(await pruneIntakeCounts(db, clock.now())).toBe(2);
    expect(await db.selectFrom('intake_counts').select('reports').execute()).toEqual([{ reports: 2 }]);
  });

  it('deletes the counts whose window ended a batch at a time, at most as many batches a call as it is given', async () => {
    const now = new Date('2026-12-10T00:00:00.000Z');
    const at = (minutes: number) => new Date(now.getTime() + minutes * 60_000).toISOString();
    const mine = `batch-${randomUUID()}-`;
    // Only this test's counts: the other tests' windows ended long before.
    await db.deleteFrom('intake_counts').execute();
    // Seven windows ended (one ends now), two still open.
    const ends = [-70, -60, -50, -40, -30, -20, 0, 1, 30];
    await db.insertInto('intake_counts').values(ends.map((m, i) => ({ sender: `${mine}${i}`, reports: 1, window_ends_at: at(m) }))).execute();
    const left = async () => (await db.selectFrom('intake_counts').select('sender').where('sender', 'like', `${mine}%`).execute()).map((r) => r.sender.slice(mine.length)).sort();
    expect(await pruneIntakeCounts(db, now, { batchSize: 3, maxBatches: 1 })).toBe(3);
    expect(await left()).toHaveLength(6);
    expect(await pruneIntakeCounts(db, now, { batchSize: 3, stopped: () => true })).toBe(0);
    expect(await pruneIntakeCounts(db, now, { batchSize: 3 })).toBe(4);
    expect(await left()).toEqual(['7', '8']);
    await db.deleteFrom('intake_counts').execute();
  });

  it('counts reports sent at once exactly, in one statement each', async () => {
    const gate = createDatabaseIntakeGate({ db, limit: { reports: 5, windowS: 60 }, clock, logger: captureLogs().logger });
    const answers = await Promise.all(Array.from({ length: 12 }, () => gate.take('198.51.100.1')));
    expect(answers.filter((a) => a.ok)).toHaveLength(5);
  });

  it('takes every report when the count cannot be kept, and says so', async () => {
    const broken = connectDatabase(await url()).db;
    await broken.destroy();
    const { lines, logger } = captureLogs();
    const gate = createDatabaseIntakeGate({ db: broken, limit: { reports: 1, windowS: 60 }, clock, logger });
    expect(await gate.take('192.0.2.1')).toEqual({ ok: true });
    expect(await gate.take('192.0.2.1')).toEqual({ ok: true });
    await gate.giveBack('192.0.2.1');
    expect(lines.filter((l) => l.msg === 'intake rate limit: the count could not be kept in the database; the report is taken')).toHaveLength(2);
  });
});

describe('reports per sender while Redis does not answer', () => {
  let service: Service & { url: string };
  let proxy: Awaited<ReturnType<typeof startTcpProxy>>;

  beforeAll(async () => {
    proxy = await startTcpProxy(REDIS_URL);
    // Connections that get no answer are made again after 2 s: the service stops without waiting out the silence.
    service = await startTestService(testEnv('intake-limit-away', { ...SHARED, REDIS_URL: proxy.url(REDIS_URL), REDIS_ANSWER_TIMEOUT_MS: '2000' }), 'api');
  });

  it('takes every report, counting them in the process meanwhile, when Redis is down or silent', async () => {
    await proxy.cut();
    for (let i = 0; i < 3; i++) expect((await postFrom(service, '198.51.100.5')).status).toBe(202);
    expect((await postFrom(service, '198.51.100.5')).status).toBe(429);

    await proxy.restore();
    // Counted in Redis again once the gate's connection is back (it retries every 2 s at most).
    const redis = new Redis(REDIS_URL);
    onCleanup(() => void redis.disconnect());
    const countedInRedis = async () => (await redis.keys(`${service.deps.env.QUEUE_PREFIX}:intake-limit:*`)).length > 0;
    let probe = 0;
    await waitFor(async () => {
      expect((await postFrom(service, `198.51.101.${++probe}`)).status).toBe(202);
      return (await countedInRedis()) || null;
    }, { timeoutMs: 20_000, intervalMs: 300, what: 'the count in Redis again' });
    // A connection that stays open and never answers again: each report waits a moment for the count, then is taken.
    proxy.blackHole();
    const before = await countCases(service);
    for (let i = 0; i < 3; i++) expect((await postFrom(service, '198.51.100.6')).status).toBe(202);
    expect((await postFrom(service, '198.51.100.6')).status).toBe(429);
    expect(await countCases(service)).toBe(before + 3);
  });

  it('counts a report once whose count timed out and then failed', async () => {
    // The proxy still listens (the test before left it so): new connections reach Redis.
    const redis = new Redis(REDIS_URL);
    onCleanup(() => void redis.disconnect());
    // Counted in Redis again: a fresh sender's key shows up.
    const probeKeys = (await redis.keys(`${service.deps.env.QUEUE_PREFIX}:intake-limit:*`)).length;
    let probe = 0;
    await waitFor(async () => {
      const sender = `198.51.102.${++probe}`;
      expect((await postFrom(service, sender)).status).toBe(202);
      return (await redis.keys(`${service.deps.env.QUEUE_PREFIX}:intake-limit:*`)).length > probeKeys || null;
    }, { timeoutMs: 20_000, intervalMs: 300, what: 'the count in Redis again' });
    proxy.blackHole();
    // Its count waits 250 ms for Redis, then is taken in memory; the command stays pending on the silent connection.
    expect((await postFrom(service, '198.51.100.9')).status).toBe(202);
    // The connection is reset now: the pending command fails. It was counted already.
    await proxy.cut();
    expect((await postFrom(service, '198.51.100.9')).status).toBe(202);
    expect((await postFrom(service, '198.51.100.9')).status).toBe(202);
    expect((await postFrom(service, '198.51.100.9')).status).toBe(429);
    await proxy.restore();
  });
});

describe('reports per sender on the web form', { timeout: 90_000 }, () => {
  let url: string;
  let service: Service & { url: string };

  beforeAll(async () => {
    const started = await startStaffWebService('intake-limit-web', LIMITED);
    service = started.service;
    url = started.service.url;
  });

  it('keeps what was typed and says when to send again, in Chinese; staff signed in are not counted', async () => {
    const { page, context } = await newPage({ baseURL: url });
    onCleanup(() => context.close());
    await page.setExtraHTTPHeaders({ 'x-forwarded-for': '203.0.113.9' });
    let lastSent = '';
    for (let i = 0; i < 3; i++) {
      await page.goto('/');
      lastSent = aReport().text;
      await page.fill('#text', lastSent);
      await Promise.all([page.waitForURL(/\/submitted\//), page.click('#report-form button[type=submit]')]);
    }
    const lastUrl = page.url();
    const before = await countCases(service);
    await page.goto('/');
    const text = aReport().text;
    await page.fill('#text', text);
    await page.fill('#address', '电镀厂后门桥下的水沟');
    const [answer] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.click('#report-form button[type=submit]')]);
    expect(answer.status()).toBe(429);
    expect(Number(answer.headers()['retry-after'])).toBeGreaterThan(0);
    const notice = await page.textContent('#form-error');
    expect(notice).toContain('从您所在网络提交的举报已达上限（每 1 小时最多 3 件）');
    expect(notice).toContain('12369');
    expect(await page.inputValue('#text')).toBe(text);
    expect(await page.inputValue('#address')).toBe('电镀厂后门桥下的水沟');
    expect(await countCases(service)).toBe(before);

    // The last report made, sent again from the same browser (back, and send again): its case, not a refusal.
    await page.goto('/');
    await page.fill('#text', lastSent);
    await Promise.all([page.waitForURL(/\/submitted\//), page.click('#report-form button[type=submit]')]);
    expect(page.url()).toBe(lastUrl);
    expect(await countCases(service)).toBe(before);

    // In English too.
    await page.goto('/?lang=en');
    await page.fill('#text', aReport().text);
    await page.click('#report-form button[type=submit]');
    expect(await page.textContent('#form-error')).toContain('Reports from your network have reached the limit (3 per 1 h)');

    // An operator typing in a caller's report from the same office network is not refused.
    await signIn(page, url, 'operator');
    await page.goto('/');
    await page.fill('#text', aReport().text);
    await Promise.all([page.waitForURL(/\/submitted\//), page.click('#report-form button[type=submit]')]);
    expect(await countCases(service)).toBe(before + 1);
  });
});

describe('reports per chat on the Telegram bot', () => {
  let emu: TelegramEmulator;
  let service: Service & { url: string };
  const logs = captureLogs('warn');

  beforeAll(async () => {
    emu = await startTelegramEmulator(TOKEN);
    service = await startTestService(telegramEnv(emu, 'intake-limit-telegram', { INTAKE_RATE_LIMIT: '1/1h', TRACK_LOOKUP_LIMIT: '2/10m' }), 'all', { logger: logs.logger });
  });

  const chatCases = async (chatId: number) =>
    (await service.deps.db.selectFrom('telegram_reporters').select('case_id').where('chat_id', '=', String(chatId)).execute()).length;

  /** Describes a report, stays anonymous and presses 确认提交; what the bot said to the chat meanwhile. */
  async function report(chat: ReturnType<typeof residentChat>, words: string): Promise<string[]> {
    await deliver(emu, service.url, chat.text(words));
    await deliver(emu, service.url, chat.button('c:anonymous'));
    return sentTexts((await deliver(emu, service.url, chat.button('c:confirm'))).calls, chat.chatId);
  }

  it("counts a chat as a sender: one report too many stays unsent at its summary, said in the chat's language", async () => {
    const chat = residentChat(88_001);
    expect((await report(chat, '兴隆办事处有人焚烧电线，第一次')).join('\n')).toContain('查询码');
    const refused = await report(chat, '兴隆办事处有人焚烧电线，第二次');
    expect(refused.join('\n')).toContain('这个聊天提交的举报已达上限（每 1 小时最多 1 件），这份举报还没有提交，内容已保留');
    expect(refused.join('\n')).not.toContain('查询码');
    expect(await chatCases(chat.chatId)).toBe(1);
    // The report is still at its summary: pressing 确认提交 again asks the gate again rather than saying the button is stale.
    const again = sentTexts((await deliver(emu, service.url, chat.button('c:confirm'))).calls, chat.chatId);
    expect(again.join('\n')).toContain('已达上限');
    expect(await chatCases(chat.chatId)).toBe(1);
    expect((await service.metrics.render()).body).toContain('intake_reports_refused_total{channel="telegram"} 2');

    // Another chat is a sender of its own, and is told in English when Telegram speaks English to it.
    const other = residentChat(88_002, 'en-US');
    expect((await report(other, '兴隆办事处有人焚烧电线')).join('\n')).toContain('Tracking code');
    expect((await report(other, '兴隆办事处有人焚烧电线，又一次')).join('\n')).toContain('Reports from this chat have reached the limit (1 per 1 h)');
  });

  it('holds back a chat that asked /status for too many unknown tracking codes, as the tracking page holds back an address', async () => {
    const chat = residentChat(88_003);
    const said = await report(chat, '兴隆办事处有人焚烧电线（查询测试）');
    const code = /[34679ACDEFGHJKMNPQRTUVWXY]{10}/.exec(said.join('\n'))?.[0];
    expect(code).toBeTruthy();
    const status = async (arg: string) => sentTexts((await deliver(emu, service.url, chat.command(`/status ${arg}`))).calls, chat.chatId).join('\n');
    expect(await status(code!)).toContain(`案件 ${code}`);
    expect(await status('AAAAAAAAAA')).toContain('没有找到这个查询码对应的案件');
    expect(await status('CCCCCCCCCC')).toContain('没有找到这个查询码对应的案件');
    // Two unknown codes allowed: then even its own code waits until the window ends.
    expect(await status(code!)).toBe('查询了太多不存在的查询码，请 10 分钟后再查询。');
    // Another chat is not held back by this one.
    const other = residentChat(88_004);
    expect(sentTexts((await deliver(emu, service.url, other.command(`/status ${code}`))).calls, other.chatId).join('\n')).toContain(`案件 ${code}`);
  });

  it('warns once when reports come with X-Forwarded-For while TRUST_PROXY is off (a proxy in front, most likely)', async () => {
    const warning = () => logs.lines.filter((l) => String(l.msg).includes('X-Forwarded-For but TRUST_PROXY is off'));
    expect(warning()).toHaveLength(0);
    // Without TRUST_PROXY the header is not believed: both reports come from 127.0.0.1, the second one too many.
    expect((await postFrom(service, '198.51.100.20')).status).toBe(202);
    expect((await postFrom(service, '198.51.100.21')).status).toBe(429);
    expect(warning()).toHaveLength(1);
  });
});

describe('TRACK_LOOKUP_LIMIT', () => {
  it('stops an address that tried as many unknown tracking codes as allowed, on every lookup route, until its window ends; known codes cost nothing', async () => {
    expect(parseEnv({}).TRACK_LOOKUP_LIMIT).toEqual({ reports: 20, windowS: 600 });
    expect(() => parseEnv({ TRACK_LOOKUP_LIMIT: 'many' })).toThrow(/TRACK_LOOKUP_LIMIT/);
    const service = await startTestService(testEnv('lookup-limit', { TRACK_LOOKUP_LIMIT: '3/10m', TRUST_PROXY: 'true' }));
    const accepted = (await (await postFrom(service, '203.0.113.50')).json()) as { trackingCode: string };
    const from = (address: string, path: string, init: RequestInit = {}) =>
      fetch(`${service.url}${path}`, { ...init, headers: { 'x-forwarded-for': address, ...(init.headers as Record<string, string>) } });
    const prober = '203.0.113.51';
    // A resident looking up their own case again and again is never stopped.
    for (let i = 0; i < 5; i++) expect((await from(prober, `/api/v1/track/${accepted.trackingCode}`)).status).toBe(200);
    // A method the tracking routes do not take looks nothing up: a 405 costs nothing.
    expect((await from(prober, '/api/v1/track/BBBBBBBBBB', { method: 'POST' })).status).toBe(405);
    // Unknown codes, by the API, the page and a rating: three allowed, then every lookup refused.
    expect((await from(prober, '/api/v1/track/AAAAAAAAAA')).status).toBe(404);
    expect((await from(prober, '/track/CCCCCCCCCC', { headers: { accept: 'text/html' } })).status).toBe(404);
    const rated = await from(prober, '/api/v1/track/DDDDDDDDDD/feedback', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rating: 'dissatisfied', solved: false }) });
    expect(rated.status).toBe(404);
    const stopped = await from(prober, `/api/v1/track/${accepted.trackingCode}`);
    expect(stopped.status).toBe(429);
    expect(Number(stopped.headers.get('retry-after'))).toBeGreaterThan(500);
    expect(((await stopped.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
    const page = await from(prober, `/track/${accepted.trackingCode}`, { headers: { accept: 'text/html', 'accept-language': 'zh-CN' } });
    expect(page.status).toBe(429);
    const said = await page.text();
    expect(said).toContain('操作过于频繁');
    // The page says, in its language, why and from when (the district's clock) the address may look up again.
    expect(said).toMatch(/查询暂停。请核对查询码，于 \d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2} 之后再查询。/);
    const english = await (await from(prober, `/track/${accepted.trackingCode}?lang=en`, { headers: { accept: 'text/html' } })).text();
    expect(english).toMatch(/Please check your code and look it up again after \d{1,2} \w{3} \d{4}, \d{2}:\d{2}\./);
    expect(english).not.toContain('too many lookups');
    expect((await from(prober, `/submitted/${accepted.trackingCode}`, { headers: { accept: 'text/html' } })).status).toBe(429);
    // Held back on every method: the limit runs before a route is looked for.
    expect((await from(prober, '/api/v1/track/BBBBBBBBBB', { method: 'POST' })).status).toBe(429);
    // Another address is not held back by this one.
    expect((await from('203.0.113.52', `/api/v1/track/${accepted.trackingCode}`)).status).toBe(200);
    // The document says the answer on both API routes that count.
    const doc = (await (await fetch(`${service.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown>; description: string }>>;
    };
    for (const op of [doc.paths['/api/v1/track/{trackingCode}']!.get!, doc.paths['/api/v1/track/{trackingCode}/feedback']!.post!]) {
      expect(op.responses['429']).toBeDefined();
      expect(op.description).toContain('TRACK_LOOKUP_LIMIT');
    }
  });
});

describe('the counter of unknown tracking codes', () => {
  it("lets a sender look up again once its window ended, even where the timer that forgets it never ran", async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const counter = lookupCounter({ reports: 2, windowS: 60 });
      await counter.missed('203.0.113.9');
      expect(await counter.heldBack('203.0.113.9')).toBeNull();
      await counter.missed('203.0.113.9');
      expect(await counter.heldBack('203.0.113.9')).toBe(60);
      // The clock moves past the window; the real timer that would delete the count has not fired.
      vi.setSystemTime(Date.now() + 61_000);
      expect(await counter.heldBack('203.0.113.9')).toBeNull();
      // A new miss starts a new window.
      await counter.missed('203.0.113.9');
      expect(await counter.heldBack('203.0.113.9')).toBeNull();
    } finally {
      vi.useRealTimers();
    }
  });
});
