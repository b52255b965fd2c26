import type { Context, Hono } from 'hono';
import { currentAssignmentOf } from '../../db/repositories/assignments.repository.js';
import type { Role } from '../../src/auth/principal.js';
import { type District, typeName as fileTypeName, unitName as fileUnitName } from '../../src/district/district.schema.js';
import type { AssignmentStatus } from '../../db/repositories/assignments.repository.js';
import type { ExtensionStatus } from '../../db/repositories/case-queries.repository.js';
import { caseReference, WORKING, type CaseStatus } from '../../src/domain/case.js';
import { showsNothing } from '../../src/domain/text.js';
import { AppError, type Refusal } from '../../src/errors.js';
import { csrfProtection } from '../../src/web/csrf.js';
import { formatTime, type Lang } from '../../src/web/i18n.js';
import { FieldError, errorId } from '../../src/web/layout.js';
import { loadSession, requireSignedIn, STAFF_AREAS, type StaffArea } from '../../src/web/session.js';
import { RETURN_REASON_LABEL as RETURN_REASON_WORDS } from '../../src/web/status-words.js';
import type { CaseView } from '../../src/workflow/case-view.js';
import { readableFile } from '../../src/workflow/case-view.js';
import { saidText } from '../../src/workflow/service-words.js';
import { ROUTABLE } from '../../src/workflow/dispatcher.js';
import type { AppEnv } from '../app-env.js';
import { fieldMessage } from '../../src/web/messages.js';
import { timelineNote, wordsLang } from './resident-labels.js';

/**
 * What the staff pages (console, inbox, desk, dashboard) share: the
 * middleware of a staff area, names in the visitor's language, deadline
 * badges, the case history, form helpers and the access-checked file route.
 */

/**
 * Page middleware for one area (`/inbox` and `/inbox/*`): CSRF tokens,
 * the session, and the roles that may enter (STAFF_AREAS). Registered on the area's own
 * paths: a router's `use('*')` would cover the whole app, the API included.
 */
export function staffArea(router: Hono<AppEnv>, prefix: StaffArea): void {
  const roles: readonly Role[] = STAFF_AREAS[prefix];
  for (const path of [prefix, `${prefix}/*`]) router.use(path, csrfProtection(), loadSession(), requireSignedIn(...roles));
}

/**
 * A case's status as the staff pages say it. `dispatched` is 待签收: the case waits for its units to sign for it, and
 * the English says that too ("awaiting sign-for"), not that it was sent, which any later status was as well.
 */
export const STATUS_LABEL: Record<Lang, Record<string, string>> = {
  zh: {
    received: '已受理',
    triage: '待分派',
    dispatched: '待签收',
    accepted: '办理中',
    replied: '已答复',
    closed: '已办结',
    returned: '已退回',
    transferred: '已转办',
    merged: '已并案',
    reopened: '重办',
  },
  en: {
    received: 'received',
    triage: 'triage',
    dispatched: 'awaiting sign-for',
    accepted: 'in progress',
    replied: 'replied',
    closed: 'closed',
    returned: 'returned',
    transferred: 'transferred',
    merged: 'merged',
    reopened: 'reopened',
  },
};

/** Where a case came from. */
export const CHANNEL_LABEL: Record<Lang, Record<string, string>> = {
  zh: { web: '网页', api: '接口', telegram: 'Telegram', hotline12345: '12345热线', hotline12369: '12369热线' },
  en: { web: 'web form', api: 'API', telegram: 'Telegram', hotline12345: '12345 hotline', hotline12369: '12369 hotline' },
};

/** Why a case was closed. */
export const CLOSE_REASON_LABEL: Record<Lang, Record<string, string>> = {
  zh: { rated: '举报人已评价', not_rated: '回访期满未评价', merged: '已并案' },
  en: { rated: 'rated by the reporter', not_rated: 'not rated within the rating period', merged: 'merged into another case' },
};

export const ASSIGNMENT_STATUS: Record<Lang, Record<string, string>> = {
  zh: { pending: '待签收', accepted: '已签收', replied: '已答复', returned: '已退回', released: '已撤回' },
  en: { pending: 'awaiting sign-for', accepted: 'signed for', replied: 'replied', returned: 'returned', released: 'released' },
};

export const ROLE_LABEL: Record<Lang, Record<string, string>> = {
  zh: { lead: '牵头', co: '协办', jurisdiction: '属地' },
  en: { lead: 'lead', co: 'co-handling', jurisdiction: 'local office' },
};

/** Why a unit returned a case: the words the Telegram group reads too (src/web/status-words.ts). */
export const RETURN_REASON_LABEL: Record<Lang, Record<string, string>> = RETURN_REASON_WORDS;

export const TRIAGE_REASON_LABEL: Record<Lang, Record<string, string>> = {
  zh: {
    low_confidence: '分类置信度低',
    no_rule_matched: '未能分类',
    unknown_type: '类型无派单规则',
    returned: '承办单位退回',
    reopened: '群众不满意，重办',
    co_returned: '协办单位退回',
    place_unknown: '地点不明',
    unmerged: '撤销并案',
    untransferred: '撤销转办',
    transfer_returned: '转办单位退回（属环境问题）',
  },
  en: {
    low_confidence: 'low classifier confidence',
    no_rule_matched: 'not classified',
    unknown_type: 'no routing for the type',
    returned: 'returned by the lead',
    reopened: 'reopened by the reporter',
    co_returned: 'returned by a co-handler',
    place_unknown: 'place unknown',
    unmerged: 'merge undone',
    untransferred: 'transfer to 12345 undone',
    transfer_returned: 'returned by the unit it was handed to (environmental after all)',
  },
};

