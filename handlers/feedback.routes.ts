import { OpenAPIHono, z } from '@hono/zod-openapi';
import { CASE_STATUSES } from '../src/domain/case.js';
import { normalizeTrackingCode } from '../src/domain/tracking-code.js';
import { AppError } from '../src/errors.js';
import { logRated, RATINGS, rateCase, ratingSentAgain, type RateOutcome } from '../src/workflow/feedback.js';
import type { AppEnv } from './app-env.js';
import { errorResponses } from './error-schema.js';
import { instant, validationHook, apiRoute } from './validation.js';

export const MAX_COMMENT_CHARS = 500;

export const feedbackInputSchema = z
  .strictObject({
    rating: z.enum(RATINGS, { error: `must be one of ${RATINGS.join(', ')}` }).openapi({
      description: 'satisfied (满意), basic (基本满意) or dissatisfied (不满意: the case goes back to the lead bureau, 重办).',
    }),
    solved: z.boolean({ error: 'must be true or false' }).openapi({ description: 'Whether the problem itself was solved.' }),
    comment: z
      .string({ error: 'must be a string' })
      .trim()
      .refine((t) => [...t].length <= MAX_COMMENT_CHARS, `at most ${MAX_COMMENT_CHARS} characters`)
      .transform((v) => (v === '' ? undefined : v))
      .optional()
      .openapi({ description: 'Kept with the rating; never shown publicly.' }),
    answer: z.iso
      .datetime({ offset: true, error: 'must be the answer\'s time as GET /api/v1/track/{trackingCode} gives it (reply.at)' })
      // Kept as the view writes it, so that an answer's time written with an offset is the same answer.
      .transform((v) => new Date(v).toISOString())
      .optional()
      .openapi({
        description:
          'The answer rated: its `reply.at` as `GET /api/v1/track/{trackingCode}` gave it (the tracking page\'s rating form sends it too). ' +
          'When it is not the current answer — the bureau answered again since, after a dissatisfied rating — nothing is rated: `409 conflict` naming `answer` ' +
          '(unless this is the same rating sent again after that answer, answered 201 as below). Absent, the current answer is rated.',
        example: '2026-11-20T06:30:00.000Z',
      }),
  })
  .openapi('FeedbackInput');

export const feedbackResultSchema = z
  .object({
    trackingCode: z.string(),
    status: z.enum(CASE_STATUSES).openapi({ description: '`closed`, or `reopened` after a dissatisfied rating.' }),
    round: z.number().int().openapi({ description: 'The handling round now running: +1 after reopening.' }),
    rating: z.object({ rating: z.enum(RATINGS), solved: z.boolean(), at: instant }),
    deadlines: z
      .object({ signBy: instant, replyBy: instant })
      .nullable()
      .openapi({ description: "The lead bureau's new deadlines when the case was reopened." }),
  })
  .openapi('FeedbackResult');

const postFeedback = apiRoute({
  method: 'post',
  path: '/api/v1/track/{trackingCode}/feedback',
  operationId: 'rateCase',
  tags: ['intake'],
  summary: "Rate the bureau's reply (回访)",
  description:
    'Public: the tracking code is the credential. Only a `replied` case can be rated, once per reply, within the rating window ' +
    '(`deadlines.rateBy` of the public view). satisfied or basic closes the case; dissatisfied reopens it for the lead bureau with shorter deadlines. ' +
    'The same rating sent again (a retry after an answer lost on the way: the same rating, solved and comment, and no newer answer since) ' +
    'is answered 201 as the first send was, with `Idempotent-Replayed: true` and the case as it stands now, rating nothing twice. ' +
    'With `answer`, the rating is of that answer only: when the bureau has answered again since, it is refused (`409 conflict` naming `answer`) and nothing is rated. ' +
    'A rating sent to an unknown code counts as a lookup of one (`TRACK_LOOKUP_LIMIT`): past the limit, `429 rate_limited` with `Retry-After`.',
  request: {
    params: z.object({ trackingCode: z.string().min(1).max(40, 'at most 40 characters') }),
    body: { content: { 'application/json': { schema: feedbackInputSchema } }, required: true },
  },
  responses: {
    201: { description: 'Rated', content: { 'application/json': { schema: feedbackResultSchema } } },
    ...errorResponses(400, 404, 409, 429),
  },
});

export function feedbackRoutes() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  app.openapi(postFeedback, async (c) => {
    const deps = c.get('deps');
    const code = normalizeTrackingCode(c.req.valid('param').trackingCode);
    if (!code) throw new AppError('not_found', 'no case with this tracking code', { trackingCode: 'no case with this code' });
    const body = c.req.valid('json');
    const choices = { rating: body.rating, solved: body.solved, comment: body.comment ?? null, answer: body.answer };
    let outcome: RateOutcome;
    try {
      outcome = await rateCase(deps, { trackingCode: code, ...choices, channel: 'web' });
    } catch (err) {
      // A retry of a rating that was made (its answer lost on the way): what it did, not a refusal as rated already,
      // nor as rating an answer that is no longer the current one (the bureau answered again after the first send).
      const sentAgain = err instanceof AppError && (err.code === 'illegal_transition' || (err.code === 'conflict' && err.fields?.answer !== undefined));
      const replayed = sentAgain ? await ratingSentAgain(deps.db, code, choices) : null;
      if (!replayed) throw err;
      c.header('Idempotent-Replayed', 'true');
      return c.json(replayed, 201);
    }
    // The request line names only the tracking code: this line ties the request to its case.
    logRated(deps.logger, outcome, { reqId: c.get('requestId'), channel: 'web' });
    deps.kickOutbox();
    return c.json(
      {
        trackingCode: outcome.trackingCode,
        status: outcome.status,
        round: outcome.round,
        rating: { rating: outcome.rating.rating, solved: outcome.rating.solved, at: outcome.rating.at },
        deadlines: outcome.deadlines,
      },
      201,
    );
  });
  return app;
}
