import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyGitFailure, redactUrlPassword, scrubSecrets } from './errors.ts';

/** OpenSSH 9.2 (git 2.39) when the server's host key is not the one known_hosts lists. */
const CHANGED_HOST_KEY = `@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @
@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!
Someone could be eavesdropping on you right now (man-in-the-middle attack)!
It is also possible that a host key has just been changed.
The fingerprint for the ED25519 key sent by the remote host is
SHA256:G7uJnBw/3l/uTX+YHLyCZl58CTDVOKfzyBWLk9hTzU8.
Please contact your system administrator.
Add correct host key in /tmp/tidemark-git-auth-27691-20kEVf/known_hosts to get rid of this message.
Offending ED25519 key in /tmp/tidemark-git-auth-27691-20kEVf/known_hosts:1
  remove with:
  ssh-keygen -f "/tmp/tidemark-git-auth-27691-20kEVf/known_hosts" -R "[127.0.0.1]:41875"
Host key for [127.0.0.1]:41875 has changed and you have requested strict checking.
Host key verification failed.
fatal: Could not read from remote repository.

Please make sure you have the correct access rights
and the repository exists.
`;

/** Real stderr from git 2.39 and common hosts, mapped to the code the user sees. */
const CASES: Array<[string, string, 'transient' | 'terminal']> = [
  // git 2.39 fetching into a full tmpfs, then a checkout and a lock file there.
  ['fatal: write error: No space left on device\nfatal: fetch-pack: invalid index-pack output', 'DiskFull', 'transient'],
  ["error: unable to write file d/cm-0.yaml\nfatal: cannot create directory at 'd': No space left on device", 'DiskFull', 'transient'],
  ["fatal: Unable to create '/cache/repo.git/shallow.lock': Disk quota exceeded", 'DiskFull', 'transient'],
  ["fatal: Authentication failed for 'https://host/org/repo.git/'", 'GitAuthenticationFailed', 'terminal'],
  ["fatal: could not read Username for 'http://127.0.0.1:4000': terminal prompts disabled", 'GitAuthenticationFailed', 'terminal'],
  [
    "remote: HTTP Basic: Access denied\nfatal: Authentication failed for 'https://gitlab.example/x.git/'",
    'GitAuthenticationFailed',
    'terminal',
  ],
  ['git@127.0.0.1: Permission denied (publickey).\nfatal: Could not read from remote repository.', 'GitAuthenticationFailed', 'terminal'],
  ['Host key verification failed.\nfatal: Could not read from remote repository.', 'GitHostKeyMismatch', 'terminal'],
  [
    'No ED25519 host key is known for [127.0.0.1]:2222 and you have requested strict checking.\nHost key verification failed.',
    'GitHostKeyMismatch',
    'terminal',
  ],
  [CHANGED_HOST_KEY, 'GitHostKeyMismatch', 'terminal'],
  // OpenSSH 9.2 against a port that answers non-SSH bytes, an HTTP server, and an SSH banner then junk.
  [
    'kex_exchange_identification: banner line contains invalid characters\n' +
      'banner exchange: Connection to 127.0.0.1 port 45505: invalid format\nfatal: Could not read from remote repository.',
    'GitCommandFailed',
    'transient',
  ],
  [
    'Bad packet length 16743034.\nssh_dispatch_run_fatal: Connection to 127.0.0.1 port 37503: message authentication code incorrect\n' +
      'fatal: Could not read from remote repository.',
    'GitCommandFailed',
    'transient',
  ],
  // sshd dropping a connection before its banner (MaxStartups, a restart) is a network matter.
  [
    'kex_exchange_identification: Connection closed by remote host\nConnection closed by 127.0.0.1 port 32947\n' +
      'fatal: Could not read from remote repository.',
    'GitUnreachable',
    'transient',
  ],
  ["fatal: unable to access 'http://127.0.0.1:4000/app.git/': The requested URL returned error: 403", 'GitPermissionDenied', 'terminal'],
  [
    "remote: Permission to org/repo.git denied to bot.\nfatal: unable to access 'https://github.com/org/repo.git/': The requested URL returned error: 403",
    'GitPermissionDenied',
    'terminal',
  ],
  [' ! [remote rejected] main -> main (pre-receive hook declined)\nerror: failed to push some refs', 'GitPermissionDenied', 'terminal'],
  ["fatal: repository 'http://127.0.0.1:4000/nope.git/' not found", 'GitRepositoryNotFound', 'terminal'],
  [
    "fatal: '/srv/nope.git' does not appear to be a git repository\nfatal: Could not read from remote repository.",
    'GitRepositoryNotFound',
    'terminal',
  ],
  ['remote: Repository not found.\nfatal: repository not found', 'GitRepositoryNotFound', 'terminal'],
  [
    'warning: Could not find remote branch nope to clone.\nfatal: Remote branch nope not found in upstream origin',
    'GitRefNotFound',
    'terminal',
  ],
  ["fatal: couldn't find remote ref refs/heads/nope", 'GitRefNotFound', 'terminal'],
  ['fatal: remote error: upload-pack: not our ref 0123456789012345678901234567890123456789', 'GitRefNotFound', 'terminal'],
  ["fatal: unable to access 'https://nohost.invalid/x.git/': Could not resolve host: nohost.invalid", 'GitUnreachable', 'transient'],
  [
    "fatal: unable to access 'http://127.0.0.1:1/x.git/': Failed to connect to 127.0.0.1 port 1 after 0 ms: Couldn't connect to server",
    'GitUnreachable',
    'transient',
  ],
  [
    'ssh: connect to host 127.0.0.1 port 1: Connection refused\nfatal: Could not read from remote repository.',
    'GitUnreachable',
    'transient',
  ],
  ["fatal: unable to access 'https://h/x.git/': The requested URL returned error: 502", 'GitUnreachable', 'transient'],
  ['error: RPC failed; curl 18 transfer closed\nfatal: early EOF', 'GitUnreachable', 'transient'],
  // A pack cut short by the connection: git blames the pack, curl says why (seen in the Git fault suite).
  [
    'error: RPC failed; curl 18 transfer closed with outstanding read data remaining\nfatal: protocol error: bad pack header',
    'GitUnreachable',
    'transient',
  ],
  // The same over SSH: sshd's channel closed in the middle of the pack (the SSH fault suite).
  [
    'fetch-pack: unexpected disconnect while reading sideband packet\nfatal: protocol error: bad pack header',
    'GitUnreachable',
    'transient',
  ],
  [
    " ! [rejected]        HEAD -> main (fetch first)\nerror: failed to push some refs to 'http://127.0.0.1:4000/app.git'",
    'GitPushRejected',
    'transient',
  ],
  [' ! [rejected]        HEAD -> main (non-fast-forward)', 'GitPushRejected', 'transient'],
  ['!\tHEAD:refs/heads/bot\t[rejected] (stale info)', 'GitPushRejected', 'transient'],
  [
    '!\tHEAD:refs/heads/main\t[remote rejected] (failed to update ref)\n' +
      "remote: error: cannot lock ref 'refs/heads/main': is at 80a605f2 but expected 467704b6",
    'GitPushRejected',
    'transient',
  ],
  ['fatal: something nobody has seen before', 'GitCommandFailed', 'transient'],
];

