/**
 * Whether a failed query means the database cannot serve now — its server
 * unreachable, restarting, out of connections or of disk; the connection
 * lost; a SQLite file locked past the busy timeout, full or failing to read
 * — rather than a fault of the request or of the code. The same request may
 * succeed when it is sent again. Pure: it reads the error's fields, so the
 * Workers build (which has no pg or better-sqlite3) takes it too.
 */
export function databaseUnavailable(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const { code, syscall } = e as { code?: unknown; syscall?: unknown };
    if (typeof code !== 'string') {
      if (PG_CONNECTION_LOST.test(e.message)) return true;
      continue;
    }
    // A socket's own failure (connect, read, write) names its system call; the ECONNRESET of an HTTP
    // request whose client went away ('aborted') names none, and is no fault of the database.
    if (SOCKET_CODES.has(code) && typeof syscall === 'string') return true;
    if (POSTGRES_UNAVAILABLE.test(code) || SQLITE_UNAVAILABLE.test(code)) return true;
  }
  return false;
}

/** Node's socket errors: the PostgreSQL server cannot be reached, or the connection broke. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * SQLSTATE classes 08 (connection exception) and 53 (insufficient resources:
 * disk full, out of memory, too many connections), and 57P01–57P03 (the
 * server shutting down, crashed, or starting).
 */
const POSTGRES_UNAVAILABLE = /^(08[0-9A-Z]{3}|53[0-9A-Z]{3}|57P0[1-3])$/;

/** better-sqlite3's codes (extended ones included, e.g. SQLITE_IOERR_WRITE, SQLITE_BUSY_SNAPSHOT). */
const SQLITE_UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|CANTOPEN)(_|$)/;

/** What pg says, without a code, of a connection that ended under a query or that it no longer uses. */
const PG_CONNECTION_LOST = /^(Connection terminated( unexpectedly| due to connection timeout)?|Client has encountered a connection error and is not queryable|timeout exceeded when trying to connect)$/;
