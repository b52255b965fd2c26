import type { Migration, MigrationProvider } from 'kysely';
import * as initial from './2026-11-28T000000-initial.js';
import * as classifierCorrections from './2026-11-28T120000-classifier-corrections.js';
import * as staffAccounts from './2026-11-28T130000-staff-accounts.js';
import * as caseWorkflow from './2026-11-28T140000-case-workflow.js';
import * as hotlineCalls from './2026-11-28T160000-hotline-calls.js';
import * as telegram from './2026-11-28T170000-telegram.js';
import * as telegramBureau from './2026-11-28T180000-telegram-bureau.js';
import * as webSessions from './2026-11-28T190000-web-sessions.js';
import * as deadlineIndexes from './2026-11-28T200000-deadline-indexes.js';
import * as unitNotices from './2026-12-04T100000-unit-notices.js';
import * as attachmentNames from './2026-12-05T100000-attachment-names.js';
import * as caseReferenceIndex from './2026-12-05T140000-case-reference-index.js';
import * as telegramEditNotices from './2026-12-05T150000-telegram-edit-notices.js';
import * as telegramReporterMessages from './2026-12-05T160000-telegram-reporter-messages.js';
import * as telegramReporterTold from './2026-12-05T170000-telegram-reporter-told.js';
import * as telegramReporterFirstMessage from './2026-12-05T180000-telegram-reporter-first-message.js';
import * as ratingChatTold from './2026-12-05T190000-rating-chat-told.js';
import * as codeNames from './2026-12-06T200000-code-names.js';
import * as intakeCounts from './2026-12-06T210000-intake-counts.js';
import * as telegramChatMigrations from './2026-12-07T100000-telegram-chat-migrations.js';
import * as deliveryAttemptStarted from './2026-12-07T120000-delivery-attempt-started.js';
import * as apiTokenExpiry from './2026-12-07T130000-api-token-expiry.js';
import * as lapseReleasedExtensions from './2026-12-07T140000-lapse-released-extensions.js';
import * as notificationAttempts from './2026-12-07T152000-notification-attempts.js';
import * as unitActionKeys from './2026-12-08T110000-unit-action-keys.js';
import * as unitActionKeyAccess from './2026-12-08T111000-unit-action-key-access.js';
import * as idempotencyKeyAge from './2026-12-09T140000-idempotency-key-age.js';
import * as unitActionKeyAge from './2026-12-09T150000-unit-action-key-age.js';
import * as telegramStateAge from './2026-12-09T151000-telegram-state-age.js';
import * as signInAge from './2026-12-09T152000-sign-in-age.js';
import * as telegramPostRenewed from './2026-12-10T130000-telegram-post-renewed.js';

/**
 * Every migration, by its frozen timestamped name. Listed statically (not
 * read from the file system) so the same set runs on Node and on Workers.
 */
export const migrations: Record<string, Migration> = {
  '2026-11-28T000000-initial': initial,
  '2026-11-28T120000-classifier-corrections': classifierCorrections,
  '2026-11-28T130000-staff-accounts': staffAccounts,
  '2026-11-28T140000-case-workflow': caseWorkflow,
  '2026-11-28T160000-hotline-calls': hotlineCalls,
  '2026-11-28T170000-telegram': telegram,
  '2026-11-28T180000-telegram-bureau': telegramBureau,
  '2026-11-28T190000-web-sessions': webSessions,
  '2026-11-28T200000-deadline-indexes': deadlineIndexes,
  '2026-12-04T100000-unit-notices': unitNotices,
  '2026-12-05T100000-attachment-names': attachmentNames,
  '2026-12-05T140000-case-reference-index': caseReferenceIndex,
  '2026-12-05T150000-telegram-edit-notices': telegramEditNotices,
  '2026-12-05T160000-telegram-reporter-messages': telegramReporterMessages,
  '2026-12-05T170000-telegram-reporter-told': telegramReporterTold,
  '2026-12-05T180000-telegram-reporter-first-message': telegramReporterFirstMessage,
  '2026-12-05T190000-rating-chat-told': ratingChatTold,
  '2026-12-06T200000-code-names': codeNames,
  '2026-12-06T210000-intake-counts': intakeCounts,
  '2026-12-07T100000-telegram-chat-migrations': telegramChatMigrations,
  '2026-12-07T120000-delivery-attempt-started': deliveryAttemptStarted,
  '2026-12-07T130000-api-token-expiry': apiTokenExpiry,
  '2026-12-07T140000-lapse-released-extensions': lapseReleasedExtensions,
  '2026-12-07T152000-notification-attempts': notificationAttempts,
  '2026-12-08T110000-unit-action-keys': unitActionKeys,
  '2026-12-08T111000-unit-action-key-access': unitActionKeyAccess,
  '2026-12-09T140000-idempotency-key-age': idempotencyKeyAge,
  '2026-12-09T150000-unit-action-key-age': unitActionKeyAge,
  '2026-12-09T151000-telegram-state-age': telegramStateAge,
  '2026-12-09T152000-sign-in-age': signInAge,
  '2026-12-10T130000-telegram-post-renewed': telegramPostRenewed,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
