import { Hono, type Context } from 'hono';
import type { Child } from 'hono/jsx';
import { WORKING, type CaseStatus } from '../../src/domain/case.js';
import { textFault } from '../../src/domain/text.js';
import { normalizeTrackingCode, trackingCodeInText } from '../../src/domain/tracking-code.js';
import { AppError, type Refusal } from '../../src/errors.js';
import { logRated, RATINGS, rateCase, sameRatingSince, type RatingValue } from '../../src/workflow/feedback.js';
import { findCaseByTrackingCode } from '../../db/repositories/cases.repository.js';
import { csrfProtection } from '../../src/web/csrf.js';
import { loadSession } from '../../src/web/session.js';
import { formatTime, type Lang, type Texts } from '../../src/web/i18n.js';
import { CsrfField, errorId, FieldError } from '../../src/web/layout.js';
import { pageContext, renderPage } from '../../src/web/render.js';
import type { AppEnv } from '../app-env.js';
import { MAX_COMMENT_CHARS } from '../feedback.routes.js';
import { publicCaseView, type PublicCase } from '../track.routes.js';
import { RATING_LABEL, statusLabel } from '../../src/web/status-words.js';
import { timelineNote, wordsLang } from './resident-labels.js';
import { readForm, stringField } from './resident-form.js';

/**
 * The page behind the tracking link (`trackUrl` in the API's answers):
 * `/track/CODE` shows the public view of a case — status, timeline, type,
 * bureaus, deadlines, the bureau's reply — and, once the case is answered,
 * the rating form, which rates the case as POST /api/v1/track/:code/feedback
 * does. `/track` is the lookup box. Nothing here identifies the reporter.
 */

type RateField = 'rating' | 'solved' | 'comment' | 'form';
type RateErrors = Partial<Record<RateField, string>>;

interface RateValues {
  rating: string;
  solved: string;
  comment: string;
}

const T: Texts<
  | 'lookupTitle'
  | 'lookupIntro'
  | 'code'
  | 'codeHint'
  | 'go'
  | 'badCode'
  | 'notFoundTitle'
  | 'notFound'
  | 'title'
  | 'status'
  | 'urgent'
  | 'type'
  | 'lead'
  | 'co'
  | 'place'
  | 'received'
  | 'dispatched'
  | 'signBy'
  | 'replyBy'
  | 'rateBy'
  | 'pending'
  | 'leadAgain'
  | 'timeline'
  | 'reply'
  | 'noReply'
  | 'yourRating'
  | 'earlierRating'
  | 'solvedYes'
  | 'solvedNo'
  | 'rateTitle'
  | 'rateIntro'
  | 'ratingLegend'
  | 'solvedLegend'
  | 'comment'
  | 'commentHint'
  | 'send'
  | 'fix'
  | 'errRating'
  | 'errSolved'
  | 'errComment'
  | 'errChars'
  | 'errExpired'
  | 'newAnswer'
  | 'ratedClosed'
  | 'ratedReopened'
  | 'anotherCode'
  | 'rateClosed'
  | 'mergedTitle'
  | 'mergedLead'
  | 'mergedOutcome'
  | 'mergedTimeline'
  | 'colon'
