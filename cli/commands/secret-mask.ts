/**
 * `tidemark diff` never prints Secret values. As `kubectl diff` does, every value under `data`
 * and `stringData` becomes `***`, and a key whose value differs becomes `***** (before)` on the
 * live side and `***** (after)` on the Git side, so the diff still shows which keys changed.
 */

type Obj = Record<string, unknown>;

const SAME = '***';
const BEFORE = '***** (before)';
const AFTER = '***** (after)';
/** `kubectl apply` keeps a full copy of the object here, values included. */
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

const isObject = (value: unknown): value is Obj => typeof value === 'object' && value !== null && !Array.isArray(value);

const isSecret = (obj: Obj | undefined): boolean => obj !== undefined && obj.kind === 'Secret' && (obj.apiVersion ?? 'v1') === 'v1';

/** Copies of live (before) and Git (after) with Secret values masked; other kinds come back as they are. */
export function maskSecrets(before: Obj | undefined, after: Obj | undefined): { before: Obj | undefined; after: Obj | undefined } {
  if (!isSecret(before) && !isSecret(after)) return { before, after };
  const b = before === undefined ? undefined : { ...before };
  const a = after === undefined ? undefined : { ...after };
  for (const field of ['data', 'stringData']) {
    const fromValue = b?.[field];
    const toValue = a?.[field];
    const from = isObject(fromValue) ? fromValue : undefined;
    const to = isObject(toValue) ? toValue : undefined;
    const masked = maskPair(from, to);
    if (b && masked.from) b[field] = masked.from;
    if (a && masked.to) a[field] = masked.to;
  }
  for (const side of [b, a]) {
    const metadata = side?.metadata;
    if (!side || !isObject(metadata) || !isObject(metadata.annotations) || !(LAST_APPLIED in metadata.annotations)) continue;
    side.metadata = { ...metadata, annotations: { ...metadata.annotations, [LAST_APPLIED]: SAME } };
  }
  return { before: b, after: a };
}

function maskPair(from: Obj | undefined, to: Obj | undefined): { from: Obj | undefined; to: Obj | undefined } {
  const maskedFrom: Obj | undefined = from ? {} : undefined;
  const maskedTo: Obj | undefined = to ? {} : undefined;
  for (const key of Object.keys(from ?? {})) {
    const changed = to !== undefined && key in to && from?.[key] !== to[key];
    maskedFrom![key] = changed ? BEFORE : SAME;
  }
  for (const key of Object.keys(to ?? {})) {
    const changed = from !== undefined && key in from && from[key] !== to?.[key];
    maskedTo![key] = changed ? AFTER : SAME;
  }
  return { from: maskedFrom, to: maskedTo };
}

/**
 * Copies of an object with every occurrence of a sensitive value (a decrypted SOPS value, a
 * variable from a Secret) replaced by `***`, in any kind and any field: such values may land in
 * a ConfigMap or a Deployment's env, where maskSecrets does not look. A number or boolean a
 * variable set is masked when it reads the same.
 */
export function maskValues(obj: Obj | undefined, sensitive: readonly string[]): Obj | undefined {
  if (obj === undefined || sensitive.length === 0) return obj;
  // Longest first, so a value that contains another is masked whole.
  const values = [...new Set(sensitive)].filter((v) => v !== '').sort((a, b) => b.length - a.length);
  const exact = new Set(values);
  const mask = (value: unknown): unknown => {
    if (typeof value === 'string') {
      let out = value;
      for (const v of values) if (out.includes(v)) out = out.split(v).join(SAME);
      return out;
    }
    if (typeof value === 'number' || typeof value === 'boolean') return exact.has(String(value)) ? SAME : value;
    if (Array.isArray(value)) return value.map(mask);
    if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mask(v)]));
    return value;
  };
  return mask(obj) as Obj;
}
