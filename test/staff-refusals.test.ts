import { describe, expect, it } from 'vitest';
import type { AssignmentStatus } from '../db/repositories/assignments.repository.js';
import type { ExtensionStatus } from '../db/repositories/case-queries.repository.js';
import { problemOf, refusalText } from '../handlers/pages/staff-common.js';
import { loadDistrictFile } from '../src/district/district-file.js';
import { CASE_STATUSES, type CaseStatus } from '../src/domain/case.js';
import { AppError, refused, type Refusal, type RefusalReason } from '../src/errors.js';

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