const EVENT_LABEL: Record<Lang, Record<string, string>> = {
  zh: {
    received: '已受理',
    status: '状态变更',
    classified: '自动分类',
    accepted: '签收',
    returned: '退回',
    progress: '办理进展',
    reply: '答复',
    extension_requested: '申请延期',
    extended: '延期已批准',
    extension_refused: '延期未批准',
    supervised: '督办',
    released: '撤回单位',
    merged_in: '并入重复举报',
    unmerged_out: '重复举报撤销合并',
    delivered: '已推送至单位',
    delivery_failed: '推送失败',
    notification_failed: '通知发送失败',
    redelivery: '重新推送',
    place_set: '补充属地',
    assignment_renewed: '再次派给该单位',
    rerouted: '调整协办单位',
    overdue: '超期',
    reminder: '到期提醒',
    photo: '照片',
    photos_attached: '补充照片',
  },
  en: {
    received: 'received',
    status: 'status change',
    classified: 'classified',
    accepted: 'signed for',
    returned: 'returned',
    progress: 'progress',
    reply: 'reply',
    extension_requested: 'extension requested',
    extended: 'extension approved',
    extension_refused: 'extension refused',
    supervised: 'supervision',
    released: 'unit released',
    merged_in: 'duplicate merged in',
    unmerged_out: 'duplicate taken out again',
    delivered: 'delivered to the unit',
    delivery_failed: 'delivery failed',
    notification_failed: 'notice failed',
    redelivery: 'sent again',
    place_set: 'place given',
    assignment_renewed: 'assigned to the unit again',
    rerouted: 'co-handlers changed',
    overdue: 'overdue',
    reminder: 'reminder',
    photo: 'photo',
    photos_attached: 'photos added',
  },
};

export function typeName(district: District, code: string | null | undefined, lang: Lang): string {
  if (!code) return lang === 'zh' ? '未分类' : 'not classified';
  return fileTypeName(district, code, lang);
}

export function unitName(district: District, code: string | null | undefined, lang: Lang): string {
  if (!code) return lang === 'zh' ? '未知' : 'unknown';
  return fileUnitName(district, code, lang);
}

/** Types of the district file, in file order, for selects. */
export function typeOptions(district: District, lang: Lang): Array<{ code: string; name: string }> {
  return district.file.types.map((t) => ({ code: t.code, name: t.name[lang] }));
}

export function bureauOptions(district: District, lang: Lang): Array<{ code: string; name: string }> {
  return district.file.bureaus.map((b) => ({ code: b.code, name: b.name[lang] }));
}

export function jurisdictionOptions(district: District, lang: Lang): Array<{ code: string; name: string }> {
  return district.file.jurisdictions.map((j) => ({ code: j.code, name: j.name[lang] }));
}

/**
 * A choice for the case's own type or place when the district file no longer
 * has it (dropped or renamed since the case got it): shown and selected, so a
 * form sent as it is asks for another one instead of silently taking the
 * list's first. It is named as an earlier file named it, where that was kept.
 */
export function GoneOption({
  code,
  name,
  known,
  selected,
  lang,
}: {
  code: string | null | undefined;
  /** The name an earlier file gave it, else its code. */
  name: string;
  known: boolean;
  selected: string;
  lang: Lang;
}) {
  if (!code || known) return null;
  return <option value={code} selected={selected === code}>{lang === 'zh' ? `${name}（已不在区划配置中，请另选）` : `${name} (no longer in the district file: choose another)`}</option>;
}

/**
 * The badge of a deadline: overdue (red), due soon (amber), or none. "Due
 * soon" is the district's reminder window (催办, `supervision.remindBeforeHours`):
 * a fixed day would mark every case whose sign-for window is a day long.
 */
export function DeadlineBadge({ due, now, lang, district }: { due: string | null | undefined; now: Date; lang: Lang; district: District }) {
  if (!due) return null;
  const left = Date.parse(due) - now.getTime();
  if (left < 0) return <span class="badge overdue">{lang === 'zh' ? '已超期' : 'overdue'}</span>;
  if (left < district.file.supervision.remindBeforeHours * 3600_000) return <span class="badge due-soon">{lang === 'zh' ? '即将到期' : 'due soon'}</span>;
  return null;
}

/** One string field of a parsed form ('' when absent or a file). */
/**
 * The error for a free-text field that must be filled and not be longer than `max` characters, or null. Only
 * spaces or invisible characters (a zero-width space pasted in) fill nothing, as in the API.
 */
export function requiredText(value: string, lang: Lang, max = 2000): string | null {
  if (showsNothing(value)) return lang === 'zh' ? '请填写此项。' : 'Please fill this in.';
  if ([...value].length > max) return lang === 'zh' ? `不能超过 ${max} 个字。` : `At most ${max} characters.`;
  return null;
}

/** A refused form: 400 naming each field to correct, shown next to it. */
export function invalidForm(lang: Lang, fields: Record<string, string>): AppError {
  return new AppError('validation_failed', lang === 'zh' ? '请按提示修改后再提交。' : 'Please correct the marked fields.', fields);
}

export function field(form: Record<string, unknown>, name: string): string {
  const v = form[name];
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  return '';
}

/** Every file of a form field (multiple inputs or `multiple`), empty ones dropped. */
export function files(form: Record<string, unknown>, name: string): File[] {
  const v = form[name];
  const list = Array.isArray(v) ? v : v === undefined ? [] : [v];
  return list.filter((f): f is File => f instanceof File && f.size > 0);
}

/** The problem of one form, shown above it and next to each named field. */
export interface FormProblem {
  /** Which form on the page (so only that form shows it). */
  form: string;
  message: string;
  fields: Record<string, string>;
  values: Record<string, string>;
}

/** What the unit has done with its assignment, as a sentence says it (本单位已签收 / your unit has already signed for the case). */
const UNIT_DID: Record<Lang, Record<AssignmentStatus, string>> = {
  zh: { pending: '尚未签收', accepted: '已签收', replied: '已答复', returned: '已退回', released: '已被撤回' },
  en: {
    pending: 'has not signed for the case yet',
    accepted: 'has already signed for the case',
    replied: 'has already replied',
    returned: 'has returned the case',
    released: 'was released from the case',
  },
};

