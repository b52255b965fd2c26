import { Hono, type Context } from 'hono';
import { keepableText, textFault } from '../../src/domain/text.js';
import type { AppEnv } from '../app-env.js';
import { CsrfField, FieldError, errorId } from '../../src/web/layout.js';
import { csrfProtection } from '../../src/web/csrf.js';
import { formatTime, type Texts } from '../../src/web/i18n.js';
import { pageContext, renderPage } from '../../src/web/render.js';
import { afterSignIn, checkCredentials, endSession, loadSession, safeNext, startSession } from '../../src/web/session.js';

/**
 * Staff sign-in (`GET/POST /signin`) and sign-out (`POST /signout`). The
 * same message answers an unknown username and a wrong password; repeated
 * failures lock the username (and the address) for a while.
 */
const T: Texts<
  | 'title'
  | 'username'
  | 'password'
  | 'submit'
  | 'invalid'
  | 'locked'
  | 'lockedAddress'
  | 'required'
  | 'signedIn'
  | 'goOn'
  | 'signedOut'
  | 'draftsKept'
  | 'expired'
  | 'hint'
> = {
  zh: {
    title: '工作人员登录',
    username: '用户名',
    password: '密码',
    submit: '登录',
    invalid: '用户名或密码不正确。',
    locked: '登录失败次数过多，账号已暂时锁定。请于 {until} 之后再试，或联系管理员。',
    lockedAddress: '从您所在网络登录失败的次数过多，已暂时停止从这里登录。请于 {until} 之后再试，或联系管理员。',
    required: '请填写此项。',
    signedIn: '您已登录为 {name}。',
    goOn: '进入工作台',
    signedOut: '您已安全退出。',
    draftsKept: '您填写但尚未提交的内容已保存在本浏览器中，重新登录后回到原页面即可继续。',
    expired: '登录已超时，刚才提交的操作没有执行。请重新登录，再提交一次。',
    hint: '仅限热线坐席、承办单位和调度人员使用。群众举报请使用首页的举报表单。',
  },
  en: {
    title: 'Staff sign-in',
    username: 'Username',
    password: 'Password',
    submit: 'Sign in',
    invalid: 'The username or password is not correct.',
    locked: 'Too many failed sign-ins: the account is locked for now. Try again after {until}, or ask an administrator.',
    lockedAddress: 'Too many failed sign-ins from your network: signing in from here is stopped for now. Try again after {until}, or ask an administrator.',
    required: 'Please fill this in.',
    signedIn: 'You are signed in as {name}.',
    goOn: 'Go to your work page',
    signedOut: 'You have signed out.',
    draftsKept: 'What you typed and had not sent yet is kept in this browser: sign in again to go on where you were.',
    expired: 'Your session had ended, so what you just sent was not done. Sign in, then send it again.',
    hint: 'For hotline operators, bureau staff and dispatchers. Residents report problems with the form on the home page.',
  },
};

interface FormState {
  username: string;
  next: string | null;
  errors: { username?: string; password?: string };
  notice?: { kind: 'error' | 'ok'; text: string };
  /** Just signed out: the page's script drops every draft the staff pages kept in this browser (see staff-common.tsx). */
  signedOut?: boolean;
  /**
   * Sent back refused, the field the page opens on to type again: the one left empty, or the password after a
   * wrong one (the username stays as typed); a locked sign-in has nothing to type again.
   */
  again?: 'username' | 'password';
}

