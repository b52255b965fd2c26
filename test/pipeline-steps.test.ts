import { describe, expect, it } from 'vitest';
import { loadDistrictFile } from '../src/district/district-file.js';
import chineseDays from 'chinese-days';
import { calendarFor, dispatchDeadlines, statutoryDaysOff, WorkCalendar } from '../src/pipeline/deadlines.js';
import {
  asksAnonymity,
  decideUrgency,
  extractJurisdiction,
  findPhones,
  jurisdictionFromText,
  maskPhone,
  maskIdentityInText,
  maskPhonesInText,
} from '../src/pipeline/extract.js';
import { createRuleClassifier } from '../src/pipeline/rule-classifier.js';
import { decideRoute, withLead } from '../src/pipeline/route.js';
import type { Classification } from '../src/pipeline/classifier.js';
import { parseDistrictJson } from '../src/district/district.schema.js';
import { newTrackingCode, normalizeTrackingCode, TRACKING_ALPHABET, trackingCodeIn } from '../src/domain/tracking-code.js';

const district = loadDistrictFile();

describe('jurisdiction extraction', () => {
  it.each([
    ['兴隆办事处那边一个厂子', 'xinglong'],
    ['我是马鹿头的', 'maludou'],
    ['神仙洞办事处辖区', 'shenxiandong'],
    ['八仙洞村口', 'baxiandong'],
    ['李家塘那边', 'lijiatang'],
    ['永济亭附近', 'yongjiting'],
    ['回峰国有林场里面有人倒垃圾', 'huifeng_forest'],
    ['朱家观村后山', 'huilongxu'],
    ['盐下村', 'huilongxu'],
    ['八字桥社区', 'huilongxu'],
    ['回峰社区门口', 'huilongxu'],
  ])('finds %s → %s', (text, code) => {
    expect(jurisdictionFromText(district, text)?.jurisdiction).toBe(code);
  });

  it('does not read the district name as a jurisdiction', () => {
    expect(jurisdictionFromText(district, '回龙圩管理区的环保部门你们好')).toBeNull();
  });

  it('takes the first place mentioned', () => {
    expect(jurisdictionFromText(district, '我住李家塘，厂子在兴隆')?.jurisdiction).toBe('lijiatang');
  });

  it('prefers a location inside a jurisdiction over the text', () => {
    const m = extractJurisdiction(district, '兴隆那边', { lat: 25.21, lng: 111.3 });
    expect(m).toMatchObject({ jurisdiction: 'maludou', source: 'location' });
  });

  it('falls back to the text for a location outside every area', () => {
    expect(extractJurisdiction(district, '兴隆那边', { lat: 30, lng: 120 })?.jurisdiction).toBe('xinglong');
  });
});

