import { Hono, type Context } from 'hono';
import { currentAssignmentOf, heldAssignmentOf } from '../../db/repositories/assignments.repository.js';
import { listAssignmentsFor, listCases, mergedReportsOf } from '../../db/repositories/case-queries.repository.js';
import { CASE_STATUSES, caseReference, referenceTail, WORKING, type CaseStatus } from '../../src/domain/case.js';
import type { District } from '../../src/district/district.schema.js';
import { compactCode, decimalOf } from '../../src/domain/text.js';
import { AppError } from '../../src/errors.js';
import { filePickerAttrs, formatTime, type Lang } from '../../src/web/i18n.js';
import { CsrfField } from '../../src/web/layout.js';
import { pageContext, renderPage, type RenderOptions } from '../../src/web/render.js';
import {
  acceptAssignment,
  MAX_EXTENSION_DAYS,
  recordProgress,
  replyAssignment,
  requestExtension,
  RETURN_REASONS,
  returnAssignment,
  type ReturnReason,
} from '../../src/workflow/bureau.js';
import { buildCaseView, caseSummary, hiddenNamesFor, textFor, type CaseSummary, type CaseView } from '../../src/workflow/case-view.js';
import type { AppEnv } from '../app-env.js';
import { IMAGE_TYPES, MAX_UPLOAD_BYTES, MAX_UPLOADS, readUploads } from '../uploads.js';
import {
  CasePageHead,
  AssignmentsTable,
  CaseFacts,
  CaseFiles,
  MergedReports,
  DeadlineBadge,
  draftDone,
  DraftNotices,
  field,
  FieldProblem,
  files,
  FormNotice,
  History,
  invalidAttrs,
  kept,
  problemOf,
  problemStatus,
  RETURN_REASON_LABEL,
  ROLE_LABEL,
  ASSIGNMENT_STATUS,
  serveCaseFile,
  staffArea,
  STATUS_LABEL,
  typeName,
  typeOptions,
  unitName,
  type FormProblem,
  invalidForm,
  requiredText,
  ProblemTextArea,
  WAITING_FOR_DISPATCHER,
} from './staff-common.js';
import { refuseBadText, withLineFeeds } from './resident-form.js';
import { wordsLang } from './resident-labels.js';

/**
 * The bureau inbox (`/inbox`): the cases assigned to the clerk's unit,
 * overdue first, with filters; the case page with its history, photos and
 * the unit's actions (sign for, return, progress, reply, extension). Every
 * read goes through the staff case view, so a case of another unit is 404
 * and the reporter's contact shows only when the reporter agreed.
 */

const OPEN: readonly CaseStatus[] = ['dispatched', 'accepted', 'reopened', 'triage', 'returned', 'received'];
/**
 * The statuses the status filter offers: those a unit's cases can be in. A
 * unit holds a case once it is dispatched, never while it is only received,
 * and no longer once it is merged (every unit is released). A lead's return
 * (退回) sends the case to triage, where the co-handlers still hold it; the
 * case status `returned` is never set. A transferred case is held only by
 * the unit that takes what is not environmental (12345).
 */
function filterStatuses(district: District, unitCode: string | null): CaseStatus[] {
  const transfers = takesTransfers(district, unitCode);
  return CASE_STATUSES.filter((s) => !['received', 'merged', 'returned'].includes(s) && (s !== 'transferred' || transfers));
}

/** Is the unit the one that takes what is not environmental (the lead of the route marked `transfer`: 12345)? */
function takesTransfers(district: District, unitCode: string | null): boolean {
  return Object.values(district.routing).some((r) => r.transfer && r.lead === unitCode);
}

/** The inbox reads at most this many of the unit's newest cases (filters then narrow them down). */
const INBOX_LIMIT = 500;
/** The fewest characters of a reference (dashes aside) a search reads as one; shorter, it searches the text alone. */
const MIN_REFERENCE_NEEDLE = 4;
/** The kept value of a refused reply that counts the files it carried (a value no form field has). */
const FILES_CHOSEN = '#attachments';

const DONE: Record<Lang, Record<string, string>> = {
  zh: { accept: '已签收。', return: '已退回，调度员将重新分派。', progress: '办理进展已记录。', reply: '答复已提交。', extend: '延期申请已提交，等待调度员审批。' },
  en: { accept: 'Signed for.', return: 'Returned; a dispatcher will reassign it.', progress: 'Progress recorded.', reply: 'Reply sent.', extend: 'Extension requested; a dispatcher will decide.' },
};