/** A case a unit holds while it waits in triage (its lead returned it): nothing can be done on it until a dispatcher routes it again. */
export const WAITING_FOR_DISPATCHER: Record<Lang, string> = {
  zh: '牵头单位已退回此案件，正等待调度员重新分派；在此之前各单位暂不能办理，期限暂停计算。重新分派后本单位如仍承办，可继续办理。',
  en: 'the lead returned this case and it waits for a dispatcher to route it again: until then no unit can act on it, and its deadlines are paused. If your unit keeps its part, it goes on then.',
};

/** What became of an extension request, as a sentence says it (该延期申请已批准 / the request was already approved). */
const REQUEST_WAS: Record<Lang, Record<ExtensionStatus, string>> = {
  zh: { pending: '尚待审批', approved: '已批准', refused: '已驳回', lapsed: '已失效（该单位已答复、已被解除，或已重新接到此案件）' },
  en: { pending: 'still waiting', approved: 'already approved', refused: 'already refused', lapsed: 'no longer valid (the unit replied, was released, or was given the case again)' },
};

/**
 * A refusal of the workflow (`AppError.refusal`) as a page says it: a
 * double-submitted form, a second tab or a colleague who acted first lands
 * here, and the clerk or dispatcher reads why in the page's language, with
 * what to do next, rather than the API's English. The English is written in
 * lower case, as a clause; problemOf makes a sentence of it. Every reason has
 * both languages: a reason added to `Refusal` without them does not compile.
 */
export function refusalText(refusal: Refusal, lang: Lang, district: District): string {
  const zh = lang === 'zh';
  const status = (s: CaseStatus) => STATUS_LABEL[lang][s] ?? s;
  const unit = (code: string) => unitName(district, code, lang);
  switch (refusal.reason) {
    case 'no_live_assignment':
      return zh
        ? '本单位在此案件当前的办理中已无待办（已退回、已被调度员撤回，或重办时未再派给本单位）。'
        : 'your unit has nothing left to do on this case (it returned the case, a dispatcher released it, or it was not given the case again when the case was reopened).';
    case 'case_not_under_handling':
      // Waiting in triage (its lead returned it), the case is still the unit's to handle once a dispatcher routes it again.
      if (refusal.status === 'triage') return WAITING_FOR_DISPATCHER[lang];
      return zh ? `案件已是「${status(refusal.status)}」状态，无需再办理。` : `the case is ${status(refusal.status)}; there is nothing left to do on it.`;
    case 'assignment_already':
      return zh ? `本单位${UNIT_DID.zh[refusal.status]}，无需重复提交。` : `your unit ${UNIT_DID.en[refusal.status]}; there is nothing to submit again.`;
    case 'return_after_signing':
      return zh
        ? `本单位${UNIT_DID.zh[refusal.status]}，只有尚未签收的案件才能退回；如确需调整，请联系调度员。`
        : `your unit ${UNIT_DID.en[refusal.status]}; only a case not yet signed for can be returned. To change who handles it, ask the dispatcher.`;
    case 'sign_first':
      return zh ? '请先签收案件。' : 'sign for the case first.';
    case 'progress_not_under_way':
      return zh ? `本单位${UNIT_DID.zh[refusal.status]}，不能再记录办理进展。` : `your unit ${UNIT_DID.en[refusal.status]}; progress notes are for work under way.`;
    case 'no_deadline_to_extend':
      return zh ? `本单位${UNIT_DID.zh[refusal.status]}，没有可延长的期限。` : `your unit ${UNIT_DID.en[refusal.status]}; there is no deadline left to extend.`;
    case 'extension_waiting':
      return zh ? '本单位已有一份延期申请在等待调度员审批。' : 'your unit already has an extension request waiting for the dispatcher.';
    case 'transition':
      return zh
        ? `案件当前为「${status(refusal.from)}」状态，不能改为「${status(refusal.to)}」。`
        : `the case is ${status(refusal.from)} and cannot become ${status(refusal.to)}.`;
    case 'changed_meanwhile':
      return zh ? '案件刚刚被他人更新，请查看下方最新情况后再操作。' : 'look at the case as it is now, below, before acting again.';
    case 'page_outdated':
      return zh
        ? '案件已被他人更新（打开此页后已有人派发或办理），请查看下方最新情况后再作决定。'
        : 'the case changed after this page was loaded (someone routed or handled it); look at it as it is now, below, and decide again.';
    case 'not_routable':
      return zh ? `案件已是「${status(refusal.status)}」状态，不能重新派发。` : `the case is ${status(refusal.status)}; it can no longer be routed.`;
    case 'place_not_under_handling': {
      // Waiting in triage or returned, the case gets its place with its route; otherwise it is past routing.
      const routable = ROUTABLE.includes(refusal.status);
      return zh
        ? `案件当前为「${status(refusal.status)}」状态，不在办理中，不能补充属地${routable ? '；请在“重新派发”中指定属地。' : '。'}`
        : `the case is ${status(refusal.status)}, not under handling, so no local office can join it${routable ? '; route it instead, with its local office.' : '.'}`;
    }
    case 'merge_target_closed':
      return zh
        ? `要并入的案件已是「${status(refusal.status)}」状态，不能再并入；请改填一件仍在办理的案件。`
        : `the case to merge into is ${status(refusal.status)}; give a case that is still open.`;
    case 'not_merged':
      return zh ? `案件当前为「${status(refusal.status)}」状态，不是并案，无需撤销。` : `the case is ${status(refusal.status)}, not merged: there is no merge to undo.`;
    case 'not_transferred':
      return zh ? `案件当前为「${status(refusal.status)}」状态，并未转12345热线，无需撤销。` : `the case is ${status(refusal.status)}, not handed to 12345: there is no transfer to undo.`;
    case 'not_transferable':
      return zh ? `案件已是「${status(refusal.status)}」状态，不能转12345热线。` : `the case is ${status(refusal.status)}; it can no longer be handed to 12345.`;
    case 'release_case_done':
      return zh ? `案件已是「${status(refusal.status)}」状态，不能再撤回承办单位。` : `the case is ${status(refusal.status)}; its units can no longer be released.`;
    case 'release_nothing_open':
      return zh
        ? `${unit(refusal.unit)}在此案件当前的办理中已无可撤回的任务（已答复、已被撤回，或未派给该单位），无需撤回。`
        : `${unit(refusal.unit)} has nothing open on this case to release (it replied, was released already, or was not given the case).`;
    case 'release_lead':
      return zh ? '牵头单位不能撤回；如需更换牵头单位，请重新派发。' : 'the lead cannot be released; route the case again to change the lead.';
    case 'extension_decided':
      return zh ? `该延期申请${REQUEST_WAS.zh[refusal.status]}，无需再次审批。` : `the extension request was ${REQUEST_WAS.en[refusal.status]}.`;
    case 'extension_case_not_under_handling':
      return zh ? `案件已是「${status(refusal.status)}」状态，不在办理中，无需延期。` : `the case is ${status(refusal.status)}; there is no deadline to extend.`;
    case 'extension_unit_gone':
      return zh
        ? `${unit(refusal.unit)}在此案件当前的办理中已无待办（已答复、已退回或已被撤回），无需延期。`
        : `${unit(refusal.unit)} has nothing open on this case any more (it replied, returned the case or was released); there is no deadline to extend.`;
    case 'extension_decided_meanwhile':
      return zh ? '该延期申请刚刚已由他人审批，请查看下方最新情况。' : 'someone else decided the extension request; see it below.';
    case 'supervise_not_under_handling':
      return zh ? `案件已是「${status(refusal.status)}」状态，不在办理中，无需督办。` : `the case is ${status(refusal.status)}, not under handling; there is nothing to supervise.`;
    case 'already_rated':
      return zh ? '这次答复已经评价过，每次答复只能评价一次。' : 'this answer has already been rated; an answer is rated once.';
    case 'rate_not_replied':
      return zh ? `案件当前为「${status(refusal.status)}」状态，只有已答复的案件才能评价。` : `the case is ${status(refusal.status)}; only a replied case can be rated.`;
    case 'rating_closed': {
      const when = formatTime(refusal.rateBy, lang, district.file.district.timezone);
      return zh ? `评价期限已于${when}截止，无法再评价。` : `the time to rate this answer ended on ${when}.`;
    }
    case 'no_lead_to_reopen':
      return zh ? '案件没有牵头单位，无法退回重新办理，请联系调度员。' : 'the case has no lead bureau to hand it back to; ask the dispatcher.';
    default: {
      const unknown: never = refusal;
      return unknown;
    }
  }
}

