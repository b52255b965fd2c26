import { beforeAll, describe, expect, it } from 'vitest';
import { deactivateUser } from '../db/repositories/users.repository.js';
import { listAssignments } from '../db/repositories/assignments.repository.js';
import { createReconciler } from '../queues/reconciler.js';
import { createLogger, type Logger } from '../src/logger.js';
import { roleMayOpen, SESSION_IDLE_MS, STAFF_AREAS } from '../src/web/session.js';
import { newPage } from './browser.js';
import { captureLogs, createPgDatabase } from './harness.js';
import { formClient, PASSWORD, signIn, startStaffWebService, type WebStaff } from './web-staff-helpers.js';
import { seedCase } from './workflow-helpers.js';

const HOUR = 3_600_000;

let web: WebStaff;
let base: string;

beforeAll(async () => {
  web = await startStaffWebService('web-signin');
  base = web.service.url;
}, 60_000);

/** Each test signs in from its own address, so the per-address lock-out of one test leaves the others alone. */
let address = 0;
const fromNewAddress = () => ({ 'x-forwarded-for': `10.0.0.${++address}` });

describe('staff sign-in', () => {
  it('signs an operator in with a session cookie the page cannot read, and shows who is signed in', async () => {
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'operator', PASSWORD, '/signin');
    expect(new URL(page.url()).pathname).toBe('/signin');
    expect(await page.textContent('header.site .who')).toBe('坐席小王');
    expect(await page.textContent('main')).toContain('您已登录为 坐席小王');

    const cookie = (await context.cookies()).find((c) => c.name === 'sid');
    expect(cookie?.httpOnly).toBe(true);
    expect(cookie?.sameSite).toBe('Lax');
    expect(await page.evaluate('document.cookie')).not.toContain('sid=');
    // Only a hash of the session id is stored.
    const rows = await web.service.deps.db.selectFrom('web_sessions').select(['token_hash', 'user_id']).where('user_id', '=', web.userIds.operator!).execute();
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.map((r) => r.token_hash)).not.toContain(cookie!.value);
    await context.close();
  });

  it('uses a Secure __Host- cookie behind an https proxy', async () => {
    const client = formClient(base, { ...fromNewAddress(), 'x-forwarded-proto': 'https' });
    const res = await client.signIn('admin');
    expect(res.status).toBe(303);
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('__Host-sid='));
    expect(cookie).toBeDefined();
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Lax/);
    expect(cookie).toMatch(/; Path=\//);
    expect(await (await client.get('/signin')).text()).toContain('您已登录为 管理员');
  });

  it('keeps the CSRF token in a __Host- cookie over https, so a token planted by a sibling site does not pass', async () => {
    const https = { ...fromNewAddress(), 'x-forwarded-proto': 'https' };
    const client = formClient(base, https);
    const page = await client.get('/signin');
    const set = page.headers.getSetCookie().find((c) => c.startsWith('__Host-csrf='));
    expect(set).toMatch(/; Secure/);
    expect(set).toMatch(/; HttpOnly/);
    expect(set).toMatch(/; Path=\//);
    expect(page.headers.getSetCookie().some((c) => c.startsWith('csrf='))).toBe(false);
    // A session of its own, and a token cookie set for the parent domain by another site under it.
    expect((await client.signIn('epb')).status).toBe(303);
    const { id } = await seedCase(web.service, web.clock, { assignments: [{ unit: 'epb', role: 'lead' }] });
    const planted = 'P'.repeat(43);
    client.jar.set('csrf', planted);
    for (const [k] of client.jar) if (k === '__Host-csrf') client.jar.delete(k);
    const post = await client.post(`/inbox/cases/${id}/accept`, { _csrf: planted });
    expect(post.status).toBe(403);
    expect((await listAssignments(web.service.deps.db, id)).map((a) => a.status)).toEqual(['pending']);
  });

  it("links each role, in the header of every page, to each staff area it may enter and to nothing it may not, in Chinese and English", async () => {
    const areas = Object.keys(STAFF_AREAS);
    for (const [username, role] of [['operator', 'operator'], ['epb', 'bureau'], ['dispatcher', 'dispatcher'], ['admin', 'admin']] as const) {
      const client = formClient(base, fromNewAddress());
      expect((await client.signIn(username)).status).toBe(303);
      for (const lang of ['zh', 'en']) {
        const html = await (await client.get(`/public?lang=${lang}`)).text();
        const nav = /<nav aria-label="(?:主导航|Main)">([\s\S]*?)<\/nav>/.exec(html)?.[1] ?? '';
        const links = [...nav.matchAll(/<a href="([^"]+)">([^<]+)<\/a>/g)].map((m) => ({ href: m[1]!, label: m[2]! }));
        const staff = links.filter((l) => areas.some((area) => l.href === area || l.href.startsWith(`${area}/`)));
        // Every area the role may enter is linked, and no page of an area it may not.
        expect(staff.filter((l) => areas.includes(l.href)).map((l) => l.href).sort(), `${role} ${lang}`).toEqual(areas.filter((a) => roleMayOpen(role, a)).sort());
        for (const l of staff) {
          expect(roleMayOpen(role, l.href), `${role} ${l.href}`).toBe(true);
          expect(l.label.trim(), `${role} ${l.href}`).not.toBe('');
          expect((await client.get(l.href)).status, `${role} ${lang} ${l.href}`).toBe(200);
        }
      }
    }
  });

  it('sends each role to its own page after sign-in, and back to a same-site page it came from', async () => {
    const client = formClient(base, fromNewAddress());
    const res = await client.signIn('epb');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/inbox');

    const again = formClient(base, fromNewAddress());
    const csrf = await again.token('/signin?next=%2Fdesk%2Fdashboard');
    const toNext = await again.post('/signin', { _csrf: csrf, username: 'dispatcher', password: PASSWORD, next: '/desk/dashboard' });
    expect(toNext.headers.get('location')).toBe('/desk/dashboard');

    for (const next of ['//evil.example/', 'https://evil.example/', '/\\evil.example']) {
      const c = formClient(base, fromNewAddress());
      const t = await c.token('/signin');
      const r = await c.post('/signin', { _csrf: t, username: 'dispatcher', password: PASSWORD, next });
      expect(r.headers.get('location'), next).toBe('/desk');
    }
  });

  it('sends an account to its own page, not to a refusal, when the page kept for after sign-in is of an area its role may not open', async () => {
    // A dispatcher's session ended on the desk of a shared computer; a bureau clerk signs in there next.
    const cases: [string, string, string][] = [
      ['epb', '/desk/cases/abc?tab=history', '/inbox'],
      ['epb', '/console', '/inbox'],
      ['operator', '/desk/dashboard', '/console'],
      ['operator', '/inbox/cases/abc', '/console'],
      ['dispatcher', '/inbox', '/desk'],
      ['dispatcher', '/console/review', '/desk'],
      ['admin', '/inbox?status=all', '/desk'],
      // The pages each may open are kept.
      ['admin', '/console', '/console'],
      ['epb', '/inbox/cases/abc', '/inbox/cases/abc'],
      ['operator', '/track/K7M3QXT9AD', '/track/K7M3QXT9AD'],
      ['dispatcher', '/deskside', '/deskside'],
    ];
    for (const [username, next, expected] of cases) {
      const client = formClient(base, fromNewAddress());
      const csrf = await client.token(`/signin?next=${encodeURIComponent(next)}`);
      const res = await client.post('/signin', { _csrf: csrf, username, password: PASSWORD, next });
      expect(res.status, `${username} ${next}`).toBe(303);
      expect(res.headers.get('location'), `${username} ${next}`).toBe(expected);
      if (expected !== next) expect((await client.get(expected)).status, `${username} ${expected}`).toBe(200);
      // Signed in already (in another tab), the sign-in page of that address leads to the same page.
      const again = await (await client.get(`/signin?next=${encodeURIComponent(next)}`)).text();
      expect(again, `${username} ${next}`).toContain(`id="signed-in-go-on"`);
      expect(/<a href="([^"]*)" id="signed-in-go-on"/.exec(again)?.[1]?.replace(/&amp;/g, '&'), `${username} ${next}`).toBe(expected);
    }
  });

  it('signs in a username typed with a Chinese input method in full-width mode, as the name it looks like', async () => {
    const client = formClient(base, fromNewAddress());
    const res = await client.signIn('Ｄｉｓｐａｔｃｈｅｒ\u3000');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/desk');
    expect(await (await client.get('/signin')).text()).toContain('您已登录为');
    // The attempt is recorded under the half-width name, where the account's lock-out counts it.
    const rows = await web.service.deps.db.selectFrom('sign_in_attempts').select('username').where('username', 'like', '%ｄ%').execute();
    expect(rows).toEqual([]);
  });

  it('keeps the page asked for and the username typed across the language switch after a failed sign-in, never the password', async () => {
    const seeded = await seedCase(web.service, web.clock);
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await page.goto(`${base}/signin?next=${encodeURIComponent(`/desk/cases/${seeded.id}`)}`);
    await page.fill('#username', 'dispatcher');
    await page.fill('#password', 'not the password');
    await Promise.all([page.waitForNavigation(), page.click('form[action="/signin"] button[type=submit]')]);
    expect(new URL(page.url()).pathname).toBe('/signin');
    await Promise.all([page.waitForNavigation(), page.click('header.site a[hreflang]')]);
    const here = new URL(page.url());
    expect(here.searchParams.get('next')).toBe(`/desk/cases/${seeded.id}`);
    expect(here.searchParams.get('lang')).toBe('en');
    expect(await page.inputValue('#username')).toBe('dispatcher');
    expect(await page.inputValue('#password')).toBe('');
    // Signed in from there, the page asked for first.
    await page.fill('#password', PASSWORD);
    await Promise.all([page.waitForNavigation(), page.click('form[action="/signin"] button[type=submit]')]);
    expect(new URL(page.url()).pathname).toBe(`/desk/cases/${seeded.id}`);
    await context.close();
  });

  it('says on the sign-in page that a form posted after the session ended was not carried out, in the page language', async () => {
    const seeded = await seedCase(web.service, web.clock, { text: '盐下村电镀厂排污（登录超时测试）' });
    const { page, context } = await newPage({ locale: 'en-US' });
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'dispatcher', PASSWORD, `/desk/cases/${seeded.id}?lang=en`);
    await page.fill('#supervise-note', 'Reply by Friday.');
    web.clock.advance(SESSION_IDLE_MS + 60_000);
    await Promise.all([page.waitForNavigation(), page.click('#supervise-form button[type=submit]')]);
    expect(new URL(page.url()).pathname).toBe('/signin');
    expect(await page.textContent('#signin-notice')).toBe('Your session had ended, so what you just sent was not done. Sign in, then send it again.');
    expect((await listAssignments(web.service.deps.db, seeded.id)).some((a) => a.supervisedAt !== null)).toBe(false);
    // In Chinese too, and signed in again the case page it came from.
    await Promise.all([page.waitForNavigation(), page.click('header.site a[hreflang]')]);
    expect(await page.textContent('#signin-notice')).toBe('登录已超时，刚才提交的操作没有执行。请重新登录，再提交一次。');
    await page.fill('#username', 'dispatcher');
    await page.fill('#password', PASSWORD);
    await Promise.all([page.waitForNavigation(), page.click('form[action="/signin"] button[type=submit]')]);
    expect(new URL(page.url()).pathname).toBe(`/desk/cases/${seeded.id}`);
    // A page merely opened after the session ended did nothing: no such notice.
    web.clock.advance(SESSION_IDLE_MS + 60_000);
    await page.goto(`${base}/desk`);
    expect(new URL(page.url()).pathname).toBe('/signin');
    expect(await page.$('#signin-notice')).toBeNull();
    await context.close();
  });

  it('answers an unknown username and a wrong password with the same message, next to nothing that tells them apart', async () => {
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await page.goto(`${base}/signin`);
    await page.fill('#username', 'operator');
    await page.fill('#password', 'wrong password');
    const wrong = await Promise.all([page.waitForNavigation(), page.click('form[action="/signin"] button[type=submit]')]);
    expect(wrong[0]?.status()).toBe(401);
    const wrongText = await page.textContent('#signin-notice');
    // What was typed in the username field is kept; the password is not.
    expect(await page.inputValue('#username')).toBe('operator');
    expect(await page.inputValue('#password')).toBe('');

    await page.fill('#username', 'nobody-here');
    await page.fill('#password', 'wrong password');
    const unknown = await Promise.all([page.waitForNavigation(), page.click('form[action="/signin"] button[type=submit]')]);
    expect(unknown[0]?.status()).toBe(401);
    expect(await page.textContent('#signin-notice')).toBe(wrongText);
    expect(wrongText).toBe('用户名或密码不正确。');
    expect((await context.cookies()).some((c) => c.name === 'sid')).toBe(false);
    await context.close();
  });

  it('asks for both fields next to them without counting an attempt', async () => {
    const client = formClient(base, fromNewAddress());
    const csrf = await client.token();
    const res = await client.post('/signin', { _csrf: csrf, username: '', password: '' });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('id="username-error"');
    expect(html).toContain('id="password-error"');
    expect(html).toContain('aria-describedby="username-error"');
  });

  it('opens a refused sign-in on the field to type again: the password after a wrong one, or the field left empty', async () => {
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await page.goto(`${base}/signin`);
    const send = () => Promise.all([page.waitForNavigation(), page.click('form[action="/signin"] button[type=submit]')]);
    // autofocus takes effect at the page's next rendering, which may come after its load event.
    const focused = () => expect.poll(() => page.evaluate('document.activeElement && document.activeElement.id'), { timeout: 5000 });
    await page.fill('#username', 'dispatcher');
    await page.fill('#password', 'not the password');
    await send();
    expect(await page.textContent('#signin-notice')).toBe('用户名或密码不正确。');
    expect(await page.inputValue('#username')).toBe('dispatcher');
    await focused().toBe('password');
    await page.fill('#username', '');
    await send();
    await focused().toBe('username');
    // Typed straight away, the password goes where it belongs.
    await page.fill('#username', 'dispatcher');
    await send();
    await focused().toBe('password');
    await page.keyboard.type(PASSWORD);
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    expect(new URL(page.url()).pathname).toBe('/desk');
    await context.close();
  });

  it('locks a username after 5 failures in 15 minutes, even for the right password, and unlocks it 15 minutes later', async () => {
    const db = web.service.deps.db;
    const client = formClient(base, fromNewAddress());
    for (let i = 0; i < 4; i++) expect((await client.signIn('econ', 'not the password')).status).toBe(401);
    const fifth = await client.signIn('econ', 'not the password');
    expect(fifth.status).toBe(429);
    expect(await fifth.text()).toContain('登录失败次数过多，账号已暂时锁定');
    // From another address too: the lock is on the account, and it is in the database.
    const elsewhere = formClient(base, fromNewAddress());
    const locked = await elsewhere.signIn('econ', PASSWORD);
    expect(locked.status).toBe(429);
    expect(locked.headers.get('set-cookie') ?? '').not.toContain('sid=');
    const failures = await db.selectFrom('sign_in_attempts').select('id').where('username', '=', 'econ').where('ok', '=', 0).execute();
    expect(failures).toHaveLength(5);

    web.clock.advance(14 * 60_000);
    expect((await elsewhere.signIn('econ', PASSWORD)).status).toBe(429);
    web.clock.advance(2 * 60_000);
    const after = await elsewhere.signIn('econ', PASSWORD);
    expect(after.status).toBe(303);
    expect(after.headers.get('location')).toBe('/inbox');
  });

  it('locks an address that tries many usernames', async () => {
    const headers = fromNewAddress();
    const client = formClient(base, headers);
    for (let i = 0; i < 19; i++) expect((await client.signIn(`guess${i}`, 'x')).status).toBe(401);
    expect((await client.signIn('guess19', 'x')).status).toBe(429);
    // The right password of a real account from that address is refused while it is locked,
    // and the page says the address is stopped, not that the account is locked.
    const refused = await client.signIn('agri', PASSWORD);
    expect(refused.status).toBe(429);
    const html = await refused.text();
    expect(html).toContain('从您所在网络登录失败的次数过多');
    expect(html).not.toContain('账号已暂时锁定');
    // Another address is not affected.
    expect((await formClient(base, fromNewAddress()).signIn('agri', PASSWORD)).status).toBe(303);
    web.clock.advance(16 * 60_000);
  }, 60_000);

  it('refuses a sign-in form posted without the CSRF token, and creates no session', async () => {
    const client = formClient(base, fromNewAddress());
    await client.token();
    const res = await client.post('/signin', { username: 'operator', password: PASSWORD });
    expect(res.status).toBe(403);
    expect(client.jar.has('sid')).toBe(false);
  });

  it('signs out: the session ends on the server, so the old cookie opens nothing', async () => {
    const client = formClient(base, fromNewAddress());
    expect((await client.signIn('dispatcher')).status).toBe(303);
    const sid = client.jar.get('sid')!;
    expect(sid).toBeTruthy();
    const signedIn = await (await client.get('/signin')).text();
    expect(signedIn).toContain('调度老李');

    const csrf = await client.token('/signin');
    const out = await client.post('/signout', { _csrf: csrf });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/signin?out=1');
    expect(client.jar.has('sid')).toBe(false);

    const replay = await fetch(`${base}/signin`, { headers: { cookie: `sid=${sid}`, accept: 'text/html' } });
    expect(await replay.text()).not.toContain('调度老李');
  });

  it('rotates the session id on sign-in: the id the browser had before is revoked', async () => {
    const client = formClient(base, fromNewAddress());
    await client.signIn('dispatcher');
    const first = client.jar.get('sid')!;
    await client.signIn('admin');
    const second = client.jar.get('sid')!;
    expect(second).not.toBe(first);
    const replay = await fetch(`${base}/signin`, { headers: { cookie: `sid=${first}`, accept: 'text/html' } });
    expect(await replay.text()).not.toContain('调度老李');
  });

  it('ends the sessions of a disabled account at once, and after the idle timeout', async () => {
    const client = formClient(base, fromNewAddress());
    await client.signIn('police');
    expect(await (await client.get('/signin')).text()).toContain('派出所孙八');
    web.clock.advance(2 * 3600_000 + 1000);
    expect(await (await client.get('/signin')).text()).not.toContain('派出所孙八');

    await client.signIn('police');
    expect(await (await client.get('/signin')).text()).toContain('派出所孙八');
    await deactivateUser(web.service.deps.db, web.userIds.police!, web.clock.now().toISOString());
    expect(await (await client.get('/signin')).text()).not.toContain('派出所孙八');
  });
});

