import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommitObject } from './commit-summary.ts';

const SHA = '4a1c2e9f00000000000000000000000000000000';

test('a commit object gives its subject, author and time', () => {
  const raw = [
    'tree 9bb2c3d400000000000000000000000000000000',
    'parent 1111111100000000000000000000000000000000',
    'author Ada Lovelace <ada@example.test> 1700000000 +0100',
    'committer Someone Else <else@example.test> 1700000100 +0000',
    '',
    'Raise the replicas to 3',
    '',
    'The shop needs more room on Fridays.',
    '',
  ].join('\n');
  assert.deepEqual(parseCommitObject(SHA, raw), {
    sha: SHA,
    subject: 'Raise the replicas to 3',
    author: { name: 'Ada Lovelace', email: 'ada@example.test' },
    authoredAt: '2023-11-14T22:13:20.000Z',
  });
});

test('a signed commit: the signature lines stay in the header, the subject is the message', () => {
  const raw = [
    'tree 9bb2c3d400000000000000000000000000000000',
    'author tidemark-bot <tidemark-bot@users.noreply.tidemark.dev> 1700000000 +0000',
    'committer tidemark-bot <tidemark-bot@users.noreply.tidemark.dev> 1700000000 +0000',
    'gpgsig -----BEGIN PGP SIGNATURE-----',
    ' ',
    ' iQEzBAABCAAdFiEE',
    ' -----END PGP SIGNATURE-----',
    '',
    'Update image automatically.',
    '',
  ].join('\n');
  const summary = parseCommitObject(SHA, raw);
  assert.equal(summary.subject, 'Update image automatically.');
  assert.equal(summary.author.name, 'tidemark-bot');
});

test('an empty message gives an empty subject', () => {
  assert.equal(parseCommitObject(SHA, 'tree 9bb2c3d400000000000000000000000000000000\nauthor A <a@b> 1 +0000\n\n').subject, '');
});
