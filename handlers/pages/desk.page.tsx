import { Hono, type Context } from 'hono';
import type { Child } from 'hono/jsx';
import { listAssignmentsFor, listTriage, type CaseListRow } from '../../db/repositories/case-queries.repository.js';
import { findCase, findCaseByTrackingCode, findCasesByReference } from '../../db/repositories/cases.repository.js';
import { listOverdueCases, listPendingExtensions } from '../../db/repositories/desk.repository.js';
import { currentAssignmentOf, type Assignment } from '../../db/repositories/assignments.repository.js';
import { lastEventId } from '../../db/repositories/events.repository.js';
import type { District } from '../../src/district/district.schema.js';
import { canTransition, referenceTail, WORKING, type CaseStatus } from '../../src/domain/case.js';
import { trackingCodeIn } from '../../src/domain/tracking-code.js';
import { keepableText, textFault } from '../../src/domain/text.js';
import { AppError, fieldsOf } from '../../src/errors.js';
import { formatTime, type Lang } from '../../src/web/i18n.js';
import { CsrfField } from '../../src/web/layout.js';
import { pageContext, renderPage, type RenderOptions } from '../../src/web/render.js';
import { buildCaseView, excerptFor, NOTHING_HIDDEN, type CaseView } from '../../src/workflow/case-view.js';
import { approveExtension, mergeCase, officesThatDisowned, unmergeCase, refuseExtension, releaseUnit, ROUTABLE, ROUTED_AS_IT_STANDS, routeCase, setCasePlace, superviseCase, transferCase, untransferCase, type SeenCase } from '../../src/workflow/dispatcher.js';
import { suggestedText, typedOrSuggested, type Said } from '../../src/workflow/service-words.js';
import { staffActor } from '../../src/workflow/bureau.js';
import { countFailedSends, redeliverFailed } from '../../src/workflow/redeliver.js';
import type { AppEnv } from '../app-env.js';
import { casesCsv, exportCasesQuery, statsCsv } from '../export.routes.js';
import { dashboardRoutes } from './dashboard.page.js';
import { refuseBadText, withLineFeeds } from './resident-form.js';
import { statsQuerySchema } from '../stats.routes.js';
import { wordsLang } from './resident-labels.js';
import {
  CasePageHead,
  ConfirmBox,
  AssignmentsTable,
  bureauOptions,
  CaseFacts,
  CaseFiles,
  MergedReports,
  DeadlineBadge,
  DoneNotice,
  draftDefault,
  draftDone,
  DraftNotices,
  field,
  FieldProblem,
  FormNotice,
  GoneOption,
  History,
  invalidAttrs,
  jurisdictionOptions,
  kept,
  problemOf,
  problemStatus,
  serveCaseFile,
  staffArea,
  RETURN_REASON_LABEL,
  STATUS_LABEL,
  CHANNEL_LABEL,
  CLOSE_REASON_LABEL,
  TRIAGE_REASON_LABEL,
  typeName,
  typeOptions,
  unitName,
  type FormProblem,
  invalidForm,
  requiredText,
  ProblemTextArea,
} from './staff-common.js';

/**
 * The dispatcher desk (`/desk`, dispatchers and admins): the triage queue
 * with one-click re-route to the classifier's top choices, overdue cases to
 * supervise, extension requests to decide, CSV downloads; and the case page
 * with the full set of dispatcher actions (re-route to any type or bureau,
 * merge, transfer, release a unit, supervise).
 */

const DONE: Record<Lang, Record<string, string>> = {
  zh: {
    route: '已派发。',
    reroute: '已重新派发。',
    unchanged: '案件已按所选类型、单位和属地派发，没有改变。',
    place: '已指定属地并派给该属地。',
    merge: '已并案。',
    unmerge: '已撤销并案，本案回到待分派。',
    untransfer: '已撤销转办，本案回到待分派。',
    transfer: '已转12345热线。',
    supervise: '已督办，承办单位已收到提醒。',
    redeliver: '已重新推送。',
    release: '已撤回该单位。',
    releasePlace: '已撤回该属地：它退回称不在其辖区，本案地点改为不明，请指定属地。',
    approve: '已批准延期。',
    refuse: '已驳回延期申请。',
  },
  en: {
    route: 'Routed.',
    reroute: 'Re-routed.',
    unchanged: 'The case is routed so already: nothing changed.',
    place: 'Place set; the local office has the case.',
    merge: 'Merged.',
    unmerge: 'Merge undone: the case waits in triage.',
    untransfer: 'Transfer undone: the case waits in triage.',
    transfer: 'Handed over to the 12345 hotline.',
    supervise: 'Supervision sent to the units.',
    redeliver: 'Sent again.',
    release: 'Unit released.',
    releasePlace: 'Local office released: it returned the case as outside its area, so the place is now unknown. Give the case its local office.',
    approve: 'Extension approved.',
    refuse: 'Extension refused.',
  },
};

/** The form a notice of `DONE` comes from, where its name differs: the route form routes, re-routes or finds nothing to change; a release may take the place along. */
const DONE_FORM: Record<string, string> = { reroute: 'route', unchanged: 'route', releasePlace: 'release' };

/**
 * The `?done=` of a page: its notice, and the draft (staff.js) of the form the server accepted, if the page can
 * name it. An extension request's decision names the request (`refuse-<id>`, `approve-<id>`): its refusal note,
 * kept under the request's own form on the desk's list and on the case page alike, is dropped once the request is
 * decided either way.
 */
function doneOf(c: Context<AppEnv>, lang: Lang, caseForm?: (name: string) => string): { text: string | undefined; draft: string | null } {
  const done = c.req.query('done') ?? '';
  const cut = done.indexOf('-');
  const name = cut < 0 ? done : done.slice(0, cut);
  const text = DONE[lang][name];
  if (!text) return { text, draft: null };
  if (name === 'approve' || name === 'refuse') return { text, draft: cut < 0 ? null : refuseAction(done.slice(cut + 1)) };
  return { text, draft: caseForm && cut < 0 ? caseForm(DONE_FORM[name] ?? name) : null };
}

/** Where an extension request's refusal is posted, which is also the key of its note's draft. */
function refuseAction(id: string): string {
  return `/desk/extensions/${id}/refuse`;
}

interface Suggestion {
  code: string;
  confidence: number;
  lead: string | null;
  transfer: boolean;
}

interface MachineChoice {
  type: string | null;
  confidence: number;
  runnerUp: { type: string; confidence: number } | null;
}

/** Why a case is in triage when it came back from 12345 as an environmental matter: handing it over again is no suggestion. */
const BACK_FROM_TRANSFER: ReadonlySet<string> = new Set(['untransferred', 'transfer_returned']);

/**
 * The classifier's top choices for the case, best first, with where each
 * would go; none that hands it to 12345 when it came back from there
 * (`triageReason`), and not the type a case under handling already has.
 */
function suggestionsOf(district: District, k: MachineChoice | null, c: { status: CaseStatus; triageReason: string | null; typeCode: string | null }): Suggestion[] {
  const choices = [...(k?.type ? [{ type: k.type, confidence: k.confidence }] : []), ...(k?.runnerUp ? [k.runnerUp] : [])];
  const backFromTransfer = c.status === 'triage' && c.triageReason !== null && BACK_FROM_TRANSFER.has(c.triageReason);
  // Routing a case under handling to its own type again changes nothing.
  const routedSo = ROUTED_AS_IT_STANDS.includes(c.status) ? c.typeCode : null;
  return choices
    .filter((s) => district.types.has(s.type) && s.type !== routedSo && !(backFromTransfer && district.routing[s.type]?.transfer))
    .map((s) => {
      const route = district.routing[s.type];
      return { code: s.type, confidence: s.confidence, lead: route?.lead ?? null, transfer: route?.transfer ?? false };
    });
}

function reasonsOf(row: CaseListRow, list: readonly Assignment[]): string[] {
  const reasons: string[] = [];
  if (row.case.status === 'triage' && row.case.triageReason) reasons.push(row.case.triageReason);
  if (row.case.status === 'reopened' || row.case.status === 'returned') reasons.push(row.case.status);
  if (list.some((a) => a.round === row.case.round && a.role !== 'lead' && a.status === 'returned')) reasons.push('co_returned');
  if (row.case.flags.includes('place_unknown')) reasons.push('place_unknown');
  return reasons;
}

function percent(x: number): string {
  return `${Math.round(x * 100)}%`;
}

/** The actions asked about before they are done (see ConfirmBox). */
type Confirmed = 'merge' | 'transfer' | 'unmerge' | 'untransfer' | 'release';

/**
 * What each of them asks: the script's question (`data-confirm`), the box
 * that asks it without scripts, and what a form sent without the box ticked
 * is told next to it. A transfer closes the case here for the 12345 hotline.
 */
