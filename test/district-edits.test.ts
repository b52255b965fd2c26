import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { setCredentials } from '../db/repositories/web-sessions.repository.js';
import { issueToken } from '../db/repositories/tokens.repository.js';
import { createUser } from '../db/repositories/users.repository.js';
import { hashPassword } from '../src/auth/password.js';
import { DEFAULT_EXAMPLES_PATH, loadOrTrain } from '../src/classifier/classifier-store.js';
import { ManualClock } from '../src/clock.js';
import { DEFAULT_DISTRICT_PATH, loadDistrictFile } from '../src/district/district-file.js';
import { buildDistrict, DistrictConfigError, type District } from '../src/district/district.schema.js';
import { filterCodeProblem } from '../src/district/gone-codes.js';
import { createLogger, type Logger } from '../src/logger.js';
import { createRuleClassifier } from '../src/pipeline/rule-classifier.js';
import { startService } from '../src/runtime.js';
import { captureLogs, onCleanup, startTestService, tempDir, testEnv } from './harness.js';
import { formClient, PASSWORD } from './web-staff-helpers.js';
import { client, json, seedCase, T0, type TestService } from './workflow-helpers.js';

/**
 * The district file edited while cases carry its codes: a bureau dropped, a
 * type dropped, a sub-district office's code renamed. The cases made before
 * keep the old codes; the service must still show them and let a dispatcher
 * move them on to what the file has now.
 */

type DistrictJson = {
  bureaus: Array<{ code: string }>;
  types: Array<{ code: string }>;
  jurisdictions: Array<{ code: string }>;
  routing: Record<string, { lead: string; co?: string[] }>;
  classifier: Record<string, unknown>;
};

const defaultJson = () => JSON.parse(readFileSync(DEFAULT_DISTRICT_PATH, 'utf8')) as DistrictJson;

/** The default file without the enforcement brigade (its routes given to the EPB) and noise, and with 兴隆's code changed. */
function editedJson(): DistrictJson {
  const d = defaultJson();
  d.bureaus = d.bureaus.filter((b) => b.code !== 'enforcement');
  for (const r of Object.values(d.routing)) {
    if (r.lead === 'enforcement') r.lead = 'epb';
    if (r.co) r.co = r.co.filter((c) => c !== 'enforcement' && c !== r.lead);
  }
  d.types = d.types.filter((t) => t.code !== 'noise');
  delete d.routing.noise;
  d.jurisdictions.find((j) => j.code === 'xinglong')!.code = 'xinglong_new';
  return d;
}


