import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { TransactionBatcher } from '../../db/tx-batcher.js';
import type { District } from '../../src/district/district.schema.js';
import type { Clock } from '../../src/clock.js';
import type { Logger } from '../../src/logger.js';
import type { Classifier } from '../../src/pipeline/classifier.js';
import type { WorkCalendar } from '../../src/pipeline/deadlines.js';
import type { TelegramPush } from '../../src/telegram/push.js';
import type { PhotoStore } from '../../src/storage/photo-store.js';

export interface ProcessorDeps {
  db: Kysely<Database>;
  /** Shares one commit among concurrent jobs. */
  transactions: TransactionBatcher;
  district: District;
  classifier: Classifier;
  calendar: WorkCalendar;
  clock: Clock;
  logger: Logger;
  /** Signs bureau webhooks unless the bureau has its own secret. */
  webhookSecret: string | undefined;
  fetch: typeof fetch;
  /** Asks the outbox relay to move newly written entries now. */
  kickOutbox: () => void;
  publicUrl: string;
  /** Sends to Telegram chats; null when the bot is not configured. */
  telegram: TelegramPush | null;
  /** Where report photos live (Telegram group posts send them; the telegram_photos job stores them). */
  photos?: PhotoStore;
}