function SignInForm({ c, state }: { c: Context<AppEnv>; state: FormState }) {
  const p = pageContext(c);
  const t = T[p.lang];
  return (
    <section class="narrow" {...(state.signedOut ? { 'data-drafts-clear': '' } : {})}>
      <h1>{t.title}</h1>
      {p.user ? (
        <p class="notice ok">
          {t.signedIn.replace('{name}', p.user.name)} <a href={afterSignIn(p.user.role, state.next)} id="signed-in-go-on">{t.goOn}</a>
        </p>
      ) : null}
      {state.notice ? (
        <p class={`notice ${state.notice.kind}`} role={state.notice.kind === 'error' ? 'alert' : 'status'} id="signin-notice">
          {state.notice.text}
        </p>
      ) : null}
      {/* Back from a page whose session ended: its script says so when it kept what was typed there. */}
      {state.next ? (
        <p class="notice" data-drafts-kept hidden role="status">
          {t.draftsKept}
        </p>
      ) : null}
      <p class="hint">{t.hint}</p>
      <form method="post" action="/signin" id="signin-form" novalidate data-keep-on-switch>
        <CsrfField token={p.csrf} />
        {state.next ? <input type="hidden" name="next" value={state.next} /> : null}
        <label for="username">{t.username}</label>
        <input
          id="username"
          name="username"
          type="text"
          autocomplete="username"
          autocapitalize="none"
          spellcheck={false}
          required
          autofocus={state.again === 'username'}
          value={state.username}
          aria-invalid={state.errors.username ? 'true' : undefined}
          aria-describedby={state.errors.username ? errorId('username') : undefined}
        />
        <FieldError name="username" message={state.errors.username} />
        <label for="password">{t.password}</label>
        <input
          id="password"
          name="password"
          type="password"
          autocomplete="current-password"
          required
          autofocus={state.again === 'password'}
          aria-invalid={state.errors.password ? 'true' : undefined}
          aria-describedby={state.errors.password ? errorId('password') : undefined}
        />
        <FieldError name="password" message={state.errors.password} />
        <div class="actions">
          <button type="submit">{t.submit}</button>
        </div>
      </form>
    </section>
  );
}

export function signInPages() {
  const router = new Hono<AppEnv>();
  // Page middleware on these paths only (see src/app.ts: a router's `use('*')` would cover the API too).
  router.use('/signin', csrfProtection(), loadSession());
  router.use('/signout', csrfProtection(), loadSession());

  router.get('/signin', (c) => {
    const t = T[pageContext(c).lang];
    const state: FormState = { username: '', next: safeNext(c.req.query('next')), errors: {} };
    if (c.req.query('out') === '1') {
      state.notice = { kind: 'ok', text: t.signedOut };
      state.signedOut = true;
    } else if (c.req.query('expired') === '1') {
      // A form posted after the session ended (src/web/session.ts): without this the clerk could think it was done.
      state.notice = { kind: 'error', text: t.expired };
    }
    return renderPage(c, t.title, <SignInForm c={c} state={state} />, { scripts: ['staff.js'] });
  });

  router.post('/signin', async (c) => {
    const p = pageContext(c);
    const t = T[p.lang];
    const form = await c.req.parseBody();
    // Cut by characters, not inside a surrogate pair. A name holding what no username holds and PostgreSQL
    // could not store with the attempt (NUL, half a surrogate pair) is a wrong name on both databases.
    const typed = typeof form.username === 'string' ? form.username : '';
    const unusable = textFault(typed) !== null;
    const username = [...keepableText(typed).trim()].slice(0, 64).join('');
    const password = typeof form.password === 'string' ? [...form.password].slice(0, 200).join('') : '';
    const next = safeNext(typeof form.next === 'string' ? form.next : null);
    const state: FormState = { username, next, errors: {} };
    // The sign-in page's own address, where its language switch leads: the page asked for first is kept.
    const address = `/signin${next ? `?next=${encodeURIComponent(next)}` : ''}`;
    if (username === '') state.errors.username = t.required;
    if (password === '') state.errors.password = t.required;
    if (state.errors.username || state.errors.password) {
      state.again = state.errors.username ? 'username' : 'password';
      return renderPage(c, t.title, <SignInForm c={c} state={state} />, { status: 400, address });
    }
    const result = unusable ? ({ ok: false, reason: 'invalid' } as const) : await checkCredentials(c, username, password);
    if (!result.ok) {
      if (result.reason === 'locked') {
        const text = result.by === 'account' ? t.locked : t.lockedAddress;
        state.notice = { kind: 'error', text: text.replace('{until}', formatTime(result.until, p.lang, p.timeZone)) };
        return renderPage(c, t.title, <SignInForm c={c} state={state} />, { status: 429, address });
      }
      state.notice = { kind: 'error', text: t.invalid };
      state.again = 'password';
      return renderPage(c, t.title, <SignInForm c={c} state={state} />, { status: 401, address });
    }
    await startSession(c, result.userId);
    return c.redirect(afterSignIn(result.role, next), 303);
  });

  router.post('/signout', async (c) => {
    await endSession(c);
    return c.redirect('/signin?out=1', 303);
  });

  return router;
}
