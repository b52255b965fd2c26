import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

/**
 * Table types. Timestamps are ISO-8601 UTC strings with milliseconds
 * (sortable as text on every engine); booleans are 0/1 integers; JSON is text.
 */

export interface CasesTable {
  id: string;
  tracking_code: string;
  channel: string;
  text: string;
  address: string | null;
  lat: number | null;
  lng: number | null;
  occurred_at: string | null;
  status: string;
  type_code: string | null;
  confidence: number | null;
  /** JSON: the classifier's full answer (runner-up, evidence, engine). */
  classification: string | null;
  urgent: number;
  /** JSON array of the phrases or rules that made the case urgent. */
  urgency_reasons: string | null;
  anonymous: number;
  jurisdiction_code: string | null;
  place_source: string | null;
  /** JSON array, e.g. ["place_unknown"]. */
  flags: string;
  triage_reason: string | null;
  received_at: string;
  dispatched_at: string | null;
  sign_deadline_at: string | null;
  reply_deadline_at: string | null;
  updated_at: string;
  version: number;
  replied_at: string | null;
  rate_deadline_at: string | null;
  closed_at: string | null;
  /** rated | not_rated | merged | transferred | dismissed */
  close_reason: string | null;
  merged_into: string | null;
  /** 1 on the first handling, +1 on each reopening (重办). */
  round: number | null;
  overdue: number | null;
  supervised_at: string | null;
  extended: number | null;
}

/** Reporter identity, kept apart from everything public or bureau-facing. */
export interface CaseContactsTable {
  case_id: string;
  name: string | null;
  phone: string | null;
  /** The reporter agreed that the handling bureau may see the contact. */
  share_with_bureau: number;
}

export interface CaseAttachmentsTable {
  id: string;
  case_id: string;
  kind: string;
  storage_key: string;
  mime: string;
  size: number;
  sha256: string;
  created_at: string;
  /** A bureau's reply attachment: the file's name as the clerk chose it (trimmed); null for reporters' photos. */
  original_name: string | null;
}

export interface AssignmentsTable {
  id: string;
  case_id: string;
  unit_code: string;
  role: string;
  status: string;
  sign_deadline_at: string | null;
  reply_deadline_at: string | null;
  created_at: string;
  updated_at: string;
  accepted_at: string | null;
  accepted_by: string | null;
  replied_at: string | null;
  replied_by: string | null;
  reply_text: string | null;
  returned_at: string | null;
  return_reason: string | null;
  released_at: string | null;
  sign_overdue_at: string | null;
  reply_overdue_at: string | null;
  supervised_at: string | null;
  round: number | null;
}

export interface ExtensionRequestsTable {
  id: string;
  case_id: string;
  unit_code: string;
  working_days: number;
  reason: string;
  /** pending | approved | refused */
  status: string;
  requested_by: string | null;
  decided_by: string | null;
  decision_note: string | null;
  created_at: string;
  decided_at: string | null;
}

export interface RatingsTable {
  id: string;
  case_id: string;
  round: number;
  /** satisfied | basic | dissatisfied */
  rating: string;
  solved: number;
  comment: string | null;
  channel: string;
  created_at: string;
  /** Telegram: when the chat that rated was told what its rating did, in the answer to its press (null: not yet). */
  chat_told_at: string | null;
}

/** Messages owed to a reporter's channel or to the dispatchers, queued through `notify`. */
export interface NotificationsTable {
  id: string;
  case_id: string;
  /** reporter | dispatchers | unit:<code> | chat:<Telegram chat id> (the chat of a duplicate merged into the case) */
  audience: string;
  kind: string;
  /** pending | sent | skipped | failed */
  status: string;
  data: string | null;
  created_at: string;
  sent_at: string | null;
  /** For a unit's notice: JSON { <channel>: 'delivered' | 'failed' | 'waiting' } of the channels already settled. */
  channels: string | null;
  /** Runs begun, counted before each sends anything: the attempts survive a job lost or re-created. */
  attempts: Generated<number>;
}

