/**
 * The benchmark's results as plain data, their verdicts, and the two renderings: the terminal
 * table and the README section. Everything here is pure.
 */

export type Unit = 'ms' | 'MiB';

export interface Figure {
  /** The median of `samples`. */
  median: number;
  unit: Unit;
  samples: number[];
}

export type Goal = { kind: 'ratio'; max: number } | { kind: 'absolute'; max: number; unit: Unit; strict: boolean } | { kind: 'none' };

export interface Check {
  what: string;
  ok: boolean;
}

export type Verdict = 'meets' | 'MISSES' | 'n/a' | 'ERROR';

export interface Measurement {
  /** "1", "2", "9·1@100", … */
  id: string;
  title: string;
  peerName: string | undefined;
  ours: Figure | undefined;
  peer: Figure | undefined;
  /** ours / peer: the median of paired ratios when the runs were paired. */
  ratio: number | undefined;
  goal: Goal;
  /** Further conditions of the goal, e.g. "0 write requests". */
  checks: Check[];
  verdict: Verdict;
  /** What each side did, how it was measured, and what a miss is due to. */
  notes: string[];
  details: Record<string, unknown>;
  error?: string;
}

export function goalText(goal: Goal, checks: readonly Check[] = []): string {
  const parts = checks.map((c) => c.what);
  if (goal.kind === 'ratio') parts.unshift(`≤ ${goal.max}× peer`);
  if (goal.kind === 'absolute') parts.unshift(`${goal.strict ? '<' : '≤'} ${formatValue(goal.max, goal.unit)}`);
  return parts.length > 0 ? parts.join(' and ') : '—';
}

/** The verdict from the figures alone: the goal and every check must hold. */
export function verdictOf(m: Pick<Measurement, 'ours' | 'peer' | 'ratio' | 'goal' | 'checks' | 'error'>): Verdict {
  if (m.error !== undefined) return 'ERROR';
  const checksOk = m.checks.every((c) => c.ok);
  switch (m.goal.kind) {
    case 'none':
      return m.checks.length === 0 ? 'n/a' : checksOk ? 'meets' : 'MISSES';
    case 'ratio':
      if (m.ratio === undefined || !Number.isFinite(m.ratio)) return 'ERROR';
      return m.ratio <= m.goal.max && checksOk ? 'meets' : 'MISSES';
    case 'absolute': {
      if (!m.ours || !Number.isFinite(m.ours.median)) return 'ERROR';
      const within = m.goal.strict ? m.ours.median < m.goal.max : m.ours.median <= m.goal.max;
      return within && checksOk ? 'meets' : 'MISSES';
    }
  }
}

export function formatValue(value: number, unit: Unit): string {
  if (!Number.isFinite(value)) return '—';
  if (unit === 'MiB') return `${value.toFixed(value < 10 ? 1 : 0)} MiB`;
  if (value >= 10_000) return `${(value / 1000).toFixed(1)} s`;
  if (value >= 1000) return `${(value / 1000).toFixed(2)} s`;
  if (value >= 100) return `${value.toFixed(0)} ms`;
  if (value >= 10) return `${value.toFixed(1)} ms`;
  return `${value.toFixed(2)} ms`;
}

export function formatFigure(f: Figure | undefined): string {
  if (!f) return '—';
  return `${formatValue(f.median, f.unit)}${f.samples.length > 1 ? ` (n=${f.samples.length})` : ''}`;
}

export function formatRatio(r: number | undefined): string {
  if (r === undefined || !Number.isFinite(r)) return '—';
  if (r < 0.01) return `${r.toFixed(4)}×`;
  if (r < 0.1) return `${r.toFixed(3)}×`;
  return `${r.toFixed(2)}×`;
}

export interface Row {
  item: string;
  ours: string;
  peer: string;
  ratio: string;
  goal: string;
  verdict: string;
}

export function rowOf(m: Measurement): Row {
  return {
    item: `${m.id}. ${m.title}${m.peerName ? ` [${m.peerName}]` : ''}`,
    ours: formatFigure(m.ours),
    peer: formatFigure(m.peer),
    ratio: formatRatio(m.ratio),
    goal: goalText(m.goal, m.checks),
    verdict: m.verdict,
  };
}

const HEADERS: Row = { item: 'item', ours: 'ours', peer: 'peer', ratio: 'ratio', goal: 'goal', verdict: 'verdict' };
const COLUMNS = ['item', 'ours', 'peer', 'ratio', 'goal', 'verdict'] as const;

/** A fixed-width table for the terminal. */
export function textTable(measurements: readonly Measurement[]): string {
  const rows = [HEADERS, ...measurements.map(rowOf)];
  const widths = COLUMNS.map((c) => Math.max(...rows.map((r) => [...r[c]].length)));
  const line = (r: Row) =>
    COLUMNS.map((c, i) => r[c].padEnd(widths[i] as number))
      .join('  ')
      .trimEnd();
  return [line(HEADERS), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** The same table as GitHub Markdown. */
export function markdownTable(measurements: readonly Measurement[]): string {
  const rows = measurements.map(rowOf);
  const head = `| ${COLUMNS.map((c) => HEADERS[c]).join(' | ')} |`;
  const rule = `|${COLUMNS.map((c) => (c === 'item' || c === 'goal' ? ' --- ' : ' ---: ')).join('|')}|`;
  return [
    head,
    rule,
    ...rows.map(
      (r) => `| ${COLUMNS.map((c) => escapeCell(c === 'verdict' && r.verdict === 'MISSES' ? '**MISSES**' : r[c])).join(' | ')} |`,
    ),
  ].join('\n');
}

/**
 * Replaces the `## <heading>` section (up to the next `## ` heading or the end) with `body`, or
 * appends it at the end when the README has none yet.
 */
export function replaceSection(readme: string, heading: string, body: string): string {
  const lines = readme.split('\n');
  const start = lines.findIndex((l) => l.trim() === `## ${heading}`);
  const section = `## ${heading}\n\n${body.trim()}\n`;
  if (start < 0) return `${readme.replace(/\n*$/, '')}\n\n${section}`;
  let end = lines.length;
  for (let i = start + 1; i < lines.length; i++) {
    if (/^## /.test(lines[i] as string)) {
      end = i;
      break;
    }
  }
  const before = lines.slice(0, start).join('\n');
  const after = lines.slice(end).join('\n');
  return `${before.replace(/\n*$/, '')}\n\n${section}${after ? `\n${after}` : ''}`;
}