describe('cases made before the district file was edited', () => {
  let service: TestService;
  let dispatcher: string;
  let older: { id: string; trackingCode: string };
  let noisy: { id: string; trackingCode: string };
  let ledByDropped: { id: string; trackingCode: string };
  const as = (token: string | null) => client(service.url, token);

  beforeAll(async () => {
    const env = testEnv('district-edit', { TRUST_PROXY: '1' });
    const clock = new ManualClock(T0);
    const start = (district: District, logger: Logger = createLogger('silent')) => startTestService(env, 'all', { clock, district, classifier: createRuleClassifier(district), logger });
    const first = await start(loadDistrictFile());
    const db = first.deps.db;
    const user = await createUser(db, { name: '调度老李', role: 'dispatcher', unitCode: null, at: T0 });
    dispatcher = (await issueToken(db, { userId: user.id, label: null, at: T0 })).token;
    await setCredentials(db, { userId: user.id, username: 'laoli', passwordHash: await hashPassword(PASSWORD, 1000), at: T0 });
    older = await seedCase(first, clock, {
      type: 'garbage_sludge',
      text: '兴隆办事处路口垃圾堆成山（改配置前）',
      assignments: [
        { unit: 'epb', role: 'lead' },
        { unit: 'enforcement', role: 'co' },
        { unit: 'xinglong', role: 'jurisdiction' },
      ],
    });
    noisy = await seedCase(first, clock, { type: 'noise', text: '兴隆办事处工地半夜施工（改配置前）', assignments: [{ unit: 'epb', role: 'lead' }] });
    ledByDropped = await seedCase(first, clock, {
      type: 'garbage_sludge',
      text: '李家塘菜市场垃圾没人清（改配置前）',
      jurisdiction: 'lijiatang',
      assignments: [
        { unit: 'enforcement', role: 'lead' },
        { unit: 'lijiatang', role: 'jurisdiction' },
      ],
    });
    await first.stop();
    service = await start(buildDistrict(editedJson()), logs.logger);
  });

  const logs = captureLogs();

  it('says at start which codes the open cases carry that the file no longer has, and how many cases', () => {
    const said = logs.lines.filter((l) => String(l.msg).startsWith('open cases carry codes the district file no longer has'));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatchObject({ level: 40, types: { noise: 1 }, units: { enforcement: 2, xinglong: 1 }, jurisdictions: { xinglong: 2 } });
  });

  it('still shows them to the public, by the names the file had for them', async () => {
    const track = await json(as(null).get(`/api/v1/track/${noisy.trackingCode}`));
    expect(track.status).toBe(200);
    expect(track.body.type).toEqual({ code: 'noise', name: '噪声扰民' });
    expect(track.body.jurisdiction).toEqual({ code: 'xinglong', name: '兴隆办事处' });
    const english = await json(as(null).get(`/api/v1/track/${older.trackingCode}?lang=en`));
    expect(english.body.coHandlers).toContainEqual({ code: 'enforcement', name: 'District Urban Administration and Law Enforcement Brigade' });
    expect(english.body.jurisdiction).toEqual({ code: 'xinglong', name: 'Xinglong Sub-district Office' });
    const page = await fetch(`${service.url}/track/${ledByDropped.trackingCode}?lang=en`);
    expect(page.status).toBe(200);
    const html = await page.text();
    // The lead, and the note written when the case was sent to it, in English.
    expect(html).toContain('Sent to District Urban Administration and Law Enforcement Brigade');
    expect(html).not.toMatch(/>enforcement</);
  });

  it('names them to staff and in the statistics as the file did', async () => {
    const view = await json(as(dispatcher).get(`/api/v1/cases/${ledByDropped.id}`));
    expect(view.body.assignments.find((a: any) => a.role === 'lead').bureau).toMatchObject({ code: 'enforcement', name: '区综合行政执法大队' });
    const stats = await json(as(dispatcher).get('/api/v1/stats?groupBy=type&lang=en'));
    expect(stats.status, JSON.stringify(stats.body)).toBe(200);
    expect(stats.body.groups.find((g: any) => g.key === 'noise')).toMatchObject({ name: 'Noise nuisance' });
  });

  it('lists and exports the cases under a type or unit the file dropped, and still refuses a code no file had and no case carries', async () => {
    const ids = async (query: string) => {
      const res = await json(as(dispatcher).get(`/api/v1/cases?limit=100&${query}`));
      expect(res.status, `${query}: ${JSON.stringify(res.body)}`).toBe(200);
      return res.body.items.map((i: { id: string }) => i.id);
    };
    expect(await ids('type=noise')).toEqual([noisy.id]);
    expect(await ids('unit=enforcement')).toEqual(expect.arrayContaining([older.id, ledByDropped.id]));
    expect(await ids('unit=xinglong')).toContain(older.id);
    const csv = await fetch(`${service.url}/api/v1/export/cases.csv?type=noise&from=2000-01-01`, { headers: { authorization: `Bearer ${dispatcher}` } });
    expect(csv.status).toBe(200);
    expect(await csv.text()).toContain(noisy.trackingCode);
    const unknown = await json(as(dispatcher).get('/api/v1/cases?type=nothing&unit=nobody'));
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.fields).toEqual({ type: 'unknown type "nothing"', unit: 'unknown unit "nobody"' });
    // Without the names kept from the earlier file (cases older than that record), the cases carrying a code still make it taken.
    const bare = buildDistrict(editedJson());
    expect(bare.former.types.size + bare.former.units.size).toBe(0);
    const db = service.deps.db;
    expect(await filterCodeProblem(db, bare, 'type', 'noise')).toBeNull();
    expect(await filterCodeProblem(db, bare, 'unit', 'enforcement')).toBeNull();
    expect(await filterCodeProblem(db, bare, 'unit', 'xinglong')).toBeNull();
    expect(await filterCodeProblem(db, bare, 'type', 'nothing')).toBe('unknown type "nothing"');
    expect(await filterCodeProblem(db, bare, 'unit', 'nobody')).toBe('unknown unit "nobody"');
  });

  it('lets a dispatcher release a unit the file dropped, and still refuses a unit nobody knows', async () => {
    const released = await json(as(dispatcher).post(`/api/v1/cases/${older.id}/release`, { unit: 'enforcement', reason: '执法大队已撤销' }));
    expect(released.status, JSON.stringify(released.body)).toBe(200);
    expect(released.body.assignments.find((a: any) => a.bureau.code === 'enforcement').status).toBe('released');
    const unknown = await json(as(dispatcher).post(`/api/v1/cases/${older.id}/release`, { unit: 'nobody', reason: '测试' }));
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.fields).toEqual({ unit: 'unknown unit "nobody"' });
  });

  it("asks for a type or a place when the case's own is no longer in the file, then re-routes", async () => {
    const noType = await json(as(dispatcher).post(`/api/v1/cases/${noisy.id}/route`, { reason: '重新派发' }));
    expect(noType.status).toBe(400);
    expect(noType.body.error.fields).toEqual({ type: `the case's type "noise" is no longer in the district file: give one` });

    const noPlace = await json(as(dispatcher).post(`/api/v1/cases/${older.id}/route`, { type: 'garbage_sludge', reason: '改由环保局牵头' }));
    expect(noPlace.status).toBe(400);
    expect(noPlace.body.error.fields).toEqual({ jurisdiction: `the case's jurisdiction "xinglong" is no longer in the district file: give one, or null for none` });

    const routed = await json(as(dispatcher).post(`/api/v1/cases/${older.id}/route`, { type: 'garbage_sludge', jurisdiction: 'xinglong_new', reason: '兴隆办事处改了编码' }));
    expect(routed.status, JSON.stringify(routed.body)).toBe(200);
    expect(routed.body.jurisdiction.code).toBe('xinglong_new');
    expect(
      routed.body.assignments
        .filter((a: any) => a.status !== 'released')
        .map((a: any) => `${a.role}:${a.bureau.code}`)
        .sort(),
    ).toEqual(['jurisdiction:xinglong_new', 'lead:epb']);
  });

  it('keeps the dropped type and place selected on the desk, said to be gone, instead of the first of the list', async () => {
    const web = formClient(service.url);
    expect((await web.signIn('laoli')).status).toBe(303);
    const html = await (await web.get(`/desk/cases/${noisy.id}`)).text();
    const select = (name: string) => new RegExp(`<select id="route-${name}"[^>]*>(.*?)</select>`, 's').exec(html)?.[1] ?? '';
    expect(select('type')).toContain('<option value="noise" selected="">噪声扰民（已不在区划配置中，请另选）</option>');
    expect(select('jurisdiction')).toContain('<option value="xinglong" selected="">兴隆办事处（已不在区划配置中，请另选）</option>');
    // Sent as it stands, the form asks for another type, keeping the gone one shown; nothing changes.
    const form = /<form[^>]*id="route-form"[^>]*>(.*?)<\/form>/s.exec(html)![1]!;
    const hidden = Object.fromEntries([...form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    const sent = await web.post(`/desk/cases/${noisy.id}/route`, { ...hidden, type: 'noise', lead: '', coFrom: 'rule', jurisdiction: 'xinglong', reason: '照原样提交' });
    expect(sent.status).toBe(400);
    const refused = await sent.text();
    expect(refused).toContain('<p class="field-error" id="route-type-error" role="alert">请从列表中选择</p>');
    expect(refused).toContain('<option value="noise" selected="">噪声扰民（已不在区划配置中，请另选）</option>');
    const after = await json(as(dispatcher).get(`/api/v1/cases/${noisy.id}`));
    expect(after.body.type.code).toBe('noise');
    expect(after.body.status).toBe('dispatched');

    // A lead the file dropped is kept selected the same way, not replaced by the routing table's.
    const led = await (await web.get(`/desk/cases/${ledByDropped.id}`)).text();
    const leadSelect = /<select id="route-lead"[^>]*>(.*?)<\/select>/s.exec(led)?.[1] ?? '';
    expect(leadSelect).toContain('<option value="enforcement" selected="">区综合行政执法大队（已不在区划配置中，请另选）</option>');
    expect(leadSelect).toContain('<option value="">');
  });
});