export interface CaseEventsTable {
  id: Generated<number>;
  case_id: string;
  at: string;
  actor_type: string;
  actor_id: string | null;
  actor_role: string | null;
  kind: string;
  from_status: string | null;
  to_status: string | null;
  /** Shown on the public timeline when `public` is 1. */
  note: string | null;
  data: string | null;
  public: number;
}

export interface OutboxTable {
  id: Generated<number>;
  queue: string;
  job_name: string;
  job_id: string;
  payload: string;
  available_at: string;
  created_at: string;
}

export interface IdempotencyKeysTable {
  key: string;
  request_hash: string;
  case_id: string;
  created_at: string;
}

export interface DeliveriesTable {
  id: string;
  case_id: string;
  unit_code: string;
  channel: string;
  status: string;
  /** Attempts begun, counted before each request goes out. */
  attempts: number;
  last_error: string | null;
  last_attempt_at: string | null;
  /** When the attempt under way began; null once its outcome is recorded. */
  attempt_started_at: string | null;
  delivered_at: string | null;
  created_at: string;
}

export interface ClassifierCorrectionsTable {
  id: string;
  case_id: string | null;
  text: string;
  label: string;
  predicted: string | null;
  /** Who taught it: 'dispatcher' (re-route, transfer and its undoing), 'operator' (hotline review), or 'transfer_returned' (12345 returned a case handed to it: the type it had before). */
  source: string;
  actor_id: string | null;
  created_at: string;
}

export interface Database {
  extension_requests: ExtensionRequestsTable;
  ratings: RatingsTable;
  notifications: NotificationsTable;
  classifier_corrections: ClassifierCorrectionsTable;
  cases: CasesTable;
  case_contacts: CaseContactsTable;
  case_attachments: CaseAttachmentsTable;
  assignments: AssignmentsTable;
  case_events: CaseEventsTable;
  outbox: OutboxTable;
  idempotency_keys: IdempotencyKeysTable;
  deliveries: DeliveriesTable;
  users: UsersTable;
  api_tokens: ApiTokensTable;
}

export type CaseRow = Selectable<CasesTable>;
export type NewCase = Insertable<CasesTable>;
export type CaseUpdate = Updateable<CasesTable>;
export type AssignmentRow = Selectable<AssignmentsTable>;
export type CaseEventRow = Selectable<CaseEventsTable>;
export type NewCaseEvent = Insertable<CaseEventsTable>;
export type DeliveryRow = Selectable<DeliveriesTable>;
export type AttachmentRow = Selectable<CaseAttachmentsTable>;

/** A staff account: hotline operator, bureau or jurisdiction staff, dispatcher or admin. */
export interface UsersTable {
  id: string;
  name: string;
  role: string;
  /** The bureau or jurisdiction a `bureau` account works for; null for the other roles. */
  unit_code: string | null;
  /** For the web login of a later release; API access uses tokens. */
  password_hash: string | null;
  active: number;
  created_at: string;
  updated_at: string;
}

/** A bearer token of an account; only its SHA-256 hash is kept. */
export interface ApiTokensTable {
  id: string;
  user_id: string;
  token_hash: string;
  label: string | null;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
  /** When the token stops working (ISO 8601); null: it works until revoked. */
  expires_at: string | null;
}

export type UserRow = Selectable<UsersTable>;
export type ApiTokenRow = Selectable<ApiTokensTable>;

/** A 12345 / 12369 hotline call as received; the caller's number is protected like case_contacts. */
export interface HotlineCallsTable {
  id: string;
  /** '12345' | '12369' */
  hotline: string;
  /** The hotline system's id of the call; unique per hotline. */
  call_id: string;
  started_at: string;
  caller_number: string | null;
  operator: string | null;
  /** The full speaker-labelled transcript: staff (operator, dispatcher, admin) only. */
  transcript: string;
  /** SHA-256 of the transcript with line endings normalised: tells a resend from a different call. */
  transcript_hash: string;
  summary: string | null;
  external_ref: string | null;
  anonymous: number;
  created_at: string;
  created_by: string | null;
}

