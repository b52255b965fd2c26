import type { Principal } from '../src/auth/principal.js';
import type { Deps } from '../src/deps.js';

/** Hono's context variables, shared by every router. */
export interface AppEnv {
  Variables: {
    deps: Deps;
    requestId: string;
    /** The authenticated account, set by `authenticate()` (handlers/auth.middleware.ts). */
    principal?: Principal;
    /** The CSRF token of a page request, set by `csrfProtection()` (src/web/csrf.ts). */
    csrfToken?: string;
  };
}