describe('urgency, anonymity and phones', () => {
  it('marks ongoing discharge, schools, illness and hazardous types urgent', () => {
    expect(decideUrgency(district, '现在还在排，小孩头晕', 'illegal_discharge').reasons).toEqual(
      expect.arrayContaining(['还在排', '头晕']),
    );
    expect(decideUrgency(district, '饮用水源边上', null).urgent).toBe(true);
    expect(decideUrgency(district, '隔壁是幼儿园', null).urgent).toBe(true);
    expect(decideUrgency(district, '有个仓库', 'hazardous_chemicals').urgent).toBe(true);
    expect(decideUrgency(district, '晚上有点吵', 'noise').urgent).toBe(false);
    // Ongoing (还在偷排, 现在往…倒), a drinking-water source, a school ground, people made ill, as residents say it.
    for (const said of ['那个厂还在偷排废水', '他们现在往河里倒废渣', '村里的水源被污染了', '村民喝了水都病倒了', '校园门口堆了垃圾', '老人家咳得厉害']) {
      expect(decideUrgency(district, said, null).urgent, said).toBe(true);
    }
    expect(decideUrgency(district, '去年有人偷排过，现在好了', 'illegal_discharge').urgent).toBe(false);
  });

  it('marks urgent the answer to the form\'s question whether it is still going on (还在继续, 仍在排放, still going on)', () => {
    // The report form asks 是否还在继续 / is it still going on?: residents answer in those words.
    for (const said of [
      '兴隆办事处电镀厂往沟里排黑水，还在继续',
      '养猪场的粪水目前仍在排放',
      '河边那堆垃圾仍在烧，烟很大',
      'The factory dumps slag by the river, and it is still going on',
      'Black water from the plant is still flowing into the ditch',
      'The burning is still happening',
    ]) {
      expect(decideUrgency(district, said, null).urgent, said).toBe(true);
    }
    for (const said of ['去年有人偷排过，现在好了', '上个月倒过一次垃圾，后来没有继续', 'The dumping went on for a week last spring']) {
      expect(decideUrgency(district, said, null).urgent, said).toBe(false);
    }
  });

  it('marks a report in English urgent for what makes one in Chinese urgent, in any case and only where a word starts', () => {
    expect(decideUrgency(district, 'They are STILL DUMPING it right now and the kids at the School feel dizzy', 'wasteland_dumping').reasons).toEqual([
      'still dumping',
      'right now',
      'school',
      'dizzy',
    ]);
    // An apostrophe as phones and word processors type it (’), or a modifier letter apostrophe (ʼ), as the phrase's own.
    for (const said of ['The smoke is so thick I can’t breathe', 'my grandmother canʼt breathe at night']) {
      expect(decideUrgency(district, said, 'air_pollution').reasons, said).toEqual(["can't breathe"]);
    }
    for (const said of ['Pesticide spraying near the school', 'our drinking water smells of oil', 'my son is coughing and has a rash', 'two workers were hospitalized']) {
      expect(decideUrgency(district, said, null).urgent, said).toBe(true);
    }
    // "rash" is not in "crash", "cough" not in "Scoughton", "school" not in "preschooler's".
    expect(decideUrgency(district, 'A truck crash near Scoughton left litter, a preschooler saw it', 'garbage_sludge')).toEqual({ urgent: false, reasons: [] });
    expect(decideUrgency(district, 'The factory is a bit noisy in the evening', 'noise').urgent).toBe(false);
  });

  it.each(['我要匿名举报', '不要透露我的名字', '别说是我举报的', '请替我保密'])('hears an anonymity request in %s', (t) => {
    expect(asksAnonymity(district, t)).not.toBeNull();
  });

  it('finds mobile and landline numbers in free text', () => {
    expect(findPhones('电话13812345678，或者 0746-5123456，+86 139 1234 5678')).toEqual(['13812345678', '07465123456', '13912345678']);
    expect(findPhones('订单号 2026112812345678901')).toEqual([]);
  });

  it('masks phone numbers the way the hotline does', () => {
    expect(maskPhone('13812345678')).toBe('138****5678');
    expect(maskPhonesInText('打13812345678找我')).toBe('打138****5678找我');
  });

  it('masks the name a reporter gives for themself, and names known from their contact details', () => {
    expect(maskIdentityInText('我叫张伟，不要透露我的名字，电话１３８１２３４５６７８')).toBe('我叫张*，不要透露我的名字，电话138****5678');
    expect(maskIdentityInText('联系人：欧阳娜娜。我的名字是李四')).toBe('联系人：欧***。我的名字是李*');
    // Telling someone something is not a name.
    expect(maskIdentityInText('我叫他们别烧了，他们不听')).toBe('我叫他们别烧了，他们不听');
    // 我是 followed by a name standing alone; not a place or a description after it.
    expect(maskIdentityInText('我是张卫国，厂子晚上偷排。本人是李四')).toBe('我是张**，厂子晚上偷排。本人是李*');
    for (const kept of ['我是李家塘的，厂子偷排', '我是王家村村民', '我是想问一下']) expect(maskIdentityInText(kept)).toBe(kept);
    expect(maskIdentityInText('我是回龙村的村民王建国，我是附近的居民李四说的')).toBe('我是回龙村的村民王**，我是附近的居民李*说的');
    expect(maskIdentityInText('王大妈家门口的沟里全是黑水，王大妈说晚上排的', ['王大妈', null, 'x'])).toBe('王**家门口的沟里全是黑水，王**说晚上排的');
  });

  it('finds and masks numbers typed in full-width digits or with dots', () => {
    expect(findPhones('电话１３８１２３４５６７８，座机０７４６－５１２３４５６，或138.1234.5678')).toEqual(['13812345678', '07465123456', '13812345678']);
    expect(maskPhonesInText('电话１３８１２３４５６７８，或138.1234.5678，＋８６ １３９ １２３４ ５６７８。')).toBe(
      '电话138****5678，或138****5678，139****5678。',
    );
    expect(maskPhonesInText('水位下降了1.5米，编号２０２６１１２８１２３４５６７８９０１')).toBe('水位下降了1.5米，编号２０２６１１２８１２３４５６７８９０１');
  });
});

