import { createHash } from 'node:crypto';
import exifr from 'exifr';
import { readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Service } from '../src/runtime.js';
import { bodyOf, postJson, startTestService, testEnv, waitFor } from './harness.js';
import { HEIC_WITH_EXIF, jpegWithExif, PNG_WITH_TEXT } from './photo-fixtures.js';
import { documentProblems, type OpenApiDoc } from './openapi-check.js';

// A 1×1 PNG.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

let service: Service & { url: string };
let api: string;

beforeAll(async () => {
  const env = testEnv('reports-api');
  service = await startTestService(env);
  api = `${service.url}/api/v1`;
});

async function countRows(table: 'cases' | 'case_events' | 'outbox' | 'case_contacts' | 'case_attachments'): Promise<number> {
  const row = await service.deps.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('POST /api/v1/reports', () => {
  it('accepts a JSON report with 202, a tracking code and a track URL', async () => {
    const res = await postJson(`${api}/reports`, { text: '八字桥社区旁边的厂子晚上偷排废水，沟里的水都是黑的' });
    const body = (await bodyOf(res)) as Record<string, string>;
    expect(res.status, JSON.stringify(body)).toBe(202);
    expect(body).toEqual({
      id: expect.any(String),
      trackingCode: expect.stringMatching(/^[34679ACDEFGHJKMNPQRTUVWXY]{10}$/),
      status: 'received',
      trackUrl: `http://intake.test/track/${body.trackingCode}`,
    });
    expect(res.headers.get('location')).toBe(`/api/v1/track/${body.trackingCode}`);
  });

  it('has the case in the database before answering', async () => {
    const res = await postJson(`${api}/reports`, { text: '永济亭那边有人烧垃圾，烟好大' });
    const { id } = (await res.json()) as { id: string };
    const row = await service.deps.db.selectFrom('cases').select(['id', 'status']).where('id', '=', id).executeTakeFirst();
    expect(row?.id).toBe(id);
  });

  it('keeps no name or phone of an anonymous report, as the web form does not', async () => {
    const res = await postJson(`${api}/reports`, {
      text: '永济亭那边的鱼塘是我王五承包的，有人往塘里倒垃圾',
      address: '永济亭王五家鱼塘',
      name: '王五',
      phone: '13812345678',
      anonymous: true,
      shareContact: true,
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    expect(await service.deps.db.selectFrom('case_contacts').selectAll().where('case_id', '=', id).executeTakeFirst()).toBeUndefined();
    const row = await service.deps.db.selectFrom('cases').select(['anonymous', 'text', 'address']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.anonymous).toBe(1);
    // Nothing kept could match the name later: it is masked where the reporter's words repeat it, its surname too.
    expect(row.text).toBe('永济亭那边的鱼塘是我**承包的，有人往塘里倒垃圾');
    expect(row.address).toBe('永济亭**家鱼塘');
  });

  it('keeps no number or name an anonymous reporter wrote into the words, for dispatchers neither', async () => {
    const res = await postJson(`${api}/reports`, {
      text: '盐下村电镀厂偷排废水，我叫李建国，电话139 2222 3333，微信号：lijg88，身份证430621198001011234',
      address: '盐下村三组，手机13966667777',
      anonymous: true,
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const row = await service.deps.db.selectFrom('cases').select(['text', 'address']).where('id', '=', id).executeTakeFirstOrThrow();
    const kept = JSON.stringify(row);
    for (const said of ['李建国', '2222', 'lijg88', '19800101', '6666']) expect(kept).not.toContain(said);
    // Masked as bureaus read numbers: the last four digits stay.
    expect(row.text).toContain('139****3333');
    // What the report is about stays.
    expect(row.text).toContain('盐下村电镀厂偷排废水');
    expect(row.address).toContain('盐下村三组');
    expect(await service.deps.db.selectFrom('case_contacts').selectAll().where('case_id', '=', id).executeTakeFirst()).toBeUndefined();
    // The same words without the anonymous box: kept as written, for dispatchers (bureaus read them masked).
    const named = await postJson(`${api}/reports`, { text: '盐下村电镀厂偷排废水，我叫李建国，电话139 2222 3333' });
    const namedRow = await service.deps.db.selectFrom('cases').select('text').where('id', '=', ((await named.json()) as { id: string }).id).executeTakeFirstOrThrow();
    expect(namedRow.text).toBe('盐下村电镀厂偷排废水，我叫李建国，电话139 2222 3333');
  });

  it('keeps no number of an anonymous reporter that their words give as an office or home line', async () => {
    const res = await postJson(`${api}/reports`, {
      text: '盐下村电镀厂偷排废水。我在镇政府上班，办公室电话0731-88886666，家里88886666也可以',
      address: '镇政府办公室 0731 8888 6666',
      phone: '0731-88886666',
      anonymous: true,
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const row = await service.deps.db.selectFrom('cases').select(['text', 'address']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.text).toBe('盐下村电镀厂偷排废水。我在镇政府上班，办公室电话0731****6666，家里****6666也可以');
    expect(row.address).toBe('镇政府办公室 0731****6666');
  });

  it('takes an anonymous report whose phone field holds words that are no number, keeping no phone, as the web form does; not anonymous, they are refused', async () => {
    const contactOf = (id: string) => service.deps.db.selectFrom('case_contacts').selectAll().where('case_id', '=', id).executeTakeFirst();
    // The reporter asked not to be contacted: a refusal would lose the report.
    for (const phone of ['不方便', '不留', '无', 'n/a', 13812345678]) {
      const res = await postJson(`${api}/reports`, { text: `盐下村电镀厂夜里偷排废水（匿名，电话栏：${String(phone)}）`, name: '李建国', phone, anonymous: true });
      const body = (await bodyOf(res)) as { id: string };
      expect(res.status, `${String(phone)}: ${JSON.stringify(body)}`).toBe(202);
      const row = await service.deps.db.selectFrom('cases').select(['anonymous', 'text']).where('id', '=', body.id).executeTakeFirstOrThrow();
      expect(row.anonymous).toBe(1);
      expect(row.text).not.toContain('2345678');
      expect(await contactOf(body.id)).toBeUndefined();
    }
    // Written on a form, the box as a form writes it.
    const multipart = new FormData();
    multipart.set('text', '盐下村电镀厂夜里偷排废水（表单，匿名）');
    multipart.set('phone', '不方便');
    multipart.set('anonymous', 'on');
    const urlencoded = new URLSearchParams([['text', '盐下村电镀厂夜里偷排废水（urlencoded，匿名）'], ['phone', '不方便留电话'], ['anonymous', 'true']]);
    for (const body of [multipart, urlencoded]) {
      const res = await fetch(`${api}/reports`, { method: 'POST', body });
      const json = (await bodyOf(res)) as { id: string };
      expect(res.status, JSON.stringify(json)).toBe(202);
      expect(await contactOf(json.id)).toBeUndefined();
    }
    // Anything else wrong is still named, and the phone that refuses nothing is not among it.
    const empty = await postJson(`${api}/reports`, { text: ' ', phone: '不方便', anonymous: true });
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { error: { fields: Record<string, string> } }).error.fields).toEqual({ text: 'must not be empty' });
    // Not anonymous (false, absent, or a form's off), the phone would be kept: words that are no number are refused.
    const before = await countRows('cases');
    for (const anonymous of [false, null, undefined]) {
      const res = await postJson(`${api}/reports`, { text: '盐下村电镀厂夜里偷排废水（不匿名）', phone: '不方便', ...(anonymous === undefined ? {} : { anonymous }) });
      const json = (await bodyOf(res)) as { error: { fields: Record<string, string> } };
      expect(res.status, JSON.stringify(json)).toBe(400);
      expect(json.error.fields).toEqual({ phone: expect.stringContaining('phone number') });
    }
    const off = await fetch(`${api}/reports`, { method: 'POST', body: new URLSearchParams([['text', '盐下村电镀厂夜里偷排废水（不匿名）'], ['phone', '不方便'], ['anonymous', 'off']]) });
    expect(off.status).toBe(400);
    expect(((await off.json()) as { error: { fields: Record<string, string> } }).error.fields).toEqual({ phone: expect.stringContaining('phone number') });
    expect(await countRows('cases')).toBe(before);
    // The document says so.
    const doc = (await (await fetch(`${service.url}/openapi.json`)).json()) as { components: { schemas: Record<string, { properties: Record<string, { description?: string }> }> } };
    expect(doc.components.schemas.ReportInput!.properties.phone!.description).toContain('With `anonymous: true` it is not kept, and what is no number (不方便) is ignored rather than refused');
  });

  it('keeps no name where the name field says none (匿名, 保密, 热心市民), so those words are no name to mask; a real name stays', async () => {
    const contactOf = async (id: string) => service.deps.db.selectFrom('case_contacts').select(['name', 'phone']).where('case_id', '=', id).executeTakeFirst();
    for (const name of ['匿名', '（匿名）', '保密', '不方便透露', '无', '无名', '/', '热心市民', '村民', 'Anonymous']) {
      const res = await postJson(`${api}/reports`, { text: `盐下村有人往河里倒垃圾，村民们都闻到了（${[...name].length}）`, name, phone: '13812345678' });
      const body = (await bodyOf(res)) as { id: string };
      expect(res.status, JSON.stringify(body)).toBe(202);
      // The phone given to be called back is kept; the words are not taken for a name.
      expect(await contactOf(body.id), name).toEqual({ name: null, phone: '13812345678' });
    }
    // Without a phone, nothing of the contact is kept at all.
    const bare = await postJson(`${api}/reports`, { text: '盐下村有人往河里倒垃圾（只填了匿名）', name: '匿名' });
    expect(await contactOf(((await bodyOf(bare)) as { id: string }).id)).toBeUndefined();
    // Names stay names, also with such words in them.
    for (const name of ['王小明', '村民王五', '张保密']) {
      const res = await postJson(`${api}/reports`, { text: '盐下村有人往河里倒垃圾（真名）', name });
      expect((await contactOf(((await bodyOf(res)) as { id: string }).id))?.name, name).toBe(name);
    }
  });

  it('keeps no name where an English name field says none (N/A, none, prefer not to say), so those words are no name to mask; a real name stays', async () => {
    const contactOf = async (id: string) => service.deps.db.selectFrom('case_contacts').select(['name', 'phone']).where('case_id', '=', id).executeTakeFirst();
    const text = 'A pig farm near Huilong village lets manure into the river every night and none of the neighbours can sleep';
    for (const name of ['N/A', 'n.a.', 'none', 'None.', 'nil', '-', 'anon', 'unknown', 'not given', 'Prefer not to say', "I'd rather not say", 'private', 'concerned citizen', 'a local resident']) {
      const res = await postJson(`${api}/reports`, { text: `${text} (${name.length})`, name, phone: '13812345678' });
      const body = (await bodyOf(res)) as { id: string };
      expect(res.status, JSON.stringify(body)).toBe(202);
      expect(await contactOf(body.id), name).toEqual({ name: null, phone: '13812345678' });
    }
    for (const name of ['John Li', 'Nina', 'Li Na']) {
      const res = await postJson(`${api}/reports`, { text: `${text} (a real name)`, name });
      expect((await contactOf(((await bodyOf(res)) as { id: string }).id))?.name, name).toBe(name);
    }
  });

  it('refuses a text that is only a tracking code (typed, or its link or 查询码 line pasted), naming where its case is followed; a code among other words is a report', async () => {
    const made = (await bodyOf(await postJson(`${api}/reports`, { text: '八字桥社区旁边的厂子晚上偷排废水（先报一件）' }))) as { trackingCode: string };
    const code = made.trackingCode;
    const before = await countRows('cases');
    for (const text of [
      code,
      `${code.slice(0, 5)}-${code.slice(5)}`.toLowerCase(),
      `查询码：${code}`,
      `http://intake.test/track/${code}`,
      'ACDEFGHJKM',
      // With only words asking after the report.
      `查询 ${code}`,
      `${code} 进度`,
      `我的举报${code}怎么样了`,
      `${code.toLowerCase()}处理了吗？`,
      `请问${code}这个举报有结果了吗`,
      `What is the status of ${code}?`,
      `is ${code} done?`,
      `Has my report ${code} been handled yet?`,
      // Its link, pasted with the asking words.
      `查询 http://intake.test/track/${code} 进度`,
      `http://intake.test/track/${code}，怎么样了？`,
      `https://intake.test/track/${code} 怎么样了`,
      `我的举报http://intake.test/track/${code}怎么样了`,
      // On a host with a Chinese domain name.
      `https://回龙圩环保.政务/track/${code} 进度`,
      // As the lookup box reads the link: an escaped letter, a zero-width space a chat app put after it.
      `http://intake.test/track/%${code.charCodeAt(0).toString(16)}${code.slice(1)} 进度`,
      `http://intake.test/track/${code}\u200b 怎么样了`,
    ]) {
      const res = await postJson(`${api}/reports`, { text, anonymous: true });
      const json = (await bodyOf(res)) as { error: { code: string; fields: Record<string, string> } };
      expect(res.status, `${text}: ${JSON.stringify(json)}`).toBe(400);
      expect(json.error.fields.text).toMatch(/^is a tracking code, not a report: follow its case with GET \/api\/v1\/track\/[A-Z0-9]{10}$/);
    }
    const zh = await fetch(`${api}/reports`, { method: 'POST', headers: { 'content-type': 'application/json', 'accept-language': 'zh-CN' }, body: JSON.stringify({ text: code }) });
    expect(((await zh.json()) as { error: { fields: Record<string, string> } }).error.fields.text).toBe(`这是查询码，不是举报内容：请用 GET /api/v1/track/${code} 查看办理进度`);
    expect(await countRows('cases')).toBe(before);
    // A report that names an earlier one's code is a report.
    const follow = await postJson(`${api}/reports`, { text: `我之前举报过，查询码 ${code}，那个厂今晚又在排了` });
    expect(follow.status, JSON.stringify(await bodyOf(follow.clone()))).toBe(202);
    const linked = await postJson(`${api}/reports`, { text: `http://intake.test/track/${code} 那个厂今晚又在排了` });
    expect(linked.status, JSON.stringify(await bodyOf(linked.clone()))).toBe(202);
    // The words written against the link, with no space between, are words of the report, not part of the link.
    for (const text of [`那个厂今晚又在排黑水http://intake.test/track/${code}`, `那个厂今晚又在排黑水https://回龙圩环保.政务/track/${code}`, `厂子又在排了，http://intake.test/track/${code}`, `http://intake.test/track/${code},dumping again tonight`]) {
      const res = await postJson(`${api}/reports`, { text });
      expect(res.status, `${text}: ${JSON.stringify(await bodyOf(res.clone()))}`).toBe(202);
    }
    const asking = await postJson(`${api}/reports`, { text: `${code} 处理了吗？厂子今晚又在排黑水` });
    expect(asking.status, JSON.stringify(await bodyOf(asking.clone()))).toBe(202);
  });

  it('takes an anonymous report whose name is over 50 characters, keeping no name, as the web form does; not anonymous, it is refused', async () => {
    const contactOf = (id: string) => service.deps.db.selectFrom('case_contacts').selectAll().where('case_id', '=', id).executeTakeFirst();
    const long = `李建国${'（我是村里的老住户，不想让厂里知道是我举报的）'.repeat(3)}`;
    expect([...long].length).toBeGreaterThan(50);
    const res = await postJson(`${api}/reports`, { text: '盐下村电镀厂夜里偷排废水（匿名，姓名栏很长）', name: long, phone: '13812345678', anonymous: true });
    const body = (await bodyOf(res)) as { id: string };
    expect(res.status, JSON.stringify(body)).toBe(202);
    const row = await service.deps.db.selectFrom('cases').select(['anonymous', 'text']).where('id', '=', body.id).executeTakeFirstOrThrow();
    expect(row.anonymous).toBe(1);
    expect(await contactOf(body.id)).toBeUndefined();
    // A name that is no string at all is not kept either.
    const numeric = await postJson(`${api}/reports`, { text: '盐下村电镀厂夜里偷排废水（匿名，姓名栏是数字）', name: 12345, anonymous: true });
    expect(numeric.status, JSON.stringify(await bodyOf(numeric))).toBe(202);
    // Written on a form, the box as a form writes it.
    const multipart = new FormData();
    multipart.set('text', '盐下村电镀厂夜里偷排废水（表单，匿名，姓名栏很长）');
    multipart.set('name', long);
    multipart.set('anonymous', 'on');
    const urlencoded = new URLSearchParams([['text', '盐下村电镀厂夜里偷排废水（urlencoded，匿名，姓名栏很长）'], ['name', long], ['anonymous', '1']]);
    for (const form of [multipart, urlencoded]) {
      const sent = await fetch(`${api}/reports`, { method: 'POST', body: form });
      const json = (await bodyOf(sent)) as { id: string };
      expect(sent.status, JSON.stringify(json)).toBe(202);
      expect(await contactOf(json.id)).toBeUndefined();
    }
    // Anything else wrong is still named, and the name that refuses nothing is not among it.
    const empty = await postJson(`${api}/reports`, { text: ' ', name: long, anonymous: true });
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { error: { fields: Record<string, string> } }).error.fields).toEqual({ text: 'must not be empty' });
    // Not anonymous, the name would be kept: over 50 characters it is refused.
    const before = await countRows('cases');
    for (const anonymous of [false, null, undefined]) {
      const refused = await postJson(`${api}/reports`, { text: '盐下村电镀厂夜里偷排废水（不匿名）', name: long, ...(anonymous === undefined ? {} : { anonymous }) });
      const json = (await bodyOf(refused)) as { error: { fields: Record<string, string> } };
      expect(refused.status, JSON.stringify(json)).toBe(400);
      expect(json.error.fields).toEqual({ name: 'at most 50 characters' });
    }
    expect(await countRows('cases')).toBe(before);
    const doc = (await (await fetch(`${service.url}/openapi.json`)).json()) as { components: { schemas: Record<string, { properties: Record<string, { description?: string }> }> } };
    expect(doc.components.schemas.ReportInput!.properties.name!.description).toContain('With `anonymous: true` it is not kept, and a longer one is ignored rather than refused');
  });

  it('takes a phone with an extension after 转, 分机, ext. or #, kept with it after 转, and never shown on the public page', async () => {
    for (const [sent, kept] of [
      ['0731-88886666转123', '0731-88886666转123'],
      ['0731-8888 6666 ext. 45', '0731-8888 6666转45'],
      ['（０７３１）８８８８６６６６分机１２３', '(0731)88886666转123'],
      ['88886666#9', '88886666转9'],
    ] as const) {
      const res = await postJson(`${api}/reports`, { text: '盐下村电镀厂排污，回电请拨0731-88886666转123', name: '赵六', phone: sent });
      const body = (await bodyOf(res)) as { id: string; trackingCode: string };
      expect(res.status, JSON.stringify(body)).toBe(202);
      expect((await service.deps.db.selectFrom('case_contacts').select('phone').where('case_id', '=', body.id).executeTakeFirstOrThrow()).phone).toBe(kept);
      const page = await (await fetch(`${service.url}/track/${body.trackingCode}`)).text();
      expect(page).not.toContain('88886666');
    }
    // The web form's post reads the phone the same way.
    const form = new FormData();
    form.append('text', '盐下村电镀厂排污');
    form.append('phone', '0731-88886666 转 123');
    const res = await fetch(`${api}/reports`, { method: 'POST', body: form });
    const body = (await bodyOf(res)) as { id: string };
    expect(res.status, JSON.stringify(body)).toBe(202);
    expect((await service.deps.db.selectFrom('case_contacts').select('phone').where('case_id', '=', body.id).executeTakeFirstOrThrow()).phone).toBe('0731-88886666转123');
    // An extension is no number of its own, nor does it make a short one long enough.
    for (const phone of ['转123', '1234转5678', '0731-88886666转1234567']) {
      const bad = await postJson(`${api}/reports`, { text: '噪音', phone });
      const json = (await bodyOf(bad)) as { error: { fields: Record<string, string> } };
      expect(bad.status, phone).toBe(400);
      expect(json.error.fields).toEqual({ phone: expect.stringContaining('phone number') });
    }
  });

  it('takes a phone written with a hyphen or dash other than ASCII (copied from a document) as written with dashes', async () => {
    for (const [sent, kept] of [
      ['0731\u201088886666', '0731-88886666'],
      ['0731\u201388886666', '0731-88886666'],
      ['138\u20141234\u20145678', '138-1234-5678'],
      ['+86\u2212138 1234 5678', '+86-138 1234 5678'],
    ] as const) {
      const res = await postJson(`${api}/reports`, { text: '盐下村电镀厂排污', name: '赵六', phone: sent });
      const body = (await bodyOf(res)) as { id: string };
      expect(res.status, `${sent}: ${JSON.stringify(body)}`).toBe(202);
      expect((await service.deps.db.selectFrom('case_contacts').select('phone').where('case_id', '=', body.id).executeTakeFirstOrThrow()).phone).toBe(kept);
    }
  });

  it('gives unrelated reports different, non-sequential tracking codes', async () => {
    const codes = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const res = await postJson(`${api}/reports`, { text: `第${i}次举报：河里有死鱼` });
      codes.add(((await res.json()) as { trackingCode: string }).trackingCode);
    }
    expect(codes.size).toBe(5);
  });

  it.each([
    ['missing text', {}, 'text', 'required'],
    ['empty text', { text: '   ' }, 'text', 'must not be empty'],
    ['text of zero-width spaces only', { text: '\u200b\u200b\u2060' }, 'text', 'must not be empty'],
    ['text of direction marks, a soft hyphen and U+180E only', { text: '\u202e\u2066\u00ad\u180e' }, 'text', 'must not be empty'],
    ['text of Hangul fillers and the braille blank only', { text: '\u3164\u115f\uffa0\u2800 \u3164' }, 'text', 'must not be empty'],
    ['text of control characters only', { text: '\u0001\u0007\u001b\u007f' }, 'text', 'must not be empty'],
    ['text that is not a string', { text: 42 }, 'text', 'must be a string'],
    ['text over 5,000 characters', { text: '污'.repeat(5001) }, 'text', 'at most 5000 characters'],
    ['latitude out of range', { text: '噪音', location: { lat: 91, lng: 111.3 } }, 'location.lat', 'must be between -90 and 90'],
    ['longitude out of range', { text: '噪音', location: { lat: 25.1, lng: -181 } }, 'location.lng', 'must be between -180 and 180'],
    // A point on Earth, but far from the district (a phone's position away from the place): no place its bureaus can go to.
    ['a location outside the district', { text: '噪音', location: { lat: 28.2, lng: 112.9 } }, 'location', 'outside the district (latitude 25.1 to 25.23, longitude 111.28 to 111.4)'],
    ['a malformed phone', { text: '噪音', phone: 'call me' }, 'phone', expect.stringContaining('phone number')],
    ['a phone sent as a number', { text: '噪音', phone: 13812345678 }, 'phone', 'must be a phone number (digits, spaces, dashes, optional +), as a string'],
    // Zeros alone reach no one, as a hotline caller's number of zeros is refused.
    ['a phone of zeros alone', { text: '噪音', phone: '00000' }, 'phone', 'must be a phone number (digits, spaces, dashes, optional +), not all zeros'],
    ['a phone of zeros with separators', { text: '噪音', phone: '+00 (000) 0000-0000' }, 'phone', 'must be a phone number (digits, spaces, dashes, optional +), not all zeros'],
    ['a phone of full-width zeros with an extension', { text: '噪音', phone: '０００００００转123' }, 'phone', 'must be a phone number (digits, spaces, dashes, optional +), not all zeros'],
    ['a bad occurredAt', { text: '噪音', occurredAt: 'yesterday' }, 'occurredAt', expect.stringContaining('ISO 8601')],
    ['an occurredAt in year 10000 (UTC)', { text: '噪音', occurredAt: '9999-12-31T23:59:59-23:59' }, 'occurredAt', 'must fall in the years 1900–2999 (UTC)'],
    ['an occurredAt on the district clock that is 1899 in UTC', { text: '噪音', occurredAt: '1900-01-01T00:00:00' }, 'occurredAt', 'must fall in the years 1900–2999 (UTC)'],
    ['an occurredAt hours ahead', { text: '噪音', occurredAt: new Date(Date.now() + 3 * 3_600_000).toISOString() }, 'occurredAt', 'must not be in the future'],
    ['an occurredAt with only a date', { text: '噪音', occurredAt: '2026-12-03' }, 'occurredAt', expect.stringContaining('ISO 8601 date-time')],
    ['an occurredAt with two spaces for the T', { text: '噪音', occurredAt: '2026-12-03  22:00' }, 'occurredAt', expect.stringContaining('ISO 8601 date-time')],
    ['an occurredAt with another letter for the T', { text: '噪音', occurredAt: '2026-12-03x22:00' }, 'occurredAt', expect.stringContaining('ISO 8601 date-time')],
    ['an occurredAt with an impossible offset without its colon', { text: '噪音', occurredAt: '2026-12-03T22:00:00+0875' }, 'occurredAt', expect.stringContaining('ISO 8601')],
    ['an occurredAt at an offset no zone has, without its colon', { text: '噪音', occurredAt: '2026-12-03T22:00:00+1500' }, 'occurredAt', 'must have a UTC offset between -12:00 and +14:00'],
    ['an occurredAt at an offset no zone has', { text: '噪音', occurredAt: '2026-12-03T22:00:00-13:00' }, 'occurredAt', 'must have a UTC offset between -12:00 and +14:00'],
    ['text with a NUL character', { text: '噪音\u0000很大' }, 'text', 'must not contain NUL characters'],
    ['an address with a NUL character', { text: '噪音', address: '盐下村\u0000三组' }, 'address', 'must not contain NUL characters'],
    ['text with a lone surrogate', { text: '噪音\udc00很大' }, 'text', 'must be well-formed Unicode (found a lone surrogate)'],
    ['a name with U+FFFD', { text: '噪音', name: '王\ufffd' }, 'name', 'must be UTF-8 text (found bytes that are not)'],
    // A misspelt field is named, never dropped: `anonymus` would otherwise leave the reporter named.
    ['a misspelt field', { text: '噪音', anonymus: true }, 'anonymus', 'unknown field'],
    ['a misspelt location field', { text: '噪音', location: { lat: 25.1, lon: 111.3 } }, 'location.lon', 'unknown field'],
    ['a field named like a built-in of objects', JSON.parse('{"text":"噪音","constructor":1}'), 'constructor', 'unknown field'],
    ['a field named __proto__', JSON.parse('{"text":"噪音","__proto__":{"x":1}}'), '__proto__', 'unknown field'],
  ])('rejects %s with 400 naming the field', async (_what, body, field, reason) => {
    const before = await countRows('cases');
    const res = await postJson(`${api}/reports`, body);
    const json = (await bodyOf(res)) as { error: { code: string; fields: Record<string, string>; requestId: string } };
    expect(res.status, JSON.stringify(json)).toBe(400);
    expect(json.error.code).toBe('validation_failed');
    expect(json.error.fields[field]).toEqual(reason);
    expect(json.error.requestId).toBe(res.headers.get('x-request-id'));
    expect(await countRows('cases')).toBe(before);
  });

  it('takes "" as an absent field, occurredAt as much as address, name and phone, as the web form takes an empty time', async () => {
    const res = await postJson(`${api}/reports`, { text: '盐下村有人半夜烧塑料（空字段）', address: '', name: '', phone: '', occurredAt: '' });
    const { id } = (await bodyOf(res)) as { id: string };
    expect(res.status, JSON.stringify(id)).toBe(202);
    const row = await service.deps.db.selectFrom('cases').select(['address', 'occurred_at']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toEqual({ address: null, occurred_at: null });
    expect(await service.deps.db.selectFrom('case_contacts').selectAll().where('case_id', '=', id).executeTakeFirst()).toBeUndefined();
    // The document says so: "" is one of the values occurredAt takes.
    const doc = (await (await fetch(`${service.url}/openapi.json`)).json()) as { components: { schemas: Record<string, { properties: Record<string, unknown> }> } };
    expect(JSON.stringify(doc.components.schemas.ReportInput!.properties.occurredAt)).toContain('"enum":[""]');
  });

  it('takes null as an absent field, as JSON clients that send every field write it', async () => {
    const res = await postJson(`${api}/reports`, { text: '盐下村有人半夜烧塑料', address: null, location: null, name: null, phone: null, anonymous: null, shareContact: null, occurredAt: null });
    const { id } = (await bodyOf(res)) as { id: string };
    expect(res.status, JSON.stringify(id)).toBe(202);
    const row = await service.deps.db.selectFrom('cases').select(['address', 'lat', 'occurred_at', 'anonymous']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toEqual({ address: null, lat: null, occurred_at: null, anonymous: 0 });
    expect(await service.deps.db.selectFrom('case_contacts').selectAll().where('case_id', '=', id).executeTakeFirst()).toBeUndefined();
  });

  it('refuses a phone of zeros alone on the form too, said in Chinese, and still takes a number with zeros in it', async () => {
    const form = new FormData();
    form.set('text', '噪音');
    form.set('phone', '0000 0000');
    const res = await fetch(`${api}/reports`, { method: 'POST', body: form, headers: { 'accept-language': 'zh-CN' } });
    const json = (await bodyOf(res)) as { error: { fields: Record<string, string> } };
    expect(res.status, JSON.stringify(json)).toBe(400);
    expect(json.error.fields).toEqual({ phone: '请填写电话号码（数字，可含空格、短横线和 +，不能全为 0）' });
    const taken = await postJson(`${api}/reports`, { text: '噪音（有零的号码）', name: '钱七', phone: '0731-80000000' });
    expect(taken.status, JSON.stringify(await bodyOf(taken.clone()))).toBe(202);
  });

  it('says its refusals in Chinese to a client that prefers Chinese, and in English otherwise, with the same code and fields', async () => {
    const bad = { text: '', phone: 'abc', colour: 'red' };
    const ask = async (acceptLanguage?: string) => {
      const res = await fetch(`${api}/reports`, { method: 'POST', headers: { 'content-type': 'application/json', ...(acceptLanguage ? { 'accept-language': acceptLanguage } : {}) }, body: JSON.stringify(bad) });
      expect(res.status).toBe(400);
      return ((await res.json()) as { error: { code: string; message: string; fields: Record<string, string> } }).error;
    };
    // A place out of range, in Chinese too.
    const far = await fetch(`${api}/reports`, { method: 'POST', headers: { 'content-type': 'application/json', 'accept-language': 'zh-CN' }, body: JSON.stringify({ text: '河里有死鱼', location: { lat: 95, lng: 'east' } }) });
    expect(((await far.json()) as { error: { fields: Record<string, string> } }).error.fields).toEqual({ 'location.lat': '应在 -90 到 90 之间', 'location.lng': '请填写数字' });
    const zh = await ask('zh-CN,zh;q=0.9,en;q=0.8');
    expect(zh.code).toBe('validation_failed');
    expect(zh.message).toBe('请求有误：text、phone、colour');
    expect(zh.fields).toMatchObject({ text: '不能为空', colour: '不接受此字段', phone: expect.stringMatching(/^请填写电话号码/) });
    // No preference, any language, or English first: the API's own English.
    for (const header of [undefined, '*', 'en-US,zh-CN;q=0.5', 'fr']) {
      const en = await ask(header);
      expect(en.message, header).toBe('invalid text, phone, colour');
      expect(en.fields, header).toMatchObject({ text: 'must not be empty', colour: 'unknown field', phone: expect.stringMatching(/^must be a phone number/) });
      expect(Object.keys(en.fields)).toEqual(Object.keys(zh.fields));
    }
  });

  it('refuses a query parameter, which the intake takes none of, keeping nothing: ?anonymous=true does not make a report anonymous', async () => {
    const before = await service.deps.db.selectFrom('cases').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const res = await postJson(`${api}/reports?anonymous=true`, { text: '兴隆办事处工厂偷排废水（查询参数）', name: '王小明', phone: '13812345678' });
    const body = (await bodyOf(res)) as { error: { code: string; fields: Record<string, string> } };
    expect(res.status).toBe(400);
    expect(body.error).toMatchObject({ code: 'validation_failed', fields: { anonymous: 'unknown query parameter' } });
    const after = await service.deps.db.selectFrom('cases').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
  });

  it("reads an occurredAt without an offset on the district's clock, and keeps one with an offset as sent, its colon added", async () => {
    for (const [sent, kept] of [
      ['2026-12-03T22:00', '2026-12-03T22:00+08:00'],
      ['2026-12-03T22:00:30.5', '2026-12-03T22:00:30.5+08:00'],
      ['2026-12-03T14:00:00Z', '2026-12-03T14:00:00Z'],
      ['2026-12-03T22:00:00+08:00', '2026-12-03T22:00:00+08:00'],
      // The offset without its colon (+0800, as `%z` writes it), kept with it.
      ['2026-12-03T22:00:00+0800', '2026-12-03T22:00:00+08:00'],
      ['2026-12-03T08:30:00.25-0530', '2026-12-03T08:30:00.25-05:30'],
      // To the minute with an offset, as the service writes one it read on the district's clock: sent back, taken.
      ['2026-12-03T22:00+08:00', '2026-12-03T22:00:00+08:00'],
      ['2026-12-03T22:00+0800', '2026-12-03T22:00:00+08:00'],
      ['2026-12-03T14:00Z', '2026-12-03T14:00:00Z'],
      // RFC 3339 lets T and Z be written in lower case, and a space stand for the T: kept as T and Z.
      ['2026-12-03t14:00:00z', '2026-12-03T14:00:00Z'],
      ['2026-12-03 14:00:00Z', '2026-12-03T14:00:00Z'],
      ['2026-12-03 22:00:00+08:00', '2026-12-03T22:00:00+08:00'],
      ['2026-12-03t22:00', '2026-12-03T22:00+08:00'],
      ['2026-12-03 22:00:30.5', '2026-12-03T22:00:30.5+08:00'],
      ['2026-12-03t22:00+0800', '2026-12-03T22:00:00+08:00'],
    ]) {
      const res = await postJson(`${api}/reports`, { text: '晚上十点河边有人倒垃圾', occurredAt: sent });
      const body = (await bodyOf(res)) as { id: string };
      expect(res.status, JSON.stringify(body)).toBe(202);
      const { id } = body;
      expect((await service.deps.db.selectFrom('cases').select('occurred_at').where('id', '=', id).executeTakeFirstOrThrow()).occurred_at).toBe(kept);
    }
  });

  it('accepts exactly 5,000 characters', async () => {
    const res = await postJson(`${api}/reports`, { text: '臭'.repeat(5000) });
    expect(res.status, JSON.stringify(await bodyOf(res))).toBe(202);
  });

  it('rejects malformed JSON with 400', async () => {
    const res = await postJson(`${api}/reports`, '{"text": "河里');
    const json = (await bodyOf(res)) as { error: { code: string; fields: Record<string, string> } };
    expect(res.status, JSON.stringify(json)).toBe(400);
    expect(json.error.code).toBe('malformed_body');
    expect(json.error.fields.body).toBeTruthy();
  });

  it.each(['["河里有死鱼"]', 'null', '"河里有死鱼"', '42'])('rejects a JSON body that is not an object (%s) with 400 saying so', async (body) => {
    const res = await postJson(`${api}/reports`, body);
    const json = (await bodyOf(res)) as { error: { code: string; fields: Record<string, string> } };
    expect(res.status, JSON.stringify(json)).toBe(400);
    expect(json.error.code).toBe('validation_failed');
    expect(json.error.fields).toEqual({ body: 'must be a JSON object { text, … }' });
  });

  it('rejects an unknown content type with 415', async () => {
    const res = await fetch(`${api}/reports`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: '<text>噪音</text>' });
    const json = (await bodyOf(res)) as { error: { code: string; fields: Record<string, string> } };
    expect(res.status, JSON.stringify(json)).toBe(415);
    expect(json.error.code).toBe('unsupported_media_type');
    expect(json.error.fields['content-type']).toBe('not accepted: text/xml');
  });

  it('takes a path with a trailing slash as the path without it', async () => {
    const res = await postJson(`${api}/reports/`, { text: '河边有人倒建筑垃圾' });
    const { trackingCode } = (await bodyOf(res)) as { trackingCode: string };
    expect(res.status).toBe(202);
    expect((await fetch(`${api}/track/${trackingCode}/`)).status).toBe(200);
    expect((await fetch(`${service.url}/healthz/`)).status).toBe(200);
    // The same limits too.
    const big = await postJson(`${api}/reports/`, { text: '臭', address: 'x'.repeat(1_100_000) });
    expect(big.status).toBe(413);
  });

  it('refuses a compressed body with 415 naming Content-Encoding, and stores nothing', async () => {
    const { gzipSync } = await import('node:zlib');
    const before = await countRows('cases');
    const res = await fetch(`${api}/reports`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(JSON.stringify({ text: '河里有死鱼' })),
    });
    const json = (await bodyOf(res)) as { error: { code: string; fields: Record<string, string> } };
    expect(res.status, JSON.stringify(json)).toBe(415);
    expect(json.error.fields).toEqual({ 'content-encoding': 'not accepted: gzip' });
    expect(await countRows('cases')).toBe(before);
    const plain = await postJson(`${api}/reports`, { text: '河里有死鱼' }, { 'content-encoding': 'identity' });
    expect(plain.status).toBe(202);
  });

  it('reads JSON declared as UTF-8, and refuses another declared charset with 415 and stores nothing', async () => {
    const utf8 = await postJson(`${api}/reports`, { text: '李家塘有人烧垃圾' }, { 'content-type': 'application/json; charset="UTF-8"' });
    expect(utf8.status, JSON.stringify(await bodyOf(utf8))).toBe(202);
    const before = await countRows('cases');
    const gbk = await postJson(`${api}/reports`, { text: '李家塘有人烧垃圾' }, { 'content-type': 'application/json; charset=gbk' });
    const json = (await bodyOf(gbk)) as { error: { code: string; fields: Record<string, string> } };
    expect(gbk.status, JSON.stringify(json)).toBe(415);
    expect(json.error.fields['content-type']).toBe('charset must be utf-8, not gbk');
    expect(await countRows('cases')).toBe(before);
  });

  it('answers a browser that declares another charset with a 415 page, on any page', async () => {
    for (const [method, path, contentType] of [
      ['GET', '/track', 'text/plain; charset=gbk'],
      ['POST', '/', 'application/x-www-form-urlencoded; charset=gbk'],
    ] as const) {
      const res = await fetch(`${service.url}${path}`, { method, headers: { accept: 'text/html', 'content-type': contentType }, ...(method === 'POST' ? { body: 'text=x' } : {}) });
      expect(res.status, `${method} ${path}`).toBe(415);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await res.text()).toContain('<h1>不支持的内容格式</h1>');
    }
  });

  it('rejects a request without body or content type with 400 naming text', async () => {
    const res = await fetch(`${api}/reports`, { method: 'POST' });
    const json = (await bodyOf(res)) as { error: { fields: Record<string, string> } };
    expect(res.status, JSON.stringify(json)).toBe(400);
    expect(json.error.fields.text).toBe('required');
  });

  it('rejects a JSON body over 1 MB with 413 and stores nothing', async () => {
    const before = await countRows('cases');
    const res = await postJson(`${api}/reports`, { text: '噪音', address: 'x'.repeat(1024 * 1024 + 10) });
    const json = (await bodyOf(res)) as { error: { code: string; fields: Record<string, string> } };
    expect(res.status, JSON.stringify(json)).toBe(413);
    expect(json.error.code).toBe('payload_too_large');
    expect(json.error.fields.body).toBe('at most 1 MB');
    expect(await countRows('cases')).toBe(before);
  });

  it('rejects a chunked JSON body over 1 MB (no Content-Length) with 413 and stores nothing', async () => {
    const before = await countRows('cases');
    const utf8 = new TextEncoder();
    const parts = [utf8.encode('{"text":"噪音","address":"'), ...Array.from({ length: 17 }, () => utf8.encode('x'.repeat(64 * 1024))), utf8.encode('"}')];
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = parts.shift();
        if (next) controller.enqueue(next);
        else controller.close();
      },
    });
    const res = await fetch(`${api}/reports`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, duplex: 'half' } as RequestInit);
    const json = (await bodyOf(res)) as { error: { code: string; fields: Record<string, string> } };
    expect(res.status, JSON.stringify(json)).toBe(413);
    expect(json.error.fields.body).toBe('at most 1 MB');
    expect(await countRows('cases')).toBe(before);
  });

  it('holds a multipart report without photos to 1 MB as well (413)', async () => {
    const before = await countRows('cases');
    const form = new FormData();
    form.set('text', '噪音');
    form.set('address', 'x'.repeat(1024 * 1024 + 10));
    const res = await fetch(`${api}/reports`, { method: 'POST', body: form });
    const json = (await bodyOf(res)) as { error: { code: string; fields: Record<string, string> } };
    expect(res.status, JSON.stringify(json)).toBe(413);
    expect(json.error.code).toBe('payload_too_large');
    expect(json.error.fields.body).toBe('at most 1 MB besides the files');
    expect(await countRows('cases')).toBe(before);
  });

  it('accepts multipart with photos and keeps them with the case', async () => {
    const form = new FormData();
    form.set('text', '盐下村山坡上有人倒了很多废电池和废机油桶');
    form.set('lat', '25.16');
    form.set('lng', '111.34');
    form.set('anonymous', 'on');
    form.append('photos', new Blob([PNG], { type: 'image/png' }), 'a.png');
    form.append('photos', new Blob([PNG], { type: 'image/png' }), 'b.png');
    const res = await fetch(`${api}/reports`, { method: 'POST', body: form });
    const body = (await bodyOf(res)) as { id: string };
    expect(res.status, JSON.stringify(body)).toBe(202);
    const photos = await service.deps.db.selectFrom('case_attachments').selectAll().where('case_id', '=', body.id).execute();
    expect(photos).toHaveLength(2);
    expect(photos.every((p) => p.mime === 'image/png' && Number(p.size) === PNG.length)).toBe(true);
    const stored = await service.deps.photos.get(photos[0]!.storage_key);
    expect(Buffer.from(stored!).equals(PNG)).toBe(true);
    const c = await service.deps.db.selectFrom('cases').select(['lat', 'lng', 'anonymous']).where('id', '=', body.id).executeTakeFirstOrThrow();
    expect([c.lat, c.lng, c.anonymous]).toEqual([25.16, 111.34, 1]);
  });

  it("takes multipart as clients other than browsers write it: bare-token parameters and a photo's name given as filename*", async () => {
    const boundary = '----intake-client-42';
    const field = (name: string, value: string) => Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name=${name}\r\n\r\n${value}\r\n`);
    const body = Buffer.concat([
      field('text', '盐下村山坡上有人倒了很多废电池，附照片'),
      field('anonymous', 'true'),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name=photos; filename*=utf-8''${encodeURIComponent('现场照片.png')}\r\nContent-Type: image/png\r\n\r\n`),
      PNG,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const res = await fetch(`${api}/reports`, { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body });
    const json = (await bodyOf(res)) as { id: string };
    expect(res.status, JSON.stringify(json)).toBe(202);
    const c = await service.deps.db.selectFrom('cases').select(['text', 'anonymous']).where('id', '=', json.id).executeTakeFirstOrThrow();
    expect(c).toEqual({ text: '盐下村山坡上有人倒了很多废电池，附照片', anonymous: 1 });
    const photos = await service.deps.db.selectFrom('case_attachments').selectAll().where('case_id', '=', json.id).execute();
    expect(photos.map((p) => p.mime)).toEqual(['image/png']);
  });

  it('keeps a photo without what its file says of who took it and where: no GPS, owner or device, the orientation kept', async () => {
    const form = new FormData();
    form.set('text', '盐下村山坡上有人倒了很多废电池（带定位的照片）');
    form.append('photos', new Blob([jpegWithExif({ orientation: 6, artist: 'OuyangPhoto 13912340077', latitude: 25.16 })], { type: 'image/jpeg' }), 'IMG_0001.jpg');
    form.append('photos', new Blob([PNG_WITH_TEXT], { type: 'image/png' }), 'b.png');
    form.append('photos', new Blob([HEIC_WITH_EXIF], { type: 'image/heic' }), 'IMG_0002.HEIC');
    const res = await fetch(`${api}/reports`, { method: 'POST', body: form });
    const body = (await bodyOf(res)) as { id: string };
    expect(res.status, JSON.stringify(body)).toBe(202);
    const photos = await service.deps.db.selectFrom('case_attachments').selectAll().where('case_id', '=', body.id).orderBy('storage_key').execute();
    expect(photos.map((p) => p.mime).sort()).toEqual(['image/heic', 'image/jpeg', 'image/png']);
    for (const p of photos) {
      const stored = Buffer.from((await service.deps.photos.get(p.storage_key))!);
      // The size and digest on record are the stored file's.
      expect(Number(p.size)).toBe(stored.length);
      expect(p.sha256).toBe(createHash('sha256').update(stored).digest('hex'));
      for (const said of ['OuyangPhoto', '13912340077', 'Ouyang Xmp']) expect(stored.toString('latin1')).not.toContain(said);
    }
    const jpeg = Buffer.from((await service.deps.photos.get(photos.find((p) => p.mime === 'image/jpeg')!.storage_key))!);
    expect(await exifr.parse(jpeg, { gps: true, tiff: true, xmp: true, translateValues: false })).toEqual({ Orientation: 6 });
  });

  it('rejects more than 5 photos', async () => {
    const form = new FormData();
    form.set('text', '垃圾堆');
    for (let i = 0; i < 6; i++) form.append('photos', new Blob([PNG], { type: 'image/png' }), `${i}.png`);
    const res = await fetch(`${api}/reports`, { method: 'POST', body: form });
    const json = (await bodyOf(res)) as { error: { fields: Record<string, string> } };
    expect(res.status, JSON.stringify(json)).toBe(400);
    expect(json.error.fields.photos).toBe('at most 5 photos');
  });

  it('rejects a photo over 10 MB', async () => {
    const big = Buffer.alloc(10 * 1024 * 1024 + 1);
    PNG.copy(big);
    const form = new FormData();
    form.set('text', '垃圾堆');
    form.append('photos', new Blob([big], { type: 'image/png' }), 'big.png');
    const res = await fetch(`${api}/reports`, { method: 'POST', body: form });
    const json = (await bodyOf(res)) as { error: { fields: Record<string, string> } };
    expect(res.status, JSON.stringify(json)).toBe(400);
    expect(json.error.fields['photos.0']).toBe('each photo at most 10 MB');
  });

  it('accepts the most a report may carry: 5 photos of exactly 10 MB each', async () => {
    const photo = Buffer.alloc(10 * 1024 * 1024);
    PNG.copy(photo);
    const form = new FormData();
    form.set('text', '兴隆办事处那边的厂子往沟里排黑水，拍了五张照片');
    for (let i = 0; i < 5; i++) form.append('photos', new Blob([photo], { type: 'image/png' }), `${i}.png`);
    const res = await fetch(`${api}/reports`, { method: 'POST', body: form });
    const body = (await bodyOf(res)) as { id: string };
    expect(res.status, JSON.stringify(body)).toBe(202);
    const photos = await service.deps.db.selectFrom('case_attachments').select(['size', 'mime']).where('case_id', '=', body.id).execute();
    // Kept as pictures: the padding after the image's end (IEND) is not one, and is not kept.
    expect(photos.map((p) => [Number(p.size), p.mime])).toEqual(Array(5).fill([PNG.length, 'image/png']));
  });

  it('rejects a file that is not an image, whatever it claims, and writes no file', async () => {
    const before = await countRows('cases');
    const form = new FormData();
    form.set('text', '垃圾堆');
    form.append('photos', new Blob(['#!/bin/sh\necho hi\n'], { type: 'image/jpeg' }), 'x.jpg');
    const res = await fetch(`${api}/reports`, { method: 'POST', body: form });
    const json = (await bodyOf(res)) as { error: { fields: Record<string, string> } };
    expect(res.status, JSON.stringify(json)).toBe(400);
    expect(json.error.fields.photos).toContain('must be a JPEG');
    expect(await countRows('cases')).toBe(before);
  });

  it('names photos sent as text rather than files', async () => {
    const form = new FormData();
    form.set('text', '垃圾堆');
    form.set('photos', 'photo.jpg');
    const res = await fetch(`${api}/reports`, { method: 'POST', body: form });
    const json = (await bodyOf(res)) as { error: { fields: Record<string, string> } };
    expect(res.status, JSON.stringify(json)).toBe(400);
    expect(json.error.fields).toEqual({ photos: 'must be a photo (a file field of the form)' });
  });

  it('names a photo sent under a misspelt field instead of dropping it, and creates nothing', async () => {
    const before = await countRows('cases');
    const form = new FormData();
    form.set('text', '垃圾堆');
    form.append('photo', new Blob([PNG], { type: 'image/png' }), 'p.png');
    const res = await fetch(`${api}/reports`, { method: 'POST', body: form });
    const json = (await bodyOf(res)) as { error: { fields: Record<string, string> } };
    expect(res.status, JSON.stringify(json)).toBe(400);
    expect(json.error.fields).toEqual({ photo: 'unknown field' });
    expect(await countRows('cases')).toBe(before);
  });

  it('names a JSON body sent as a form by its start, without saying back the whole report', async () => {
    const before = await countRows('cases');
    const report = JSON.stringify({ text: '兴隆办事处有工厂排污水，我叫李建国，电话13922223333，天天晚上排，沟里全是黑水' });
    const res = await fetch(`${api}/reports`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: report });
    const json = (await bodyOf(res)) as { error: { message: string; fields: Record<string, string> } };
    expect(res.status, JSON.stringify(json)).toBe(400);
    const unknown = Object.keys(json.error.fields).find((k) => json.error.fields[k] === 'unknown field')!;
    expect(unknown).toBe(`${[...report].slice(0, 32).join('')}…`.replace(/\d{5,}/, (d) => '*'.repeat(d.length)));
    expect(JSON.stringify(json)).not.toContain('139222');
    expect(JSON.stringify(json)).not.toContain('沟里全是黑水');
    expect(await countRows('cases')).toBe(before);
  });

  it.each(['0x19', '1e1', 'Infinity', '25,1'])('rejects the latitude %s in a form as no number', async (lat) => {
    const form = new FormData();
    form.set('text', '噪音');
    form.set('lat', lat);
    form.set('lng', '111.3');
    const res = await fetch(`${api}/reports`, { method: 'POST', body: form });
    const json = (await bodyOf(res)) as { error: { fields: Record<string, string> } };
    expect(res.status, JSON.stringify(json)).toBe(400);
    expect(json.error.fields.lat).toBe('must be a number');
  });

  it('refuses a form whose lat and lng lie outside the district, naming both, and creates nothing', async () => {
    const before = await countRows('cases');
    const form = new FormData();
    form.set('text', '盐下村电镀厂夜里偷排废水');
    form.set('lat', '28.2');
    form.set('lng', '112.9');
    form.append('photos', new Blob([PNG], { type: 'image/png' }), 'a.png');
    const res = await fetch(`${api}/reports`, { method: 'POST', body: form });
    const json = (await bodyOf(res)) as { error: { fields: Record<string, string> } };
    expect(res.status, JSON.stringify(json)).toBe(400);
    expect(Object.keys(json.error.fields)).toEqual(['lat', 'lng']);
    expect(json.error.fields.lat).toContain('outside the district');
    expect(await countRows('cases')).toBe(before);
  });

  it('names a form field given more than once as such, and creates nothing', async () => {
    const before = await countRows('cases');
    const form = new FormData();
    form.append('text', '噪音');
    form.append('text', '垃圾');
    form.append('lat', '25.1');
    form.append('lat', '25.2');
    form.set('lng', '111.3');
    form.append('photos', new Blob([PNG], { type: 'image/png' }), 'a.png');
    form.append('photos', new Blob([PNG], { type: 'image/png' }), 'b.png');
    const res = await fetch(`${api}/reports`, { method: 'POST', body: form });
    const json = (await bodyOf(res)) as { error: { code: string; fields: Record<string, string> } };
    expect(res.status, JSON.stringify(json)).toBe(400);
    expect(json.error.fields).toEqual({ text: 'given more than once', lat: 'given more than once' });
    expect(await countRows('cases')).toBe(before);

    const urlencoded = await fetch(`${api}/reports`, { method: 'POST', body: new URLSearchParams([['text', '噪音'], ['anonymous', 'true'], ['anonymous', 'false']]) });
    const said = (await bodyOf(urlencoded)) as { error: { fields: Record<string, string> } };
    expect(urlencoded.status, JSON.stringify(said)).toBe(400);
    expect(said.error.fields).toEqual({ anonymous: 'given more than once' });
    expect(await countRows('cases')).toBe(before);
  });

  it('rejects lat without lng in a form', async () => {
    const form = new FormData();
    form.set('text', '噪音');
    form.set('lat', '25.1');
    const res = await fetch(`${api}/reports`, { method: 'POST', body: form });
    const json = (await bodyOf(res)) as { error: { fields: Record<string, string> } };
    expect(res.status, JSON.stringify(json)).toBe(400);
    expect(json.error.fields.lng).toBe('give both lat and lng, or neither');
  });

  describe('Idempotency-Key', () => {
    it('returns the same case for a retried submission', async () => {
      const before = await countRows('cases');
      const headers = { 'Idempotency-Key': 'retry-abc-123' };
      const report = { text: '神仙洞那边养猪场的粪水直接排到田里', phone: '13900001111' };
      const first = await postJson(`${api}/reports`, report, headers);
      const second = await postJson(`${api}/reports`, report, headers);
      const a = (await first.json()) as { id: string; trackingCode: string };
      const b = (await second.json()) as { id: string; trackingCode: string };
      expect([first.status, second.status]).toEqual([202, 202]);
      expect(b).toEqual(a);
      expect(second.headers.get('idempotent-replayed')).toBe('true');
      expect(await countRows('cases')).toBe(before + 1);
    });

    it('creates one case when the same key arrives concurrently', async () => {
      const before = await countRows('cases');
      const headers = { 'Idempotency-Key': 'concurrent-key-1' };
      const report = { text: '李家塘的河里有死鱼' };
      const responses = await Promise.all(Array.from({ length: 8 }, () => postJson(`${api}/reports`, report, headers)));
      const bodies = (await Promise.all(responses.map((r) => r.json()))) as Array<{ id: string }>;
      expect(responses.map((r) => r.status)).toEqual(Array(8).fill(202));
      expect(new Set(bodies.map((b) => b.id)).size).toBe(1);
      expect(await countRows('cases')).toBe(before + 1);
    });

    it('returns the same case for a retried multipart submission and keeps its photos once', async () => {
      const before = await countRows('cases');
      const form = (photo: Buffer) => {
        const f = new FormData();
        f.set('text', '回龙村路边堆了好多化工桶，有的在漏');
        f.append('photos', new Blob([photo], { type: 'image/png' }), 'drums.png');
        return f;
      };
      const send = (photo = PNG) => fetch(`${api}/reports`, { method: 'POST', headers: { 'Idempotency-Key': 'multipart-retry-1' }, body: form(photo) });
      const first = await send();
      const retries = await Promise.all([send(), send(), send()]);
      const bodies = (await Promise.all([first, ...retries].map((r) => r.json()))) as Array<{ id: string }>;
      expect([first, ...retries].map((r) => r.status)).toEqual([202, 202, 202, 202]);
      expect(new Set(bodies.map((b) => b.id)).size).toBe(1);
      expect(await countRows('cases')).toBe(before + 1);
      const photos = await service.deps.db.selectFrom('case_attachments').select('id').where('case_id', '=', bodies[0]!.id).execute();
      expect(photos).toHaveLength(1);

      // The same text with another photo is a different report.
      const other = Buffer.concat([PNG, Buffer.from([0])]);
      const reused = await send(other);
      const json = (await bodyOf(reused)) as { error: { code: string; fields: Record<string, string> } };
      expect(reused.status, JSON.stringify(json)).toBe(409);
      expect(json.error.fields['Idempotency-Key']).toBe('already used for a different report');
    });

    it('refuses the same key for a different report with 409', async () => {
      const headers = { 'Idempotency-Key': 'reused-key-1' };
      await postJson(`${api}/reports`, { text: '噪音扰民' }, headers);
      const res = await postJson(`${api}/reports`, { text: '别的事情：垃圾没人清运' }, headers);
      const json = (await bodyOf(res)) as { error: { code: string } };
      expect(res.status, JSON.stringify(json)).toBe(409);
      expect(json.error.code).toBe('idempotency_key_reused');
    });

    it('refuses an empty key with 400 saying it is empty, and creates nothing', async () => {
      const before = await countRows('cases');
      const res = await postJson(`${api}/reports`, { text: '噪音扰民' }, { 'Idempotency-Key': '' });
      const json = (await bodyOf(res)) as { error: { code: string; fields: Record<string, string> } };
      expect(res.status, JSON.stringify(json)).toBe(400);
      expect(json.error.fields).toEqual({ 'Idempotency-Key': 'must not be empty' });
      expect(await countRows('cases')).toBe(before);
    });

    it('names a key with a space in it as the header is written, and creates nothing', async () => {
      const before = await countRows('cases');
      const res = await postJson(`${api}/reports`, { text: '噪音扰民' }, { 'Idempotency-Key': 'has space' });
      const json = (await bodyOf(res)) as { error: { code: string; fields: Record<string, string> } };
      expect(res.status, JSON.stringify(json)).toBe(400);
      expect(json.error.fields).toEqual({ 'Idempotency-Key': 'printable ASCII without spaces' });
      expect(await countRows('cases')).toBe(before);
    });
  });
});

