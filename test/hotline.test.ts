import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../db/repositories/tokens.repository.js';
import { createUser } from '../db/repositories/users.repository.js';
import type { Role } from '../src/auth/principal.js';
import { ManualClock } from '../src/clock.js';
import { loadDistrictFile } from '../src/district/district-file.js';
import { callSchema, MAX_CASE_TEXT_CHARS } from '../src/hotline/call-schema.js';
import { withDistrictTime } from '../src/hotline/hotline-intake.js';
import { createLogger } from '../src/logger.js';
import { MASKED_NUMBER } from '../src/pipeline/extract.js';
import { createRuleClassifier } from '../src/pipeline/rule-classifier.js';
import { startTestService, testEnv, waitFor } from './harness.js';
import { client, json, T0, type TestService } from './workflow-helpers.js';

/**
 * Hotline intake: 12345 / 12369 call transcripts become cases. The service
 * runs API and worker (the phrase-rule classifier, so proposals are
 * predictable) and every log line is captured to check that no caller number
 * leaks into it.
 */

let service: TestService;
const logLines: string[] = [];
const tokens = {} as Record<'operator' | 'dispatcher' | 'admin' | 'epb' | 'xinglong', string>;
let seq = 0;
const nextCallId = (prefix = 'C') => `${prefix}-${process.pid}-${++seq}`;

