import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commitProblem, imageProblem, namespaceProblem, objectNameProblem } from './names.ts';

test('image names: repository only, in the distribution grammar', () => {
  const valid = [
    'nginx',
    'library/nginx',
    'docker.io/library/nginx',
    'ghcr.io/org/app',
    'localhost:5000/app',
    '127.0.0.1:5000/team/app',
    'Registry.Example.com/a/b',
    'a/b__c/d-e.f_g',
    'app--x',
  ];
  for (const image of valid) assert.equal(imageProblem(image), undefined, image);
  const invalid: [string, RegExp][] = [
    ['nginx:1.25', /must not include a tag/],
    ['localhost:5000', /must not include a tag/],
    ['ghcr.io/org/app@sha256:abc', /must not include a digest/],
    ['https://ghcr.io/org/app', /must not include a scheme/],
    ['-app', /must not start with "-"/],
    ['Org/App', /not a valid image repository/],
    ['org//app', /not a valid image repository/],
    ['org/app/', /not a valid image repository/],
    ['org/.app', /not a valid image repository/],
    ['my app', /whitespace/],
    ['', /must not be empty/],
    [`a/${'b'.repeat(260)}`, /at most 255/],
  ];
  for (const [image, message] of invalid) assert.match(imageProblem(image) ?? '', message, image);
});

test('object names and namespaces: DNS-1123', () => {
  for (const name of ['a', 'app-1', 'a.b.c', 'x'.repeat(253)]) assert.equal(objectNameProblem(name), undefined, name);
  for (const name of ['', 'App', 'a_b', '-a', 'a-', 'x'.repeat(254)]) assert.ok(objectNameProblem(name), name);
  for (const ns of ['apps', 'a-b', 'x'.repeat(63)]) assert.equal(namespaceProblem(ns), undefined, ns);
  for (const ns of ['', 'a.b', 'Apps', 'x'.repeat(64)]) assert.ok(namespaceProblem(ns), ns);
});

test('commit SHAs: full SHA-1 or SHA-256 only, with a message that says what is wrong', () => {
  assert.equal(commitProblem('a'.repeat(40)), undefined);
  assert.equal(commitProblem('F'.repeat(64)), undefined);
  assert.match(commitProblem('abc1234') ?? '', /^"abc1234" is an abbreviated commit SHA; the full SHA is needed to fetch it$/);
  assert.match(commitProblem('a'.repeat(50)) ?? '', /has 50 hex digits; a commit SHA has 40 \(SHA-1\) or 64 \(SHA-256\)/);
  assert.match(commitProblem('main') ?? '', /^"main" is not a commit SHA/);
  assert.equal(commitProblem(''), 'must not be empty');
});