describe('GET /api/v1/track/:trackingCode', () => {
  it('shows the public view once the pipeline dispatched the case', async () => {
    const res = await postJson(`${api}/reports`, {
      text: '兴隆办事处那边一个厂子晚上往沟里排黑水，偷排废水。我叫王五，电话13812345678，不要透露我的名字',
      name: '王五',
      phone: '13812345678',
    });
    const { trackingCode } = (await res.json()) as { trackingCode: string };
    const view = await waitFor(
      async () => {
        const r = await fetch(`${api}/track/${trackingCode}`);
        const v = (await r.json()) as { status: string };
        return v.status === 'dispatched' ? v : null;
      },
      { what: 'dispatch' },
    );
    expect(view).toEqual({
      trackingCode,
      status: 'dispatched',
      type: { code: 'illegal_discharge', name: '非法排放有毒有害污染物' },
      lead: { code: 'epb', name: '区环保局' },
      coHandlers: [{ code: 'econ', name: '区经信委' }],
      jurisdiction: { code: 'xinglong', name: '兴隆办事处' },
      urgent: false,
      anonymous: true,
      receivedAt: expect.any(String),
      dispatchedAt: expect.any(String),
      deadlines: { signBy: expect.any(String), replyBy: expect.any(String), rateBy: null },
      reply: null,
      rating: null,
      history: [
        { status: 'received', at: expect.any(String), note: '已受理' },
        { status: 'dispatched', at: expect.any(String), note: '已派发至区环保局办理' },
      ],
      mergedCase: null,
    });
    const raw = JSON.stringify(view);
    expect(raw).not.toContain('王五');
    expect(raw).not.toContain('13812345678');
    expect(raw).not.toContain('5678');
  });

  it('accepts the code typed in lower case with dashes', async () => {
    const res = await postJson(`${api}/reports`, { text: '河里有死鱼' });
    const { trackingCode } = (await res.json()) as { trackingCode: string };
    const typed = `${trackingCode.slice(0, 5)}-${trackingCode.slice(5)}`.toLowerCase();
    const r = await fetch(`${api}/track/${typed}`);
    expect(r.status).toBe(200);
  });

  it('gives English names with lang=en', async () => {
    const res = await postJson(`${api}/reports`, { text: '回龙村养猪场粪水乱排' });
    const { trackingCode } = (await res.json()) as { trackingCode: string };
    const view = await waitFor(async () => {
      const v = (await (await fetch(`${api}/track/${trackingCode}?lang=en`)).json()) as { status: string; lead: { name: string } | null };
      return v.status === 'dispatched' ? v : null;
    });
    expect(view.lead?.name).toBe('District Agriculture Commission');
    // The notes the service wrote too, as the English tracking page says them; in Chinese without lang=en.
    const english = (await (await fetch(`${api}/track/${trackingCode}?lang=en`)).json()) as { history: Array<{ status: string; note: string | null }> };
    expect(english.history).toEqual([
      { status: 'received', at: expect.any(String), note: 'Received' },
      { status: 'dispatched', at: expect.any(String), note: 'Sent to District Agriculture Commission' },
    ]);
    const chinese = (await (await fetch(`${api}/track/${trackingCode}`)).json()) as { history: Array<{ status: string; note: string | null }> };
    expect(chinese.history.map((h) => h.note)).toEqual(['已受理', '已派发至区农业委办理']);
  });

  it('answers 404 for an unknown code', async () => {
    const res = await fetch(`${api}/track/ACDEFGHJKM`);
    const json = (await bodyOf(res)) as { error: { code: string } };
    expect(res.status, JSON.stringify(json)).toBe(404);
    expect(json.error.code).toBe('not_found');
  });

  it('refuses a code longer than any with 400 naming it in its own words', async () => {
    const res = await fetch(`${api}/track/${'A'.repeat(41)}`);
    const json = (await bodyOf(res)) as { error: { code: string; fields: Record<string, string> } };
    expect(res.status, JSON.stringify(json)).toBe(400);
    expect(json.error.fields).toEqual({ trackingCode: 'at most 40 characters' });
  });

  it('answers 404 for something that cannot be a code', async () => {
    const res = await fetch(`${api}/track/${encodeURIComponent("1' or '1'='1")}`);
    expect(res.status).toBe(404);
  });
});

