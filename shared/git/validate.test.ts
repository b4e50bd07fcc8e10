import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { refNameProblem, validateCommitSha, validateRefName, validateRefSpec, validateRepositoryUrl } from './validate.ts';

const SHA = 'a'.repeat(40);

function code(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

describe('validateRepositoryUrl', () => {
  for (const [url, kind] of [
    ['https://github.com/org/repo.git', 'http'],
    ['http://127.0.0.1:8080/repo.git', 'http'],
    ['https://user@host.example/repo', 'http'],
    ['ssh://git@host.example:2222/org/repo.git', 'ssh'],
    ['git@github.com:org/repo.git', 'ssh'],
    ['host.example:org/repo.git', 'ssh'],
    ['file:///srv/git/repo.git', 'file'],
  ] as const) {
    it(`accepts ${url}`, () => assert.deepEqual(validateRepositoryUrl(url), { url, kind }));
  }

  for (const url of [
    '',
    '-uhttps://x/y',
    '--upload-pack=touch /tmp/x',
    'https://user:secret@host/repo.git',
    'ext::sh -c touch% /tmp/pwned',
    'fd::17',
    'ftp://host/repo.git',
    'ssh://-oProxyCommand=touch%20x/repo',
    'git@-oProxyCommand=x:repo',
    'git@host:-repo',
    'https://host/repo.git\nfoo',
    'https://host/repo .git',
    '/srv/git/repo.git',
    'file://remote.example/srv/repo.git',
    'https://host',
  ]) {
    it(`refuses ${JSON.stringify(url)}`, () =>
      assert.equal(
        code(() => validateRepositoryUrl(url)),
        'GitInvalidSpec',
      ));
  }

  // The last two do not parse (a port out of range, a bracket never closed): that message once
  // quoted the URL whole, and the secret scan of the fault suite found it in status and Events.
  for (const url of [
    'https://user:hunter2@host/repo.git',
    'https://user:hunter2@127.0.0.1:99999/repo.git',
    'https://user:hunter2@[::1/repo.git',
    '-https://user:hunter2@host/repo.git',
  ]) {
    it(`never echoes a password back: ${url}`, () => {
      try {
        validateRepositoryUrl(url);
        assert.fail('accepted');
      } catch (err) {
        assert.doesNotMatch((err as Error).message, /hunter2/);
      }
    });
  }
});

describe('ref names', () => {
  for (const name of ['main', 'release/1.x', 'feature/a-b_c', 'v1.2.3', 'user@host', 'a.b']) {
    it(`accepts ${name}`, () => assert.equal(refNameProblem(name), undefined));
  }
  for (const name of [
    '',
    '-x',
    '--upload-pack=touch /tmp/x',
    'a..b',
    'a b',
    'a~1',
    'a^',
    'a:b',
    'a?',
    'a*',
    'a[',
    'a\\b',
    'a@{1}',
    '@',
    '/a',
    'a/',
    'a//b',
    'a.',
    '.a',
    'a/.b',
    'a.lock',
    'a/b.lock/c',
    'a\x7f',
    'a\tb',
    'x'.repeat(256),
  ]) {
    it(`refuses ${JSON.stringify(name)}`, () =>
      assert.equal(
        code(() => validateRefName('branch', name)),
        'GitInvalidSpec',
      ));
  }
});

describe('validateCommitSha', () => {
  it('accepts full SHA-1 and SHA-256, lower-casing them', () => {
    assert.equal(validateCommitSha('A'.repeat(40)), SHA);
    assert.equal(validateCommitSha('b'.repeat(64)), 'b'.repeat(64));
  });
  for (const sha of ['abc1234', 'g'.repeat(40), `${SHA}0`, `-${SHA.slice(1)}`]) {
    it(`refuses ${sha}`, () =>
      assert.equal(
        code(() => validateCommitSha(sha)),
        'GitInvalidSpec',
      ));
  }
});

describe('validateRefSpec', () => {
  it('follows Flux precedence: commit, semver, tag, branch', () => {
    assert.deepEqual(validateRefSpec({ branch: 'main', tag: 'v1', semver: '^1', commit: SHA }), {
      kind: 'commit',
      commit: SHA,
      branch: 'main',
    });
    assert.deepEqual(validateRefSpec({ branch: 'main', tag: 'v1', semver: '^1' }), { kind: 'semver', range: '^1' });
    assert.deepEqual(validateRefSpec({ branch: 'main', tag: 'v1' }), { kind: 'tag', tag: 'v1' });
    assert.deepEqual(validateRefSpec({ branch: 'main' }), { kind: 'branch', branch: 'main' });
    assert.deepEqual(validateRefSpec({ commit: SHA }), { kind: 'commit', commit: SHA });
  });
  it('follows the default branch when nothing is set', () => {
    assert.deepEqual(validateRefSpec(undefined), { kind: 'default' });
    assert.deepEqual(validateRefSpec({}), { kind: 'default' });
  });
  it('refuses option-like and empty values', () => {
    assert.equal(
      code(() => validateRefSpec({ branch: '--upload-pack=touch /tmp/x' })),
      'GitInvalidSpec',
    );
    assert.equal(
      code(() => validateRefSpec({ tag: '-v1' })),
      'GitInvalidSpec',
    );
    assert.equal(
      code(() => validateRefSpec({ branch: '' })),
      'GitInvalidSpec',
    );
    assert.equal(
      code(() => validateRefSpec({ commit: SHA, branch: '-x' })),
      'GitInvalidSpec',
    );
  });
});
