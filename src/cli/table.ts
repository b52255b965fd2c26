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