/** Turns an expected failure of an action (4xx AppError) into a problem to show; anything else is rethrown. */
const MARKED: Record<Lang, string> = { zh: '请按提示修改后再提交。', en: 'Please correct what is marked and send it again.' };

export function problemOf(
  err: unknown,
  form: string,
  values: Record<string, string>,
  lang: Lang,
  district: District,
  rename: Record<string, string> = {},
): FormProblem {
  if (!(err instanceof AppError) || err.status >= 500) throw err;
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(err.fields ?? {})) fields[rename[k] ?? k] = fieldMessage(lang, v);
  // The workflow explains a refusal in English; say in the page's language what kind of refusal it is.
  const prefix: Partial<Record<string, Record<Lang, string>>> = {
    illegal_transition: { zh: '案件当前状态不允许此操作：', en: 'Not possible in the current state: ' },
    conflict: { zh: '案件已被他人更新，请刷新后重试：', en: 'Changed by someone else meanwhile: ' },
    forbidden: { zh: '无权执行此操作：', en: 'Not allowed: ' },
  };
  const p = prefix[err.code]?.[lang];
  if (err.refusal) {
    // Said from the reason, not the message: a sentence of its own in the page's language, at the top of the page
    // (the form it came from may be gone: a unit that replied meanwhile leaves nothing to release), whatever field
    // the API names for it.
    const said = refusalText(err.refusal, lang, district);
    return { form, message: said.charAt(0).toUpperCase() + said.slice(1), fields: {}, values };
  }
  // A refusal that names fields says the rest next to them: above the form, a sentence in the page's language
  // instead of the API's terse English (`a case cannot be merged into itself`).
  // In English, the API's words are those that do not begin as a sentence does (`a case …`, `"other" goes to …`).
  const terse = lang === 'zh' ? !/\p{Script=Han}/u.test(err.message) : !/^[A-Z]/.test(err.message);
  if (Object.keys(fields).length > 0 && terse) return { form, message: MARKED[lang], fields, values };
  return { form, message: p ? p + err.message : err.message, fields, values };
}

export function problemStatus(err: unknown): 400 | 403 | 404 | 409 | 413 | 422 | 429 {
  const status = err instanceof AppError ? err.status : 400;
  return ([400, 403, 404, 409, 413, 422, 429] as const).find((s) => s === status) ?? 400;
}

/** A problem with marked fields, above its form (the fields say what is wrong); the page opens on it. */
export function FormNotice({ problem, form }: { problem: FormProblem | null | undefined; form: string }) {
  if (!problem || problem.form !== form || Object.keys(problem.fields).length === 0) return null;
  return (
    <p class="notice error" role="alert" id={`${form}-problem`} tabindex={-1} data-focus-on-load>
      {problem.message}
    </p>
  );
}

/**
 * A refusal that is not about a field (the case moved on, someone else acted
 * first), at the top of the page: the form it came from may no longer be shown.
 */
export function ActionNotice({ problem }: { problem: FormProblem | null | undefined }) {
  if (!problem || Object.keys(problem.fields).length > 0) return null;
  return (
    <p class="notice error" role="alert" id="action-problem" tabindex={-1} data-focus-on-load>
      {problem.message}
    </p>
  );
}

/** Attributes tying an input to its error message. */
export function invalidAttrs(problem: FormProblem | null | undefined, form: string, name: string) {
  const bad = problem?.form === form && problem.fields[name] !== undefined;
  return bad ? { 'aria-invalid': 'true' as const, 'aria-describedby': errorId(`${form}-${name}`) } : {};
}

