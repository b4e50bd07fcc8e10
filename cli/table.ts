/** Renders rows as kubectl does: upper-case headers, columns padded to the widest cell, 3 spaces apart. */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('   ')
      .trimEnd();
  return [line(headers.map((h) => h.toUpperCase())), ...rows.map(line)].join('\n') + '\n';
}

/** kubectl's short ages: 45s, 12m, 3h, 5d, 2y. */
export function age(fromIso: string | undefined, nowMs: number): string {
  if (!fromIso) return '<unknown>';
  const seconds = Math.max(0, Math.floor((nowMs - Date.parse(fromIso)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 120) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  return days < 730 ? `${days}d` : `${Math.floor(days / 365)}y`;
}

/** `main@sha1:5b1c0e8f…` → `main@5b1c0e8`: enough to recognise a commit in a list. */
export function shortRevision(revision: string | undefined): string {
  if (!revision) return '';
  const match = /^(.*?)@?sha1:([0-9a-f]{7})[0-9a-f]*$/.exec(revision);
  if (!match) return revision;
  return match[1] ? `${match[1]}@${match[2]}` : (match[2] as string);
}
