import { OpenAPIHono } from '@hono/zod-openapi';
import { trackLookupGate } from '../handlers/lookup-gate.js';
import type { Context, Env as HonoEnv, Hono, MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { METHOD_NAME_ALL } from 'hono/router';
import { requestId } from 'hono/request-id';
import type { AppEnv } from '../handlers/app-env.js';
import { caseRoutes } from '../handlers/cases.routes.js';
import { CROSS_ORIGIN_PATHS, publicApiCors } from '../handlers/cors.js';
import { dispatchDeskRoutes } from '../handlers/dispatch-desk.routes.js';
import { docsRoutes, type DocsAssetReader } from '../handlers/docs.routes.js';
import { BEARER_SCHEME } from '../handlers/auth.middleware.js';
import { feedbackRoutes } from '../handlers/feedback.routes.js';
import { exportRoutes } from '../handlers/export.routes.js';
import { healthRoutes } from '../handlers/health.routes.js';
import { HOTLINE_IMPORT_PATH, hotlineRoutes } from '../handlers/hotline.routes.js';
import { meRoutes } from '../handlers/me.routes.js';
import { reportRoutes } from '../handlers/reports.routes.js';
import { statsRoutes } from '../handlers/stats.routes.js';
import { publicPageRoutes } from '../handlers/pages/public.page.js';
import { reportPageRoutes } from '../handlers/pages/report.page.js';
import { trackPageRoutes } from '../handlers/pages/track.page.js';
import { signInPages } from '../handlers/pages/signin.page.js';
import { inboxPages } from '../handlers/pages/inbox.page.js';
import { deskPages } from '../handlers/pages/desk.page.js';
import { consolePages } from '../handlers/pages/console.page.js';
import { telegramWebhookRoutes } from '../handlers/telegram.routes.js';
import { trackRoutes } from '../handlers/track.routes.js';
import { clientWentAway, isJsonContentType, limitBody, MAX_JSON_BYTES } from '../handlers/uploads.js';
import { withNotReadyAnswers } from '../handlers/error-schema.js';
import { validationHook } from '../handlers/validation.js';
import { databaseUnavailable } from '../db/unavailable.js';
import type { Deps } from './deps.js';
import { textFault } from './domain/text.js';
import { declaredCharset, isGbCharset } from './hotline/import-calls.js';
import { IntakeWriterDown } from './intake/intake-writer.js';
import { AppError, errorBody, type ErrorBody } from './errors.js';
import { API_MESSAGES_ZH, fieldMessage } from './web/messages.js';
import { apiLanguage } from './web/i18n.js';
import { refusalText } from '../handlers/pages/staff-common.js';
import { maskPhonesInText } from './pipeline/extract.js';
import { renderErrorPage, wantsHtml } from './web/render.js';

/** Every router of the service, mounted in one list. */
const ROUTERS = [healthRoutes, reportRoutes, trackRoutes, meRoutes, feedbackRoutes, statsRoutes, exportRoutes, caseRoutes, dispatchDeskRoutes, hotlineRoutes, reportPageRoutes, trackPageRoutes, publicPageRoutes, signInPages, inboxPages, deskPages, consolePages];

/** Parts only some platforms provide, handed in by the entry file. */
export interface AppExtras {
  /** The Swagger UI files of /docs (Node reads them from the package; Workers serve them as static assets). */
  docsAssets?: DocsAssetReader;
  /** The pages' scripts and styles (Node serves them from the packages; Workers from static assets). */
  assets?: Hono<AppEnv>;
  /** Middleware run on every request right after the request id is set (Node: metrics, request context). */
  middleware?: MiddlewareHandler<AppEnv>[];
  /** More routers (Node: GET /metrics when a metrics token is configured). */
  routes?: Hono<AppEnv>[];
  /**
   * The HTTP server writes ANSWER_HEADERS and PAGE_HEADERS itself (Node: `AnswerHeadersResponse`), so the app does not: set on an
   * answer's Headers after the route made it, they cost @hono/node-server's fast path (about a third of `/healthz`).
   */
  serverWritesAnswerHeaders?: boolean;
}

/**
 * The request id: the client's X-Request-Id when it gives a usable one (as
 * Hono's requestId takes it), a new one otherwise — and a new one when the
 * client's holds a phone number, which would otherwise be logged with every line.
 */
function clientRequestIdUnlessPhone(): MiddlewareHandler<AppEnv> {
  const clients = requestId({ headerName: 'X-Request-Id' });
  const ours = requestId({ headerName: '' });
  return (c, next) => {
    const given = c.req.header('X-Request-Id');
    if (given === undefined || maskPhonesInText(given) === given) return clients(c, next);
    return ours(c, async () => {
      c.header('X-Request-Id', c.get('requestId'));
      await next();
    });
  };
}

export function createApp(deps: Deps, extras: AppExtras = {}) {
  // Not strict: /healthz/ and POST /api/v1/reports/ are the routes without the slash, as clients that add one expect.
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook, strict: false });

  app.use(clientRequestIdUnlessPhone());
  if (!extras.serverWritesAnswerHeaders) app.use(answerHeaders);
  for (const m of extras.middleware ?? []) app.use(m);
  app.use(async (c, next) => {
    c.set('deps', deps);
    const started = performance.now();
    await next();
    deps.logger.info(
      {
        reqId: c.get('requestId'),
        method: c.req.method,
        // A phone number or a name typed into a URL (/track/13912349902 or /track/王小明 instead of a tracking code) is
        // not logged: the service's own paths are ASCII, and anything else in one is left out.
        path: maskPhonesInText(c.req.path).replace(/[^\x20-\x7e]+/g, '…'),
        status: c.res.status,
        ms: Math.round((performance.now() - started) * 10) / 10,
      },
      'request',
    );
  });
  // After the dependencies are set: a refusal here may be drawn as an error page, which needs them.
  // Before the body limit and the lookup gate: a browser's preflight carries no body and looks nothing up.
  const crossOrigin = publicApiCors(deps.env.CORS_ORIGINS);
  if (crossOrigin) for (const path of CROSS_ORIGIN_PATHS) app.use(path, crossOrigin);
  app.use(utf8BodiesOnly);
  app.use(pagePathsWellFormed);
  // Every API body is held to 1 MB, as the routes that set no limit of their own (a rating, a bureau's or a
  // dispatcher's action) would otherwise read any size into memory before validating it. The routes taking files
  // and hotline calls set their own limits, and the hotline import streams its file.
  app.use('/api/*', apiBodyLimit, emptyJsonBodyIsNone);
  const lookups = trackLookupGate(deps.env.TRACK_LOOKUP_LIMIT);
  for (const path of ['/track/*', '/api/v1/track/*', '/submitted/*']) app.use(path, lookups);

  for (const router of ROUTERS) app.route('/', router());
  const telegram = telegramWebhookRoutes(deps);
  if (telegram) app.route('/', telegram);

  app.openAPIRegistry.registerComponent('securitySchemes', BEARER_SCHEME, {
    type: 'http',
    scheme: 'bearer',
    description: 'A staff API token (`eci_…`), issued with `npm run admin -- user add` or `token add`.',
  });
  const config = {
    openapi: '3.1.0',
    info: {
      title: '环境问题举报受理与派单服务 · Environmental complaint intake and dispatch',
      version: '1.0.0',
      description:
        'Residents report environmental violations; the service classifies each report, routes it to the responsible bureaus and tracks it to closure.\n\n' +
        'Every error is answered as `{ error: { code, message, requestId, fields? } }`, also for a request the HTTP server cannot read ' +
        '(Node): headers larger than 16 KB (431 `headers_too_large`), a request that is not valid HTTP/1.1 (400 `malformed_request`), ' +
        'a request not arriving in full within 300 s (408 `request_timeout`); the connection is closed after these.',
    },
  };
  // Made once, at the first request: every route is registered by then.
  let document: ReturnType<typeof app.getOpenAPI31Document> | null = null;
  app.get('/openapi.json', (c) => c.json((document ??= withNotReadyAnswers(app.getOpenAPI31Document(config)))));
  app.route('/', docsRoutes(extras.docsAssets));
  if (extras.assets) app.route('/', extras.assets);
  for (const r of extras.routes ?? []) app.route('/', r);

  app.notFound((c) => {
    const wrong = methodNotAllowed(app, c.req.method, c.req.path);
    const err = wrong?.error ?? new AppError('not_found', `no route for ${c.req.method} ${c.req.path}`);
    if (wrong) c.header('Allow', wrong.allow);
    return wantsHtml(c) ? renderErrorPage(c, err) : c.json(apiErrorBody(c, err, c.get('requestId')), err.status);
  });

  app.onError((err, c) => {
    const reqId = c.get('requestId') ?? '';
    const appError = toAppError(err, c.req.header('content-type'));
    if (appError?.cause instanceof Error) {
      const cause = appError.cause as Error & { code?: unknown };
      deps.logger.warn({ reqId, code: appError.code, cause: { type: cause.name, code: cause.code, message: cause.message } }, 'request refused: the database reported a conflict');
    }
    if (appError?.code === 'not_ready' && !(err instanceof AppError)) {
      // Not a fault of this request nor of the code: the database is down or restarting, or the disk
      // full. Said for whoever runs the service, and the client told to send the request again later.
      deps.logger.warn({ reqId, cause: { type: err.name, code: (err as { code?: unknown }).code, message: err.message } }, `request refused: ${appError.message}`);
      c.header('Retry-After', String(RETRY_AFTER_S));
    }
    if (appError) {
      if (wantsHtml(c)) return renderErrorPage(c, appError);
      // The rest of an oversized body is never read: the connection cannot be reused.
      if (appError.code === 'payload_too_large') c.header('Connection', 'close');
      return c.json(apiErrorBody(c, appError, reqId), appError.status);
    }
    if (clientWentAway(c, err)) {
      // Nobody reads this answer; the request log shows a 400 rather than a fault of the service.
      deps.logger.info({ reqId, reason: err.message }, 'client closed the connection before its request was read');
      return c.json(apiErrorBody(c, new AppError('malformed_body', 'the request ended before its body was complete', { body: 'incomplete' }), reqId), 400);
    }
    deps.logger.error({ reqId, err: { type: err.name, message: err.message, stack: err.stack } }, 'unhandled error');
    const internal = new AppError('internal', 'internal error; the request id identifies it in the logs');
    // A resident or clerk in a browser gets a page in their language, not the API's JSON.
    if (wantsHtml(c)) return renderErrorPage(c, internal);
    return c.json(apiErrorBody(c, internal, reqId), 500);
  });

  return app;
}