export function FieldProblem({ problem, form, name }: { problem: FormProblem | null | undefined; form: string; name: string }) {
  if (!problem || problem.form !== form) return null;
  return <FieldError name={`${form}-${name}`} message={problem.fields[name]} />;
}

/**
 * A required free-text field of a staff form: after a refused submit it keeps
 * what was typed and shows its problem beneath it. The label stays with the caller.
 * No maxlength: a browser cuts a longer paste (a long 整改报告) short without a
 * word; the service refuses it instead, naming its limit, with the text kept.
 */
export function ProblemTextArea(props: { problem: FormProblem | null | undefined; form: string; name: string; id: string }) {
  const { problem, form, name } = props;
  return (
    <>
      <textarea id={props.id} name={name} required {...invalidAttrs(problem, form, name)}>
        {kept(problem, form, name)}
      </textarea>
      <FieldProblem problem={problem} form={form} name={name} />
    </>
  );
}

/**
 * What the page's script (staff.js) reads to keep drafts: a draft of each
 * free-text field of a `data-draft` form is kept in the browser's storage
 * under the account (the layout's `data-drafts-of`) and the form's action
 * (its case and its form), put back when the page is shown again (a session
 * that ended while the clerk typed sends the post to the sign-in page, and
 * the text would be gone), and dropped once the server has accepted that form
 * (`data-draft-done`, the action of the form just done). Another account's
 * drafts are dropped when any staff page of this one is shown; signing out
 * drops them all (signin.page.tsx). The text never goes into a URL or a log,
 * only into this browser's storage. Used by the inbox's case page, the desk's
 * case page and its extension requests, and the console's start forms and
 * review page. A page may name several forms done at once (the console's
 * entered call: its start form and its review).
 */
export function draftDone(...done: Array<string | null>): Record<string, string> {
  const keys = done.filter((d): d is string => d !== null && d !== '');
  return keys.length > 0 ? { 'data-draft-done': keys.join(' ') } : {};
}

/** Shown by the script when it has put a draft back into the form (and, for the reply, how many files were chosen then). */
export function DraftNotices({ zh, files = false }: { zh: boolean; files?: boolean }) {
  return (
    <>
      <p class="notice" data-draft-restored hidden role="status">
        {zh ? '已恢复您在本浏览器中填写但尚未提交的内容，请核对后提交。' : 'What you typed here and have not sent yet has been put back: check it, then send it.'}
      </p>
      {files ? (
        <p class="notice" data-draft-files hidden>
          {zh ? (
            <>
              上次选择的 <span data-draft-files-count></span> 个附件无法随草稿保留，请重新选择。
            </>
          ) : (
            <>
              The <span data-draft-files-count></span> file(s) chosen last time cannot be kept with the draft: please choose them again.
            </>
          )}
        </p>
      ) : null}
    </>
  );
}

/**
 * Marks a field whose value is the page's suggestion (a default reason, a new
 * call's id and time), not what was typed or posted: a kept draft replaces it
 * (a draft only fills empty fields otherwise), and left as it is, it alone
 * does not make a draft. `shownRefused`: the form is shown again with what
 * was posted, which no draft overrides.
 */
export function draftDefault(shownRefused: boolean): Record<string, string> {
  return shownRefused ? {} : { 'data-draft-default': '' };
}

/**
 * The box an action that cannot simply be taken back (merge, hand to 12345,
 * undo either, release a unit) must have ticked: without scripts the button's
 * `data-confirm` question is never asked, and one click would do it. The
 * page's script (app.js) hides the box and ticks it when the question is
 * accepted, so with scripts nothing changes; the server refuses the form
 * without it (`confirm`), naming it, with what was typed kept. Never kept
 * ticked on a page shown again: each send is confirmed anew.
 */
export function ConfirmBox({ problem, form, id, label }: { problem: FormProblem | null | undefined; form: string; id: string; label: string }) {
  return (
    <div data-confirm-box>
      <label class="check" for={id}>
        <input type="checkbox" id={id} name="confirm" value="1" required data-confirm-tick {...invalidAttrs(problem, form, 'confirm')} /> <span>{label}</span>
      </label>
      <FieldProblem problem={problem} form={form} name="confirm" />
    </div>
  );
}

/** A value typed into a form that failed, so nothing typed is lost. */
export function kept(problem: FormProblem | null | undefined, form: string, name: string, fallback = ''): string {
  return problem?.form === form ? (problem.values[name] ?? fallback) : fallback;
}

/** Who acted, as the history says it: staff by their role, otherwise the system or the reporter. */
const ACTOR_LABEL: Record<Lang, Record<string, string>> = {
  zh: { operator: '话务员', dispatcher: '调度员', bureau: '承办单位', admin: '管理员', system: '系统', reporter: '举报人' },
  en: { operator: 'operator', dispatcher: 'dispatcher', bureau: 'bureau clerk', admin: 'administrator', system: 'system', reporter: 'reporter' },
};

const STAGE_LABEL: Record<Lang, Record<string, string>> = {
  zh: { sign: '签收', reply: '答复' },
  en: { sign: 'sign-for', reply: 'reply' },
};

/**
 * A reason kept on an event: a return or triage reason code in words, the service's words for a one-click action in
 * the page's language, or the dispatcher's own text.
 */
function reasonLabel(lang: Lang, reason: unknown, district: District): string | null {
  if (typeof reason === 'string') return RETURN_REASON_LABEL[lang][reason] ?? TRIAGE_REASON_LABEL[lang][reason] ?? RATING_REASON_LABEL[lang][reason] ?? reason;
  return saidText(reason, lang, district);
}

/** The codes a reporter's rating (or the end of the rating period) leaves on the case's closing or reopening. */
const RATING_REASON_LABEL: Record<Lang, Record<string, string>> = {
  zh: { rated: CLOSE_REASON_LABEL.zh.rated!, not_rated: CLOSE_REASON_LABEL.zh.not_rated!, dissatisfied: '举报人不满意' },
  en: { rated: CLOSE_REASON_LABEL.en.rated!, not_rated: CLOSE_REASON_LABEL.en.not_rated!, dissatisfied: 'the reporter was not satisfied' },
};

