import type { Kysely } from 'kysely';
import type { District } from '../../src/district/district.schema.js';
import type { Database } from '../schema.js';
import { insertChunksOf } from './db-types.js';

/**
 * Keeps the names the district file gives its types and units, by code, and
 * fills `district.former` with the kept names of those the file no longer has
 * (dropped, or their code changed): the cases made before keep showing them.
 * Only new or renamed entries are written, so an unchanged file writes nothing.
 */
export async function keepCodeNames(db: Kysely<Database>, district: District, at: string): Promise<void> {
  const kept = await db.selectFrom('code_names').selectAll().execute();
  const stored = new Map(kept.map((r) => [`${r.kind}:${r.code}`, r]));
  const current = [
    ...[...district.types.values()].map((t) => ({ kind: 'type' as const, code: t.code, name: t.name })),
    ...[...district.units.values()].map((u) => ({ kind: 'unit' as const, code: u.code, name: u.name })),
  ];
  const changed = current.filter((e) => {
    const r = stored.get(`${e.kind}:${e.code}`);
    return !r || r.name_zh !== e.name.zh || r.name_en !== e.name.en;
  });
  const rows = changed.map((e) => ({ kind: e.kind, code: e.code, name_zh: e.name.zh, name_en: e.name.en, updated_at: at }));
  for (const chunk of insertChunksOf(db, rows)) {
    await db
      .insertInto('code_names')
      .values(chunk)
      // Two processes starting together both write; the last one's row is the same.
      .onConflict((oc) =>
        oc.columns(['kind', 'code']).doUpdateSet((eb) => ({
          name_zh: eb.ref('excluded.name_zh'),
          name_en: eb.ref('excluded.name_en'),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .execute();
  }
  for (const r of kept) {
    if (r.kind === 'type' && !district.types.has(r.code)) district.former.types.set(r.code, { zh: r.name_zh, en: r.name_en });
    if (r.kind === 'unit' && !district.units.has(r.code)) district.former.units.set(r.code, { zh: r.name_zh, en: r.name_en });
  }
}
