/**
 * Kubernetes' label selector text (`app=web,tier!=db,env in (a,b),!legacy`), as `kubectl -l` and
 * Flux's `target.labelSelector` take it, parsed once and matched against a label (or annotation) map.
 */
export type Requirement = { key: string; op: 'in' | 'notin'; values: readonly string[] } | { key: string; op: 'exists' | 'absent' };

export type Selector = readonly Requirement[];

/** Parses a selector; a malformed one is `{problem}` for a spec reader to report under its field. */
export function parseSelector(text: string): { selector: Selector } | { problem: string } {
  const out: Requirement[] = [];
  for (const part of splitTopLevel(text)) {
    const term = part.trim();
    if (term === '') return { problem: `${JSON.stringify(text)} has an empty requirement` };
    const set = /^([^\s!=(),]+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(term);
    if (set) {
      const values = (set[3] ?? '').split(',').map((v) => v.trim());
      if (values.some((v) => v === '')) return { problem: `${JSON.stringify(term)} has an empty value` };
      out.push({ key: set[1] as string, op: set[2] as 'in' | 'notin', values });
      continue;
    }
    const equality = /^([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]*)$/.exec(term);
    if (equality) {
      const [, key, op, value] = equality as unknown as [string, string, string, string];
      out.push({ key, op: op === '!=' ? 'notin' : 'in', values: [value] });
      continue;
    }
    const exists = /^(!?)([^\s!=(),]+)$/.exec(term);
    if (exists) {
      out.push({ key: exists[2] as string, op: exists[1] ? 'absent' : 'exists' });
      continue;
    }
    return { problem: `${JSON.stringify(term)} is not a requirement (key=value, key!=value, key in (a,b), key notin (a,b), key, !key)` };
  }
  return { selector: out };
}

/** Every requirement holds; `notin` and `!=` hold for a missing key, as in Kubernetes. */
export function selectorMatches(selector: Selector, labels: Readonly<Record<string, string>> | undefined): boolean {
  return selector.every((r) => {
    const has = labels !== undefined && Object.hasOwn(labels, r.key);
    const value = has ? labels[r.key] : undefined;
    switch (r.op) {
      case 'exists':
        return has;
      case 'absent':
        return !has;
      case 'in':
        return value !== undefined && r.values.includes(value);
      case 'notin':
        return value === undefined || !r.values.includes(value);
    }
  });
}

/** Splits on commas outside parentheses. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}
