import { parseArgs } from 'node:util';
import { EnvError, parseEnv } from './env.js';
import type { Role, Service } from './runtime.js';

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
  let service: Service | null = null;
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

  // The service is loaded once the command line and the environment are known to be good:
  // a mistake in either is said at once, not after loading every module of the service.
  const { startService } = await import('./runtime.js');
  service = await startService(env, role as Role);
  if (pending) {
    signals = 0;
    shutdown(pending);
  }
}

/** The refusals said in one line, without a stack trace: what is wrong is in the configuration, not the code. */
async function isRefusal(err: unknown): Promise<boolean> {
  if (err instanceof UsageError || err instanceof EnvError) return true;
  const [{ DatabaseUnavailableError }, { DistrictConfigError }, { StartupError }] = await Promise.all([
    import('../db/migrate.js'),
    import('./district/district.schema.js'),
    import('./runtime.js'),
  ]);
  return err instanceof DistrictConfigError || err instanceof DatabaseUnavailableError || err instanceof StartupError;
}

main().catch(async (err: unknown) => {
  if (await isRefusal(err).catch(() => false)) {
    process.stderr.write(`${(err as Error).message}\n`);
  } else {
    process.stderr.write(`failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  process.exit(1);
});