> = {
  zh: {
    lookupTitle: '查询办理进度',
    lookupIntro: '输入提交举报时得到的查询码，查看办理进度和答复。',
    code: '查询码',
    codeHint: '10 位字母和数字，不区分大小写；也可粘贴查询链接。',
    go: '查询',
    badCode: '查询码是 10 位字母和数字，请核对后再输入。',
    notFoundTitle: '没有找到这个举报',
    notFound: '没有找到这个查询码对应的举报，请核对后再试。',
    title: '举报办理进度',
    status: '当前状态',
    urgent: '紧急',
    type: '问题类型',
    lead: '承办单位',
    co: '协办单位',
    place: '属地',
    received: '受理时间',
    dispatched: '派单时间',
    signBy: '签收期限',
    replyBy: '答复期限',
    rateBy: '评价期限',
    pending: '待定',
    leadAgain: '待重新分派',
    timeline: '办理过程',
    reply: '承办单位答复',
    noReply: '承办单位尚未答复。',
    yourRating: '您的评价',
    earlierRating: '您对上一次答复的评价',
    solvedYes: '问题已解决',
    solvedNo: '问题未解决',
    rateTitle: '评价办理结果',
    rateIntro: '请对这次答复进行评价。选择“不满意”后，案件将退回承办单位重新办理。',
    ratingLegend: '您对办理结果是否满意？',
    solvedLegend: '您反映的问题解决了吗？',
    comment: '意见或建议',
    commentHint: `选填，最多 ${MAX_COMMENT_CHARS} 字，只有工作人员能看到，不会公开。`,
    send: '提交评价',
    fix: '评价未提交，请按提示补充后再提交。',
    errRating: '请选择满意程度。',
    errSolved: '请选择问题是否已解决。',
    errComment: `意见最多 ${MAX_COMMENT_CHARS} 字。`,
    errChars: '含有无法识别的字符（可能是复制时的乱码），请删除后再提交。',
    errExpired: '此页面已过期，评价未提交。您的选择已保留，请核对后再次提交。',
    newAnswer: '您打开此页面后，承办单位作出了新的答复（见上方），评价未提交。请阅读新的答复后再评价，您的选择已保留。',
    ratedClosed: '感谢您的评价，案件已办结。',
    ratedReopened: '感谢您的评价。案件已退回承办单位重新办理，请留意新的答复。',
    anotherCode: '查询其他举报',
    rateClosed: '评价期限已过，案件将按未评价办结。',
    mergedTitle: '合并办理进展',
    mergedLead: '与其他举报合并办理',
    mergedTimeline: '合并办理过程',
    mergedOutcome: '本举报与另一件反映同一问题的举报合并办理。下面是合并后的办理进展和答复，请继续用本查询码查询。',
    colon: '：',
  },
  en: {
    lookupTitle: 'Follow a report',
    lookupIntro: 'Enter the tracking code you were given when you reported, to see the progress and the answer.',
    code: 'Tracking code',
    codeHint: '10 letters and digits, upper or lower case; or paste the tracking link.',
    go: 'Look up',
    badCode: 'A tracking code has 10 letters and digits; please check it.',
    notFoundTitle: 'Report not found',
    notFound: 'No report has this tracking code. Please check it and try again.',
    title: 'Progress of your report',
    status: 'Status',
    urgent: 'urgent',
    type: 'Type of problem',
    lead: 'Handled by',
    co: 'Also involved',
    place: 'Local office',
    received: 'Received',
    dispatched: 'Sent to the bureau',
    signBy: 'To be signed for by',
    replyBy: 'Answer due by',
    rateBy: 'Rate the answer by',
    pending: 'to be decided',
    leadAgain: 'to be assigned again',
    timeline: 'Progress',
    reply: "The bureau's answer",
    noReply: 'The bureau has not answered yet.',
    yourRating: 'Your rating',
    earlierRating: 'Your rating of the earlier answer',
    solvedYes: 'problem solved',
    solvedNo: 'problem not solved',
    rateTitle: 'Rate the answer',
    rateIntro: 'Please rate this answer. If you are dissatisfied, the case goes back to the bureau to be handled again.',
    ratingLegend: 'Are you satisfied with how it was handled?',
    solvedLegend: 'Was the problem solved?',
    comment: 'Comments',
    commentHint: `Optional, at most ${MAX_COMMENT_CHARS} characters; seen only by staff, never published.`,
    send: 'Send the rating',
    fix: 'The rating was not sent. Please complete what is marked.',
    errRating: 'Please choose how satisfied you are.',
    errSolved: 'Please say whether the problem was solved.',
    errComment: `At most ${MAX_COMMENT_CHARS} characters.`,
    errChars: 'Holds characters that cannot be read (garbled when copied?); please remove them and send again.',
    errExpired: 'This page had expired and the rating was not sent. Your choices are kept: check them and send again.',
    newAnswer: 'The bureau has answered again since this page was opened (see above), so the rating was not sent. Please read the new answer and rate it; your choices are kept.',
    ratedClosed: 'Thank you for your rating. The case is closed.',
    ratedReopened: 'Thank you for your rating. The case has gone back to the bureau to be handled again; watch for the new answer.',
    anotherCode: 'Look up another report',
    rateClosed: 'The time to rate this answer has passed; the case will be closed without a rating.',
    mergedTitle: 'Progress of the case it is handled in',
    mergedLead: 'Handled together with another report',
    mergedTimeline: 'How it has been handled',
    mergedOutcome: 'This report is about the same problem as another report and is handled together with it. Below is how that case is going, and its answer; keep using this code to follow it.',
    colon: ': ',
  },
};

