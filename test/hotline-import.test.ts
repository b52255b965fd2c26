import { createReadStream, createWriteStream, existsSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase, migrateToLatest } from '../db/connect.js';
import { issueToken } from '../db/repositories/tokens.repository.js';
import { createUser } from '../db/repositories/users.repository.js';
import { loadDistrictFile } from '../src/district/district-file.js';
import { csvRows, decodeText, splitLines } from '../src/hotline/import-calls.js';
import { createRuleClassifier } from '../src/pipeline/rule-classifier.js';
import { REDIS_URL, runCli, startTestService, tempDir, testEnv, uniquePrefix, type CliRun } from './harness.js';
import { json, T0, type TestService } from './workflow-helpers.js';

/**
 * Batch import of hotline calls: 10,000 generated calls as NDJSON and as CSV,
 * with a few broken records, streamed through the HTTP import; exactly-once
 * creation (a re-run creates nothing) and bounded memory. Redis is
 * deliberately unreachable: the import only persists (cases with their
 * outbox entries), which is all these tests look at, and no worker competes
 * for the two cores.
 */

const DEAD_REDIS = 'redis://127.0.0.1:9';
const N = 10_000;

let service: TestService;
let token: string;
let dir: string;

// A forced collection before each memory sample measures what the import keeps, not garbage not yet collected.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

beforeAll(async () => {
  dir = tempDir('hotline-import-');
  const district = loadDistrictFile();
  service = (await startTestService(testEnv('hotline-import', { REDIS_URL: DEAD_REDIS }), 'api', {
    district,
    classifier: createRuleClassifier(district),
  })) as TestService;
  const user = await createUser(service.deps.db, { name: '坐席小王', role: 'operator', unitCode: null, at: T0 });
  token = (await issueToken(service.deps.db, { userId: user.id, label: null, at: T0 })).token;
});

// ---------------------------------------------------------------------------
// Generated calls: every transcript variant, rambling turns, varied places and problems.

const PLACES = ['兴隆办事处', '李家塘办事处', '永济亭', '八仙洞', '神仙洞办事处', '马鹿头', '朱家观村', '回龙村', '盐下村', '八字桥社区', '回峰林场', '我们村'];
const PROBLEMS = [
  '有个电镀厂晚上偷排废水，沟里的水都是黑的',
  '养猪场的猪粪水直接排到河里，臭得很',
  '有人在烧垃圾，黑烟很大，呛得人咳嗽',
  '工地半夜施工，噪音吵得睡不着',
  '有个小作坊把废机油倒在荒地里',
  '尾矿库的水一下雨就流到稻田里',
  '化工厂的烟囱天天冒黄烟，刺鼻得很',
  '河里好多死鱼，水也发黑发臭',
  '有人卖禁用的农药，百草枯都有',
  '建筑垃圾堆在路边好几个月没人清运',
];
const TIMES = ['昨晚十点多', '这几天', '前天下午', '每天晚上', '上周三', '最近', ''];
const OPERATORS = ['坐席', '话务员', '客服', '接线员'];
const CALLERS = ['来电人', '市民', '群众', '客户'];
const FILLER = [
  '喂，喂，听得到吗？信号不太好。',
  '我跟你讲，这个事情已经好久了，村里的人都有意见，就是没人管。',
  '之前也打过电话，说是会来看看，后来也没有下文。',
  '具体的我也说不清楚，反正味道很大，晚上窗户都不敢开。',
  '你们能不能派人来看一下，拍个照片什么的。',
];

// What a long call is mostly made of: the caller circling the problem, the operator asking again.
const SMALL_TALK: Array<[0 | 1, string]> = [
  [1, '对对对，就是那个地方，你们去了一问就知道，周围的人都晓得这个事情。'],
  [0, '您说的这个情况我们记下来了，还有没有其他需要补充的？比如具体的时间。'],
  [1, '时间的话一般是晚上，天黑了以后他们就开始搞，搞到半夜一两点钟才停。'],
  [0, '好的，那您有没有拍到照片或者视频？如果有的话可以发给我们。'],
  [1, '照片我拍了几张，但是晚上拍不清楚，白天去他们又不搞了，很狡猾的。'],
  [0, '明白，那周边有没有其他住户也受到影响？大概有多少户人家？'],
  [1, '有啊，我们这一片有二三十户，老人小孩都有，大家都很有意见。'],
  [0, '好的，我们会如实记录您反映的情况，转交给相关部门去核实处理。'],
  [1, '那你们什么时候来？上次打电话说来看看，结果等了一个多星期都没人来。'],
  [0, '这个我们会催办的，处理结果会有工作人员回复您，请您保持电话畅通。'],
];

function stamp(sec: number): string {
  return `${String(Math.floor(sec / 3600)).padStart(2, '0')}:${String(Math.floor(sec / 60) % 60).padStart(2, '0')}:${String(sec % 60).padStart(2, '0')}`;
}

/** A realistic call: greeting, the complaint over several turns (some wrapped), questions, filler. */
function transcriptOf(i: number): string {
  const op = OPERATORS[i % OPERATORS.length]!;
  const caller = CALLERS[(i >> 2) % CALLERS.length]!;
  const colon = i % 3 === 0 ? ': ' : '：';
  const stamped = i % 5;
  const place = PLACES[i % PLACES.length]!;
  const problem = PROBLEMS[(i * 7) % PROBLEMS.length]!;
  const time = TIMES[i % TIMES.length]!;
  const turns: Array<[string, string]> = [
    [op, `您好，${i % 2 ? '12369环保举报热线' : '12345热线'}，请讲。`],
    [caller, `${FILLER[i % FILLER.length]}我要反映${place}那边${time}${problem}。`],
    [op, '请问具体位置在哪里？'],
    [caller, `就在${place}，第${(i % 9) + 1}组旁边，路口进去两百米。${FILLER[(i + 1) % FILLER.length]}`],
    [op, '这个情况持续多久了？'],
    [caller, `${FILLER[(i + 2) % FILLER.length]}第${i}号来电，麻烦尽快处理。`],
    [op, '好的，我们会转给相关部门，请保持电话畅通。'],
  ];
  for (let k = 0; k < 12; k++) {
    const [speaker, text] = SMALL_TALK[(i + k) % SMALL_TALK.length]!;
    turns.push([speaker ? caller : op, text]);
  }
  if (i % 11 === 0) turns.push([caller, '不要透露我的名字。']);
  const lines: string[] = [];
  let sec = 2;
  for (const [who, text] of turns) {
    const prefix = stamped === 0 ? `[${stamp(sec)}] ` : stamped === 1 ? `【${stamp(sec).slice(3)}】` : stamped === 2 ? `${stamp(sec)} ` : '';
    if (i % 7 === 0 && text.length > 30) {
      // A transcript exported with hard-wrapped lines: the continuation has no label.
      lines.push(`${prefix}${who}${colon}${text.slice(0, 20)}`, text.slice(20));
    } else lines.push(`${prefix}${who}${colon}${text}`);
    if (i % 13 === 0) lines.push('');
    sec += 7 + (i % 5);
  }
  return lines.join('\n');
}

function callOf(i: number, prefix: string): Record<string, unknown> {
  const day = 1 + (i % 28);
  return {
    hotline: i % 2 ? '12369' : '12345',
    callId: `${prefix}-${String(i).padStart(6, '0')}`,
    startedAt: `2026-10-${String(day).padStart(2, '0')}T${String(8 + (i % 12)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00+08:00`,
    ...(i % 4 ? { callerNumber: `139${String(10_000_000 + i).slice(-8)}` } : {}),
    operator: `坐席${i % 17}`,
    transcript: transcriptOf(i),
    ...(i % 10 === 3 ? { summary: `来电反映${PLACES[i % PLACES.length]}环境问题` } : {}),
    ...(i % 25 === 0 ? { anonymous: true } : {}),
    ...(i % 50 === 7 ? { type: 'air_pollution' } : {}),
    ...(i % 200 === 9 ? { parts: [{ text: `${PLACES[i % PLACES.length]}河里死鱼。` }, { text: '工地半夜施工噪音。', type: 'noise' }] } : {}),
  };
}

/** Broken records and where they go (0-based index among the generated calls, inserted before it). */
const NDJSON_BROKEN: Array<[number, string, string]> = [
  [4, '{"hotline":"12369","callId":"broken-json",', 'not valid JSON'],
  [999, JSON.stringify({ hotline: '12369', callId: 'no-transcript', startedAt: '2026-10-01T08:00:00+08:00' }), 'invalid transcript'],
  // The parser's message quotes the line; the reason must not, as it can hold the caller's number.
  [1500, '{"hotline":"12369","callId":"bare-number","callerNumber": +8613912345678}', "not valid JSON (unexpected '+')"],
  [2500, JSON.stringify({ ...callOf(1, 'X'), callId: 'bad-hotline', hotline: '110' }), 'invalid hotline'],
  [7000, JSON.stringify({ ...callOf(2, 'X'), callId: 'bad-time', startedAt: 'yesterday' }), 'invalid startedAt'],
  [9998, JSON.stringify({ ...callOf(3, 'X'), callId: 'bad-type', type: 'littering' }), 'invalid type'],
];

interface Expected {
  valid: number;
  /** line → reason prefix of each broken record */
  broken: Map<number, string>;
  /** lines that repeat an earlier call of the file */
  repeats: number[];
  cases: number;
  transcriptChars: number;
}

