import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

/**
 * The bureau phase and the reporter's rating: sign-for, reply, returns,
 * extensions, overdue marks and supervision per assignment; ratings and
 * rounds (重办) per case; notifications to reporters and dispatchers.
 */
export async function up(db: Kysely<any>): Promise<void> {
  for (const [column, type] of [
    ['accepted_at', 'text'],
    ['accepted_by', 'text'],
    ['replied_at', 'text'],
    ['replied_by', 'text'],
    ['reply_text', 'text'],
    ['returned_at', 'text'],
    ['return_reason', 'text'],
    ['released_at', 'text'],
    ['sign_overdue_at', 'text'],
    ['reply_overdue_at', 'text'],
    ['supervised_at', 'text'],
    ['round', 'integer'],
  ] as const) {
    await db.schema.alterTable('assignments').addColumn(column, type).execute();
  }

  for (const [column, type] of [
    ['replied_at', 'text'],
    ['rate_deadline_at', 'text'],
    ['closed_at', 'text'],
    ['close_reason', 'text'],
    ['merged_into', 'text'],
    ['round', 'integer'],
    ['overdue', 'integer'],
    ['supervised_at', 'text'],
    ['extended', 'integer'],
  ] as const) {
    await db.schema.alterTable('cases').addColumn(column, type).execute();
  }
  await db.schema.createIndex('cases_merged_into').on('cases').column('merged_into').execute();

  await db.schema
    .createTable('extension_requests')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('case_id', 'text', (c) => c.notNull().references('cases.id'))
    .addColumn('unit_code', 'text', (c) => c.notNull())
    .addColumn('working_days', 'integer', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('requested_by', 'text')
    .addColumn('decided_by', 'text')
    .addColumn('decision_note', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('decided_at', 'text')
    .execute();
  await db.schema.createIndex('extension_requests_case').on('extension_requests').columns(['case_id', 'status']).execute();

  await db.schema
    .createTable('ratings')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('case_id', 'text', (c) => c.notNull().references('cases.id'))
    .addColumn('round', 'integer', (c) => c.notNull())
    .addColumn('rating', 'text', (c) => c.notNull())
    .addColumn('solved', 'integer', (c) => c.notNull())
    .addColumn('comment', 'text')
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('ratings_case_round', ['case_id', 'round'])
    .execute();

  await db.schema
    .createTable('notifications')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('case_id', 'text', (c) => c.notNull().references('cases.id'))
    .addColumn('audience', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('data', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('sent_at', 'text')
    .execute();
  await db.schema.createIndex('notifications_case').on('notifications').column('case_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('notifications').execute();
  await db.schema.dropTable('ratings').execute();
  await db.schema.dropTable('extension_requests').execute();
}
