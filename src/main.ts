import { parseArgs } from 'node:util';
import { DatabaseUnavailableError } from '../db/connect.js';
import { DistrictConfigError } from './district/district.schema.js';
import { EnvError, parseEnv } from './env.js';
import { startService, StartupError, type Role } from './runtime.js';

/** A bad command line: said in one line, without a stack trace. */
class UsageError extends Error {}

/**
 * Node entry: `npm start -- --role api|worker|all` (default all).
 * The only file that reads process.env and process.argv.
 */
async function main(): Promise<void> {
  let role: string | undefined;
  try {
    ({
      values: { role },
    } = parseArgs({ options: { role: { type: 'string', default: 'all' } }, allowPositionals: false }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}; usage: npm start -- [--role api|worker|all]`);
  }
  if (role !== 'api' && role !== 'worker' && role !== 'all') {
    throw new UsageError(`--role must be api, worker or all (got "${role}")`);
  }
  const env = parseEnv(process.env);

  // Listened for before the start, so a supervisor's SIGTERM while the service
  // is still starting stops it gracefully once started, rather than killing it
  // mid-start; a second signal exits at once, as it does later.
  let service: Awaited<ReturnType<typeof startService>> | null = null;
  let pending: NodeJS.Signals | null = null;
  let signals = 0;
  const shutdown = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) process.exit(1);
    if (!service) {
      pending = signal;
      return;
    }
    const started = service;
    started.deps.logger.info({ signal }, 'shutting down: no new requests; finishing running jobs');
    started.stop().then(
      () => process.exit(0),
      (err: Error) => {
        started.deps.logger.error({ err: err.message }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);

  service = await startService(env, role as Role);
  if (pending) {
    signals = 0;
    shutdown(pending);
  }
}

main().catch((err: unknown) => {
  if (err instanceof UsageError || err instanceof EnvError || err instanceof DistrictConfigError || err instanceof DatabaseUnavailableError || err instanceof StartupError) {
    process.stderr.write(`${err.message}\n`);
  } else {
    process.stderr.write(`failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  process.exit(1);
});