async function writeNdjson(path: string, prefix: string, n = N): Promise<Expected> {
  const out = createWriteStream(path);
  const expected: Expected = { valid: 0, broken: new Map(), repeats: [], cases: 0, transcriptChars: 0 };
  let line = 0;
  const write = async (s: string) => {
    line++;
    if (!out.write(`${s}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
  };
  for (let i = 0; i < n; i++) {
    for (const [at, text, reason] of NDJSON_BROKEN) {
      if (at === i) {
        await write(text);
        expected.broken.set(line, reason);
      }
    }
    if (i === 3000) await write(''); // a blank line: no record, no result
    const c = callOf(i, prefix);
    await write(JSON.stringify(c));
    expected.valid++;
    expected.cases += Array.isArray(c['parts']) ? (c['parts'] as unknown[]).length : 1;
    expected.transcriptChars += (c['transcript'] as string).length;
    if (i === 5000) {
      // The same call twice in one file: created once.
      await write(JSON.stringify(callOf(4321, prefix)));
      expected.repeats.push(line);
    }
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return expected;
}

const CSV_FIELDS = ['hotline', 'callId', 'startedAt', 'callerNumber', 'operator', 'transcript', 'summary', 'anonymous', 'type', 'parts'];

function csvCell(v: unknown): string {
  if (v === undefined) return '';
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

async function writeCsv(path: string, prefix: string, n = N): Promise<Expected & { lastLine: number }> {
  const out = createWriteStream(path);
  const expected: Expected = { valid: 0, broken: new Map(), repeats: [], cases: 0, transcriptChars: 0 };
  let line = 1;
  const write = async (s: string) => {
    if (!out.write(s)) await new Promise<void>((r) => out.once('drain', () => r()));
  };
  await write(`\uFEFF${CSV_FIELDS.join(',')}\r\n`);
  const row = async (cells: string[]) => {
    const text = `${cells.join(',')}\r\n`;
    const start = line + 1;
    line += text.split('\n').length - 1;
    await write(text);
    return start;
  };
  for (let i = 0; i < n; i++) {
    if (i === 10) expected.broken.set(await row(['12369', 'short-row', '2026-10-01T08:00:00+08:00']), '3 fields where the header has 10');
    if (i === 4000) {
      const c: Record<string, unknown> = { ...callOf(5, 'Y'), callId: 'csv-bad-time', startedAt: '01/10/2026 08:00' };
      expected.broken.set(await row(CSV_FIELDS.map((f) => csvCell(c[f]))), 'invalid startedAt');
    }
    if (i === 2000) {
      // Text after a field's closing quote breaks the format: rejected, not read as "csv-junk" + "tail".
      const cells = CSV_FIELDS.map((f) => csvCell({ ...callOf(6, 'Z'), callId: 'csv-junk' }[f]));
      cells[CSV_FIELDS.indexOf('callId')] = '"csv-junk"tail';
      expected.broken.set(await row(cells), `text after the closing quote of field ${CSV_FIELDS.indexOf('callId') + 1}`);
    }
    const c = callOf(i, prefix);
    // Quotes and commas inside quoted fields, besides the line breaks of every transcript.
    if (i % 9 === 0) c['summary'] = `来电人说"不是第一次了"，要求回访, 编号${i}`;
    await row(CSV_FIELDS.map((f) => csvCell(c[f])));
    expected.valid++;
    expected.cases += Array.isArray(c['parts']) ? (c['parts'] as unknown[]).length : 1;
    expected.transcriptChars += (c['transcript'] as string).length;
  }
  // An unterminated quote at the end swallows the rest of the file: rejected, the rest already in.
  const last = await row(['12369', 'csv-open-quote', '2026-10-01T08:00:00+08:00', '', '', '"坐席：您好\n来电人：没说完']);
  expected.broken.set(last, 'a quote opened here is never closed');
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return { ...expected, lastLine: last };
}

interface ImportRun {
  status: number;
  results: number;
  byStatus: Record<string, number>;
  rejected: Map<number, string>;
  duplicates: number[];
  lines: number[];
  summary: Record<string, number> | null;
  /** Peak growth of the live heap (after a forced collection) over the run. */
  heapGrowth: number;
  ms: number;
}

/** Streams a file to the import and reads the streamed answer, keeping only counts. */
async function runImport(path: string, contentType: string): Promise<ImportRun> {
  gc();
  const baseline = process.memoryUsage().heapUsed;
  let peak = baseline;
  const sampler = setInterval(() => {
    gc();
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  }, 250);
  const started = Date.now();
  try {
    const res = await fetch(`${service.url}/api/v1/hotline/calls:import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
      body: Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>,
      duplex: 'half',
    } as RequestInit);
    const run: ImportRun = { status: res.status, results: 0, byStatus: {}, rejected: new Map(), duplicates: [], lines: [], summary: null, heapGrowth: 0, ms: 0 };
    if (!res.body) return run;
    for await (const { text } of splitLines(res.body.pipeThrough(new TextDecoderStream()))) {
      if (!text) continue;
      const r = JSON.parse(text) as { line: number; status: string; reason?: string; summary?: Record<string, number> };
      if (r.summary) {
        run.summary = r.summary;
        continue;
      }
      run.results++;
      run.lines.push(r.line);
      run.byStatus[r.status] = (run.byStatus[r.status] ?? 0) + 1;
      if (r.status === 'rejected') run.rejected.set(r.line, r.reason ?? '');
      if (r.status === 'duplicate' && run.duplicates.length < 20_000) run.duplicates.push(r.line);
    }
    gc();
    peak = Math.max(peak, process.memoryUsage().heapUsed);
    return { ...run, heapGrowth: peak - baseline, ms: Date.now() - started };
  } finally {
    clearInterval(sampler);
  }
}

