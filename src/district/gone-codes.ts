import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { District } from './district.schema.js';

/** Statuses a case has left handling in for good. */
const ENDED = ['closed', 'merged', 'transferred'];

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
  const count = (rows: Array<{ code: string | null; n: number | string | bigint }>, known: (code: string) => boolean) =>
    Object.fromEntries(rows.filter((r) => r.code !== null && !known(r.code)).map((r) => [r.code!, Number(r.n)]));
  const types = await db
    .selectFrom('cases')
    .select((eb) => ['type_code as code', eb.fn.countAll<number>().as('n')])
    .where('status', 'not in', ENDED)
    .where('type_code', 'is not', null)
    .groupBy('type_code')
    .execute();
  const places = await db
    .selectFrom('cases')
    .select((eb) => ['jurisdiction_code as code', eb.fn.countAll<number>().as('n')])
    .where('status', 'not in', ENDED)
    .where('jurisdiction_code', 'is not', null)
    .groupBy('jurisdiction_code')
    .execute();
  const units = await db
    .selectFrom('assignments as a')
    .innerJoin('cases as c', 'c.id', 'a.case_id')
    .select((eb) => ['a.unit_code as code', eb.fn.count<number>('a.case_id').distinct().as('n')])
    .where('c.status', 'not in', ENDED)
    .where('a.status', 'in', ['pending', 'accepted', 'returned'])
    .groupBy('a.unit_code')
    .execute();
  return {
    types: count(types, (code) => district.types.has(code)),
    units: count(units, (code) => district.units.has(code)),
    jurisdictions: count(places, (code) => district.units.get(code)?.kind === 'jurisdiction'),
  };
}
