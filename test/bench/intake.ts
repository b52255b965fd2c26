/**
 * bench:intake — autocannon against a running API process (SQLite, Redis):
 * POST /api/v1/reports, and GET /healthz on the same server as the ceiling.
 *
 *   npm run bench:intake -- [--duration 10] [--connections 20]
 */
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { removeQueueKeys } from '../redis-keys.js';
import { BEHIND_PROXY, benchDataDir, residentAddress, SAMPLE_REPORTS, spawnService } from './lib/spawn-service.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '20' },
    port: { type: 'string', default: '3917' },
  },
});
const duration = Number(values.duration);
const connections = Number(values.connections);
const dir = benchDataDir('intake');
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `bench-intake-${process.pid}`;

const service = await spawnService({
  role: 'api',
  port: Number(values.port),
  env: {
    DATABASE_URL: process.env.DATABASE_URL ?? join(dir.path, 'intake.db'),
    UPLOAD_DIR: join(dir.path, 'uploads'),
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    ...BEHIND_PROXY,
  },
});

/** Milliseconds the machine's cores have been busy (Linux /proc/stat: user, nice, system, irq, softirq); null elsewhere. */
function machineBusyMs(): number | null {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq] = fields;
    // USER_HZ is 100 on Linux: a tick is 10 ms.
    return (user! + nice! + system! + irq! + softirq!) * 10;
  } catch {
    return null;
  }
}

function run(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

let n = 0;
const post = {
  url: `${service.url}/api/v1/reports`,
  connections,
  duration,
  requests: [
    {
      method: 'POST' as const,
      headers: { 'content-type': 'application/json' },
      setupRequest: (req: autocannon.Request) => ({
        ...req,
        headers: { ...req.headers, 'x-forwarded-for': residentAddress(n) },
        body: JSON.stringify({ text: `${SAMPLE_REPORTS[n++ % SAMPLE_REPORTS.length]}（${n}）`, anonymous: n % 3 === 0 }),
      }),
    },
  ],
};

try {
  // Warm up both routes (JIT, SQLite page cache) before measuring.
  await run({ url: `${service.url}/healthz`, connections, duration: 2 });
  await run({ ...post, duration: 2 });

  const cpuBefore = machineBusyMs();
  const ceiling = await run({ url: `${service.url}/healthz`, connections, duration });
  const cpuBetween = machineBusyMs();
  const intake = await run(post);
  const cpuAfter = machineBusyMs();
  // The whole machine's busy time (service, Redis and autocannon alike) per request answered: steadier than req/s
  // when comparing two builds on a VM whose speed drifts, since it does not depend on how many cores were free.
  const cpuPer = (from: number | null, to: number | null, r: autocannon.Result) =>
    from === null || to === null ? 'n/a' : `${Math.round(((to - from) * 1000) / (r.requests.total || 1))} µs`;
  const non2xx = intake.non2xx + intake.errors;
  const ratio = intake.requests.average / ceiling.requests.average;

  console.log(`machine: ${(await import('node:os')).cpus().length} cores, ${(await import('node:os')).cpus()[0]?.model ?? ''}, node ${process.version}`);
  console.log(`connections=${connections} duration=${duration}s database=${process.env.DATABASE_URL ? 'DATABASE_URL' : 'SQLite file'}`);
  console.log(`GET /healthz          ${ceiling.requests.average.toFixed(0)} req/s  p50 ${ceiling.latency.p50} ms  p99 ${ceiling.latency.p99} ms  machine CPU ${cpuPer(cpuBefore, cpuBetween, ceiling)}/req`);
  console.log(`POST /api/v1/reports  ${intake.requests.average.toFixed(0)} req/s  p50 ${intake.latency.p50} ms  p99 ${intake.latency.p99} ms  (${intake['2xx']} accepted, ${non2xx} not)  machine CPU ${cpuPer(cpuBetween, cpuAfter, intake)}/req`);
  console.log(`ratio ${ratio.toFixed(2)} of the ceiling`);
  console.log(
    `intake_rps=${intake.requests.average.toFixed(0)} ceiling_rps=${ceiling.requests.average.toFixed(0)} ratio=${ratio.toFixed(2)} p50_ms=${intake.latency.p50} p99_ms=${intake.latency.p99}`,
  );
  if (non2xx > 0) process.exitCode = 1;
} finally {
  await service.stop();
  await removeQueueKeys(redisUrl, prefix);
  dir.remove();
}