const EXTENSION_EVENTS: ReadonlySet<string> = new Set(['extension_requested', 'extended', 'extension_refused']);

/** 申请延长 5 个工作日 · 答复期限延至…: the working days an extension event names, and the reply deadline an approval gave. */
function extensionLine(lang: Lang, timeZone: string, data: Record<string, unknown>): string | null {
  const zh = lang === 'zh';
  const parts: string[] = [];
  if (typeof data.workingDays === 'number') parts.push(zh ? `申请延长 ${data.workingDays} 个工作日` : `${data.workingDays} more working day(s) asked`);
  if (typeof data.replyBy === 'string') parts.push(zh ? `答复期限延至 ${formatTime(data.replyBy, lang, timeZone)}` : `reply now due ${formatTime(data.replyBy, lang, timeZone)}`);
  return parts.length > 0 ? parts.join(' · ') : null;
}

/** The case's history, oldest first: who did what, when, and why. */
export function History({ view, lang, timeZone, district }: { view: CaseView; lang: Lang; timeZone: string; district: District }) {
  return (
    <ol class="timeline">
      {view.events.map((e) => {
        const data = (e.data ?? {}) as Record<string, unknown>;
        // A dispatcher's 督办 names the units supervised (`units`): a co-handler reads that it was the lead, not itself.
        const units = Array.isArray(data.units) && e.kind === 'supervised' ? data.units.filter((u): u is string => typeof u === 'string').map((u) => unitName(district, u, lang)) : [];
        const unit = typeof data.unit === 'string' ? unitName(district, data.unit, lang) : units.length > 0 ? units.join(lang === 'zh' ? '、' : ', ') : null;
        const label =
          e.kind === 'status' && e.toStatus
            ? `${STATUS_LABEL[lang][e.toStatus] ?? e.toStatus}`
            : (EVENT_LABEL[lang][e.kind] ?? e.kind);
        const stage = typeof data.stage === 'string' ? (STAGE_LABEL[lang][data.stage] ?? null) : null;
        // The duplicate merged in (or taken out again), by its reference: a clerk who worked on it knows it by that.
        const duplicate = (e.kind === 'merged_in' || e.kind === 'unmerged_out') && typeof data.from === 'string' ? caseReference(data.from) : null;
        const reason = reasonLabel(lang, data.reason, district);
        // What a request for more time asked, and where its approval moved the unit's reply deadline (a co-handler's
        // approval has no public note that says it).
        const extension = EXTENSION_EVENTS.has(e.kind) ? extensionLine(lang, timeZone, data) : null;
        // A note the clerk or dispatcher wrote as written; the service's (a 督办 from the overdue list, a return pressed in
        // the unit's Telegram group) in the page's language.
        const said = saidText(data.note, lang, district);
        const detail = said !== null && said !== e.note ? said : typeof data.text === 'string' && data.text !== e.note ? data.text : null;
        const actor = e.actor.type === 'staff' ? e.actor.role : null;
        // A note that only says the status again (已受理 · 已受理) is left out.
        const note = e.note ? timelineNote(lang, e.note, district) : null;
        return (
          <li>
            <time datetime={e.at}>{formatTime(e.at, lang, timeZone)}</time> · <strong>{label}</strong>
            {stage ? ` · ${stage}` : ''}
            {duplicate ? ` · ${duplicate}` : ''}
            {unit ? ` · ${unit}` : ''}
            {actor ? <span class="hint"> ({ACTOR_LABEL[lang][actor] ?? actor})</span> : null}
            {extension ? <div>{extension}</div> : null}
            {reason ? <div>{reason}</div> : null}
            {note && note.toLowerCase() !== label.toLowerCase() ? <div lang={wordsLang(lang, note)}>{note}</div> : null}
            {detail ? (
              <div class="hint" lang={wordsLang(lang, detail)}>
                {detail}
              </div>
            ) : null}
          </li>
        );
      })}
    </ol>
  );
}

/**
 * The case's facts every staff page shows the same way. With `own` (a unit's
 * clerk reading its assignment), the deadlines are the unit's own and their
 * badges follow what the unit still owes: a co-handler or local office may
 * still have to sign for the case after the lead did, may have an extension
 * of its own, or may have replied already while the lead has not.
 */