function LookupForm({ lang, code, error }: { lang: 'zh' | 'en'; code?: string; error?: string | undefined }) {
  const t = T[lang];
  return (
    // What was typed into the box comes along when the language is switched (app.js), as on the other forms.
    <form method="get" action="/track" class="lookup" id="lookup-form" data-keep-on-switch>
      <label for="code">{t.code}</label>
      <p class="hint" id="code-hint">
        {t.codeHint}
      </p>
      <FieldError name="code" message={error} />
      <input
        type="text"
        id="code"
        name="code"
        value={code ?? ''}
        required
        autocomplete="off"
        autocapitalize="characters"
        spellcheck={false}
        maxlength={200}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={error ? `${errorId('code')} code-hint` : 'code-hint'}
      />
      <p class="actions">
        <button type="submit">{t.go}</button>
      </p>
    </form>
  );
}

/**
 * Why a rating was refused (`AppError.refusal` of rateCase), as the resident
 * reads it: the answer was rated already (another tab, the chat), the time to
 * rate it ended (when, on the district's clock), or there is no answer to rate
 * (the case went back to the bureau, or was closed meanwhile).
 */
function ratingRefusal(lang: Lang, refusal: Refusal | undefined, timeZone: string): string {
  const zh = lang === 'zh';
  switch (refusal?.reason) {
    case 'already_rated':
      return zh ? '这次答复已经评价过了，每次答复只能评价一次。' : 'This answer has already been rated; an answer is rated once.';
    case 'rating_closed': {
      const when = formatTime(refusal.rateBy, lang, timeZone);
      return zh ? `评价期限已于${when}截止，无法再评价。` : `The time to rate this answer ended on ${when}.`;
    }
    case 'rate_not_replied':
      if (refusal.status === 'reopened') {
        return zh
          ? '案件已退回承办单位重新办理，新的答复还没有作出，暂时没有可评价的答复。'
          : 'The case has gone back to the bureau to be handled again; there is no new answer to rate yet.';
      }
      if (['closed', 'merged', 'transferred'].includes(refusal.status)) {
        return zh ? `案件当前为「${statusLabel(lang, refusal.status)}」，不能再评价。` : `The case is now ${statusLabel(lang, refusal.status).toLowerCase()}; it can no longer be rated.`;
      }
      return zh ? '承办单位尚未答复，暂时没有可评价的答复。' : 'The bureau has not answered yet, so there is nothing to rate.';
    default:
      return zh ? '这次答复已经评价过，或评价期限已过，无法再评价。' : 'This answer has already been rated, or the time to rate it has passed.';
  }
}

/**
 * Who handles the case, as the resident reads it: the lead bureau; none yet
 * while a dispatcher decides again after the lead returned it (the API still
 * names that lead until the case is routed again); for a merged report, the
 * lead of the case it is handled in.
 */
function leadText(lang: Lang, view: Pick<PublicCase, 'status' | 'lead'>): string {
  const t = T[lang];
  if (view.status === 'triage' || view.status === 'returned') return view.lead ? t.leadAgain : t.pending;
  return view.lead?.name ?? t.pending;
}

/**
 * Where the answer to a merged or transferred case comes from, in place of
 * "not answered yet": no reply will come to this case itself. A merged report
 * shows the case it is handled in below, without naming it (its tracking code
 * is its own reporter's key to its page and to rating its answer).
 */
function Outcome({ lang, view }: { lang: Lang; view: PublicCase }) {
  if (view.status === 'merged') return <p id="case-outcome">{T[lang].mergedOutcome}</p>;
  return <p id="case-outcome">{transferredWords(lang, view, 'report')}</p>;
}

