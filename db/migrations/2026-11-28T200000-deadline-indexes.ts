import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

/**
 * The deadline sweep reads only open assignments whose sign-for or reply
 * deadline is near (queues/reconciler.ts), and replied cases whose rating
 * window ends soon: indexes on those deadlines keep a pass proportional to
 * what is near, not to the open backlog.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('assignments_status_sign_deadline').on('assignments').columns(['status', 'sign_deadline_at']).execute();
  await db.schema.createIndex('assignments_status_reply_deadline').on('assignments').columns(['status', 'reply_deadline_at']).execute();
  await db.schema.createIndex('cases_status_rate_deadline').on('cases').columns(['status', 'rate_deadline_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('cases_status_rate_deadline').execute();
  await db.schema.dropIndex('assignments_status_reply_deadline').execute();
  await db.schema.dropIndex('assignments_status_sign_deadline').execute();
}