describe('forgetting old sign-ins', () => {
  let pruned: WebStaff;

  beforeAll(async () => {
    // 'api': no reconciler of the service's own prunes meanwhile; the tests run its passes at the clock's time.
    pruned = await startStaffWebService('web-signin-prune', {}, { role: 'api' });
  }, 60_000);

  /** One pass of the Node reconciler, as the worker process runs it, at the clock's time: what it did. */
  async function reconcilerPass(logger: Logger = createLogger('silent')) {
    const reconciler = createReconciler({
      db: pruned.service.deps.db,
      transport: pruned.service.deps.transport,
      clock: pruned.clock,
      logger,
      intervalMs: HOUR,
      graceMs: HOUR,
    });
    try {
      return await reconciler.runOnce();
    } finally {
      await reconciler.stop();
    }
  }

  it("forgets nothing at a sign-in; the reconciler's pass forgets the attempts and the ended sessions over a day old, and keeps the younger", async () => {
    const { db } = pruned.service.deps;
    const client = formClient(pruned.service.url, fromNewAddress());
    const start = pruned.clock.now().getTime();
    const mine = () => db.selectFrom('web_sessions').select(['created_at', 'revoked_at']).where('user_id', '=', pruned.userIds.dispatcher!).orderBy('created_at').execute();
    const attempts = async () => (await db.selectFrom('sign_in_attempts').select('at').where('username', '=', 'dispatcher').orderBy('at').execute()).map((a) => a.at);
    const at = (hours: number) => new Date(start + hours * HOUR).toISOString();
    // Signed in and out; 23 hours later in again, and 2 hours after that in again (which ends the session before it).
    expect((await client.signIn('dispatcher')).status).toBe(303);
    await client.post('/signout', { _csrf: await client.token('/signin') });
    pruned.clock.advance(23 * HOUR);
    expect((await client.signIn('dispatcher')).status).toBe(303);
    pruned.clock.advance(2 * HOUR);
    expect((await client.signIn('dispatcher')).status).toBe(303);
    // The sign-ins forgot nothing: the first attempt and the first session, over a day old, are still there.
    expect(await attempts()).toEqual([at(0), at(23), at(25)]);
    expect(await mine()).toEqual([
      { created_at: at(0), revoked_at: at(0) },
      { created_at: at(23), revoked_at: at(25) },
      { created_at: at(25), revoked_at: null },
    ]);

    const pass = await reconcilerPass();
    expect(pass.signInAttemptsPruned).toBeGreaterThanOrEqual(1);
    expect(pass.sessionsPruned).toBeGreaterThanOrEqual(1);
    expect(await attempts()).toEqual([at(23), at(25)]);
    expect(await mine()).toEqual([
      { created_at: at(23), revoked_at: at(25) },
      { created_at: at(25), revoked_at: null },
    ]);
    // The session kept is still good.
    expect(await (await client.get('/signin')).text()).toContain('调度老李');
  });

  it("forgets at the reconciler's pass a flood of guesses older than a day that no sign-in followed, many batches of them, keeping the younger", async () => {
    const { db } = pruned.service.deps;
    const username = 'flooded-by-guesses';
    const ago = (hours: number) => new Date(pruned.clock.now().getTime() - hours * HOUR).toISOString();
    const rows = Array.from({ length: 2_005 }, (_, i) => ({ id: `guess-${i}`, username, ip: '192.0.2.9', ok: 0, at: ago(25) }));
    rows.push({ id: 'guess-recent', username, ip: '192.0.2.9', ok: 0, at: ago(23) });
    for (let i = 0; i < rows.length; i += 2_000) await db.insertInto('sign_in_attempts').values(rows.slice(i, i + 2_000)).execute();
    const logs = captureLogs();
    expect((await reconcilerPass(logs.logger)).signInAttemptsPruned).toBeGreaterThanOrEqual(2_005);
    // The pass says what it forgot, in one line; a pass that finds nothing more says nothing.
    expect(logs.lines.filter((l) => l.msg === 'reconciler pruned kept rows')).toEqual([expect.objectContaining({ signInAttemptsPruned: expect.any(Number) })]);
    expect(Number(logs.lines.find((l) => l.msg === 'reconciler pruned kept rows')!.signInAttemptsPruned)).toBeGreaterThanOrEqual(2_005);
    const quiet = captureLogs();
    await reconcilerPass(quiet.logger);
    expect(quiet.lines.filter((l) => l.msg === 'reconciler pruned kept rows')).toEqual([]);
    const left = await db.selectFrom('sign_in_attempts').select('id').where('username', '=', username).execute();
    expect(left.map((r) => r.id)).toEqual(['guess-recent']);
  });
});

