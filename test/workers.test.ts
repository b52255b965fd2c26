import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Miniflare, Response as MfResponse, type Request as MfRequest } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caseReference } from '../src/domain/case.js';
import { DEFAULT_DISTRICT_PATH, loadDistrictFile } from '../src/district/district-file.js';
import type { DistrictFile } from '../src/district/district.schema.js';
import { transitionCase } from '../db/repositories/cases.repository.js';
import { appendEvents } from '../db/repositories/events.repository.js';
import { tokenAddSql, tokenRevokeSql, userAddSql, userPasswdSql } from '../src/worker/admin-cli.js';
import { createD1UnitRunner } from '../src/worker/d1.js';
import { compiled } from './compiled-sources.js';

/**
 * The Workers build, run in workerd through Miniflare: the bundle wrangler
 * deploys (built with `wrangler deploy --dry-run`), a local D1 database, the
 * jobs queue with its consumer and dead-letter queue, an R2 bucket and the
 * cron handler. Bureau webhooks are answered by this test at the fetch
 * boundary (Miniflare's outbound service); nothing else is faked.
 */

const ROOT = join(import.meta.dirname, '..');
const EPB_URL = 'https://epb.example/intake';
const ECON_URL = 'https://econ.example/intake';
const PUBLIC_URL = 'https://intake.example';

/** A worker that keeps what lands on the dead-letter queue and answers it on fetch. */
const DLQ_PROBE = `
const dead = [];
export default {
  async queue(batch) { for (const m of batch.messages) { dead.push(m.body); m.ack(); } },
  async fetch() { return Response.json(dead); },
};`;

let outDir: string;
let mf: Miniflare;
/** The Worker's log lines (JSON, one object per console line), in order. */
const logLines: Array<Record<string, unknown>> = [];
const webhookCalls: Array<{ url: string; delivery: string | null; signature: string | null; body: string }> = [];
const telegramCalls: Array<{ method: string; body: Record<string, unknown> }> = [];
const TELEGRAM_TOKEN = '123456:TEST-token_for_the_worker';
const TELEGRAM_SECRET = 'tg-webhook-secret';

/** The Bot API, as far as the bot needs it here. */
async function telegramApi(request: MfRequest): Promise<MfResponse> {
  const method = request.url.slice(request.url.lastIndexOf('/') + 1);
  const text = await request.text();
  const body = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
  telegramCalls.push({ method, body });
  const result =
    method === 'getMe'
      ? { id: 123456, is_bot: true, first_name: 'Intake', username: 'intake_test_bot' }
      : { message_id: telegramCalls.length, date: Math.floor(Date.now() / 1000), chat: { id: body.chat_id, type: 'private' }, text: body.text };
  return MfResponse.json({ ok: true, result });
}