/** That a case handed to 12345 is answered there: the report itself, or the case a merged report is handled in. */
function transferredWords(lang: Lang, h: Pick<Handling, 'lead'>, whose: 'report' | 'merged'): string {
  const zh = lang === 'zh';
  const unit = h.lead?.name ?? (zh ? '12345热线' : 'the 12345 hotline');
  if (whose === 'merged') {
    return zh
      ? `合并办理的案件不属于环境问题，已转交${unit}办理，由${unit}答复，本页不再显示答复。`
      : `The case this report is handled in is not about the environment: it was handed to ${unit}, which answers it; no answer will show on this page.`;
  }
  return zh ? `本举报不属于环境问题，已转交${unit}办理，由${unit}答复，本页不再显示答复。` : `This report is not about the environment: it was handed to ${unit}, which answers it; no answer will show on this page.`;
}

/** A case's public timeline, newest first. */
function Timeline({ c, history, id }: { c: Context<AppEnv>; history: PublicCase['history']; id: string }) {
  const { lang, timeZone } = pageContext(c);
  const district = c.get('deps').district;
  return (
    <ol class="timeline" id={id}>
      {[...history].reverse().map((h) => {
        const label = statusLabel(lang, h.status);
        const note = h.note ? timelineNote(lang, h.note, district) : null;
        return (
          <li>
            <time datetime={h.at}>{formatTime(h.at, lang, timeZone)}</time> · <strong>{label}</strong>
            {/* A note that only says the status again (已受理 · 已受理) is left out. */}
            {note && note.toLowerCase() !== label.toLowerCase() ? (
              <>
                {' · '}
                <span lang={wordsLang(lang, note)}>{note}</span>
              </>
            ) : null}
          </li>
        );
      })}
    </ol>
  );
}

type Handling = NonNullable<PublicCase['mergedCase']>;

/**
 * Whether a case without a place may still be given one: while it waits to be routed (received, in triage, returned)
 * and while its units work on it (a dispatcher names its local office). A case handed to 12345 is handled outside the
 * district's offices, and one answered or closed is given none: no place is "to be decided" for them, so none is shown.
 */
function placeStillOpen(status: CaseStatus): boolean {
  return status === 'received' || status === 'triage' || status === 'returned' || WORKING.includes(status);
}

/** A case's status as the page names it, with its urgent mark. */
function StatusLine({ lang, h, id }: { lang: Lang; h: Pick<Handling, 'status' | 'urgent'>; id: string }) {
  const t = T[lang];
  return (
    <p class="status-line">
      {t.status}
      {t.colon}
      <strong id={id} data-status={h.status}>
        {statusLabel(lang, h.status)}
      </strong>
      {h.urgent ? (
        <>
          {' '}
          <span class="badge urgent">{t.urgent}</span>
        </>
      ) : null}
    </p>
  );
}

/**
 * The type, bureaus and place of a case (`lead` as the page words it), then
 * `children`: the times and deadlines the page shows of it.
 */
function HandlingFacts({
  lang,
  h,
  lead,
  type,
  ids,
  children,
}: {
  lang: Lang;
  h: Handling;
  lead: string;
  /** The type as the page words it, when not the case's own (a merged report: the case it is handled in). */
  type?: string | undefined;
  ids: { type?: string; lead: string; place?: string };
  children?: Child;
}) {
  const t = T[lang];
  return (
    <dl class="facts">
      <dt>{t.type}</dt>
      {/* No type while a dispatcher decides it (the classifier's unsure guess is not given as one: publicCaseView). */}
      <dd id={ids.type}>{type ?? h.type?.name ?? t.pending}</dd>
      <dt>{t.lead}</dt>
      <dd id={ids.lead}>{lead}</dd>
      {h.coHandlers.length > 0 ? (
        <>
          <dt>{t.co}</dt>
          <dd>{h.coHandlers.map((u) => u.name).join(lang === 'zh' ? '、' : ', ')}</dd>
        </>
      ) : null}
      {h.jurisdiction || placeStillOpen(h.status) ? (
        <>
          <dt>{t.place}</dt>
          <dd id={ids.place}>{h.jurisdiction?.name ?? t.pending}</dd>
        </>
      ) : null}
      {children}
    </dl>
  );
}

/** The lead bureau's reply, with when it came. */
function Reply({ lang, reply, when, id }: { lang: Lang; reply: NonNullable<Handling['reply']>; when: (iso: string) => string; id: string }) {
  return (
    <>
      <p class="hint">{when(reply.at)}</p>
      <div class="reply" id={id} lang={wordsLang(lang, reply.text)}>
        {reply.text}
      </div>
    </>
  );
}