beforeAll(async () => {
  const district = loadDistrictFile();
  const sink = new Writable({
    write(chunk, _enc, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  service = (await startTestService(testEnv('hotline'), 'all', {
    clock: new ManualClock(T0),
    district,
    classifier: createRuleClassifier(district),
    logger: createLogger('debug', sink),
  })) as TestService;
  const db = service.deps.db;
  const account = async (role: Role, unit: string | null, name: string) => {
    const user = await createUser(db, { name, role, unitCode: unit, at: T0 });
    return (await issueToken(db, { userId: user.id, label: null, at: T0 })).token;
  };
  tokens.operator = await account('operator', null, '坐席小王');
  tokens.dispatcher = await account('dispatcher', null, '调度老李');
  tokens.admin = await account('admin', null, '管理员');
  tokens.epb = await account('bureau', 'epb', '环保局张三');
  tokens.xinglong = await account('bureau', 'xinglong', '兴隆办赵六');
});

const as = (who: keyof typeof tokens | null) => client(service.url, who ? tokens[who] : null);

function call(transcript: string, extra: Record<string, unknown> = {}) {
  return { hotline: '12369', callId: nextCallId(), startedAt: '2026-11-02T09:40:00+08:00', callerNumber: '13912340001', operator: '坐席小王', transcript, ...extra };
}

async function count(table: 'cases' | 'hotline_calls' | 'hotline_call_cases' | 'classifier_corrections'): Promise<number> {
  const row = await service.deps.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

async function caseRow(id: string) {
  return service.deps.db.selectFrom('cases').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

/** Waits until the pipeline has moved the case out of `received`. */
async function processed(id: string) {
  return waitFor(
    async () => {
      const row = await caseRow(id);
      return row.status !== 'received' ? row : null;
    },
    { what: `case ${id} to leave received` },
  );
}

/** The payload of every BullMQ job of this service in Redis. */
async function jobPayloads(): Promise<string[]> {
  const redis = new Redis(service.deps.env.REDIS_URL);
  try {
    const out: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${service.deps.env.QUEUE_PREFIX}:*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        if ((await redis.type(key)) !== 'hash') continue;
        const data = await redis.hget(key, 'data');
        if (data) out.push(data);
      }
    } while (cursor !== '0');
    return out;
  } finally {
    redis.disconnect();
  }
}

async function leadOf(id: string): Promise<string | undefined> {
  const rows = await service.deps.db.selectFrom('assignments').select(['unit_code', 'role']).where('case_id', '=', id).execute();
  return rows.find((r) => r.role === 'lead')?.unit_code;
}

async function unitsOf(id: string): Promise<string[]> {
  const rows = await service.deps.db.selectFrom('assignments').select('unit_code').where('case_id', '=', id).execute();
  return rows.map((r) => r.unit_code).sort();
}

// Every transcript variant an operator pastes: the complaint is what the caller said, in order.
const VARIANTS: Array<[string, string, string]> = [
  [
    'bracketed timestamps, 坐席 / 来电人, full-width colons',
    [
      '[00:00:02] 坐席：您好，12369环保举报热线，请讲。',
      '[00:00:05] 来电人：我要举报兴隆办事处那边一个电镀厂，晚上往沟里偷排废水。',
      '[00:00:19] 坐席：请问具体位置在哪里？',
      '[00:00:23] 来电人：就在兴隆办事处工业园后面，沟里的水都是黑的。',
      '[00:00:40] 坐席：好的，我们会尽快处理。',
    ].join('\n'),
    '我要举报兴隆办事处那边一个电镀厂，晚上往沟里偷排废水。\n就在兴隆办事处工业园后面，沟里的水都是黑的。',
  ],
  [
    'no timestamps, 话务员 / 市民, ASCII colons',
    ['话务员: 你好，这里是12345热线。', '市民: 李家塘那边养猪场的猪粪水直接排到河里，臭得很。', '话务员: 大概从什么时候开始的？', '市民: 这几天天天都有。'].join('\n'),
    '李家塘那边养猪场的猪粪水直接排到河里，臭得很。\n这几天天天都有。',
  ],
  [
    '【mm:ss】 stamps, 客服 / 群众, blank lines between turns',
    ['【00:01】客服：您好，请讲。', '', '【00:04】群众：永济亭那边有人在烧垃圾，黑烟很大。', '', '', '【00:15】客服：还有别的情况吗？', '', '【00:18】群众：没有了，谢谢。'].join('\n'),
    '永济亭那边有人在烧垃圾，黑烟很大。\n没有了，谢谢。',
  ],
  [
    '接线员 / 客户 with numbered labels and wrapped lines',
    [
      '00:00:03 接线员1：您好，12369。',
      '00:00:06 客户：我反映一下八仙洞办事处那个尾矿库，',
      '下雨以后尾矿水就流到稻田里，',
      '稻子都黄了。',
      '00:00:30 接线员1：好的，记下了。',
    ].join('\r\n'),
    '我反映一下八仙洞办事处那个尾矿库，下雨以后尾矿水就流到稻田里，稻子都黄了。',
  ],
  [
    'start–end timestamps',
    ['[00:00:01-00:00:04] 坐席：您好，12369，请讲。', '[00:00:05-00:00:16] 来电人：马鹿头那边的砖厂把废机油倒在后山上。', '[00:00:17-00:00:19] 坐席：好的。'].join('\n'),
    '马鹿头那边的砖厂把废机油倒在后山上。',
  ],
  [
    'a label and timestamp as a header above the words',
    ['坐席 00:00:01', '您好，12369，请讲。', '来电人 00:00:05', '回龙村后面的小河，', '这几天水都是红的。', '坐席 00:00:20', '好的，记下了。'].join('\n'),
    '回龙村后面的小河，这几天水都是红的。',
  ],
  [
    'labels in brackets, 工作人员 / 举报人',
    ['【工作人员】您好，12369，请问是兴隆办事处吗？', '【举报人】不是，是马鹿头那边的砖厂，', '把废机油倒在后山上。', '【工作人员】好的。'].join('\n'),
    '不是，是马鹿头那边的砖厂，把废机油倒在后山上。',
  ],
  [
    '座席 for the operator and 居民 for the caller',
    ['座席：您好，12369环保举报热线，请讲。', '居民：回龙村后面的养猪场把粪水排到河里。', '座席：好的，我们登记一下，请问您贵姓？', '居民：不用了，你们快点来看看。'].join('\n'),
    '回龙村后面的养猪场把粪水排到河里。\n不用了，你们快点来看看。',
  ],
  [
    'timestamps typed with a Chinese input method: full-width brackets, colons and digits',
    [
      '［00：00：02］坐席：您好，12369环保举报热线，请讲。',
      '［００:００:０６］来电人：兴隆办事处那边的电镀厂晚上偷排废水，ＰＨ试纸一测就变红。',
      '[00：00：21] 坐席：好的，我们会尽快处理。',
    ].join('\n'),
    '兴隆办事处那边的电镀厂晚上偷排废水，ＰＨ试纸一测就变红。',
  ],
  [
    'work numbers as call-centre systems write them (坐席_1024, 坐席-A01, 坐席1024号, 坐席小王(1024)), notes with the caller\'s number, and 说 / 问',
    [
      '坐席_1024：您好，12369环保举报热线，请讲。',
      '来电人（张先生，13877776666）：永济亭那边的砖厂天天烧废轮胎，',
      '黑烟呛得人喘不过气。',
      '坐席-A01：请问具体在什么位置？',
      '来电人说：就在永济亭路口往北两百米。',
      '坐席1024号：好的，我们尽快安排人员核实。',
      '坐席小王(1024)问：还有别的情况吗？',
      '来电人-张先生：没有了。',
    ].join('\n'),
    '永济亭那边的砖厂天天烧废轮胎，黑烟呛得人喘不过气。\n就在永济亭路口往北两百米。\n没有了。',
  ],
  [
    'English labels Operator / Agent and Caller / Citizen / Resident, in any case, bracketed, numbered or named',
    [
      '[00:00:02] Operator: 您好，12369环保举报热线，请讲。',
      '[00:00:05] CALLER: 我要举报李家塘办事处那边一个养猪场，',
      '猪粪水直接排到河里。',
      'agent 2: 请问具体位置在哪里？',
      '[Citizen] 就在李家塘办事处后面的小河边。',
      'Agent (ID 1024)：好的，我们会尽快处理。',
      'Resident Wang: 谢谢。',
    ].join('\n'),
    '我要举报李家塘办事处那边一个养猪场，猪粪水直接排到河里。\n就在李家塘办事处后面的小河边。\n谢谢。',
  ],
  [
    'English labels on numbered lines, under headings that name the caller (Caller ID, Caller Name) without being their words',
    [
      'Caller ID: 139****0001',
      'Caller Name: withheld',
      '1. Agent Li: Hello, 12369 hotline.',
      '2. resident: A brick kiln near Yongjiting burns rubbish every night.',
      '3. agent Li: Noted, thank you.',
    ].join('\n'),
    'A brick kiln near Yongjiting burns rubbish every night.',
  ],
  [
    'a speech-recognition export naming two voices (说话人1 / 说话人2) above their words, the operator the one who answers',
    ['说话人1 00:00', '您好，12369环保举报热线，请讲。', '说话人2 00:05', '兴隆办事处那边的电镀厂晚上偷排废水，', '沟里的水都是绿的。', '说话人1 00:21', '好的，我们会尽快处理。'].join('\n'),
    '兴隆办事处那边的电镀厂晚上偷排废水，沟里的水都是绿的。',
  ],
  [
    'lines labelled with the speakers\' names alone (小王：…, 张先生：…), the operator the one who greets as the hotline',
    ['小王：您好，12369环保举报热线，请讲。', '张先生：我要举报李家塘办事处那边一个养猪场，猪粪水直接排到河里。', '小王：请问具体位置在哪里？', '张先生：就在李家塘办事处后面的小河边。'].join('\n'),
    '我要举报李家塘办事处那边一个养猪场，猪粪水直接排到河里。\n就在李家塘办事处后面的小河边。',
  ],
  [
    'a record typed up as questions and answers (问：… 答：…)',
    ['问：您好，12369环保举报热线，请讲。', '答：我要举报李家塘办事处那边一个养猪场，猪粪水直接排到河里。', '问：请问具体位置在哪里？', '答：就在李家塘办事处后面的小河边。'].join('\n'),
    '我要举报李家塘办事处那边一个养猪场，猪粪水直接排到河里。\n就在李家塘办事处后面的小河边。',
  ],
  [
    'a speech-recognition export whose caller speaks first (喂？), the operator told by the hotline greeting',
    ['[00:00:00] spk_1: 喂？', '[00:00:01] spk_0: 您好，12345热线，请讲。', '[00:00:03] spk_1: 回龙村后面的养猪场把粪水排到河里。', '[00:00:12] spk_0: 好的，记下了。'].join('\n'),
    '喂？\n回龙村后面的养猪场把粪水排到河里。',
  ],
];

describe('POST /api/v1/hotline/calls', () => {
  it.each(VARIANTS)('turns a transcript with %s into a case built from the caller\'s lines', async (_what, transcript, complaint) => {
    const before = await count('cases');
    const body = call(transcript);
    const res = await json(as('operator').post('/api/v1/hotline/calls', body));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ hotline: '12369', callId: body.callId, result: 'created' });
    expect(res.body.cases).toHaveLength(1);
    expect(res.body.cases[0]).toMatchObject({ status: 'received', part: 1, trackingCode: expect.stringMatching(/^[34679ACDEFGHJKMNPQRTUVWXY]{10}$/) });
    expect(await count('cases')).toBe(before + 1);

    const row = await caseRow(res.body.cases[0].id);
    expect(row.channel).toBe('hotline12369');
    expect(row.text).toBe(complaint);
    expect(row.text).not.toContain('坐席');
    // The operator sees the full transcript with the case.
    const view = await json(as('operator').get(`/api/v1/cases/${row.id}`));
    expect(view.status).toBe(200);
    expect(view.body.hotline).toMatchObject({ hotline: '12369', callId: body.callId, transcript, part: 1, operator: '坐席小王' });
    await processed(row.id);
  });

  it('classifies and routes the case on the caller\'s words, with place and time from the call', async () => {
    const transcript = VARIANTS[0]![1];
    const res = await json(as('operator').post('/api/v1/hotline/calls', call(transcript)));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const row = await processed(res.body.cases[0].id);
    expect(row.status).toBe('dispatched');
    expect(row.type_code).toBe('illegal_discharge');
    expect(row.jurisdiction_code).toBe('xinglong');
    expect(await unitsOf(row.id)).toEqual(['econ', 'epb', 'xinglong']);
  });

  it('reads the caller\'s "昨晚十点" against the start of the call', async () => {
    const res = await json(
      as('operator').post('/api/v1/hotline/calls', {
        ...call('坐席：请讲。\n来电人：昨晚十点多神仙洞那边有人往河里倒废渣。'),
        startedAt: '2026-10-20T08:00:00+08:00',
      }),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const row = await caseRow(res.body.cases[0].id);
    expect(row.occurred_at).toBe('2026-10-19T14:00:00.000Z');
    // The case was received when the call came in (it counts in October), and the pipeline reads the time against it too.
    expect(row.received_at).toBe('2026-10-20T00:00:00.000Z');
    const id = res.body.cases[0].id as string;
    const classified = await waitFor(() =>
      service.deps.db.selectFrom('case_events').select('data').where('case_id', '=', id).where('kind', '=', 'classified').executeTakeFirst(),
    );
    expect(JSON.parse(classified.data!)).toMatchObject({ incidentTime: { at: '2026-10-19T14:00:00.000Z' } });
  });

  it('receives a call whose start is minutes ahead of the clock at now, never later', async () => {
    const ahead = new Date(service.deps.clock.now().getTime() + 10 * 60_000).toISOString();
    const res = await json(as('operator').post('/api/v1/hotline/calls', { ...call('坐席：请讲。\n来电人：李家塘路边有人烧垃圾。'), startedAt: ahead }));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect((await caseRow(res.body.cases[0].id)).received_at).toBe(service.deps.clock.now().toISOString());
  });

  it.each([
    ['full-width digits', '１３８１２３４５６７８', '13812345678'],
    ['an area code in brackets', '(0746)1234567', '07461234567'],
    ['full-width brackets, spaces and dashes', '（0746） 123-4567', '07461234567'],
    ['a leading +', '+86 138 1234 5678', '+8613812345678'],
  ])('accepts a caller number with %s and keeps its digits', async (_what, given, kept) => {
    const body = call('坐席：请讲。\n来电人：李家塘路边有人烧垃圾。', { callerNumber: given });
    const res = await json(as('operator').post('/api/v1/hotline/calls', body));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const row = await service.deps.db.selectFrom('hotline_calls').select('caller_number').where('call_id', '=', body.callId).executeTakeFirstOrThrow();
    expect(row.caller_number).toBe(kept);
  });

  it('takes the place the operator named and the caller confirmed when the caller names none', async () => {
    const res = await json(
      as('operator').post('/api/v1/hotline/calls', call('坐席：请讲。\n来电人：有个电镀厂晚上往沟里排黑水。\n坐席：是李家塘办事处吗？\n来电人：对对，就是那里。')),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const id = res.body.cases[0].id as string;
    const routed = await waitFor(async () => {
      const row = await caseRow(id);
      return row.status !== 'received' ? row : null;
    });
    expect(routed.jurisdiction_code).toBe('lijiatang');
    expect(routed.text).not.toContain('坐席');
  });

  it('gives the place the caller confirmed only to the part of a split call that names no place of its own', async () => {
    const transcript = [
      '坐席：您好，请讲。',
      '来电人：有个养猪场把粪水排到河里。',
      '坐席：是李家塘办事处吗？',
      '来电人：对对，就是那里。还有八字桥社区的工地晚上施工，吵得睡不着。',
    ].join('\n');
    const parts = [{ text: '有个养猪场把粪水排到河里。' }, { text: '八字桥社区的工地晚上施工，吵得睡不着。' }];
    const review = await json(as('operator').post('/api/v1/hotline/calls', call(transcript, { parts, review: true })));
    expect(review.status, JSON.stringify(review.body)).toBe(200);
    expect(review.body.parts.map((p: { jurisdiction: { code: string } | null }) => p.jurisdiction?.code)).toEqual(['lijiatang', 'huilongxu']);

    const res = await json(as('operator').post('/api/v1/hotline/calls', call(transcript, { parts })));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const [pigs, site] = [await processed(res.body.cases[0].id), await processed(res.body.cases[1].id)];
    expect(pigs.jurisdiction_code).toBe('lijiatang');
    expect(site.jurisdiction_code).toBe('huilongxu');
    expect(site.address).not.toBe('李家塘办事处');
    expect(await unitsOf(site.id)).not.toContain('lijiatang');
  });

  it('keeps a call with speech-recognition errors as said, and takes the operator\'s corrected text and type', async () => {
    // ASR turned 偷排 into 偷拍, 兴隆 into 星龙 and 废水 into 费水.
    const transcript = ['[00:00:01] 坐席：您好，请讲。', '[00:00:04] 来电人：星龙办事处那个电度厂天天晚上偷拍费水，沟里都黑了。'].join('\n');
    const base = call(transcript);

    const review = await json(as('operator').post('/api/v1/hotline/calls', { ...base, review: true }));
    expect(review.status, JSON.stringify(review.body)).toBe(200);
    expect(review.body.proposal.text).toBe('星龙办事处那个电度厂天天晚上偷拍费水，沟里都黑了。');
    expect(review.body.proposal.jurisdiction).toBeNull();

    const text = '兴隆办事处那个电镀厂天天晚上偷排废水，沟里都黑了。';
    const res = await json(as('operator').post('/api/v1/hotline/calls', { ...base, text, type: 'illegal_discharge', jurisdiction: 'xinglong' }));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const row = await processed(res.body.cases[0].id);
    expect(row.text).toBe(text);
    expect(row.status).toBe('dispatched');
    expect(row.type_code).toBe('illegal_discharge');
    expect(row.jurisdiction_code).toBe('xinglong');
    expect(row.place_source).toBe('operator');
    const view = await json(as('dispatcher').get(`/api/v1/cases/${row.id}`));
    expect(view.body.hotline.transcript).toBe(transcript);
  });

  it('holds the case text of a long call to the case text limit, with a note, and keeps the whole transcript with the call', async () => {
    const turns = ['[00:00:01] 坐席：您好，12369，请讲。', '[00:00:04] 来电人：我要举报兴隆办事处那个电镀厂晚上往沟里偷排废水。'];
    for (let i = 0; turns.join('\n').length < 95_000; i++) {
      turns.push(`[00:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}] 来电人：${'那个沟里的水一直是黑的，味道很大，附近的人都受不了。'.repeat(3)}第${i}句。`);
    }
    const transcript = turns.join('\n');
    const body = call(transcript);
    const review = await json(as('operator').post('/api/v1/hotline/calls', { ...body, review: true }));
    expect(review.status, JSON.stringify(review.body).slice(0, 500)).toBe(200);
    expect([...review.body.proposal.text].length).toBeLessThanOrEqual(MAX_CASE_TEXT_CHARS);

    const res = await json(as('operator').post('/api/v1/hotline/calls', body));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const row = await caseRow(res.body.cases[0].id);
    expect([...row.text].length).toBeLessThanOrEqual(MAX_CASE_TEXT_CHARS);
    expect([...row.text].length).toBeGreaterThan(MAX_CASE_TEXT_CHARS - 200);
    expect(row.text.startsWith('我要举报兴隆办事处那个电镀厂晚上往沟里偷排废水。\n')).toBe(true);
    expect(row.text).toMatch(/……（来电内容过长，以下 \d+ 字从略，完整内容见通话记录）$/);
    expect(row.text).not.toContain('坐席');
    const view = await json(as('operator').get(`/api/v1/cases/${row.id}`));
    expect(view.body.hotline.transcript).toBe(transcript);
    const received = await service.deps.db.selectFrom('case_events').select('data').where('case_id', '=', row.id).where('kind', '=', 'received').executeTakeFirstOrThrow();
    expect(JSON.parse(received.data!)).toMatchObject({ hotline: { textCutFrom: expect.any(Number) } });
    await processed(row.id);
  });

  it('splits a call that raises two problems into two cases linked to the call', async () => {
    const transcript = [
      '坐席：您好，12345热线。',
      '市民：我反映两个事。一个是回龙村的养猪场粪水直接排到水渠里。',
      '坐席：好的，第二个呢？',
      '市民：还有马鹿头那边工地半夜施工，噪音吵得睡不着。',
    ].join('\n');
    const body = {
      ...call(transcript),
      hotline: '12345',
      parts: [
        { text: '回龙村的养猪场粪水直接排到水渠里。', type: 'livestock_waste' },
        { text: '马鹿头那边工地半夜施工，噪音吵得睡不着。', type: 'noise', jurisdiction: 'maludou' },
      ],
    };
    const res = await json(as('operator').post('/api/v1/hotline/calls', body));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.cases.map((c: { part: number }) => c.part)).toEqual([1, 2]);
    const [first, second] = res.body.cases as Array<{ id: string }>;
    expect(first!.id).not.toBe(second!.id);

    const links = await service.deps.db.selectFrom('hotline_call_cases').selectAll().where('case_id', 'in', [first!.id, second!.id]).execute();
    expect(links).toHaveLength(2);
    expect(new Set(links.map((l) => l.hotline_call_id)).size).toBe(1);

    const a = await processed(first!.id);
    const b = await processed(second!.id);
    expect([a.channel, b.channel]).toEqual(['hotline12345', 'hotline12345']);
    expect([a.type_code, b.type_code]).toEqual(['livestock_waste', 'noise']);
    expect(await leadOf(a.id)).toBe('agri');
    expect(await leadOf(b.id)).toBe('epb');
    expect(await unitsOf(b.id)).toContain('maludou');

    const got = await json(as('operator').get(`/api/v1/hotline/calls/12345/${body.callId}`));
    expect(got.status, JSON.stringify(got.body)).toBe(200);
    expect(got.body.transcript).toBe(transcript);
    expect(got.body.cases.map((c: { id: string }) => c.id)).toEqual([first!.id, second!.id]);
    const view = await json(as('operator').get(`/api/v1/cases/${second!.id}`));
    expect(view.body.hotline.part).toBe(2);
    expect(view.body.hotline.cases).toHaveLength(2);

    // A type or a lead for the whole split call is refused by name: each part has its own.
    for (const [field, value] of [['type', 'noise'], ['lead', 'agri']] as const) {
      const before = await count('cases');
      const whole = await json(as('operator').post('/api/v1/hotline/calls', { ...body, callId: `${body.callId}-${field}`, [field]: value }));
      expect(whole.status, JSON.stringify(whole.body)).toBe(400);
      expect(whole.body.error.fields[field]).toBe(`with parts, give the ${field} of each part (parts.N.${field})`);
      expect(await count('cases')).toBe(before);
    }
  });

  it('protects an anonymous caller: the number only in the protected fields, masked or absent everywhere else', async () => {
    const number = '13877775678';
    const transcript = [
      '[00:00:01] 坐席：您好，12369环保举报热线。',
      '[00:00:03] 来电人：兴隆办事处盐下村那个电镀厂晚上偷排废水，',
      '沟里全是黑水。',
      '[00:00:20] 坐席：请问怎么称呼您？',
      '[00:00:22] 来电人：不要透露我的名字，他们知道了会找我麻烦。',
    ].join('\n');
    const res = await json(as('operator').post('/api/v1/hotline/calls', call(transcript, { callerNumber: number })));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(JSON.stringify(res.body)).not.toContain(number);
    const { id, trackingCode } = res.body.cases[0] as { id: string; trackingCode: string };
    const row = await processed(id);
    expect(row.anonymous).toBe(1);
    expect(row.status).toBe('dispatched');

    const db = service.deps.db;
    const contact = await db.selectFrom('case_contacts').selectAll().where('case_id', '=', id).executeTakeFirstOrThrow();
    expect(contact).toMatchObject({ phone: number, share_with_bureau: 0 });
    // Nowhere else in the case, its events, its jobs or its notifications.
    const events = await db.selectFrom('case_events').select('data').where('case_id', '=', id).execute();
    const notifications = await db.selectFrom('notifications').select('data').where('case_id', '=', id).execute();
    const outbox = await db.selectFrom('outbox').select('payload').execute();
    // Ids and tracking codes are random and may hold 7777 themselves: they are taken out before looking for the number's middle.
    const withoutIds = (text: string) => text.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, 'ID').replaceAll(trackingCode, 'CODE');
    for (const text of [JSON.stringify(row), JSON.stringify(events), JSON.stringify(notifications), JSON.stringify(outbox)]) {
      expect(text).not.toContain(number);
      expect(withoutIds(text)).not.toContain('7777');
    }
    const jobs = await jobPayloads();
    expect(jobs.length).toBeGreaterThan(0);
    expect(jobs.join('\n')).toContain(id);
    expect(withoutIds(jobs.join('\n'))).not.toContain('7777');

    // The public view names no one; the bureau sees the complaint, not the caller or the transcript.
    const track = await json(fetch(`${service.url}/api/v1/track/${trackingCode}`));
    expect(track.status).toBe(200);
    expect(track.body.anonymous).toBe(true);
    expect(withoutIds(JSON.stringify(track.body))).not.toContain('7777');
    const bureau = await json(as('epb').get(`/api/v1/cases/${id}`));
    expect(bureau.status, JSON.stringify(bureau.body)).toBe(200);
    expect(bureau.body.reporter).toBeNull();
    expect(bureau.body.hotline).toBeNull();
    expect(bureau.body.text).toBe('兴隆办事处盐下村那个电镀厂晚上偷排废水，沟里全是黑水。\n不要透露我的名字，他们知道了会找我麻烦。');
    expect(withoutIds(JSON.stringify(bureau.body))).not.toContain('7777');
    expect(JSON.stringify(bureau.body)).not.toContain('坐席');
    // Operators and dispatchers see the caller and the transcript.
    const staff = await json(as('dispatcher').get(`/api/v1/cases/${id}`));
    expect(staff.body.reporter).toEqual({ name: null, phone: number });
    expect(staff.body.hotline.transcript).toBe(transcript);
    // No log line carries the number.
    expect(logLines.length).toBeGreaterThan(0);
    expect(withoutIds(logLines.join(''))).not.toContain('7777');
  });

  it('makes a caller anonymous who gives a name and takes it back, or asks for confidentiality in other words', async () => {
    const transcripts = [
      ['坐席：您好，请讲。', '来电人：兴隆办事处那边厂子偷排废水。', '坐席：请问您贵姓？', '来电人：我叫王建国……算了，名字还是别写了。'],
      ['坐席：您好，请讲。', '来电人：兴隆办事处那边厂子偷排废水，这个事你们要保密啊。'],
      ['坐席：您好，请讲。', '来电人：兴隆办事处那边厂子偷排废水，我不想透露我的名字。'],
      // A heading the call-centre's export writes above the call.
      ['来电号码：139****0001', '是否匿名：是', '坐席：您好，请讲。', '来电人：兴隆办事处那边厂子偷排废水。'],
    ];
    for (const lines of transcripts) {
      const res = await json(as('operator').post('/api/v1/hotline/calls', call(lines.join('\n'))));
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      const row = await caseRow(res.body.cases[0].id);
      expect(row.anonymous, lines.at(-1)).toBe(1);
      const record = await json(as('operator').get(`/api/v1/hotline/calls/12369/${res.body.callId}`));
      expect(record.body.anonymous, lines.at(-1)).toBe(true);
      await processed(row.id);
    }
  });

  it('leaves a caller named whose export heading says no to anonymity', async () => {
    for (const lines of [
      ['是否匿名：否', '坐席：您好，请讲。', '来电人：兴隆办事处那边厂子偷排废水。'],
      ['是否保密：不需要', '坐席：您好，请讲。', '来电人：兴隆办事处那边厂子偷排废水。'],
    ]) {
      const res = await json(as('operator').post('/api/v1/hotline/calls', call(lines.join('\n'))));
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect((await caseRow(res.body.cases[0].id)).anonymous, lines.join(' / ')).toBe(0);
      await processed(res.body.cases[0].id);
    }
  });

  it('keeps the name a caller answers the operator with for staff, and masks it for bureaus and the public; an anonymous caller keeps none', async () => {
    const dialogue = [
      '坐席：您好，12369环保举报热线。',
      '来电人：兴隆办事处盐下村那个电镀厂晚上偷排废水，沟里全是黑水。',
      '坐席：请问您怎么称呼？',
      '来电人：端木问答。',
      '坐席：好的，端木先生，电话是这个号码吗？',
      '来电人：对，就是这个。',
    ];
    const res = await json(as('operator').post('/api/v1/hotline/calls', call(dialogue.join('\n'), { callerNumber: '13877770001' })));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const { id, trackingCode } = res.body.cases[0] as { id: string; trackingCode: string };
    const row = await processed(id);
    expect(row.anonymous).toBe(0);
    const contact = await service.deps.db.selectFrom('case_contacts').selectAll().where('case_id', '=', id).executeTakeFirstOrThrow();
    expect(contact).toMatchObject({ name: '端木问答', phone: '13877770001', share_with_bureau: 0 });
    expect((await json(as('dispatcher').get(`/api/v1/cases/${id}`))).body.reporter).toEqual({ name: '端木问答', phone: '13877770001' });
    // The bureau reads the complaint with the name masked, and no reporter.
    const bureau = await json(as('epb').get(`/api/v1/cases/${id}`));
    expect(bureau.status, JSON.stringify(bureau.body)).toBe(200);
    expect(bureau.body.reporter).toBeNull();
    expect(bureau.body.text).toContain('端***');
    expect(JSON.stringify(bureau.body)).not.toContain('端木问答');
    // A reply naming the caller reaches the public masked.
    expect((await as('epb').post(`/api/v1/cases/${id}/accept`, {})).status).toBe(200);
    expect((await as('epb').post(`/api/v1/cases/${id}/reply`, { text: '已联系端木问答核实，电镀厂已停产整改。' })).status).toBe(200);
    const track = await json(fetch(`${service.url}/api/v1/track/${trackingCode}`));
    expect(JSON.stringify(track.body)).not.toContain('端木问答');
    expect(track.body.reply.text).toContain('端***');

    // Asked not to be named after all: no name kept, and the case's words lose it.
    const anonymous = await json(
      as('operator').post('/api/v1/hotline/calls', call([...dialogue.slice(0, 4), '坐席：需要为您保密吗？', '来电人：要的，要保密。'].join('\n'), { callerNumber: '13877770002' })),
    );
    expect(anonymous.status, JSON.stringify(anonymous.body)).toBe(201);
    const hidden = await processed(anonymous.body.cases[0].id);
    expect(hidden.anonymous).toBe(1);
    expect(hidden.text).not.toContain('端木问答');
    const kept = await service.deps.db.selectFrom('case_contacts').selectAll().where('case_id', '=', hidden.id).executeTakeFirstOrThrow();
    expect(kept).toMatchObject({ name: null, phone: '13877770002' });

    // The operator's corrected type is kept as labelled data with the words as the case keeps them, without the name.
    const corrected = await json(
      as('operator').post(
        '/api/v1/hotline/calls',
        call([...dialogue.slice(0, 4), '坐席：需要为您保密吗？', '来电人：要的，要保密。'].join('\n'), { callerNumber: '13877770003', type: 'hazardous_waste' }),
      ),
    );
    expect(corrected.status, JSON.stringify(corrected.body)).toBe(201);
    const correctedId = corrected.body.cases[0].id as string;
    await processed(correctedId);
    const labelled = await service.deps.db.selectFrom('classifier_corrections').select(['text', 'label']).where('case_id', '=', correctedId).execute();
    expect(labelled).toHaveLength(1);
    expect(labelled[0]!.label).toBe('hazardous_waste');
    expect(labelled[0]!.text).toContain('电镀厂');
    expect(labelled[0]!.text).not.toContain('端木问答');
  });

  it('keeps the name a heading above the call gives with the caller\'s label (来电人：李秀兰), and masks it for bureaus', async () => {
    const transcript = ['来电人：诸葛秀兰', '坐席：您好，12369环保举报热线，请讲。', '来电人：兴隆办事处盐下村那个电镀厂晚上偷排废水。'].join('\n');
    const res = await json(as('operator').post('/api/v1/hotline/calls', call(transcript)));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const id = res.body.cases[0].id as string;
    await processed(id);
    expect((await json(as('dispatcher').get(`/api/v1/cases/${id}`))).body.reporter).toEqual({ name: '诸葛秀兰', phone: '13912340001' });
    const bureau = await json(as('epb').get(`/api/v1/cases/${id}`));
    expect(bureau.status, JSON.stringify(bureau.body)).toBe(200);
    expect(bureau.body.text).toContain('电镀厂');
    expect(JSON.stringify(bureau.body)).not.toContain('诸葛秀兰');
  });

  it('keeps the name of a caller who answers with the surname first (姓李，李四), and masks it for bureaus', async () => {
    for (const [answer, name] of [
      ['姓李，李四。', '李四'],
      ['免贵姓欧阳，叫欧阳明。', '欧阳明'],
    ] as const) {
      const transcript = ['坐席：您好，12369环保举报热线。', '来电人：兴隆办事处盐下村那个电镀厂晚上偷排废水。', '坐席：请问您怎么称呼？', `来电人：${answer}`].join('\n');
      const res = await json(as('operator').post('/api/v1/hotline/calls', call(transcript)));
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      const id = res.body.cases[0].id as string;
      await processed(id);
      expect((await json(as('dispatcher').get(`/api/v1/cases/${id}`))).body.reporter).toEqual({ name, phone: '13912340001' });
      const bureau = await json(as('epb').get(`/api/v1/cases/${id}`));
      expect(bureau.status, JSON.stringify(bureau.body)).toBe(200);
      expect(bureau.body.text).toContain('兴隆办事处盐下村');
      expect(JSON.stringify(bureau.body), answer).not.toContain(name);
    }
  });

  it('keeps the name a speech-recognition transcript gives without commas (姓李叫李四, 我姓陈陈建华, 叫李四, 李四 木子李), and masks it in the caller\'s unpunctuated words for bureaus', async () => {
    for (const [answer, name] of [
      ['姓李叫李四', '李四'],
      ['我姓陈陈建华', '陈建华'],
      ['叫欧阳明', '欧阳明'],
      ['司马青云 司马光的司马 青云直上的青云', '司马青云'],
    ] as const) {
      const transcript = [
        '说话人1：您好12369环保举报热线请讲',
        `说话人2：喂你好我是盐下村的${name}我要举报那个电镀厂晚上偷排废水`,
        '说话人1：请问您怎么称呼',
        `说话人2：${answer}`,
      ].join('\n');
      const res = await json(as('operator').post('/api/v1/hotline/calls', call(transcript)));
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      const id = res.body.cases[0].id as string;
      await processed(id);
      expect((await json(as('dispatcher').get(`/api/v1/cases/${id}`))).body.reporter, answer).toEqual({ name, phone: '13912340001' });
      const bureau = await json(as('epb').get(`/api/v1/cases/${id}`));
      expect(bureau.status, JSON.stringify(bureau.body)).toBe(200);
      expect(bureau.body.text).toContain('电镀厂晚上偷排废水');
      expect(JSON.stringify(bureau.body), answer).not.toContain(name);
    }
  });

  it('takes out of an anonymous caller\'s words the name given without commas (我姓陈陈建华), for everyone', async () => {
    const transcript = [
      '说话人1：您好12369环保举报热线请讲',
      '说话人2：喂你好我想反映一下我们盐下村那边有个电镀厂天天晚上往河里排废水那个水都是绿的鱼都死了好多',
      '说话人1：请问您怎么称呼',
      '说话人2：我姓陈陈建华',
      '说话人1：陈先生需要为您保密吗',
      '说话人2：要的要的',
    ].join('\n');
    // The operator's type, so the case reaches its bureau whatever the rules make of the unpunctuated words.
    const res = await json(as('operator').post('/api/v1/hotline/calls', call(transcript, { type: 'illegal_discharge' })));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const row = await processed(res.body.cases[0].id as string);
    expect(row.anonymous).toBe(1);
    expect(row.text).toContain('电镀厂天天晚上往河里排废水');
    expect(row.text).not.toContain('陈建华');
    const bureau = await json(as('epb').get(`/api/v1/cases/${row.id}`));
    expect(bureau.status, JSON.stringify(bureau.body)).toBe(200);
    expect(JSON.stringify(bureau.body)).not.toContain('陈建华');
  });

  it('masks for bureaus the name a caller gives in unpunctuated speech-recognition words without being asked; an anonymous caller\'s case keeps none', async () => {
    for (const anonymous of [false, true]) {
      const transcript = [
        '说话人1：您好12369环保举报热线请讲',
        '说话人2：喂你好我是盐下村的钱德旺我要举报那个电镀厂天天晚上往河里偷排废水',
        ...(anonymous ? ['说话人1：需要为您保密吗', '说话人2：要的要的'] : []),
      ].join('\n');
      const res = await json(as('operator').post('/api/v1/hotline/calls', call(transcript, { type: 'illegal_discharge' })));
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      const row = await processed(res.body.cases[0].id as string);
      expect(row.anonymous).toBe(anonymous ? 1 : 0);
      // An anonymous caller's case keeps their words as bureaus read them, as an anonymous web report's; the transcript keeps what was said.
      if (anonymous) expect(row.text).toContain('我是盐下村的**我要举报');
      const bureau = await json(as('epb').get(`/api/v1/cases/${row.id}`));
      expect(bureau.status, JSON.stringify(bureau.body)).toBe(200);
      expect(bureau.body.text).toContain('我要举报那个电镀厂');
      expect(JSON.stringify(bureau.body), String(anonymous)).not.toContain('钱德旺');
    }
  });

  it('reads a call typed up as 问：… 答：… with the answers as the caller\'s: the name answered is masked for bureaus, confidentiality asked for makes it anonymous', async () => {
    const lines = ['问：您好，12369环保举报热线，请讲。', '答：兴隆办事处盐下村那个电镀厂晚上偷排废水。', '问：请问您贵姓？', '答：上官青云。'];
    const named = await json(as('operator').post('/api/v1/hotline/calls', call(lines.join('\n'))));
    expect(named.status, JSON.stringify(named.body)).toBe(201);
    const row = await processed(named.body.cases[0].id as string);
    expect(row.text).toBe('兴隆办事处盐下村那个电镀厂晚上偷排废水。\n上官青云。');
    expect((await json(as('dispatcher').get(`/api/v1/cases/${row.id}`))).body.reporter).toEqual({ name: '上官青云', phone: '13912340001' });
    const bureau = await json(as('epb').get(`/api/v1/cases/${row.id}`));
    expect(bureau.status, JSON.stringify(bureau.body)).toBe(200);
    expect(JSON.stringify(bureau.body)).not.toContain('上官青云');
    expect(JSON.stringify(bureau.body)).not.toContain('请问您贵姓');

    const asked = await json(as('operator').post('/api/v1/hotline/calls', call([...lines.slice(0, 2), '问：需要为您保密吗？', '答：要的。'].join('\n'))));
    expect(asked.status, JSON.stringify(asked.body)).toBe(201);
    expect((await processed(asked.body.cases[0].id as string)).anonymous).toBe(1);
  });

  // Also as operators ask for short or colloquially, often after the caller gave the surname alone.
  it.each(['您的姓名是？', '请问您是哪位？', '麻烦说一下您的名字。', '请问全名是？', '司马先生，能留个全名吗？', '你叫啥名字？', '您大名是？', '请问您是哪一位？'])(
    'reads the operator\'s "%s" as the question for the name: the name answered is masked for bureaus, a refusal makes the caller anonymous',
    async (question) => {
      const complaint = '来电人：兴隆办事处盐下村那个电镀厂晚上偷排废水。';
      const named = await json(as('operator').post('/api/v1/hotline/calls', call(['坐席：您好，12369环保举报热线。', complaint, `坐席：${question}`, '来电人：司马青云。'].join('\n'))));
      expect(named.status, JSON.stringify(named.body)).toBe(201);
      const id = named.body.cases[0].id as string;
      await processed(id);
      expect((await json(as('dispatcher').get(`/api/v1/cases/${id}`))).body.reporter).toEqual({ name: '司马青云', phone: '13912340001' });
      const bureau = await json(as('epb').get(`/api/v1/cases/${id}`));
      expect(bureau.status, JSON.stringify(bureau.body)).toBe(200);
      expect(JSON.stringify(bureau.body)).not.toContain('司马青云');

      const refused = await json(as('operator').post('/api/v1/hotline/calls', call(['坐席：您好，12369环保举报热线。', complaint, `坐席：${question}`, '来电人：不太方便说。'].join('\n'))));
      expect(refused.status, JSON.stringify(refused.body)).toBe(201);
      expect((await caseRow(refused.body.cases[0].id)).anonymous).toBe(1);
      await processed(refused.body.cases[0].id);
    },
  );

  it('takes a caller number the hotline system already masked, and keeps it as it came', async () => {
    for (const [given, kept] of [
      ['138****5678', '138****5678'],
      ['+86 138 **** 5678', '+86138****5678'],
      ['0731-xxxx-1234', '0731****1234'],
    ] as const) {
      const review = await json(as('operator').post('/api/v1/hotline/calls', call('坐席：请讲。\n来电人：兴隆办事处那边厂子偷排废水。', { callerNumber: given, review: true })));
      expect(review.status, JSON.stringify(review.body)).toBe(200);
      expect(review.body.callerNumber).toBe(kept);
      const res = await json(as('operator').post('/api/v1/hotline/calls', call('坐席：请讲。\n来电人：兴隆办事处那边厂子偷排废水。', { callerNumber: given })));
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      const id = res.body.cases[0].id as string;
      const contact = await service.deps.db.selectFrom('case_contacts').selectAll().where('case_id', '=', id).executeTakeFirstOrThrow();
      expect(contact).toMatchObject({ phone: kept, share_with_bureau: 0 });
      const record = await json(as('dispatcher').get(`/api/v1/hotline/calls/12369/${res.body.callId}`));
      expect(record.body.callerNumber).toBe(kept);
      await processed(id);
    }
    // A mask that leaves the number readable, or no digits at all, is still refused.
    for (const callerNumber of ['1381234****5678', '*******']) {
      const res = await json(as('operator').post('/api/v1/hotline/calls', call('坐席：请讲。\n来电人：兴隆办事处那边厂子偷排废水。', { callerNumber })));
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(Object.keys(res.body.error.fields)).toEqual(['callerNumber']);
    }
  });

  it('takes a caller number with an extension: kept with it for a callback, masked as the main number everywhere else, never logged', async () => {
    const transcript = '坐席：请讲。\n来电人：兴隆办事处那边厂子偷排废水。';
    for (const [given, kept, masked] of [
      ['0731-84446666转123', '073184446666转123', '0731****6666'],
      ['84446667-123', '84446667转123', '****6667'],
      ['0731-84446668 ext. 123', '073184446668转123', '0731****6668'],
      ['(0731)84446669 分机 8023', '073184446669转8023', '0731****6669'],
    ] as const) {
      const body = call(transcript, { callerNumber: given });
      const review = await json(as('operator').post('/api/v1/hotline/calls', { ...body, review: true }));
      expect(review.status, JSON.stringify(review.body)).toBe(200);
      expect(review.body.callerNumber).toBe(masked);
      const res = await json(as('operator').post('/api/v1/hotline/calls', body));
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      const { id, trackingCode } = res.body.cases[0] as { id: string; trackingCode: string };
      // Operators and dispatchers read the number with its extension, to call back.
      const contact = await service.deps.db.selectFrom('case_contacts').selectAll().where('case_id', '=', id).executeTakeFirstOrThrow();
      expect(contact).toMatchObject({ phone: kept, share_with_bureau: 0 });
      expect((await json(as('dispatcher').get(`/api/v1/hotline/calls/12369/${body.callId}`))).body.callerNumber).toBe(kept);
      expect((await json(as('operator').get(`/api/v1/cases/${id}`))).body.reporter).toEqual({ name: null, phone: kept });
      // The same call sent again without the extension, or with it written another way, is the same call.
      const plain = await json(as('operator').post('/api/v1/hotline/calls', { ...body, callerNumber: given.replace(/\s*(?:转|-|ext\.|分机)\s*\d+$/, '') }));
      expect(plain.status, JSON.stringify(plain.body)).toBe(200);
      expect(plain.body.result).toBe('duplicate');
      const row = await processed(id);
      // Nowhere else: the bureau, the public view, the jobs and the logs carry neither the number nor its middle digits.
      const withoutIds = (text: string) => text.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, 'ID').replaceAll(trackingCode, 'CODE');
      const bureau = await json(as('xinglong').get(`/api/v1/cases/${row.id}`));
      expect(bureau.status, JSON.stringify(bureau.body)).toBe(200);
      expect(bureau.body.reporter).toBeNull();
      const track = await json(fetch(`${service.url}/api/v1/track/${trackingCode}`));
      for (const text of [JSON.stringify(bureau.body), JSON.stringify(track.body), (await jobPayloads()).join('\n'), logLines.join('')]) {
        expect(withoutIds(text)).not.toContain('8444');
      }
    }
    // An extension that is not digits is refused like any bad number.
    for (const callerNumber of ['0731-84446666转abc', '0731-84446666转1234567', '转123']) {
      const res = await json(as('operator').post('/api/v1/hotline/calls', call(transcript, { callerNumber })));
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(Object.keys(res.body.error.fields)).toEqual(['callerNumber']);
      expect(JSON.stringify(res.body)).not.toContain('84446666');
    }
    expect(logLines.join('')).not.toContain('84446666');
  });

  it('makes a caller anonymous when the operator says so, and masks the number for bureaus', async () => {
    const number = '13566661234';
    const res = await json(
      as('operator').post('/api/v1/hotline/calls', call('坐席：请讲。\n来电人：兴隆办事处那边厂子偷排废水。我电话13566661234', { callerNumber: number, anonymous: true })),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const row = await processed(res.body.cases[0].id);
    expect(row.anonymous).toBe(1);
    const bureau = await json(as('xinglong').get(`/api/v1/cases/${row.id}`));
    expect(bureau.status, JSON.stringify(bureau.body)).toBe(200);
    expect(bureau.body.text).toContain('135****1234');
    expect(JSON.stringify(bureau.body)).not.toContain(number);
  });

  it('answers the same call again with the existing case and never creates a second one', async () => {
    const body = call(VARIANTS[1]![1], { hotline: '12345' });
    const first = await json(as('operator').post('/api/v1/hotline/calls', body));
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const before = await count('cases');
    // A resend from another system may use CRLF line endings: still the same transcript.
    const again = await json(as('dispatcher').post('/api/v1/hotline/calls', { ...body, transcript: body.transcript.replace(/\n/g, '\r\n') }));
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body.result).toBe('duplicate');
    expect(again.body.cases.map((c: { id: string }) => c.id)).toEqual(first.body.cases.map((c: { id: string }) => c.id));
    expect(again.body.ignored).toBeUndefined();
    expect(await count('cases')).toBe(before);
    // Corrections sent with a call already on record are not applied, and the answer says so.
    const corrected = await json(as('operator').post('/api/v1/hotline/calls', { ...body, anonymous: true, type: 'noise' }));
    expect(corrected.status, JSON.stringify(corrected.body)).toBe(200);
    expect(corrected.body).toMatchObject({ result: 'duplicate', ignored: ['type', 'anonymous'] });
    expect(await count('cases')).toBe(before);

    // The same call id on the other hotline is another call.
    const other = await json(as('operator').post('/api/v1/hotline/calls', { ...body, hotline: '12369' }));
    expect(other.status, JSON.stringify(other.body)).toBe(201);
  });

  it('refuses a different transcript under a known callId with 409', async () => {
    const body = call(VARIANTS[2]![1]);
    expect((await as('operator').post('/api/v1/hotline/calls', body)).status).toBe(201);
    const before = await count('cases');
    const res = await json(as('operator').post('/api/v1/hotline/calls', { ...body, transcript: `${body.transcript}\n群众：还有一件事。` }));
    expect(res.status, JSON.stringify(res.body)).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'conflict', fields: { callId: expect.any(String) } });
    expect(await count('cases')).toBe(before);
  });

  it('takes a call sent again with the seconds of its start dropped, as a spreadsheet saves an export, as the same call; another minute or transcript is still a 409', async () => {
    const body = call('坐席：您好，12369环保举报热线，请讲。\n来电人：盐下村三组后面的水沟在冒黑水，味道很冲。', { callId: nextCallId('XLS'), startedAt: '2026-11-02T09:15:37+08:00' });
    expect((await as('operator').post('/api/v1/hotline/calls', body)).status).toBe(201);
    const before = await count('cases');
    for (const startedAt of ['2026-11-02 09:15:00', '2026/11/2 9:15', '2026-11-02T01:15:00Z']) {
      const again = await json(as('operator').post('/api/v1/hotline/calls', { ...body, startedAt }));
      expect(again.status, `${startedAt}: ${JSON.stringify(again.body)}`).toBe(200);
      expect(again.body.result, startedAt).toBe('duplicate');
    }
    // The next minute is another call's start, and so is another call's words in the same minute.
    const later = await json(as('operator').post('/api/v1/hotline/calls', { ...body, startedAt: '2026-11-02 09:16:00' }));
    expect(later.status, JSON.stringify(later.body)).toBe(409);
    expect(later.body.error.fields).toMatchObject({ callId: 'already received with a different startedAt' });
    const other = await json(as('operator').post('/api/v1/hotline/calls', { ...body, startedAt: '2026-11-02 09:15:00', transcript: '坐席：您好，请讲。\n来电人：喂？' }));
    expect(other.status, JSON.stringify(other.body)).toBe(409);
    expect(other.body.error.fields).toMatchObject({ callId: 'already received with a different transcript, startedAt' });
    expect(await count('cases')).toBe(before);
  });

  it("takes a call sent again with its landline number's leading 0 dropped, as a spreadsheet saves the column, as the same call", async () => {
    const body = call('坐席：您好，12369环保举报热线，请讲。\n来电人：李家塘那边的砖厂天天冒黑烟。', { callId: nextCallId('LAND'), callerNumber: '0746-8888660' });
    expect((await as('operator').post('/api/v1/hotline/calls', body)).status).toBe(201);
    const before = await count('cases');
    const again = await json(as('operator').post('/api/v1/hotline/calls', { ...body, callerNumber: '7468888660' }));
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body.result).toBe('duplicate');
    // Other digits are another caller.
    const other = await json(as('operator').post('/api/v1/hotline/calls', { ...body, callerNumber: '7468888661' }));
    expect(other.status, JSON.stringify(other.body)).toBe(409);
    expect(other.body.error.fields).toMatchObject({ callId: 'already received with a different callerNumber' });
    expect(await count('cases')).toBe(before);
  });

  it('takes a call sent again with the leading zeros of its call id dropped, as a spreadsheet saves the column, as the same call; another call under such an id is a call of its own', async () => {
    const digits = String(Date.now()).slice(-6);
    const body = call('坐席：您好，12369环保举报热线，请讲。\n来电人：回峰国有林场边上有人烧废轮胎，黑烟很大。', { callId: `000${digits}`, startedAt: '2026-11-02T09:20:05+08:00' });
    expect((await as('operator').post('/api/v1/hotline/calls', body)).status).toBe(201);
    const before = await count('cases');
    // As Excel saves it: the id as a number, the start without its seconds.
    // The review says so before the operator submits.
    const review = await json(as('operator').post('/api/v1/hotline/calls', { ...body, callId: digits, startedAt: '2026/11/2 9:20', review: true }));
    expect(review.body.existing).toMatchObject({ sameTranscript: true, differs: [], cases: [expect.objectContaining({ part: 1 })] });
    const again = await json(as('operator').post('/api/v1/hotline/calls', { ...body, callId: digits, startedAt: '2026/11/2 9:20' }));
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body.result).toBe('duplicate');
    expect(await count('cases')).toBe(before);
    // The other way round: the file imported first was the one a spreadsheet saved.
    const saved = call('坐席：您好，请讲。\n来电人：八字桥社区的垃圾站天天在烧垃圾。', { callId: `7${digits}` });
    expect((await as('operator').post('/api/v1/hotline/calls', saved)).status).toBe(201);
    const original = await json(as('operator').post('/api/v1/hotline/calls', { ...saved, callId: `007${digits}` }));
    expect(original.status, JSON.stringify(original.body)).toBe(200);
    expect(original.body.result).toBe('duplicate');
    // A call of its own under such an id (another caller's words) is made, as any new id's is.
    const other = await json(as('operator').post('/api/v1/hotline/calls', { ...body, callId: digits, transcript: '坐席：您好，请讲。\n来电人：李家塘办事处的砖厂半夜噪声很大。' }));
    expect(other.status, JSON.stringify(other.body)).toBe(201);
    expect(await count('cases')).toBe(before + 2);
  });

  it('refuses another call under a known callId with 409 naming what differs, even with the same transcript', async () => {
    // Two hang-up calls read the same; a switch that numbers calls per day sends the second under the first one's id.
    const body = call('坐席：您好，请讲。\n来电人：喂？兴隆办事处那边厂子又在排黑水。', { callId: nextCallId('DAY') });
    expect((await as('operator').post('/api/v1/hotline/calls', body)).status).toBe(201);
    const before = await count('cases');
    const later = await json(as('operator').post('/api/v1/hotline/calls', { ...body, startedAt: '2026-11-03T09:40:00+08:00' }));
    expect(later.status, JSON.stringify(later.body)).toBe(409);
    expect(later.body.error).toMatchObject({ code: 'conflict', fields: { callId: 'already received with a different startedAt', startedAt: expect.any(String) } });
    const other = await json(as('operator').post('/api/v1/hotline/calls', { ...body, callerNumber: '13912340002' }));
    expect(other.status, JSON.stringify(other.body)).toBe(409);
    expect(other.body.error.fields).toMatchObject({ callId: 'already received with a different callerNumber', callerNumber: expect.any(String) });
    expect(JSON.stringify(other.body)).not.toContain('13912340002');
    // The review says so before the operator submits.
    const review = await json(as('operator').post('/api/v1/hotline/calls', { ...body, callerNumber: '13912340002', review: true }));
    expect(review.body.existing).toMatchObject({ sameTranscript: true, differs: ['callerNumber'] });
    expect(await count('cases')).toBe(before);
    // The same instant written in another zone, and the number written another way, are the same call.
    const same = await json(as('operator').post('/api/v1/hotline/calls', { ...body, startedAt: '2026-11-02T01:40:00Z', callerNumber: '139 1234 0001' }));
    expect(same.status, JSON.stringify(same.body)).toBe(200);
    expect(same.body.result).toBe('duplicate');
    expect(await count('cases')).toBe(before);
  });

  it('refuses a start time in a time zone that does not exist with 400 naming startedAt, creating nothing', async () => {
    const before = await count('hotline_calls');
    for (const startedAt of ['2026-11-02T09:40:00+15:00', '2026-11-02T09:40:00-13:00', '2026-11-02 09:40:00+15:00', '2026-11-02T09:40:00+1500', '2026-11-02T09:40:00-1300']) {
      const res = await json(as('operator').post('/api/v1/hotline/calls', call('坐席：请讲。\n来电人：兴隆办事处那边厂子偷排废水。', { startedAt })));
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.error.fields).toEqual({ startedAt: 'must have a UTC offset between -12:00 and +14:00' });
    }
    // The extremes that exist (Kiribati, Baker Island) are taken.
    for (const startedAt of ['2026-11-02T15:40:00+14:00', '2026-11-01T13:40:00-12:00']) {
      const res = await json(as('operator').post('/api/v1/hotline/calls', call('坐席：请讲。\n来电人：兴隆办事处那边厂子偷排废水。', { startedAt })));
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      await processed(res.body.cases[0].id);
    }
    expect(await count('hotline_calls')).toBe(before + 2);
  });

  it('reads a start without a UTC offset on the district\'s clock (the district file\'s time zone), as hotline systems in China export it', async () => {
    const transcript = '坐席：请讲。\n来电人：兴隆办事处那边厂子偷排废水。';
    for (const startedAt of ['2026-11-02 09:40:00', '2026-11-02T09:40:00', '2026-11-02T09:40']) {
      const body = call(transcript, { startedAt });
      const review = await json(as('operator').post('/api/v1/hotline/calls', { ...body, review: true }));
      expect(review.status, JSON.stringify(review.body)).toBe(200);
      const res = await json(as('operator').post('/api/v1/hotline/calls', body));
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      const record = await json(as('operator').get(`/api/v1/hotline/calls/12369/${body.callId}`));
      expect(record.body.startedAt).toBe('2026-11-02T01:40:00.000Z');
      expect((await caseRow(res.body.cases[0].id)).received_at).toBe('2026-11-02T01:40:00.000Z');
      // The same call sent again with the offset written out is the same call.
      const again = await json(as('operator').post('/api/v1/hotline/calls', { ...body, startedAt: '2026-11-02T09:40:00+08:00' }));
      expect(again.status, JSON.stringify(again.body)).toBe(200);
      expect(again.body.result).toBe('duplicate');
      await processed(res.body.cases[0].id);
    }
    // The zone is the district file's, not a fixed +08:00.
    const district = loadDistrictFile();
    const tokyo = { ...district, file: { ...district.file, district: { ...district.file.district, timezone: 'Asia/Tokyo' } } };
    const input = { hotline: '12369', callId: 'X', startedAt: '2026-11-02T09:40:00', transcript } as const;
    expect(withDistrictTime(tokyo, input).startedAt).toBe('2026-11-02T09:40:00+09:00');
    expect(withDistrictTime(district, input).startedAt).toBe('2026-11-02T09:40:00+08:00');
    expect(withDistrictTime(tokyo, { ...input, startedAt: '2026-11-02T09:40:00Z' }).startedAt).toBe('2026-11-02T09:40:00Z');
    // A local start an hour ahead of the clock is in the future, as with an offset.
    const ahead = await json(as('operator').post('/api/v1/hotline/calls', call(transcript, { startedAt: '2026-11-02 11:00:00' })));
    expect(ahead.status, JSON.stringify(ahead.body)).toBe(400);
    expect(ahead.body.error.fields).toEqual({ startedAt: 'must not be in the future' });
  });

  it('takes a start whose offset is written without its colon (+0800, -0530), that is to the minute, or with a lower-case t or z (RFC 3339), as the same instant', async () => {
    const transcript = '坐席：请讲。\n来电人：兴隆办事处那边厂子偷排废水。';
    for (const [startedAt, instant] of [
      ['2026-11-02T09:40:00+0800', '2026-11-02T01:40:00.000Z'],
      ['2026-11-02 09:40:00+0800', '2026-11-02T01:40:00.000Z'],
      ['2026-11-01T20:10:00.5-0530', '2026-11-02T01:40:00.500Z'],
      // To the minute, with an offset.
      ['2026-11-02T09:40+0800', '2026-11-02T01:40:00.000Z'],
      ['2026-11-02 09:40+08:00', '2026-11-02T01:40:00.000Z'],
      // T and Z in lower case, as RFC 3339 allows.
      ['2026-11-02t09:40:00+0800', '2026-11-02T01:40:00.000Z'],
      ['2026-11-02t01:40:00z', '2026-11-02T01:40:00.000Z'],
      ['2026-11-02 01:40z', '2026-11-02T01:40:00.000Z'],
    ] as const) {
      const body = call(transcript, { startedAt });
      const res = await json(as('operator').post('/api/v1/hotline/calls', body));
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      const record = await json(as('operator').get(`/api/v1/hotline/calls/12369/${body.callId}`));
      expect(record.body.startedAt).toBe(instant);
      // The same call with the colon written is the same call.
      const again = await json(as('operator').post('/api/v1/hotline/calls', { ...body, startedAt: startedAt.replace(/(\d{2})(\d{2})$/, '$1:$2') }));
      expect(again.status, JSON.stringify(again.body)).toBe(200);
      expect(again.body.result).toBe('duplicate');
      await processed(res.body.cases[0].id);
    }
  });

  it('creates the call only once when the same call arrives twice at the same moment', async () => {
    const body = call(VARIANTS[0]![1]);
    const before = await count('cases');
    const [a, b] = await Promise.all([json(as('operator').post('/api/v1/hotline/calls', body)), json(as('operator').post('/api/v1/hotline/calls', body))]);
    expect([a.status, b.status].sort()).toEqual([200, 201]);
    expect(a.body.cases[0].id).toBe(b.body.cases[0].id);
    expect(await count('cases')).toBe(before + 1);
  });

  it('accepts a text/plain transcript with the metadata in query parameters', async () => {
    const callId = nextCallId('P');
    const transcript = '坐席：您好。\n来电人：李家塘办事处有个小作坊把废机油倒在荒地里。\n来电人：别说是我打的电话。';
    const query = new URLSearchParams({ hotline: '12369', callId, startedAt: '2026-11-02T08:15:00+08:00', callerNumber: '13700001111', operator: '坐席小陈', summary: '废机油倾倒' });
    const res = await json(
      fetch(`${service.url}/api/v1/hotline/calls?${query}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.operator}`, 'content-type': 'text/plain; charset=utf-8' },
        body: transcript,
      }),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const stored = await service.deps.db.selectFrom('hotline_calls').selectAll().where('call_id', '=', callId).executeTakeFirstOrThrow();
    expect(stored).toMatchObject({ hotline: '12369', operator: '坐席小陈', summary: '废机油倾倒', transcript, caller_number: '13700001111', anonymous: 1 });
    expect(stored.started_at).toBe('2026-11-02T00:15:00.000Z');
    const row = await caseRow(res.body.cases[0].id);
    expect(row.text).toBe('李家塘办事处有个小作坊把废机油倒在荒地里。\n别说是我打的电话。');

    const bad = await json(
      fetch(`${service.url}/api/v1/hotline/calls?hotline=12369&startedAt=2026-11-02T08:15:00%2B08:00`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.operator}`, 'content-type': 'text/plain' },
        body: transcript,
      }),
    );
    expect(bad.status, JSON.stringify(bad.body)).toBe(400);
    expect(bad.body.error.fields).toEqual({ callId: 'required' });

    // A value percent-encoded in GBK (坐席 as %D7%F8%CF%AF) is not UTF-8: a 400 naming it, as such bytes in the body are.
    const gbkCallId = nextCallId('P');
    const gbk = await json(
      fetch(`${service.url}/api/v1/hotline/calls?hotline=12369&callId=${gbkCallId}&startedAt=2026-11-02T08:15:00%2B08:00&operator=%D7%F8%CF%AF`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.operator}`, 'content-type': 'text/plain' },
        body: transcript,
      }),
    );
    expect(gbk.status, JSON.stringify(gbk.body)).toBe(400);
    expect(gbk.body.error).toMatchObject({ message: 'invalid operator', fields: { operator: 'must be UTF-8 text (found bytes that are not)' } });
    expect(await service.deps.db.selectFrom('hotline_calls').select('call_id').where('call_id', '=', gbkCallId).execute()).toEqual([]);
  });
});