/** The order the methods of an `Allow` header are named in; others (none today) follow in the order they were routed. */
const ALLOW_ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/**
 * The methods some route of the app takes at this path, as an `Allow` header names them: Hono's own router is asked
 * with each method the app routes, and only a route of that very method counts (middleware is routed for every method,
 * `ALL`, and routes nothing). HEAD goes with GET, which Hono answers HEAD with. None: no route has the path (a 404).
 */
function methodsRoutedFor<E extends HonoEnv>(app: Hono<E>, path: string): string[] {
  const methods = new Set(app.routes.map((r) => r.method).filter((m) => m !== METHOD_NAME_ALL));
  const taken = [...methods].filter((m) => app.router.match(m, path)[0].some(([[, route]]) => route.method === m));
  if (taken.includes('GET')) taken.push('HEAD');
  const rank = (m: string) => (ALLOW_ORDER.includes(m) ? ALLOW_ORDER.indexOf(m) : ALLOW_ORDER.length);
  return taken.sort((a, b) => rank(a) - rank(b));
}

/**
 * The 405 of a request whose method the path takes no route for, with the `Allow` header's value; null when some
 * route takes it (its handler may itself answer not found: an unknown asset) or when no route has the path (a 404).
 */
export function methodNotAllowed<E extends HonoEnv>(app: Hono<E>, method: string, path: string): { allow: string; error: AppError } | null {
  const allow = methodsRoutedFor(app, path);
  if (allow.length === 0 || allow.includes(method)) return null;
  return {
    allow: allow.join(', '),
    error: new AppError('method_not_allowed', `this path does not take ${method}; it takes ${allow.join(', ')} (the Allow header)`),
  };
}