describe('classifyGitFailure', () => {
  for (const [stderr, expected, kind] of CASES) {
    it(`${expected} ← ${stderr.split('\n')[0]}`, () => {
      const err = classifyGitFailure({ operation: 'fetch', stderr });
      assert.equal(err.code, expected);
      assert.equal(err.kind, kind);
    });
  }

  it('reads stdout too (push --porcelain reports rejections there)', () => {
    const err = classifyGitFailure({
      operation: 'push',
      stderr: 'error: failed to push some refs',
      stdout: '!\tHEAD:refs/heads/main\t[rejected] (fetch first)\nDone',
    });
    assert.equal(err.code, 'GitPushRejected');
  });

  it('gives terminal auth errors a hint and keeps the message short and free of git chatter', () => {
    const err = classifyGitFailure({
      operation: 'ls-remote',
      url: 'https://host/repo.git',
      stderr: "hint: blah\nfatal: Authentication failed for 'https://host/repo.git/'\n",
    });
    assert.equal(err.hint, 'check the credentials in the Git secret');
    assert.match(err.message, /^git ls-remote https:\/\/host\/repo\.git failed: fatal: Authentication failed/);
    assert.doesNotMatch(err.message, /hint:/);
  });

  it("says which host key the server sent, without ssh's banner, advice and our temp paths", () => {
    const err = classifyGitFailure({ operation: 'ls-remote', url: 'ssh://git@127.0.0.1:41875/app.git', stderr: CHANGED_HOST_KEY });
    assert.equal(
      err.message,
      'git ls-remote ssh://***@127.0.0.1:41875/app.git failed: WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!; ' +
        'The fingerprint for the ED25519 key sent by the remote host is SHA256:G7uJnBw/3l/uTX+YHLyCZl58CTDVOKfzyBWLk9hTzU8.; ' +
        'Host key for [127.0.0.1]:41875 has changed and you have requested strict checking.; Host key verification failed.',
    );
    assert.match(err.hint ?? '', /known_hosts/);
  });

  it('scrubs userinfo and known secrets from the message', () => {
    const err = classifyGitFailure(
      {
        operation: 'fetch',
        stderr: "fatal: unable to access 'https://bob:s3cr3t-pw@host/x.git/': error s3cr3t-pw tok%2Fen",
      },
      ['s3cr3t-pw', 'tok/en'],
    );
    assert.doesNotMatch(err.message, /s3cr3t|bob:|tok/);
    assert.match(err.message, /https:\/\/\*\*\*@host/);
  });
});

describe('scrubSecrets', () => {
  it('removes userinfo from every URL, including user-only forms', () => {
    assert.equal(scrubSecrets('a https://u:p@h/x and ssh://git@h/y'), 'a https://***@h/x and ssh://***@h/y');
  });
  it('leaves very short secrets alone rather than shredding the text', () => {
    assert.equal(scrubSecrets('a b c', ['a']), 'a b c');
  });
});

describe('redactUrlPassword', () => {
  it('masks the password and keeps the user, host and path', () => {
    assert.equal(redactUrlPassword('https://deploy:s3cr%2Ft@git.example/org/app.git'), 'https://deploy:***@git.example/org/app.git');
  });
  it('leaves URLs without a password as they are', () => {
    for (const url of ['https://git.example/app.git', 'ssh://git@host/app.git', 'git@host:org/app.git', 'not a url']) {
      assert.equal(redactUrlPassword(url), url);
    }
  });
  it('masks everything up to the last @ of a URL that does not parse', () => {
    assert.equal(redactUrlPassword('https://u:p@ss@127.0.0.1:99999/app.git'), 'https://***@127.0.0.1:99999/app.git');
    assert.equal(redactUrlPassword('-https://u:pw@host/app.git'), '-https://***@host/app.git');
  });
});
