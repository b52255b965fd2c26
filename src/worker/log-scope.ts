import { AsyncLocalStorage } from 'node:async_hooks';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../../handlers/app-env.js';
import type { Logger } from '../logger.js';

/**
 * The logger of the request or job being handled, for code that runs inside
 * it without being handed one: the D1 connection's unit-of-work log, written
 * from under the shared workflow code, names the request (`reqId`) or the job
 * (`queue`, `jobId`, `caseId`) it belongs to. An isolate handles several
 * requests and jobs at once, so the logger is carried by the async context
 * (AsyncLocalStorage, which workerd provides with `nodejs_compat`), not by a
 * variable. Outside a request or job it is the base logger.
 */
export interface LogScope {
  /** Runs `fn` with `logger` as the current logger, for everything it awaits. */
  run<T>(logger: Logger, fn: () => T): T;
  /** The current request's or job's logger; the base logger outside of one. */
  logger(): Logger;
}

export function createLogScope(base: Logger): LogScope {
  const storage = new AsyncLocalStorage<Logger>();
  return {
    run: (logger, fn) => storage.run(logger, fn),
    logger: () => storage.getStore() ?? base,
  };
}

/** Hono middleware (after the request id is set): the rest of the request runs with a logger naming its `reqId`. */
export function requestLogScope(scope: LogScope, logger: Logger): MiddlewareHandler<AppEnv> {
  return (c, next) => scope.run(logger.child({ reqId: c.get('requestId') }), next);
}
