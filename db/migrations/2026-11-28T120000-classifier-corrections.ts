import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

/** Labelled examples people gave the machine: a dispatcher's re-route, an operator's correction. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('classifier_corrections')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('case_id', 'text', (c) => c.references('cases.id'))
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('predicted', 'text')
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('classifier_corrections_created').on('classifier_corrections').column('created_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('classifier_corrections').execute();
}