interface Filters {
  status: string;
  type: string;
  overdue: boolean;
  q: string;
}

function readFilters(c: Context<AppEnv>): Filters {
  const status = c.req.query('status') ?? 'open';
  return {
    status: status === 'all' || status === 'open' || (CASE_STATUSES as readonly string[]).includes(status) ? status : 'open',
    type: c.req.query('type') ?? '',
    overdue: c.req.query('overdue') === '1',
    q: (c.req.query('q') ?? '').trim().slice(0, 100),
  };
}

/** The unit's late cases first, then its nearest deadline, then the newest. */
function inboxOrder() {
  return (a: CaseSummary, b: CaseSummary) => {
    const dueA = a.myAssignment?.due ?? null;
    const dueB = b.myAssignment?.due ?? null;
    const lateA = a.myAssignment?.overdue ? 1 : 0;
    const lateB = b.myAssignment?.overdue ? 1 : 0;
    if (lateA !== lateB) return lateB - lateA;
    if (dueA && dueB && dueA !== dueB) return dueA.localeCompare(dueB);
    if (dueA && !dueB) return -1;
    if (!dueA && dueB) return 1;
    return b.receivedAt.localeCompare(a.receivedAt);
  };
}

async function inboxPage(c: Context<AppEnv>) {
  const p = pageContext(c);
  const zh = p.lang === 'zh';
  const deps = c.get('deps');
  const principal = c.get('principal')!;
  const f = readFilters(c);
  // For the unit that takes what is not environmental (12345), a case handed to it is open work until it signs for it
  // (then it is handled on that unit's own system) or returns it.
  const transfers = takesTransfers(deps.district, principal.unitCode);
  const open = transfers ? [...OPEN, 'transferred' as const] : OPEN;
  // 待签收 and 办理中 are the unit's own stage, as the row's 本单位 column says it: a co-handler or local office still has to
  // sign for a case the lead signed for already (办理中 to the lead), and has signed for one the lead has not.
  const ownStage = f.status === 'dispatched' ? 'pending' : f.status === 'accepted' ? 'accepted' : null;
  // The open cases are chosen in the query, so a long history of closed ones never pushes them out.
  // The cases the unit holds: one it returned or was released from no longer shows here (its page keeps the unit's own record).
  const { rows, more } = await listCases(deps.db, {
    heldBy: principal.unitCode ?? '\u0000',
    // "Overdue only" means the unit's own lateness (`myAssignment.overdue`, `unitLate`), which only a case under handling can have.
    ...(f.status === 'open' || (f.status === 'all' && f.overdue) || ownStage !== null
      ? { statuses: f.overdue || ownStage !== null ? WORKING : open }
      : f.status !== 'all'
        ? { status: f.status as CaseStatus }
        : {}),
    ...(f.status === 'open' && transfers ? { transfersPendingOnly: true } : {}),
    ...(f.type && deps.district.types.has(f.type) ? { type: f.type } : {}),
    limit: INBOX_LIMIT,
  });
  const [assignments, hidden] = await Promise.all([
    listAssignmentsFor(deps.db, rows.map((r) => r.case.id)),
    hiddenNamesFor(deps.db, principal, rows.map((r) => r.case)),
  ]);
  const now = deps.clock.now();
  const needle = f.q.toLowerCase();
  // A reference as bureaus type or copy it: full-width characters, any dash; and long enough to
  // say which case (one or two characters are somewhere in most references).
  const code = compactCode(needle);
  const byReference = [...code].length >= MIN_REFERENCE_NEEDLE;
  // A whole reference as a clerk copies its line from the case page, a notice or the group post (工单号：3F9A-1C2B-7E4D).
  const wholeReference = referenceTail(f.q);
  // Words typed apart (盐下村 电镀厂, with a space of either width) are each looked for, as a search box reads them.
  const words = needle.split(/\s+/u).filter((w) => w !== '');
  // A case found by the reference of a report merged into it, too: the clerk may hold the duplicate's reference (from
  // its group post, a notice or the unit's own system) where the work went on in this case. Only cases the unit holds
  // are listed, so a duplicate's reference never shows a case the unit does not hold.
  const merged = words.length > 0 && (byReference || wholeReference !== null) ? await mergedReportsOf(deps.db, rows.map((r) => r.case.id)) : null;
  const referenceMatches = (id: string) => {
    const reference = caseReference(id).replaceAll('-', '').toLowerCase();
    return (byReference && reference.includes(code)) || reference === wholeReference;
  };
  const items = rows
    // Text search over exactly what the clerk can read: the case reference, and the text and the place as the case
    // page shows them, phones and the reporter's name masked. Searching the raw text would tell which
    // case holds a number or a name the clerk may not read (a match on 13912345678 or 王大妈); nor is
    // the tracking code searched, which bureaus never read.
    .filter((r) => {
      if (words.length === 0) return true;
      if (referenceMatches(r.case.id) || merged?.get(r.case.id)?.some(referenceMatches)) return true;
      const names = hidden.get(r.case.id);
      const shown = `${textFor(principal, r.case.text, names)}\n${r.case.address === null ? '' : textFor(principal, r.case.address, names)}`.toLowerCase();
      return words.every((w) => shown.includes(w));
    })
    .map((r) => caseSummary(deps.district, principal, r, assignments.get(r.case.id) ?? [], now, hidden.get(r.case.id)))
    .filter((s) => !f.overdue || s.myAssignment?.overdue === true)
    // At that stage now: its assignment of the current round (one with a deadline it owes).
    .filter((s) => ownStage === null || (s.myAssignment?.status === ownStage && s.myAssignment.due !== null))
    .sort(inboxOrder());
  const title = zh ? '待办案件' : 'Case inbox';
  const unit = unitName(deps.district, principal.unitCode, p.lang);
  return renderPage(
    c,
    title,
    <section>
      <h1>
        {title} · {unit}
      </h1>
      <form method="get" action="/inbox" class="filters" role="search" aria-label={zh ? '筛选案件' : 'Filter cases'}>
        <div>
          <label for="f-status">{zh ? '状态' : 'Status'}</label>
          <select id="f-status" name="status">
            <option value="open" selected={f.status === 'open'}>
              {zh ? '未办结' : 'open'}
            </option>
            <option value="all" selected={f.status === 'all'}>
              {zh ? '全部' : 'all'}
            </option>
            {filterStatuses(deps.district, principal.unitCode).map((s) => (
              <option value={s} selected={f.status === s}>
                {STATUS_LABEL[p.lang][s] ?? s}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="f-type">{zh ? '问题类型' : 'Type'}</label>
          <select id="f-type" name="type">
            <option value="">{zh ? '全部类型' : 'all types'}</option>
            {typeOptions(deps.district, p.lang).map((t) => (
              <option value={t.code} selected={f.type === t.code}>
                {t.name}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="f-q">{zh ? '搜索' : 'Search'}</label>
          <input id="f-q" name="q" type="search" value={f.q} placeholder={zh ? '工单号、内容或地点' : 'reference, text or place'} />
        </div>
        <label class="check" for="f-overdue">
          <input id="f-overdue" type="checkbox" name="overdue" value="1" checked={f.overdue} /> {zh ? '只看超期' : 'overdue only'}
        </label>
        <button type="submit">{zh ? '筛选' : 'Filter'}</button>
      </form>
      <p class="hint" role="status">
        {zh ? `共 ${items.length} 件` : `${items.length} case(s)`}
        {more ? (zh ? `（只显示最新的 ${INBOX_LIMIT} 件，请用上面的条件缩小范围）` : ` (only the newest ${INBOX_LIMIT}; narrow the list with the filters above)`) : ''}
      </p>
      {items.length === 0 ? (
        <p class="notice">{zh ? '没有符合条件的案件。' : 'No cases match.'}</p>
      ) : (
        <div class="table-wrap">
          <table id="inbox">
            <thead>
              <tr>
                <th scope="col">{zh ? '工单号' : 'Reference'}</th>
                <th scope="col">{zh ? '问题' : 'Problem'}</th>
                <th scope="col">{zh ? '状态' : 'Status'}</th>
                <th scope="col">{zh ? '本单位' : 'Your unit'}</th>
                <th scope="col">{zh ? '期限' : 'Due'}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((s) => {
                const due = s.myAssignment?.due ?? null;
                return (
                  <tr data-case={s.reference}>
                    <td>
                      <a href={`/inbox/cases/${s.id}`}>{s.reference}</a>
                    </td>
                    <td>
                      <strong>{typeName(deps.district, s.type?.code, p.lang)}</strong>
                      {s.urgent ? <span class="badge urgent">{zh ? '紧急' : 'urgent'}</span> : null}
                      <div class="hint" lang={wordsLang(p.lang, s.excerpt)}>
                        {s.excerpt}
                      </div>
                    </td>
                    <td>
                      {STATUS_LABEL[p.lang][s.status] ?? s.status}
                      {s.supervised ? <span class="badge">{zh ? '督办' : 'supervised'}</span> : null}
                    </td>
                    <td>
                      {s.myAssignment
                        ? `${ROLE_LABEL[p.lang][s.myAssignment.role] ?? s.myAssignment.role} · ${ASSIGNMENT_STATUS[p.lang][s.myAssignment.status] ?? s.myAssignment.status}`
                        : '—'}
                    </td>
                    <td>
                      {/* Which of the unit's deadlines it is: to sign for it, or to reply. */}
                      {due ? `${s.myAssignment?.status === 'pending' ? (zh ? '签收' : 'sign for by') : zh ? '答复' : 'reply by'} ${formatTime(due, p.lang, p.timeZone)}` : '—'}{' '}
                      {s.myAssignment?.overdue ? <span class="badge overdue">{zh ? '已超期' : 'overdue'}</span> : <DeadlineBadge due={due} now={now} lang={p.lang} district={deps.district} />}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>,
  );
}

function myAssignment(view: CaseView, unit: string | null) {
  return currentAssignmentOf(view.assignments, (a) => a.bureau.code === unit, view.round) ?? null;
}

/**
 * The unit's assignment of an earlier round, for a unit that holds a case it
 * has nothing to do on now (it answered before the case was reopened to the
 * lead alone): its own deadlines, none of them owed.
 */
function ownEarlier(view: CaseView, unit: string | null) {
  return heldAssignmentOf(view.assignments, (a) => a.bureau.code === unit) ?? null;
}

async function casePage(c: Context<AppEnv>, id: string, problem: FormProblem | null = null, status: RenderOptions['status'] = 200) {
  const p = pageContext(c);
  const zh = p.lang === 'zh';
  const deps = c.get('deps');
  const principal = c.get('principal')!;
  const view = await buildCaseView(deps, principal, id);
  if (view.access === 'withdrawn') return withdrawnPage(c, view, problem, status);
  const now = deps.clock.now();
  const mine = myAssignment(view, principal.unitCode);
  // A case handed to 12345 (transferred): 12345, its lead, signs for it to handle it on its own system, or returns it.
  const transfer = view.status === 'transferred' && mine?.role === 'lead';
  const working = WORKING.includes(view.status) || (transfer && mine.status === 'pending');
  const doneName = c.req.query('done') ?? '';
  const done = DONE[p.lang][doneName];
  const title = `${zh ? '案件' : 'Case'} ${view.reference}`;
  const action = (name: string) => `/inbox/cases/${view.id}/${name}`;
  return renderPage(
    c,
    title,
    <article {...draftDone(done ? action(doneName) : null)}>
      <CasePageHead back={toInbox(zh)} title={title} done={done} problem={problem} />
      <CaseFacts view={view} lang={p.lang} timeZone={p.timeZone} district={deps.district} now={now} own={mine ?? ownEarlier(view, principal.unitCode)} />
      <h2>{zh ? '举报内容' : 'The report'}</h2>
      <p class="reply" id="case-text" lang={wordsLang(p.lang, view.text ?? '')}>
        {view.text}
      </p>
      <CaseFiles view={view} base={`/inbox/cases/${view.id}`} lang={p.lang} />
      <MergedReports view={view} base={`/inbox/cases/${view.id}`} lang={p.lang} timeZone={p.timeZone} />
      <AssignmentsTable view={view} lang={p.lang} timeZone={p.timeZone} district={deps.district} />

      <h2>{zh ? '办理' : 'Handle it'}</h2>
      {/* A unit that replied while others still work on the case has nothing left to do either. */}
      {!mine || !working || (mine.status !== 'pending' && mine.status !== 'accepted') ? (
        <p class="notice" id="nothing-to-do">
          {mine?.status === 'replied' && working
            ? zh
              ? '本单位已答复，在此案件上暂无待办事项。'
              : 'Your unit has replied: nothing more for it to do on this case now.'
            : view.status === 'triage' && (mine?.status === 'pending' || mine?.status === 'accepted')
              ? WAITING_FOR_DISPATCHER[p.lang].charAt(0).toUpperCase() + WAITING_FOR_DISPATCHER[p.lang].slice(1)
              : transfer && mine.status === 'accepted'
              ? zh
                ? '本单位已签收这件转办的非环境类诉求，请按本单位的流程办理；本系统不再跟踪它。'
                : 'Your unit signed for this case handed over as not environmental: handle it your own way; this system no longer follows it.'
              : zh
              ? '本单位在此案件上暂无待办事项。'
              : 'Nothing for your unit to do on this case now.'}
        </p>
      ) : (
        <div class="grid">
          {mine.status === 'pending' ? (
            <section class="card" aria-labelledby="h-accept">
              <h3 id="h-accept">{zh ? '签收' : 'Sign for it'}</h3>
              <FormNotice problem={problem} form="accept" />
              <p class="hint">
                {transfer
                  ? zh
                    ? '本案被判断为非环境类诉求，转本单位办理。签收后按本单位的流程办理；如属环境问题，请退回，由调度员重新派发。'
                    : 'This case was found not environmental and handed to your unit. Sign for it to handle it your own way; if it is environmental after all, return it to be routed again.'
                  : zh
                    ? '签收后由本单位办理并在期限内答复。'
                    : 'Your unit then handles it and replies by the deadline.'}
              </p>
              <form method="post" action={action('accept')}>
                <CsrfField token={p.csrf} />
                <button type="submit" id="accept">
                  {zh ? '签收' : 'Sign for'}
                </button>
              </form>
            </section>
          ) : null}
          {mine.status === 'pending' ? (
            <section class="card" aria-labelledby="h-return">
              <h3 id="h-return">{zh ? '退回' : 'Return it'}</h3>
              <FormNotice problem={problem} form="return" />
              <DraftNotices zh={zh} />
              <form method="post" action={action('return')} data-draft>
                <CsrfField token={p.csrf} />
                <label for="return-reason">{zh ? '退回理由' : 'Reason'}</label>
                <select id="return-reason" name="reason" required {...invalidAttrs(problem, 'return', 'reason')}>
                  <option value="">{zh ? '请选择' : 'choose'}</option>
                  {RETURN_REASONS.map((r) => (
                    <option value={r} selected={kept(problem, 'return', 'reason') === r}>
                      {RETURN_REASON_LABEL[p.lang][r]}
                    </option>
                  ))}
                </select>
                <FieldProblem problem={problem} form="return" name="reason" />
                <label for="return-note">{zh ? '说明' : 'Explanation'}</label>
                <ProblemTextArea problem={problem} form="return" name="note" id="return-note" />
                <div class="actions">
                  <button type="submit" class="danger" data-confirm={zh ? '确定退回？退回后本单位将不能再查看此案件。' : 'Return it? Your unit will no longer see this case.'}>
                    {zh ? '退回' : 'Return'}
                  </button>
                </div>
              </form>
            </section>
          ) : null}
          {mine.status === 'accepted' ? (
            <section class="card" aria-labelledby="h-reply">
              <h3 id="h-reply">{zh ? '答复' : 'Reply'}</h3>
              <FormNotice problem={problem} form="reply" />
              <DraftNotices zh={zh} files />
              <form method="post" action={action('reply')} enctype="multipart/form-data" data-draft>
                <CsrfField token={p.csrf} />
                <label for="reply-text">{zh ? '答复内容' : 'Your answer'}</label>
                <p class="hint" id="reply-hint">
                  {mine.role === 'lead'
                    ? zh
                      ? '牵头单位的答复将在查询页面向举报人公开。'
                      : "The lead bureau's answer is shown to the reporter on the tracking page."
                    : zh
                      ? '协办单位的答复供牵头单位和调度员参阅。'
                      : 'A co-handling answer is read by the lead and the dispatchers.'}
                </p>
                <ProblemTextArea problem={problem} form="reply" name="text" id="reply-text" />
                <label for="reply-files">{zh ? '附件（图片或 PDF，可选）' : 'Attachments (images or PDF, optional)'}</label>
                <p class="hint">{zh ? `最多 ${MAX_UPLOADS} 个，每个不超过 ${MAX_UPLOAD_BYTES / 1024 / 1024} MB。` : `Up to ${MAX_UPLOADS}, ${MAX_UPLOAD_BYTES / 1024 / 1024} MB each.`}</p>
                {/* The limits are checked before the form is sent too: a form over what the service reads at all would be
                    refused whole, on a page without what was typed. */}
                <input
                  id="reply-files"
                  name="attachments"
                  type="file"
                  multiple
                  accept="image/*,application/pdf"
                  data-max-count={MAX_UPLOADS}
                  data-max-bytes={MAX_UPLOAD_BYTES}
                  data-err-count={tooManyAttachments(p.lang)}
                  data-err-size={attachmentTooLarge(p.lang)}
                  {...invalidAttrs(problem, 'reply', 'attachments')}
                  {...filePickerAttrs(p.lang, 'files')}
                />
                <FieldProblem problem={problem} form="reply" name="attachments" />
                {kept(problem, 'reply', FILES_CHOSEN) ? (
                  <p class="notice" id="reply-files-again">
                    {zh
                      ? `刚才选择的 ${kept(problem, 'reply', FILES_CHOSEN)} 个附件未提交，请重新选择。`
                      : `The ${kept(problem, 'reply', FILES_CHOSEN)} file(s) you chose were not sent: please choose them again.`}
                  </p>
                ) : null}
                <div class="actions">
                  <button type="submit" id="reply">
                    {zh ? '提交答复' : 'Send reply'}
                  </button>
                </div>
              </form>
            </section>
          ) : null}
          {mine.status === 'accepted' ? (
            <section class="card" aria-labelledby="h-progress">
              <h3 id="h-progress">{zh ? '办理进展' : 'Progress'}</h3>
              <FormNotice problem={problem} form="progress" />
              <DraftNotices zh={zh} />
              <form method="post" action={action('progress')} data-draft>
                <CsrfField token={p.csrf} />
                <label for="progress-note">{zh ? '进展说明' : 'What was done'}</label>
                <ProblemTextArea problem={problem} form="progress" name="note" id="progress-note" />
                <label class="check" for="progress-public">
                  <input id="progress-public" type="checkbox" name="public" value="1" checked={kept(problem, 'progress', 'public') === '1'} />{' '}
                  {zh ? '在查询页面向举报人公开' : 'Show it to the reporter on the tracking page'}
                </label>
                <div class="actions">
                  <button type="submit" class="secondary">
                    {zh ? '记录进展' : 'Record progress'}
                  </button>
                </div>
              </form>
            </section>
          ) : null}
          {/* A case handed to 12345 has no deadline here to extend: it signs for it or returns it. */}
          {!transfer && (mine.status === 'pending' || mine.status === 'accepted') ? (
            <section class="card" aria-labelledby="h-extend">
              <h3 id="h-extend">{zh ? '申请延期' : 'Ask for more time'}</h3>
              <FormNotice problem={problem} form="extend" />
              <DraftNotices zh={zh} />
              {view.extensionRequests.some((x) => x.unit.code === principal.unitCode) ? (
                <p class="notice">{zh ? '本单位的延期申请正在等待调度员审批。' : "Your unit's request is waiting for a dispatcher."}</p>
              ) : (
                <form method="post" action={action('extend')} data-draft>
                  <CsrfField token={p.csrf} />
                  <label for="extend-days">{zh ? '延长工作日' : 'Working days'}</label>
                  <input
                    id="extend-days"
                    name="workingDays"
                    type="number"
                    min={1}
                    max={MAX_EXTENSION_DAYS}
                    required
                    inputmode="numeric"
                    value={kept(problem, 'extend', 'workingDays', '5')}
                    {...invalidAttrs(problem, 'extend', 'workingDays')}
                  />
                  <FieldProblem problem={problem} form="extend" name="workingDays" />
                  <label for="extend-reason">{zh ? '理由' : 'Reason'}</label>
                  <ProblemTextArea problem={problem} form="extend" name="reason" id="extend-reason" />
                  <div class="actions">
                    <button type="submit" class="secondary">
                      {zh ? '提交申请' : 'Request'}
                    </button>
                  </div>
                </form>
              )}
            </section>
          ) : null}
        </div>
      )}

      <h2>{zh ? '办理过程' : 'History'}</h2>
      <History view={view} lang={p.lang} timeZone={p.timeZone} district={deps.district} />
    </article>,
    { status, address: `/inbox/cases/${view.id}` },
  );
}

/** The way back from a case page to the inbox. */
const toInbox = (zh: boolean) => ({ href: '/inbox', label: zh ? '返回待办列表' : 'Back to the inbox' });

/**
 * The page of a case the unit no longer holds (it returned it, or a dispatcher
 * released it or re-routed the case away): the unit's own record and the
 * notice that ended it, nothing of the reporter's words, place or photos.
 */
function withdrawnPage(c: Context<AppEnv>, view: CaseView, problem: FormProblem | null, status: RenderOptions['status']) {
  const p = pageContext(c);
  const zh = p.lang === 'zh';
  const deps = c.get('deps');
  const doneName = c.req.query('done') ?? '';
  const done = DONE[p.lang][doneName];
  const title = `${zh ? '案件' : 'Case'} ${view.reference}`;
  return renderPage(
    c,
    title,
    <article {...draftDone(done ? `/inbox/cases/${view.id}/${doneName}` : null)}>
      <CasePageHead back={toInbox(zh)} title={title} done={done} problem={problem} />
      <p class="notice" id="withdrawn">
        {zh
          ? '本单位已不再承办此案件（本单位已退回，或调度员已将其改派或撤回）。为保护举报人，举报内容、地点和照片不再显示，以下仅为本单位的办理记录。'
          : 'Your unit no longer handles this case (it returned it, or a dispatcher re-routed it or released your unit). To protect the reporter, the report, its place and photos are no longer shown; below is your unit’s own record only.'}
      </p>
      {/* Merged into a case the unit holds too: its work on this report goes on there, and a reply or progress note
          typed here and not sent goes along, to be put back on that case's page (staff.js). */}
      {view.mergedInto ? (
        <p class="notice" id="continues-in" data-draft-carry={`/inbox/cases/${view.id}/ /inbox/cases/${view.mergedInto.id}/`}>
          {zh ? '此案件已并入本单位承办的案件 ' : 'This case was merged into case '}
          <a href={`/inbox/cases/${view.mergedInto.id}`}>{view.mergedInto.reference}</a>
          {zh ? '，请在该案件中继续办理。' : ', which your unit also handles: go on with it there.'}
          <span data-draft-carried hidden>
            {zh ? '您在此案件中填写但尚未提交的答复和办理进展已带到该案件页面。' : ' What you typed here for a reply or a progress note and did not send is waiting on that case’s page.'}
          </span>
        </p>
      ) : null}
      <dl class="facts">
        <dt>{zh ? '工单号' : 'Case reference'}</dt>
        <dd>
          <code>{view.reference}</code>
        </dd>
        <dt>{zh ? '受理时间' : 'Received'}</dt>
        <dd>{formatTime(view.receivedAt, p.lang, p.timeZone)}</dd>
      </dl>
      <AssignmentsTable view={view} lang={p.lang} timeZone={p.timeZone} district={deps.district} />
      <CaseFiles view={view} base={`/inbox/cases/${view.id}`} lang={p.lang} />
      <h2>{zh ? '本单位办理记录' : 'Your unit’s record'}</h2>
      <History view={view} lang={p.lang} timeZone={p.timeZone} district={deps.district} />
    </article>,
    { status, address: `/inbox/cases/${view.id}` },
  );
}

const ATTACHMENT_TYPES: ReadonlySet<string> = new Set([...IMAGE_TYPES, 'application/pdf']);

const tooManyAttachments = (lang: Lang) => (lang === 'zh' ? `最多 ${MAX_UPLOADS} 个附件。` : `At most ${MAX_UPLOADS} attachments.`);
const attachmentTooLarge = (lang: Lang) =>
  lang === 'zh' ? `每个附件不超过 ${MAX_UPLOAD_BYTES / 1024 / 1024} MB。` : `Each at most ${MAX_UPLOAD_BYTES / 1024 / 1024} MB.`;

export function inboxPages() {
  const router = new Hono<AppEnv>();
  staffArea(router, '/inbox');

  router.get('/inbox', (c) => inboxPage(c));
  router.get('/inbox/cases/:id', (c) => casePage(c, c.req.param('id')));
  router.get('/inbox/cases/:id/files/:fileId', (c) => serveCaseFile(c, c.req.param('id'), c.req.param('fileId')));

  /** Runs one action of the case page: on success back to the page with a notice, on a 4xx the page with the problem next to the form. */
  const act = (name: string, run: (c: Context<AppEnv>, form: Record<string, unknown>, lang: Lang) => Promise<unknown>, rename: Record<string, string> = {}) =>
    router.post(`/inbox/cases/:id/${name}`, async (c) => {
      const id = c.req.param('id');
      const lang = pageContext(c).lang;
      const form = await c.req.parseBody({ all: true });
      try {
        refuseBadText(withLineFeeds(form));
        await run(c, form, lang);
      } catch (err) {
        const values: Record<string, string> = {};
        for (const k of Object.keys(form)) if (k !== '_csrf') values[k] = field(form, k);
        // A browser never sends chosen files again with the form that comes back: say so, or the reply would go without them.
        const chosen = files(form, 'attachments').length;
        if (chosen > 0) values[FILES_CHOSEN] = String(chosen);
        // A case the clerk may not see is 404 whatever the action: the page says nothing of it.
        if (err instanceof AppError && err.code === 'not_found') throw err;
        const problem = problemOf(err, name, values, lang, c.get('deps').district, rename);
        return casePage(c, id, problem, problemStatus(err));
      }
      return c.redirect(`/inbox/cases/${id}?done=${name}`, 303);
    });

  act('accept', (c) => acceptAssignment(c.get('deps'), c.get('principal')!, c.req.param('id')!));

  act('return', async (c, form, lang) => {
    const reason = field(form, 'reason');
    const note = field(form, 'note');
    const fields: Record<string, string> = {};
    if (!(RETURN_REASONS as readonly string[]).includes(reason)) fields.reason = lang === 'zh' ? '请选择退回理由。' : 'Choose a reason.';
    const noteProblem = requiredText(note, lang, 2000);
    if (noteProblem) fields.note = noteProblem;
    if (Object.keys(fields).length > 0) throw invalidForm(lang, fields);
    await returnAssignment(c.get('deps'), c.get('principal')!, c.req.param('id')!, { reason: reason as ReturnReason, note: note.trim() });
  });

  act('progress', async (c, form, lang) => {
    const note = field(form, 'note');
    const problem = requiredText(note, lang, 5000);
    if (problem) throw invalidForm(lang, { note: problem });
    await recordProgress(c.get('deps'), c.get('principal')!, c.req.param('id')!, { note: note.trim(), public: field(form, 'public') === '1' });
  });

  act('reply', async (c, form, lang) => {
    const text = field(form, 'text');
    const fields: Record<string, string> = {};
    const textProblem = requiredText(text, lang, 10_000);
    if (textProblem) fields.text = textProblem;
    const attached = files(form, 'attachments');
    if (attached.length > MAX_UPLOADS) fields.attachments = tooManyAttachments(lang);
    else if (attached.some((f) => f.size > MAX_UPLOAD_BYTES)) fields.attachments = attachmentTooLarge(lang);
    if (Object.keys(fields).length > 0) throw invalidForm(lang, fields);
    let uploads;
    try {
      uploads = await readUploads(attached, { field: 'attachments', allowed: ATTACHMENT_TYPES, expected: 'an image or a PDF' });
    } catch {
      throw invalidForm(lang, { attachments: lang === 'zh' ? '附件只能是图片（JPEG、PNG 等）或 PDF。' : 'Attachments must be images (JPEG, PNG, …) or PDF.' });
    }
    const named = uploads.map((u, i) => ({ ...u, name: attached[i]!.name }));
    await replyAssignment(c.get('deps'), c.get('principal')!, c.req.param('id')!, { text: text.trim(), files: named });
  });

  act('extend', async (c, form, lang) => {
    // Decimal digits only: Number() alone reads 0x10 as 16 and 1e1 as 10 working days.
    const days = decimalOf(field(form, 'workingDays'));
    const reason = field(form, 'reason');
    const fields: Record<string, string> = {};
    if (!Number.isInteger(days) || days < 1 || days > MAX_EXTENSION_DAYS) {
      fields.workingDays = lang === 'zh' ? `请填写 1 到 ${MAX_EXTENSION_DAYS} 之间的整数。` : `A whole number from 1 to ${MAX_EXTENSION_DAYS}.`;
    }
    const reasonProblem = requiredText(reason, lang, 2000);
    if (reasonProblem) fields.reason = reasonProblem;
    if (Object.keys(fields).length > 0) throw invalidForm(lang, fields);
    await requestExtension(c.get('deps'), c.get('principal')!, c.req.param('id')!, { workingDays: days, reason: reason.trim() });
  });

  return router;
}
