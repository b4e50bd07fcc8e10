/**
 * Searches collected output for known secret values: each value as is, base64 (standard and URL
 * alphabet, and the Basic-auth `user:password` form when a username goes with it), URL-encoded,
 * and every part of 8 characters or more of each of those forms (a part is enough to narrow a
 * guess, and a line cut short or wrapped still leaks it).
 */

/** One known secret value the scan looks for. */
export interface KnownSecret {
  /** What it is, for the report (`Git HTTP password`). */
  name: string;
  value: string;
  /** Sent with this username in Basic auth, so `base64(user:value)` is searched too. */
  username?: string;
  /**
   * Text of the same shape that is not secret (another key of the same type, a public key): the
   * parts the value shares with it are structure (`-----BEGIN OPENSSH PRIVATE KEY-----`, the key
   * type's prefix), not the secret, and are not searched.
   */
  sameShape?: readonly string[];
}

/** Where output came from (`agent log`, `Events in ns`) and what it said. */
export interface Output {
  source: string;
  text: string;
}

export interface SecretHit {
  secret: string;
  source: string;
  /** The form or part that matched. */
  needle: string;
  /** Up to 60 characters around the match, the match itself masked, to find the line that leaked. */
  context: string;
}

/** Parts of a value shorter than this are not searched: too likely to occur by chance. */
export const MIN_PART = 8;

/** Every form of `secret` the scan looks for, longest first; exported for the scanner's own test. */
export function needlesOf(secret: KnownSecret): string[] {
  const forms = new Set<string>([
    secret.value,
    Buffer.from(secret.value).toString('base64'),
    Buffer.from(secret.value).toString('base64url'),
    encodeURIComponent(secret.value),
  ]);
  if (secret.username !== undefined) forms.add(Buffer.from(`${secret.username}:${secret.value}`).toString('base64'));
  const structure = secret.sameShape ?? [];
  const needles = new Set<string>();
  for (const form of forms) {
    if (form.length < MIN_PART) continue;
    needles.add(form);
    // Windows of MIN_PART characters cover every longer part too: a longer part contains one.
    for (let i = 0; i + MIN_PART <= form.length; i++) {
      const part = form.slice(i, i + MIN_PART);
      if (/\s/.test(part)) continue;
      if (structure.some((s) => s.includes(part))) continue;
      needles.add(part);
    }
  }
  // The base64 of a part shifted by one or two bytes is another string; the base64 of the whole
  // value is what an encoder prints, and its windows are already in.
  return [...needles].sort((a, b) => b.length - a.length);
}

/**
 * Every hit of every secret in every output, one per (secret, source, needle): counting each
 * window of a leaked value separately would only inflate the number, so a leak of a whole value
 * counts once, under its longest matching form.
 */
export function scanForSecrets(secrets: readonly KnownSecret[], outputs: readonly Output[]): SecretHit[] {
  const hits: SecretHit[] = [];
  for (const secret of secrets) {
    const needles = needlesOf(secret);
    for (const output of outputs) {
      const covered: Array<[number, number]> = [];
      for (const needle of needles) {
        let at = output.text.indexOf(needle);
        while (at !== -1) {
          const end = at + needle.length;
          if (!covered.some(([s, e]) => at >= s && end <= e)) {
            covered.push([at, end]);
            const before = output.text.slice(Math.max(0, at - 30), at);
            const after = output.text.slice(end, end + 30);
            hits.push({ secret: secret.name, source: output.source, needle, context: `${before}<${needle.length} chars>${after}` });
          }
          at = output.text.indexOf(needle, at + 1);
        }
      }
    }
  }
  return hits;
}
