import { test } from 'node:test';
import assert from 'node:assert/strict';
import semver from 'semver';
import { compareVersions, parseTagVersion } from './semver-version.ts';

test('tags parse as Flux reads them: strict X.Y.Z with an optional v', () => {
  // fluxcd/pkg version_test.go, then our own edges.
  const cases: [string, boolean][] = [
    ['v1.2.3', true],
    ['v1.0', false],
    ['v1', false],
    ['v1.2.beta', false],
    ['v1.2-5', false],
    ['v1.2-beta.5', false],
    ['\nv1.2', false],
    ['v1.2.0-x.Y.0+metadata', true],
    ['v1.2.0-x.Y.0+metadata-width-hypen', true],
    ['v1.2.3-rc1-with-hypen', true],
    ['v1.2.3.4', false],
    ['1.2.3', true],
    ['1.2', false],
    ['V1.2.3', false],
    ['vv1.2.3', false],
    ['01.2.3', false],
    ['1.02.3', false],
    ['1.2.3-01', false],
    ['1.2.3-0', true],
    ['1.2.3-0a', true],
    ['1.2.3-', false],
    ['1.2.3+', false],
    ['1.2.3-rc..1', false],
    ['1.2.3 ', false],
    ['latest', false],
    ['18446744073709551615.0.0', true],
    ['18446744073709551616.0.0', false],
    [`1.2.3-${'a'.repeat(260)}`, false],
  ];
  for (const [tag, valid] of cases) assert.equal(parseTagVersion(tag) !== undefined, valid, JSON.stringify(tag));
  assert.deepEqual(parseTagVersion('v1.2.3-rc.1+build.5'), {
    major: 1n,
    minor: 2n,
    patch: 3n,
    pre: 'rc.1',
    metadata: 'build.5',
    original: 'v1.2.3-rc.1+build.5',
  });
});

test('precedence agrees with npm semver on the semver.org ordering and more', () => {
  const versions = [
    '0.0.1',
    '0.1.0',
    '1.0.0-0',
    '1.0.0-1',
    '1.0.0-A',
    '1.0.0-a-b',
    '1.0.0-alpha',
    '1.0.0-alpha.1',
    '1.0.0-alpha.beta',
    '1.0.0-beta',
    '1.0.0-beta.2',
    '1.0.0-beta.11',
    '1.0.0-rc.1',
    '1.0.0',
    '1.0.0+build',
    '1.0.1',
    '1.1.0',
    '1.10.0',
    '2.0.0-x.1.y',
    '2.0.0-x.1',
    '2.0.0',
    '10.0.0',
  ];
  for (const a of versions) {
    for (const b of versions) {
      const ours = Math.sign(compareVersions(parseTagVersion(a)!, parseTagVersion(b)!));
      assert.equal(ours, semver.compare(a, b), `${a} vs ${b}`);
    }
  }
});

test('numbers beyond 2^53 compare exactly', () => {
  const a = parseTagVersion('9007199254740993.0.0')!;
  const b = parseTagVersion('9007199254740992.0.0')!;
  assert.equal(compareVersions(a, b), 1);
  assert.equal(compareVersions(parseTagVersion('1.0.0-9007199254740993')!, parseTagVersion('1.0.0-9007199254740992')!), 1);
});

test('build metadata and the v prefix do not affect precedence', () => {
  assert.equal(compareVersions(parseTagVersion('v1.0.0')!, parseTagVersion('1.0.0+b.7')!), 0);
});
