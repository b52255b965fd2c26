import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { CaseStatus } from './domain/case.js';

/**
 * The closed set of error codes the API answers with, and their HTTP status.
 * Every error body is `{ error: { code, message, requestId, fields? } }`.
 */
export const ERROR_STATUS = {
  validation_failed: 400,
  malformed_body: 400,
  malformed_request: 400,
  unauthorized: 401,
  token_expired: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  conflict: 409,
  idempotency_key_reused: 409,
  illegal_transition: 409,
  precondition_failed: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  headers_too_large: 431,
  internal: 500,
  not_ready: 503,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** What a unit's assignment, or an extension request, is at (as the assignments and extension_requests tables say). */
type AssignmentState = 'pending' | 'accepted' | 'replied' | 'returned' | 'released';
type ExtensionState = 'pending' | 'approved' | 'refused' | 'lapsed';

/**
 * Why the workflow refused an action (an `illegal_transition` or `conflict`),
 * with what the reason names. The API answers with the English message (a
 * client preferring Chinese gets the reason said from this); a page says the
 * reason in its own language from this, so rewording the message never
 * changes what a page shows. Unit codes and statuses only:
 * nothing here names a person.
 */
export type Refusal =
  // A unit acting on its own assignment (the bureau inbox, the API, the group post).
  | { reason: 'no_live_assignment' }
  | { reason: 'case_not_under_handling'; status: CaseStatus }
  | { reason: 'assignment_already'; status: AssignmentState }
  | { reason: 'return_after_signing'; status: AssignmentState }
  | { reason: 'sign_first' }
  | { reason: 'progress_not_under_way'; status: AssignmentState }
  | { reason: 'no_deadline_to_extend'; status: AssignmentState }
  | { reason: 'extension_waiting' }
  // Any action on a case.
  | { reason: 'transition'; from: CaseStatus; to: CaseStatus }
  | { reason: 'changed_meanwhile' }
  // The dispatcher's desk.
  | { reason: 'page_outdated' }
  | { reason: 'not_routable'; status: CaseStatus }
  | { reason: 'place_not_under_handling'; status: CaseStatus }
  | { reason: 'merge_target_closed'; status: CaseStatus }
  | { reason: 'not_merged'; status: CaseStatus }
  | { reason: 'not_transferable'; status: CaseStatus }
  | { reason: 'not_transferred'; status: CaseStatus }
  | { reason: 'release_case_done'; status: CaseStatus }
  | { reason: 'release_nothing_open'; unit: string }
  | { reason: 'release_lead' }
  | { reason: 'extension_decided'; status: ExtensionState }
  | { reason: 'extension_case_not_under_handling'; status: CaseStatus }
  | { reason: 'extension_unit_gone'; unit: string }
  | { reason: 'extension_decided_meanwhile' }
  | { reason: 'supervise_not_under_handling'; status: CaseStatus }
  // The reporter's rating.
  | { reason: 'already_rated' }
  | { reason: 'rate_not_replied'; status: CaseStatus }
  | { reason: 'rating_closed'; rateBy: string }
  | { reason: 'no_lead_to_reopen' };

export type RefusalReason = Refusal['reason'];

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly fields?: Record<string, string>,
    /** Why the workflow refused (internal: the error body does not carry it). */
    readonly refusal?: Refusal,
    /** The message in Chinese, where it says more than the words for its code (an expired token's expiry). */
    readonly zh?: string,
  ) {
    super(message);
    this.name = 'AppError';
  }

  get status(): ContentfulStatusCode {
    return ERROR_STATUS[this.code];
  }
}

/**
 * A refusal of the workflow: the API's English message, and the reason a page translates; `fields` names the field
 * of the request it is about, where one is (the case to merge into, the unit to release).
 */
export function refused(code: 'illegal_transition' | 'conflict', message: string, refusal: Refusal, fields?: Record<string, string>): AppError {
  return new AppError(code, message, fields, refusal);
}

/** A validation issue as zod reports it (only what `fieldsOf` reads). */
export interface FieldIssue {
  code?: string;
  path: ReadonlyArray<PropertyKey>;
  message: string;
  keys?: readonly string[];
}

/**
 * Turns validation issues into `{ <field path>: <reason> }`, the first reason
 * per field winning. Fields a strict schema does not know are named one by
 * one (`unknown`: `unknown field`, or what the caller calls them), so a
 * misspelt field is never silently dropped.
 */
export function fieldsOf(error: { issues: readonly FieldIssue[] }, unknown = 'unknown field'): Record<string, string> {
  // A Map, not an object: a field named `constructor` or `__proto__` is named like any other.
  const fields = new Map<string, string>();
  const add = (key: string, reason: string) => {
    if (!fields.has(key)) fields.set(key, reason);
  };
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys' && issue.keys) {
      for (const k of issue.keys) add([...issue.path.map(String), shortKey(k)].join('.'), unknown);
      continue;
    }
    add(issue.path.length > 0 ? issue.path.map(String).join('.') : 'body', issue.message);
  }
  return Object.fromEntries(fields);
}

/**
 * The name of an unknown field as it is said back: a body sent as the wrong type arrives as one field named by all of
 * it, so only its start is, and without a number as long as a phone's.
 */
const MAX_KEY_CHARS = 32;
function shortKey(key: string): string {
  const chars = [...key];
  const start = chars.length > MAX_KEY_CHARS ? `${chars.slice(0, MAX_KEY_CHARS).join('')}…` : key;
  return start.replace(/\d{5,}/g, (digits) => '*'.repeat(digits.length));
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; requestId: string; fields?: Record<string, string> };
}

export function errorBody(err: AppError, requestId: string): ErrorBody {
  return {
    error: {
      code: err.code,
      message: err.message,
      requestId,
      ...(err.fields ? { fields: err.fields } : {}),
    },
  };
}