describe('operations', () => {
  it('GET /healthz is 200', async () => {
    const res = await fetch(`${service.url}/healthz`);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('GET /readyz reports the database and Redis up', async () => {
    const res = await fetch(`${service.url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ready', checks: { database: 'ok', redis: 'ok', intake: 'ok' } });
  });

  it('serves an OpenAPI document describing the intake routes', async () => {
    const doc = (await (await fetch(`${service.url}/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/v1/reports', '/api/v1/track/{trackingCode}', '/healthz', '/readyz']),
    );
    const post = (doc.paths['/api/v1/reports'] as { post: { requestBody: { content: Record<string, unknown> } } }).post;
    // A form without photos may come urlencoded, as HTML forms without files are sent.
    expect(Object.keys(post.requestBody.content)).toEqual(['application/json', 'multipart/form-data', 'application/x-www-form-urlencoded']);
    const input = (doc as unknown as { components: { schemas: Record<string, { properties: Record<string, Record<string, unknown>> }> } }).components.schemas.ReportInput!;
    expect(input.properties.text).toMatchObject({ type: 'string', minLength: 1, maxLength: 5000 });
    // The form's limits are the JSON body's, and its photos' count is said too.
    const form = (post.requestBody.content['multipart/form-data'] as { schema: { properties: Record<string, Record<string, unknown>> } }).schema;
    expect(form.properties.text).toMatchObject({ type: 'string', minLength: 1, maxLength: 5000 });
    expect(form.properties.photos).toMatchObject({ type: 'array', maxItems: 5, description: 'Up to 5 photos, each at most 10 MB.' });
    const urlencoded = (post.requestBody.content['application/x-www-form-urlencoded'] as { schema: { properties: Record<string, Record<string, unknown>>; required: string[] } }).schema;
    expect(Object.keys(urlencoded.properties)).toEqual(Object.keys(form.properties).filter((k) => k !== 'photos'));
    expect(urlencoded.properties.text).toMatchObject({ type: 'string', minLength: 1, maxLength: 5000 });
    expect(urlencoded.required).toEqual(['text']);
    expect(documentProblems(doc as unknown as OpenApiDoc)).toEqual([]);
  });

  it('takes the report form urlencoded, as the document says, its photos only as multipart', async () => {
    const fields = { text: '盐下村电镀厂夜里偷排废水', address: '盐下村三组', lat: '25.1', lng: '111.3', name: '赵六', phone: '0731-88886666', shareContact: 'on', occurredAt: '2026-01-05T21:30' };
    const res = await fetch(`${api}/reports`, { method: 'POST', body: new URLSearchParams(fields) });
    const body = (await bodyOf(res)) as { id: string };
    expect(res.status, JSON.stringify(body)).toBe(202);
    const row = await service.deps.db.selectFrom('cases').select(['text', 'address', 'lat', 'lng', 'occurred_at']).where('id', '=', body.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ text: fields.text, address: fields.address, lat: 25.1, lng: 111.3, occurred_at: '2026-01-05T21:30+08:00' });
    const photos = await fetch(`${api}/reports`, { method: 'POST', body: new URLSearchParams({ text: '垃圾堆', photos: 'p.png' }) });
    const refused = (await bodyOf(photos)) as { error: { fields: Record<string, string> } };
    expect(photos.status, JSON.stringify(refused)).toBe(400);
    expect(Object.keys(refused.error.fields)).toEqual(['photos']);
  });

  it("documents on every operation the 503 not_ready a stopping service answers before any route", async () => {
    const doc = (await (await fetch(`${service.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>;
    };
    const operations = Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ at: `${method} ${path}`, op })));
    expect(operations.length).toBeGreaterThan(30);
    for (const { at, op } of operations) {
      // /readyz also answers 503 with its checks when one is down: the error shape is one of its two.
      const schema = op.responses['503']?.content?.['application/json']?.schema as { anyOf?: unknown[] } | undefined;
      expect(schema?.anyOf ?? [schema], at).toContainEqual({ $ref: '#/components/schemas/Error' });
    }
  });

  it('serves the API page and its assets without any CDN', async () => {
    const page = await (await fetch(`${service.url}/docs`)).text();
    expect(page).toContain('/openapi.json');
    const external = [...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(external.length).toBeGreaterThan(0);
    expect(external.every((u) => u.startsWith('/'))).toBe(true);
    for (const u of external) expect((await fetch(`${service.url}${u}`)).status).toBe(200);
  });

  it('answers unknown routes with the error shape', async () => {
    const res = await fetch(`${service.url}/nope`);
    const json = (await bodyOf(res)) as { error: { code: string } };
    expect(res.status).toBe(404);
    expect(json.error.code).toBe('not_found');
  });

  it('leaves no orphan upload files behind after rejected photos and replayed submissions', async () => {
    // The files on disk are exactly the photos of accepted cases: rejected uploads are never
    // written, and a concurrent retry that lost to the first submission removed its copies.
    const root = service.deps.env.UPLOAD_DIR;
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory()) walk(`${dir}/${e.name}`);
        else files.push(`${dir}/${e.name}`.slice(root.length + 1));
      }
    };
    walk(root);
    const stored = await service.deps.db.selectFrom('case_attachments').select('storage_key').execute();
    expect(stored.length).toBeGreaterThan(0);
    expect(files.sort()).toEqual(stored.map((r) => r.storage_key).sort());
  });
});

describe('the tracking page (trackUrl)', () => {
  it('shows the case to the resident in Chinese, and in English on request, without their identity', async () => {
    const res = await postJson(`${api}/reports`, { text: '朱家观村养猪场粪水直排，我是孙九 13711112222', name: '孙九', phone: '13711112222' });
    const { trackingCode, trackUrl } = (await res.json()) as { trackingCode: string; trackUrl: string };
    expect(new URL(trackUrl).pathname).toBe(`/track/${trackingCode}`);
    await waitFor(async () => ((await (await fetch(`${api}/track/${trackingCode}`)).json()) as { status: string }).status === 'dispatched');
    const page = await fetch(`${service.url}/track/${trackingCode}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const body = await page.text();
    expect(body).toContain(trackingCode);
    expect(body).toContain('已派单');
    expect(body).toContain('区农业委');
    expect(body).not.toContain('孙九');
    expect(body).not.toContain('13711112222');
    const en = await (await fetch(`${service.url}/track/${trackingCode}?lang=en`)).text();
    expect(en).toContain('Sent to the bureau');
    expect(en).toContain('District Agriculture Commission');
  });

  it('looks a code up from the form and answers 404 for an unknown one', async () => {
    const lookup = await fetch(`${service.url}/track?code=ACDEFGHJKM`, { redirect: 'manual' });
    expect(lookup.status).toBe(303);
    expect(lookup.headers.get('location')).toBe('/track/ACDEFGHJKM');
    const missing = await fetch(`${service.url}/track/ACDEFGHJKM`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('没有找到');
  });
});

describe('a method a path does not take', () => {
  type ErrorJson = { error: { code: string; message: string; requestId: string; fields?: unknown } };

  it.each([
    ['GET', '/api/v1/reports', 'POST'],
    ['PUT', '/api/v1/reports', 'POST'],
    ['DELETE', '/api/v1/reports/', 'POST'],
    ['PATCH', '/api/v1/reports', 'POST'],
    ['POST', '/api/v1/track/ACDEFGHJKM', 'GET, HEAD'],
    ['DELETE', '/api/v1/cases/0000', 'GET, HEAD'],
    ['GET', '/api/v1/cases/0000/accept', 'POST'],
    ['GET', '/api/v1/hotline/calls', 'POST'],
    ['POST', '/healthz', 'GET, HEAD'],
    ['PUT', '/openapi.json', 'GET, HEAD'],
  ])('answers %s %s with 405, the methods it takes in Allow, in the error shape', async (method, path, allow) => {
    const res = await fetch(`${service.url}${path}`, { method, headers: { 'x-request-id': `allow-${method}` } });
    const json = (await bodyOf(res)) as ErrorJson;
    expect(res.status, JSON.stringify(json)).toBe(405);
    expect(res.headers.get('allow')).toBe(allow);
    expect(json).toEqual({ error: { code: 'method_not_allowed', message: `this path does not take ${method}; it takes ${allow} (the Allow header)`, requestId: `allow-${method}` } });
  });

  it('says it in Chinese to a client that prefers it, and answers HEAD with the headers alone', async () => {
    const zh = await fetch(`${api}/reports`, { method: 'PUT', headers: { 'accept-language': 'zh-CN,zh;q=0.9' } });
    expect(zh.status).toBe(405);
    expect(((await zh.json()) as ErrorJson).error).toMatchObject({ code: 'method_not_allowed', message: '此路径不支持该请求方法，可用的方法见 Allow 响应头' });
    const head = await fetch(`${api}/reports`, { method: 'HEAD' });
    expect(head.status).toBe(405);
    expect(head.headers.get('allow')).toBe('POST');
    expect(await head.text()).toBe('');
  });

  it('answers OPTIONS like any other method the path does not take: the service serves no CORS', async () => {
    const res = await fetch(`${api}/reports`, { method: 'OPTIONS', headers: { origin: 'https://elsewhere.example', 'access-control-request-method': 'POST' } });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('leaves a path no route has at 404 whatever the method, and a GET its route finds nothing for', async () => {
    for (const [method, path] of [['POST', '/nope'], ['DELETE', '/api/v1/nope'], ['GET', '/api/v1/reports/extra'], ['PUT', '/api/v1/track/ACDEFGHJKM/more'], ['OPTIONS', '/nope']] as const) {
      const res = await fetch(`${service.url}${path}`, { method });
      const json = (await bodyOf(res)) as ErrorJson;
      expect(res.status, `${method} ${path}: ${JSON.stringify(json)}`).toBe(404);
      expect(json.error.code).toBe('not_found');
      expect(res.headers.get('allow')).toBeNull();
    }
    // Routed for GET, answered 404 by its handler (no such file, no such case): no 405 claiming GET is not taken.
    for (const path of ['/docs/assets/nope.js', '/api/v1/track/ACDEFGHJKM']) {
      const res = await fetch(`${service.url}${path}`);
      expect(res.status, path).toBe(404);
      expect(res.headers.get('allow'), path).toBeNull();
    }
  });

  it('answers a page posted to that only shows itself with a 405 page in the visitor\'s language', async () => {
    for (const path of ['/public', '/submitted/ACDEFGHJKM', '/docs']) {
      const res = await fetch(`${service.url}${path}`, { method: 'POST', headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1' });
      expect(res.status, path).toBe(405);
      expect(res.headers.get('allow'), path).toBe('GET, HEAD');
      expect(res.headers.get('content-type'), path).toContain('text/html');
      const page = await res.text();
      expect(page, path).toContain('不支持的访问方式');
      expect(page, path).toContain('此页面不能这样打开或提交');
    }
    const en = await fetch(`${service.url}/public?lang=en`, { method: 'DELETE', headers: { accept: 'text/html' } });
    expect(en.status).toBe(405);
    expect(await en.text()).toContain('This page cannot be opened or sent that way.');
    // A form's address opened as a link: the form's POST is what it takes.
    const signout = await fetch(`${service.url}/signout`, { headers: { accept: 'text/html' } });
    expect(signout.status).toBe(405);
    expect(signout.headers.get('allow')).toBe('POST');
  });

  it("still runs a path's own guards first: the form token, then the sign-in of the staff pages", async () => {
    for (const [method, path, status] of [['POST', '/desk/find', 403], ['DELETE', '/inbox', 403], ['POST', '/track', 403], ['GET', '/desk/cases/0000/route', 303]] as const) {
      const res = await fetch(`${service.url}${path}`, { method, headers: { accept: 'text/html' }, redirect: 'manual' });
      expect(res.status, `${method} ${path}`).toBe(status);
      expect(res.headers.get('allow'), `${method} ${path}`).toBeNull();
      if (status === 303) expect(res.headers.get('location')).toBe(`/signin?next=${encodeURIComponent(path)}`);
    }
  });
});

describe('a request the HTTP server cannot read', () => {
  type ErrorJson = { error: { code: string; message: string; requestId: string } };

  /** Sends bytes on a connection of its own and reads the whole answer, up to the server closing it. */
  async function raw(request: string): Promise<{ status: number; headers: Map<string, string>; body: string; closed: boolean }> {
    const port = Number(new URL(service.url).port);
    const answer = await new Promise<{ text: string; closed: boolean }>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write(request));
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('end', () => resolve({ text, closed: true }));
      socket.on('error', reject);
      socket.setTimeout(5000, () => {
        socket.destroy();
        resolve({ text, closed: false });
      });
    });
    const [head = '', body = ''] = answer.text.split('\r\n\r\n');
    const [statusLine = '', ...headerLines] = head.split('\r\n');
    const headers = new Map(headerLines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
    return { status: Number(statusLine.split(' ')[1]), headers, body, closed: answer.closed };
  }

  async function caseCount(): Promise<number> {
    const row = await service.deps.db.selectFrom('cases').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  it('answers headers over 16 KB with 431 in the error shape, files nothing, and closes the connection', async () => {
    const before = await caseCount();
    const body = JSON.stringify({ text: '河边有工厂排放黑色污水，气味刺鼻' });
    const res = await raw(
      `POST /api/v1/reports HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nCookie: s=${'a'.repeat(20_000)}\r\n\r\n${body}`,
    );
    expect(res.status).toBe(431);
    expect(res.headers.get('content-type')).toBe('application/json; charset=UTF-8');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('connection')).toBe('close');
    expect(Number(res.headers.get('content-length'))).toBe(Buffer.byteLength(res.body));
    const json = JSON.parse(res.body) as ErrorJson;
    expect(json.error.code).toBe('headers_too_large');
    expect(json.error.message).toMatch(/headers are larger than the server takes/);
    expect(json.error.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get('x-request-id')).toBe(json.error.requestId);
    expect(res.closed).toBe(true);
    expect(await caseCount()).toBe(before);
  });

  it('answers a request that is not valid HTTP with 400 malformed_request, and goes on serving', async () => {
    for (const request of ['GET /healthz HTTP/1.1\r\nHost: localhost\r\nthis is no header\r\n\r\n', 'HELLO\r\n\r\n', 'GET /healthz HTTP/1.1\r\nHost: localhost\r\nContent-Length: x\r\n\r\n']) {
      const res = await raw(request);
      expect(res.status, request).toBe(400);
      const json = JSON.parse(res.body) as ErrorJson;
      expect(json.error).toEqual({ code: 'malformed_request', message: 'the request is not valid HTTP/1.1', requestId: res.headers.get('x-request-id') });
      expect(res.closed).toBe(true);
    }
    const ok = await fetch(`${service.url}/healthz`);
    expect(ok.status).toBe(200);
  });

  it('answers chunk extensions over the limit with 413 and files nothing', async () => {
    const before = await caseCount();
    const res = await raw(
      `POST /api/v1/reports HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2;${'x'.repeat(20_000)}\r\n{}\r\n0\r\n\r\n`,
    );
    expect(res.status).toBe(413);
    expect((JSON.parse(res.body) as ErrorJson).error.code).toBe('payload_too_large');
    expect(await caseCount()).toBe(before);
  });

  it('documents these answers in /openapi.json', async () => {
    const doc = (await (await fetch(`${service.url}/openapi.json`)).json()) as { info: { description: string } };
    for (const said of ['431 `headers_too_large`', '400 `malformed_request`', '408 `request_timeout`']) expect(doc.info.description).toContain(said);
  });
});
