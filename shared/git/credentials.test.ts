import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { credentialsFromSecretData, prepareAuth, validateCredentials } from './credentials.ts';
import { gitEnvironment } from './run.ts';

const run = promisify(execFile);
const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----';
const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('credentialsFromSecretData', () => {
  it("maps Flux's secret keys", () => {
    assert.deepEqual(credentialsFromSecretData({ username: 'u', password: 'p' }), { username: 'u', password: 'p' });
    assert.deepEqual(credentialsFromSecretData({ bearerToken: 't', 'ca.crt': CA }), { bearerToken: 't', caFile: CA });
    assert.deepEqual(credentialsFromSecretData({ identity: KEY, known_hosts: 'h k', password: 'pp' }), {
      identity: KEY,
      knownHosts: 'h k',
      passphrase: 'pp',
    });
    assert.deepEqual(credentialsFromSecretData({ caFile: CA }), { caFile: CA });
    assert.equal(credentialsFromSecretData({}), undefined);
  });
  it('refuses half a pair', () => {
    assert.throws(() => credentialsFromSecretData({ username: 'u' }), { code: 'GitInvalidSpec' });
    assert.throws(() => credentialsFromSecretData({ identity: KEY }), { code: 'GitInvalidSpec' });
  });
});

describe('validateCredentials', () => {
  it('refuses line breaks that would cut an askpass answer short', () => {
    assert.throws(() => validateCredentials({ username: 'u', password: 'a\nb' }, 'http'), { code: 'GitInvalidSpec' });
  });
  it('requires a key and known_hosts for SSH', () => {
    assert.throws(() => validateCredentials(undefined, 'ssh'), { code: 'GitInvalidSpec' });
    assert.throws(() => validateCredentials({ username: 'u', password: 'p' }, 'ssh'), { code: 'GitInvalidSpec' });
    assert.throws(() => validateCredentials({ identity: KEY, knownHosts: ' ' }, 'ssh'), { code: 'GitInvalidSpec' });
    assert.throws(() => validateCredentials({ identity: 'not a key', knownHosts: 'h k' }, 'ssh'), {
      code: 'GitInvalidSpec',
    });
    validateCredentials({ identity: KEY, knownHosts: 'h k' }, 'ssh');
  });
  it('accepts anonymous HTTP and file access', () => {
    validateCredentials(undefined, 'http');
    validateCredentials(undefined, 'file');
  });
});

describe('prepareAuth', () => {
  const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

  it('answers username and password through an askpass script that reads private files', async () => {
    const auth = await prepareAuth({ username: 'bob', password: 'pa$$ "word\\' }, { url: 'https://git.example/r', kind: 'http' });
    try {
      const script = auth.env['GIT_ASKPASS']!;
      assert.equal(await modeOf(script), 0o700);
      assert.equal(await modeOf(dirname(script)), 0o700);
      assert.equal(await modeOf(join(dirname(script), 'password')), 0o600);
      assert.doesNotMatch(await readFile(script, 'utf8'), /bob|pa\$\$/, 'the script holds no secret');
      assert.doesNotMatch(JSON.stringify(auth.env), /bob|pa\$\$/, 'the environment holds no secret');
      assert.deepEqual(auth.secrets, ['pa$$ "word\\']);
      const ask = (prompt: string) =>
        new Promise<string>((resolve, reject) =>
          execFile(script, [prompt], { env: { ...process.env, ...auth.env } }, (err, out) =>
            err instanceof Error ? reject(err) : resolve(out),
          ),
        );
      assert.equal(await ask("Username for 'http://h': "), 'bob\n');
      assert.equal(await ask("Password for 'http://bob@h': "), 'pa$$ "word\\\n');
    } finally {
      await auth.dispose();
    }
    await assert.rejects(stat(auth.env['GIT_ASKPASS']!), { code: 'ENOENT' });
  });

  it('puts a bearer token and a CA into a private git config file, not the environment', async () => {
    const auth = await prepareAuth({ bearerToken: 'tok"123', caFile: CA }, { url: 'https://git.example/r', kind: 'http' });
    try {
      const configFile = auth.env['GIT_CONFIG_GLOBAL']!;
      assert.equal(await modeOf(configFile), 0o600);
      const config = await readFile(configFile, 'utf8');
      assert.match(config, /^\textraHeader = "Authorization: Bearer tok\\"123"$/m);
      const ca = /^\tsslCAInfo = "([^"]+)"$/m.exec(config)?.[1];
      assert.equal(await readFile(ca!, 'utf8'), CA);
      assert.doesNotMatch(JSON.stringify(gitEnvironment(auth.env)), /tok/);
      // git itself reads the file back as intended.
      const { stdout } = await run('git', ['config', '--global', '--get', 'http.extraHeader'], {
        env: gitEnvironment(auth.env),
      });
      assert.equal(stdout, 'Authorization: Bearer tok"123\n');
    } finally {
      await auth.dispose();
    }
  });

  it('writes SSH key material to 0600 files and pins host keys', async () => {
    const auth = await prepareAuth(
      { identity: KEY, knownHosts: '[127.0.0.1]:22 ssh-ed25519 AAAA' },
      { url: 'ssh://git@127.0.0.1/r', kind: 'ssh' },
    );
    try {
      const command = auth.env['GIT_SSH_COMMAND']!;
      assert.match(command, /-o StrictHostKeyChecking=yes/);
      assert.match(command, /-o IdentitiesOnly=yes/);
      assert.match(command, /-o BatchMode=yes/);
      assert.doesNotMatch(command, /BEGIN OPENSSH/);
      const keyFile = /-i '([^']+)'/.exec(command)?.[1];
      assert.ok(keyFile);
      assert.equal(await modeOf(keyFile), 0o600);
      assert.equal(await readFile(keyFile, 'utf8'), `${KEY}\n`);
    } finally {
      await auth.dispose();
    }
  });
});

describe('gitEnvironment', () => {
  it('drops inherited git settings and forces English, no prompts, no user config', () => {
    const env = gitEnvironment({}, [], {
      PATH: '/bin',
      GIT_ASKPASS: '/evil',
      GIT_SSH_COMMAND: 'evil',
      SSH_ASKPASS: '/evil',
      LANG: 'de_DE.UTF-8',
      GIT_CONFIG_PARAMETERS: "'core.sshCommand=evil'",
    });
    assert.equal(env['PATH'], '/bin');
    for (const key of ['GIT_ASKPASS', 'GIT_SSH_COMMAND', 'SSH_ASKPASS', 'LANG', 'GIT_CONFIG_PARAMETERS'])
      assert.equal(env[key], undefined, key);
    assert.equal(env['LC_ALL'], 'C');
    assert.equal(env['GIT_TERMINAL_PROMPT'], '0');
    assert.equal(env['GIT_CONFIG_GLOBAL'], '/dev/null');
    assert.equal(env['GIT_ALLOW_PROTOCOL'], 'http:https:ssh:file');
    assert.equal(env['GIT_CONFIG_KEY_0'], 'credential.helper');
    assert.equal(env['GIT_CONFIG_VALUE_0'], '');
  });
});
