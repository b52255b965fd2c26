import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Starts the service as its own process, the way `npm start` does, for a benchmark. */

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

export interface SpawnedService {
  child: ChildProcess;
  url: string;
  stop(): Promise<void>;
}

/** A run's own data directory (SQLite file, uploads); `remove()` deletes it when the run ends. */
export function benchDataDir(name: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `intake-bench-${name}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export async function spawnService(opts: {
  role: 'api' | 'worker' | 'all';
  port: number;
  env: Record<string, string>;
}): Promise<SpawnedService> {
  // BENCH_NODE_ARGS passes options to the service's node (e.g. `--cpu-prof --cpu-prof-dir=prof` to profile it).
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'src/main.ts', '--role', opts.role], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(opts.port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...opts.env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = `http://127.0.0.1:${opts.port}`;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${opts.role} process did not start`)), 120_000);
    child.once('exit', (code) => reject(new Error(`${opts.role} process exited with ${code}`)));
    const poll = async () => {
      if (opts.role === 'worker') {
        // A worker has no port: it is up once it has had time to connect.
        setTimeout(() => {
          clearTimeout(timer);
          resolve();
        }, 1500);
        return;
      }
      for (;;) {
        try {
          if ((await fetch(`${url}/healthz`)).ok) break;
        } catch {
          // not up yet
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      clearTimeout(timer);
      resolve();
    };
    void poll();
  });
  child.stdout?.resume();
  return {
    child,
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Varied report texts written for the benchmarks and the load tests (no real data). */
export const SAMPLE_REPORTS = [
  '兴隆办事处那边一个厂子晚上往沟里排黑水，气味很大',
  '回龙村养猪场的粪水直接排到田里，臭得不得了',
  '李家塘路边有人烧垃圾，烟好大，呛人',
  '马鹿头工地半夜施工，噪音扰民，睡不着',
  '盐下村河里好多死鱼，河水发黑发臭',
  '八仙洞山坡上有人偷倒有毒废渣',
  '神仙洞选矿厂的尾矿水流到稻田里',
  '永济亭农资店在卖百草枯',
  '朱家观村的灌溉水渠里是矿上排出来的废水',
  '八字桥社区旁边仓库堆了好多化工桶，有的在漏',
  '有人收购废机油和废电池，没有证',
  '老板拖欠工资三个月了',
  '想问一下情况',
];

/**
 * The address report `i` comes from, as the proxy in front of the service
 * would say it (X-Forwarded-For, with TRUST_PROXY set): a district's residents
 * send from many addresses, so the limit per address (INTAKE_RATE_LIMIT) is
 * counted for every report, as in service, without refusing the benchmark's.
 */
export function residentAddress(i: number): string {
  return `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`;
}

/** What the service needs to read those addresses. */
export const BEHIND_PROXY = { TRUST_PROXY: 'true' } as const;
