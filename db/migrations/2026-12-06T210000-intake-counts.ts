import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

/**
 * The reports each sender made in its current window (INTAKE_RATE_LIMIT),
 * where the service keeps that count in its database: on Workers, whose
 * isolates share no memory and have no Redis. A sender is a digest, never
 * the address or chat itself; a row whose window ended counts for nothing
 * and is deleted by the cron sweep.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('intake_counts')
    .addColumn('sender', 'text', (c) => c.primaryKey())
    .addColumn('reports', 'integer', (c) => c.notNull())
    .addColumn('window_ends_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('intake_counts_window_ends').on('intake_counts').column('window_ends_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('intake_counts').execute();
}
