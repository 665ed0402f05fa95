const NUMBER = /^(-?\d+(\.\d+)?|-|)$/;

/** Plain-text columns, two spaces apart; numeric columns are right-aligned. */
export function formatTable(headers: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>, indent = ''): string {
  const cells = rows.map((r) => headers.map((_, i) => String(r[i] ?? '')));
  const numeric = headers.map((_, i) => cells.some((r) => /\d/.test(r[i]!)) && cells.every((r) => NUMBER.test(r[i]!)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const line = (r: readonly string[]) =>
    indent +
    r
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...cells.map(line)].join('\n');
}
