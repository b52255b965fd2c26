/** Columns padded by display width: a Chinese character takes two cells. */
export function table(header: string[], rows: string[][]): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => displayWidth(r[i] ?? ''))));
  return all.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - displayWidth(cell))))
      .join('  ')
      .trimEnd(),
  );
}

function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) width += /[\p{Script=Han}\u3000-\u303f\uff00-\uffef]/u.test(ch) ? 2 : 1;
  return width;
}

/**
 * The accounts as `user list` prints them (`admin` and `admin:cf` alike): id, name, web sign-in name (`-` for an
 * account that signs in with API tokens only), role, unit, active, live tokens.
 */
export function accountsTable(
  users: ReadonlyArray<{ id: string; name: string; username: string | null; role: string; unitCode: string | null; active: boolean; liveTokens: number }>,
): string[] {
  return table(
    ['id', 'name', 'username', 'role', 'unit', 'active', 'tokens'],
    users.map((u) => [u.id, u.name, u.username ?? '-', u.role, u.unitCode ?? '-', u.active ? 'yes' : 'no', String(u.liveTokens)]),
  );
}