async function build(): Promise<{ metafile: { inputs: Record<string, { imports: Array<{ path: string; external?: boolean }> }> } }> {
  outDir = mkdtempSync(join(tmpdir(), 'intake-worker-'));
  await promisify(execFile)(
    join(ROOT, 'node_modules/.bin/wrangler'),
    ['deploy', '--dry-run', '--outdir', outDir, '--metafile', join(outDir, 'meta.json')],
    { cwd: ROOT, env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1' } },
  );
  return { metafile: JSON.parse(readFileSync(join(outDir, 'meta.json'), 'utf8')) };
}

function districtWithWebhooks(): string {
  const file = JSON.parse(readFileSync(DEFAULT_DISTRICT_PATH, 'utf8')) as DistrictFile;
  file.bureaus = file.bureaus.map((b) =>
    b.code === 'epb' ? { ...b, webhook: { url: EPB_URL } } : b.code === 'econ' ? { ...b, webhook: { url: ECON_URL } } : b,
  );
  return JSON.stringify(file);
}

let metafile: Awaited<ReturnType<typeof build>>['metafile'];

beforeAll(async () => {
  ({ metafile } = await build());
  mf = new Miniflare({
    // The Worker's console, kept line by line; warnings and errors are shown as well, as workerd would print them.
    handleStructuredLogs: ({ message }: { message: string }) => {
      for (const line of message.split('\n').filter(Boolean)) {
        let parsed: Record<string, unknown>;
        try {
          parsed = JSON.parse(line) as Record<string, unknown>;
        } catch {
          console.log(line);
          continue;
        }
        logLines.push(parsed);
        if ((parsed.level as number) >= 40) console.warn(line);
      }
    },
    workers: [
      {
        name: 'intake',
        modules: true,
        scriptPath: join(outDir, 'worker.js'),
        modulesRoot: outDir,
        modulesRules: [{ type: 'Text', include: ['**/*.jsonl'] }],
        // Written by the build step of wrangler.toml, as for `wrangler deploy`.
        assets: { directory: join(ROOT, 'dist/cf-assets'), routerConfig: { has_user_worker: true } },
        compatibilityDate: '2026-04-26',
        compatibilityFlags: ['nodejs_compat'],
        d1Databases: { DB: 'intake-test' },
        r2Buckets: ['PHOTOS'],
        queueProducers: { JOBS: 'intake-jobs', DEAD_JOBS: 'intake-jobs-dlq' },
        queueConsumers: { 'intake-jobs': { maxBatchSize: 10, maxBatchTimeout: 1, maxRetries: 10, deadLetterQueue: 'intake-jobs-dlq' } },
        bindings: {
          PUBLIC_URL,
          LOG_LEVEL: 'info',
          WEBHOOK_SECRET: 'a-test-secret-of-some-length',
          DISPATCH_ATTEMPTS: '3',
          DISPATCH_BACKOFF_MS: '1000',
          // Short, so the cron runs below would take a delivery waiting out its retry delay for lost if nothing guarded it.
          RECONCILE_GRACE_MS: '1000',
          DISTRICT_JSON: districtWithWebhooks(),
          TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN,
          TELEGRAM_WEBHOOK_SECRET: TELEGRAM_SECRET,
          // As wrangler.toml sets it: Workers refuse PBKDF2 above 100,000 iterations.
          PASSWORD_ITERATIONS: '100000',
          // Low, so a test reaches it (the tests' other reports come from Miniflare's own address).
          INTAKE_RATE_LIMIT: '3/1h',
        },
        // Telegram's Bot API, and the bureaus' servers: the environment bureau takes deliveries, the economy bureau's is broken.
        outboundService: async (request: MfRequest) => {
          if (request.url.startsWith(`https://api.telegram.org/bot${TELEGRAM_TOKEN}/`)) return telegramApi(request);
          webhookCalls.push({
            url: request.url,
            delivery: request.headers.get('x-intake-delivery'),
            signature: request.headers.get('x-intake-signature'),
            body: await request.text(),
          });
          return new MfResponse(request.url === EPB_URL ? 'ok' : 'down', { status: request.url === EPB_URL ? 200 : 500 });
        },
      },
      { name: 'dlq-probe', modules: true, script: DLQ_PROBE, compatibilityDate: '2026-04-26', queueConsumers: ['intake-jobs-dlq'] },
    ],
  });
  await mf.ready;
}, 120_000);

afterAll(async () => {
  await mf?.dispose();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

async function d1() {
  return mf.getD1Database('DB', 'intake');
}

async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let lastError: unknown = null;
  for (;;) {
    // A poll through Miniflare's proxy can drop while workerd is busy (the first
    // classification trains the model); the next poll asks again.
    const value = await probe().catch((err: unknown) => {
      lastError = err;
      return null;
    });
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function call(path: string, init?: RequestInit & { token?: string }) {
  const headers = new Headers(init?.headers as ConstructorParameters<typeof Headers>[0]);
  if (init?.token) headers.set('authorization', `Bearer ${init.token}`);
  const res = await mf.dispatchFetch(`http://localhost${path}`, { ...init, headers } as never);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body: body as Record<string, any>, headers: res.headers };
}

type D1 = Awaited<ReturnType<typeof d1>>;

/** A case of illegal discharge in 兴隆, received `at`, as a statement for `db.batch`. */
function seededCase(db: D1, c: { id: string; code: string; text: string; status: string; at: string; mergedInto?: string }) {
  return db
    .prepare("insert into cases (id, tracking_code, channel, text, status, type_code, jurisdiction_code, merged_into, received_at, updated_at) values (?, ?, 'web', ?, ?, 'illegal_discharge', 'xinglong', ?, ?, ?)")
    .bind(c.id, c.code, c.text, c.status, c.mergedInto ?? null, c.at, c.at);
}

/** The assignment `${caseId}-${unit}`, made `at`, as a statement for `db.batch`; a replied one was signed for and answered `at`. */
function seededAssignment(db: D1, a: { caseId: string; unit: string; role: string; status: 'pending' | 'replied'; signBy: string; replyBy: string; at: string }) {
  const done = a.status === 'replied' ? a.at : null;
  return db
    .prepare('insert into assignments (id, case_id, unit_code, role, status, sign_deadline_at, reply_deadline_at, accepted_at, replied_at, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
    .bind(`${a.caseId}-${a.unit}`, a.caseId, a.unit, a.role, a.status, a.signBy, a.replyBy, done, done, a.at, a.at);
}

/** A web session of the account, given a password as `npm run admin:cf -- user passwd` sets it: its cookie. */
async function webSession(userId: string, username: string): Promise<string> {
  const db = await d1();
  for (const statement of await userPasswdSql({ userId, username, password: 'a long enough password' })) await db.prepare(statement).run();
  const form = await mf.dispatchFetch('http://localhost/signin', { headers: { accept: 'text/html' } });
  const csrf = /__Host-csrf=([^;]+)/.exec(form.headers.get('set-cookie') ?? '')?.[1];
  await form.text();
  const signedIn = await mf.dispatchFetch('http://localhost/signin', {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `__Host-csrf=${csrf}`, accept: 'text/html' },
    body: new URLSearchParams({ _csrf: csrf!, username, password: 'a long enough password' }).toString(),
  });
  await signedIn.text();
  const session = /(__Host-sid=[^;]+)/.exec(signedIn.headers.get('set-cookie') ?? '')?.[1];
  expect(session, `signed in as ${username}`).toBeTruthy();
  return session!;
}

describe('the Miniflare the tests run on', () => {
  it('is the patched one (test/patches), whose synchronous proxy cannot fall a reply behind', () => {
    // Applied by npm install (postinstall): without it a busy machine can fail every later test of this file.
    const source = readFileSync(createRequire(import.meta.url).resolve('miniflare'), 'utf8');
    expect(source).toContain('Patched by the project (test/patches/README.md)');
  });
});

describe('the Workers bundle', () => {
  it('contains none of the Node-only adapters', () => {
    const inputs = Object.keys(metafile.inputs);
    // The bundle does hold the shared code and the Workers adapters.
    expect(inputs).toContain('src/app.ts');
    expect(inputs).toContain('queues/processors/intake.processor.ts');
    expect(inputs.some((i) => i.includes('node_modules/kysely-d1/'))).toBe(true);
    const nodeOnly = /node_modules\/(better-sqlite3|bullmq|ioredis|pg|pg-pool|pino|pino-pretty|prom-client|@hono\/node-server|swagger-ui-dist)\/|db\/connect\.ts|local-photo-store|classifier-store|district-file\.ts/;
    expect(inputs.filter((i) => nodeOnly.test(i))).toEqual([]);
    const external = Object.values(metafile.inputs).flatMap((i) => i.imports.filter((m) => m.external).map((m) => m.path));
    expect(external.filter((p) => /^(node:)?(fs|fs\/promises|net|child_process|worker_threads|module)$/.test(p))).toEqual([]);
  });
});

describe('the Worker on D1, Queues and R2', () => {
  it('lets a staff member whose password was set with npm run admin:cf sign in to the web pages', async () => {
    // The first request migrates D1; the sign-in form also sets the CSRF cookie.
    const form = await mf.dispatchFetch('http://localhost/signin', { headers: { accept: 'text/html' } });
    // PUBLIC_URL is https: the token cookie is __Host- prefixed, as only this host may set it.
    const csrf = /__Host-csrf=([^;]+)/.exec(form.headers.get('set-cookie') ?? '')?.[1];
    await form.text();
    expect(csrf).toBeTruthy();
    const db = await d1();
    const account = await userAddSql({ role: 'dispatcher', unitCode: null, name: '调度小吴' }, loadDistrictFile());
    for (const statement of account.sql) await db.prepare(statement).run();
    for (const statement of await userPasswdSql({ userId: account.userId, username: 'wu', password: 'a long enough password' })) {
      await db.prepare(statement).run();
    }
    const stored = await db.prepare('select password_hash from users where id = ?').bind(account.userId).first<{ password_hash: string }>();
    expect(stored?.password_hash).toMatch(/^pbkdf2-sha256\$100000\$/);

    const signIn = async (password: string) =>
      mf.dispatchFetch('http://localhost/signin', {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `__Host-csrf=${csrf}`, accept: 'text/html' },
        body: new URLSearchParams({ _csrf: csrf!, username: 'wu', password, next: '/desk' }).toString(),
      });
    const wrong = await signIn('not the password at all');
    await wrong.text();
    expect(wrong.status).toBe(401);
    const ok = await signIn('a long enough password');
    await ok.text();
    expect(ok.status).toBe(303);
    // PUBLIC_URL is https: the session cookie is __Host- prefixed and Secure.
    const session = /(__Host-sid=[^;]+)/.exec(ok.headers.get('set-cookie') ?? '')?.[1];
    expect(session).toBeTruthy();
    const desk = await mf.dispatchFetch('http://localhost/desk', { redirect: 'manual', headers: { cookie: session!, accept: 'text/html' } });
    expect(desk.status).toBe(200);
    expect(await desk.text()).toContain('调度小吴');
    // Signing in did not renew the hash to a work factor the platform refuses.
    const after = await db.prepare('select password_hash from users where id = ?').bind(account.userId).first<{ password_hash: string }>();
    expect(after?.password_hash).toBe(stored?.password_hash);
  }, 60_000);

  it('serves the pages\' scripts and the API page\'s files as static assets', async () => {
    for (const [path, type] of [
      ['/assets/echarts.min.js', 'text/javascript'],
      ['/assets/app.css', 'text/css'],
      ['/docs/assets/swagger-ui-bundle.js', 'text/javascript'],
    ] as const) {
      const res = await mf.dispatchFetch(`http://localhost${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toContain(type);
      await res.arrayBuffer();
    }
    const docs = await call('/docs');
    expect(docs.status).toBe(200);
    expect(String(docs.body)).toContain('/docs/assets/swagger-ui-bundle.js');
  });

  it('sends every answer with the headers the Node server writes: no framing, no sniffing, the API kept in no cache', async () => {
    const page = await mf.dispatchFetch('http://localhost/', { headers: { accept: 'text/html' } });
    await page.arrayBuffer();
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('content-security-policy')).toBe("frame-ancestors 'none'");
    expect(page.headers.get('referrer-policy')).toBe('same-origin');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const api = await mf.dispatchFetch('http://localhost/api/v1/track/ZZZZZZZZZZ');
    await api.arrayBuffer();
    expect(api.status).toBe(404);
    expect(api.headers.get('cache-control')).toBe('no-store');
    expect(api.headers.get('x-frame-options')).toBe('DENY');
  });

  it('brings a report form sent without the page script back as typed when its photos are more than a report carries, saying how large they were', async () => {
    // Five photos of 11 MB (over the 51 MB a form may be), between text typed before them and after them.
    const boundary = '----WebKitFormBoundaryQ7mZ2xWorkers';
    const part = (headers: string, body: Buffer | string) => [Buffer.from(`--${boundary}\r\n${headers}\r\n\r\n`), Buffer.from(body), Buffer.from('\r\n')];
    const photo = Buffer.alloc(11 * 1024 * 1024, 0xd8);
    const body = Buffer.concat([
      ...part('Content-Disposition: form-data; name="text"', '兴隆街道电镀厂夜里往沟里排黑水\r\n沟边的菜都死了'),
      ...Array.from({ length: 5 }, (_, i) => part(`Content-Disposition: form-data; name="photos"; filename="IMG_40${i}.jpg"\r\nContent-Type: image/jpeg`, photo)).flat(),
      ...part('Content-Disposition: form-data; name="address"', '电镀厂后门桥下的水沟'),
      ...part('Content-Disposition: form-data; name="anonymous"', 'on'),
      Buffer.from(`--${boundary}--\r\n`),
    ]);
    // The form is opened first, as a browser does (the first request also migrates D1).
    await (await mf.dispatchFetch('http://localhost/', { headers: { accept: 'text/html' } })).arrayBuffer();
    const db = await d1();
    const cases = async () => (await db.prepare('select count(*) as n from cases').first<{ n: number }>())?.n;
    const before = await cases();
    // Sent over HTTP to the Worker as a browser sends it, with its Content-Length (dispatchFetch streams it chunked).
    const res = await fetch(new URL('/', await mf.ready), {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, accept: 'text/html' },
      body,
    });
    const html = await res.text();
    expect(res.status, html.slice(0, 500)).toBe(413);
    expect(html).toContain('所选的 5 张照片共 55.0 MB，超过了一件举报能带的照片（最多 5 张，每张不超过 10 MB）');
    expect(html).toContain('兴隆街道电镀厂夜里往沟里排黑水\n沟边的菜都死了</textarea>');
    expect(html).toContain('id="address" name="address" value="电镀厂后门桥下的水沟"');
    expect(html).toMatch(/id="anonymous" name="anonymous" value="on" checked/);
    expect(await cases()).toBe(before);
    // Streamed chunked, without a Content-Length: the same page.
    const chunked = await mf.dispatchFetch('http://localhost/', {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, accept: 'text/html' },
      body: new ReadableStream<Uint8Array>({
        start(controller) {
          for (let at = 0; at < body.length; at += 1024 * 1024) controller.enqueue(new Uint8Array(body.subarray(at, at + 1024 * 1024)));
          controller.close();
        },
      }),
      duplex: 'half',
    } as Parameters<typeof mf.dispatchFetch>[1]);
    const page = await chunked.text();
    expect(chunked.status, page.slice(0, 500)).toBe(413);
    expect(page).toContain('所选的 5 张照片共 55.0 MB，超过了一件举报能带的照片（最多 5 张，每张不超过 10 MB）');
    expect(page).toContain('兴隆街道电镀厂夜里往沟里排黑水\n沟边的菜都死了</textarea>');
    expect(await cases()).toBe(before);
  }, 60_000);

  let caseId: string;
  let trackingCode: string;

  it('accepts a report, dispatches it through the queue and D1, and a bureau signs for it', async () => {
    const posted = await call('/api/v1/reports', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: '兴隆办事处那边一个厂子晚上往沟里排黑水，气味很大', anonymous: true }),
    });
    expect(posted.status, JSON.stringify(posted.body)).toBe(202);
    expect(posted.body.status).toBe('received');
    expect(posted.body.trackUrl).toBe(`${PUBLIC_URL}/track/${posted.body.trackingCode}`);
    caseId = posted.body.id;
    trackingCode = posted.body.trackingCode;

    const db = await d1();
    const dispatched = await waitFor('the case to be dispatched', async () => {
      const row = await db.prepare('select status, type_code, jurisdiction_code from cases where id = ?').bind(caseId).first<Record<string, string>>();
      return row && row.status !== 'received' ? row : null;
    });
    expect(dispatched).toMatchObject({ status: 'dispatched', type_code: 'illegal_discharge', jurisdiction_code: 'xinglong' });
    const units = await db.prepare('select unit_code, role from assignments where case_id = ? order by unit_code').bind(caseId).all<{ unit_code: string; role: string }>();
    expect(units.results.map((u) => `${u.unit_code}:${u.role}`)).toEqual(['econ:co', 'epb:lead', 'xinglong:jurisdiction']);
    // The district file's names are kept in D1 too, for the day an edited file drops one.
    const names = await db.prepare("select kind, name_zh from code_names where code in ('epb', 'illegal_discharge') order by kind").all<{ kind: string; name_zh: string }>();
    expect(names.results).toEqual([
      { kind: 'type', name_zh: '非法排放有毒有害污染物' },
      { kind: 'unit', name_zh: '区环保局' },
    ]);

    // The lead bureau's webhook got the assignment, signed, through the dispatch job.
    const delivered = await waitFor('the delivery to epb', async () =>
      db.prepare("select status, attempts from deliveries where case_id = ? and unit_code = 'epb'").bind(caseId).first<{ status: string; attempts: number }>()
        .then((r) => (r?.status === 'delivered' ? r : null)),
    );
    expect(delivered.attempts).toBe(1);
    const call1 = webhookCalls.find((c) => c.url === EPB_URL);
    expect(call1?.signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(JSON.parse(call1!.body)).toMatchObject({ event: 'case.assigned', case: { id: caseId, reference: caseReference(caseId) }, assignment: { role: 'lead' } });
    // Not the tracking code: with it the bureau could rate its own answer.
    expect(call1!.body).not.toContain(trackingCode);

    // A bureau account, as `npm run admin:cf -- user add` makes it: the admin tool's rows as SQL, run on D1.
    const account = await userAddSql({ role: 'bureau', unitCode: 'epb', name: '张三' }, loadDistrictFile());
    for (const statement of account.sql) await db.prepare(statement).run();
    const token = account.token;

    // Sent with an Idempotency-Key, its retry is answered as it was, the key and the answer kept in D1 with the signature.
    const keyed = { method: 'POST', token, headers: { 'idempotency-key': 'd1-sign-1' } };
    const accepted = await call(`/api/v1/cases/${caseId}/accept`, keyed);
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    expect(accepted.headers.get('idempotent-replayed')).toBeNull();
    const replayed = await call(`/api/v1/cases/${caseId}/accept`, keyed);
    expect(replayed.status, JSON.stringify(replayed.body)).toBe(200);
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    expect(replayed.body).toEqual(accepted.body);
    expect(replayed.headers.get('etag')).toBe(accepted.headers.get('etag'));
    const signed = await db.prepare("select count(*) as n from case_events where case_id = ? and kind = 'status' and to_status = 'accepted'").bind(caseId).first<{ n: number }>();
    expect(signed?.n).toBe(1);
    const again = await call(`/api/v1/cases/${caseId}/accept`, { method: 'POST', token });
    expect(again.status).toBe(409);

    const tracked = await call(`/api/v1/track/${trackingCode}`);
    expect(tracked.status).toBe(200);
    expect(tracked.body).toMatchObject({ trackingCode, status: 'accepted', type: { code: 'illegal_discharge' }, lead: { code: 'epb' } });
    expect(tracked.body.history.map((h: { status: string }) => h.status)).toEqual(expect.arrayContaining(['received', 'dispatched', 'accepted']));

    // `admin:cf -- token revoke --id TOKEN_ID`, as `npm run admin` takes it; and by the token itself.
    const second = await tokenAddSql(account.userId, 'second');
    for (const statement of second.sql) await db.prepare(statement).run();
    const firstId = (await db.prepare('select id from api_tokens where user_id = ? and label is null').bind(account.userId).first<{ id: string }>())!.id;
    await db.prepare(tokenRevokeSql({ id: firstId })).run();
    expect((await call('/api/v1/me', { token })).status).toBe(401);
    expect((await call('/api/v1/me', { token: second.token })).status).toBe(200);
    await db.prepare(tokenRevokeSql({ token: second.token })).run();
    expect((await call('/api/v1/me', { token: second.token })).status).toBe(401);
  }, 60_000);

  it('logs one case so it can be followed by its id, with the lines and fields of the Node processes', async () => {
    const accepted = await waitFor('the report accepted line', async () => logLines.find((l) => l.msg === 'report accepted' && l.caseId === caseId), 10_000);
    expect(accepted).toMatchObject({ channel: 'web', reqId: expect.any(String) });
    const request = logLines.find((l) => l.msg === 'request' && l.reqId === accepted.reqId);
    expect(request).toMatchObject({ method: 'POST', path: '/api/v1/reports', status: 202 });
    const routed = await waitFor('the intake job line', async () => logLines.find((l) => l.msg === 'job completed' && l.caseId === caseId && l.queue === 'intake'), 10_000);
    expect(routed).toMatchObject({ jobId: `intake-${caseId}`, result: expect.stringMatching(/^(dispatch|transfer|triage)/) });
    expect(logLines.find((l) => l.msg === 'job completed' && l.jobId === `dispatch-${caseId}-epb-webhook`)).toMatchObject({ queue: 'dispatch', caseId, unit: 'epb' });
    expect(JSON.stringify(logLines)).not.toContain('排黑水');
  });

  it('writes the intake unit of work as one guarded batch: all of it, or nothing when the case moved meanwhile', async () => {
    const db = await d1();
    const runner = createD1UnitRunner(db as never);
    const at = new Date().toISOString();
    const kinds = async () =>
      (await db.prepare('select kind from case_events where case_id = ?').bind(caseId).all<{ kind: string }>()).results.map((r) => r.kind);

    // The case is accepted, not received: the conditional update matches nothing and nothing is written.
    await expect(
      runner.run(async (trx) => {
        await appendEvents(trx, [{ caseId, at, kind: 'probe_lost' }]);
        return transitionCase(trx, caseId, 'received', { status: 'dispatched', updated_at: at });
      }),
    ).rejects.toThrow(/matched no row/);
    expect(await kinds()).not.toContain('probe_lost');

    // A matching update: the whole unit is written, and the unit's own result comes back.
    const moved = await runner.run(async (trx) => {
      const ok = await transitionCase(trx, caseId, 'accepted', { status: 'accepted', updated_at: at });
      await appendEvents(trx, [{ caseId, at, kind: 'probe_kept' }]);
      return ok;
    });
    expect(moved).toBe(true);
    expect(await kinds()).toContain('probe_kept');
  });

  it('retries a failing delivery with backoff and puts the job on the dead-letter queue when it fails for good', async () => {
    const db = await d1();
    // The cron trigger fires while the delivery waits out its retry delays: it must not start a second chain of attempts.
    const worker = await mf.getWorker('intake');
    const failed = await waitFor('the delivery to econ to fail for good', async () => {
      expect((await worker.scheduled({ cron: '*/5 * * * *' })).outcome).toBe('ok');
      return db.prepare("select status, attempts, last_error from deliveries where case_id = ? and unit_code = 'econ'").bind(caseId).first<{ status: string; attempts: number; last_error: string }>()
        .then((r) => (r?.status === 'failed' ? r : null));
    });
    expect(failed).toMatchObject({ attempts: 3, last_error: 'HTTP 500' });
    expect(webhookCalls.filter((c) => c.url === ECON_URL)).toHaveLength(3);
    const event = await db.prepare("select data from case_events where case_id = ? and kind = 'delivery_failed'").bind(caseId).first<{ data: string }>();
    expect(JSON.parse(event!.data)).toMatchObject({ unit: 'econ', attempts: 3 });

    const probe = await mf.getWorker('dlq-probe');
    const dead = await waitFor('the dead-letter queue', async () => {
      const list = (await (await probe.fetch('http://probe/')).json()) as Array<Record<string, unknown>>;
      return list.length > 0 ? list : null;
    });
    expect(dead).toEqual([expect.objectContaining({ name: 'dispatch', jobId: `dispatch-${caseId}-econ-webhook`, error: 'HTTP 500', attempts: 3 })]);
    // Each failure is logged as the Node workers log it, with the case's id.
    const failures = await waitFor('the three failure lines', async () => {
      const found = logLines.filter((l) => l.jobId === `dispatch-${caseId}-econ-webhook` && String(l.msg).startsWith('job failed'));
      return found.length >= 3 ? found : null;
    }, 10_000);
    expect(failures.map((l) => l.msg)).toEqual(['job failed, will retry', 'job failed, will retry', 'job failed for good']);
    expect(failures[2]).toMatchObject({ queue: 'dispatch', caseId, unit: 'econ', attempt: 3, maxAttempts: 3, final: true, err: 'HTTP 500' });
  }, 60_000);

  it('answers Telegram on the webhook through grammY, and only with the secret token', async () => {
    const update = {
      update_id: 90001,
      message: {
        message_id: 1,
        date: Math.floor(Date.now() / 1000),
        chat: { id: 777001, type: 'private' },
        from: { id: 777001, is_bot: false, first_name: '居民', language_code: 'zh-hans' },
        text: '/start',
        entities: [{ type: 'bot_command', offset: 0, length: 6 }],
      },
    };
    const post = (secret: string | null) =>
      mf.dispatchFetch('http://localhost/telegram/webhook', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(secret ? { 'x-telegram-bot-api-secret-token': secret } : {}) },
        body: JSON.stringify(update),
      });
    const refused = await post('wrong-secret');
    expect(refused.status).toBe(401);
    await refused.arrayBuffer();
    expect(telegramCalls.filter((c) => c.method === 'sendMessage')).toEqual([]);

    const answered = await post(TELEGRAM_SECRET);
    expect(answered.status).toBe(200);
    await answered.arrayBuffer();
    const sent = telegramCalls.filter((c) => c.method === 'sendMessage');
    expect(sent).toHaveLength(1);
    expect(sent[0]!.body).toMatchObject({ chat_id: 777001 });
    expect(String(sent[0]!.body.text).length).toBeGreaterThan(0);
  });

  it('runs the deadline sweep on the cron trigger', async () => {
    const db = await d1();
    // The jurisdiction has not signed for its part, and its deadline has passed.
    await db.prepare("update assignments set sign_deadline_at = '2026-01-05T02:00:00.000Z' where case_id = ? and unit_code = 'xinglong'").bind(caseId).run();
    const worker = await mf.getWorker('intake');
    const outcome = await worker.scheduled({ cron: '*/5 * * * *' });
    expect(outcome.outcome).toBe('ok');
    const row = await db.prepare("select sign_overdue_at, supervised_at from assignments where case_id = ? and unit_code = 'xinglong'").bind(caseId).first<Record<string, string | null>>();
    expect(row?.sign_overdue_at).not.toBeNull();
    const kinds = await db.prepare('select kind from case_events where case_id = ?').bind(caseId).all<{ kind: string }>();
    expect(kinds.results.map((k) => k.kind)).toEqual(expect.arrayContaining(['overdue', 'supervised']));
    // The other assignments were not touched.
    const epb = await db.prepare("select sign_overdue_at from assignments where case_id = ? and unit_code = 'epb'").bind(caseId).first<Record<string, string | null>>();
    expect(epb?.sign_overdue_at).toBeNull();
  }, 60_000);

  it("deletes on the cron trigger the units' action keys kept longer than a day, as the Node reconciler does, and keeps a fresh one", async () => {
    const db = await d1();
    const keep = (key: string, at: string) =>
      db
        .prepare("insert into unit_action_keys (unit_code, case_id, action, key, request_hash, answer_status, answer_etag, answer_body, created_at) values ('epb', ?, 'accept', ?, 'h', 200, null, '{}', ?)")
        .bind(caseId, key, at)
        .run();
    await keep('old-key', '2026-01-01T00:00:00.000Z');
    await keep('fresh-key', new Date().toISOString());
    const worker = await mf.getWorker('intake');
    expect((await worker.scheduled({ cron: '*/5 * * * *' })).outcome).toBe('ok');
    const keys = await db.prepare("select key from unit_action_keys where case_id = ? and key in ('old-key', 'fresh-key')").bind(caseId).all<{ key: string }>();
    expect(keys.results.map((k) => k.key)).toEqual(['fresh-key']);
  }, 60_000);

  it("deletes on the cron trigger the reports' idempotency keys kept longer than two days, as the Node reconciler does: the same key then makes a new case, a fresh one still replays", async () => {
    const db = await d1();
    // Each from an address of its own: the limit per address (3 an hour here) is not what this is about.
    let sender = 20;
    const send = (key: string, text: string) =>
      call('/api/v1/reports', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'cf-connecting-ip': `198.51.100.${sender++}`, 'idempotency-key': key },
        body: JSON.stringify({ text, anonymous: true }),
      });
    const oldText = '八字桥那边有人往河里倒垃圾（键的保留测试：旧）';
    const freshText = '八字桥那边有人往河里倒垃圾（键的保留测试：新）';
    const old = await send('cron-old-key', oldText);
    const fresh = await send('cron-fresh-key', freshText);
    expect([old.status, fresh.status], JSON.stringify([old.body, fresh.body])).toEqual([202, 202]);
    // The first was sent three days ago.
    const threeDaysAgo = new Date(Date.now() - 72 * 3_600_000).toISOString();
    await db.prepare("update idempotency_keys set created_at = ? where key like '%:cron-old-key'").bind(threeDaysAgo).run();
    const worker = await mf.getWorker('intake');
    expect((await worker.scheduled({ cron: '*/5 * * * *' })).outcome).toBe('ok');
    const keys = await db.prepare("select key from idempotency_keys where key like '%:cron-old-key' or key like '%:cron-fresh-key'").all<{ key: string }>();
    expect(keys.results.map((k) => k.key)).toEqual([expect.stringMatching(/:cron-fresh-key$/)]);
    const line = await waitFor('the scheduled sweep line that pruned keys', async () => logLines.find((l) => l.msg === 'scheduled sweep' && Number(l.idempotencyKeysPruned) >= 1), 10_000);
    expect(line.idempotencyKeysPruned).toBeGreaterThanOrEqual(1);
    const oldAgain = await send('cron-old-key', oldText);
    expect(oldAgain.status).toBe(202);
    expect(oldAgain.headers.get('idempotent-replayed')).toBeNull();
    expect(oldAgain.body.id).not.toBe(old.body.id);
    const freshAgain = await send('cron-fresh-key', freshText);
    expect(freshAgain.headers.get('idempotent-replayed')).toBe('true');
    expect(freshAgain.body.id).toBe(fresh.body.id);
  }, 60_000);

  it("forgets on the cron trigger the bot's update ids older than 48 hours and its reports left unfinished for 7 days, as the Node reconciler does, and keeps the recent ones", async () => {
    // The first request migrates D1, when this test runs alone.
    await (await mf.dispatchFetch('http://localhost/healthz')).text();
    const db = await d1();
    const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();
    const update = (id: number, h: number) => db.prepare('insert into telegram_updates (update_id, received_at) values (?, ?)').bind(id, hoursAgo(h));
    const draft = (chat: string, h: number) => db.prepare("insert into telegram_sessions (chat_id, state, updated_at) values (?, '{}', ?)").bind(chat, hoursAgo(h));
    await db.batch([update(880001, 49), update(880002, 47), draft('cron-draft-old', 7 * 24 + 1), draft('cron-draft-recent', 6 * 24)]);
    const worker = await mf.getWorker('intake');
    expect((await worker.scheduled({ cron: '*/5 * * * *' })).outcome).toBe('ok');
    const updates = await db.prepare('select update_id from telegram_updates where update_id in (880001, 880002)').all<{ update_id: number }>();
    expect(updates.results.map((u) => u.update_id)).toEqual([880002]);
    const drafts = await db.prepare("select chat_id from telegram_sessions where chat_id like 'cron-draft-%'").all<{ chat_id: string }>();
    expect(drafts.results.map((d) => d.chat_id)).toEqual(['cron-draft-recent']);
    const line = await waitFor('the scheduled sweep line that pruned the bot\'s rows', async () => logLines.find((l) => l.msg === 'scheduled sweep' && Number(l.telegramStatePruned) >= 2), 10_000);
    expect(line.telegramStatePruned).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('forgets on the cron trigger the sign-in attempts and the sessions that ended over a day ago, as the Node reconciler does, and keeps the younger', async () => {
    // The first request migrates D1, when this test runs alone.
    await (await mf.dispatchFetch('http://localhost/healthz')).text();
    const db = await d1();
    const account = await userAddSql({ role: 'dispatcher', unitCode: null, name: '调度小郑' }, loadDistrictFile());
    for (const statement of account.sql) await db.prepare(statement).run();
    const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();
    const attempt = (id: string, h: number) => db.prepare("insert into sign_in_attempts (id, username, ip, ok, at) values (?, 'cron-guesser', '192.0.2.7', 0, ?)").bind(id, hoursAgo(h));
    const session = (id: string, expiresH: number, revokedH: number | null) =>
      db
        .prepare('insert into web_sessions (id, token_hash, user_id, created_at, last_seen_at, expires_at, revoked_at) values (?, ?, ?, ?, ?, ?, ?)')
        .bind(id, `hash-${id}`, account.userId, hoursAgo(40), hoursAgo(40), hoursAgo(expiresH), revokedH === null ? null : hoursAgo(revokedH));
    await db.batch([
      attempt('cron-attempt-old', 25),
      attempt('cron-attempt-recent', 23),
      // Expired over a day ago; signed out over a day ago; expired less than a day ago; still good.
      session('cron-session-expired', 25, null),
      session('cron-session-revoked', -8, 25),
      session('cron-session-expired-late', 23, null),
      session('cron-session-live', -8, null),
    ]);
    const worker = await mf.getWorker('intake');
    expect((await worker.scheduled({ cron: '*/5 * * * *' })).outcome).toBe('ok');
    const attempts = await db.prepare("select id from sign_in_attempts where username = 'cron-guesser'").all<{ id: string }>();
    expect(attempts.results.map((a) => a.id)).toEqual(['cron-attempt-recent']);
    const sessions = await db.prepare('select id from web_sessions where user_id = ? order by id').bind(account.userId).all<{ id: string }>();
    expect(sessions.results.map((s) => s.id)).toEqual(['cron-session-expired-late', 'cron-session-live']);
    const line = await waitFor(
      'the scheduled sweep line that pruned sign-ins',
      async () => logLines.find((l) => l.msg === 'scheduled sweep' && Number(l.signInAttemptsPruned) >= 1 && Number(l.sessionsPruned) >= 2),
      10_000,
    );
    expect(line).toMatchObject({ signInAttemptsPruned: expect.any(Number), sessionsPruned: expect.any(Number) });
  }, 60_000);

  it('re-creates on the cron trigger the job of a notice its lost job left pending, as the Node reconciler does', async () => {
    const db = await d1();
    // Made long ago and still pending: its job is gone (a queue message lost, a send that failed after the commit).
    await db
      .prepare("insert into notifications (id, case_id, audience, kind, status, data, created_at) values ('lost-notice-1', ?, 'dispatchers', 'supervised', 'pending', '{}', '2026-01-01T00:00:00.000Z')")
      .bind(caseId)
      .run();
    const worker = await mf.getWorker('intake');
    expect((await worker.scheduled({ cron: '*/5 * * * *' })).outcome).toBe('ok');
    const settled = await waitFor('the lost notice to be handled', async () =>
      db.prepare("select status, sent_at from notifications where id = 'lost-notice-1'").first<{ status: string; sent_at: string | null }>().then((r) => (r?.status === 'pending' ? null : r)),
    );
    expect(settled).toMatchObject({ status: 'sent', sent_at: expect.any(String) });
    expect(logLines.find((l) => l.msg === 'scheduled sweep' && Number(l.notify) >= 1)).toBeDefined();
  }, 60_000);

  it('logs a unit of work that failed after some of its statements were committed with its error and request id', async () => {
    const db = await d1();
    // A replied case whose next event D1 refuses: the rating and the status change are committed before it.
    await db.prepare("update cases set status = 'replied', rate_deadline_at = null where id = ?").bind(caseId).run();
    await db.prepare(`create trigger refuse_events before insert on case_events when new.case_id = '${caseId}' begin select raise(abort, 'this case takes no more events'); end`).run();
    try {
      const rated = await call(`/api/v1/track/${trackingCode}/feedback`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ rating: 'satisfied', solved: true }),
      });
      expect(rated.status, JSON.stringify(rated.body)).toBe(500);
    } finally {
      await db.prepare('drop trigger refuse_events').run();
    }
    const half = await waitFor('the unit of work line', async () => logLines.find((l) => String(l.msg).startsWith('D1: a unit of work failed')), 10_000);
    expect(half).toMatchObject({ level: 50, writes: 2, err: expect.stringContaining('this case takes no more events'), reqId: expect.any(String) });
    expect(logLines.find((l) => l.msg === 'request' && l.reqId === half.reqId)).toMatchObject({ method: 'POST', path: `/api/v1/track/${trackingCode}/feedback`, status: 500 });
  });

  it('logs a rating with the case id and the request id, as the request line names only the tracking code', async () => {
    const db = await d1();
    // A replied case, not rated yet.
    await db.prepare('delete from ratings where case_id = ?').bind(caseId).run();
    await db.prepare("update cases set status = 'replied', rate_deadline_at = null where id = ?").bind(caseId).run();
    const rated = await call(`/api/v1/track/${trackingCode}/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rating: 'satisfied', solved: true }),
    });
    expect(rated.status, JSON.stringify(rated.body)).toBe(201);
    const line = await waitFor('the case rated line', async () => logLines.find((l) => l.msg === 'case rated' && l.caseId === caseId), 10_000);
    expect(line).toMatchObject({ rating: 'satisfied', status: 'closed' });
    expect(logLines.find((l) => l.msg === 'request' && l.reqId === line.reqId)).toMatchObject({ method: 'POST', path: `/api/v1/track/${trackingCode}/feedback`, status: 201 });
  });

  it('counts the reports of each address Cloudflare names in D1, refusing one too many with 429, and prunes the counts on the cron trigger', async () => {
    const from = (address: string, n: number) =>
      call('/api/v1/reports', {
        method: 'POST',
        // Cloudflare's edge also says where the request came from in X-Forwarded-For: no proxy of the district's to warn of.
        headers: { 'content-type': 'application/json', 'cf-connecting-ip': address, 'x-forwarded-for': address },
        body: JSON.stringify({ text: `八字桥那边有人往河里倒垃圾（限额测试 ${address} 第 ${n} 次）`, anonymous: true }),
      });
    for (let n = 1; n <= 3; n++) expect((await from('198.51.100.7', n)).status).toBe(202);
    const refused = await from('198.51.100.7', 4);
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ code: 'rate_limited' });
    expect((await from('198.51.100.8', 1)).status).toBe(202);
    const db = await d1();
    const cases = await db.prepare("select count(*) as n from cases where text like '%限额测试 198.51.100.7%'").first<{ n: number }>();
    expect(cases?.n).toBe(3);
    const counts = await db.prepare('select sender, reports from intake_counts order by reports desc').all<{ sender: string; reports: number }>();
    expect(counts.results.map((r) => r.reports).slice(0, 2)).toEqual([4, 1]);
    expect(JSON.stringify(counts.results)).not.toContain('198.51.100');
    expect(logLines.filter((l) => String(l.msg).includes('TRUST_PROXY'))).toEqual([]);
    // The address of a sign-in is Cloudflare's too, not one address for every client.
    const form = await mf.dispatchFetch('http://localhost/signin', { headers: { accept: 'text/html', 'cf-connecting-ip': '198.51.100.9' } });
    const csrf = /__Host-csrf=([^;]+)/.exec(form.headers.get('set-cookie') ?? '')?.[1];
    await form.text();
    const failed = await mf.dispatchFetch('http://localhost/signin', {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `__Host-csrf=${csrf}`, accept: 'text/html', 'cf-connecting-ip': '198.51.100.9' },
      body: new URLSearchParams({ _csrf: csrf!, username: 'nobody', password: 'not a password at all' }).toString(),
    });
    await failed.text();
    expect(failed.status).toBe(401);
    const ips = await db.prepare("select ip from sign_in_attempts where username = 'nobody'").all<{ ip: string }>();
    expect(ips.results.map((r) => r.ip)).toEqual(['198.51.100.9']);

    // A window over counts for nothing: the cron run deletes it.
    await db.prepare("update intake_counts set window_ends_at = '2026-01-01T00:00:00.000Z'").run();
    const worker = await mf.getWorker('intake');
    expect((await worker.scheduled({ cron: '*/5 * * * *' })).outcome).toBe('ok');
    expect((await db.prepare('select count(*) as n from intake_counts').first<{ n: number }>())?.n).toBe(0);
    expect((await from('198.51.100.7', 5)).status).toBe(202);
  }, 60_000);

  it('imports a hotline file of more calls than D1 binds parameters to one statement (100)', async () => {
    // The first request migrates D1, when this test runs alone.
    await (await mf.dispatchFetch('http://localhost/healthz')).text();
    const db = await d1();
    const account = await userAddSql({ role: 'operator', unitCode: null, name: '坐席小周' }, loadDistrictFile());
    for (const statement of account.sql) await db.prepare(statement).run();
    const calls = Array.from({ length: 120 }, (_, i) =>
      JSON.stringify({
        hotline: '12369',
        callId: `CF-${String(i).padStart(4, '0')}`,
        startedAt: `2026-10-0${1 + (i % 9)}T09:${String(i % 60).padStart(2, '0')}:00+08:00`,
        transcript: `坐席：您好，请讲。\n来电人：兴隆办事处盐下村第${i + 1}家作坊晚上往沟里排废水。`,
      }),
    );
    const run = async () => {
      const res = await mf.dispatchFetch('http://localhost/api/v1/hotline/calls:import', {
        method: 'POST',
        headers: { authorization: `Bearer ${account.token}`, 'content-type': 'application/x-ndjson' },
        body: `${calls.join('\n')}\n`,
      });
      const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      return { status: res.status, last: lines.at(-1) };
    };
    const first = await run();
    expect(first.status).toBe(200);
    expect(first.last, JSON.stringify(first.last)).toEqual({ summary: { records: 120, created: 120, duplicate: 0, rejected: 0, cases: 120 } });
    // Run again, every call is found on record.
    const again = await run();
    expect(again.last, JSON.stringify(again.last)).toEqual({ summary: { records: 120, created: 0, duplicate: 120, rejected: 0, cases: 0 } });
  }, 120_000);

  it('reads the statistics, the public page, the export and the dashboard of a month of more cases than D1 binds parameters to one statement (100)', async () => {
    // The first request migrates D1, when this test runs alone.
    await (await mf.dispatchFetch('http://localhost/healthz')).text();
    const db = await d1();
    // 130 cases of September 2026, each with its lead, a rating and a status change: the rows each batch of cases reads.
    const seeded = Array.from({ length: 130 }, (_, i) => {
      const id = `0000000-stats-month-${String(i).padStart(4, '0')}`;
      const at = new Date(Date.parse('2026-09-10T02:00:00.000Z') + i * 60_000).toISOString();
      return [
        seededCase(db, { id, code: `SEPT${String(i).padStart(6, '0')}`, text: `兴隆办事处第${i + 1}家作坊往沟里排废水（统计测试）`, status: 'closed', at }),
        seededAssignment(db, { caseId: id, unit: 'epb', role: 'lead', status: 'replied', signBy: at, replyBy: at, at }),
        db.prepare("insert into ratings (id, case_id, round, rating, solved, channel, created_at) values (?, ?, 1, 'satisfied', 1, 'web', ?)").bind(`${id}-rating`, id, at),
        db.prepare("insert into case_events (case_id, at, actor_type, kind, from_status, to_status) values (?, ?, 'system', 'status', 'replied', 'closed')").bind(id, at),
      ];
    });
    await db.batch(seeded.flat());
    const account = await userAddSql({ role: 'dispatcher', unitCode: null, name: '调度小秦' }, loadDistrictFile());
    for (const statement of account.sql) await db.prepare(statement).run();
    const month = 'from=2026-09-01&to=2026-09-30';

    const stats = await call(`/api/v1/stats?${month}&groupBy=type`, { token: account.token });
    expect(stats.status, JSON.stringify(stats.body)).toBe(200);
    expect(stats.body.totals).toMatchObject({ received: 130, rated: 130 });
    const published = await call(`/api/v1/public/stats?${month}&groupBy=bureau`);
    expect(published.status, JSON.stringify(published.body)).toBe(200);
    expect(published.body.totals).toMatchObject({ received: 130, rated: 130 });

    const page = await mf.dispatchFetch('http://localhost/public?month=2026-09', { headers: { accept: 'text/html' } });
    const html = await page.text();
    expect(page.status, html.slice(0, 500)).toBe(200);
    expect(html).toContain('2026年9月共统计举报 130 件');

    const csv = await mf.dispatchFetch(`http://localhost/api/v1/export/cases.csv?${month}`, { headers: { authorization: `Bearer ${account.token}` } });
    const lines = (await csv.text()).trim().split('\n');
    expect(csv.status).toBe(200);
    // The header and one line per case, the last case's too.
    expect(lines).toHaveLength(131);
    expect(lines.at(-1)).toContain('SEPT000129');

    const session = await webSession(account.userId, 'qin');
    const dashboard = await mf.dispatchFetch(`http://localhost/desk/dashboard?${month}`, { headers: { cookie: session, accept: 'text/html' } });
    const board = await dashboard.text();
    expect(dashboard.status, board.slice(0, 500)).toBe(200);
    expect(board).toContain('"rated":130');
  }, 120_000);

  it('marks on the cron trigger the overdue assignments of more cases than D1 binds parameters to one statement (100)', async () => {
    // The first request migrates D1, when this test runs alone.
    await (await mf.dispatchFetch('http://localhost/healthz')).text();
    const db = await d1();
    // 110 cases whose lead has not signed for them, its deadline passed.
    const ids = Array.from({ length: 110 }, (_, i) => `0000000-late-sign-${String(i).padStart(4, '0')}`);
    const at = '2026-01-02T02:00:00.000Z';
    await db.batch(
      ids.flatMap((id, i) => [
        seededCase(db, { id, code: `LATE${String(i).padStart(6, '0')}`, text: `兴隆办事处第${i + 1}家作坊往沟里排废水（期限测试）`, status: 'dispatched', at }),
        seededAssignment(db, { caseId: id, unit: 'epb', role: 'lead', status: 'pending', signBy: '2026-01-05T02:00:00.000Z', replyBy: '2026-02-05T02:00:00.000Z', at }),
      ]),
    );
    const worker = await mf.getWorker('intake');
    expect((await worker.scheduled({ cron: '*/5 * * * *' })).outcome).toBe('ok');
    const marked = await db.prepare("select count(*) as n from assignments where id like '0000000-late-sign-%' and sign_overdue_at is not null").first<{ n: number }>();
    expect(marked?.n).toBe(110);
  }, 120_000);

  it("lists a bureau's 120 cases, 100 to a page of the API and all in its inbox, each case's words masked as its case page masks them", async () => {
    // The first request migrates D1, when this test runs alone.
    await (await mf.dispatchFetch('http://localhost/healthz')).text();
    const db = await d1();
    // Received now: the newest of the unit's cases, whatever the other tests made before, fill its first page.
    const at = new Date().toISOString();
    await db.batch(
      Array.from({ length: 120 }, (_, i) => `0000000-held-by-law-${String(i).padStart(4, '0')}`).flatMap((id, i) => [
        seededCase(db, { id, code: `HELD${String(i).padStart(6, '0')}`, text: `兴隆办事处第${i + 1}家作坊往沟里排废水（列表测试）`, status: 'dispatched', at }),
        seededAssignment(db, { caseId: id, unit: 'enforcement', role: 'co', status: 'pending', signBy: '2026-12-30T02:00:00.000Z', replyBy: '2027-01-30T02:00:00.000Z', at }),
      ]),
    );
    // A case names its reporter, whose name the bureau does not read.
    await db.prepare("update cases set text = text || '我是王建华' where id = '0000000-held-by-law-0000'").run();
    await db.prepare("insert into case_contacts (case_id, name, phone, share_with_bureau) values ('0000000-held-by-law-0000', '王建华', '13812345678', 0)").run();
    const account = await userAddSql({ role: 'bureau', unitCode: 'enforcement', name: '执法队小郑' }, loadDistrictFile());
    for (const statement of account.sql) await db.prepare(statement).run();
    const page = await call('/api/v1/cases?limit=100', { token: account.token });
    expect(page.status, JSON.stringify(page.body)).toBe(200);
    expect(page.body.items).toHaveLength(100);
    const listed = JSON.stringify(page.body.items);
    expect(listed.match(/（列表测试）/g)).toHaveLength(100);
    expect(listed).not.toContain('王建华');
    // The unit's inbox lists all 120, and finds one by its reference.
    const session = await webSession(account.userId, 'zheng');
    const inbox = await mf.dispatchFetch('http://localhost/inbox', { headers: { cookie: session, accept: 'text/html' } });
    const html = await inbox.text();
    expect(inbox.status, html.slice(0, 300)).toBe(200);
    expect(html.match(/（列表测试）/g)).toHaveLength(120);
    expect(html).toContain('第1家作坊');
    expect(html).not.toContain('王建华');
    const reference = caseReference('0000000-held-by-law-0042');
    const found = await mf.dispatchFetch(`http://localhost/inbox?q=${reference}`, { headers: { cookie: session, accept: 'text/html' } });
    const one = await found.text();
    expect(found.status, one.slice(0, 300)).toBe(200);
    expect(one).toContain('第43家作坊');
    expect(one).not.toContain('第44家作坊');
  }, 120_000);

  it('makes the cases of a hotline call split into 10 parts, whose rows are more values than D1 binds to one statement (100)', async () => {
    // The first request migrates D1, when this test runs alone.
    await (await mf.dispatchFetch('http://localhost/healthz')).text();
    const db = await d1();
    const account = await userAddSql({ role: 'operator', unitCode: null, name: '坐席小冯' }, loadDistrictFile());
    for (const statement of account.sql) await db.prepare(statement).run();
    const parts = Array.from({ length: 10 }, (_, i) => ({ text: `兴隆办事处盐下村第${i + 1}个问题：作坊晚上往沟里排废水。` }));
    const made = await call('/api/v1/hotline/calls', {
      method: 'POST',
      token: account.token,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        hotline: '12369',
        callId: 'CF-SPLIT-10',
        startedAt: '2026-11-20T09:00:00+08:00',
        transcript: parts.map((p) => `来电人：${p.text}`).join('\n'),
        parts,
      }),
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const cases = await db.prepare("select count(*) as n from hotline_call_cases where hotline_call_id = (select id from hotline_calls where call_id = 'CF-SPLIT-10')").first<{ n: number }>();
    expect(cases?.n).toBe(10);
  }, 120_000);

  it('lists a triage queue of 200 cases to a dispatcher, each with its assignments', async () => {
    // The first request migrates D1, when this test runs alone.
    await (await mf.dispatchFetch('http://localhost/healthz')).text();
    const db = await d1();
    const at = new Date().toISOString();
    await db.batch(
      Array.from({ length: 200 }, (_, i) => `0000000-in-triage-${String(i).padStart(4, '0')}`).flatMap((id, i) => [
        seededCase(db, { id, code: `TRIA${String(i).padStart(6, '0')}`, text: `兴隆办事处第${i + 1}家作坊往沟里排废水（分拣测试）`, status: 'triage', at }),
        seededAssignment(db, { caseId: id, unit: 'epb', role: 'lead', status: 'pending', signBy: '2026-12-30T02:00:00.000Z', replyBy: '2027-01-30T02:00:00.000Z', at }),
      ]),
    );
    const account = await userAddSql({ role: 'dispatcher', unitCode: null, name: '调度小褚' }, loadDistrictFile());
    for (const statement of account.sql) await db.prepare(statement).run();
    const queue = await call('/api/v1/triage?limit=200', { token: account.token });
    expect(queue.status, JSON.stringify(queue.body)).toBe(200);
    expect(queue.body.items).toHaveLength(200);
    const seeded = queue.body.items.filter((item: Record<string, unknown>) => JSON.stringify(item).includes('分拣测试'));
    expect(seeded.length).toBeGreaterThan(100);
    // The lead is read from the case's assignments, the last case's too.
    expect(seeded.at(-1).lead).toMatchObject({ code: 'epb' });
  }, 120_000);

  it('shows the case of 120 merged duplicate reports with each report and its photo, to a dispatcher and to its bureau', async () => {
    // The first request migrates D1, when this test runs alone.
    await (await mf.dispatchFetch('http://localhost/healthz')).text();
    const db = await d1();
    const at = '2026-11-25T02:00:00.000Z';
    const root = '0000000-merged-root-0000';
    const insertCase = (id: string, i: number, status: string, mergedInto?: string) =>
      seededCase(db, { id, code: `MERG${String(i).padStart(6, '0')}`, text: `兴隆办事处作坊往沟里排废水，第${i}位村民举报（并案测试）`, status, at, ...(mergedInto ? { mergedInto } : {}) });
    const duplicates = Array.from({ length: 120 }, (_, i) => `0000000-merged-dupl-${String(i + 1).padStart(4, '0')}`);
    await db.batch([
      insertCase(root, 0, 'dispatched'),
      ...duplicates.flatMap((id, i) => [
        insertCase(id, i + 1, 'merged', root),
        db
          .prepare("insert into case_attachments (id, case_id, kind, storage_key, mime, size, sha256, created_at) values (?, ?, 'photo', ?, 'image/jpeg', 1, 'x', ?)")
          .bind(`${id}-photo`, id, `photos/${id}.jpg`, at),
        // Each merge is recorded on the case merged into, as a dispatcher's merge records it.
        db
          .prepare("insert into case_events (case_id, at, actor_type, kind, data) values (?, ?, 'staff', 'merged_in', ?)")
          .bind(root, at, JSON.stringify({ from: id, fromTrackingCode: `MERG${String(i + 1).padStart(6, '0')}`, reason: '同一砖厂' })),
      ]),
      seededAssignment(db, { caseId: root, unit: 'epb', role: 'lead', status: 'pending', signBy: '2026-12-30T02:00:00.000Z', replyBy: '2027-01-30T02:00:00.000Z', at }),
    ]);
    // The 37th reporter gave a name, which the bureau handling the case does not read.
    await db.prepare("update cases set text = text || '我叫王建华' where id = '0000000-merged-dupl-0037'").run();
    await db.prepare("insert into case_contacts (case_id, name, phone, share_with_bureau) values ('0000000-merged-dupl-0037', '王建华', '13812345678', 0)").run();
    const account = await userAddSql({ role: 'dispatcher', unitCode: null, name: '调度小卫' }, loadDistrictFile());
    for (const statement of account.sql) await db.prepare(statement).run();
    const shown = await call(`/api/v1/cases/${root}`, { token: account.token });
    expect(shown.status, JSON.stringify(shown.body)).toBe(200);
    expect(shown.body.mergedReports).toHaveLength(120);
    expect(shown.body.mergedReports.at(-1).photos).toHaveLength(1);
    const bureau = await userAddSql({ role: 'bureau', unitCode: 'epb', name: '环保局小蒋' }, loadDistrictFile());
    for (const statement of bureau.sql) await db.prepare(statement).run();
    const read = await call(`/api/v1/cases/${root}`, { token: bureau.token });
    expect(read.status, JSON.stringify(read.body)).toBe(200);
    expect(read.body.mergedReports).toHaveLength(120);
    expect(JSON.stringify(read.body)).toContain('第37位村民举报');
    expect(JSON.stringify(read.body)).not.toContain('王建华');
  }, 120_000);
});

describe('npm run admin:cf', () => {
  const [node, cli] = compiled('src/worker/admin-cli.ts');
  const adminCf = (...args: string[]) =>
    promisify(execFile)(node, [cli, ...args], { cwd: join(import.meta.dirname, '..') }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
    );

  it("takes npm run admin's options, and refuses two different accounts for one", async () => {
    const revoke = await adminCf('token', 'revoke', '--id', 'tok-1', '--print');
    expect(revoke.code, revoke.stderr).toBe(0);
    expect(revoke.stdout).toMatch(/^UPDATE "?api_tokens"? SET revoked_at = '.+' WHERE id = 'tok-1' AND revoked_at IS NULL;\n$/);
    const both = await adminCf('user', 'passwd', '--id', 'u1', '--user', 'u2', '--username', 'wu', '--print');
    // A usage mistake, as every tool of the service says one: exit status 2, with the usage.
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('give the account once');
    expect(both.stderr).toContain('usage: npm run admin:cf');
    expect(both.stdout).toBe('');
  });
});
