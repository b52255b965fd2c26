import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

/**
 * Hotline calls (12345 / 12369): the call as it was received (metadata, the
 * full transcript, the caller's number — protected like case_contacts) and
 * the cases it became. One call is one case, or several when the operator
 * split a call that raised separate problems.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('hotline_calls')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('hotline', 'text', (c) => c.notNull())
    .addColumn('call_id', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('caller_number', 'text')
    .addColumn('operator', 'text')
    .addColumn('transcript', 'text', (c) => c.notNull())
    .addColumn('transcript_hash', 'text', (c) => c.notNull())
    .addColumn('summary', 'text')
    .addColumn('external_ref', 'text')
    .addColumn('anonymous', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text')
    .addUniqueConstraint('hotline_calls_hotline_call', ['hotline', 'call_id'])
    .execute();
  await db.schema.createIndex('hotline_calls_started').on('hotline_calls').column('started_at').execute();

  await db.schema
    .createTable('hotline_call_cases')
    .addColumn('hotline_call_id', 'text', (c) => c.notNull().references('hotline_calls.id'))
    .addColumn('case_id', 'text', (c) => c.notNull().unique().references('cases.id'))
    .addColumn('part', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('hotline_call_cases_pk', ['hotline_call_id', 'part'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('hotline_call_cases').execute();
  await db.schema.dropTable('hotline_calls').execute();
}
