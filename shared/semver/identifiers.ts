/**
 * The dot-separated identifiers after `-` (pre-release) and `+` (build metadata), checked as
 * Masterminds' validatePrerelease and validateMetadata do. Each returns why the text is not
 * valid, or undefined when it is, so callers can say which part of their input is wrong.
 */

const IDENTIFIER = /^[0-9A-Za-z-]+$/;
const DIGITS = /^[0-9]+$/;

/** Non-empty `[0-9A-Za-z-]` identifiers; numeric ones without leading zeros. */
export function prereleaseProblem(text: string): string | undefined {
  for (const part of text.split('.')) {
    if (part === '') return `pre-release ${JSON.stringify(text)} has an empty identifier`;
    if (DIGITS.test(part)) {
      if (part.length > 1 && part.startsWith('0')) {
        return `pre-release ${JSON.stringify(text)} has a numeric identifier with a leading zero (${part})`;
      }
    } else if (!IDENTIFIER.test(part)) {
      return `pre-release ${JSON.stringify(text)} may hold only letters, digits, "-" and "."`;
    }
  }
  return undefined;
}

/** Non-empty `[0-9A-Za-z-]` identifiers; leading zeros are allowed in metadata. */
export function metadataProblem(text: string): string | undefined {
  for (const part of text.split('.')) {
    if (part === '') return `build metadata ${JSON.stringify(text)} has an empty identifier`;
    if (!IDENTIFIER.test(part)) return `build metadata ${JSON.stringify(text)} may hold only letters, digits, "-" and "."`;
  }
  return undefined;
}
