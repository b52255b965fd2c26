import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildDistrict, DistrictConfigError } from '../src/district/district.schema.js';
import { DEFAULT_DISTRICT_PATH, loadDistrictFile } from '../src/district/district-file.js';
import { EnvError, parseEnv } from '../src/env.js';

describe('parseEnv', () => {
  it('has working defaults for a fresh machine', () => {
    const env = parseEnv({});
    expect(env).toMatchObject({
      PORT: 3000,
      DATABASE_URL: './data/intake.db',
      REDIS_URL: 'redis://127.0.0.1:6379',
      QUEUE_PREFIX: 'intake',
      UPLOAD_DIR: './data/uploads',
    });
    expect(env.DISTRICT_CONFIG).toBeUndefined();
  });

  it('accepts SQLite paths, file: URLs and postgres URLs', () => {
    for (const url of ['./x.db', '/var/lib/intake.db', 'file:./x.db', 'file:///tmp/x.db', 'postgres://u@h:5432/db', 'postgresql://h/db']) {
      expect(parseEnv({ DATABASE_URL: url }).DATABASE_URL).toBe(url);
    }
  });

  it('names every bad variable at once', () => {
    let error: unknown;
    try {
      parseEnv({ PORT: 'abc', DATABASE_URL: 'mysql://h/db', REDIS_URL: 'http://x', QUEUE_PREFIX: 'a b', PUBLIC_URL: 'not a url' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(EnvError);
    const vars = (error as EnvError).problems.map((p) => p.variable).sort();
    expect(vars).toEqual(['DATABASE_URL', 'PORT', 'PUBLIC_URL', 'QUEUE_PREFIX', 'REDIS_URL']);
    expect((error as Error).message).toContain('PORT');
  });

  it('names a missing companion variable together with a bad one', () => {
    let error: unknown;
    try {
      parseEnv({ PORT: 'abc', TELEGRAM_BOT_TOKEN: '123:abc', REDIS_SENTINEL_NAME: 'mymaster' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(EnvError);
    expect((error as EnvError).problems.map((p) => p.variable).sort()).toEqual(['PORT', 'REDIS_SENTINELS', 'TELEGRAM_WEBHOOK_SECRET']);
  });

  it.each([
    ['postgres://[bad', 'not a valid URL'],
    ['postgres://host:99999/db', 'not a valid URL'],
    ['file://remotehost/x.db', 'a file: URL names a file on this machine (file:///path or file:path)'],
  ])('names a DATABASE_URL that cannot be used (%s) before anything starts', (url, reason) => {
    let error: unknown;
    try {
      parseEnv({ DATABASE_URL: url });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(EnvError);
    expect((error as EnvError).problems).toEqual([{ variable: 'DATABASE_URL', message: reason }]);
  });

  it.each([
    ['PORT', '0x10', 'must be a port number, 0–65535'],
    ['PORT', '70000', 'must be a port number, 0–65535'],
    ['METRICS_PORT', '1e3', 'must be a port number, 0–65535'],
    ['PUBLIC_URL', 'javascript:alert(1)', 'must be an http:// or https:// address'],
    ['MAP_CENTER', ',', 'expected lat,lng or lat,lng,zoom, e.g. 25.165,111.34,13'],
    ['MAP_CENTER', '25.1,111.3,', 'expected lat,lng or lat,lng,zoom, e.g. 25.165,111.34,13'],
  ])('names %s=%s', (variable, value, reason) => {
    let error: unknown;
    try {
      parseEnv({ [variable]: value });
    } catch (err) {
      error = err;
    }
    expect((error as EnvError).problems).toEqual([{ variable, message: reason }]);
  });

  it('treats empty variables as unset', () => {
    expect(parseEnv({ PORT: '', PUBLIC_URL: '' }).PORT).toBe(3000);
  });
});

describe('district file', () => {
  const raw = () => JSON.parse(readFileSync(DEFAULT_DISTRICT_PATH, 'utf8')) as Record<string, any>;

  it('loads the bundled default with every type routed', () => {
    const d = loadDistrictFile();
    expect(d.types.size).toBe(18);
    expect(d.units.get('epb')?.name.zh).toBe('区环保局');
    expect(d.jurisdictions.size).toBe(8);
    for (const code of d.types.keys()) expect(d.routing[code]).toBeDefined();
  });

  function problemsOf(mutate: (f: Record<string, any>) => void): string[] {
    const f = raw();
    mutate(f);
    try {
      buildDistrict(f, 'test.json');
    } catch (err) {
      expect(err).toBeInstanceOf(DistrictConfigError);
      return (err as DistrictConfigError).problems;
    }
    throw new Error('expected the file to be rejected');
  }

  it('names a webhook that is not an http(s) address', () => {
    for (const url of ['ftp://files.example.cn/in', 'not a url', 'javascript:alert(1)']) {
      expect(problemsOf((f) => (f.bureaus[0].webhook = { url }))).toEqual([
        expect.stringMatching(/^bureaus\[0\] \(\w+\)\.webhook\.url: must be an https:\/\/ \(or http:\/\/\) address$/),
      ]);
    }
  });

  it('names the cross-reference problems together with the structure problems, in one round', () => {
    const problems = problemsOf((f) => {
      f.types[0].phrases[0].weight = -1; // structure
      f.bureaus.push({ ...f.bureaus[0] }); // a duplicate code
      f.routing.noise.lead = 'nobody'; // a route to no bureau
      f.routing.noise_unrouted = { lead: 42 }; // structure (and no such type)
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^types\[0\] \(\w+\)\.phrases\[0\]\.weight: /),
        expect.stringMatching(/^bureaus: duplicate code "\w+"$/),
        'routing.noise.lead: unknown bureau "nobody"',
        expect.stringMatching(/^routing\.noise_unrouted\.lead: /),
        'routing.noise_unrouted: unknown type "noise_unrouted"',
      ]),
    );
    // What cannot be read is not second-guessed: the unreadable lead is named once, by the structure check.
    expect(problems.filter((p) => p.startsWith('routing.noise_unrouted.lead'))).toHaveLength(1);
    expect(problems.some((p) => p.includes('has no route'))).toBe(false);
  });

  it('names a route to an unknown bureau', () => {
    expect(problemsOf((f) => (f.routing.noise.lead = 'nobody'))).toContain('routing.noise.lead: unknown bureau "nobody"');
    expect(problemsOf((f) => (f.routing.noise.lead = f.jurisdictions[0]!.code))).toContainEqual(expect.stringMatching(/^routing\.noise\.lead: ".+" is a local office, not a bureau/));
  });

  it('names a local office among a route\'s co-handlers: it takes part as the jurisdiction of the cases in its area', () => {
    const problems = problemsOf((f) => (f.routing.noise.co = [...(f.routing.noise.co ?? []), f.jurisdictions[0].code]));
    expect(problems).toEqual([expect.stringMatching(/^routing\.noise\.co: ".+" is a local office, not a bureau: it takes part as the jurisdiction, not as a co-handler$/)]);
    // A bureau there is still taken.
    const f = raw();
    f.routing.noise.co = ['police'];
    expect(buildDistrict(f, 'test.json').routing.noise?.co).toEqual(['police']);
  });

  it('names a type without a route', () => {
    expect(problemsOf((f) => delete f.routing.air_pollution)).toContain('routing: type "air_pollution" has no route');
  });

  it('names the bad entry by index and code', () => {
    const problems = problemsOf((f) => (f.types[16].phrases[0].weight = -1));
    expect(problems.some((p) => p.startsWith('types[16] (noise).phrases[0].weight'))).toBe(true);
  });

  it('names duplicate codes across bureaus and jurisdictions', () => {
    expect(problemsOf((f) => (f.jurisdictions[0].code = 'epb'))).toContain(
      'jurisdictions: code "epb" is already used by a bureau or jurisdiction',
    );
  });

  it('names a place that belongs to two jurisdictions', () => {
    const problems = problemsOf((f) => f.jurisdictions[1].places.push('回龙村'));
    expect(problems.some((p) => p.includes('"回龙村" also belongs to'))).toBe(true);
  });

  it('names an English name that belongs to two jurisdictions, however it is written', () => {
    expect(problemsOf((f) => f.jurisdictions[1].englishNames.push('huilong-village'))).toContainEqual(
      expect.stringMatching(/^jurisdictions\.maludou: English name "huilong-village" also belongs to "huilongxu"$/),
    );
  });

  it('names an English name that is not in Latin letters', () => {
    expect(problemsOf((f) => f.jurisdictions[4].englishNames.push('兴隆'))).toEqual([
      expect.stringMatching(/^jurisdictions\[4\] \(xinglong\)\.englishNames\[\d+\]: Latin letters only/),
    ]);
  });

  it('reads a file without English names, as files written before them', () => {
    const f = raw();
    delete f.district.englishNames;
    for (const j of f.jurisdictions) delete j.englishNames;
    const district = buildDistrict(f);
    expect(district.file.jurisdictions.every((j) => j.englishNames.length === 0)).toBe(true);
  });

  it("names a unit's Telegram group language other than zh or en", () => {
    expect(problemsOf((f) => Object.assign(f.bureaus[0], { telegramChatId: -100_1, telegramLanguage: 'zh-CN' }))).toEqual([
      expect.stringMatching(/^bureaus\[0\] \(epb\)\.telegramLanguage: /),
    ]);
    const english = raw();
    Object.assign(english.jurisdictions[4], { telegramChatId: -100_2, telegramLanguage: 'en' });
    expect(buildDistrict(english).units.get('xinglong')?.telegramLanguage).toBe('en');
  });

  it('names unknown keys', () => {
    const problems = problemsOf((f) => (f.bureaus[0].colour = 'red'));
    expect(problems.some((p) => p.startsWith('bureaus[0] (epb)') && p.includes('colour'))).toBe(true);
  });

  it('names a time zone the runtime does not know', () => {
    for (const timezone of ['Asia/Shangai', 'CST', 'PRC']) {
      expect(problemsOf((f) => (f.district.timezone = timezone))).toEqual([expect.stringMatching(/^district\.timezone: /)]);
    }
    expect(problemsOf((f) => (f.district.timezone = 'Asia/Shangai'))).toEqual(['district.timezone: must be an IANA time zone name, e.g. Asia/Shanghai (not an abbreviation: CST is read as America/Chicago)']);
  });

  it('names a missing deadline', () => {
    expect(problemsOf((f) => delete f.deadlines.urgent.sign)).toContain('deadlines.urgent.sign: missing');
  });

  it('reports a file that is not JSON', () => {
    expect(() => loadDistrictFile('/dev/null')).toThrow(/not valid JSON/);
  });
});