/**
 * The case a merged report is handled in, as its reporter follows it here:
 * its status, bureaus, reply and timeline; not its tracking code, nor a
 * rating (its own reporter rates its answer).
 */
function MergedCase({ c, merged }: { c: Context<AppEnv>; merged: Handling }) {
  const { lang, timeZone } = pageContext(c);
  const t = T[lang];
  const when = (iso: string | null) => formatTime(iso, lang, timeZone);
  const working = (WORKING as readonly string[]).includes(merged.status);
  return (
    <section id="merged-case" aria-labelledby="h-merged">
      <h2 id="h-merged">{t.mergedTitle}</h2>
      <StatusLine lang={lang} h={merged} id="merged-status" />
      <HandlingFacts lang={lang} h={merged} lead={leadText(lang, merged)} ids={{ lead: 'merged-lead' }}>
        {working && merged.deadlines.replyBy ? (
          <>
            <dt>{t.replyBy}</dt>
            <dd>{when(merged.deadlines.replyBy)}</dd>
          </>
        ) : null}
      </HandlingFacts>
      <h3>{t.reply}</h3>
      {merged.reply ? (
        <Reply lang={lang} reply={merged.reply} when={when} id="merged-reply" />
      ) : merged.status === 'transferred' ? (
        // Handed to 12345, the case gets no answer here: not "not answered yet" for ever.
        <p id="merged-outcome">{transferredWords(lang, merged, 'merged')}</p>
      ) : (
        <p>{t.noReply}</p>
      )}
      <h3>{t.mergedTimeline}</h3>
      <Timeline c={c} history={merged.history} id="merged-timeline" />
    </section>
  );
}

/** The input each entry of the rating form's error summary leads to: a question's first choice, or the comment. */
const RATE_FIELD_INPUT: Record<Exclude<RateField, 'form'>, string> = { rating: `rating-${RATINGS[0]}`, solved: 'solved-yes', comment: 'comment' };

/** Rating is open while the case waits for it and the window has not closed. */
function canRate(view: PublicCase, now: Date): boolean {
  return view.status === 'replied' && (!view.deadlines.rateBy || view.deadlines.rateBy > now.toISOString());
}

function RateForm({ c, view, values, errors }: { c: Context<AppEnv>; view: PublicCase; values: RateValues; errors: RateErrors }) {
  const { lang, csrf } = pageContext(c);
  const t = T[lang];
  const has = Object.keys(errors).length > 0;
  return (
    <section aria-labelledby="rate-title" class="card">
      <h2 id="rate-title">{t.rateTitle}</h2>
      <p>{t.rateIntro}</p>
      {/* Focused when the page opens (app.js): on a phone the form is far below the top of the page. */}
      {has ? (
        <div class="notice error" role="alert" id="rate-error" tabindex={-1} data-focus-on-load>
          <p>{t.fix}</p>
          {errors.form ? <p>{errors.form}</p> : null}
          {/* What to correct, each leading to its question, as the report form's summary does: the focus lands here. */}
          {errors.rating || errors.solved || errors.comment ? (
            <ul>
              {(['rating', 'solved', 'comment'] as const).map((field) =>
                errors[field] ? (
                  <li>
                    <a href={`#${RATE_FIELD_INPUT[field]}`}>{errors[field]}</a>
                  </li>
                ) : null,
              )}
            </ul>
          ) : null}
        </div>
      ) : null}
      <form method="post" action={`/track/${view.trackingCode}`} id="rate-form" novalidate data-keep-on-switch>
        <CsrfField token={csrf} />
        {/* The answer this form rates: a form sent after a newer answer came (a tab left open) must not rate that one unread. */}
        <input type="hidden" name="answer" value={view.reply?.at ?? ''} />
        {/* Radio groups: a fieldset's own role (group) takes no aria-invalid, a radiogroup does. */}
        <fieldset role="radiogroup" aria-required="true" aria-invalid={errors.rating ? 'true' : undefined} aria-describedby={errors.rating ? errorId('rating') : undefined}>
          <legend>{t.ratingLegend}</legend>
          <FieldError name="rating" message={errors.rating} />
          {RATINGS.map((r) => (
            <label class="check" for={`rating-${r}`}>
              <input type="radio" id={`rating-${r}`} name="rating" value={r} checked={values.rating === r} required />
              <span>{RATING_LABEL[lang][r]}</span>
            </label>
          ))}
        </fieldset>
        <fieldset role="radiogroup" aria-required="true" aria-invalid={errors.solved ? 'true' : undefined} aria-describedby={errors.solved ? errorId('solved') : undefined}>
          <legend>{t.solvedLegend}</legend>
          <FieldError name="solved" message={errors.solved} />
          <label class="check" for="solved-yes">
            <input type="radio" id="solved-yes" name="solved" value="yes" checked={values.solved === 'yes'} required />
            <span>{lang === 'zh' ? '已解决' : 'Yes'}</span>
          </label>
          <label class="check" for="solved-no">
            <input type="radio" id="solved-no" name="solved" value="no" checked={values.solved === 'no'} />
            <span>{lang === 'zh' ? '未解决' : 'No'}</span>
          </label>
        </fieldset>
        <label for="comment">{t.comment}</label>
        <p class="hint" id="comment-hint">
          {t.commentHint}
        </p>
        <FieldError name="comment" message={errors.comment} />
        {/* No maxlength, as the report's text: a longer paste is refused with the comment kept, not cut short unseen. */}
        <textarea
          id="comment"
          name="comment"
          rows={3}
          aria-invalid={errors.comment ? 'true' : undefined}
          aria-describedby={errors.comment ? `${errorId('comment')} comment-hint` : 'comment-hint'}
        >
          {values.comment}
        </textarea>
        <p class="actions">
          <button type="submit">{t.send}</button>
        </p>
      </form>
    </section>
  );
}

