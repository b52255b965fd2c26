import type { Kysely } from 'kysely';
import { CLOSED } from '../../db/repositories/case-queries.repository.js';
import { keepCodeNames } from '../../db/repositories/code-names.repository.js';
import type { Database } from '../../db/schema.js';
import type { Logger } from '../logger.js';
import type { District } from './district.schema.js';

export interface GoneCodes {
  /** Type code → open cases of that type. */
  types: Record<string, number>;
  /** Unit code → open cases the unit holds an open assignment of. */
  units: Record<string, number>;
  /** Jurisdiction code → open cases placed there. */
  jurisdictions: Record<string, number>;
}

/**
 * The codes that open cases carry and the district file no longer has (a type,
 * bureau or office dropped, or its code changed, since the cases got them):
 * said once at start, so whoever edited the file knows what to route or
 * release. Empty records when there are none.
 */
export async function goneCodes(db: Kysely<Database>, district: District): Promise<GoneCodes> {
  const gone: GoneCodes = { types: {}, units: {}, jurisdictions: {} };
  const add = (into: Record<string, number>, code: string | null, known: (code: string) => boolean, n: number) => {
    if (code !== null && !known(code)) into[code] = (into[code] ?? 0) + n;
  };
  const cases = await db
    .selectFrom('cases')
    .select((eb) => ['type_code', 'jurisdiction_code', eb.fn.countAll<number>().as('n')])
    .where('status', 'not in', CLOSED)
    .groupBy(['type_code', 'jurisdiction_code'])
    .execute();
  for (const r of cases) {
    add(gone.types, r.type_code, (code) => district.types.has(code), Number(r.n));
    add(gone.jurisdictions, r.jurisdiction_code, (code) => district.units.get(code)?.kind === 'jurisdiction', Number(r.n));
  }
  const units = await db
    .selectFrom('assignments as a')
    .innerJoin('cases as c', 'c.id', 'a.case_id')
    .select((eb) => ['a.unit_code', eb.fn.count<number>('a.case_id').distinct().as('n')])
    .where('c.status', 'not in', CLOSED)
    .where('a.status', 'in', ['pending', 'accepted', 'returned'])
    .groupBy('a.unit_code')
    .execute();
  for (const r of units) add(gone.units, r.unit_code, (code) => district.units.has(code), Number(r.n));
  return gone;
}

/**
 * The file's names kept in the database, and the names of the codes it dropped
 * given to `district` (keepCodeNames), on Node and on Workers alike. Names
 * only: when that fails the service runs on, showing those codes.
 */
export async function keepNamesOrWarn(db: Kysely<Database>, district: District, at: string, logger: Pick<Logger, 'warn'>): Promise<void> {
  await keepCodeNames(db, district, at).catch((err: Error) =>
    logger.warn({ err: err.message }, 'names of the district file not kept: cases of a type or unit it dropped show its code'),
  );
}