export function CaseFacts({
  view,
  lang,
  timeZone,
  district,
  now,
  own,
}: {
  view: CaseView;
  lang: Lang;
  timeZone: string;
  district: District;
  now: Date;
  own?: CaseView['assignments'][number] | null;
}) {
  const zh = lang === 'zh';
  const lead = currentAssignmentOf(view.assignments, (a) => a.role === 'lead', view.round);
  const working = WORKING.includes(view.status);
  const deadlines = own ? own.deadlines : view.deadlines;
  const current = own ? working && own.round === view.round : false;
  const signOwed = own ? current && own.status === 'pending' : view.status === 'dispatched';
  const replyOwed = own ? current && (own.status === 'pending' || own.status === 'accepted') : working;
  // For a unit's clerk, 超期 is the unit's own lateness, as in its inbox: a stage it still owes past its deadline (or
  // marked so), never the lead's (the case's mark says any unit is late).
  const past = (due: string | null) => due !== null && Date.parse(due) < now.getTime();
  // What the clerk's own unit has done of the assignment whose deadlines these are: shown done, not as still to meet.
  const signedAt = own?.acceptedAt ?? null;
  const repliedAt = own?.repliedAt ?? null;
  const late = own
    ? (signOwed && (own.overdue.sign !== null || past(deadlines.signBy))) || (replyOwed && (own.overdue.reply !== null || past(deadlines.replyBy)))
    : view.overdue;
  return (
    <dl class="facts">
      <dt>{zh ? '工单号' : 'Case reference'}</dt>
      <dd>
        <code>{view.reference}</code>
      </dd>
      {view.trackingCode === null ? null : (
        <>
          <dt>{zh ? '查询码' : 'Tracking code'}</dt>
          <dd>
            <code>{view.trackingCode}</code>
          </dd>
        </>
      )}
      <dt>{zh ? '状态' : 'Status'}</dt>
      <dd>
        {STATUS_LABEL[lang][view.status] ?? view.status} {view.urgent ? <span class="badge urgent">{zh ? '紧急' : 'urgent'}</span> : null}{' '}
        {late ? <span class="badge overdue">{zh ? '超期' : 'overdue'}</span> : null}{' '}
        {view.supervisedAt ? <span class="badge">{zh ? '督办' : 'supervised'}</span> : null}
      </dd>
      {view.mergedInto ? (
        <>
          <dt>{zh ? '并入案件' : 'Merged into'}</dt>
          <dd id="merged-into">
            <code>{view.mergedInto.reference}</code>
            {view.mergedInto.trackingCode ? (
              <>
                {' · '}
                <code>{view.mergedInto.trackingCode}</code>
                {/* That code opens the other case's page and rates its answer: this case's reporter follows theirs. */}
                <span class="hint" id="merged-into-hint">
                  {zh ? '（该查询码属于那件案件的举报人，请勿告诉本案举报人；本案举报人用自己的查询码即可查看合并后的进展）' : " (that code is the other case's reporter's: do not give it to this case's reporter, whose own code shows the merged case's progress)"}
                </span>
              </>
            ) : null}
          </dd>
        </>
      ) : null}
      <dt>{zh ? '问题类型' : 'Type'}</dt>
      <dd>{typeName(district, view.type?.code, lang)}</dd>
      <dt>{zh ? '牵头单位' : 'Lead bureau'}</dt>
      <dd>{lead ? unitName(district, lead.bureau.code, lang) : '—'}</dd>
      <dt>{zh ? '属地' : 'Local office'}</dt>
      <dd>{view.jurisdiction ? unitName(district, view.jurisdiction.code, lang) : zh ? '地点不明' : 'place unknown'}</dd>
      {view.address ? (
        <>
          <dt>{zh ? '地点' : 'Place'}</dt>
          <dd>{view.address}</dd>
        </>
      ) : null}
      <dt>{zh ? '受理时间' : 'Received'}</dt>
      <dd>{formatTime(view.receivedAt, lang, timeZone)}</dd>
      {/* A stage the clerk's unit has done reads as done, when, and by which deadline; one still owed, its deadline. */}
      <dt>{own ? (signedAt ? (zh ? '本单位签收时间' : 'Your unit signed for it') : zh ? '本单位签收期限' : 'Your unit signs for it by') : zh ? '签收期限' : 'Sign for by'}</dt>
      <dd id="sign-by">
        {signedAt ? (
          <DoneBy at={signedAt} due={deadlines.signBy} lang={lang} timeZone={timeZone} />
        ) : (
          <>
            {formatTime(deadlines.signBy, lang, timeZone)}{' '}
            {signOwed ? <DeadlineBadge due={deadlines.signBy} now={now} lang={lang} district={district} /> : null}
          </>
        )}
      </dd>
      <dt>{own ? (repliedAt ? (zh ? '本单位答复时间' : 'Your unit replied') : zh ? '本单位答复期限' : 'Your unit replies by') : zh ? '答复期限' : 'Reply by'}</dt>
      <dd id="reply-by">
        {repliedAt ? (
          <DoneBy at={repliedAt} due={deadlines.replyBy} lang={lang} timeZone={timeZone} />
        ) : (
          <>
            {formatTime(deadlines.replyBy, lang, timeZone)}{' '}
            {replyOwed ? <DeadlineBadge due={deadlines.replyBy} now={now} lang={lang} district={district} /> : null}
          </>
        )}
      </dd>
      <dt>{zh ? '举报人' : 'Reporter'}</dt>
      <dd>
        {view.reporter
          ? [view.reporter.name, view.reporter.phone].filter(Boolean).join(' · ')
          : view.anonymous
            ? zh
              ? '匿名'
              : 'anonymous'
            : zh
              ? '不公开'
              : 'not shared'}
      </dd>
    </dl>
  );
}

/** A stage done: when, and the deadline it was due by (`（期限 …）`), late or not. */
function DoneBy({ at, due, lang, timeZone }: { at: string; due: string | null; lang: Lang; timeZone: string }) {
  const zh = lang === 'zh';
  return (
    <>
      {formatTime(at, lang, timeZone)}
      {due ? <span class="hint">{zh ? `（期限 ${formatTime(due, lang, timeZone)}）` : ` (due ${formatTime(due, lang, timeZone)})`}</span> : null}
    </>
  );
}