describe('the classifier of an edited district file', () => {
  it('trains on the bundled examples of the types the file still has, saying which were left out', () => {
    const { lines, logger } = captureLogs();
    const edited = buildDistrict(editedJson());
    const { classifier } = loadOrTrain({ district: edited, examplesPath: DEFAULT_EXAMPLES_PATH, dir: tempDir(), logger });
    const left = lines.find((l) => l.msg === 'classifier: the bundled examples of types the district file does not have are left out');
    expect(left?.types).toEqual({ noise: expect.any(Number) });
    const choice = classifier.classify('工地半夜施工，噪音太大，吵得睡不着');
    expect(choice.type).not.toBe('noise');
    expect(edited.types.has(choice.type!) || choice.type === null).toBe(true);
  }, 120_000);

  it("stops the start in one error naming the district file when its own example file has a label it has no type for", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'examples.jsonl'), '{"text":"河里有死鱼","label":"water_pollution"}\n{"text":"工地噪音","label":"noise"}\n');
    const file = editedJson();
    file.classifier.examples = 'examples.jsonl';
    const districtPath = join(dir, 'district.json');
    writeFileSync(districtPath, JSON.stringify(file));
    const env = testEnv('district-edit-examples', { DISTRICT_CONFIG: districtPath, CLASSIFIER_DIR: join(dir, 'classifier') });
    const started = startService(env, 'all', { logger: createLogger('silent') });
    onCleanup(async () => (await started.catch(() => null))?.stop());
    const err = await started.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DistrictConfigError);
    expect((err as Error).message).toMatch(new RegExp(`^invalid district file ${districtPath}: classifier\\.examples: .*examples\\.jsonl line 2: label "noise" is not one of: `));
  });
});
