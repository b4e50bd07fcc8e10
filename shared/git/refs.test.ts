import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseLsRemote, pickSemverTag } from './refs.ts';
import { resolveFromRefs } from './remote.ts';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);

describe('parseLsRemote', () => {
  it('splits refs, peeled tags and the HEAD symref', () => {
    const parsed = parseLsRemote(
      `ref: refs/heads/main\tHEAD\n${A}\tHEAD\n${A}\trefs/heads/main\n${B}\trefs/tags/v1.0.0\n${C}\trefs/tags/v1.0.0^{}\ngarbage line\n`,
    );
    assert.equal(parsed.headTarget, 'refs/heads/main');
    assert.equal(parsed.refs.get('refs/heads/main'), A);
    assert.equal(parsed.refs.get('refs/tags/v1.0.0'), B);
    assert.equal(parsed.peeled.get('refs/tags/v1.0.0'), C);
    assert.equal(parsed.refs.size, 3);
  });
});

describe('resolveFromRefs', () => {
  const remote = parseLsRemote(
    [
      `ref: refs/heads/trunk\tHEAD`,
      `${A}\tHEAD`,
      `${A}\trefs/heads/trunk`,
      `${B}\trefs/tags/v1.0.0`,
      `${C}\trefs/tags/v1.0.0^{}`,
      `${A}\trefs/tags/v2.0.0`,
    ].join('\n'),
  );
  it('peels annotated tags to their commit', () => {
    assert.deepEqual(resolveFromRefs(remote, { kind: 'tag', tag: 'v1.0.0' }), {
      ref: 'v1.0.0',
      sha: C,
      revision: `v1.0.0@sha1:${C}`,
      verified: true,
    });
  });
  it('resolves the default branch through HEAD', () => {
    assert.equal(resolveFromRefs(remote, { kind: 'default' }).ref, 'trunk');
  });
  it('picks the newest tag in a semver range', () => {
    assert.equal(resolveFromRefs(remote, { kind: 'semver', range: '<2.0.0' }).sha, C);
    assert.equal(resolveFromRefs(remote, { kind: 'semver', range: '*' }).ref, 'v2.0.0');
  });
  it('says GitRefNotFound for a missing branch, tag or range', () => {
    for (const want of [
      { kind: 'branch', branch: 'main' },
      { kind: 'tag', tag: 'v9' },
      { kind: 'semver', range: '>=3' },
    ] as const) {
      assert.throws(() => resolveFromRefs(remote, want), { code: 'GitRefNotFound' });
    }
  });
  it('marks a pinned commit verified only when the server advertises it', () => {
    assert.equal(resolveFromRefs(remote, { kind: 'commit', commit: C }).verified, true);
    const unknown = resolveFromRefs(remote, { kind: 'commit', commit: 'd'.repeat(40), branch: 'trunk' });
    assert.deepEqual(unknown, {
      ref: 'trunk',
      sha: 'd'.repeat(40),
      revision: `trunk@sha1:${'d'.repeat(40)}`,
      verified: false,
    });
    assert.equal(resolveFromRefs(remote, { kind: 'commit', commit: 'd'.repeat(40) }).revision, `sha1:${'d'.repeat(40)}`);
  });
});

describe('pickSemverTag', () => {
  const tags = ['v1.0.0', '1.1.0', 'v1.2.0-rc.1', 'v1.2.0', 'v2.0.0-beta.1', 'v2.0.0', 'v2.1', 'latest', 'release-3.0.0', 'v10.0.0'];
  const cases: Array<[string, string | undefined]> = [
    ['>=1.0.0 <2.0.0', 'v1.2.0'],
    ['^1.0', 'v1.2.0'],
    ['~1.1', '1.1.0'],
    ['1.x', 'v1.2.0'],
    ['*', 'v10.0.0'],
    ['>=2.0.0 <3', 'v2.0.0'],
    ['>=3.0.0 <10', undefined],
    // Masterminds' rule: a pre-release in the range admits pre-releases in that group.
    ['>=1.2.0-0 <1.2.0', 'v1.2.0-rc.1'],
    ['>=2.0.0-0 <2.0.0 || ~1.1', 'v2.0.0-beta.1'],
    // ...but only in that group: `<2` must not let 2.0.0-beta.1 through.
    ['~1.1 || >=1.9 <2', '1.1.0'],
    ['v1.0.0', 'v1.0.0'],
    ['>=1.0.0, <1.2.0', '1.1.0'],
    ['1.0.x||~1.1', '1.1.0'],
  ];
  for (const [range, expected] of cases) {
    it(`${range} → ${expected}`, () => assert.equal(pickSemverTag(tags, range), expected));
  }
  it('ignores tags Flux does not read as versions (partial, V prefix, prefixed names)', () => {
    const odd = ['v2.1', 'V3.1.4', 'release-3.0.0', 'latest', '01.2.3', 'v1.0.0'];
    assert.equal(pickSemverTag(odd, '*'), 'v1.0.0');
  });
  it('reads ranges as Flux does: != and => are operators, pre-releases per || group', () => {
    assert.equal(pickSemverTag(tags, '!=1.2.0, ^1'), '1.1.0');
    assert.equal(pickSemverTag(tags, '=>2.0, <3'), 'v2.0.0');
    assert.equal(pickSemverTag(tags, '>=2.0.0-0 <2.0.0'), 'v2.0.0-beta.1');
    assert.equal(pickSemverTag(tags, '1.2 - 1.4.5'), 'v1.2.0');
  });
  it('breaks ties between v-prefixed and plain names deterministically', () => {
    assert.equal(pickSemverTag(['1.0.0', 'v1.0.0'], '*'), 'v1.0.0');
    assert.equal(pickSemverTag(['v1.0.0', '1.0.0'], '*'), 'v1.0.0');
  });
  it('refuses a range that does not parse, naming the field and the fault', () => {
    assert.throws(() => pickSemverTag(tags, 'not a range'), { code: 'GitInvalidSpec' });
    assert.throws(() => pickSemverTag(tags, '>=1 <<2'), {
      code: 'GitInvalidSpec',
      message: 'spec.git.semver ">=1 <<2" is not a valid range: unknown operator "<<" in "<<2" (use =, !=, >, <, >=, <=, ~, ~>, ^)',
    });
  });
});
