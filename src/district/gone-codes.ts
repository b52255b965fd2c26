import type { Kysely } from 'kysely';
import { casesCarryCode, CLOSED } from '../../db/repositories/case-queries.repository.js';
import { keepCodeNames } from '../../db/repositories/code-names.repository.js';
import type { Database } from '../../db/schema.js';
import { AppError } from '../errors.js';
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

/**
 * Why a code a case list or export is asked to pick cases by is refused, or
 * null. Refused: a code no district file had and no case carries, which
 * would only ever answer with nothing — a typo, or a code from another
 * district. Taken: the file's codes, and those it dropped or renamed since
 * cases got them (a name kept from an earlier file, or cases carrying it),
 * under which those cases are still listed and exported.
 */
export async function filterCodeProblem(db: Kysely<Database>, district: District, kind: 'type' | 'unit', code: string): Promise<string | null> {
  const known = kind === 'type' ? district.types.has(code) || district.former.types.has(code) : district.units.has(code) || district.former.units.has(code);
  if (known || (await casesCarryCode(db, kind, code))) return null;
  return `unknown ${kind} "${code}"`;
}

/**
 * A 400 naming each code given (as the `type` and `unit` query parameters of
 * the case list and the case export) that `filterCodeProblem` refuses.
 */
export async function refuseUnknownFilterCodes(db: Kysely<Database>, district: District, given: { type?: string | undefined; unit?: string | undefined }): Promise<void> {
  const fields: Record<string, string> = {};
  for (const kind of ['type', 'unit'] as const) {
    const code = given[kind];
    const problem = code === undefined ? null : await filterCodeProblem(db, district, kind, code);
    if (problem) fields[kind] = problem;
  }
  if (Object.keys(fields).length > 0) throw new AppError('validation_failed', `invalid ${Object.keys(fields).join(', ')}`, fields);
}
