import type { Page } from 'playwright-core';
import { setCredentials } from '../db/repositories/web-sessions.repository.js';
import { hashPassword } from '../src/auth/password.js';
import type { ManualClock } from '../src/clock.js';
import { startWorkflowService, type Staff, type TestService } from './workflow-helpers.js';

/**
 * The staff pages' tests: a workflow service (ManualClock, rule classifier,
 * staff accounts) whose accounts can also sign in on the web.
 */
export const PASSWORD = 'correct horse battery';

/** Web usernames of the accounts startWorkflowService creates, by their display names. */
const WEB_ACCOUNTS: Record<string, string> = {
  坐席小王: 'operator',
  调度老李: 'dispatcher',
  管理员: 'admin',
  环保局张三: 'epb',
  环保局李四: 'epb2',
  经信委王五: 'econ',
  兴隆办赵六: 'xinglong',
  农业委钱七: 'agri',
  派出所孙八: 'police',
  '12345热线小周': 'hotline',
};

export interface WebStaff {
  service: TestService;
  clock: ManualClock;
  staff: Staff;
  userIds: Record<string, string>;
}

export async function startStaffWebService(name: string, env: Record<string, string> = {}, opts: Parameters<typeof startWorkflowService>[2] = {}): Promise<WebStaff> {
  const { service, clock, staff } = await startWorkflowService(name, { TRUST_PROXY: '1', ...env }, opts);
  const db = service.deps.db;
  // A cheaper work factor than production: the tests sign in many times. The
  // first sign-in of each account upgrades its hash (needsRehash), as in production.
  const hash = await hashPassword(PASSWORD, 1000);
  const userIds: Record<string, string> = {};
  for (const u of await db.selectFrom('users').select(['id', 'name']).execute()) {
    const username = WEB_ACCOUNTS[u.name];
    if (!username) continue;
    await setCredentials(db, { userId: u.id, username, passwordHash: hash, at: clock.now().toISOString() });
    userIds[username] = u.id;
  }
  return { service, clock, staff, userIds };
}

/** Signs in through the page and waits for the page it leads to. */
export async function signIn(page: Page, base: string, username: string, password = PASSWORD, next?: string): Promise<void> {
  await page.goto(`${base}/signin${next ? `?next=${encodeURIComponent(next)}` : ''}`);
  await signInHere(page, username, password);
}

/** Signs in on the sign-in page the browser shows already (a form posted after the session ended lands there), going where it leads. */
export async function signInHere(page: Page, username: string, password = PASSWORD): Promise<void> {
  await page.fill('#username', username);
  await page.fill('#password', password);
  await Promise.all([page.waitForNavigation(), page.click('form[action="/signin"] button[type=submit]')]);
}

/** The drafts the staff pages keep in this browser (localStorage `draft:` keys), by key. */
export function browserDrafts(page: Page): Promise<Record<string, { fields: Record<string, string>; files?: number }>> {
  return page.evaluate(
    "Object.fromEntries(Object.keys(localStorage).filter((k) => k.startsWith('draft:')).map((k) => [k, JSON.parse(localStorage.getItem(k))]))",
  ) as Promise<Record<string, { fields: Record<string, string>; files?: number }>>;
}

/** A cookie jar for plain fetch: enough to post forms as a browser would. */
export function formClient(base: string, headers: Record<string, string> = {}) {
  const jar = new Map<string, string>();
  const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const remember = (res: Response) => {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/max-age=0/i.test(line) || value === '') jar.delete(name);
      else jar.set(name, value);
    }
  };
  const client = {
    jar,
    async get(path: string): Promise<Response> {
      const res = await fetch(`${base}${path}`, { headers: { ...headers, accept: 'text/html', cookie: cookieHeader() }, redirect: 'manual' });
      remember(res);
      return res;
    },
    /** The CSRF token of the page at `path` (its hidden `_csrf` field). */
    async token(path = '/signin'): Promise<string> {
      const html = await (await client.get(path)).text();
      const m = /name="_csrf" value="([^"]+)"/.exec(html);
      if (!m) throw new Error(`no CSRF field on ${path}`);
      return m[1]!;
    },
    async post(path: string, fields: Record<string, string>): Promise<Response> {
      const res = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { ...headers, accept: 'text/html', cookie: cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields).toString(),
        redirect: 'manual',
      });
      remember(res);
      return res;
    },
    async signIn(username: string, password = PASSWORD): Promise<Response> {
      const csrf = await client.token('/signin');
      return client.post('/signin', { _csrf: csrf, username, password });
    },
  };
  return client;
}

/** A 12369 call as an operator pastes it on the console: the caller reports a plating works and asks not to be named. */
export const TRANSCRIPT = [
  '[00:00:02] 坐席：您好，12369环保举报热线，请讲。',
  '[00:00:05] 来电人：我要举报兴隆办事处盐下村那个电镀厂，晚上偷排废水，沟里全是黑水。',
  '[00:00:19] 坐席：好的，您贵姓？',
  '[00:00:21] 来电人：不要透露我的名字，我怕被报复。',
].join('\n');
