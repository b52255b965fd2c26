import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

/**
 * The Idempotency-Keys of the units' actions on cases (sign for, return,
 * progress, reply, extension request), each kept with the answer the action
 * gave: a retry with the same key, by the same unit, on the same case and
 * action, is answered alike and does nothing again. Apart from the reports'
 * keys, which anyone may send: a key is the unit's own.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('unit_action_keys')
    .addColumn('unit_code', 'text', (c) => c.notNull())
    .addColumn('case_id', 'text', (c) => c.notNull().references('cases.id'))
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('answer_status', 'integer', (c) => c.notNull())
    .addColumn('answer_etag', 'text')
    .addColumn('answer_body', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('unit_action_keys_pk', ['unit_code', 'case_id', 'action', 'key'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('unit_action_keys').execute();
}
