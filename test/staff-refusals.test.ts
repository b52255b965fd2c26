import { beforeAll, describe, expect, it } from 'vitest';
import type { AssignmentStatus } from '../db/repositories/assignments.repository.js';
import type { ExtensionStatus } from '../db/repositories/case-queries.repository.js';
import { problemOf, refusalText } from '../handlers/pages/staff-common.js';
import { loadDistrictFile } from '../src/district/district-file.js';
import { CASE_STATUSES, type CaseStatus } from '../src/domain/case.js';
import { AppError, refused, type Refusal, type RefusalReason } from '../src/errors.js';
import type { ManualClock } from '../src/clock.js';
import { client, json, seedCase, startWorkflowService, type Staff, type TestService } from './workflow-helpers.js';

const district = loadDistrictFile();
const ASSIGNMENT_STATUSES: AssignmentStatus[] = ['pending', 'accepted', 'replied', 'returned', 'released'];
const EXTENSION_STATUSES: ExtensionStatus[] = ['pending', 'approved', 'refused', 'lapsed'];
const UNITS = [...district.units.keys()];

type Of<K extends RefusalReason> = Extract<Refusal, { reason: K }>;
const plain = <K extends RefusalReason>(reason: K) => [{ reason }] as Array<Of<K>>;
const perCase = <K extends RefusalReason>(reason: K) => CASE_STATUSES.map((status) => ({ reason, status })) as Array<Of<K>>;
const perAssignment = <K extends RefusalReason>(reason: K) => ASSIGNMENT_STATUSES.map((status) => ({ reason, status })) as Array<Of<K>>;
const perUnit = <K extends RefusalReason>(reason: K) => UNITS.map((unit) => ({ reason, unit })) as Array<Of<K>>;

/** Every reason the workflow gives, with each value its parameters take: a reason left out here does not compile. */
const EXAMPLES: { [K in RefusalReason]: Array<Of<K>> } = {
  no_live_assignment: plain('no_live_assignment'),
  case_not_under_handling: perCase('case_not_under_handling'),
  assignment_already: perAssignment('assignment_already'),
  return_after_signing: perAssignment('return_after_signing'),
  sign_first: plain('sign_first'),
  progress_not_under_way: perAssignment('progress_not_under_way'),
  no_deadline_to_extend: perAssignment('no_deadline_to_extend'),
  extension_waiting: plain('extension_waiting'),
  transition: CASE_STATUSES.flatMap((from) => CASE_STATUSES.map((to: CaseStatus) => ({ reason: 'transition' as const, from, to }))),
  changed_meanwhile: plain('changed_meanwhile'),
  page_outdated: plain('page_outdated'),
  not_routable: perCase('not_routable'),
  place_not_under_handling: perCase('place_not_under_handling'),
  merge_target_closed: perCase('merge_target_closed'),
  not_merged: perCase('not_merged'),
  not_transferable: perCase('not_transferable'),
  not_transferred: perCase('not_transferred'),
  release_case_done: perCase('release_case_done'),
  release_nothing_open: perUnit('release_nothing_open'),
  release_lead: plain('release_lead'),
  extension_decided: EXTENSION_STATUSES.map((status) => ({ reason: 'extension_decided' as const, status })),
  extension_case_not_under_handling: perCase('extension_case_not_under_handling'),
  extension_unit_gone: perUnit('extension_unit_gone'),
  extension_decided_meanwhile: plain('extension_decided_meanwhile'),
  supervise_not_under_handling: perCase('supervise_not_under_handling'),
  already_rated: plain('already_rated'),
  rate_not_replied: perCase('rate_not_replied'),
  rating_closed: [{ reason: 'rating_closed', rateBy: '2026-03-09T16:00:00.000Z' }],
  no_lead_to_reopen: plain('no_lead_to_reopen'),
};