describe('rule classifier', () => {
  const classifier = createRuleClassifier(district);

  it('picks the type whose phrases weigh most, with evidence from the text', () => {
    const text = '养猪场的猪粪水排到河里';
    const c = classifier.classify(text);
    expect(c.type).toBe('livestock_waste');
    expect(c.confidence).toBeGreaterThan(0.5);
    expect(c.runnerUp?.type).toBe('water_pollution');
    for (const e of c.evidence) expect(text.slice(e.start, e.end)).toBe(e.phrase);
  });

  it('reads phrases as the trained model does, across spaces (speech-to-text and pre-segmented text)', () => {
    const text = '养 猪 场的粪水排到沟里，夜里噪 音很大';
    const c = classifier.classify(text);
    expect(c.type).toBe('livestock_waste');
    expect(c.evidence.map((e) => e.phrase)).toEqual(['养 猪 场', '粪水']);
    expect(c.runnerUp?.type).toBe('noise');
    for (const e of c.evidence) expect(text.slice(e.start, e.end)).toBe(e.phrase);
  });

  it('reads the English phrases of the district file in any case, and none inside a longer word', () => {
    const text = 'A PIG FARM near Yanxia lets Manure run into the river';
    const c = classifier.classify(text);
    expect(c.type).toBe('livestock_waste');
    expect(c.confidence).toBeGreaterThanOrEqual(district.file.classifier.minConfidence);
    expect(c.evidence.map((e) => e.phrase)).toEqual(['PIG FARM', 'Manure']);
    for (const e of c.evidence) expect(text.slice(e.start, e.end)).toBe(e.phrase);
    // dust (air), pond (water), loud (noise) and river are inside other words here.
    expect(classifier.classify('Please respond: the industrial cloud driver')).toMatchObject({ type: null, confidence: 0 });
  });

  it('has no type and no confidence when nothing matches', () => {
    expect(classifier.classify('你好')).toMatchObject({ type: null, confidence: 0, runnerUp: null });
  });

  it('is unsure when two types tie', () => {
    const c = classifier.classify('噪音，垃圾');
    expect(c.confidence).toBeLessThan(district.file.classifier.minConfidence);
  });
});

describe('routing', () => {
  const classifier = createRuleClassifier(district);
  const route = (text: string) => {
    const c = classifier.classify(text);
    const place = extractJurisdiction(district, text, null);
    return decideRoute(district, c, place, decideUrgency(district, text, c.type));
  };

  it('sends to the lead, the co-handlers and the jurisdiction', () => {
    expect(route('兴隆有人往荒地倾倒有毒废渣')).toEqual({
      outcome: 'dispatch',
      type: 'wasteland_dumping',
      assignments: [
        { unit: 'epb', role: 'lead' },
        { unit: 'land', role: 'co' },
        { unit: 'xinglong', role: 'jurisdiction' },
      ],
      flags: [],
    });
  });

  it('puts a lead a person chose in place of the table\'s, keeping the co-handlers and the jurisdiction', () => {
    const decided = route('兴隆有人往荒地倾倒有毒废渣');
    expect(withLead(decided, 'enforcement')).toMatchObject({
      assignments: [
        { unit: 'enforcement', role: 'lead' },
        { unit: 'land', role: 'co' },
        { unit: 'xinglong', role: 'jurisdiction' },
      ],
    });
    // A co-handler made lead is not also a co-handler.
    expect(withLead(decided, 'land')).toMatchObject({ assignments: [{ unit: 'land', role: 'lead' }, { unit: 'xinglong', role: 'jurisdiction' }] });
    expect(withLead(decided, null)).toBe(decided);
    expect(withLead(route('有点吵'), 'epb')).toMatchObject({ outcome: 'triage' });
  });

  it('transfers non-environmental requests', () => {
    expect(route('拖欠工资').outcome).toBe('transfer');
  });

  it('holds low-confidence cases for triage', () => {
    expect(route('有点吵')).toMatchObject({ outcome: 'triage', reason: 'low_confidence' });
  });

  it("holds for triage below the district file's classifier.minConfidence, whatever it is set to", () => {
    const withMin = (minConfidence: number) =>
      parseDistrictJson(JSON.stringify({ ...district.file, classifier: { ...district.file.classifier, minConfidence } }));
    const noise: Classification = { type: 'noise', confidence: 0.6, runnerUp: null, evidence: [], engine: 'test@1' };
    const place = extractJurisdiction(district, '兴隆', null);
    const calm = { urgent: false, reasons: [] };
    expect(decideRoute(withMin(0.5), noise, place, calm)).toMatchObject({ outcome: 'dispatch', type: 'noise' });
    expect(decideRoute(withMin(0.6), noise, place, calm)).toMatchObject({ outcome: 'dispatch', type: 'noise' });
    expect(decideRoute(withMin(0.7), noise, place, calm)).toMatchObject({ outcome: 'triage', type: 'noise', reason: 'low_confidence' });
  });
});