/** The cases a call became: one, or one per part when the operator split the call. */
export interface HotlineCallCasesTable {
  hotline_call_id: string;
  case_id: string;
  /** 1, 2, … in the order the operator gave the parts. */
  part: number;
}

// Declaration merging adds the hotline tables to Database without editing the list above.
export interface Database {
  hotline_calls: HotlineCallsTable;
  hotline_call_cases: HotlineCallCasesTable;
}

export type HotlineCallRow = Selectable<HotlineCallsTable>;
export type NewHotlineCall = Insertable<HotlineCallsTable>;

/** A resident's report in progress in a private Telegram chat. */
export interface TelegramSessionsTable {
  chat_id: string;
  /** JSON: the conversation state (src/telegram/conversation.ts). */
  state: string;
  updated_at: string;
}

/** Telegram updates already handled: a redelivered update is dropped. */
export interface TelegramUpdatesTable {
  /** bigint on PostgreSQL (read back as a string there). */
  update_id: number | string;
  received_at: string;
}

/** The private chat a Telegram case was reported from. */
export interface TelegramReportersTable {
  case_id: string;
  chat_id: string;
  /** 'zh' | 'en': the language the bot speaks to this reporter. */
  language: string;
  created_at: string;
  /**
   * The chat's last message before the report was submitted: a message with
   * an id up to this one was sent before. Null for reports submitted before it
   * was kept. bigint on PostgreSQL (read back as a string there).
   */
  last_message_id: number | string | null;
  /**
   * The chat's first message that went into the report: with last_message_id,
   * the range of messages it was made of. Null for reports submitted before
   * it was kept. bigint on PostgreSQL (read back as a string there).
   */
  first_message_id: number | string | null;
  /** When the bot gave the resident the tracking code; the case's notices to the chat wait for it. */
  code_sent_at: string | null;
}

// Declaration merging adds the Telegram tables to Database.
export interface Database {
  telegram_sessions: TelegramSessionsTable;
  telegram_updates: TelegramUpdatesTable;
  telegram_reporters: TelegramReportersTable;
}

/** An assignment posted to its bureau's Telegram group, with the buttons to sign for or return it. */
export interface TelegramBureauPostsTable {
  id: string;
  case_id: string;
  unit_code: string;
  /** The case's handling round the assignment belongs to (a reopened case is posted again). */
  round: number;
  chat_id: string;
  /** The message with the buttons; null until Telegram took it. bigint on PostgreSQL. */
  message_id: number | string | null;
  /** JSON array: the photo messages sent before it (so a retried job does not send them twice). */
  photo_message_ids: string | null;
  /** The posted text, kept to edit the message without the buttons. */
  text: string | null;
  /** posting | posted | accepted | returned */
  status: string;
  /** The staff account that signed for or returned it through the group. */
  acted_by: string | null;
  acted_at: string | null;
  created_at: string;
  updated_at: string;
  /**
   * When the unit was given the case again within the round (the workflow's `again` post), until that post is made:
   * the row still holds the earlier post's message meanwhile. Notices to the unit made since wait for the new post.
   */
  renewed_at: string | null;
}

/** A staff account's Telegram user, linked with a one-time token. */
export interface TelegramLinksTable {
  telegram_user_id: string;
  user_id: string;
  linked_at: string;
}

/** One-time tokens for /link; only the SHA-256 is kept. */
export interface TelegramLinkTokensTable {
  id: string;
  user_id: string;
  token_hash: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
  /** The Telegram user id that used it. */
  used_by: string | null;
}

/** Photos of a Telegram report, downloaded by the telegram_photos job after the case is created. */
export interface TelegramPhotoFetchesTable {
  case_id: string;
  /** JSON array of Telegram file ids. */
  file_ids: string;
  /** pending | done | failed (the job gave up before attaching any: none kept) */
  status: string;
  created_at: string;
  done_at: string | null;
}