/**
 * The headers every answer carries unless its route sets its own (a served file's own sandbox policy): nothing of
 * the service inside another site's frame (a report form dressed up elsewhere), no type sniffed, nothing of it
 * loaded by another site's page — what a JSON API is advised to send. HSTS is left to the https proxy in front,
 * which knows the district's domains.
 */
// Names in lower case: an answer's own headers reach the Node server so (from its Headers), compared there by exact name.
export const ANSWER_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['content-security-policy', "frame-ancestors 'none'"],
  ['cross-origin-resource-policy', 'same-origin'],
  ['x-content-type-options', 'nosniff'],
  ['x-frame-options', 'DENY'],
];

/**
 * The rest of what hono's secureHeaders sets (with Referrer-Policy same-origin), for the pages (text/html): what
 * only a browser's document heeds — the address of a page (a tracking code in it) not sent to other sites, the
 * page kept in its own browsing context. Sent with every answer, they made `/healthz` a third slower.
 */
export const PAGE_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['cross-origin-opener-policy', 'same-origin'],
  ['origin-agent-cluster', '?1'],
  ['referrer-policy', 'same-origin'],
  ['x-dns-prefetch-control', 'off'],
  ['x-download-options', 'noopen'],
  ['x-permitted-cross-domain-policies', 'none'],
  ['x-xss-protection', '0'],
];