export function AssignmentsTable({ view, lang, timeZone, district }: { view: CaseView; lang: Lang; timeZone: string; district: District }) {
  const zh = lang === 'zh';
  // A unit the case was withdrawn from reads its own assignment, whatever round it was of.
  const rows = view.access === 'withdrawn' ? view.assignments : view.assignments.filter((a) => a.round === view.round);
  // No unit yet (a case waiting to be routed): a sentence, not a table of headings with no rows.
  if (rows.length === 0) {
    return (
      <p class="hint" id="no-assignments">
        {zh ? '承办单位：尚未分派。' : 'Units on the case: none yet.'}
      </p>
    );
  }
  return (
    // Focusable, so a keyboard can scroll it sideways on a narrow screen.
    <div class="table-wrap" role="region" aria-label={zh ? '承办单位' : 'Units on the case'} tabindex={0}>
      <table>
        <caption class="hint" style="text-align:left">
          {zh ? '承办单位' : 'Units on the case'}
        </caption>
        <thead>
          <tr>
            <th scope="col">{zh ? '单位' : 'Unit'}</th>
            <th scope="col">{zh ? '角色' : 'Role'}</th>
            <th scope="col">{zh ? '状态' : 'Status'}</th>
            <th scope="col">{zh ? '答复期限' : 'Reply by'}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((a) => (
            <tr>
              <td>{unitName(district, a.bureau.code, lang)}</td>
              <td>{ROLE_LABEL[lang][a.role] ?? a.role}</td>
              <td>
                {ASSIGNMENT_STATUS[lang][a.status] ?? a.status}
                {a.returnReason ? ` · ${RETURN_REASON_LABEL[lang][a.returnReason] ?? a.returnReason}` : ''}
              </td>
              <td>{formatTime(a.deadlines.replyBy, lang, timeZone)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The reporter's photos and the reply attachments, each through the access-checked file route under `base`. */
export function CaseFiles({ view, base, lang }: { view: CaseView; base: string; lang: Lang }) {
  const zh = lang === 'zh';
  if (view.photos.length === 0 && view.replyAttachments.length === 0) return null;
  return (
    <>
      {view.photos.length > 0 ? (
        <>
          <h2>{zh ? '现场照片' : 'Photos'}</h2>
          <div class="photos">
            {view.photos.map((p, i) => (
              <a href={`${base}/files/${p.id}`}>
                <img src={`${base}/files/${p.id}`} alt={zh ? `举报照片 ${i + 1}` : `Photo ${i + 1}`} loading="lazy" />
              </a>
            ))}
          </div>
        </>
      ) : null}
      {view.replyAttachments.length > 0 ? (
        <>
          <h2>{zh ? '答复附件' : 'Reply attachments'}</h2>
          <ul>
            {view.replyAttachments.map((f, i) => (
              <li>
                {/* By the name the clerk gave the file; one stored before names were kept is numbered. */}
                <a href={`${base}/files/${f.id}`} class="file-name">
                  {f.name ?? `${zh ? '附件' : 'Attachment'} ${i + 1}`}
                </a>{' '}
                <span class="hint">{`(${f.mime}, ${Math.ceil(f.size / 1024)} KB)`}</span>
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </>
  );
}

/**
 * The reports merged into the case as its duplicates: each one's reference, when it came, its place and words (as
 * the case's own text reads to this reader) and its photos, through the case's file route under `base`.
 */
export function MergedReports({ view, base, lang, timeZone }: { view: CaseView; base: string; lang: Lang; timeZone: string }) {
  const zh = lang === 'zh';
  if (view.mergedReports.length === 0) return null;
  return (
    <section aria-labelledby="h-merged-reports">
      <h2 id="h-merged-reports">{zh ? `并案的重复举报（${view.mergedReports.length}）` : `Duplicate reports merged into this case (${view.mergedReports.length})`}</h2>
      {view.mergedReports.map((m) => (
        <div class="merged-report" data-case={m.reference}>
          <h3>
            {zh ? '工单号 ' : 'Reference '}
            {m.reference}
            <span class="hint">
              {' · '}
              {formatTime(m.receivedAt, lang, timeZone)}
            </span>
          </h3>
          {m.address ? (
            <p>
              {zh ? '地点：' : 'Place: '}
              <span lang={wordsLang(lang, m.address)}>{m.address}</span>
            </p>
          ) : null}
          <p class="reply" lang={wordsLang(lang, m.text)}>
            {m.text}
          </p>
          {m.photos.length > 0 ? (
            <div class="photos">
              {m.photos.map((p, i) => (
                <a href={`${base}/files/${p.id}`}>
                  <img src={`${base}/files/${p.id}`} alt={zh ? `重复举报 ${m.reference} 的照片 ${i + 1}` : `Photo ${i + 1} of duplicate report ${m.reference}`} loading="lazy" />
                </a>
              ))}
            </div>
          ) : null}
        </div>
      ))}
    </section>
  );
}

/**
 * `inline; filename="…"; filename*=UTF-8''…` (RFC 6266, RFC 5987): the name
 * percent-encoded as UTF-8 for browsers, which all read `filename*`, and an
 * ASCII stand-in (every other character, quote, backslash or percent sign as
 * `_`) for any that does not. Kept names hold no control characters, but
 * nothing of the name reaches the header unencoded either way.
 */
export function inlineDisposition(name: string): string {
  const ascii = [...name]
    .map((ch) => (/^[\x20-\x7e]$/.test(ch) && !'"\\%'.includes(ch) ? ch : '_'))
    .join('')
    .replace(/_+/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
  return `inline; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/**
 * A photo or attachment of a case, for a principal who may read the case;
 * a case of another bureau is 404 like a missing one.
 */
export async function serveCaseFile(c: Context<AppEnv>, caseId: string, fileId: string) {
  const deps = c.get('deps');
  const found = await readableFile(deps, c.get('principal')!, caseId, fileId);
  const bytes = found ? await deps.photos.get(found.file.storageKey) : null;
  if (!found || !bytes) throw new AppError('not_found', 'no such file');
  const { file, name } = found;
  return c.body(new Uint8Array(bytes), 200, {
    'Content-Type': file.mime,
    // Saved under the name the page links it by (a bureau's masked as there); a photo has none to keep.
    ...(name === null ? {} : { 'Content-Disposition': inlineDisposition(name) }),
    'Content-Length': String(bytes.byteLength),
    // Kept in no cache: a reporter's photo stays on a shared office computer after signing out otherwise.
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    // A PDF opens in the browser; nothing the file holds runs in the site's origin.
    'Content-Security-Policy': "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox",
  });
}

/** The top of a staff case page: the way back to its list, the title, and what was just done or refused. */
export function CasePageHead(props: { back: { href: string; label: string }; title: string; done: string | undefined; problem: FormProblem | null }) {
  return (
    <>
      <p>
        <a href={props.back.href}>← {props.back.label}</a>
      </p>
      <h1>{props.title}</h1>
      <DoneNotice text={props.done} />
      <ActionNotice problem={props.problem} />
    </>
  );
}

/** "Done" notices after a successful action (POST → redirect → GET ?done=…). */
export function DoneNotice({ text }: { text: string | null | undefined }) {
  if (!text) return null;
  return (
    <p class="notice ok" role="status" id="done">
      {text}
    </p>
  );
}
