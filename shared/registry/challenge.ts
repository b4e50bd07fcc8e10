/**
 * `WWW-Authenticate` parsing (RFC 7235): one header may carry several challenges, each a scheme
 * followed by comma-separated `name=value` or `name="quoted value"` parameters.
 */

export interface AuthChallenge {
  /** Lower-cased: `bearer`, `basic`, ... */
  scheme: string;
  /** Parameter names lower-cased; values unquoted. */
  params: Record<string, string>;
}

const TOKEN_CHAR = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;

export function parseWwwAuthenticate(header: string | string[] | undefined): AuthChallenge[] {
  if (header === undefined) return [];
  const text = Array.isArray(header) ? header.join(', ') : header;
  const challenges: AuthChallenge[] = [];
  let pos = 0;

  const skip = (chars: RegExp) => {
    while (pos < text.length && chars.test(text[pos] as string)) pos++;
  };
  const token = () => {
    const start = pos;
    while (pos < text.length && TOKEN_CHAR.test(text[pos] as string)) pos++;
    return text.slice(start, pos);
  };
  // Unquoted values should be tokens, but some servers send bare URLs: read up to the next separator.
  const bare = () => {
    const start = pos;
    while (pos < text.length && !/[\s,]/.test(text[pos] as string)) pos++;
    return text.slice(start, pos);
  };
  const quoted = () => {
    // Called on the opening quote; a missing closing quote takes the rest of the header.
    pos++;
    let value = '';
    while (pos < text.length && text[pos] !== '"') {
      if (text[pos] === '\\' && pos + 1 < text.length) pos++;
      value += text[pos];
      pos++;
    }
    pos++;
    return value;
  };

  while (pos < text.length) {
    skip(/[\s,]/);
    const scheme = token();
    if (scheme === '') {
      pos++;
      continue;
    }
    const challenge: AuthChallenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);
    for (;;) {
      const before = pos;
      skip(/[\s,]/);
      if (pos >= text.length) break;
      const name = token();
      if (name === '') {
        // Stray punctuation: step over it so the parse always advances.
        pos++;
        continue;
      }
      skip(/[ \t]/);
      if (text[pos] !== '=') {
        // Not a parameter, so the start of the next challenge.
        pos = before;
        break;
      }
      pos++;
      skip(/[ \t]/);
      challenge.params[name.toLowerCase()] = text[pos] === '"' ? quoted() : bare();
    }
  }
  return challenges;
}