/** Whether an answer of this Content-Type is a page, which gets PAGE_HEADERS too. */
export function isPageType(contentType: string | null | undefined): boolean {
  return contentType !== null && contentType !== undefined && contentType.toLowerCase().startsWith('text/html');
}

/** What the API answers (cases, reporters' contacts for dispatchers) is kept in no cache, unless its route says otherwise. */
export const API_CACHE_CONTROL = 'no-store';

/** Whether a request path is the API's, whose answers are `API_CACHE_CONTROL`. */
export function isApiPath(path: string): boolean {
  return path.startsWith('/api/');
}

/** ANSWER_HEADERS, PAGE_HEADERS on pages, and the API's Cache-Control, set by the app where no server writes them (Workers). */
const answerHeaders: MiddlewareHandler = async (c, next) => {
  await next();
  const headers = c.res.headers;
  for (const [name, value] of ANSWER_HEADERS) if (!headers.has(name)) headers.set(name, value);
  if (isPageType(headers.get('Content-Type'))) for (const [name, value] of PAGE_HEADERS) if (!headers.has(name)) headers.set(name, value);
  if (isApiPath(c.req.path) && !headers.has('Cache-Control')) headers.set('Cache-Control', API_CACHE_CONTROL);
};

/**
 * The error body in the client's language: English (the API's own words),
 * or Chinese for a client that prefers it (Accept-Language). The code, the
 * field names and the request id are the same in both.
 */
function apiErrorBody(c: Context<AppEnv>, err: AppError, reqId: string): ErrorBody {
  const body = errorBody(err, reqId);
  if (apiLanguage(c.req.header('accept-language') ?? '') !== 'zh') return body;
  const district = c.get('deps').district;
  const fields = err.fields ? Object.fromEntries(Object.entries(err.fields).map(([k, v]) => [k, fieldMessage('zh', v)])) : undefined;
  const message = err.refusal
    ? refusalText(err.refusal, 'zh', district)
    : err.zh !== undefined
      ? err.zh
      : fields && err.code === 'validation_failed'
      ? `${API_MESSAGES_ZH.validation_failed}：${Object.keys(fields).join('、')}`
      : API_MESSAGES_ZH[err.code];
  return { error: { ...body.error, message, ...(fields ? { fields } : {}) } };
}

/**
 * Bodies are read as UTF-8. A request that declares another charset (a GBK
 * or GB18030 form post, say) is refused with 415 rather than stored as garbage.
 * The hotline import alone also reads a body declared GBK / GB 18030 (gbk,
 * gb2312, gb18030): what a call centre's export on a Chinese Windows is.
 */
const utf8BodiesOnly: MiddlewareHandler = async (c, next) => {
  const declared = declaredCharset(c.req.header('content-type') ?? '');
  if (declared && !['utf-8', 'utf8', 'us-ascii'].includes(declared)) {
    if (c.req.method === 'POST' && c.req.path === HOTLINE_IMPORT_PATH) {
      if (!isGbCharset(declared)) {
        throw new AppError('unsupported_media_type', `the body must be UTF-8 or GBK / GB 18030, not ${declared}`, {
          'content-type': `charset must be utf-8, gbk, gb2312 or gb18030, not ${declared}`,
        });
      }
    } else throw new AppError('unsupported_media_type', `the body must be UTF-8, not ${declared}`, { 'content-type': `charset must be utf-8, not ${declared}` });
  }
  // Bodies are read as sent: a compressed one would be read as its compressed bytes (RFC 7694: 415).
  const encoding = c.req.header('content-encoding')?.trim().toLowerCase();
  if (encoding && encoding !== 'identity') {
    throw new AppError('unsupported_media_type', `the body must not be compressed (Content-Encoding: ${encoding})`, { 'content-encoding': `not accepted: ${encoding}` });
  }
  await next();
};

/**
 * A page path holding what no id or code holds (a NUL, half a surrogate pair)
 * names nothing: 404 on both databases (PostgreSQL would refuse the lookup).
 * API paths are validated by their route schemas, which name the field.
 */