const CONFIRM: Record<Lang, Record<Confirmed, { question: string; box: string; missing: string }>> = {
  zh: {
    merge: { question: '确定并案？本案将关闭，此后按并入的案件办理。', box: '确认并案（本案将关闭，此后按并入的案件办理）', missing: '请勾选“确认并案”后再提交。' },
    transfer: { question: '确定转12345热线？本案将在此关闭，由12345热线办理。', box: '确认转12345热线（本案将在此关闭，由12345热线办理）', missing: '请勾选“确认转12345热线”后再提交。' },
    unmerge: { question: '确定撤销并案？本案将回到待分派。', box: '确认撤销并案（本案将回到待分派）', missing: '请勾选“确认撤销并案”后再提交。' },
    untransfer: { question: '确定撤销转办？本案将回到待分派。', box: '确认撤销转办（本案将回到待分派）', missing: '请勾选“确认撤销转办”后再提交。' },
    release: {
      question: '确定撤回该单位？它将不再办理本案；如需恢复，请重新派发。',
      box: '确认撤回该单位（它将不再办理本案；如需恢复，请重新派发）',
      missing: '请勾选“确认撤回该单位”后再提交。',
    },
  },
  en: {
    merge: {
      question: 'Merge? This case closes and is handled as part of the other one from then on.',
      box: 'Confirm the merge (this case closes and is handled as part of the other one)',
      missing: 'Tick "Confirm the merge" to merge the case.',
    },
    transfer: {
      question: 'Hand it over to 12345? The case closes here and 12345 handles it.',
      box: 'Confirm the handover to 12345 (the case closes here and 12345 handles it)',
      missing: 'Tick "Confirm the handover to 12345" to hand the case over.',
    },
    unmerge: { question: 'Undo the merge? The case goes back to triage.', box: 'Confirm undoing the merge (the case goes back to triage)', missing: 'Tick "Confirm undoing the merge" to undo it.' },
    untransfer: {
      question: 'Undo the transfer? The case goes back to triage.',
      box: 'Confirm undoing the transfer (the case goes back to triage)',
      missing: 'Tick "Confirm undoing the transfer" to undo it.',
    },
    release: {
      question: 'Release this unit? It no longer works on the case; route the case again to bring it back.',
      box: 'Confirm the release (the unit no longer works on the case; route the case again to bring it back)',
      missing: 'Tick "Confirm the release" to release the unit.',
    },
  },
};

/** The problem of a form of an action asked about, sent without its box ticked (a page used without scripts), or null. */
function unconfirmed(form: Record<string, unknown>, action: Confirmed, lang: Lang): string | null {
  return field(form, 'confirm') === '1' ? null : CONFIRM[lang][action].missing;
}

/** One-click buttons: route to a suggested type (or hand it to 12345 when that is where the type goes). */
function SuggestionButtons({
  caseId,
  version,
  seen,
  suggestions,
  lang,
  csrf,
  district,
  fromDesk = false,
  underHandling = false,
}: {
  caseId: string;
  version: number;
  seen?: number;
  suggestions: Suggestion[];
  lang: Lang;
  csrf: string;
  district: District;
  /** On the desk's triage card: what follows the click leads back to the desk, whatever address the page was shown at. */
  fromDesk?: boolean;
  /**
   * The case is in its units' hands already (listed for its place, or a co-handler's return): a re-route to another
   * type is no card's main action, so no suggestion is drawn as the button to press — most are the classifier's
   * runner-up, often at 0%, and one click releases the units that hold the case.
   */
  underHandling?: boolean;
}) {
  const zh = lang === 'zh';
  const primary = (i: number) => (i === 0 && !underHandling ? '' : 'secondary');
  const back = fromDesk ? <input type="hidden" name="back" value="desk" /> : null;
  return (
    <div class="actions">
      {suggestions.map((s, i) =>
        s.transfer ? (
          <form method="post" action={`/desk/cases/${caseId}/transfer`} class="inline">
            <CsrfField token={csrf} />
            {back}
            <VersionField version={version} seen={seen} />
            {/* No reason typed: the service's words for it (transferred_as_suggested), which each reader reads in their language. */}
            <input type="hidden" name="suggested" value={s.code} />
            <ConfirmBox problem={null} form="transfer" id={`transfer-confirm-${caseId}-${s.code}`} label={CONFIRM[lang].transfer.box} />
            <button type="submit" class={primary(i)} data-suggestion={s.code} data-confirm={CONFIRM[lang].transfer.question}>
              {zh ? '转12345热线' : 'Hand to 12345'} · {typeName(district, s.code, lang)} ({percent(s.confidence)})
            </button>
          </form>
        ) : (
          <form method="post" action={`/desk/cases/${caseId}/route`} class="inline">
            <CsrfField token={csrf} />
            {back}
            <VersionField version={version} seen={seen} />
            <input type="hidden" name="type" value={s.code} />
            <input type="hidden" name="quick" value="1" />
            <button type="submit" class={primary(i)} data-suggestion={s.code}>
              {typeName(district, s.code, lang)} → {unitName(district, s.lead, lang)} ({percent(s.confidence)})
            </button>
          </form>
        ),
      )}
      <a class="button secondary" href={`/desk/cases/${caseId}#route`}>
        {zh ? '其他类型或单位…' : 'Another type or bureau…'}
      </a>
    </div>
  );
}

/**
 * The version of the case the form was drawn from: a click on a card or a
 * form left open while someone else routed the case (or a double click) is
 * refused with a notice instead of routing the case a second time. With it,
 * the latest event the page showed (read before the version): a case only
 * the deadline timers touched since is still the case the page showed.
 */
/**
 * The card that undoes a merge or a transfer (撤销并案, 撤销转办): what it does
 * (`children`), a reason, and a button asking for confirmation; the case
 * goes back to triage. `seen`: the case as the page showed it, for an action
 * refused once someone else changed the case.
 */
function UndoCard(props: {
  name: 'unmerge' | 'untransfer';
  lang: Lang;
  title: string;
  action: string;
  csrf: string;
  problem: FormProblem | null;
  seen?: { version: number; seen?: number };
  reason?: string;
  children?: Child;
}) {
  const { name, problem } = props;
  return (
    <section class="card" aria-labelledby={`h-${name}`}>
      <h3 id={`h-${name}`}>{props.title}</h3>
      <FormNotice problem={problem} form={name} />
      <DraftNotices zh={props.lang === 'zh'} />
      <p class="hint">{props.children}</p>
      <form method="post" action={props.action} data-draft>
        <CsrfField token={props.csrf} />
        {props.seen ? <VersionField version={props.seen.version} seen={props.seen.seen} /> : null}
        <label for={`${name}-reason`}>{props.lang === 'zh' ? '说明' : 'Reason'}</label>
        <input id={`${name}-reason`} name="reason" type="text" required maxlength={2000} value={kept(problem, name, 'reason', props.reason ?? '')} {...invalidAttrs(problem, name, 'reason')} {...draftDefault(problem?.form === name)} />
        <FieldProblem problem={problem} form={name} name="reason" />
        <ConfirmBox problem={problem} form={name} id={`${name}-confirm`} label={CONFIRM[props.lang][name].box} />
        <div class="actions">
          <button type="submit" class="secondary" data-confirm={CONFIRM[props.lang][name].question}>
            {props.title}
          </button>
        </div>
      </form>
    </section>
  );
}

function VersionField({ version, seen }: { version: number; seen?: number }) {
  return (
    <>
      <input type="hidden" name="version" value={String(version)} />
      {seen !== undefined ? <input type="hidden" name="seen" value={String(seen)} /> : null}
    </>
  );
}

/** The version a form was drawn from, and the latest event it showed, when it says them. */
function versionOf(form: Record<string, unknown>): SeenCase {
  const v = field(form, 'version');
  const seen = field(form, 'seen');
  if (!/^\d{1,15}$/.test(v)) return {};
  return { ifVersion: Number(v), ...(/^\d{1,15}$/.test(seen) ? { seenEvent: Number(seen) } : {}) };
}

/** The case a dispatcher typed the tracking code or reference of (a resident or a bureau on the phone), if exactly one. */
async function findTyped(deps: AppEnv['Variables']['deps'], typed: string): Promise<string | null> {
  const code = trackingCodeIn(typed);
  if (code) {
    const found = await findCaseByTrackingCode(deps.db, code);
    if (found) return found.id;
  }
  const tail = referenceTail(typed);
  const byRef = tail ? await findCasesByReference(deps.db, tail) : [];
  return byRef.length === 1 ? byRef[0]!.id : null;
}

