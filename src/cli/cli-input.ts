import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { read } from 'read';
import { isPostgresUrl, sqlitePath } from '../../db/connect.js';

/** What the command-line tools (`npm run admin`, `npm run admin:cf`, …) read from their user and check before they start. */

/**
 * Why DATABASE_URL cannot be used by a command-line tool, or null: a SQLite
 * file that does not exist is refused, since opening it would create a
 * fresh, empty database (and directories) that the service never reads — a
 * mistyped DATABASE_URL, or a service that never started; so is an empty
 * file, which opening would turn into such a database. `hint` ends the line.
 */
export function missingSqliteDatabase(url: string, hint?: string): string | null {
  if (isPostgresUrl(url)) return null;
  const path = sqlitePath(url);
  const stat = path === ':memory:' ? undefined : statSync(resolve(path), { throwIfNoEntry: false });
  // An empty file (what `touch` makes) is no database either: opened, it would become a fresh one.
  const empty = stat !== undefined && stat.isFile() && stat.size === 0;
  if (stat !== undefined && !empty) return null;
  return (
    `no SQLite database at ${path === ':memory:' ? path : resolve(path)}${empty ? ', an empty file' : ''} (DATABASE_URL=${url}): check DATABASE_URL; ` +
    `the service creates its database on its first start (npm start)${hint ? `, ${hint}` : ''}`
  );
}

/**
 * The new password: the first line of stdin (never an argument, which other
 * users of the machine could see). Typed at a terminal, it is asked for on
 * stderr and not echoed.
 */
export async function readPasswordFromStdin(): Promise<string> {
  if (process.stdin.isTTY) return read({ prompt: 'password: ', silent: true, replace: '', input: process.stdin, output: process.stderr });
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    if (Buffer.concat(chunks).includes(10)) break;
  }
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}
