/**
 * Go's `Regexp.ExpandString`, which Flux applies to `filterTags.extract`:
 *
 * - `$name` and `${name}` insert a group; a name is a non-empty run of letters, digits and `_`
 *   (Unicode letters and decimal digits, as Go's `unicode.IsLetter`/`IsDigit`), taken as long as
 *   possible: `$tsx` is `${tsx}`, `$1x` is `${1x}`, `$10` is `${10}`.
 * - An all-digit name is a group index (`$0` is the whole match); a leading zero (`$01`) or a
 *   value of 1e8 or more makes it a plain name again.
 * - `$$` is a literal `$`; a `$` that starts no valid reference (`$-`, `${`, a trailing `$`) is
 *   kept as written.
 * - A group that does not exist or did not take part in the match inserts nothing.
 */
export type TemplatePart = { kind: 'text'; text: string } | { kind: 'ref'; name: string; index: number; written: string };

const NAME_CHAR = /[\p{L}\p{Nd}_]/u;
const INDEX_LIMIT = 1e8;

export function parseTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let text = '';
  let rest = template;
  for (;;) {
    const dollar = rest.indexOf('$');
    if (dollar < 0) break;
    text += rest.slice(0, dollar);
    rest = rest.slice(dollar + 1);
    if (rest.startsWith('$')) {
      text += '$';
      rest = rest.slice(1);
      continue;
    }
    const ref = readReference(rest);
    if (!ref) {
      text += '$';
      continue;
    }
    if (text !== '') parts.push({ kind: 'text', text });
    text = '';
    parts.push({ kind: 'ref', name: ref.name, index: ref.index, written: `$${rest.slice(0, ref.length)}` });
    rest = rest.slice(ref.length);
  }
  text += rest;
  if (text !== '') parts.push({ kind: 'text', text });
  return parts;
}

/** Reads `name` or `{name}` after a `$`; `length` counts the characters consumed. */
function readReference(text: string): { name: string; index: number; length: number } | undefined {
  const brace = text.startsWith('{');
  let i = brace ? 1 : 0;
  const start = i;
  while (i < text.length) {
    const codePoint = text.codePointAt(i) as number;
    const char = String.fromCodePoint(codePoint);
    if (!NAME_CHAR.test(char)) break;
    i += char.length;
  }
  if (i === start) return undefined;
  const name = text.slice(start, i);
  if (brace) {
    if (text[i] !== '}') return undefined;
    i++;
  }
  return { name, index: groupIndex(name), length: i };
}

function groupIndex(name: string): number {
  if (name.length > 1 && name[0] === '0') return -1;
  let index = 0;
  for (const char of name) {
    if (char < '0' || char > '9' || index >= INDEX_LIMIT) return -1;
    index = index * 10 + (char.charCodeAt(0) - 48);
  }
  return index;
}

/** Expands parsed template parts against one match (as returned by `RE2.prototype.exec`). */
export function expandParts(parts: readonly TemplatePart[], match: RegExpExecArray): string {
  let out = '';
  for (const part of parts) {
    if (part.kind === 'text') {
      out += part.text;
    } else if (part.index >= 0) {
      out += part.index < match.length ? (match[part.index] ?? '') : '';
    } else {
      const groups = match.groups;
      out += groups && Object.hasOwn(groups, part.name) ? (groups[part.name] ?? '') : '';
    }
  }
  return out;
}

export function expandTemplate(template: string, match: RegExpExecArray): string {
  return expandParts(parseTemplate(template), match);
}