/** Every value of a form field sent more than once (checkboxes of one name), as sent. */
function fieldValues(form: Record<string, unknown>, name: string): string[] {
  const v = form[name];
  return (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string');
}

/** How many cards or rows each list of the desk shows. */
const LIST_LENGTH = 100;

/** The desk; after a refused form of its own (the find box, an extension request's refusal), with the problem next to that form. */
async function deskPage(c: Context<AppEnv>, problem: FormProblem | null = null, status: RenderOptions['status'] = 200) {
  const p = pageContext(c);
  const zh = p.lang === 'zh';
  const deps = c.get('deps');
  const { district } = deps;
  const principal = c.get('principal')!;
  const now = deps.clock.now();
  // One more than shown: a list that goes on says so, instead of a count that stops at the page's length.
  const [triageRead, overdueRead, extensionsRead] = await Promise.all([
    listTriage(deps.db, LIST_LENGTH + 1),
    listOverdueCases(deps.db, now.toISOString(), LIST_LENGTH + 1),
    listPendingExtensions(deps.db, LIST_LENGTH + 1),
  ]);
  const [triage, overdue, extensions] = [triageRead, overdueRead, extensionsRead].map((l) => l.slice(0, LIST_LENGTH)) as [typeof triageRead, typeof overdueRead, typeof extensionsRead];
  const count = (read: readonly unknown[]) => (read.length > LIST_LENGTH ? `${LIST_LENGTH}+` : String(read.length));
  const more = (read: readonly unknown[], order: string) =>
    read.length > LIST_LENGTH ? <p class="hint">{zh ? `只列出前 ${LIST_LENGTH} 件（${order}），其余的处理后依次显示。` : `The first ${LIST_LENGTH} are listed (${order}); the others follow as these are dealt with.`}</p> : null;
  const assignments = await listAssignmentsFor(deps.db, triage.map((r) => r.case.id));
  const title = zh ? '调度台' : 'Dispatch desk';
  const { text: done, draft: doneDraft } = doneOf(c, p.lang);
  return renderPage(
    c,
    title,
    <section {...draftDone(doneDraft)}>
      <h1>{title}</h1>
      <DoneNotice text={done} />
      <form method="get" action="/desk/find" class="find" role="search">
        <FormNotice problem={problem} form="find" />
        <label for="find-q">{zh ? '查找案件（查询码或工单号）' : 'Find a case (tracking code or case reference)'}</label>
        <input id="find-q" name="q" type="search" required maxlength={200} value={kept(problem, 'find', 'q')} {...invalidAttrs(problem, 'find', 'q')} />
        <FieldProblem problem={problem} form="find" name="q" />
        <button type="submit">{zh ? '查找' : 'Find'}</button>
      </form>
      <p class="actions">
        <a class="button secondary" href="/desk/dashboard">
          {zh ? '统计看板' : 'Dashboard'}
        </a>
        <a class="button secondary" href={`/desk/export/cases.csv${zh ? '' : '?lang=en'}`} download id="export-cases">
          {zh ? '导出近30天案件（CSV）' : 'Cases of the last 30 days (CSV)'}
        </a>
        <a class="button secondary" href={`/desk/export/stats.csv?groupBy=bureau${zh ? '' : '&lang=en'}`} download id="export-stats">
          {zh ? '导出各单位统计（CSV）' : 'Figures by bureau (CSV)'}
        </a>
      </p>

      <h2 id="triage-heading">
        {zh ? '待分派' : 'Triage'} ({count(triageRead)})
      </h2>
      {more(triageRead, zh ? '紧急的在前，其次受理最早的' : 'urgent first, then the oldest')}
      {triage.length === 0 ? (
        <p class="notice">{zh ? '没有待分派的案件。' : 'Nothing to triage.'}</p>
      ) : (
        <ul class="cards" aria-labelledby="triage-heading" style="list-style:none;padding:0">
          {triage.map((r) => {
            const reasons = reasonsOf(r, assignments.get(r.case.id) ?? []);
            // Which units sent it back, and why: what the dispatcher decides the route on.
            const returns = (assignments.get(r.case.id) ?? []).filter((a) => a.round === r.case.round && a.status === 'returned');
            // Its local office sent it back as not in its area: the place is to be given again, as for a place unknown.
            const placeDisowned = returns.some((a) => a.role === 'jurisdiction' && a.returnReason === 'wrong_jurisdiction');
            // Another office than the ones that said the case is not theirs (one released since too): not offered again.
            const disowned = officesThatDisowned(r.case.round, (assignments.get(r.case.id) ?? []).map((a) => ({ ...a, unit: a.unitCode })));
            const excerpt = excerptFor(principal, r.case.text, NOTHING_HIDDEN, 140);
            return (
              <li class="card" data-case={r.case.trackingCode} style="margin-bottom:.75rem">
                <p>
                  <a href={`/desk/cases/${r.case.id}`}>
                    <strong>{r.case.trackingCode}</strong>
                  </a>{' '}
                  · {STATUS_LABEL[p.lang][r.case.status] ?? r.case.status} · {typeName(district, r.case.typeCode, p.lang)}{' '}
                  {r.case.urgent ? <span class="badge urgent">{zh ? '紧急' : 'urgent'}</span> : null}{' '}
                  {reasons.map((x) => (
                    <span class="badge">{TRIAGE_REASON_LABEL[p.lang][x] ?? x}</span>
                  ))}
                </p>
                {returns.length > 0 ? (
                  <p class="hint" data-returns>
                    {zh ? '退回：' : 'Returned by: '}
                    {returns
                      .map((a) => {
                        const why = a.returnReason ? (RETURN_REASON_LABEL[p.lang][a.returnReason] ?? a.returnReason) : null;
                        const who = unitName(district, a.unitCode, p.lang);
                        return why ? (zh ? `${who}（${why}）` : `${who} (${why})`) : who;
                      })
                      .join(zh ? '；' : '; ')}
                  </p>
                ) : null}
                <p class="hint" lang={wordsLang(p.lang, excerpt)}>
                  {excerpt}
                </p>
                <SuggestionButtons caseId={r.case.id} version={r.case.version} seen={r.lastEventId} suggestions={suggestionsOf(district, r.classification, r.case)} lang={p.lang} csrf={p.csrf} district={district} fromDesk underHandling={ROUTED_AS_IT_STANDS.includes(r.case.status)} />
                {(reasons.includes('place_unknown') || placeDisowned) && r.case.typeCode && WORKING.includes(r.case.status) ? (
                  <form method="post" action={`/desk/cases/${r.case.id}/place`} class="inline" data-place-form>
                    <CsrfField token={p.csrf} />
                    <input type="hidden" name="back" value="desk" />
                    {/* The case as the card showed it: a place another dispatcher gave meanwhile is not replaced unseen. */}
                    <VersionField version={r.case.version} seen={r.lastEventId} />
                    <FormNotice problem={problem} form={`place-${r.case.id}`} />
                    <label for={`place-${r.case.id}`}>{zh ? '属地' : 'Local office'}</label>{' '}
                    <select id={`place-${r.case.id}`} name="jurisdiction" required {...invalidAttrs(problem, `place-${r.case.id}`, 'jurisdiction')}>
                      <option value="">{zh ? '请选择' : 'choose'}</option>
                      {jurisdictionOptions(district, p.lang)
                        .filter((j) => !disowned.has(j.code))
                        .map((j) => (
                          <option value={j.code}>{j.name}</option>
                        ))}
                    </select>{' '}
                    <button type="submit" class="secondary">
                      {zh ? '指定属地' : 'Set the place'}
                    </button>
                    <FieldProblem problem={problem} form={`place-${r.case.id}`} name="jurisdiction" />
                  </form>
                ) : null}
              </li>
            );
          })}
        </ul>
      )}

      <h2>
        {zh ? '超期案件' : 'Overdue'} ({count(overdueRead)})
      </h2>
      {more(overdueRead, zh ? '超期最久的在前' : 'the longest overdue first')}
      {overdue.length === 0 ? (
        <p class="notice">{zh ? '没有超期案件。' : 'Nothing overdue.'}</p>
      ) : (
        <div class="table-wrap">
          <table id="overdue">
            <thead>
              <tr>
                <th scope="col">{zh ? '查询码' : 'Code'}</th>
                <th scope="col">{zh ? '类型' : 'Type'}</th>
                <th scope="col">{zh ? '状态' : 'Status'}</th>
                <th scope="col">{zh ? '超期自' : 'Overdue since'}</th>
                <th scope="col">{zh ? '督办' : 'Supervision'}</th>
              </tr>
            </thead>
            <tbody>
              {overdue.map((o) => (
                <tr data-case={o.trackingCode}>
                  <td>
                    <a href={`/desk/cases/${o.id}`}>{o.trackingCode}</a>
                  </td>
                  <td>{typeName(district, o.typeCode, p.lang)}</td>
                  <td>{STATUS_LABEL[p.lang][o.status] ?? o.status}</td>
                  <td>
                    {/* The deadline missed (a sign-for one, or a co-handler's), not the lead's reply deadline that may lie ahead. */}
                    {formatTime(o.overdueSince, p.lang, p.timeZone)} <DeadlineBadge due={o.overdueSince} now={now} lang={p.lang} district={deps.district} />
                  </td>
                  <td>
                    {o.supervisedAt ? <span class="badge">{zh ? `已督办 ${formatTime(o.supervisedAt, p.lang, p.timeZone)}` : `supervised ${formatTime(o.supervisedAt, p.lang, p.timeZone)}`}</span> : null}
                    <form method="post" action={`/desk/cases/${o.id}/supervise`} class="inline">
                      <CsrfField token={p.csrf} />
                      <input type="hidden" name="back" value="desk" />
                      <VersionField version={o.version} seen={o.lastEventId} />
                      {/* No note typed: the service's words for it (overdue_supervision), which each unit reads in its language. */}
                      <input type="hidden" name="overdue" value="1" />
                      <button type="submit" class="secondary">
                        {zh ? '督办' : 'Supervise'}
                      </button>
                    </form>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <h2>
        {zh ? '延期申请' : 'Extension requests'} ({count(extensionsRead)})
      </h2>
      {more(extensionsRead, zh ? '申请最早的在前' : 'the oldest first')}
      {extensions.length === 0 ? (
        <p class="notice">{zh ? '没有待审批的延期申请。' : 'No requests waiting.'}</p>
      ) : (
        <ul style="list-style:none;padding:0">
          {extensions.map((x) => (
            <li class="card" data-extension={x.id} style="margin-bottom:.75rem">
              <p>
                <a href={`/desk/cases/${x.caseId}`}>{x.trackingCode}</a> · {unitName(district, x.unitCode, p.lang)} ·{' '}
                {zh ? `申请延长 ${x.workingDays} 个工作日` : `asks for ${x.workingDays} working days`} · {formatTime(x.createdAt, p.lang, p.timeZone)}
              </p>
              <p class="hint" lang={wordsLang(p.lang, x.reason)}>
                {x.reason}
              </p>
              <ExtensionForms id={x.id} lang={p.lang} csrf={p.csrf} problem={problem} fromDesk />
            </li>
          ))}
        </ul>
      )}
    </section>,
    { status, address: '/desk' },
  );
}

/** Approve or refuse an extension request; `fromDesk` on the desk's list, where what follows the decision leads back. */
function ExtensionForms({ id, lang, csrf, problem, fromDesk = false }: { id: string; lang: Lang; csrf: string; problem: FormProblem | null; fromDesk?: boolean }) {
  const zh = lang === 'zh';
  const form = `refuse-${id}`;
  const back = fromDesk ? <input type="hidden" name="back" value="desk" /> : null;
  return (
    <div class="actions">
      <form method="post" action={`/desk/extensions/${id}/approve`} class="inline">
        <CsrfField token={csrf} />
        {back}
        <button type="submit">{zh ? '批准' : 'Approve'}</button>
      </form>
      <div>
        <DraftNotices zh={zh} />
        <form method="post" action={refuseAction(id)} data-draft>
          <CsrfField token={csrf} />
          {back}
          <FormNotice problem={problem} form={form} />
          <label for={`${form}-note`}>{zh ? '驳回理由' : 'Why refused'}</label>
          <input id={`${form}-note`} name="note" type="text" maxlength={2000} required value={kept(problem, form, 'note')} {...invalidAttrs(problem, form, 'note')} />
          <FieldProblem problem={problem} form={form} name="note" />
          <button type="submit" class="secondary">
            {zh ? '驳回' : 'Refuse'}
          </button>
        </form>
      </div>
    </div>
  );
}

function HotlineTranscript({ view, lang }: { view: CaseView; lang: Lang }) {
  if (!view.hotline) return null;
  const zh = lang === 'zh';
  return (
    <details>
      <summary>
        {zh ? `来电记录（${view.hotline.hotline}，${view.hotline.callId}）` : `Call record (${view.hotline.hotline}, ${view.hotline.callId})`}
      </summary>
      <pre style="white-space:pre-wrap">{view.hotline.transcript}</pre>
    </details>
  );
}

/** The statuses of an assignment whose unit still holds its part of the case. */
const HOLDING: readonly string[] = ['pending', 'accepted', 'replied'];

/**
 * What the route form starts on. A lead or co-handlers a dispatcher picked by
 * hand (not what the routing table gives the case's type) are what the form
 * starts on, so correcting only the place keeps them; otherwise the form
 * starts on the routing table, which follows a changed type. A unit that
 * returned its part is not kept: the re-route is the answer to its return.
 */
function routeFormPlan(district: District, view: CaseView): { lead: string; coFrom: 'rule' | 'chosen'; co: string[]; currentCo: string[] } {
  const route = view.type?.code ? district.routing[view.type.code] : undefined;
  const holding = view.assignments.filter((a) => a.round === view.round && HOLDING.includes(a.status));
  const lead = holding.find((a) => a.role === 'lead')?.bureau.code ?? null;
  const currentCo = holding.filter((a) => a.role === 'co').map((a) => a.bureau.code);
  const ruleCo = [...new Set(route?.co ?? [])].filter((u) => u !== lead);
  const sameAsRule = currentCo.length === ruleCo.length && ruleCo.every((u) => currentCo.includes(u));
  const handPicked = lead !== null && !sameAsRule;
  return {
    lead: lead !== null && lead !== route?.lead ? lead : '',
    coFrom: handPicked ? 'chosen' : 'rule',
    co: handPicked ? currentCo : (route?.co ?? []),
    currentCo,
  };
}

async function deskCasePage(c: Context<AppEnv>, id: string, problem: FormProblem | null = null, status: RenderOptions['status'] = 200) {
  const p = pageContext(c);
  const zh = p.lang === 'zh';
  const deps = c.get('deps');
  const { district } = deps;
  // Read before the view, the latest event before the version: a change in between makes what the forms say older
  // than what the page shows, never newer.
  const seen = await lastEventId(deps.db, id);
  const version = (await findCase(deps.db, id))?.version ?? 0;
  const view = await buildCaseView(deps, c.get('principal')!, id);
  const now = deps.clock.now();
  const title = `${zh ? '案件' : 'Case'} ${view.trackingCode}`;
  const action = (name: string) => `/desk/cases/${view.id}/${name}`;
  const suggestions = suggestionsOf(
    district,
    view.type?.classifiedAs ? { type: view.type.classifiedAs, confidence: view.type.confidence ?? 0, runnerUp: view.type.runnerUp } : null,
    { status: view.status, triageReason: view.triageReason, typeCode: view.type?.code ?? null },
  );
  const suggested = new Set(suggestions.map((s) => s.code));
  const open = !['closed', 'merged', 'transferred', 'received'].includes(view.status);
  // Only the actions the case's status allows are offered: a case its units answered (replied) waits for its rating,
  // and a form that could only be refused is none to show.
  const can = {
    route: ROUTABLE.includes(view.status),
    merge: canTransition(view.status, 'merged'),
    transfer: canTransition(view.status, 'transferred'),
    supervise: WORKING.includes(view.status),
    release: view.status !== 'replied',
  };
  const failedSends = await countFailedSends(deps.db, id);
  // The units that can be released: co-handlers and the local office (the lead changes by re-routing, never by release).
  const openUnits = view.assignments.filter((a) => a.round === view.round && a.role !== 'lead' && (a.status === 'pending' || a.status === 'accepted' || a.status === 'returned'));
  const { text: done, draft: doneDraft } = doneOf(c, p.lang, action);
  const currentLead = currentAssignmentOf(view.assignments, (a) => a.role === 'lead', view.round)?.bureau.code ?? '';
  const plan = routeFormPlan(district, view);
  const currentCo = plan.currentCo;
  // After a refused submit, the form shows what was sent (a co-handler list with nothing ticked sends no `co` at all).
  const sent = problem?.form === 'route' ? problem.values : null;
  const keptLead = sent ? (sent.lead ?? '') : plan.lead;
  const keptCoFrom = sent ? (sent.coFrom ?? 'rule') : plan.coFrom;
  const keptCo = sent ? (sent.co ?? '').split(',').filter((x) => x !== '') : plan.co;
  const coOptions = [...bureauOptions(district, p.lang), ...currentCo.filter((u) => !district.file.bureaus.some((b) => b.code === u)).map((u) => ({ code: u, name: unitName(district, u, p.lang) }))];
  // The type the form starts on (a select with none selected shows its first option) and the bureau that would lead:
  // that bureau is not offered as a co-handler (the server drops it from the co-handlers, as the API does).
  const formType = kept(problem, 'route', 'type', view.type?.code ?? '') || (suggestions[0]?.code ?? district.file.types[0]?.code ?? '');
  const formLead = keptLead || (district.routing[formType]?.lead ?? '');
  // The offices that returned the case as outside their area: still choosable here, marked so, for a dispatcher who finds
  // the return unfounded (a re-route with its reason), but the form never starts on one, so a re-route made for another
  // change does not give the case back to the office that said it is not theirs; it starts on 地点不明 instead.
  const disowned = officesThatDisowned(view.round, view.assignments.map((a) => ({ ...a, unit: a.bureau.code })));
  const formPlace = view.jurisdiction && !disowned.has(view.jurisdiction.code) ? view.jurisdiction.code : '';
  return renderPage(
    c,
    title,
    <article {...draftDone(doneDraft)}>
      <CasePageHead back={{ href: '/desk', label: zh ? '返回调度台' : 'Back to the desk' }} title={title} done={done} problem={problem} />
      <CaseFacts view={view} lang={p.lang} timeZone={p.timeZone} district={district} now={now} />
      <h2>{zh ? '举报内容' : 'The report'}</h2>
      <p class="reply" id="case-text" lang={wordsLang(p.lang, view.text ?? '')}>
        {view.text}
      </p>
      <HotlineTranscript view={view} lang={p.lang} />
      <CaseFiles view={view} base={`/desk/cases/${view.id}`} lang={p.lang} />
      <MergedReports view={view} base={`/desk/cases/${view.id}`} lang={p.lang} timeZone={p.timeZone} />
      <AssignmentsTable view={view} lang={p.lang} timeZone={p.timeZone} district={district} />
      {view.extensionRequests.length > 0 ? (
        <>
          <h2>{zh ? '延期申请' : 'Extension requests'}</h2>
          {view.extensionRequests.map((x) => (
            <div class="card">
              <p>
                {unitName(district, x.unit.code, p.lang)} · {zh ? `${x.workingDays} 个工作日` : `${x.workingDays} working days`} · <span lang={wordsLang(p.lang, x.reason)}>{x.reason}</span>
              </p>
              <ExtensionForms id={x.id} lang={p.lang} csrf={p.csrf} problem={problem} />
            </div>
          ))}
        </>
      ) : null}

      {open ? (
        <>
          {can.route ? (
            <>
              {/* A case no unit had yet (out of triage) is routed for the first time, not again. */}
              <h2 id="route">{view.dispatchedAt ? (zh ? '重新派发' : 'Re-route') : zh ? '派发' : 'Route'}</h2>
              {suggestions.length > 0 ? <SuggestionButtons caseId={view.id} version={version} seen={seen} suggestions={suggestions} lang={p.lang} csrf={p.csrf} district={district} underHandling={ROUTED_AS_IT_STANDS.includes(view.status)} /> : null}
              <FormNotice problem={problem} form="route" />
              <div>
                <DraftNotices zh={zh} />
                <form method="post" action={action('route')} class="card" id="route-form" data-keep-on-switch data-draft>
                  <CsrfField token={p.csrf} />
                  <VersionField version={version} seen={seen} />
                  <label for="route-type">{zh ? '问题类型' : 'Type'}</label>
                  <select id="route-type" name="type" {...invalidAttrs(problem, 'route', 'type')}>
                    <GoneOption code={view.type?.code} name={typeName(district, view.type?.code, p.lang)} known={!view.type?.code || district.types.has(view.type.code)} selected={kept(problem, 'route', 'type', view.type?.code ?? '')} lang={p.lang} />
                    {suggestions.length > 0 ? (
                      <optgroup label={zh ? '分类建议' : 'Suggested'}>
                        {suggestions.map((s) => (
                          <option value={s.code} selected={kept(problem, 'route', 'type', view.type?.code ?? '') === s.code}>
                            {typeName(district, s.code, p.lang)} ({percent(s.confidence)})
                          </option>
                        ))}
                      </optgroup>
                    ) : null}
                    <optgroup label={zh ? '全部类型' : 'All types'}>
                      {typeOptions(district, p.lang)
                        .filter((t) => !suggested.has(t.code))
                        .map((t) => (
                          <option value={t.code} selected={kept(problem, 'route', 'type', view.type?.code ?? '') === t.code}>
                            {t.name}
                          </option>
                        ))}
                    </optgroup>
                  </select>
                  <FieldProblem problem={problem} form="route" name="type" />
                  <label for="route-lead">{zh ? '牵头单位' : 'Lead bureau'}</label>
                  <p class="hint" id="route-lead-hint">
                    {plan.lead
                      ? zh
                        ? '当前牵头单位是调度员指定的（不同于派单规则），默认保留，只改属地不会改变它；改了问题类型、要派给该类型规则的牵头单位时，请选“按派单规则”。'
                        : 'The current lead was picked by a dispatcher (not the routing table): it stays unless you choose otherwise, so correcting the place keeps it; after changing the type, choose "from the routing table" to give the case to that type\'s lead.'
                      : zh
                        ? '不选则按派单规则确定所选类型的牵头单位。'
                        : "Leave it to take the chosen type's lead from the routing table."}
                  </p>
                  <select id="route-lead" name="lead" aria-describedby="route-lead-hint" {...invalidAttrs(problem, 'route', 'lead')}>
                    <option value="" selected={keptLead === ''}>
                      {zh ? '按派单规则（所选类型的牵头单位）' : "from the routing table (the chosen type's lead)"}
                    </option>
                    <GoneOption code={keptLead} name={unitName(district, keptLead, p.lang)} known={keptLead === '' || district.units.has(keptLead)} selected={keptLead} lang={p.lang} />
                    {bureauOptions(district, p.lang).map((b) => (
                      <option value={b.code} selected={keptLead === b.code}>
                        {b.name}
                        {b.code === currentLead ? (zh ? '（当前）' : ' (current)') : ''}
                      </option>
                    ))}
                  </select>
                  <input type="hidden" name="leadWas" value={plan.lead} />
                  {plan.lead !== '' && Object.values(district.routing).some((r) => r.transfer) ? (
                    // Left on the lead a dispatcher picked, a type that goes to 12345 is refused (the lead was not a choice
                    // made for it); ticked, that lead keeps the case whatever the type.
                    <label class="check" for="route-keep-lead">
                      <input type="checkbox" id="route-keep-lead" name="keepLead" value="1" checked={sent ? sent.keepLead === '1' : false} />{' '}
                      <span>{zh ? '所选类型通常转12345热线时，仍交上面所选的牵头单位办理' : 'Keep the lead chosen above even for a type that goes to the 12345 hotline'}</span>
                    </label>
                  ) : null}
                  <FieldProblem problem={problem} form="route" name="lead" />
                  <fieldset
                    id="route-co"
                    data-rule-co={JSON.stringify(Object.fromEntries(Object.entries(district.routing).map(([t, r]) => [t, r.co])))}
                    data-rule-lead={JSON.stringify(Object.fromEntries(Object.entries(district.routing).map(([t, r]) => [t, r.lead])))}
                    {...invalidAttrs(problem, 'route', 'co')}
                  >
                    <legend>{zh ? '协办单位' : 'Co-handling bureaus'}</legend>
                    <label class="check" for="route-co-rule">
                      <input type="radio" id="route-co-rule" name="coFrom" value="rule" checked={keptCoFrom !== 'chosen'} />{' '}
                      <span>{zh ? '按派单规则（所选类型的协办单位）' : "from the routing table (the chosen type's co-handlers)"}</span>
                    </label>
                    <label class="check" for="route-co-chosen">
                      <input type="radio" id="route-co-chosen" name="coFrom" value="chosen" checked={keptCoFrom === 'chosen'} />{' '}
                      <span>{zh ? '按下面勾选的单位（可以一个都不选）' : 'the bureaus ticked below (none is fine)'}</span>
                    </label>
                    <p class="hint">
                      {zh
                        ? `属地（镇、办事处）按所选属地自动加入。${plan.coFrom === 'chosen' ? '当前协办单位是调度员指定的，默认保留。' : ''}`
                        : `The local office follows the place chosen below.${plan.coFrom === 'chosen' ? ' The current co-handlers were picked by a dispatcher: they stay unless you change them.' : ''}`}
                    </p>
                    <div class="co-choices">
                      {coOptions.map((b) => (
                        <label class="check" for={`route-co-${b.code}`}>
                          {/* The lead's box too is drawn as a choice (marked 牵头单位): staff.js disables it as the page opens, and without
                              scripts a dispatcher who picks another lead can still tick this one to co-handle (kept as lead, the server drops it). */}
                          <input type="checkbox" id={`route-co-${b.code}`} name="co" value={b.code} checked={keptCo.includes(b.code)} data-co-choice />{' '}
                          <span>
                            {b.name}
                            {currentCo.includes(b.code) ? (zh ? '（当前）' : ' (current)') : ''}
                            <span class="hint" data-lead-mark hidden={b.code !== formLead}>
                              {zh ? '（牵头单位）' : ' (the lead)'}
                            </span>
                          </span>
                        </label>
                      ))}
                    </div>
                    <FieldProblem problem={problem} form="route" name="co" />
                  </fieldset>
                  <label for="route-jurisdiction">{zh ? '属地' : 'Local office'}</label>
                  <p class="hint" id="route-jurisdiction-hint">
                    {zh
                      ? '选“地点不明”时不派属地，案件仍留在调度台待补充属地，查明后再指定。'
                      : 'With "place unknown" no local office is given: the case stays on the desk as waiting for its place, to be given once known.'}
                  </p>
                  <select id="route-jurisdiction" name="jurisdiction" aria-describedby="route-jurisdiction-hint" {...invalidAttrs(problem, 'route', 'jurisdiction')}>
                    <option value="">{zh ? '地点不明（待补充属地）' : 'place unknown (to be given)'}</option>
                    <GoneOption
                      code={view.jurisdiction?.code}
                      name={unitName(district, view.jurisdiction?.code, p.lang)}
                      known={!view.jurisdiction || district.units.get(view.jurisdiction.code)?.kind === 'jurisdiction'}
                      selected={kept(problem, 'route', 'jurisdiction', formPlace)}
                      lang={p.lang}
                    />
                    {jurisdictionOptions(district, p.lang).map((j) => (
                      <option value={j.code} selected={kept(problem, 'route', 'jurisdiction', formPlace) === j.code}>
                        {j.name}
                        {disowned.has(j.code) ? (zh ? `（已退回：${RETURN_REASON_LABEL.zh.wrong_jurisdiction}）` : ` (returned it: ${RETURN_REASON_LABEL.en.wrong_jurisdiction})`) : ''}
                      </option>
                    ))}
                  </select>
                  <FieldProblem problem={problem} form="route" name="jurisdiction" />
                  {/* Left as it was, the urgency follows the type chosen and the words (never less urgent); changed, it is the dispatcher's. */}
                  <input type="hidden" name="urgentWas" value={view.urgent ? '1' : '0'} />
                  <label class="check" for="route-urgent">
                    <input type="checkbox" id="route-urgent" name="urgent" value="1" checked={sent ? sent.urgent === '1' : view.urgent} /> {zh ? '紧急（按紧急案件的办理时限）' : 'Urgent (the shorter deadlines of urgent cases)'}
                  </label>
                  <label for="route-reason">{zh ? '派发说明' : 'Reason'}</label>
                  <ProblemTextArea problem={problem} form="route" name="reason" id="route-reason" />
                  <div class="actions">
                    <button type="submit">{zh ? '派发' : 'Route'}</button>
                  </div>
                </form>
              </div>
            </>
          ) : null}

          <div class="grid">
            {can.merge ? (
              <section class="card" aria-labelledby="h-merge">
                <h3 id="h-merge">{zh ? '并案' : 'Merge'}</h3>
                <FormNotice problem={problem} form="merge" />
                <DraftNotices zh={zh} />
                <form method="post" action={action('merge')} id="merge-form" data-keep-on-switch data-draft>
                  <CsrfField token={p.csrf} />
                  <VersionField version={version} seen={seen} />
                  <label for="merge-into">{zh ? '并入案件的查询码或工单号' : 'Tracking code or reference of the case to merge into'}</label>
                  <input id="merge-into" name="into" type="text" autocapitalize="characters" required value={kept(problem, 'merge', 'into')} {...invalidAttrs(problem, 'merge', 'into')} />
                  <FieldProblem problem={problem} form="merge" name="into" />
                  <label for="merge-reason">{zh ? '说明' : 'Reason'}</label>
                  <input id="merge-reason" name="reason" type="text" required maxlength={2000} value={kept(problem, 'merge', 'reason', suggestedText('duplicate', p.lang))} {...invalidAttrs(problem, 'merge', 'reason')} {...draftDefault(problem?.form === 'merge')} />
                  <FieldProblem problem={problem} form="merge" name="reason" />
                  <ConfirmBox problem={problem} form="merge" id="merge-confirm" label={CONFIRM[p.lang].merge.box} />
                  <div class="actions">
                    <button type="submit" class="secondary" data-confirm={CONFIRM[p.lang].merge.question}>
                      {zh ? '并案' : 'Merge'}
                    </button>
                  </div>
                </form>
              </section>
            ) : null}
            {can.transfer ? (
              <section class="card" aria-labelledby="h-transfer">
                <h3 id="h-transfer">{zh ? '转12345热线' : 'Hand to 12345'}</h3>
                <FormNotice problem={problem} form="transfer" />
                <DraftNotices zh={zh} />
                <form method="post" action={action('transfer')} id="transfer-form" data-keep-on-switch data-draft>
                  <CsrfField token={p.csrf} />
                  <VersionField version={version} seen={seen} />
                  <label for="transfer-reason">{zh ? '说明' : 'Reason'}</label>
                  <input id="transfer-reason" name="reason" type="text" required maxlength={2000} value={kept(problem, 'transfer', 'reason', suggestedText('not_environmental', p.lang))} {...invalidAttrs(problem, 'transfer', 'reason')} {...draftDefault(problem?.form === 'transfer')} />
                  <FieldProblem problem={problem} form="transfer" name="reason" />
                  <ConfirmBox problem={problem} form="transfer" id="transfer-confirm" label={CONFIRM[p.lang].transfer.box} />
                  <div class="actions">
                    <button type="submit" class="secondary" data-confirm={CONFIRM[p.lang].transfer.question}>
                      {zh ? '转办' : 'Transfer'}
                    </button>
                  </div>
                </form>
              </section>
            ) : null}
            {can.supervise ? (
              <section class="card" aria-labelledby="h-supervise">
                <h3 id="h-supervise">{zh ? '督办' : 'Supervise'}</h3>
                <FormNotice problem={problem} form="supervise" />
                <DraftNotices zh={zh} />
                <form method="post" action={action('supervise')} id="supervise-form" data-keep-on-switch data-draft>
                  <CsrfField token={p.csrf} />
                  <VersionField version={version} seen={seen} />
                  <label for="supervise-note">{zh ? '督办意见' : 'Note to the units'}</label>
                  <input id="supervise-note" name="note" type="text" required maxlength={2000} value={kept(problem, 'supervise', 'note', suggestedText('handle_without_delay', p.lang))} {...invalidAttrs(problem, 'supervise', 'note')} {...draftDefault(problem?.form === 'supervise')} />
                  <FieldProblem problem={problem} form="supervise" name="note" />
                  <div class="actions">
                    <button type="submit" class="secondary">
                      {zh ? '督办' : 'Supervise'}
                    </button>
                  </div>
                </form>
              </section>
            ) : null}
            {openUnits.length > 0 && can.release ? (
              <section class="card" aria-labelledby="h-release">
                <h3 id="h-release">{zh ? '撤回单位' : 'Release a unit'}</h3>
                <FormNotice problem={problem} form="release" />
                <DraftNotices zh={zh} />
                <form method="post" action={action('release')} id="release-form" data-keep-on-switch data-draft>
                  <CsrfField token={p.csrf} />
                  <VersionField version={version} seen={seen} />
                  <label for="release-unit">{zh ? '单位' : 'Unit'}</label>
                  <select id="release-unit" name="unit" {...invalidAttrs(problem, 'release', 'unit')}>
                    {/* After a refusal, the unit chosen stays chosen: sent again as the page showed it, the first would be released instead. */}
                    {openUnits.map((a) => (
                      <option value={a.bureau.code} selected={kept(problem, 'release', 'unit') === a.bureau.code}>
                        {unitName(district, a.bureau.code, p.lang)}
                      </option>
                    ))}
                  </select>
                  <FieldProblem problem={problem} form="release" name="unit" />
                  <label for="release-reason">{zh ? '说明' : 'Reason'}</label>
                  <input id="release-reason" name="reason" type="text" required maxlength={2000} value={kept(problem, 'release', 'reason')} {...invalidAttrs(problem, 'release', 'reason')} />
                  <FieldProblem problem={problem} form="release" name="reason" />
                  <ConfirmBox problem={problem} form="release" id="release-confirm" label={CONFIRM[p.lang].release.box} />
                  <div class="actions">
                    <button type="submit" class="secondary" data-confirm={CONFIRM[p.lang].release.question}>
                      {zh ? '撤回' : 'Release'}
                    </button>
                  </div>
                </form>
              </section>
            ) : null}
          </div>
        </>
      ) : null}

      {view.status === 'merged' ? (
        <UndoCard
          name="unmerge"
          lang={p.lang}
          title={zh ? '撤销并案' : 'Undo the merge'}
          action={action('unmerge')}
          csrf={p.csrf}
          problem={problem}
          seen={{ version, seen }}
        >
          {view.mergedInto ? (
            <>
              {zh ? '本案已并入案件 ' : 'This case was merged into case '}
              <a href={`/desk/cases/${view.mergedInto.id}`}>{view.mergedInto.reference}</a>
              {zh ? '。' : '. '}
            </>
          ) : null}
          {zh ? '并错了案件时撤销：本案回到待分派，单独派发办理，举报人会收到通知。' : 'When the merge was a mistake: the case goes back to triage, to be routed on its own, and its reporter is told.'}
        </UndoCard>
      ) : null}

      {view.status === 'transferred' ? (
        <UndoCard
          name="untransfer"
          lang={p.lang}
          title={zh ? '撤销转办' : 'Undo the transfer'}
          action={action('untransfer')}
          csrf={p.csrf}
          problem={problem}
          seen={{ version, seen }}
          reason={suggestedText('environmental_after_all', p.lang)}
        >
          {zh
            ? '本案已作为非环境类诉求转12345热线。如属环境问题：撤销后本案回到待分派，由调度员按类型派发，12345热线不再办理，举报人会收到通知。'
            : 'This case was handed to the 12345 hotline as not environmental. If it is environmental after all: the case goes back to triage to be routed by its type, 12345 no longer handles it, and its reporter is told.'}
        </UndoCard>
      ) : null}

      {failedSends > 0 ? (
        <section class="card" aria-labelledby="h-redeliver">
          <h3 id="h-redeliver">{zh ? '重新推送' : 'Send again'}</h3>
          <FormNotice problem={problem} form="redeliver" />
          <p class="hint">
            {zh
              ? `有 ${failedSends} 项派单推送或通知多次发送失败。单位修好接收服务器或 Telegram 恢复后，可重新推送（已送达的不会重复发送）。`
              : `${failedSends} assignment deliveries or notices failed for good. Once the unit's server or Telegram works again, send them again (whatever arrived is not sent twice).`}
          </p>
          <form method="post" action={action('redeliver')}>
            <CsrfField token={p.csrf} />
            <div class="actions">
              <button type="submit" class="secondary">
                {zh ? '重新推送' : 'Send again'}
              </button>
            </div>
          </form>
        </section>
      ) : null}

      <h2>{zh ? '办理过程' : 'History'}</h2>
      <History view={view} lang={p.lang} timeZone={p.timeZone} district={district} />
    </article>,
    { status, address: `/desk/cases/${id}` },
  );
}

/**
 * Was the form posted from the desk's list? Its forms say so (`back=desk`):
 * the desk shown again after a refused form sits at that form's address, so
 * the browser's referer no longer says /desk. Older pages: the referer.
 */
function postedFromDesk(c: Context<AppEnv>, form: Record<string, unknown>): boolean {
  return field(form, 'back') === 'desk' || (c.req.header('referer') ?? '').replace(/[?#].*$/, '').endsWith('/desk');
}

/** Is the extension request still waiting for a decision (listed on the desk)? */
async function extensionPending(c: Context<AppEnv>, id: string): Promise<boolean> {
  const row = await c.get('deps').db.selectFrom('extension_requests').select('status').where('id', '=', id).executeTakeFirst();
  return row?.status === 'pending';
}

function check(lang: Lang, checks: Record<string, string | null>): void {
  const fields = Object.fromEntries(Object.entries(checks).filter((e): e is [string, string] => e[1] !== null));
  if (Object.keys(fields).length > 0) throw invalidForm(lang, fields);
}

export function deskPages() {
  const router = new Hono<AppEnv>();
  staffArea(router, '/desk');
  dashboardRoutes(router);

  router.get('/desk', (c) => deskPage(c));
  router.get('/desk/find', async (c) => {
    const lang = pageContext(c).lang;
    const q = (c.req.query('q') ?? '').trim();
    // What no code or reference holds (a NUL, half a character) is refused naming the box, as in any form.
    const unreadable = textFault(q) !== null;
    const id = q === '' || unreadable ? null : await findTyped(c.get('deps'), q);
    if (id) return c.redirect(`/desk/cases/${id}`, 303);
    const problem =
      q === ''
        ? lang === 'zh' ? '请填写查询码或工单号。' : 'Give a tracking code or a case reference.'
        : unreadable
          ? lang === 'zh' ? '含有无法识别的字符（可能是复制时的乱码），请删除后再查询。' : 'Holds characters that cannot be read (garbled when copied?); remove them and look it up again.'
          : lang === 'zh' ? '没有这个查询码或工单号的案件。' : 'No case has this tracking code or reference.';
    const values = { q: unreadable ? keepableText(q) : q };
    return deskPage(c, { form: 'find', message: lang === 'zh' ? '请按提示修改后再提交。' : problem, fields: { q: problem }, values }, q === '' || unreadable ? 400 : 404);
  });
  router.get('/desk/cases/:id', (c) => deskCasePage(c, c.req.param('id')));
  router.get('/desk/cases/:id/files/:fileId', (c) => serveCaseFile(c, c.req.param('id'), c.req.param('fileId')));

  router.get('/desk/export/cases.csv', async (c) => {
    const parsed = exportCasesQuery.safeParse(c.req.query());
    if (!parsed.success) throw new AppError('validation_failed', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '), fieldsOf(parsed.error));
    // People read this file: the status, channel and close reason by the names the pages use, not their codes.
    const lang = parsed.data.lang ?? 'zh';
    const csv = await casesCsv(c.get('deps'), parsed.data, { status: STATUS_LABEL[lang], channel: CHANNEL_LABEL[lang], closeReason: CLOSE_REASON_LABEL[lang] });
    return c.body(csv.body, 200, csv.headers);
  });
  router.get('/desk/export/stats.csv', async (c) => {
    const parsed = statsQuerySchema.safeParse(c.req.query());
    if (!parsed.success) throw new AppError('validation_failed', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '), fieldsOf(parsed.error));
    const csv = await statsCsv(c.get('deps'), parsed.data);
    return c.body(csv.body, 200, csv.headers);
  });

  /**
   * One action: success goes back (POST → redirect → GET) with a notice (the
   * action's name, or the one `run` gives); an expected refusal (4xx) shows
   * the page of the case with the problem next to the form, what was typed
   * kept. From the desk list, back to the list; a form of the list itself
   * (`listForm`: its name there) refused for a field comes back on the list,
   * the field named next to it.
   */
  const act = (
    path: string,
    name: string,
    run: (c: Context<AppEnv>, form: Record<string, unknown>, lang: Lang) => Promise<string | void>,
    caseOf: (c: Context<AppEnv>) => Promise<string>,
    listForm?: (c: Context<AppEnv>) => string,
  ) =>
    router.post(path, async (c) => {
      const lang = pageContext(c).lang;
      const form = await c.req.parseBody({ all: true });
      let done = name.replace(/-.*$/, '');
      try {
        refuseBadText(withLineFeeds(form));
        done = (await run(c, form, lang)) ?? done;
      } catch (err) {
        if (err instanceof AppError && err.code === 'not_found' && !err.fields) throw err;
        const values: Record<string, string> = {};
        // A field sent more than once (the route form's co-handler boxes) is kept whole, its values joined by commas.
        for (const k of Object.keys(form)) if (k !== '_csrf') values[k] = fieldValues(form, k).join(',');
        const problem = problemOf(err, name, values, lang, c.get('deps').district);
        if (listForm && postedFromDesk(c, form) && Object.keys(problem.fields).length > 0) return deskPage(c, { ...problem, form: listForm(c) }, problemStatus(err));
        return deskCasePage(c, await caseOf(c), problem, problemStatus(err));
      }
      return c.redirect(postedFromDesk(c, form) ? `/desk?done=${done}` : `/desk/cases/${await caseOf(c)}?done=${done}`, 303);
    });
  const caseParam = async (c: Context<AppEnv>) => c.req.param('id')!;

  act(
    '/desk/cases/:id/route',
    'route',
    async (c, form, lang) => {
      const type = field(form, 'type');
      const { district } = c.get('deps');
      // The lead the form started on (one a dispatcher picked earlier), left as it was: with a type that goes to
      // 12345 it is not a choice to keep the case away from 12345, so the type is refused as without a lead,
      // unless the dispatcher ticked to keep it.
      const leadWas = field(form, 'leadWas');
      const picked = field(form, 'lead');
      const keepLead = field(form, 'keepLead') === '1';
      const lead = picked !== '' && picked === leadWas && district.routing[type]?.transfer && !keepLead ? '' : picked;
      const jurisdiction = field(form, 'jurisdiction');
      const quick = field(form, 'quick') === '1';
      // The urgency the dispatcher changed on the form; left as the page showed it, the routing decides it.
      const urgent = field(form, 'urgent') === '1';
      const urgentChanged = !quick && field(form, 'urgentWas') !== '' && urgent !== (field(form, 'urgentWas') === '1');
      // The co-handlers ticked, when the form says to take them instead of the routing table's (none ticked: none).
      const co = field(form, 'coFrom') === 'chosen' ? [...new Set(fieldValues(form, 'co'))] : undefined;
      const typed = field(form, 'reason');
      // The one-click buttons carry no reason: the chosen suggestion is the reason, kept as the service's words (in no
      // one's language: each reader reads them in theirs).
      const reason: Said = quick && typed.trim() === '' && district.types.has(type) ? { said: 'routed_as_suggested', type } : typed.trim();
      check(lang, { type: type === '' ? (lang === 'zh' ? '请选择问题类型。' : 'Choose a type.') : null, reason: typeof reason === 'string' ? requiredText(typed, lang) : null });
      const { rerouted, unchanged } = await routeCase(c.get('deps'), c.get('principal')!, c.req.param('id')!, {
        type,
        ...(lead ? { lead } : {}),
        ...(co ? { co } : {}),
        ...(urgentChanged ? { urgent } : {}),
        // The quick buttons keep the place as it is; the full form says what it should be. 地点不明 is no place yet, not
        // "needs none": the case stays on the desk's list of cases waiting for a place (a re-route done only to add a
        // co-handler used to drop it from there).
        ...(quick ? {} : jurisdiction === '' ? { placeUnknown: true } : { jurisdiction }),
        reason,
        ...versionOf(form),
      });
      // Sent for the first time (out of triage, no unit had it), sent again, or routed so already.
      return unchanged ? 'unchanged' : rerouted ? 'reroute' : 'route';
    },
    caseParam,
  );

  act(
    '/desk/cases/:id/place',
    'place',
    async (c, form, lang) => {
      const deps = c.get('deps');
      const jurisdiction = field(form, 'jurisdiction');
      if (deps.district.units.get(jurisdiction)?.kind !== 'jurisdiction') {
        throw invalidForm(lang, { jurisdiction: lang === 'zh' ? '请选择属地。' : 'Choose the local office.' });
      }
      await setCasePlace(deps, c.get('principal')!, c.req.param('id')!, { jurisdiction, reason: { said: 'place_given' }, ...versionOf(form) });
    },
    caseParam,
    (c) => `place-${c.req.param('id')!}`,
  );

  act(
    '/desk/cases/:id/merge',
    'merge',
    async (c, form, lang) => {
      const into = field(form, 'into');
      const reason = field(form, 'reason');
      check(lang, {
        into: into.trim() === '' ? (lang === 'zh' ? '请填写查询码或工单号。' : 'Give a tracking code or a case reference.') : null,
        reason: requiredText(reason, lang),
        confirm: unconfirmed(form, 'merge', lang),
      });
      const deps = c.get('deps');
      const target = await findTyped(deps, into);
      if (!target) throw invalidForm(lang, { into: lang === 'zh' ? '没有这个查询码或工单号的案件。' : 'No case has this tracking code or reference.' });
      // The form's suggestion (重复举报) sent as it stood is the service's words, read in each reader's language.
      await mergeCase(deps, c.get('principal')!, c.req.param('id')!, { into: target, reason: typedOrSuggested(reason, 'duplicate'), ...versionOf(form) });
    },
    caseParam,
  );

  act(
    '/desk/cases/:id/unmerge',
    'unmerge',
    async (c, form, lang) => {
      const reason = field(form, 'reason');
      check(lang, { reason: requiredText(reason, lang), confirm: unconfirmed(form, 'unmerge', lang) });
      await unmergeCase(c.get('deps'), c.get('principal')!, c.req.param('id')!, { reason: reason.trim(), ...versionOf(form) });
    },
    caseParam,
  );

  act(
    '/desk/cases/:id/transfer',
    'transfer',
    async (c, form, lang) => {
      const typed = field(form, 'reason');
      // A suggestion's button carries no reason: the suggestion is the reason, kept as the service's words.
      const suggested = field(form, 'suggested');
      // So is the form's suggestion (非环境类诉求) sent as it stood.
      const reason: Said = typed.trim() === '' && c.get('deps').district.types.has(suggested) ? { said: 'transferred_as_suggested', type: suggested } : typedOrSuggested(typed, 'not_environmental');
      check(lang, { reason: typeof reason === 'string' ? requiredText(typed, lang) : null, confirm: unconfirmed(form, 'transfer', lang) });
      await transferCase(c.get('deps'), c.get('principal')!, c.req.param('id')!, { reason, ...versionOf(form) });
    },
    caseParam,
  );

  act(
    '/desk/cases/:id/untransfer',
    'untransfer',
    async (c, form, lang) => {
      const reason = field(form, 'reason');
      check(lang, { reason: requiredText(reason, lang), confirm: unconfirmed(form, 'untransfer', lang) });
      await untransferCase(c.get('deps'), c.get('principal')!, c.req.param('id')!, { reason: typedOrSuggested(reason, 'environmental_after_all'), ...versionOf(form) });
    },
    caseParam,
  );

  act(
    '/desk/cases/:id/supervise',
    'supervise',
    async (c, form, lang) => {
      const typed = field(form, 'note');
      // The overdue list's button carries no note: the service's words for it, which each unit reads in its language.
      // The case page's suggestion (请尽快办理并答复。) sent as it stood is the service's words too.
      const note: Said = typed.trim() === '' && field(form, 'overdue') === '1' ? { said: 'overdue_supervision' } : typedOrSuggested(typed, 'handle_without_delay');
      check(lang, { note: typeof note === 'string' ? requiredText(typed, lang) : null });
      await superviseCase(c.get('deps'), c.get('principal')!, c.req.param('id')!, { note, ...versionOf(form) });
    },
    caseParam,
  );

  act(
    '/desk/cases/:id/redeliver',
    'redeliver',
    async (c) => {
      const deps = c.get('deps');
      const caseId = c.req.param('id')!;
      if (!(await findCase(deps.db, caseId))) throw new AppError('not_found', 'no such case');
      await redeliverFailed(deps, staffActor(c.get('principal')!), { caseId });
    },
    caseParam,
  );

  act(
    '/desk/cases/:id/release',
    'release',
    async (c, form, lang) => {
      const unit = field(form, 'unit');
      const reason = field(form, 'reason');
      check(lang, { unit: unit === '' ? (lang === 'zh' ? '请选择单位。' : 'Choose a unit.') : null, reason: requiredText(reason, lang), confirm: unconfirmed(form, 'release', lang) });
      const { placeCleared } = await releaseUnit(c.get('deps'), c.get('principal')!, c.req.param('id')!, { unit, reason: reason.trim(), ...versionOf(form) });
      return placeCleared ? 'releasePlace' : 'release';
    },
    caseParam,
  );

  const caseOfExtension = async (c: Context<AppEnv>) => {
    const row = await c.get('deps').db.selectFrom('extension_requests').select('case_id').where('id', '=', c.req.param('id')!).executeTakeFirst();
    if (!row) throw new AppError('not_found', 'no such extension request');
    return row.case_id;
  };
  act(
    '/desk/extensions/:id/approve',
    'approve',
    async (c) => {
      await approveExtension(c.get('deps'), c.get('principal')!, c.req.param('id')!, {});
      return `approve-${c.req.param('id')!}`;
    },
    caseOfExtension,
  );
  router.post('/desk/extensions/:id/refuse', async (c) => {
    const lang = pageContext(c).lang;
    const form = await c.req.parseBody({ all: true });
    const note = field(form, 'note');
    const id = c.req.param('id');
    const name = `refuse-${id}`;
    try {
      refuseBadText(withLineFeeds(form));
      check(lang, { note: requiredText(note, lang) });
      await refuseExtension(c.get('deps'), c.get('principal')!, id, { note: note.trim() });
    } catch (err) {
      if (err instanceof AppError && err.code === 'not_found') throw err;
      const problem = problemOf(err, name, { note }, lang, c.get('deps').district);
      // Refused from the desk's list, the list again with the field named next to the request's form, as long
      // as the request is still listed there; otherwise (decided meanwhile) the case page says why.
      if (postedFromDesk(c, form) && Object.keys(problem.fields).length > 0 && (await extensionPending(c, id))) return deskPage(c, problem, problemStatus(err));
      return deskCasePage(c, await caseOfExtension(c), problem, problemStatus(err));
    }
    const done = `refuse-${id}`;
    return c.redirect(postedFromDesk(c, form) ? `/desk?done=${done}` : `/desk/cases/${await caseOfExtension(c)}?done=${done}`, 303);
  });

  return router;
}