async function renderCase(
  c: Context<AppEnv>,
  view: PublicCase,
  opts: { values?: RateValues; errors?: RateErrors; notice?: string | null; alert?: string; status?: 200 | 400 | 403 | 409 } = {},
): Promise<Response> {
  const { lang, timeZone } = pageContext(c);
  const t = T[lang];
  const when = (iso: string | null) => formatTime(iso, lang, timeZone);
  const deps = c.get('deps');
  const open = !['closed', 'merged', 'transferred'].includes(view.status);
  const body = (
    <section class="narrow">
      <h1>{t.title}</h1>
      {opts.notice ? (
        <div class="notice ok" role="status">
          <p>{opts.notice}</p>
        </div>
      ) : null}
      {opts.alert ? (
        <div class="notice error" role="alert" id="case-alert" tabindex={-1} data-focus-on-load>
          <p>{opts.alert}</p>
        </div>
      ) : null}
      <p>
        {t.code}
        {t.colon}
        <span class="big-code" id="tracking-code">{view.trackingCode}</span>
      </p>
      <StatusLine lang={lang} h={view} id="case-status" />
      <HandlingFacts
        lang={lang}
        // A merged report is handled as the case it joined: its co-handlers and local office are that case's (its own
        // were let go at the merge, or never given), as its type and lead are.
        h={view.status === 'merged' && view.mergedCase ? view.mergedCase : view}
        lead={view.status === 'merged' ? (view.mergedCase?.lead?.name ?? t.mergedLead) : leadText(lang, view)}
        // A merged report is handled as the case it joined, under that case's type (its own may be a guess never settled).
        type={view.status === 'merged' ? (view.mergedCase?.type?.name ?? t.pending) : undefined}
        ids={{ type: 'case-type', lead: 'case-lead', place: 'case-place' }}
      >
        <dt>{t.received}</dt>
        <dd>{when(view.receivedAt)}</dd>
        {view.dispatchedAt ? (
          <>
            <dt>{t.dispatched}</dt>
            <dd>{when(view.dispatchedAt)}</dd>
          </>
        ) : null}
        {open && view.deadlines.signBy && ['dispatched', 'reopened'].includes(view.status) ? (
          <>
            <dt>{t.signBy}</dt>
            <dd>{when(view.deadlines.signBy)}</dd>
          </>
        ) : null}
        {open && view.deadlines.replyBy && (WORKING as readonly string[]).includes(view.status) ? (
          <>
            <dt>{t.replyBy}</dt>
            <dd>{when(view.deadlines.replyBy)}</dd>
          </>
        ) : null}
        {view.status === 'replied' && view.deadlines.rateBy ? (
          <>
            <dt>{t.rateBy}</dt>
            <dd>{when(view.deadlines.rateBy)}</dd>
          </>
        ) : null}
      </HandlingFacts>

      {view.status === 'merged' ? (
        <>
          <Outcome lang={lang} view={view} />
          {view.mergedCase ? <MergedCase c={c} merged={view.mergedCase} /> : null}
        </>
      ) : (
        <>
          <h2>{t.reply}</h2>
          {view.reply ? (
            <Reply lang={lang} reply={view.reply} when={when} id="case-reply" />
          ) : view.status === 'transferred' ? (
            <Outcome lang={lang} view={view} />
          ) : (
            <p>{t.noReply}</p>
          )}
        </>
      )}
      {view.rating ? (
        <p id="case-rating">
          {/* After a dissatisfied rating the bureau answers again: the rating shown then is of the answer before, not of the one above. */}
          {view.reply && Date.parse(view.rating.at) < Date.parse(view.reply.at) ? t.earlierRating : t.yourRating}
          {t.colon}
          {RATING_LABEL[lang][view.rating.rating]}
          {lang === 'zh' ? `（${view.rating.solved ? t.solvedYes : t.solvedNo}）` : ` (${view.rating.solved ? t.solvedYes : t.solvedNo})`} · {when(view.rating.at)}
        </p>
      ) : null}

      {canRate(view, deps.clock.now()) ? (
        <RateForm c={c} view={view} values={opts.values ?? { rating: '', solved: '', comment: '' }} errors={opts.errors ?? {}} />
      ) : view.status === 'replied' ? (
        <p class="notice" id="rating-closed">
          {t.rateClosed}
        </p>
      ) : null}

      <h2>{t.timeline}</h2>
      <Timeline c={c} history={view.history} id="timeline" />
      <p>
        <a href="/track">{t.anotherCode}</a>
      </p>
    </section>
  );
  // A refused rating says so in the title too, as the report form does.
  const refused = Object.keys(opts.errors ?? {}).length > 0 || opts.alert !== undefined;
  return renderPage(c, `${t.title} ${view.trackingCode}`, body, { status: opts.status ?? 200, refused });
}