describe('working-day deadlines', () => {
  const cal = new WorkCalendar('Asia/Shanghai');

  it('knows the 2026 National Day holiday and its make-up Saturday', () => {
    expect(cal.isWorkday('2026-10-01')).toBe(false);
    expect(cal.isWorkday('2026-10-07')).toBe(false);
    expect(cal.isWorkday('2026-10-10')).toBe(true); // Saturday, make-up workday (调休)
    expect(cal.isWorkday('2026-10-11')).toBe(false);
  });

  it('skips the holiday week when counting working days', () => {
    // Tuesday 29 Sep 2026, 10:00 Beijing time. Working days after it: 30 Sep,
    // then (1–7 Oct off) 8 Oct, 9 Oct and Saturday 10 Oct, a make-up workday.
    const from = new Date('2026-09-29T02:00:00.000Z');
    expect(cal.addWorkingDays(from, 1).toISOString()).toBe('2026-09-30T02:00:00.000Z');
    expect(cal.addWorkingDays(from, 2).toISOString()).toBe('2026-10-08T02:00:00.000Z');
    expect(cal.addWorkingDays(from, 4).toISOString()).toBe('2026-10-10T02:00:00.000Z');
    expect(cal.addWorkingDays(from, 5).toISOString()).toBe('2026-10-12T02:00:00.000Z');
  });

  it('measures and adds working time, leaving out the holiday week and counting its make-up Saturday', () => {
    // Tue 29 Sep 10:00 to Fri 9 Oct 10:00 Beijing time: the rest of 29 Sep, 30 Sep, 8 Oct and 10 hours of 9 Oct.
    const h = 3_600_000;
    expect(cal.workingTimeBetween(new Date('2026-09-29T02:00:00.000Z'), new Date('2026-10-09T02:00:00.000Z'))).toBe(72 * h);
    // Three working days of time from Wed 30 Sep 10:00: 8 Oct, 9 Oct, then the make-up Saturday 10 Oct, 10:00.
    expect(cal.addWorkingTime(new Date('2026-09-30T02:00:00.000Z'), 72 * h).toISOString()).toBe('2026-10-10T02:00:00.000Z');
    // Started on a day off, it counts from the next working day's start.
    expect(cal.addWorkingTime(new Date('2026-11-07T02:00:00.000Z'), 10 * h).toISOString()).toBe('2026-11-09T02:00:00.000Z');
    expect(cal.addWorkingTime(new Date('2026-11-07T02:00:00.000Z'), 0).toISOString()).toBe('2026-11-07T02:00:00.000Z');
  });

  it('counts in Beijing time, not UTC', () => {
    // Friday 15:30 UTC is Friday 23:30 in Beijing, a working day: Monday 23:30 Beijing time.
    expect(cal.addWorkingDays(new Date('2026-11-06T15:30:00.000Z'), 1).toISOString()).toBe('2026-11-09T15:30:00.000Z');
    // Friday 17:30 UTC is already Saturday 01:30 in Beijing, a day off: the day counted is
    // Monday, whole (due by its end in Beijing), not Monday 17:30 UTC as a UTC calendar would say.
    expect(cal.addWorkingDays(new Date('2026-11-06T17:30:00.000Z'), 1).toISOString()).toBe('2026-11-09T15:59:59.999Z');
    // Friday 10:00 Beijing time: Monday 10:00.
    expect(cal.addWorkingDays(new Date('2026-11-06T02:00:00.000Z'), 1).toISOString()).toBe('2026-11-09T02:00:00.000Z');
  });

  it('starts counting on the next working day when received on a weekend or a holiday, whatever the hour', () => {
    // Saturday 2026-11-07 at 00:30, 10:00 or 23:30 Beijing time: one working day is the whole
    // Monday (due at its end), never Monday 00:30, which would leave the unit no working time.
    for (const at of ['2026-11-06T16:30:00.000Z', '2026-11-07T02:00:00.000Z', '2026-11-07T15:30:00.000Z']) {
      expect(cal.addWorkingDays(new Date(at), 1).toISOString()).toBe('2026-11-09T15:59:59.999Z');
    }
    // Received on National Day 2026 (Thu 10-01, 02:00 Beijing): 10-08 and 10-09 are the first two
    // working days, so two working days end with Friday 10-09; three with the make-up Saturday 10-10.
    expect(cal.addWorkingDays(new Date('2026-09-30T18:00:00.000Z'), 2).toISOString()).toBe('2026-10-09T15:59:59.999Z');
    expect(cal.addWorkingDays(new Date('2026-09-30T18:00:00.000Z'), 3).toISOString()).toBe('2026-10-10T15:59:59.999Z');
    // An urgent report on Sunday 01:00 Beijing: its 3 working days are Mon, Tue and Wed, whole.
    const d = dispatchDeadlines(district, calendarFor(district), 'noise', true, new Date('2026-11-07T17:00:00.000Z'));
    expect(d.replyBy).toBe('2026-11-11T15:59:59.999Z');
    // Hours are hours, on any day: the urgent sign-for is 2 h after, also on a Sunday.
    expect(d.signBy).toBe('2026-11-07T19:00:00.000Z');
  });

  it('honours the district file’s own days off and workdays', () => {
    const local = new WorkCalendar('Asia/Shanghai', { extraDaysOff: ['2026-11-09'], extraWorkdays: ['2026-11-08'] });
    expect(local.addWorkingDays(new Date('2026-11-06T02:00:00.000Z'), 2).toISOString()).toBe('2026-11-10T02:00:00.000Z');
  });

  it('tells which coming years it knows no statutory holidays for', () => {
    // chinese-days 1.5.7 holds holidays up to 2026; the State Council publishes a year's late in the year before.
    expect(cal.yearsWithoutHolidays(new Date('2026-06-01T00:00:00Z'), 120)).toEqual([]);
    expect(cal.yearsWithoutHolidays(new Date('2026-12-04T00:00:00Z'), 120)).toEqual([2027]);
    // 2027-01-01 in Beijing is still 2026 in UTC: the district's zone decides the year.
    expect(cal.yearsWithoutHolidays(new Date('2026-12-31T16:30:00Z'), 0)).toEqual([2027]);
    const listed = new WorkCalendar('Asia/Shanghai', { extraDaysOff: ['2027-01-01'], extraWorkdays: [] });
    expect(listed.yearsWithoutHolidays(new Date('2026-12-04T00:00:00Z'), 120)).toEqual([]);
  });

  describe('a year whose holiday schedule is not published yet', () => {
    const weekday = (d: string) => ![0, 6].includes(new Date(`${d}T00:00:00Z`).getUTCDay());

    it('takes the days off the law fixes, each that falls on a weekend made up by the first working day after it', () => {
      // 2027: 元旦 Fri 1 Jan; 除夕 Fri 5 Feb to 初三 Mon 8 Feb (初一, 初二 a weekend: Tue 9, Wed 10); 清明 Mon 5 Apr;
      // 劳动节 Sat 1 and Sun 2 May (Mon 3, Tue 4); 端午 Wed 9 Jun; 中秋 Wed 15 Sep; 国庆 Fri 1 Oct (Sat 2, Sun 3: Mon 4, Tue 5).
      expect([...statutoryDaysOff(2027)].sort()).toEqual([
        '2027-01-01',
        '2027-02-05',
        '2027-02-08',
        '2027-02-09',
        '2027-02-10',
        '2027-04-05',
        '2027-05-03',
        '2027-05-04',
        '2027-06-09',
        '2027-09-15',
        '2027-10-01',
        '2027-10-04',
        '2027-10-05',
      ]);
    });

    it('keeps every day off the published schedules of 2025 and 2026 gave, and thirteen weekdays off in every year', () => {
      for (const year of [2025, 2026]) {
        const off = [...statutoryDaysOff(year)];
        expect(off.filter((d) => chineseDays.isWorkday(d)), `${year}`).toEqual([]);
        // The schedule's weekdays off less its working weekends: the same thirteen days.
        let net = 0;
        for (let t = Date.UTC(year, 0, 1); t < Date.UTC(year + 1, 0, 1); t += 86_400_000) {
          const d = new Date(t).toISOString().slice(0, 10);
          if (weekday(d) && !chineseDays.isWorkday(d)) net += 1;
          if (!weekday(d) && chineseDays.isWorkday(d)) net -= 1;
        }
        expect(net, `${year}`).toBe(13);
      }
      // 中秋 on 国庆's third day (2028) is made up too.
      expect(statutoryDaysOff(2028).has('2028-10-03')).toBe(true);
      for (let year = 2025; year <= 2060; year++) {
        const off = [...statutoryDaysOff(year)];
        expect(off.filter(weekday), `${year}`).toHaveLength(13);
      }
    });

    it('counts those days in deadlines there, until the district file lists the schedule', () => {
      // Friday 25 December 2026, 10:00 in Beijing, five working days: Mon 28 to Thu 31 Dec, then not 元旦 (Fri 1 Jan) but Mon 4 Jan.
      const from = new Date('2026-12-25T02:00:00.000Z');
      expect(cal.addWorkingDays(from, 5).toISOString()).toBe('2027-01-04T02:00:00.000Z');
      // Listed (here as the district's own days: the State Council's schedule once published), the file decides alone.
      const listed = new WorkCalendar('Asia/Shanghai', { extraDaysOff: ['2027-01-04'], extraWorkdays: [] });
      expect(listed.addWorkingDays(from, 5).toISOString()).toBe('2027-01-01T02:00:00.000Z');
      // Years with a published schedule keep it: Saturday 28 February 2026 was a working day (调休).
      expect(cal.isWorkday('2026-02-28')).toBe(true);
      expect(cal.isWorkday('2026-02-20')).toBe(false);
    });
  });

  it('uses hours for sign-for and working days for the reply', () => {
    const d = dispatchDeadlines(district, calendarFor(district), 'noise', false, new Date('2026-11-02T02:00:00.000Z'));
    expect(d.signBy).toBe('2026-11-03T02:00:00.000Z');
    expect(d.replyBy).toBe('2026-11-23T02:00:00.000Z');
    const u = dispatchDeadlines(district, calendarFor(district), 'noise', true, new Date('2026-11-02T02:00:00.000Z'));
    expect(u.signBy).toBe('2026-11-02T04:00:00.000Z');
    expect(u.replyBy).toBe('2026-11-05T02:00:00.000Z');
  });

  it('gives the local date of any instant, around midnight and in zones with odd offsets or summer time', () => {
    for (const zone of ['Asia/Shanghai', 'Asia/Kathmandu', 'Australia/Adelaide', 'America/New_York']) {
      const calendar = new WorkCalendar(zone);
      const reference = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' });
      // Every 7 minutes through two days around a summer-time change, twice (the second pass is answered from memory).
      for (let pass = 0; pass < 2; pass++) {
        for (let t = Date.parse('2026-03-07T00:00:00Z'); t < Date.parse('2026-03-09T00:00:00Z'); t += 7 * 60_000) {
          expect(calendar.localDate(new Date(t))).toBe(reference.format(new Date(t)));
        }
      }
    }
    expect(cal.localDate(new Date('2026-11-01T15:59:59.999Z'))).toBe('2026-11-01');
    expect(cal.localDate(new Date('2026-11-01T16:00:00.000Z'))).toBe('2026-11-02');
  });
});