async function counts() {
  const n = async (table: 'cases' | 'hotline_calls' | 'hotline_call_cases' | 'outbox' | 'case_contacts') =>
    Number((await service.deps.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  return { cases: await n('cases'), calls: await n('hotline_calls'), links: await n('hotline_call_cases'), outbox: await n('outbox'), contacts: await n('case_contacts') };
}

/**
 * Imports one CSV call a row, each with the start written as given (rows: [what, start, the instant expected or
 * null]); returns the import's result lines and the start stored for each call that was made.
 */
async function importStarts(header: string, rows: Array<[string, string, string | null]>, id: (what: string) => string) {
  const csv = [header, ...rows.map(([what, startedAt]) => `12369,${id(what)},${startedAt},来电人：回龙村后面有人烧垃圾，烟很大。`)].join('\r\n');
  const res = await fetch(`${service.url}/api/v1/hotline/calls:import`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' }, body: csv });
  expect(res.status).toBe(200);
  const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const stored = await service.deps.db
    .selectFrom('hotline_calls')
    .select(['call_id', 'started_at'])
    .where('call_id', 'in', rows.map(([what]) => id(what)))
    .execute();
  return { lines, stored: Object.fromEntries(stored.map((r) => [r.call_id, r.started_at])) };
}

describe('POST /api/v1/hotline/calls:import', { timeout: 300_000 }, () => {
  it('imports 10,000 NDJSON calls exactly once, rejecting only the broken lines, in bounded memory', async () => {
    // Warm up the code paths, so the measurement below is of the import and not of compiling it.
    const warm = join(dir, 'warm.ndjson');
    await writeNdjson(warm, 'WARM', 600);
    expect((await runImport(warm, 'application/x-ndjson')).status).toBe(200);
    const before = await counts();
    const path = join(dir, 'calls.ndjson');
    const expected = await writeNdjson(path, 'N');
    const bytes = statSync(path).size;

    const first = await runImport(path, 'application/x-ndjson');
    expect(first.status).toBe(200);
    expect(first.summary).toEqual({ records: expected.valid + expected.broken.size + expected.repeats.length, created: expected.valid, duplicate: 1, rejected: expected.broken.size, cases: expected.cases });
    // One result per record, in file order; each broken line named with its reason.
    expect(first.lines).toEqual([...first.lines].sort((a, b) => a - b));
    expect([...first.rejected.keys()]).toEqual([...expected.broken.keys()]);
    for (const [line, reason] of expected.broken) expect(first.rejected.get(line), `line ${line}`).toContain(reason);
    for (const reason of first.rejected.values()) expect(reason).not.toMatch(/\d{6}/);
    expect(first.duplicates).toEqual(expected.repeats);

    const after = await counts();
    expect(after.cases - before.cases).toBe(expected.cases);
    expect(after.calls - before.calls).toBe(expected.valid);
    expect(after.links - before.links).toBe(expected.cases);
    // Every case has its intake job waiting in the outbox (Redis is away).
    expect(after.outbox - before.outbox).toBe(expected.cases);

    // Holding the calls would take at least their transcripts (two bytes a character) — the
    // import keeps a batch at a time.
    const holdingAll = expected.transcriptChars * 2;
    console.log(
      `ndjson import: ${expected.valid} calls, ${(bytes / 1e6).toFixed(1)} MB, ${first.ms} ms, live heap growth ${(first.heapGrowth / 1e6).toFixed(1)} MB (transcripts alone ${(holdingAll / 1e6).toFixed(1)} MB)`,
    );
    expect(first.heapGrowth).toBeLessThan(holdingAll / 2);

    // The same file again creates nothing.
    const again = await runImport(path, 'application/x-ndjson');
    expect(again.summary).toMatchObject({ created: 0, duplicate: expected.valid + expected.repeats.length, rejected: expected.broken.size, cases: 0 });
    expect(await counts()).toEqual(after);
  });

  it('imports 10,000 CSV calls with quoted fields holding commas, quotes and line breaks, exactly once', async () => {
    // Warmed up as the NDJSON import is, so the measurement is of the import even when this test runs alone.
    const warm = join(dir, 'warm.csv');
    await writeCsv(warm, 'WARMCSV', 600);
    expect((await runImport(warm, 'text/csv')).status).toBe(200);
    const before = await counts();
    const path = join(dir, 'calls.csv');
    const expected = await writeCsv(path, 'V');
    const first = await runImport(path, 'text/csv; charset=utf-8');
    expect(first.status).toBe(200);
    expect(first.summary).toEqual({ records: expected.valid + expected.broken.size, created: expected.valid, duplicate: 0, rejected: expected.broken.size, cases: expected.cases });
    expect([...first.rejected.keys()]).toEqual([...expected.broken.keys()]);
    for (const [line, reason] of expected.broken) expect(first.rejected.get(line), `line ${line}`).toContain(reason);
    const after = await counts();
    expect(after.cases - before.cases).toBe(expected.cases);
    expect(after.calls - before.calls).toBe(expected.valid);
    console.log(`csv import: ${expected.valid} calls, ${first.ms} ms, live heap growth ${(first.heapGrowth / 1e6).toFixed(1)} MB`);
    expect(first.heapGrowth).toBeLessThan((expected.transcriptChars * 2) / 2);

    // The summary with quotes and a comma survived the round trip.
    const row = await service.deps.db.selectFrom('hotline_calls').select(['summary', 'transcript']).where('call_id', '=', 'V-000009').executeTakeFirstOrThrow();
    expect(row.summary).toBe('来电人说"不是第一次了"，要求回访, 编号9');
    expect(row.transcript).toBe(transcriptOf(9));

    const again = await runImport(path, 'text/csv');
    expect(again.summary).toMatchObject({ created: 0, duplicate: expected.valid, cases: 0 });
    expect(await counts()).toEqual(after);
  });

  it('treats a call imported from NDJSON and again from CSV as the same call', async () => {
    const ndjson = join(dir, 'small.ndjson');
    const csv = join(dir, 'small.csv');
    const calls = [0, 1, 2].map((i) => callOf(i, 'BOTH'));
    writeFileSync(ndjson, calls.map((c) => JSON.stringify(c)).join('\n'));
    writeFileSync(csv, `${CSV_FIELDS.join(',')}\n${calls.map((c) => CSV_FIELDS.map((f) => csvCell(c[f])).join(',')).join('\n')}\n`);
    expect((await runImport(ndjson, 'application/x-ndjson')).summary).toMatchObject({ created: 3 });
    expect((await runImport(csv, 'text/csv')).summary).toMatchObject({ created: 0, duplicate: 3 });
  });

  it('treats a CSV saved again by a spreadsheet that dropped the seconds of the start times as the same calls', async () => {
    const csv = join(dir, 'seconds.csv');
    const calls = [0, 1, 2].map((i) => ({ ...callOf(i, 'SECS'), startedAt: `2026-10-0${i + 1}T09:1${i}:3${i}+08:00` }));
    const write = (rows: Array<Record<string, unknown>>) =>
      writeFileSync(csv, `${CSV_FIELDS.join(',')}\n${rows.map((c) => CSV_FIELDS.map((f) => csvCell(c[f])).join(',')).join('\n')}\n`);
    write(calls);
    expect((await runImport(csv, 'text/csv')).summary).toMatchObject({ created: 3 });
    const before = await counts();
    // As Excel on a Chinese Windows writes the column back: 2026/10/1 9:10.
    write(calls.map((c, i) => ({ ...c, startedAt: `2026/10/${i + 1} 9:1${i}` })));
    const again = await runImport(csv, 'text/csv');
    expect(again.summary).toMatchObject({ created: 0, duplicate: 3, rejected: 0 });
    expect(await counts()).toEqual(before);
  });

  it('treats a CSV saved again by a spreadsheet that dropped the leading zeros of the call ids as the same calls', async () => {
    const csv = join(dir, 'zeros.csv');
    const calls = [0, 1, 2].map((i) => ({ ...callOf(i, 'ZERO'), callId: `00${7_301 + i}` }));
    const write = (rows: Array<Record<string, unknown>>) =>
      writeFileSync(csv, `${CSV_FIELDS.join(',')}\n${rows.map((c) => CSV_FIELDS.map((f) => csvCell(c[f])).join(',')).join('\n')}\n`);
    write(calls);
    expect((await runImport(csv, 'text/csv')).summary).toMatchObject({ created: 3 });
    const before = await counts();
    write(calls.map((c, i) => ({ ...c, callId: String(7_301 + i) })));
    expect((await runImport(csv, 'text/csv')).summary).toMatchObject({ created: 0, duplicate: 3, rejected: 0 });
    expect(await counts()).toEqual(before);
  });

  it('rejects a line whose call id is on record for another call, naming what differs, and imports the rest', async () => {
    const path = join(dir, 'reused-ids.ndjson');
    const calls = [0, 1, 2].map((i) => callOf(i, 'REUSE'));
    writeFileSync(path, calls.map((c) => JSON.stringify(c)).join('\n'));
    expect((await runImport(path, 'application/x-ndjson')).summary).toMatchObject({ created: 3 });
    const before = await counts();
    // The next day's export numbers its calls from 1 again: same ids, other calls.
    const nextDay = [{ ...calls[0]!, startedAt: '2026-10-02T08:00:00+08:00' }, { ...calls[1]!, callerNumber: '13700001111' }, calls[2]!];
    writeFileSync(path, nextDay.map((c) => JSON.stringify(c)).join('\n'));
    const run = await runImport(path, 'application/x-ndjson');
    expect(run.summary).toMatchObject({ created: 0, duplicate: 1, rejected: 2 });
    expect([...run.rejected.entries()]).toEqual([
      [1, expect.stringContaining('different startedAt')],
      [2, expect.stringContaining('different callerNumber')],
    ]);
    expect(await counts()).toEqual(before);
  });

  it('marks an imported call anonymous when the caller says yes to confidentiality or declines a name, and only then', async () => {
    const path = join(dir, 'anonymity.ndjson');
    const dialogues: Array<[string, string, boolean]> = [
      ['要不要匿名？', '保密吧', true],
      ['需要为您保密吗？', '我当然要保密', true],
      ['需要为您保密吗？', '必须的', true],
      ['请问您怎么称呼？', '这个就不用了吧', true],
      ['可以留个姓名吗？', '姓名就算了吧', true],
      ['需要为您保密吗？', '不用保密', false],
      ['要不要匿名？', '不需要匿名', false],
      ['请问您怎么称呼？', '没关系，我叫王五', false],
    ];
    const calls = dialogues.map(([question, answer], i) => ({
      hotline: '12345',
      callId: `ANON-${process.pid}-${i}`,
      startedAt: '2026-10-01T08:00:00+08:00',
      transcript: `坐席：您好，请讲。\n来电人：回龙村后面有人烧垃圾，烟很大。\n坐席：${question}\n来电人：${answer}`,
    }));
    writeFileSync(path, calls.map((c) => JSON.stringify(c)).join('\n'));
    expect((await runImport(path, 'application/x-ndjson')).summary).toMatchObject({ created: dialogues.length });
    for (const [i, [question, answer, anonymous]] of dialogues.entries()) {
      const call = await service.deps.db.selectFrom('hotline_calls').select(['id', 'anonymous']).where('call_id', '=', calls[i]!.callId).executeTakeFirstOrThrow();
      const row = await service.deps.db
        .selectFrom('cases')
        .innerJoin('hotline_call_cases', 'hotline_call_cases.case_id', 'cases.id')
        .select('cases.anonymous')
        .where('hotline_call_cases.hotline_call_id', '=', call.id)
        .executeTakeFirstOrThrow();
      expect([question, answer, row.anonymous, call.anonymous]).toEqual([question, answer, anonymous ? 1 : 0, anonymous ? 1 : 0]);
    }
  });

  it('rejects a call with an impossible start or caller number by name, and takes a start and a number written the usual ways', async () => {
    const path = join(dir, 'metadata.ndjson');
    const base = { hotline: '12369', startedAt: '2026-10-01T08:00:00+08:00', transcript: '坐席：您好，请讲。\n来电人：回龙村后面有人烧垃圾，烟很大。' };
    const id = (what: string) => `META-${process.pid}-${what}`;
    const lines = [
      { ...base, callId: id('future'), startedAt: '2999-01-01T00:00:00+08:00' },
      { ...base, callId: id('old'), startedAt: '1901-01-01T00:00:00+08:00' },
      { ...base, callId: id('zone-east'), startedAt: '2026-10-01T08:00:00+15:00' },
      { ...base, callId: id('zone-west'), startedAt: '2026-10-01T08:00:00-13:30' },
      { ...base, callId: id('dashes'), callerNumber: '-----' },
      { ...base, callId: id('zeros'), callerNumber: '00000' },
      { ...base, callId: id('area'), callerNumber: '(0746)1234567' },
      { ...base, callId: id('fullwidth'), callerNumber: '１３８１２３４５６７８' },
      { ...base, callId: id('no-such-day'), startedAt: '2026-02-30 08:00:00' },
      { ...base, callId: id('local'), startedAt: '2026-10-01 08:00:00' },
      { ...base, callId: id('extension'), callerNumber: '0731-84446666转123' },
      // As Excel on a Chinese Windows saves a CSV export back: the year first, slashes, no leading zeros or seconds.
      { ...base, callId: id('spreadsheet'), startedAt: '2026/10/1 8:00' },
      { ...base, callId: id('spreadsheet-no-such-day'), startedAt: '2026/2/30 8:00' },
    ];
    writeFileSync(path, lines.map((c) => JSON.stringify(c)).join('\n'));
    const run = await runImport(path, 'application/x-ndjson');
    expect(run.summary).toMatchObject({ created: 5, rejected: 8 });
    expect([...run.rejected.entries()]).toEqual([
      [1, 'invalid startedAt'],
      [2, 'invalid startedAt'],
      [3, 'invalid startedAt'],
      [4, 'invalid startedAt'],
      [5, 'invalid callerNumber'],
      [6, 'invalid callerNumber'],
      [9, 'invalid startedAt'],
      [13, 'invalid startedAt'],
    ]);
    const stored = await service.deps.db
      .selectFrom('hotline_calls')
      .select(['call_id', 'caller_number', 'started_at'])
      .where('call_id', 'in', [id('area'), id('fullwidth'), id('local'), id('extension'), id('spreadsheet')])
      .orderBy('call_id')
      .execute();
    // A start without an offset is the district's time (Asia/Shanghai).
    expect(stored).toEqual([
      { call_id: id('area'), caller_number: '07461234567', started_at: '2026-10-01T00:00:00.000Z' },
      { call_id: id('extension'), caller_number: '073184446666转123', started_at: '2026-10-01T00:00:00.000Z' },
      { call_id: id('fullwidth'), caller_number: '13812345678', started_at: '2026-10-01T00:00:00.000Z' },
      { call_id: id('local'), caller_number: null, started_at: '2026-10-01T00:00:00.000Z' },
      { call_id: id('spreadsheet'), caller_number: null, started_at: '2026-10-01T00:00:00.000Z' },
    ]);
  });

  it('reads a start written the Chinese way on the district\'s clock, and rejects an impossible one naming its row and column', async () => {
    const id = (what: string) => `ZH-START-${process.pid}-${what}`;
    const rows: Array<[string, string]> = [
      ['space', '2026年11月3日 9:15'],
      ['hours-minutes', '2026年11月3日09时15分'],
      ['seconds', '2026年11月3日 9:15:30'],
      ['hms', '2026年11月3日9时5分30秒'],
      ['full-width', '２０２６年１１月３日　９：１５'],
      ['slashes', '2026/11/3 9:15'],
      ['no-such-day', '2026年2月30日 9:15'],
      ['no-such-hour', '2026年11月3日 25:15'],
      ['no-time', '2026年11月3日'],
      ['no-minutes', '2026年11月3日 9时'],
    ];
    const csv = [
      'hotline,callId,startedAt,transcript',
      ...rows.map(([what, startedAt]) => `12369,${id(what)},${startedAt},来电人：回龙村后面有人烧垃圾，烟很大。`),
    ].join('\r\n');
    const res = await fetch(`${service.url}/api/v1/hotline/calls:import`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' }, body: csv });
    expect(res.status).toBe(200);
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const rejected = lines.filter((l) => l['status'] === 'rejected');
    expect(rejected.map((l) => [l['line'], l['callId'], l['reason'], Object.keys(l['fields'] as object)])).toEqual(
      [8, 9, 10, 11].map((line) => [line, id(rows[line - 2]![0]), 'invalid startedAt', ['startedAt']]),
    );
    expect(lines.at(-1)).toEqual({ summary: { records: 10, created: 6, duplicate: 0, rejected: 4, cases: 6 } });
    const stored = await service.deps.db
      .selectFrom('hotline_calls')
      .select(['call_id', 'started_at'])
      .where('call_id', 'in', rows.slice(0, 6).map(([what]) => id(what)))
      .execute();
    // No offset: 9:15 in Asia/Shanghai, the district's time zone.
    expect(Object.fromEntries(stored.map((r) => [r.call_id, r.started_at]))).toEqual({
      [id('space')]: '2026-11-03T01:15:00.000Z',
      [id('hours-minutes')]: '2026-11-03T01:15:00.000Z',
      [id('seconds')]: '2026-11-03T01:15:30.000Z',
      [id('hms')]: '2026-11-03T01:05:30.000Z',
      [id('full-width')]: '2026-11-03T01:15:00.000Z',
      [id('slashes')]: '2026-11-03T01:15:00.000Z',
    });
  });

  it('reads a 12-hour start as a zh-CN Excel or WPS writes it (上午/下午), and rejects the halves no spreadsheet writes', async () => {
    const id = (what: string) => `ZH-HALF-${process.pid}-${what}`;
    const rows: Array<[string, string, string | null]> = [
      ['slashes-pm', '2026/11/3 下午 3:15', '2026-11-03T07:15:00.000Z'],
      ['chinese-am', '2026年11月3日 上午9:15', '2026-11-03T01:15:00.000Z'],
      ['chinese-hm-pm', '2026年11月3日下午3时15分', '2026-11-03T07:15:00.000Z'],
      ['after-pm', '2026/11/3 3:15:30 下午', '2026-11-03T07:15:30.000Z'],
      ['midnight-12', '2026/11/3 上午 12:15', '2026-11-02T16:15:00.000Z'],
      ['midnight-0', '2026/11/3 上午 0:15', '2026-11-02T16:15:00.000Z'],
      ['noon-12', '2026/11/3 下午 12:15', '2026-11-03T04:15:00.000Z'],
      ['full-width', '２０２６／１１／３　下午　３：１５', '2026-11-03T07:15:00.000Z'],
      ['pm-past-12', '2026/11/3 下午 15:15', null],
      ['evening', '2026/11/3 晚上 8:15', null],
      ['small-hours', '2026年11月3日 凌晨2:15', null],
      ['noon-word', '2026年11月3日 中午12:15', null],
      ['no-minutes', '2026年11月3日 上午9点', null],
    ];
    const { lines, stored } = await importStarts('hotline,callId,startedAt,transcript', rows, id);
    const refused = rows.flatMap(([what, , at], i) => (at === null ? [[i + 2, id(what), ['startedAt']]] : []));
    expect(lines.filter((l) => l['status'] === 'rejected').map((l) => [l['line'], l['callId'], Object.keys(l['fields'] as object)])).toEqual(refused);
    // No offset: the district's time, Asia/Shanghai.
    expect(stored).toEqual(Object.fromEntries(rows.filter(([, , at]) => at !== null).map(([what, , at]) => [id(what), at])));
  });

  it('reads a 12-hour start as an English-locale Excel or WPS writes it (AM/PM, a US date month first), and rejects a year-last date it cannot tell, naming its heading', async () => {
    const id = (what: string) => `EN-HALF-${process.pid}-${what}`;
    const rows: Array<[string, string, string | null]> = [
      ['us-pm', '11/3/2026 9:15 PM', '2026-11-03T13:15:00.000Z'],
      ['us-seconds', '11/3/2026 9:15:30 PM', '2026-11-03T13:15:30.000Z'],
      ['us-padded', '11/03/2026 09:15 AM', '2026-11-03T01:15:00.000Z'],
      ['us-midnight', '11/3/2026 12:15 AM', '2026-11-02T16:15:00.000Z'],
      ['us-noon', '11/3/2026 12:15 PM', '2026-11-03T04:15:00.000Z'],
      ['us-day-past-12', '10/25/2026 9:15 PM', '2026-10-25T13:15:00.000Z'],
      ['iso-pm', '2026-11-03 09:15 PM', '2026-11-03T13:15:00.000Z'],
      ['iso-lower', '2026-11-03 9:15pm', '2026-11-03T13:15:00.000Z'],
      ['slashes-dots', '2026/11/3 9:15 a.m.', '2026-11-03T01:15:00.000Z'],
      ['full-width', '１１/３/２０２６ ９:１５ ＰＭ', '2026-11-03T13:15:00.000Z'],
      ['pm-past-12', '11/3/2026 13:15 PM', null],
      ['iso-pm-past-12', '2026-11-03 13:15 PM', null],
      ['us-no-such-day', '2/30/2026 9:15 PM', null],
      // Year last without AM/PM: 03/11/2026 is 3 November (en-GB) or 11 March (en-US).
      ['either-way', '03/11/2026 21:15', null],
      ['us-24-hour', '11/3/2026 21:15', null],
      // Only a day-first date has a first number past 12: such a file's 03/11/2026 would be read month first.
      ['day-first', '25/10/2026 9:15 PM', null],
      ['day-first-24', '25/10/2026 21:15', null],
      ['time-alone', '9:15pm', null],
    ];
    const { lines, stored } = await importStarts('热线,来电编号,来电时间,通话内容', rows, id);
    const rejected = new Map(lines.filter((l) => l['status'] === 'rejected').map((l) => [l['callId'], l]));
    const refused = rows.filter(([, , at]) => at === null).map(([what]) => id(what));
    expect([...rejected.keys()]).toEqual(refused);
    for (const r of rejected.values()) {
      expect(r).toMatchObject({ reason: 'invalid 来电时间 (startedAt)', columns: { startedAt: '来电时间' } });
      expect(Object.keys(r['fields'] as object)).toEqual(['startedAt']);
    }
    const said = (what: string) => (rejected.get(id(what))!['fields'] as Record<string, string>)['startedAt'];
    expect(said('either-way')).toBe(
      '03/11/2026: a date with the year last is read only as a US spreadsheet writes it, month first with AM/PM after the time (11/3/2026 9:15 PM), since 03/11/2026 could be 3 November or 11 March; write the date year first (2026-11-03 21:15)',
    );
    expect(said('us-24-hour')).toContain('a date with the year last is read only as a US spreadsheet writes it');
    expect(said('day-first')).toBe(
      '25/10/2026 is written day first, which is not read (a date such as 03/11/2026 could be 3 November or 11 March): write the date year first, 2026-10-25, or month first with AM/PM as a US spreadsheet does, 10/25/2026 9:15 PM',
    );
    expect(said('day-first-24')).toContain('25/10/2026 is written day first, which is not read');
    for (const what of ['pm-past-12', 'iso-pm-past-12', 'us-no-such-day', 'time-alone']) expect(said(what)).toContain('must be an ISO 8601 date-time');
    // No offset: the district's time, Asia/Shanghai.
    expect(stored).toEqual(Object.fromEntries(rows.filter(([, , at]) => at !== null).map(([what, , at]) => [id(what), at])));
  });

  it('rejects a line that is not UTF-8 and imports the rest; refuses a body declared in a charset other than UTF-8 or GBK with 415', async () => {
    const path = join(dir, 'not-utf8.ndjson');
    const good = JSON.stringify(callOf(1, 'ENC'));
    // A transcript saved as GBK: bytes that are not UTF-8.
    const gbk = Buffer.concat([
      Buffer.from('{"hotline":"12369","callId":"ENC-gbk","startedAt":"2026-10-01T08:00:00+08:00","transcript":"'),
      Buffer.from([0xc0, 0xb4, 0xb5, 0xe7, 0xc8, 0xcb, 0xa3, 0xba]),
      Buffer.from('"}'),
    ]);
    writeFileSync(path, Buffer.concat([Buffer.from(`${good}\n`), gbk, Buffer.from('\n')]));
    const run = await runImport(path, 'application/x-ndjson');
    expect(run.summary).toMatchObject({ created: 1, rejected: 1 });
    expect(run.rejected.get(2)).toContain('not valid UTF-8');
    expect(await service.deps.db.selectFrom('hotline_calls').select('call_id').where('call_id', '=', 'ENC-gbk').execute()).toEqual([]);

    const declared = await json(
      fetch(`${service.url}/api/v1/hotline/calls:import`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv; charset=big5' },
        body: 'hotline,callId\n',
      }),
    );
    expect(declared.status).toBe(415);
    expect(declared.body.error.fields['content-type']).toBe('charset must be utf-8, gbk, gb2312 or gb18030, not big5');
  });

  it('reads a body that begins with the UTF-16 byte-order mark as UTF-16, as a CSV Excel saved as Unicode text', async () => {
    const rows = [
      'hotline,callId,startedAt,callerNumber,transcript',
      '12369,HTTP-U16-1,2026-10-01 08:00:00,13912345678,"坐席：您好，请讲。\r\n来电人：兴隆办事处盐下村电镀厂晚上偷排废水，沟里全是黑水。"',
      '12345,HTTP-U16-2,2026-10-01 09:30:00,,"话务员：您好。\r\n市民：李家塘办事处养猪场的粪水排到河里。"',
    ].join('\r\n');
    const le = join(dir, 'http-utf16le.csv');
    writeFileSync(le, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${rows}\r\n`, 'utf16le')]));
    const first = await runImport(le, 'text/csv');
    expect(first.status).toBe(200);
    expect(first.summary).toMatchObject({ records: 2, created: 2, rejected: 0 });
    const calls = await service.deps.db
      .selectFrom('hotline_calls')
      .select('call_id')
      .where('call_id', 'in', ['HTTP-U16-1', 'HTTP-U16-2'])
      .orderBy('call_id')
      .execute();
    expect(calls.map((r) => r.call_id)).toEqual(['HTTP-U16-1', 'HTTP-U16-2']);
    // Big-endian, its mark the other way round: the same calls.
    const be = join(dir, 'http-utf16be.csv');
    writeFileSync(be, Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(`${rows}\r\n`, 'utf16le').swap16()]));
    expect((await runImport(be, 'text/csv')).summary).toMatchObject({ records: 2, created: 0, duplicate: 2, rejected: 0 });
  });

  it('names the field of a rejected record that holds bytes that are not UTF-8, and the record\'s call id', async () => {
    // 来电人 in GBK bytes: not UTF-8.
    const gbk = Buffer.from([0xc0, 0xb4, 0xb5, 0xe7, 0xc8, 0xcb]);
    const ndjson = Buffer.concat([
      Buffer.from('{"hotline":"12369","callId":"ENC-field-1","startedAt":"2026-10-01T08:00:00+08:00","transcript":"'),
      gbk,
      Buffer.from('：兴隆办事处有人偷排废水"}\n'),
    ]);
    const csv = Buffer.concat([
      Buffer.from('hotline,callId,startedAt,summary,transcript\r\n12369,ENC-field-2,2026-10-01 08:00:00,'),
      gbk,
      Buffer.from(',来电人：兴隆办事处有人偷排废水\r\n'),
    ]);
    // Declared UTF-8: read as UTF-8, not told from its bytes (a body of GBK alone is read as GBK, see below).
    for (const [body, type, field, callId] of [
      [ndjson, 'application/x-ndjson; charset=utf-8', 'transcript', 'ENC-field-1'],
      [csv, 'text/csv; charset=utf-8', 'summary', 'ENC-field-2'],
    ] as const) {
      const res = await fetch(`${service.url}/api/v1/hotline/calls:import`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': type }, body });
      expect(res.status).toBe(200);
      const [result, summary] = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(result, type).toMatchObject({ status: 'rejected', callId, reason: expect.stringContaining('not valid UTF-8'), fields: { [field]: 'must be UTF-8 text (found bytes that are not)' } });
      expect(summary).toEqual({ summary: { records: 1, created: 0, duplicate: 0, rejected: 1, cases: 0 } });
    }
  });

  it('names the column heading of a record that holds bytes that are not UTF-8 in its reason, as other rejections do; refuses a header holding such bytes naming its column; reads past them in a column it does not read', async () => {
    const pid = process.pid;
    // 来电人 in GBK bytes: not UTF-8.
    const gbk = Buffer.from([0xc0, 0xb4, 0xb5, 0xe7, 0xc8, 0xcb]);
    const csv = Buffer.concat([
      Buffer.from(`热线,来电编号,来电时间,摘要,通话内容,\r\n12369,HEAD-${pid}-1,2026-10-01 08:00:00,`),
      gbk,
      Buffer.from(`,来电人：兴隆办事处有人偷排废水,\r\n12369,HEAD-${pid}-2,2026-10-01 08:00:00,,来电人：兴隆办事处有人偷排废水,`),
      gbk,
      Buffer.from('\r\n'),
    ]);
    const res = await fetch(`${service.url}/api/v1/hotline/calls:import`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' }, body: csv });
    expect(res.status).toBe(200);
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toEqual({
      line: 2,
      status: 'rejected',
      callId: `HEAD-${pid}-1`,
      reason: 'not valid UTF-8 in 摘要 (summary) (save the whole file in one encoding, UTF-8 or GBK / GB 18030)',
      fields: { summary: 'must be UTF-8 text (found bytes that are not)' },
      columns: { summary: '摘要' },
    });
    // The bytes are in the last column, which has no heading and is not read: the call is imported.
    expect(lines[1]).toMatchObject({ line: 3, status: 'created', callId: `HEAD-${pid}-2` });
    expect(lines.at(-1)).toEqual({ summary: { records: 2, created: 1, duplicate: 0, rejected: 1, cases: 1 } });

    // A record of NDJSON names its field by its name.
    const ndjson = Buffer.concat([Buffer.from(`{"hotline":"12369","callId":"HEAD-${pid}-3","startedAt":"2026-10-01T08:00:00+08:00","operator":"`), gbk, Buffer.from('","transcript":"来电人：兴隆办事处有人偷排废水"}\n')]);
    const nd = await fetch(`${service.url}/api/v1/hotline/calls:import`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson; charset=utf-8' }, body: ndjson });
    expect(((await nd.text()).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>))[0]).toMatchObject({
      status: 'rejected',
      reason: 'not valid UTF-8 in operator (save the whole file in one encoding, UTF-8 or GBK / GB 18030)',
      fields: { operator: 'must be UTF-8 text (found bytes that are not)' },
    });

    // A heading in GBK in a file a UTF-8 line keeps UTF-8: named by its column, not as a missing transcript.
    const heading = gb18030('通话内容');
    const header = Buffer.concat([Buffer.from('hotline,callId,startedAt,'), heading, Buffer.from(`\r\n12369,HEAD-${pid}-4,2026-10-01 08:00:00,来电人：兴隆办事处有人偷排废水\r\n`)]);
    const refused = await json(fetch(`${service.url}/api/v1/hotline/calls:import`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' }, body: header }));
    expect(refused.status).toBe(400);
    const problem = `not valid UTF-8 in column 4 ("${new TextDecoder().decode(heading)}") (save the whole file in one encoding, UTF-8 or GBK / GB 18030)`;
    expect(refused.body.error).toMatchObject({ message: `the CSV header is ${problem}`, fields: { header: problem } });
    expect(await service.deps.db.selectFrom('hotline_calls').select('call_id').where('call_id', '=', `HEAD-${pid}-4`).execute()).toEqual([]);
  });

  it('reads a body declared charset=gbk, gb2312 or gb18030 as GB 18030, and one undeclared that is GB 18030 and not UTF-8 as the command line does', async () => {
    const csv = (prefix: string) =>
      [
        'hotline,callId,startedAt,callerNumber,transcript',
        `12369,${prefix}-1,2026-10-01 08:00:00,13912345678,"坐席：您好，请讲。\r\n来电人：兴隆办事处盐下村电镀厂晚上偷排废水，沟里全是黑水。"`,
        `12345,${prefix}-2,2026年10月1日 9:30,,"话务员：您好。\r\n市民：李家塘办事处养猪场的粪水排到河里。"`,
        '',
      ].join('\r\n');
    const ndjson = (prefix: string) =>
      `${[1, 2].map((i) => JSON.stringify({ hotline: '12369', callId: `${prefix}-${i}`, startedAt: '2026-10-01T08:00:00+08:00', transcript: `来电人：回龙村后面有人烧垃圾，烟很大，第${i}次了。` })).join('\n')}\n`;
    const pid = process.pid;
    for (const [body, type, prefix] of [
      [csv(`GBK-${pid}`), 'text/csv; charset=gbk', `GBK-${pid}`],
      [ndjson(`GB2312-${pid}`), 'application/x-ndjson; charset=GB2312', `GB2312-${pid}`],
      [csv(`GB18030-${pid}`), 'text/csv;charset="gb18030"', `GB18030-${pid}`],
      [csv(`UNDECLARED-${pid}`), 'text/csv', `UNDECLARED-${pid}`],
    ] as const) {
      const res = await fetch(`${service.url}/api/v1/hotline/calls:import`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': type }, body: gb18030(body) });
      const text = await res.text();
      expect(res.status, text).toBe(200);
      expect(JSON.parse(text.trim().split('\n').at(-1)!), type).toEqual({ summary: { records: 2, created: 2, duplicate: 0, rejected: 0, cases: 2 } });
      const stored = await service.deps.db.selectFrom('hotline_calls').select(['call_id', 'transcript']).where('call_id', 'like', `${prefix}-%`).orderBy('call_id').execute();
      const calls = body.startsWith('{') ? body.trim().split('\n').map((l) => JSON.parse(l) as { transcript: string }) : null;
      expect(stored.map((r) => r.transcript), type).toEqual(
        calls ? calls.map((c) => c.transcript) : ['坐席：您好，请讲。\r\n来电人：兴隆办事处盐下村电镀厂晚上偷排废水，沟里全是黑水。', '话务员：您好。\r\n市民：李家塘办事处养猪场的粪水排到河里。'],
      );
    }
    // Only the import reads GBK: a call, as every other body, is UTF-8.
    const call = await json(
      fetch(`${service.url}/api/v1/hotline/calls`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json; charset=gbk' },
        body: gb18030(JSON.stringify({ hotline: '12369', callId: `GBK-CALL-${pid}`, startedAt: '2026-10-01T08:00:00+08:00', transcript: '来电人：回龙村后面有人烧垃圾。' })),
      }),
    );
    expect(call.status).toBe(415);
    expect(call.body.error.fields).toEqual({ 'content-type': 'charset must be utf-8, not gbk' });
  });

  it('refuses a body declared GBK whose first bytes are not, naming the line, and past them rejects the record that is not, naming its line', async () => {
    const pid = process.pid;
    const row = (id: string) => `12369,${id},2026-10-01 08:00:00,"坐席：您好，请讲。\r\n来电人：兴隆办事处盐下村电镀厂晚上偷排废水，沟里全是黑水。"\r\n`;
    // A call in UTF-8 sent under charset=gbk: its bytes are no GB 18030 text on line 4; nothing is imported.
    const mislabelled = Buffer.concat([gb18030(`hotline,callId,startedAt,transcript\r\n${row(`BADGBK-${pid}-1`)}`), Buffer.from(row(`BADGBK-${pid}-2`))]);
    const refused = await json(
      fetch(`${service.url}/api/v1/hotline/calls:import`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv; charset=gbk' }, body: mislabelled }),
    );
    expect(refused.status, JSON.stringify(refused.body)).toBe(400);
    expect(refused.body.error.fields).toEqual({ body: 'line 4: not GBK / GB 18030 text, as its charset says (bytes that are no such character)' });
    expect(await service.deps.db.selectFrom('hotline_calls').select('call_id').where('call_id', 'like', `BADGBK-${pid}-%`).execute()).toEqual([]);

    // Past the first 64 KB, read while the results stream back: that record alone is rejected, by its line and field.
    const rows = Array.from({ length: 700 }, (_, i) => row(`LATEGBK-${pid}-${i}`));
    const late = Buffer.concat([gb18030(`hotline,callId,startedAt,通话内容\r\n${rows.join('')}`), Buffer.from(`12369,LATEGBK-${pid}-bad,2026-10-01 08:00:00,来电人：兴隆办事处盐下村电镀厂晚上偷排废水。\r\n`), gb18030(row(`LATEGBK-${pid}-last`))]);
    expect(late.length).toBeGreaterThan(64 * 1024 + 1000);
    const res = await fetch(`${service.url}/api/v1/hotline/calls:import`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv; charset=gbk' }, body: late });
    expect(res.status).toBe(200);
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l['status'] === 'rejected')).toEqual([
      {
        line: 2 + 700 * 2,
        status: 'rejected',
        callId: `LATEGBK-${pid}-bad`,
        reason: 'not valid GB 18030 in 通话内容 (transcript) (bytes that are no GBK or GB 18030 character)',
        fields: { transcript: 'must be GBK / GB 18030 text (found bytes that are not)' },
        columns: { transcript: '通话内容' },
      },
    ]);
    expect(lines.at(-1)).toEqual({ summary: { records: 702, created: 701, duplicate: 0, rejected: 1, cases: 701 } });
  });

  it('rejects a call id or caller number a spreadsheet saved in scientific notation (its digits lost), naming the field, and imports the others', async () => {
    const csv = [
      'hotline,callId,startedAt,callerNumber,transcript',
      // Two calls whose ids Excel saved as the same 2.02611E+16: neither may stand for the other.
      '12369,2.02611E+16,2026/10/1 8:00,13907461234,来电人：兴隆办事处电镀厂晚上偷排废水。',
      '12369,2.02611E+16,2026/10/1 8:05,13907461235,来电人：李家塘养猪场粪水排到河里。',
      `12369,sci-number-${process.pid},2026/10/1 8:10,1.39075E+10,来电人：回龙村后面有人烧垃圾。`,
      `12369,sci-written-${process.pid},2026/10/1 8:15,13907461236,来电人：回龙村后面有人烧垃圾。`,
    ].join('\r\n');
    const res = await fetch(`${service.url}/api/v1/hotline/calls:import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' },
      body: csv,
    });
    expect(res.status).toBe(200);
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const lost = expect.stringMatching(/^a spreadsheet wrote this number in scientific notation and lost its digits: format the column as text/);
    expect(lines.slice(0, -1)).toEqual([
      expect.objectContaining({ line: 2, status: 'rejected', reason: 'invalid callId', fields: { callId: lost } }),
      expect.objectContaining({ line: 3, status: 'rejected', reason: 'invalid callId', fields: { callId: lost } }),
      expect.objectContaining({ line: 4, status: 'rejected', reason: 'invalid callerNumber', fields: { callerNumber: lost } }),
      expect.objectContaining({ line: 5, status: 'created' }),
    ]);
  });

  it('passes over the rows of empty cells a spreadsheet writes (,,,,) as blank lines, and imports the calls between them', async () => {
    const csv = [
      'hotline,callId,startedAt,transcript,summary',
      '12369,empty-rows-1,2026-10-01 08:00:00,来电人：兴隆办事处电镀厂晚上偷排废水。,',
      ',,,,',
      '12345,empty-rows-2,2026-10-01 09:00:00,市民：李家塘养猪场粪水排到河里。,',
      ',,,,',
      ' , ,,,',
      '',
    ].join('\r\n');
    const res = await fetch(`${service.url}/api/v1/hotline/calls:import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' },
      body: csv,
    });
    expect(res.status).toBe(200);
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.slice(0, -1).map((l) => [l['line'], l['status']])).toEqual([
      [2, 'created'],
      [4, 'created'],
    ]);
    expect(lines.at(-1)).toEqual({ summary: { records: 2, created: 2, duplicate: 0, rejected: 0, cases: 2 } });
  });

  it('names a rejected CSV record\'s fields as the file headed their columns, with the field\'s name beside them', async () => {
    const id = (what: string) => `HEADED-${process.pid}-${what}`;
    const csv = [
      'ＨＯＴＬＩＮＥ, Call_ID ,来电时间,transcript',
      `12369,${id('day')},2026年2月30日 9:15,来电人：回龙村后面有人烧垃圾，烟很大。`,
      `12369,,2026-10-01 08:00:00,来电人：回龙村后面有人烧垃圾，烟很大。`,
      `12369,${id('text')},2026-10-01 08:00:00,`,
    ].join('\r\n');
    const res = await fetch(`${service.url}/api/v1/hotline/calls:import`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' }, body: csv });
    expect(res.status).toBe(200);
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.slice(0, -1).map((l) => [l['line'], l['reason'], Object.keys(l['fields'] as object), l['columns']])).toEqual([
      [2, 'invalid 来电时间 (startedAt)', ['startedAt'], { startedAt: '来电时间' }],
      [3, 'invalid Call_ID (callId)', ['callId'], { callId: 'Call_ID' }],
      // A column headed by the field's own name is named as it is.
      [4, 'invalid transcript', ['transcript'], undefined],
    ]);
  });

  it('reads CSV columns named in any case, width or spacing, or in Chinese, and refuses two columns for one field naming both', async () => {
    const id = `FOLD-${process.pid}`;
    const csv = [
      'ＨＯＴＬＩＮＥ, Call_ID , 来电时间 ,Caller Number,ＴＲＡＮＳＣＲＩＰＴ,摘要',
      `12369,${id},2026-10-01 08:00:00,13912345678,来电人：兴隆办事处电镀厂晚上偷排废水。,电镀厂偷排`,
    ].join('\r\n');
    const res = await fetch(`${service.url}/api/v1/hotline/calls:import`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' }, body: csv });
    expect(res.status).toBe(200);
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([expect.objectContaining({ line: 2, status: 'created', callId: id }), { summary: { records: 1, created: 1, duplicate: 0, rejected: 0, cases: 1 } }]);
    const stored = await service.deps.db.selectFrom('hotline_calls').select(['hotline', 'started_at', 'caller_number', 'summary']).where('call_id', '=', id).executeTakeFirstOrThrow();
    expect(stored).toEqual({ hotline: '12369', started_at: '2026-10-01T00:00:00.000Z', caller_number: '13912345678', summary: '电镀厂偷排' });

    for (const [header, problem] of [
      ['hotline,callId,Call_ID,startedAt,transcript', 'columns "callId" and "Call_ID" are the same field callId'],
      ['hotline,callId,startedAt,transcript, 来电时间 ', 'columns "startedAt" and "来电时间" are the same field startedAt'],
      ['hotline,ＣＡＬＬ＿ＩＤ,call id,startedAt,transcript', 'columns "ＣＡＬＬ＿ＩＤ" and "call id" are the same field callId'],
    ]) {
      const refused = await json(
        fetch(`${service.url}/api/v1/hotline/calls:import`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' },
          body: `${header}\n12369,${id}-x,${id}-y,2026-10-01T08:00:00+08:00,来电人：噪音\n`,
        }),
      );
      expect(refused.status, header).toBe(400);
      expect(refused.body.error.fields.header, header).toContain(problem);
    }
    expect(await service.deps.db.selectFrom('hotline_calls').select('call_id').where('call_id', 'like', `${id}-%`).execute()).toEqual([]);
  });

  it('refuses a CSV whose header lacks a required column with 400, and other media types with 415', async () => {
    const res = await json(
      fetch(`${service.url}/api/v1/hotline/calls:import`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' },
        body: 'hotline,callId,text\n12369,A1,噪音\n',
      }),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error.fields.header).toContain('startedAt, transcript');
    // A misspelt or repeated column is named, never silently dropped.
    const misspelt = await json(
      fetch(`${service.url}/api/v1/hotline/calls:import`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' },
        body: 'hotline,callId,startedAt,transcript,callerNumbr,type,type\n12369,A1,2026-10-01T08:00:00+08:00,来电人：噪音,13800001111,noise,noise\n',
      }),
    );
    expect(misspelt.status, JSON.stringify(misspelt.body)).toBe(400);
    expect(misspelt.body.error.fields.header).toMatch(/^unknown column "callerNumbr", column "type" twice/);
    // A header that breaks the format is named as such, not as columns it lacks.
    for (const [header, fault] of [
      ['"hotline,callId,startedAt,transcript', 'never closed'],
      ['"hotline"x,callId,startedAt,transcript', 'text after the closing quote of field 1'],
    ]) {
      const broken = await json(
        fetch(`${service.url}/api/v1/hotline/calls:import`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' }, body: `${header}\n12369,A1,2026-10-01T08:00:00+08:00,来电人：噪音\n` }),
      );
      expect(broken.status, header).toBe(400);
      expect(broken.body.error.fields.header, header).toContain(fault);
      expect(broken.body.error.fields.header, header).not.toContain('missing column');
    }
    const other = await fetch(`${service.url}/api/v1/hotline/calls:import`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '[]' });
    expect(other.status).toBe(415);
    expect(((await other.json()) as { error: { fields: Record<string, string> } }).error.fields).toEqual({ 'content-type': 'not accepted: application/json' });
    const anon = await fetch(`${service.url}/api/v1/hotline/calls:import`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: 'a\n' });
    expect(anon.status).toBe(401);
  });
});

describe('the import readers', () => {
  const streamOf = (chunks: string[]) =>
    new ReadableStream<string>({
      start(c) {
        for (const ch of chunks) c.enqueue(ch);
        c.close();
      },
    });
  const collect = async <T>(it: AsyncGenerator<T>) => {
    const out: T[] = [];
    for await (const x of it) out.push(x);
    return out;
  };

  it('parses CSV split anywhere across chunks: quotes, commas, CRLF and line breaks inside quotes', async () => {
    const text = 'a,b,c\r\n1,"x, ""y""",z\r\n2,"multi\nline\r\ntext",\n3,,"last"';
    for (const size of [1, 2, 3, 7, text.length]) {
      const chunks: string[] = [];
      for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size));
      expect(await collect(csvRows(streamOf(chunks)))).toEqual([
        { line: 1, fields: ['a', 'b', 'c'] },
        { line: 2, fields: ['1', 'x, "y"', 'z'] },
        { line: 3, fields: ['2', 'multi\nline\r\ntext', ''] },
        { line: 6, fields: ['3', '', 'last'] },
      ]);
    }
  });

  it('rejects a CSV record that breaks the format with its reason and reads the records after it', async () => {
    const text = 'a,b\n"x"junk,1\n2,"y" \n3,"ok"\n' + `"${'z'.repeat(30)}",4\n5,6\n7,"open\n8,9`;
    for (const size of [1, 4, text.length]) {
      const chunks: string[] = [];
      for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size));
      expect(await collect(csvRows(streamOf(chunks), 20))).toEqual([
        { line: 1, fields: ['a', 'b'] },
        { line: 2, fields: null, reason: expect.stringContaining('text after the closing quote of field 1') },
        { line: 3, fields: null, reason: expect.stringContaining('text after the closing quote of field 2') },
        { line: 4, fields: ['3', 'ok'] },
        { line: 5, fields: null, reason: 'record longer than 20 characters' },
        { line: 6, fields: ['5', '6'] },
        { line: 7, fields: null, reason: expect.stringContaining('a quote opened here is never closed') },
      ]);
    }
  });

  it('reads GB 18030 split anywhere across chunks, a line at a time, marking only the line with bytes that are not', async () => {
    const text = '来电人：兴隆办事处盐下村电镀厂偷排废水\r\n第二行：噪音€\n';
    const bytes = Buffer.concat([gb18030(text), Buffer.from([0x81, 0x0a]), gb18030('最后一行：回龙村')]);
    for (const size of [1, 2, 3, 5, bytes.length]) {
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          for (const ch of chunks) c.enqueue(ch);
          c.close();
        },
      });
      expect((await collect(splitLines(decodeText(body, 'gb18030')))).map((l) => l.text)).toEqual([
        '来电人：兴隆办事处盐下村电镀厂偷排废水',
        '第二行：噪音€',
        '\uFFFD',
        '最后一行：回龙村',
      ]);
    }
  });

  it('splits lines across chunks and reports a runaway line without keeping it', async () => {
    expect(await collect(splitLines(streamOf(['ab', 'c\r\nde', 'f\n\ng'])))).toEqual([
      { line: 1, text: 'abc' },
      { line: 2, text: 'def' },
      { line: 3, text: '' },
      { line: 4, text: 'g' },
    ]);
    expect(await collect(splitLines(streamOf(['x'.repeat(6), 'y'.repeat(6), '\nok\n']), 10))).toEqual([
      { line: 1, text: null },
      { line: 2, text: 'ok' },
    ]);
  });
});

