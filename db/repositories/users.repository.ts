import { newId } from '../../src/domain/ids.js';
import { isRole, type Role } from '../../src/auth/principal.js';
import type { UserRow } from '../schema.js';
import type { Db } from './db-types.js';

export interface User {
  id: string;
  name: string;
  role: Role;
  unitCode: string | null;
  active: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface NewUser {
  name: string;
  role: Role;
  unitCode: string | null;
  at: string;
}

function toUser(row: Pick<UserRow, 'id' | 'name' | 'role' | 'unit_code' | 'active' | 'created_at' | 'updated_at'>): User {
  // Only createUser writes roles, and it takes a Role; anything else is a row from a newer release.
  if (!isRole(row.role)) throw new Error(`users.${row.id}: unknown role "${row.role}"`);
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    unitCode: row.unit_code,
    active: Number(row.active) === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Creates an active account (validate it with `accountProblems` first). */
export async function createUser(db: Db, input: NewUser): Promise<User> {
  const row = {
    id: newId(),
    name: input.name.trim(),
    role: input.role,
    unit_code: input.unitCode,
    password_hash: null,
    active: 1,
    created_at: input.at,
    updated_at: input.at,
  };
  await db.insertInto('users').values(row).execute();
  return toUser(row);
}

export async function findUser(db: Db, id: string): Promise<User | null> {
  const row = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toUser(row) : null;
}

/** Every account, oldest first, with its web sign-in name (null: API tokens only) and how many of its tokens work at `now` (neither revoked nor expired). */
export async function listUsers(db: Db, now: Date): Promise<Array<User & { username: string | null; liveTokens: number }>> {
  // Expiries are stored as toISOString() writes them, so text order is time order.
  const at = now.toISOString();
  const rows = await db
    .selectFrom('users')
    .selectAll('users')
    .select((eb) =>
      eb
        .selectFrom('api_tokens')
        .whereRef('api_tokens.user_id', '=', 'users.id')
        .where('api_tokens.revoked_at', 'is', null)
        .where((w) => w.or([w('api_tokens.expires_at', 'is', null), w('api_tokens.expires_at', '>', at)]))
        .select((e) => e.fn.countAll<number | string>().as('n'))
        .as('live_tokens'),
    )
    .orderBy('users.created_at')
    .orderBy('users.id')
    .execute();
  return rows.map((r) => ({ ...toUser(r), username: r.username, liveTokens: Number(r.live_tokens ?? 0) }));
}

/** Deactivates an account; its tokens stop working at once. False when there is no such active user. */
export async function deactivateUser(db: Db, id: string, at: string): Promise<boolean> {
  const result = await db
    .updateTable('users')
    .set({ active: 0, updated_at: at })
    .where('id', '=', id)
    .where('active', '=', 1)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