describe('refusalText: the workflow refusals as the staff pages say them', () => {
  it.each(Object.entries(EXAMPLES))('says %s in Chinese without an English word, and in English without Chinese', (_reason, examples) => {
    expect(examples.length).toBeGreaterThan(0);
    for (const refusal of examples as Refusal[]) {
      const zh = refusalText(refusal, 'zh', district);
      const en = refusalText(refusal, 'en', district);
      expect(zh, JSON.stringify(refusal)).toMatch(/\p{Script=Han}/u);
      // No status code, unit code or word of the API's message leaks into the Chinese sentence.
      expect(zh, JSON.stringify(refusal)).not.toMatch(/[A-Za-z]/);
      expect(zh, JSON.stringify(refusal)).toMatch(/[。！]$/);
      expect(en, JSON.stringify(refusal)).toMatch(/^\S.*[a-z0-9)]\.$/);
      expect(en, JSON.stringify(refusal)).not.toMatch(/\p{Script=Han}/u);
    }
  });

  it('keeps the Chinese sentences the bureau inbox already said, word for word', () => {
    const zh = (r: Refusal) => refusalText(r, 'zh', district);
    expect(zh({ reason: 'no_live_assignment' })).toBe('本单位在此案件当前的办理中已无待办（已退回、已被调度员撤回，或重办时未再派给本单位）。');
    expect(zh({ reason: 'case_not_under_handling', status: 'closed' })).toBe('案件已是「已办结」状态，无需再办理。');
    expect(zh({ reason: 'assignment_already', status: 'accepted' })).toBe('本单位已签收，无需重复提交。');
    expect(zh({ reason: 'return_after_signing', status: 'accepted' })).toBe('本单位已签收，只有尚未签收的案件才能退回；如确需调整，请联系调度员。');
    expect(zh({ reason: 'sign_first' })).toBe('请先签收案件。');
    expect(zh({ reason: 'progress_not_under_way', status: 'replied' })).toBe('本单位已答复，不能再记录办理进展。');
    expect(zh({ reason: 'no_deadline_to_extend', status: 'released' })).toBe('本单位已被撤回，没有可延长的期限。');
    expect(zh({ reason: 'extension_waiting' })).toBe('本单位已有一份延期申请在等待调度员审批。');
    expect(zh({ reason: 'changed_meanwhile' })).toBe('案件刚刚被他人更新，请查看下方最新情况后再操作。');
    expect(zh({ reason: 'transition', from: 'replied', to: 'returned' })).toBe('案件当前为「已答复」状态，不能改为「已退回」。');
  });

  it('tells a dispatcher to give the place with the route only while the case can still be routed', () => {
    expect(refusalText({ reason: 'place_not_under_handling', status: 'triage' }, 'zh', district)).toBe('案件当前为「待分派」状态，不在办理中，不能补充属地；请在“重新派发”中指定属地。');
    expect(refusalText({ reason: 'place_not_under_handling', status: 'closed' }, 'zh', district)).toBe('案件当前为「已办结」状态，不在办理中，不能补充属地。');
  });

  it('names a unit by its name in the page language, never by its code', () => {
    const epb = district.units.get('epb')!.name;
    expect(refusalText({ reason: 'release_nothing_open', unit: 'epb' }, 'zh', district)).toContain(epb.zh);
    expect(refusalText({ reason: 'release_nothing_open', unit: 'epb' }, 'en', district)).toContain(epb.en);
  });
});

describe('problemOf', () => {
  it('says a refusal from its reason, whatever the English message says', () => {
    const err = refused('illegal_transition', 'a sentence the API may reword at any time', { reason: 'release_lead' });
    expect(problemOf(err, 'release', {}, 'zh', district).message).toBe('牵头单位不能撤回；如需更换牵头单位，请重新派发。');
    expect(problemOf(err, 'release', {}, 'en', district).message).toBe('The lead cannot be released; route the case again to change the lead.');
    const conflict = refused('conflict', 'whatever', { reason: 'extension_decided_meanwhile' });
    expect(problemOf(conflict, 'approve', {}, 'en', district).message).toBe('Someone else decided the extension request; see it below.');
  });

  it('keeps the lead-in by error code, then the message, for an error without a reason', () => {
    const err = new AppError('conflict', 'call 7 of hotline h was already received with a different caller');
    expect(problemOf(err, 'call', {}, 'zh', district).message).toBe('案件已被他人更新，请刷新后重试：call 7 of hotline h was already received with a different caller');
    expect(problemOf(err, 'call', {}, 'en', district).message).toBe('Changed by someone else meanwhile: call 7 of hotline h was already received with a different caller');
  });
});

