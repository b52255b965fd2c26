import type { District } from '../district/district.schema.js';
import { AppError } from '../errors.js';

/**
 * Who is asking, and what their role lets them reach. Pure: no I/O, so every
 * route and processor asks the same questions the same way.
 *
 * - `operator`: hotline staff; create cases, see the reporter's contact.
 * - `bureau`: staff of one bureau or one town / sub-district office
 *   (`unitCode`); only cases assigned to that unit, and the reporter's name
 *   and phone only when the reporter agreed.
 * - `dispatcher`: triage, re-route, merge, transfer, supervise; sees everything.
 * - `admin`: accounts and the district file; reads every case like a dispatcher.
 */
export const ROLES = ['operator', 'bureau', 'dispatcher', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export interface Principal {
  userId: string;
  name: string;
  role: Role;
  /** The bureau or jurisdiction of a `bureau` account; null for every other role. */
  unitCode: string | null;
  /** The API token the request came with. */
  tokenId: string;
}

export function hasRole(principal: Principal, ...roles: Role[]): boolean {
  return roles.includes(principal.role);
}

/** Throws 403 `forbidden` unless the principal has one of the roles. */
export function requireRole(principal: Principal, ...roles: Role[]): void {
  if (!hasRole(principal, ...roles)) {
    throw new AppError('forbidden', `this needs the role ${roles.join(' or ')}; you are ${principal.role}`);
  }
}

/**
 * May the principal see the reporter's name and phone? `contactShared` means the
 * reporter agreed that the handling bureau may see them and did not ask for
 * anonymity.
 */
export function canSeeContact(principal: Principal, contactShared: boolean): boolean {
  switch (principal.role) {
    case 'operator':
    case 'dispatcher':
    case 'admin':
      return true;
    case 'bureau':
      return contactShared;
  }
}

/** May the principal see a case assigned to these units (lead, co-handlers, jurisdiction)? */
export function canSeeCase(principal: Principal, assignedUnits: readonly string[]): boolean {
  switch (principal.role) {
    case 'operator':
    case 'dispatcher':
    case 'admin':
      return true;
    case 'bureau':
      return principal.unitCode !== null && assignedUnits.includes(principal.unitCode);
  }
}

/**
 * Throws unless the principal may see the case. A bureau asking for a case that
 * is not theirs gets 404, so the answer does not tell that the case exists;
 * a role that never sees cases gets 403.
 */
export function requireCaseAccess(principal: Principal, assignedUnits: readonly string[]): void {
  if (canSeeCase(principal, assignedUnits)) return;
  if (principal.role === 'bureau') throw new AppError('not_found', 'no such case');
  throw new AppError('forbidden', `the role ${principal.role} does not see cases`);
}

/** May the principal act (sign for, return, reply) on the assignment of this unit? */
export function canActForUnit(principal: Principal, unitCode: string): boolean {
  return principal.role === 'bureau' && principal.unitCode === unitCode;
}

export interface AccountInput {
  role: string | undefined;
  unitCode: string | null;
  name: string;
}

/**
 * Every problem of a new account, named: an unknown role, a bureau account
 * without a unit of the district file (bureau or jurisdiction), a unit on a
 * district-wide role, an empty name.
 */
export function accountProblems(input: AccountInput, district: District): string[] {
  const problems: string[] = [];
  if (input.role === undefined || input.role === '') problems.push(`a role is required (--role ${ROLES.join('|')})`);
  else if (!isRole(input.role)) problems.push(`unknown role "${input.role}" (use ${ROLES.join(', ')})`);
  if (input.role === 'bureau') {
    if (input.unitCode === null) problems.push('a bureau account needs --bureau <bureau or jurisdiction code>');
    else if (!district.units.has(input.unitCode)) {
      problems.push(`unknown bureau "${input.unitCode}": not a bureau or jurisdiction of the district file`);
    }
  } else if (input.unitCode !== null && isRole(input.role)) {
    problems.push(`the role ${input.role} is district-wide and takes no --bureau`);
  }
  const name = input.name.trim();
  if (name === '') problems.push('a name is required (--name)');
  else if ([...name].length > 100) problems.push('the name is longer than 100 characters');
  return problems;
}
