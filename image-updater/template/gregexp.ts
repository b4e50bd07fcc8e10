/**
 * Go `regexp` behaviour on top of RE2 (the engine Go's regexp mirrors): leftmost-first matching,
 * FindAll's rule for empty matches, ReplaceAll's `$name`/`${name}`/`$1` expansion and Split.
 */
import RE2 from 're2';

interface Match {
  /** [start, end] of the whole match and of each group (undefined when a group did not take part). */
  indices: Array<[number, number] | undefined>;
  named: Record<string, [number, number] | undefined>;
}

function step(s: string, pos: number): number {
  if (pos >= s.length) return 0;
  const cp = s.codePointAt(pos)!;
  return cp > 0xffff ? 2 : 1;
}

export class GoRegexp {
  private readonly re: RE2;

  constructor(pattern: string) {
    try {
      this.re = new RE2(pattern, 'gdu');
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      throw new Error(`error parsing regexp: ${detail}: \`${pattern}\``);
    }
  }

  private execAt(s: string, pos: number): Match | null {
    this.re.lastIndex = pos;
    const m = this.re.exec(s);
    if (m === null) return null;
    const raw = (
      m as RegExpExecArray & {
        indices?: Array<[number, number] | undefined> & { groups?: Record<string, [number, number] | undefined> };
      }
    ).indices;
    const indices: Array<[number, number] | undefined> = raw ? [...raw] : [[m.index, m.index + m[0].length]];
    return { indices, named: raw?.groups ? { ...raw.groups } : {} };
  }

  matchString(s: string): boolean {
    return this.execAt(s, 0) !== null;
  }

  /** Go's allMatches: an empty match right after a previous match is skipped. */
  private allMatches(s: string, n: number): Match[] {
    const out: Match[] = [];
    const limit = n < 0 ? s.length + 1 : n;
    let prevMatchEnd = -1;
    for (let pos = 0; out.length < limit && pos <= s.length;) {
      const m = this.execAt(s, pos);
      if (m === null) break;
      const [start, end] = m.indices[0]!;
      let accept = true;
      if (end === pos) {
        if (start === prevMatchEnd) accept = false;
        const width = step(s, pos);
        pos += width > 0 ? width : 1;
      } else {
        pos = end;
      }
      prevMatchEnd = end;
      if (accept) out.push(m);
    }
    return out;
  }

  findString(s: string): string {
    const m = this.execAt(s, 0);
    if (m === null) return '';
    const [a, b] = m.indices[0]!;
    return s.slice(a, b);
  }

  findAllString(s: string, n: number): string[] | null {
    if (n === 0) return null;
    const ms = this.allMatches(s, n);
    if (ms.length === 0) return null;
    return ms.map((m) => s.slice(m.indices[0]![0], m.indices[0]![1]));
  }

  private replaceAll(src: string, repl: (m: Match) => string): string {
    let out = '';
    let lastMatchEnd = 0;
    let searchPos = 0;
    while (searchPos <= src.length) {
      const m = this.execAt(src, searchPos);
      if (m === null) break;
      const [a0, a1] = m.indices[0]!;
      out += src.slice(lastMatchEnd, a0);
      if (a1 > lastMatchEnd || a0 === 0) out += repl(m);
      lastMatchEnd = a1;
      const width = step(src, searchPos);
      if (searchPos + width > a1) searchPos += width;
      else if (searchPos + 1 > a1) searchPos++;
      else searchPos = a1;
    }
    return out + src.slice(lastMatchEnd);
  }

  replaceAllString(src: string, template: string): string {
    return this.replaceAll(src, (m) => expand(template, src, m));
  }

  replaceAllLiteralString(src: string, repl: string): string {
    return this.replaceAll(src, () => repl);
  }

  split(s: string, n: number): string[] | null {
    if (n === 0) return null;
    if (this.re.source.length > 0 && s.length === 0) return [''];
    const matches = this.allMatches(s, n);
    const parts: string[] = [];
    let beg = 0;
    let end = 0;
    for (const m of matches) {
      if (n > 0 && parts.length === n - 1) break;
      const [a, b] = m.indices[0]!;
      end = a;
      if (b !== 0) parts.push(s.slice(beg, end));
      beg = b;
    }
    if (end !== s.length) parts.push(s.slice(beg));
    return parts;
  }
}

/** Reads `name` or `{name}` after a `$`, as Go's regexp extract does. */
function extractName(str: string): { name: string; num: number; rest: string } | null {
  if (str === '') return null;
  let s = str;
  let brace = false;
  if (s[0] === '{') {
    brace = true;
    s = s.slice(1);
  }
  let i = 0;
  while (i < s.length) {
    const ch = String.fromCodePoint(s.codePointAt(i)!);
    if (!/^[\p{L}\p{Nd}_]$/u.test(ch)) break;
    i += ch.length;
  }
  if (i === 0) return null;
  const name = s.slice(0, i);
  if (brace) {
    if (i >= s.length || s[i] !== '}') return null;
    i++;
  }
  let num = 0;
  for (const c of name) {
    if (c < '0' || c > '9' || num >= 1e8) {
      num = -1;
      break;
    }
    num = num * 10 + Number(c);
  }
  if (name[0] === '0' && name.length > 1) num = -1;
  return { name, num, rest: s.slice(i) };
}

/** Go's Regexp.Expand for one match. Unknown names and groups expand to nothing. */
function expand(template: string, src: string, m: Match): string {
  let out = '';
  let t = template;
  for (;;) {
    const at = t.indexOf('$');
    if (at < 0) break;
    out += t.slice(0, at);
    t = t.slice(at + 1);
    if (t.startsWith('$')) {
      out += '$';
      t = t.slice(1);
      continue;
    }
    const ext = extractName(t);
    if (ext === null) {
      out += '$';
      continue;
    }
    t = ext.rest;
    const range = ext.num >= 0 ? m.indices[ext.num] : m.named[ext.name];
    if (range !== undefined) out += src.slice(range[0], range[1]);
  }
  return out + t;
}

/** regexp.QuoteMeta. */
export function quoteMeta(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}
