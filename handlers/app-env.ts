import type { Deps } from '../src/deps.js';

/** Hono's context variables, shared by every router. */
export interface AppEnv {
  Variables: {
    deps: Deps;
    requestId: string;
  };
}