describe('staff sign-in on PostgreSQL', () => {
  it('answers a username holding a NUL or half a surrogate pair as a wrong name, as on SQLite, and never cuts a character in two', async () => {
    const pg = await startStaffWebService('web-signin-pg', { DATABASE_URL: await createPgDatabase('web_signin') });
    for (const username of ['ad\u0000min', `${'a'.repeat(63)}😀😀`, 'admin\ud800']) {
      const client = formClient(pg.service.url, fromNewAddress());
      const csrf = await client.token();
      const res = await client.post('/signin', { _csrf: csrf, username, password: PASSWORD });
      expect(res.status, username).toBe(401);
      expect(await res.text()).toContain('id="username"');
    }
    // The one well-formed name was tried (and cut whole: 63 letters and the emoji make 64 characters).
    const stored = await pg.service.deps.db.selectFrom('sign_in_attempts').select('username').execute();
    expect(stored.map((r) => r.username)).toEqual([`${'a'.repeat(63)}😀`]);

    // A page path or a list cursor holding a NUL names nothing, as on SQLite: 404 and a 400 naming the cursor.
    const desk = formClient(pg.service.url, fromNewAddress());
    expect((await desk.signIn('dispatcher')).status).toBe(303);
    for (const path of ['/desk/cases/%00', '/inbox/cases/ab%00cd', '/track/%00']) expect((await desk.get(path)).status, path).toBe(404);
    const cursor = Buffer.from(JSON.stringify(['\u0000', 'x'])).toString('base64url');
    const listed = await fetch(`${pg.service.url}/api/v1/cases?cursor=${cursor}`, { headers: { authorization: `Bearer ${pg.staff.dispatcher}` } });
    expect(listed.status).toBe(400);
    expect(((await listed.json()) as { error: { fields: Record<string, string> } }).error.fields).toHaveProperty('cursor');
  }, 60_000);
});