/** A lease on one chat: its updates are handled one at a time across processes. */
export interface TelegramChatLocksTable {
  chat_id: string;
  holder: string;
  expires_at: string;
}

// Declaration merging adds the bureau-group tables to Database.
export interface Database {
  telegram_bureau_posts: TelegramBureauPostsTable;
  telegram_links: TelegramLinksTable;
  telegram_link_tokens: TelegramLinkTokensTable;
  telegram_photo_fetches: TelegramPhotoFetchesTable;
  telegram_chat_locks: TelegramChatLocksTable;
}

/** A message of a private chat whose edit the bot answered: a later edit of it is not answered again. */
export interface TelegramEditNoticesTable {
  chat_id: string;
  /** bigint on PostgreSQL (read back as a string there). */
  message_id: number | string;
  noticed_at: string;
}

/** A group Telegram upgraded to a supergroup: its posts and notices go to the new chat id. */
export interface TelegramChatMigrationsTable {
  from_chat_id: string;
  to_chat_id: string;
  migrated_at: string;
}

// Declaration merging adds the chat migrations to Database.
export interface Database {
  telegram_chat_migrations: TelegramChatMigrationsTable;
}

// Declaration merging adds the edit notices to Database.
export interface Database {
  telegram_edit_notices: TelegramEditNoticesTable;
}

/** A staff account's web sign-in name (declaration merging adds the column to UsersTable above). */
export interface UsersTable {
  /** Lower-case sign-in name; null for accounts that use API tokens only. */
  username: string | null;
}

/** A signed-in browser: only the SHA-256 of the session id in its cookie is kept. */
export interface WebSessionsTable {
  id: string;
  token_hash: string;
  user_id: string;
  created_at: string;
  /** Written at most once a minute; the idle timeout counts from here. */
  last_seen_at: string;
  /** The absolute end of the session, whatever the activity. */
  expires_at: string;
  /** Signed out (or signed in again in the same browser). */
  revoked_at: string | null;
}

/** One sign-in attempt, counted by the lock-out per username and per address. */
export interface SignInAttemptsTable {
  id: string;
  username: string;
  ip: string;
  ok: number;
  at: string;
}

// Declaration merging adds the web sign-in tables to Database.
export interface Database {
  web_sessions: WebSessionsTable;
  sign_in_attempts: SignInAttemptsTable;
}

/** A type's or unit's name by code, as the district file last had it (see the code-names migration). */
export interface CodeNamesTable {
  kind: 'type' | 'unit';
  code: string;
  name_zh: string;
  name_en: string;
  /** When the file first had this name. */
  updated_at: string;
}

// Declaration merging adds the kept names to Database.
export interface Database {
  code_names: CodeNamesTable;
}

/** The reports of one sender in its current window, where INTAKE_RATE_LIMIT is counted in the database (Workers). */
export interface IntakeCountsTable {
  /** A digest of the sender (an address or a chat), never the sender itself. */
  sender: string;
  reports: number;
  window_ends_at: string;
}

// Declaration merging adds the intake counts to Database.
export interface Database {
  intake_counts: IntakeCountsTable;
}

/** A unit's action on a case sent with an Idempotency-Key, and the answer it gave (see the unit-action-keys migration). */
export interface UnitActionKeysTable {
  unit_code: string;
  case_id: string;
  /** accept, return, progress, reply or extend. */
  action: string;
  /** The key as the unit's client sent it. */
  key: string;
  /** A digest of what the request said: the same key with other content is refused. */
  request_hash: string;
  answer_status: number;
  answer_etag: string | null;
  /** The answer's JSON as it was sent. */
  answer_body: string;
  /** full, or withdrawn: the answer showed the unit only its own part, as after its return (unit-action-key-access). */
  answer_access: 'full' | 'withdrawn';
  created_at: string;
}

// Declaration merging adds the units' action keys to Database.
export interface Database {
  unit_action_keys: UnitActionKeysTable;
}