const pagePathsWellFormed: MiddlewareHandler = async (c, next) => {
  // c.req.path is decoded already (Hono decodes the escapes of each segment it can): no second decoding.
  if (!c.req.path.startsWith('/api/') && textFault(c.req.path)) throw new AppError('not_found', 'not found');
  await next();
};

const jsonBodyLimit = limitBody(() => MAX_JSON_BYTES);
/** Routes that hold their bodies to limits of their own: the reports and replies with files, hotline calls and their import. */
const OWN_BODY_LIMIT = /^\/api\/v1\/(?:reports|cases\/[^/]+\/reply|hotline\/calls(?::import)?)\/?$/;
const apiBodyLimit: MiddlewareHandler = async (c, next) => {
  if (c.req.method === 'GET' || c.req.method === 'HEAD' || OWN_BODY_LIMIT.test(c.req.path)) return next();
  return jsonBodyLimit(c, next);
};

/**
 * A body declared JSON that holds no bytes is no body: read as `{}`, as a request without one is. Actions that take
 * none (signing for, a redelivery, approving an extension) are sent so by clients that set the content type on every
 * request (`curl -X POST -H 'content-type: application/json'`), and Hono's JSON validator, which parses whatever a
 * request declared JSON, would refuse them as malformed; an action that needs a body names its missing fields, as
 * when none is sent. A body that holds anything but JSON (a blank, half an object) is still a 400 naming the body.
 * Runs after the body limit: a body without a Content-Length (chunked) is read under it, into Hono's body cache the
 * validator reads from. The routes with limits of their own read theirs later, so such a body is left to them.
 */
const emptyJsonBodyIsNone: MiddlewareHandler = async (c, next) => {
  if (c.req.method === 'GET' || c.req.method === 'HEAD' || !isJsonContentType(c.req.header('content-type'))) return next();
  const declared = c.req.header('content-length');
  if (declared !== undefined ? declared.trim() !== '0' : OWN_BODY_LIMIT.test(c.req.path) || (await c.req.text()) !== '') return next();
  // What Hono's c.req.json() (and any other reading of the body) gives from here on. (The cache holds promises, which its type does not say.)
  c.req.bodyCache = { json: Promise.resolve({}) };
  return next();
};

/** How long a client is asked to wait before sending again a request the service could not serve now. */
const RETRY_AFTER_S = 5;

/** The file system's refusals of a write (a photo, a file attached to a reply) that pass once room is made. */
const OUT_OF_ROOM = new Set(['ENOSPC', 'EDQUOT', 'EMFILE', 'ENFILE']);

/**
 * Maps framework errors (bad JSON, bad media type, body too large) onto the closed set of codes, and
 * what the database or the disk cannot do now onto `not_ready`.
 */
function toAppError(err: Error, contentType: string | undefined): AppError | null {
  if (err instanceof AppError) return err;
  if (err instanceof HTTPException) {
    switch (err.status) {
      case 400:
        return new AppError('malformed_body', err.message || 'malformed request body', { body: err.message || 'malformed' });
      case 413:
        return new AppError('payload_too_large', 'the request body is too large', { body: 'too large' });
      case 415:
        return new AppError('unsupported_media_type', 'this content type is not accepted here; see /openapi.json for the route', {
          'content-type': contentType ? `not accepted: ${contentType.split(';')[0]!.trim()}` : 'required with a body',
        });
      case 401:
        return new AppError('unauthorized', err.message || 'unauthorized');
      case 403:
        return new AppError('forbidden', err.message || 'forbidden');
      case 404:
        return new AppError('not_found', err.message || 'not found');
      default:
        return null;
    }
  }
  if (databaseUnavailable(err)) {
    return new AppError('not_ready', 'the database cannot serve this now (unreachable, restarting, busy or full): send the request again in a while');
  }
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && OUT_OF_ROOM.has(code)) {
    return new AppError('not_ready', 'the service cannot store this now (no room on its disk): send the request again later');
  }
  // The intake writer thread stopped and is being started again (src/intake/writer-thread.ts).
  if (err instanceof IntakeWriterDown) {
    return new AppError('not_ready', 'the service cannot take reports now (its intake writer is restarting): send the request again in a while');
  }
  // PostgreSQL refuses text holding a NUL character (22021) or bytes its encoding cannot take: bad input, not a fault.
  // The statement failed, so its transaction wrote nothing.
  if (code === '22021' || code === '22P05') {
    return new AppError('validation_failed', 'a text field holds a character that cannot be stored (NUL)', { body: 'must not contain NUL characters' });
  }
  return null;
}
