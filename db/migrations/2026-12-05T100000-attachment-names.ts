import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

/**
 * The name a bureau's reply attachment had when the clerk chose it
 * (整改通知书.pdf), trimmed, so staff pages link it by that name instead of
 * "attachment 2". Null for the reporter's photos, whose names are never
 * kept, and for the attachments stored before this column.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('case_attachments').addColumn('original_name', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('case_attachments').dropColumn('original_name').execute();
}
