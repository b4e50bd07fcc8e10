/**
 * The rewrite: `(file text, decide) → (new text, changes, problems)`. Only the bytes of each
 * marked value change; comments, indentation, key order, blank lines, other documents, line
 * endings, a missing final newline and a BOM are left exactly as they were.
 */
import { encodeScalar } from './encode.ts';
import { readsBackOnItsLine, scanLines } from './fast.ts';
import { findMarkers, parseMarkers } from './scan.ts';
import { hasMarker } from './screen.ts';
import type { BlockParts, Decide, MarkerChange, MarkerProblem, RewriteResult, ScalarStyle } from './types.ts';

/**
 * A block scalar (`key: | # marker`) gets the new value as its one body line, and the strip
 * indicator so it reads back without a final line break, as Flux's emitter writes it. The
 * header's comment and the line breaks after the body stay as they were.
 */
function blockReplacement(text: string, block: BlockParts, value: string): string | null {
  // eslint-disable-next-line no-control-regex -- control characters cannot sit in a block scalar line
  if (value === '' || /^[ \t]|[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff]/.test(value)) return null;
  const header = text.slice(block.header[0], block.header[1]);
  const body = text.slice(block.body[0], block.body[1]);
  const tail = body.slice(body.trimEnd().length);
  return `${header[0]!}-${text.slice(block.header[1], block.body[0])}${block.indent}${value}${tail}`;
}

/**
 * `fastPath: false` reads and reads back with the full parse alone, for tests that hold the
 * two paths to the same output.
 */
export function rewrite(text: string, decide: Decide, { fastPath = true }: { fastPath?: boolean } = {}): RewriteResult {
  const fast = fastPath && hasMarker(text) ? scanLines(text) : null;
  const { markers, problems } = fast ?? parseMarkers(text);
  const out: MarkerProblem[] = [...problems];
  /** `line`: the edit reads back on its own line, as scanLines would read it in the new text. */
  const edits: Array<{ start: number; end: number; replacement: string; index: number; value: string; line: boolean }> = [];
  const changes: MarkerChange[] = [];

  markers.forEach((m, index) => {
    const d = decide(m.setter);
    if ('unknownPolicy' in d) {
      out.push({
        code: 'MarkerUnknownPolicy',
        message: `marker names image policy "${m.setter.namespace}:${m.setter.name}", which this automation does not know`,
        line: m.line,
        setter: m.setter.raw,
      });
      return;
    }
    if ('unavailable' in d) {
      out.push({
        code: 'MarkerValueUnavailable',
        message: `marker "${m.setter.raw}": ${d.unavailable}`,
        line: m.line,
        setter: m.setter.raw,
      });
      return;
    }
    if (d.value === m.value) return;
    const replacement =
      m.block !== undefined ? blockReplacement(text, m.block, d.value) : encodeScalar(d.value, m.style as ScalarStyle, m.flow);
    if (replacement === null) {
      out.push({
        code: 'MarkerInvalid',
        message: `marker "${m.setter.raw}": the value ${JSON.stringify(d.value)} cannot be written as a one-line block scalar`,
        line: m.line,
        setter: m.setter.raw,
      });
      return;
    }
    edits.push({
      start: m.range[0],
      end: m.range[1],
      replacement,
      index,
      value: d.value,
      line: fast !== null && readsBackOnItsLine(text, m, replacement, d.value),
    });
    changes.push({
      setter: m.setter.raw,
      policy: { namespace: m.setter.namespace, name: m.setter.name },
      field: m.setter.field,
      oldValue: m.value,
      newValue: d.value,
      path: m.path,
      objectId: m.objectId,
      document: m.document,
      line: m.line,
    });
  });

  if (edits.length === 0) return { text, changes: [], problems: out };

  let result = '';
  let from = 0;
  for (const e of [...edits].sort((a, b) => a.start - b.start)) {
    result += text.slice(from, e.start) + e.replacement;
    from = e.end;
  }
  result += text.slice(from);

  // Where the fast path read the file and vouches for every edit on its line, the new text reads
  // back as intended without a second scan of the whole file (fast.test.ts holds the two equal).
  if (edits.every((e) => e.line)) return { text: result, changes, problems: out };

  // The edit must read back as intended; if it does not, leave the file alone.
  const check = fast === null ? parseMarkers(result) : findMarkers(result);
  const intact =
    check.problems.every((p) => p.code !== 'FileNotParsable') &&
    check.markers.length === markers.length &&
    edits.every((e) => check.markers[e.index]?.value === e.value);
  if (!intact) {
    out.push({
      code: 'MarkerInvalid',
      message: 'the new values would not read back as written; the file was left unchanged',
    });
    return { text, changes: [], problems: out };
  }
  return { text: result, changes, problems: out };
}
