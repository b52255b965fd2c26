import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { DepsOverrides } from '../src/deps.js';
import { parseEnv, type Env } from '../src/env.js';
import { createLogger, type Logger } from '../src/logger.js';
import { startService, type Role, type Service } from '../src/runtime.js';
import { compiled } from './compiled-sources.js';
import { removeQueueKeys } from './redis-keys.js';

export { compiled, removeQueueKeys };

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const PG_ADMIN_URL = process.env.TEST_PG_URL ?? `postgres://${userInfo().username}@127.0.0.1:5432/test`;

const cleanups: Array<() => Promise<void> | void> = [];

/** What onCleanup registered, newest first; run after each test file (test/setup.ts). */
export async function runCleanups(): Promise<void> {
  const due = cleanups.splice(0).reverse();
  for (const fn of due) await fn();
}

/** Runs after the test file, in reverse order of registration. */
export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

export function tempDir(prefix = 'intake-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function uniquePrefix(name: string): string {
  return `test-${name}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/** An environment for one test service: its own SQLite file, uploads and queue prefix. */
export function testEnv(name: string, overrides: Record<string, string> = {}): Env {
  const dir = tempDir();
  const prefix = uniquePrefix(name);
  const env = parseEnv({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: join(dir, 'intake.db'),
    UPLOAD_DIR: join(dir, 'uploads'),
    REDIS_URL: REDIS_URL,
    QUEUE_PREFIX: prefix,
    LOG_LEVEL: 'silent',
    PUBLIC_URL: 'http://intake.test',
    // Shared by every test service: the model is trained once, then loaded from the cache.
    CLASSIFIER_DIR: join(tmpdir(), 'intake-test-classifier'),
    DISPATCH_BACKOFF_MS: '100',
    DISPATCH_ATTEMPTS: '3',
    // Test files send many reports from 127.0.0.1; the limit per address has tests of its own (intake-limit.test.ts).
    INTAKE_RATE_LIMIT: 'off',
    // Likewise the lookups of unknown tracking codes (tested in intake-limit.test.ts).
    TRACK_LOOKUP_LIMIT: 'off',
    ...overrides,
  });
  onCleanup(() => removeQueueKeys(env.REDIS_URL, env.QUEUE_PREFIX));
  return env;
}

export async function startTestService(
  env: Env,
  role: Role = 'all',
  overrides: DepsOverrides = {},
): Promise<Service & { url: string }> {
  const service = await startService(env, role, { logger: createLogger('silent'), ...overrides });
  onCleanup(() => service.stop());
  return service as Service & { url: string };
}

/**
 * A TCP server on 127.0.0.1 that is not the one a client expects (another
 * service's port): `onConnection` decides what it does with each connection.
 * Closed, with its connections, when the test ends. Resolves to its port.
 */
export async function foreignServer(onConnection: (socket: Socket) => void): Promise<number> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return (server.address() as AddressInfo).port;
}

/** A fresh PostgreSQL database for one test file, dropped afterwards. */
export async function createPgDatabase(name: string): Promise<string> {
  const dbName = `intake_${name}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`.toLowerCase();
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`create database "${dbName}"`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${dbName}`;
  onCleanup(async () => {
    const c = new pg.Client({ connectionString: PG_ADMIN_URL });
    await c.connect();
    await c.query(`drop database if exists "${dbName}" with (force)`);
    await c.end();
  });
  return url.toString();
}

export async function waitFor<T>(
  check: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  { timeoutMs = 15_000, intervalMs = 50, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Whether a Redis server answers PING at this URL (one attempt, no retries). */
export async function redisAnswers(url: string): Promise<boolean> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => {});
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

/** A private redis-server, so a test can stop, restart and flush it without disturbing other files. */
export interface PrivateRedis {
  url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Where the kernel takes the local ports of outgoing connections from (Linux; elsewhere its usual start). */
function ephemeralPortsStart(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
}

/**
 * A free port, for a server to listen on or for an address where nothing listens, taken below the range of
 * outgoing connections' local ports. A port of that range can meanwhile become the local end of some
 * connection of the suite, or of a client's attempt connected to itself (a connection to a closed port of
 * the range can be given that very port): a server stopped and started again could not listen on it, and
 * the "dead" address would answer.
 */
export async function freePort(opts: { alsoFree?: number } = {}): Promise<number> {
  // With `alsoFree`, the port that far above it must be free too and stay out of the ephemeral range (a Redis
  // Cluster node's bus port, its port + 10000, which an outgoing connection could otherwise take meanwhile).
  const below = ephemeralPortsStart() - (opts.alsoFree ?? 0);
  const isFree = (port: number) =>
    new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 10_000 + Math.floor(Math.random() * (below - 10_000));
    if ((await isFree(port)) && (opts.alsoFree === undefined || (await isFree(port + opts.alsoFree)))) return port;
  }
  throw new Error(`no free port between 10000 and ${below}`);
}

export async function privateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;
  const redis: PrivateRedis = {
    url,
    async start() {
      const started = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = started;
      let output = '';
      started.stdout.setEncoding('utf8').on('data', (d: string) => (output = (output + d).slice(-2000)));
      started.stderr.setEncoding('utf8').on('data', (d: string) => (output = (output + d).slice(-2000)));
      await waitFor(
        () => {
          if (started.exitCode !== null) throw new Error(`redis-server exited with ${started.exitCode}:\n${output}`);
          return redisAnswers(url);
        },
        { what: `private redis to start on port ${port}` },
      );
    },
    async stop() {
      const c = child;
      if (!c || c.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.kill('SIGKILL');
      });
      child = null;
    },
  };
  onCleanup(() => redis.stop());
  return redis;
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** Reads the body for an assertion message: a failing status check shows what the server said. */
export async function bodyOf(res: Response): Promise<unknown> {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command of the project as its own process from the repository root
 * (`tool` is `src/cli/NAME.ts`, run compiled (test/compiled-sources.ts), or an argv such as
 * `['npm', 'run', …]`), with `env` over the current environment and `input`
 * on stdin, and collects what it prints.
 */
export function runCli(tool: string | string[], args: string[], opts: { env?: Record<string, string>; input?: string } = {}): Promise<CliRun> {
  const [command, ...first] = typeof tool === 'string' ? compiled(`src/cli/${tool}.ts`) : tool;
  return new Promise((resolve, reject) => {
    const child = spawn(command!, [...first, ...args], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

/** A log sink that keeps each JSON line it is given, parsed. */
export function jsonLines(): { lines: Array<Record<string, unknown>>; sink: Writable } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { lines, sink };
}

/** A logger at `level` whose lines are kept, parsed, in `lines`. */
export function captureLogs(level: Parameters<typeof createLogger>[0] = 'info'): { lines: Array<Record<string, unknown>>; logger: Logger } {
  const { lines, sink } = jsonLines();
  return { lines, logger: createLogger(level, sink) };
}