describe('staff actions refused for what their words say', () => {
  let h: { service: TestService; clock: ManualClock; staff: Staff };
  beforeAll(async () => {
    h = await startWorkflowService('staffrefusals', {});
  });

  /** What an action changed on a case: its version and its history. */
  async function stateOf(caseId: string) {
    const db = h.service.deps.db;
    const row = await db.selectFrom('cases').select(['status', 'version']).where('id', '=', caseId).executeTakeFirstOrThrow();
    const events = await db.selectFrom('case_events').select('id').where('case_id', '=', caseId).execute();
    const requests = await db.selectFrom('extension_requests').select('id').where('case_id', '=', caseId).execute();
    return { ...row, events: events.length, requests: requests.length };
  }

  // Only white space or characters that show nothing: a zero-width space, a word joiner and a BOM, a Hangul
  // filler, the braille blank, a right-to-left mark, a full-width space.
  const BLANKS = ['\u200b', '\u2060\ufeff', '\u3164', '\u2800', ' \u200f ', '\u3000'];

  it('refuses a reason, note or text that shows nothing, naming the field, and changes nothing', async () => {
    const { service, clock, staff } = h;
    const dispatched = await seedCase(service, clock);
    const signed = await seedCase(service, clock);
    expect((await client(service.url, staff.epb).post(`/api/v1/cases/${signed.id}/accept`)).status).toBe(200);
    const other = await seedCase(service, clock);
    const bureau: Array<[string, string, (blank: string) => Record<string, unknown>, string]> = [
      [dispatched.id, 'return', (b) => ({ reason: 'not_our_remit', note: b }), 'note'],
      [dispatched.id, 'extend', (b) => ({ workingDays: 3, reason: b }), 'reason'],
      [signed.id, 'progress', (b) => ({ note: b, public: true }), 'note'],
      [signed.id, 'reply', (b) => ({ text: b }), 'text'],
    ];
    const desk: Array<[string, string, (blank: string) => Record<string, unknown>, string]> = [
      [dispatched.id, 'route', (b) => ({ type: 'noise', reason: b }), 'reason'],
      [dispatched.id, 'merge', (b) => ({ into: other.id, reason: b }), 'reason'],
      [dispatched.id, 'transfer', (b) => ({ reason: b }), 'reason'],
      [dispatched.id, 'release', (b) => ({ unit: 'econ', reason: b }), 'reason'],
      [dispatched.id, 'supervise', (b) => ({ note: b }), 'note'],
    ];
    const before = { dispatched: await stateOf(dispatched.id), signed: await stateOf(signed.id), other: await stateOf(other.id) };
    for (const blank of BLANKS) {
      for (const [token, actions] of [[staff.epb, bureau], [staff.dispatcher, desk]] as const) {
        for (const [id, action, body, field] of actions) {
          const res = await json(client(service.url, token).post(`/api/v1/cases/${id}/${action}`, body(blank)));
          const what = `${action} ${JSON.stringify(blank)}`;
          expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBe(400);
          expect(res.body.error.code, what).toBe('validation_failed');
          expect(res.body.error.fields, what).toEqual({ [field]: 'must not be empty' });
          expect(typeof res.body.error.requestId, what).toBe('string');
        }
      }
    }
    // The reply as a form with a file: refused before anything is stored.
    const form = new FormData();
    form.append('text', '\u200b');
    const reply = await json(fetch(`${service.url}/api/v1/cases/${signed.id}/reply`, { method: 'POST', headers: { authorization: `Bearer ${staff.epb}` }, body: form }));
    expect(reply.status).toBe(400);
    expect(reply.body.error.fields).toEqual({ text: 'must not be empty' });
    expect({ dispatched: await stateOf(dispatched.id), signed: await stateOf(signed.id), other: await stateOf(other.id) }).toEqual(before);

    // An extension request's refusal note alike: the request stays waiting.
    const requested = await json(client(service.url, staff.epb).post(`/api/v1/cases/${dispatched.id}/extend`, { workingDays: 3, reason: '需要检测报告' }));
    expect(requested.status).toBe(201);
    for (const blank of BLANKS) {
      for (const action of ['refuse', 'approve']) {
        const res = await json(client(service.url, staff.dispatcher).post(`/api/v1/extensions/${requested.body.id}/${action}`, { note: blank }));
        expect(res.status, `${action} ${JSON.stringify(blank)}`).toBe(400);
        expect(res.body.error.fields).toEqual({ note: 'must not be empty' });
      }
    }
    const row = await service.deps.db.selectFrom('extension_requests').select('status').where('id', '=', requested.body.id).executeTakeFirstOrThrow();
    expect(row.status).toBe('pending');
  });
});
