/**
 * How kustomize (v5, as bundled in kubectl 1.35) tells a remote reference from a local path —
 * ported so that the check before a build refuses exactly what kustomize would fetch, whether or
 * not a local file or directory of the same name exists (kustomize asks these questions first
 * and never looks at the disk to answer them).
 *
 * - A file it loads (a resource file, a patch, a generator's files and envs, crds, openapi, a
 *   replacement, a plugin configuration's path) is fetched over HTTP when `url.Parse` finds an
 *   http or https scheme: api/internal/loader/fileloader.go, IsRemoteFile.
 * - A directory it builds (a resource or component that is not a file) is cloned with git when
 *   api/internal/git/repospec.go, NewRepoSpecFromURL, parses it.
 *
 * Where kustomize's answer depends on the rest of Go's URL parser (an http value whose host or
 * escapes Go would reject, so kustomize would read a local path called `http:`), this says
 * remote: such values are refused, never fetched.
 */

/** The scheme net/url's Parse would find, lower-cased, or '' (getScheme in net/url/url.go). */
export function urlScheme(value: string): string {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a)) continue;
    if ((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e) {
      if (i === 0) return '';
      continue;
    }
    if (c === 0x3a) return i === 0 ? '' : asciiLower(value.slice(0, i));
    return '';
  }
  return '';
}

/** kustomize's IsRemoteFile: a path it loads fetches over HTTP. */
export function isRemoteFile(value: string): boolean {
  const scheme = urlScheme(value);
  return scheme === 'http' || scheme === 'https';
}

const FILE_SCHEME = 'file://';
const SCHEMES = ['ssh://', 'https://', 'http://', FILE_SCHEME];

/** kustomize's NewRepoSpecFromURL succeeds: a directory it builds is a git clone. */
export function isRemoteRepo(value: string): boolean {
  if (value.startsWith('/')) return false; // filepath.IsAbs: "uri looks like abs path"
  let rest = value.split('?', 1)[0] ?? ''; // the query only tunes the clone
  // extractHost
  if (startsWithIgnoreCase(rest, 'git::')) rest = rest.slice('git::'.length);
  let scheme = '';
  for (const prefix of SCHEMES) {
    if (startsWithIgnoreCase(rest, prefix)) {
      scheme = prefix;
      rest = rest.slice(prefix.length);
      break;
    }
  }
  const user = /^[a-zA-Z][a-zA-Z0-9-]*@/.exec(rest)?.[0] ?? '';
  rest = rest.slice(user.length);
  const lowered = goLower(rest);
  const github = lowered.startsWith('github.com/') || lowered.startsWith('github.com:');
  const acceptScp = scheme === '' && (user !== '' || github);
  if (scheme === '' && !acceptScp) return false;
  let repoPath: string;
  if (scheme === FILE_SCHEME) {
    repoPath = user + rest;
  } else {
    let separator = rest.indexOf('/');
    if (acceptScp) {
      const colon = rest.indexOf(':');
      if (separator === -1 || (colon > 0 && colon < separator)) separator = colon;
    }
    const host = separator >= 0 ? rest.slice(0, separator + 1) : rest;
    repoPath = separator >= 0 ? rest.slice(separator + 1) : '';
    if (host === '' && !github) return false;
  }
  return splitsIntoRepoAndPath(repoPath, scheme === FILE_SCHEME);
}

/** parsePathParts: explicit markers (_git/, //, .git), else org/repo (any length for file://). */
function splitsIntoRepoAndPath(path: string, allSegments: boolean): boolean {
  let repo: string;
  let kustRoot: string;
  const gitRoot = path.indexOf('_git/');
  const doubleSlash = path.indexOf('//');
  const gitSuffix = path.indexOf('.git');
  if (gitRoot >= 0) {
    const after = path.slice(gitRoot + '_git/'.length).split('/');
    repo = path.slice(0, gitRoot + '_git/'.length) + (after[0] ?? '');
    kustRoot = after.slice(1).join('/');
  } else if (doubleSlash >= 0) {
    repo = path.slice(0, doubleSlash);
    kustRoot = path.slice(doubleSlash + 2);
  } else if (gitSuffix >= 0) {
    repo = path.slice(0, gitSuffix + '.git'.length);
    kustRoot = path.slice(gitSuffix + '.git'.length);
  } else if (allSegments) {
    repo = path;
    kustRoot = '';
  } else {
    const segments = path.split('/');
    if (segments.length < 2) return false;
    repo = segments.slice(0, 2).join('/');
    kustRoot = segments.slice(2).join('/');
  }
  if (repo === '') return false;
  // kustRootPathExitsRepo: the path inside the repository may not start by climbing out of it.
  return goCleanRelative(kustRoot.replace(/^\//, '')).split('/')[0] !== '..';
}

/** Go's filepath.Clean of a relative path (lexical; '' is '.'). */
export function goCleanRelative(path: string): string {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..' && out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else out.push(part);
  }
  return out.join('/') || '.';
}

/** strings.ToLower(s[:len(prefix)]) == prefix, for an ASCII prefix. */
function startsWithIgnoreCase(value: string, prefix: string): boolean {
  return value.length >= prefix.length && asciiLower(value.slice(0, prefix.length)) === prefix;
}

function asciiLower(value: string): string {
  return value.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/**
 * Go's strings.ToLower where the answer can matter for an ASCII comparison: ASCII letters, and
 * the two non-ASCII letters Go lowers to ASCII (U+0130 to i, the Kelvin sign U+212A to k).
 */
function goLower(value: string): string {
  return value.replace(/[A-Z\u0130\u212A]/g, (c) => (c === '\u0130' ? 'i' : c === '\u212A' ? 'k' : c.toLowerCase()));
}