/** Text in GB 18030 (GBK) bytes, as Chinese Windows tools save it; Node encodes UTF-8 and UTF-16 only, so the table is read off the decoder. */
function gb18030(text: string): Buffer {
  const decoder = new TextDecoder('gb18030');
  const table = new Map<string, [number, number]>();
  for (let lead = 0x81; lead <= 0xfe; lead++) {
    for (let trail = 0x40; trail <= 0xfe; trail++) {
      if (trail !== 0x7f) table.set(decoder.decode(new Uint8Array([lead, trail])), [lead, trail]);
    }
  }
  const bytes: number[] = [];
  for (const ch of text) {
    if (ch.charCodeAt(0) < 0x80) bytes.push(ch.charCodeAt(0));
    else bytes.push(...table.get(ch)!);
  }
  return Buffer.from(bytes);
}

describe('npm run hotline -- import FILE', { timeout: 300_000 }, () => {
  function cli(databaseUrl: string, ...args: string[]): Promise<CliRun> {
    return cliWith({}, databaseUrl, ...args);
  }

  /** The tool as users run it, through npm and tsx; the other tests run it compiled, as the suite's other child processes. */
  function npmCli(databaseUrl: string, ...args: string[]): Promise<CliRun> {
    return run(['npm', 'run', '--silent', 'hotline', '--'], {}, databaseUrl, args);
  }

  function cliWith(env: Record<string, string>, databaseUrl: string, ...args: string[]): Promise<CliRun> {
    return run('hotline', env, databaseUrl, args);
  }

  function run(tool: string | string[], env: Record<string, string>, databaseUrl: string, args: string[]): Promise<CliRun> {
    return runCli(tool, args, {
      env: {
        DATABASE_URL: databaseUrl,
        DISTRICT_CONFIG: '',
        REDIS_URL: DEAD_REDIS,
        LOG_LEVEL: 'error',
        CLASSIFIER_DIR: join(tmpdir(), 'intake-test-classifier'),
        ...env,
      },
    });
  }


  /** The service's database, as its first start leaves it. */
  async function serviceDatabase(path: string): Promise<void> {
    const handle = connectDatabase(path);
    try {
      await migrateToLatest(handle.db);
    } finally {
      await handle.db.destroy();
    }
  }

  it('imports a small file once, reports the bad line, and creates nothing on a re-run', async () => {
    const db = join(dir, 'cli.db');
    await serviceDatabase(db);
    const file = join(dir, 'cli-calls.ndjson');
    const calls = [0, 1, 2, 3].map((i) => JSON.stringify(callOf(i, 'CLI')));
    calls.splice(2, 0, JSON.stringify({ hotline: '12369', callId: 'cli-bad', startedAt: 'soon', transcript: '来电人：噪音' }));
    writeFileSync(file, `${calls.join('\n')}\n`);

    const first = await npmCli(db, 'import', file);
    expect(first.code, first.stderr).toBe(1);
    expect(first.stdout).toContain('line 3: rejected cli-bad: invalid startedAt');
    const summary = first.stdout.trim().split('\n').at(-1)!;
    expect(summary).toMatch(/^records=5 created=4 duplicate=0 rejected=1 cases=4 max_rss_kb=\d+$/);

    const again = await cli(db, 'import', file, '--json');
    const lines = again.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.slice(0, -1).map((l) => l['status'])).toEqual(['duplicate', 'duplicate', 'rejected', 'duplicate', 'duplicate']);
    expect(lines.at(-1)).toMatchObject({ summary: { created: 0, duplicate: 4, rejected: 1, maxRssKb: expect.any(Number) } });

    const handle = connectDatabase(db);
    try {
      const cases = await handle.db.selectFrom('cases').select(['channel', 'status']).execute();
      expect(cases).toHaveLength(4);
      expect(new Set(cases.map((c) => c.status))).toEqual(new Set(['received']));
      expect((await handle.db.selectFrom('outbox').selectAll().execute()).length).toBe(4);
    } finally {
      await handle.db.destroy();
    }

    const usage = await cli(db, 'import');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('import needs a FILE');
  });

  it('says in one line, with status 1 and without the usage, that the file is not there or no file', async () => {
    const db = join(dir, 'cli-nofile.db');
    await serviceDatabase(db);
    const missing = join(dir, 'no-such-calls.ndjson');
    const [gone, folder] = await Promise.all([cli(db, 'import', missing), cli(db, 'import', '--format', 'csv', dir)]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe(`hotline: cannot read ${missing}: no such file\n`);
    expect(folder.code).toBe(1);
    expect(folder.stderr).toBe(`hotline: ${dir} is not a file\n`);
    expect(gone.stdout + folder.stdout).toBe('');
  });

  it('says when the file holds no calls, and imports nothing (status 0: nothing failed)', async () => {
    const db = join(dir, 'cli-empty.db');
    await serviceDatabase(db);
    const file = join(dir, 'cli-empty.ndjson');
    writeFileSync(file, '');
    const empty = await cli(db, 'import', file);
    expect(empty.code).toBe(0);
    expect(empty.stdout).toMatch(/^records=0 created=0 duplicate=0 rejected=0 cases=0 /);
    expect(empty.stderr).toContain(`hotline: ${file} holds no calls\n`);
  });

  it('says once, in one line with status 1, why an empty or binary CSV file has no usable header', async () => {
    const db = join(dir, 'cli-bad-header.db');
    await serviceDatabase(db);
    const empty = join(dir, 'cli-empty.csv');
    writeFileSync(empty, '');
    const binary = join(dir, 'cli-binary.csv');
    writeFileSync(binary, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0xff, 0xfe, 0x00, 0x0a, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const unknown = join(dir, 'cli-unknown-column.csv');
    writeFileSync(unknown, 'hotline,callId,startedAt,transcript,callerNumbr\n');
    const [emptyRun, binaryRun, unknownRun] = await Promise.all([cli(db, 'import', empty), cli(db, 'import', binary), cli(db, 'import', unknown)]);
    const missing = 'hotline: the CSV header has missing columns hotline, callId, startedAt, transcript (the first row names the fields: hotline,callId,startedAt,transcript,…)\n';
    for (const run of [emptyRun, binaryRun]) {
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(missing);
      expect(run.stdout).toBe('');
    }
    expect(unknownRun.code).toBe(1);
    expect(unknownRun.stderr).toMatch(/^hotline: the CSV header has unknown column "callerNumbr" \(the columns: hotline,callId,startedAt,[^)]*\)\n$/);
  });

  it('reads a CSV saved as GBK (GB 18030) or UTF-16, as Excel saves one on a Chinese Windows, and saying so', async () => {
    const db = join(dir, 'cli-gbk.db');
    await serviceDatabase(db);
    const records = (prefix: string) => [
      'hotline,callId,startedAt,callerNumber,transcript',
      `12369,${prefix}-1,2026-10-01 08:00:00,13912345678,"坐席：您好，请讲。\r\n来电人：兴隆办事处盐下村电镀厂晚上偷排废水，沟里全是黑水。"`,
      `12345,${prefix}-2,2026-10-01 09:30:00,,"话务员：您好。\r\n市民：李家塘办事处养猪场的粪水排到河里。"`,
    ];
    const rows = (prefix: string) => records(prefix).join('\r\n');
    const gbkFile = join(dir, 'cli-gbk.csv');
    writeFileSync(gbkFile, gb18030(`${rows('GBK')}\r\n`));
    const utf16File = join(dir, 'cli-utf16.csv');
    writeFileSync(utf16File, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${rows('U16')}\r\n`, 'utf16le')]));
    for (const [file, name] of [
      [gbkFile, 'GB 18030 (GBK)'],
      [utf16File, 'UTF-16'],
    ] as const) {
      const run = await cli(db, 'import', file);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).toMatch(/^records=2 created=2 duplicate=0 rejected=0 cases=2 /);
      expect(run.stderr).toContain(`hotline: ${file} is not UTF-8: read as ${name}\n`);
      const again = await cli(db, 'import', file);
      expect(again.stdout).toMatch(/^records=2 created=0 duplicate=2 rejected=0 cases=0 /);
    }
    const handle = connectDatabase(db);
    try {
      const texts = (await handle.db.selectFrom('cases').select('text').orderBy('received_at').orderBy('text').execute()).map((r) => r.text);
      expect(texts).toEqual([
        '兴隆办事处盐下村电镀厂晚上偷排废水，沟里全是黑水。',
        '兴隆办事处盐下村电镀厂晚上偷排废水，沟里全是黑水。',
        '李家塘办事处养猪场的粪水排到河里。',
        '李家塘办事处养猪场的粪水排到河里。',
      ]);
    } finally {
      await handle.db.destroy();
    }

    // A UTF-8 file with one record that is not: that record alone is rejected, the file is not read as GBK.
    const mixedFile = join(dir, 'cli-mixed.csv');
    const [header, first, second] = records('MIX');
    writeFileSync(mixedFile, Buffer.concat([Buffer.from(`${header}\r\n${first}\r\n`), gb18030(`${second}\r\n`)]));
    const mixed = await cli(db, 'import', mixedFile);
    expect(mixed.code).toBe(1);
    expect(mixed.stderr).not.toContain('is not UTF-8');
    expect(mixed.stdout).toContain(
      'line 4: rejected MIX-2: not valid UTF-8 in transcript (save the whole file in one encoding, UTF-8 or GBK / GB 18030) (transcript: must be UTF-8 text (found bytes that are not))\n',
    );
    expect(mixed.stdout).toMatch(/records=2 created=1 duplicate=0 rejected=1 cases=1 /);
  });

  it('says nothing of Redis when Redis is up and the file is refused before the connection is made', async () => {
    const db = join(dir, 'cli-header.db');
    await serviceDatabase(db);
    const file = join(dir, 'cli-no-header.csv');
    writeFileSync(file, 'hotline,callId\n12369,c-1\n');
    // Warnings shown, and the Redis of the tests: closing a connection still being made is no news of Redis.
    const run = await cliWith({ REDIS_URL: REDIS_URL, QUEUE_PREFIX: uniquePrefix('hotline-cli'), LOG_LEVEL: 'warn' }, db, 'import', '--format', 'csv', file);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('the CSV header has missing columns startedAt, transcript');
    expect(run.stderr + run.stdout).not.toContain('redis unreachable');
  });

  it('refuses a DATABASE_URL whose SQLite file does not exist, and creates nothing', async () => {
    const file = join(dir, 'cli-typo.ndjson');
    writeFileSync(file, `${JSON.stringify(callOf(0, 'TYPO'))}\n`);
    const missing = join(dir, 'typo', 'intake.db');
    const run = await cli(missing, 'import', file);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(`hotline: no SQLite database at ${missing} (DATABASE_URL=${missing})`);
    expect(run.stderr).not.toContain('    at ');
    expect(run.stdout).toBe('');
    expect(existsSync(join(dir, 'typo'))).toBe(false);
  });

  it('says in one line that DATABASE_URL names a file that is no database', async () => {
    const file = join(dir, 'cli-notdb.ndjson');
    writeFileSync(file, `${JSON.stringify(callOf(0, 'NOTDB'))}\n`);
    const notDb = join(dir, 'notes.db');
    writeFileSync(notDb, 'not a database\n');
    const run = await cli(notDb, 'import', file);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`hotline: cannot use the SQLite database ${notDb}: file is not a database\n`);
    expect(run.stdout).toBe('');
  });
});