describe('operator review', () => {
  it('returns the extraction and the proposal without creating anything', async () => {
    const transcript = [
      '[00:00:01] 坐席：您好，12369环保举报热线。',
      '[00:00:04] 来电人：回龙圩镇朱家观村后山有人偷倒危险废物，好多化工桶，',
      '现在还在倒，味道刺鼻，小学就在旁边。',
      '[00:00:30] 来电人：昨晚十点多开始的。请保密，我就是附近村民。',
    ].join('\n');
    const before = { cases: await count('cases'), calls: await count('hotline_calls'), corrections: await count('classifier_corrections') };
    const body = call(transcript, { review: true });
    const res = await json(as('operator').post('/api/v1/hotline/calls', body));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ review: true, hotline: '12369', callId: body.callId, existing: null, callerNumber: '139****0001' });
    const p = res.body.proposal;
    expect(p.type).toMatchObject({ code: 'hazardous_waste', name: '危险废物非法处置', confidence: expect.any(Number) });
    expect(p.runnerUp).toMatchObject({ code: expect.any(String), confidence: expect.any(Number) });
    expect(p.lead).toEqual({ code: 'epb', name: '区环保局' });
    expect(p.coHandlers).toEqual([{ code: 'police', name: '区派出所' }]);
    expect(p.jurisdiction).toMatchObject({ code: 'huilongxu', name: '回龙圩镇' });
    expect(p.place).toContain('朱家观村');
    expect(p.urgent).toBe(true);
    expect(p.urgencyReasons).toEqual(expect.arrayContaining(['type:hazardous_waste', '小学']));
    expect(p.anonymous).toBe(true);
    expect(p.anonymityPhrase).toBe('请保密');
    expect(p.incidentTime).toMatchObject({ phrase: '昨晚十点多', approximate: true });
    expect(p.evidence.length).toBeGreaterThan(0);
    expect(p.text).not.toContain('坐席');
    expect(res.body.transcript.lines.map((l: { speaker: string }) => l.speaker)).toEqual(['operator', 'caller', 'caller']);
    expect({ cases: await count('cases'), calls: await count('hotline_calls'), corrections: await count('classifier_corrections') }).toEqual(before);
  });

  it('records a corrected type as labelled data and routes the case with it', async () => {
    // The rules read 烧 + 垃圾 as garbage; the operator heard a plant burning waste oil.
    const transcript = '坐席：请讲。\n来电人：兴隆办事处有个厂子天天在后院烧废机油桶和垃圾，味道很大。';
    const base = call(transcript);
    const review = await json(as('operator').post('/api/v1/hotline/calls', { ...base, review: true }));
    expect(review.status, JSON.stringify(review.body)).toBe(200);
    const proposed = review.body.proposal.type.code as string;
    expect(proposed).not.toBe('air_pollution');

    const corrections = await count('classifier_corrections');
    const res = await json(as('operator').post('/api/v1/hotline/calls', { ...base, type: 'air_pollution', urgent: true }));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const id = res.body.cases[0].id as string;
    expect(await count('classifier_corrections')).toBe(corrections + 1);
    const correction = await service.deps.db.selectFrom('classifier_corrections').selectAll().where('case_id', '=', id).executeTakeFirstOrThrow();
    expect(correction).toMatchObject({ label: 'air_pollution', predicted: proposed, source: 'operator', text: '兴隆办事处有个厂子天天在后院烧废机油桶和垃圾，味道很大。' });
    expect(correction.actor_id).toEqual(expect.any(String));

    const row = await processed(id);
    expect(row.status).toBe('dispatched');
    expect(row.type_code).toBe('air_pollution');
    expect(row.confidence).toBe(1);
    expect(row.urgent).toBe(1);
    expect(JSON.parse(row.flags)).toEqual(expect.arrayContaining(['operator_type', 'operator_urgency']));
    expect(await unitsOf(id)).toEqual(['epb', 'xinglong']);
    // The staff view shows the operator's type next to what the machine said.
    const view = await json(as('dispatcher').get(`/api/v1/cases/${id}`));
    expect(view.body.type).toMatchObject({ code: 'air_pollution', classifiedAs: proposed });
  });

  it('routes to the lead bureau the operator chose in place of the routing table\'s', async () => {
    // air_pollution: the table names epb as lead; the operator heard it is a matter for enforcement.
    const transcript = '坐席：请讲。\n来电人：兴隆办事处有个烧烤摊天天晚上烧炭，烟很大。';
    const base = call(transcript);
    const review = await json(as('operator').post('/api/v1/hotline/calls', { ...base, review: true, type: 'air_pollution' }));
    expect(review.status, JSON.stringify(review.body)).toBe(200);
    const res = await json(as('operator').post('/api/v1/hotline/calls', { ...base, type: 'air_pollution', lead: 'enforcement' }));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const id = res.body.cases[0].id as string;
    const row = await processed(id);
    expect(row.status).toBe('dispatched');
    expect(JSON.parse(row.flags)).toEqual(expect.arrayContaining(['operator_type', 'operator_lead']));
    const roles = await service.deps.db.selectFrom('assignments').select(['unit_code', 'role']).where('case_id', '=', id).orderBy('unit_code').execute();
    expect(roles).toEqual([
      { unit_code: 'enforcement', role: 'lead' },
      { unit_code: 'xinglong', role: 'jurisdiction' },
    ]);
  });

  it('records nothing when the operator confirms the proposed type, and routes it at once', async () => {
    const transcript = '坐席：请讲。\n市民：马鹿头那边养鸡场鸡粪堆在路边。';
    const base = call(transcript);
    const review = await json(as('operator').post('/api/v1/hotline/calls', { ...base, review: true }));
    const corrections = await count('classifier_corrections');
    const res = await json(as('operator').post('/api/v1/hotline/calls', { ...base, type: review.body.proposal.type.code }));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(await count('classifier_corrections')).toBe(corrections);
    const row = await processed(res.body.cases[0].id);
    expect(row.type_code).toBe('livestock_waste');
    expect(row.status).toBe('dispatched');
  });

  it('proposes each part of a split call separately', async () => {
    const res = await json(
      as('operator').post('/api/v1/hotline/calls', {
        ...call('坐席：请讲。\n来电人：两件事，河里死鱼，还有工地噪音。'),
        review: true,
        parts: [{ text: '神仙洞那边河里好多死鱼。' }, { text: '八仙洞工地半夜施工噪音扰民。' }],
      }),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.parts.map((p: { type: { code: string } }) => p.type.code)).toEqual(['water_pollution', 'noise']);
    expect(res.body.parts.map((p: { jurisdiction: { code: string } }) => p.jurisdiction.code)).toEqual(['shenxiandong', 'baxiandong']);
  });
});