describe('tracking codes', () => {
  it('are 10 characters without look-alikes', () => {
    const code = newTrackingCode();
    expect(code).toHaveLength(10);
    for (const ch of code) expect(TRACKING_ALPHABET).toContain(ch);
    expect(TRACKING_ALPHABET).not.toMatch(/[0O1IL2Z5S8B]/);
  });

  it('do not repeat and use every character about equally often', () => {
    const codes = Array.from({ length: 20_000 }, () => newTrackingCode());
    expect(new Set(codes).size).toBe(codes.length);
    const counts = new Map<string, number>();
    for (const code of codes) for (const ch of code) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    expect(counts.size).toBe(TRACKING_ALPHABET.length);
    // 200,000 characters over 25 symbols: 8,000 each; a biased draw would be far off.
    for (const n of counts.values()) expect(Math.abs(n - 8000)).toBeLessThan(600);
  });

  it('are normalised from what people type', () => {
    expect(normalizeTrackingCode('k7m3q-xt9ad')).toBe('K7M3QXT9AD');
    expect(normalizeTrackingCode('K7M3QXT9A0')).toBeNull();
    // A Chinese input method in full-width mode, and the dashes other keyboards and phones give.
    expect(normalizeTrackingCode('ｋ７ｍ３ｑ－ＸＴ９ＡＤ')).toBe('K7M3QXT9AD');
    expect(normalizeTrackingCode('Ｋ７Ｍ３Ｑ\u3000ＸＴ９ＡＤ')).toBe('K7M3QXT9AD');
    for (const dash of ['\u2010', '\u2013', '\u2014', '\u2212', '\ufe63']) expect(normalizeTrackingCode(`K7M3Q${dash}XT9AD`), dash).toBe('K7M3QXT9AD');
    expect(normalizeTrackingCode('Ｋ７Ｍ３ＱＸＴ９Ａ０')).toBeNull();
  });

  it('are found in what people paste into a lookup box: a tracking link or a copied message line', () => {
    expect(trackingCodeIn('k7m3q xt9ad')).toBe('K7M3QXT9AD');
    expect(trackingCodeIn('https://hb.example.gov.cn/track/K7M3QXT9AD?lang=en')).toBe('K7M3QXT9AD');
    expect(trackingCodeIn(' http://localhost:3000/track/k7m3q-xt9ad ')).toBe('K7M3QXT9AD');
    expect(trackingCodeIn('查询码：K7M3Q-XT9AD')).toBe('K7M3QXT9AD');
    expect(trackingCodeIn('跟踪码: ｋ７ｍ３ｑｘｔ９ａｄ')).toBe('K7M3QXT9AD');
    expect(trackingCodeIn('Tracking code: K7M3QXT9AD')).toBe('K7M3QXT9AD');
    // With the punctuation a copy takes along: quotes, brackets, a full stop.
    expect(trackingCodeIn('“K7M3QXT9AD”。')).toBe('K7M3QXT9AD');
    expect(trackingCodeIn('【k7m3q-xt9ad】')).toBe('K7M3QXT9AD');
    expect(trackingCodeIn('查询码：K7M3QXT9AD。')).toBe('K7M3QXT9AD');
    expect(trackingCodeIn('https://hb.example.gov.cn/track/K7M3QXT9AD.')).toBe('K7M3QXT9AD');
    expect(trackingCodeIn('K7M3Q.XT9AD')).toBeNull();
    // Still only a code: a link to something else, a wrong code behind a label, words around it.
    expect(trackingCodeIn('https://hb.example.gov.cn/public')).toBeNull();
    expect(trackingCodeIn('https://hb.example.gov.cn/track/K7M3QXT9A0')).toBeNull();
    expect(trackingCodeIn('查询码：K7M3Q')).toBeNull();
    expect(trackingCodeIn('我的查询码是K7M3QXT9AD谢谢')).toBeNull();
    // A link cut short inside an escape is no code, not an error.
    expect(trackingCodeIn('https://hb.example.gov.cn/track/%E0%A4%A')).toBeNull();
    expect(trackingCodeIn('https://hb.example.gov.cn/track/K7M3QXT9AD%')).toBeNull();
  });
});
