import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

/**
 * The names of the district file's violation types and units (bureaus and
 * offices) by code, as the service last read them from the file. Cases keep
 * codes; when an edited file drops a type or unit, or changes its code, the
 * cases made before still show the name it had.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('code_names')
    .addColumn('kind', 'text', (c) => c.notNull()) // 'type' | 'unit'
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('name_zh', 'text', (c) => c.notNull())
    .addColumn('name_en', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull()) // when the file first had this name
    .addPrimaryKeyConstraint('code_names_pk', ['kind', 'code'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('code_names').execute();
}