describe('hotline access and validation', () => {
  it('needs a token (401) and a hotline role: a bureau gets 403', async () => {
    const body = call(VARIANTS[0]![1]);
    const none = await json(as(null).post('/api/v1/hotline/calls', body));
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('unauthorized');
    const bureau = await json(as('epb').post('/api/v1/hotline/calls', body));
    expect(bureau.status).toBe(403);
    expect(bureau.body.error.code).toBe('forbidden');
    expect((await as('epb').get(`/api/v1/hotline/calls/12369/${body.callId}`)).status).toBe(403);
    const importRes = await fetch(`${service.url}/api/v1/hotline/calls:import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.epb}`, 'content-type': 'application/x-ndjson' },
      body: `${JSON.stringify(body)}\n`,
    });
    expect(importRes.status).toBe(403);
    const admin = await json(as('admin').post('/api/v1/hotline/calls', body));
    expect(admin.status, JSON.stringify(admin.body)).toBe(201);
  });

  it.each([
    ['a missing transcript', { transcript: undefined }, 'transcript', 'required'],
    ['an unknown hotline', { hotline: '110' }, 'hotline', 'must be "12345" or "12369"'],
    ['a missing callId', { callId: undefined }, 'callId', 'required'],
    ['a callId of dots alone', { callId: '..' }, 'callId', 'not dots alone'],
    ['a bad startedAt', { startedAt: '昨天下午' }, 'startedAt', expect.stringContaining('ISO 8601')],
    ['an impossible date without an offset', { startedAt: '2026-02-30 09:15:00' }, 'startedAt', expect.stringContaining('ISO 8601')],
    ['an impossible date with an offset', { startedAt: '2026-02-30T09:15:00+08:00' }, 'startedAt', expect.stringContaining('ISO 8601')],
    ['an impossible time without an offset', { startedAt: '2026-11-02T24:30:00' }, 'startedAt', expect.stringContaining('ISO 8601')],
    ['an impossible offset', { startedAt: '2026-11-02T09:40:00+08:75' }, 'startedAt', expect.stringContaining('ISO 8601')],
    ['an impossible offset without its colon', { startedAt: '2026-11-02T09:40:00+0875' }, 'startedAt', expect.stringContaining('ISO 8601')],
    ['an offset of three digits', { startedAt: '2026-11-02T09:40:00+080' }, 'startedAt', expect.stringContaining('ISO 8601')],
    ['a startedAt in year 10000 (UTC)', { startedAt: '9999-12-31T23:59:59-23:59' }, 'startedAt', 'must fall in the years 1900–2999 (UTC)'],
    ['a startedAt before year 1 (UTC)', { startedAt: '0000-01-01T00:00:00+23:59' }, 'startedAt', 'must fall in the years 1900–2999 (UTC)'],
    ['a malformed caller number', { callerNumber: 'unknown' }, 'callerNumber', expect.stringContaining('phone number')],
    ['a caller number of dashes only', { callerNumber: '-----' }, 'callerNumber', expect.stringContaining('phone number')],
    ['a caller number of zeros', { callerNumber: '00000' }, 'callerNumber', expect.stringContaining('phone number')],
    // The rule a report's phone is held to as well (zerosOnly), however the zeros are written.
    ['a caller number of zeros with separators', { callerNumber: '+00 (000) 0000-0000' }, 'callerNumber', expect.stringContaining('not all zeros')],
    ['a caller number of full-width zeros with an extension', { callerNumber: '０００００００转123' }, 'callerNumber', expect.stringContaining('not all zeros')],
    ['a caller number too short once spaces are gone', { callerNumber: '1 2 3 4' }, 'callerNumber', expect.stringContaining('phone number')],
    ['a startedAt far in the future', { startedAt: '2999-01-01T00:00:00+08:00' }, 'startedAt', 'must not be in the future'],
    ['a startedAt an hour ahead', { startedAt: '2026-11-02T11:00:00+08:00' }, 'startedAt', 'must not be in the future'],
    ['a startedAt before any hotline record', { startedAt: '1901-01-01T00:00:00+08:00' }, 'startedAt', 'must not be before 2000'],
    ['an unknown type', { type: 'littering' }, 'type', 'unknown type "littering"'],
    ['an unknown jurisdiction', { jurisdiction: 'atlantis' }, 'jurisdiction', 'unknown jurisdiction "atlantis"'],
    ['a jurisdiction and placeUnknown', { jurisdiction: 'xinglong', placeUnknown: true }, 'placeUnknown', 'a jurisdiction and placeUnknown: give one of them'],
    ['a lead that is not a bureau', { lead: 'xinglong' }, 'lead', expect.stringContaining('"xinglong" is a local office, not a bureau')],
    ['an unknown lead', { lead: 'nobody' }, 'lead', 'unknown bureau "nobody"'],
    ['a lead that is no code', { lead: '环保局' }, 'lead', 'must be a code of the district file, e.g. epb'],
    ['a jurisdiction that is no code', { jurisdiction: '兴隆办事处' }, 'jurisdiction', 'must be a code of the district file, e.g. xinglong'],
    ['a type that is no code', { type: '噪音' }, 'type', 'must be a code of the district file, e.g. illegal_discharge'],
    // A 20-digit id as a JSON number arrives without its last digits (…123456 parsed as …123460): it would name another call.
    ['a callId as a JSON number too long to keep its digits', { callId: Number('20261128093000123456') }, 'callId', expect.stringContaining('write it in quotes')],
    ['a callId as a JSON number with a fraction', { callId: 1024.5 }, 'callId', expect.stringContaining('write it in quotes')],
    ['a caller number as a JSON number too long to keep its digits', { callerNumber: Number('861381234567800012') }, 'callerNumber', expect.stringContaining('write it in quotes')],
    ['a misspelt field', { callerNumbr: '13800001111' }, 'callerNumbr', 'unknown field'],
    ['an unknown field in a part', { parts: [{ text: '一件事' }, { text: '另一件', typ: 'noise' }] }, 'parts.1.typ', 'unknown field'],
    ['a split into one part', { parts: [{ text: '一件事' }] }, 'parts', 'a split needs at least 2 parts'],
    ['a part without text', { parts: [{ text: '一件事' }, { type: 'noise' }] }, 'parts.1.text', 'required'],
    ['an unknown type in a part', { parts: [{ text: '一件事' }, { text: '另一件', type: 'nope' }] }, 'parts.1.type', 'unknown type "nope"'],
    ['a transcript where the caller says nothing', { transcript: '坐席：您好，请讲。\n坐席：喂？喂？' }, 'transcript', expect.stringContaining('no caller lines')],
    ['a non-boolean review', { review: 'maybe' }, 'review', 'must be true or false'],
    ['a transcript of only invisible characters', { transcript: '\u200b\u2060\n\u3164' }, 'transcript', 'must not be empty'],
    ['caller lines of only invisible characters', { transcript: '坐席：您好，请讲。\n来电人：\u200b\u200b' }, 'transcript', expect.stringContaining('no caller lines')],
    ['a corrected text of only invisible characters', { text: '\u200b\u200f' }, 'text', 'must not be empty'],
    ['a summary of only invisible characters', { summary: '\u2800' }, 'summary', 'must not be empty'],
    ['a part whose text shows nothing', { parts: [{ text: '一件事' }, { text: '\u3164\u200b' }] }, 'parts.1.text', 'must not be empty'],
  ])('rejects %s with 400 naming the field', async (_what, change, field, reason) => {
    const before = await count('cases');
    const body: Record<string, unknown> = { ...call(VARIANTS[0]![1]), ...change };
    for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
    const res = await json(as('operator').post('/api/v1/hotline/calls', body));
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.fields[field]).toEqual(reason);
    expect(await count('cases')).toBe(before);
  });

  it('takes the summary as the complaint when the caller said nothing usable', async () => {
    const res = await json(as('operator').post('/api/v1/hotline/calls', call('坐席：您好，请讲。\n坐席：信号不好，听不清。', { summary: '来电反映兴隆办事处有工厂夜间排放废气' })));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect((await caseRow(res.body.cases[0].id)).text).toBe('来电反映兴隆办事处有工厂夜间排放废气');
  });

  it('takes the summary as the complaint when the caller\'s lines are only filler, and keeps what a caller did say', async () => {
    const summary = '来电反映回龙村村委会旁有人焚烧垃圾，黑烟较大';
    const silent = call('[00:00:01] 坐席：您好，12345热线，请讲。\n[00:00:04] 来电人：喂？喂？\n[00:00:09] 来电人：嗯……那个……\n[00:00:15] 坐席：您好？\n[00:00:18] 来电人：算了', { summary });
    const review = await json(as('operator').post('/api/v1/hotline/calls', { ...silent, review: true }));
    expect(review.status, JSON.stringify(review.body)).toBe(200);
    expect(review.body.proposal.text).toBe(summary);
    const res = await json(as('operator').post('/api/v1/hotline/calls', silent));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const row = await processed(res.body.cases[0].id);
    expect(row.text).toBe(summary);
    expect(row.jurisdiction_code).toBe('huilongxu');
    // The full transcript stays with the call for operators.
    expect((await json(as('operator').get(`/api/v1/cases/${row.id}`))).body.hotline.transcript).toBe(silent.transcript);

    // A caller who said something keeps their own words, however short.
    const spoken = call('坐席：请讲。\n来电人：喂？盐下村有人烧垃圾。', { summary });
    const kept = await json(as('operator').post('/api/v1/hotline/calls', spoken));
    expect(kept.status, JSON.stringify(kept.body)).toBe(201);
    expect((await caseRow(kept.body.cases[0].id)).text).toBe('喂？盐下村有人烧垃圾。');
  });

  it('refuses other media types with 415', async () => {
    const res = await json(
      fetch(`${service.url}/api/v1/hotline/calls`, { method: 'POST', headers: { authorization: `Bearer ${tokens.operator}`, 'content-type': 'application/xml' }, body: '<call/>' }),
    );
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('unsupported_media_type');
    expect(res.body.error.fields).toEqual({ 'content-type': 'not accepted: application/xml' });
  });

  it('documents the hotline routes in the OpenAPI document', async () => {
    const doc = await json(fetch(`${service.url}/openapi.json`));
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/api/v1/hotline/calls', '/api/v1/hotline/calls:import', '/api/v1/hotline/calls/{hotline}/{callId}']));
    expect(Object.keys(doc.body.paths['/api/v1/hotline/calls'].post.responses)).toEqual(expect.arrayContaining(['200', '201', '400', '401', '403', '409']));
    // A start without an offset is documented as the district's time.
    expect(doc.body.components.schemas.HotlineCallInput.properties.startedAt.description).toContain(
      "without one (2026-11-28T21:30:05, 2026-11-28 21:30:05, 2026/11/28 21:30 as a spreadsheet saves it, or the Chinese way: 2026年11月28日 21:30, 2026年11月28日21时30分05秒, and 12-hour as a zh-CN Excel or WPS writes it: 2026/11/28 下午 9:30, 2026年11月28日 下午9时30分, 上午12:15 being 00:15, or as one in an English locale does: 2026-11-28 09:30 PM, 2026/11/28 9:30pm, and month first, as a US spreadsheet writes it, 11/28/2026 9:30 PM, 12:15 AM being 00:15), read as the district's time",
    );
    expect(doc.body.components.schemas.HotlineCallInput.properties.callerNumber.description).toContain('kept as 073188886666转123');
    // The example call is one the API takes, and its caller number is no one's (masked, as a hotline system may send it).
    const example = doc.body.components.schemas.HotlineCallInput.example;
    const parsed = callSchema.safeParse(example);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    expect(example.callerNumber).toMatch(MASKED_NUMBER);
    const review = await json(as('operator').post('/api/v1/hotline/calls', { ...example, callId: nextCallId(), startedAt: '2026-11-02T09:40:00+08:00', review: true }));
    expect(review.status, JSON.stringify(review.body)).toBe(200);
    expect(review.body.callerNumber).toBe(example.callerNumber);
  });
});