function renderNotFound(c: Context<AppEnv>, code: string) {
  const { lang } = pageContext(c);
  const t = T[lang];
  return renderPage(
    c,
    t.notFoundTitle,
    <section class="narrow">
      <h1>{t.notFoundTitle}</h1>
      <p role="alert">{t.notFound}</p>
      <LookupForm lang={lang} code={code} />
    </section>,
    { status: 404 },
  );
}

function rateValues(form: Record<string, unknown>): RateValues {
  return { rating: stringField(form, 'rating'), solved: stringField(form, 'solved'), comment: stringField(form, 'comment') };
}

export function trackPageRoutes() {
  const app = new Hono<AppEnv>();
  // `/track/*` covers `/track` itself too. A rating sent after its form's token lapsed (the page left open
  // for days, cookies cleared) comes back with the choices made, to send again.
  const expired = csrfProtection({
    refused: async (c, form) => {
      // Middleware sees no route parameters: the code is the path's next part.
      const code = c.req.path.split('/')[2] ?? '';
      const view = await publicCaseView(c.get('deps'), code, pageContext(c).lang);
      if (!view) return renderNotFound(c, code);
      return renderCase(c, view, { values: rateValues(form), alert: T[pageContext(c).lang].errExpired, status: 403 });
    },
  });
  app.use('/track/*', expired, loadSession());

  app.get('/track', (c) => {
    const { lang } = pageContext(c);
    const t = T[lang];
    const asked = c.req.query('code');
    let error: string | undefined;
    if (asked !== undefined) {
      const code = trackingCodeInText(asked);
      if (code) return c.redirect(`/track/${code}`, 303);
      error = t.badCode;
    }
    return renderPage(
      c,
      t.lookupTitle,
      <section class="narrow">
        <h1>{t.lookupTitle}</h1>
        <p>{t.lookupIntro}</p>
        <LookupForm lang={lang} code={asked ?? ''} error={error} />
      </section>,
      { status: error ? 400 : 200, refused: error !== undefined },
    );
  });

  app.get('/track/:code', async (c) => {
    const { lang } = pageContext(c);
    const asked = c.req.param('code');
    const view = await publicCaseView(c.get('deps'), asked, lang);
    if (!view) {
      // A tracking link copied out of a message with the punctuation after it (…/track/K7M3QXT9AD。 or …K7M3QXT9AD）,
      // which chat apps take into the link): the code's own page, as the lookup box reads the same words.
      const code = normalizeTrackingCode(asked) ? null : trackingCodeInText(asked);
      if (code) return c.redirect(`/track/${code}${new URL(c.req.url).search}`, 303);
      return renderNotFound(c, asked);
    }
    const rated = c.req.query('rated');
    // Thanks only for a rating of the answer shown: an old ?rated=1 address opened again after the bureau answered
    // anew (and that answer went unrated) must not thank the resident for closing it.
    const ratedLatest = view.rating !== null && !(view.reply && Date.parse(view.rating.at) < Date.parse(view.reply.at));
    const notice =
      rated !== undefined && ratedLatest
        ? view.status === 'reopened' || view.status === 'dispatched' || view.status === 'accepted'
          ? T[lang].ratedReopened
          : view.status === 'closed'
            ? T[lang].ratedClosed
            : null
        : null;
    return renderCase(c, view, { notice });
  });

  app.post('/track/:code', async (c) => {
    const deps = c.get('deps');
    const { lang } = pageContext(c);
    const t = T[lang];
    const view = await publicCaseView(deps, c.req.param('code'), lang);
    if (!view) return renderNotFound(c, c.req.param('code'));
    const form = await readForm(c);
    const values = rateValues(form);
    // The answer the form was shown with ('' from a page made before the form said it).
    const answered = stringField(form, 'answer');
    const errors: RateErrors = {};
    if (!(RATINGS as readonly string[]).includes(values.rating)) errors.rating = t.errRating;
    if (values.solved !== 'yes' && values.solved !== 'no') errors.solved = t.errSolved;
    const comment = values.comment.trim();
    if ([...comment].length > MAX_COMMENT_CHARS) errors.comment = t.errComment;
    else if (textFault(comment)) errors.comment = t.errChars;
    if (Object.keys(errors).length > 0) return renderCase(c, view, { values, errors, status: 400 });
    const choices = { rating: values.rating as RatingValue, solved: values.solved === 'yes', comment: comment === '' ? null : comment };

    // The form sent again (its answer lost on the way, the page refreshed, or gone back to and sent again): the rating
    // it made stands, and the page says what it did, as after the first send, instead of refusing it as rated already.
    const since = answered || view.reply?.at;
    const found = since ? await findCaseByTrackingCode(deps.db, view.trackingCode) : null;
    if (found && since && (await sameRatingSince(deps.db, found.id, choices, since))) return c.redirect(`/track/${view.trackingCode}?rated=1`, 303);
    // A newer answer than the one the form was shown with (a dissatisfied rating made elsewhere, then the bureau
    // answered again): not rated unread; the page shows it, the choices kept.
    if (answered && view.reply && answered !== view.reply.at && canRate(view, deps.clock.now())) {
      return renderCase(c, view, { values, alert: t.newAnswer, status: 409 });
    }

    try {
      const outcome = await rateCase(deps, { trackingCode: view.trackingCode, ...choices, channel: 'web', answer: answered || undefined });
      logRated(deps.logger, outcome, { reqId: c.get('requestId'), channel: 'web' });
    } catch (err) {
      if (err instanceof AppError && err.code === 'conflict' && err.fields?.answer !== undefined) {
        // The bureau answered again as the form was sent: the new answer shown, the choices kept, nothing rated.
        const now = (await publicCaseView(deps, view.trackingCode, lang)) ?? view;
        return renderCase(c, now, { values, alert: t.newAnswer, status: 409 });
      }
      if (err instanceof AppError && err.code === 'illegal_transition') {
        // Already rated (another tab), the window closed, or no answer to rate any more: say which, and show the case as it is now.
        const now = (await publicCaseView(deps, view.trackingCode, lang)) ?? view;
        return renderCase(c, now, { alert: ratingRefusal(lang, err.refusal, pageContext(c).timeZone), status: 409 });
      }
      throw err;
    }
    deps.kickOutbox();
    return c.redirect(`/track/${view.trackingCode}?rated=1`, 303);
  });

  return app;
}
