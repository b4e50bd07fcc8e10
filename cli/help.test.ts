import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { COMMANDS, main, usage } from './main.ts';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  // No kubeconfig anywhere: a command that tried to reach a cluster would fail.
  const code = await main(argv, { out: (t) => void (out += t), err: (t) => void (err += t), env: { KUBECONFIG: '/nonexistent' } });
  return { code, out, err };
}

describe('tidemark --help', () => {
  it('lists every command of the table, with -h, --help, help and no arguments alike', async () => {
    for (const argv of [[], ['--help'], ['-h'], ['help']]) {
      const { code, out, err } = await run(...argv);
      assert.equal(code, 0, `tidemark ${argv.join(' ')}`);
      assert.equal(out, usage());
      assert.equal(err, '');
    }
    for (const command of COMMANDS) assert.match(usage(), new RegExp(`^  tidemark ${command.synopsis.replace(/[[\]|]/g, '\\$&')} `, 'm'));
  });
});

describe('tidemark COMMAND --help', () => {
  for (const command of COMMANDS) {
    it(`${command.name}: prints its own usage and exits 0`, async () => {
      assert.match(command.help, new RegExp(`^Usage:\\s+tidemark ${command.name}\\b`), 'the help starts with the usage line');
      const asked =
        command.name === 'get'
          ? [
              ['get', 'cd', '--help'],
              ['get', '--help'],
              ['get', 'images', '-h'],
            ]
          : [
              [command.name, '--help'],
              [command.name, '-h'],
            ];
      for (const argv of [...asked, ['help', command.name], [command.name, '-n', 'apps', '--help']]) {
        const { code, out, err } = await run(...argv);
        assert.equal(code, 0, `tidemark ${argv.join(' ')}: ${err}`);
        assert.equal(out, command.help, `tidemark ${argv.join(' ')}`);
      }
    });

    it(`${command.name}: an unknown option exits 2 and points at its help`, async () => {
      const argv = command.name === 'get' ? ['get', 'cd', '--bogus'] : [command.name, '--bogus'];
      const { code, out, err } = await run(...argv);
      assert.equal(code, 2, `tidemark ${argv.join(' ')}`);
      assert.equal(out, '');
      assert.match(err, /--bogus/);
      assert.match(err, new RegExp(`Run 'tidemark (${command.name} )?--help' for usage`));
    });
  }

  it('an unknown command exits 2', async () => {
    const { code, err } = await run('deploy');
    assert.equal(code, 2);
    assert.match(err, /unknown command "deploy"\nRun 'tidemark --help' for usage/);
  });

  it('diff takes --helm-binary, as the agent does, and says so in its help', async () => {
    const diff = COMMANDS.find((c) => c.name === 'diff');
    assert.match(diff?.help ?? '', /^ {2}--helm-binary PATH /m);
    // It gets past the flags to the cluster, which this run has none of.
    const { code, err } = await run('diff', 'shop', '--helm-binary', '/opt/helm');
    assert.equal(code, 2);
    assert.doesNotMatch(err, /helm-binary/);
  });

  it('-- ends the flags: a --help after it is not a request for help', async () => {
    const { code, out } = await run('status', '--', '--help');
    assert.equal(code, 2);
    assert.equal(out, '');
  });
});

describe('tidemark dashboard', () => {
  it('--help explains local and in-cluster use', async () => {
    const { code, out } = await run('dashboard', '--help');
    assert.equal(code, 0);
    for (const text of [
      'Local use',
      'In-cluster use',
      '--in-cluster',
      '--host NAME',
      '--secure',
      '--idle-timeout',
      '--session-lifetime D',
      '--max-sessions N',
      '--max-sessions-per-token N',
      '--login-failures N/D',
      '--login-failures-total N/D',
      '--trust-forwarded-for',
      'bearer token',
    ])
      assert.ok(out.includes(text), text);
  });

  it('in-cluster needs a host, and its flags are refused without it', async () => {
    assert.match((await run('dashboard', '--in-cluster')).err, /needs --host/);
    assert.match((await run('dashboard', '--host', 'x')).err, /--host is for --in-cluster only/);
    assert.match(
      (await run('dashboard', '--in-cluster', '--host', 'x', '--api-server', 'https://h', '--api-ca', '/nonexistent')).err,
      /cannot read the API server's CA/,
    );
    assert.match((await run('dashboard', '--max-sessions', '3')).err, /--max-sessions is for --in-cluster only/);
  });

  it('refuses malformed limits before starting', async () => {
    const ca = new URL('../package.json', import.meta.url).pathname;
    const start = (...flags: string[]) =>
      run('dashboard', '--in-cluster', '--host', 'x', '--api-server', 'https://h', '--api-ca', ca, ...flags);
    assert.match((await start('--login-failures', '10')).err, /--login-failures: "10" is not a limit such as 10\/5m/);
    assert.match((await start('--login-failures-total', '0/1m')).err, /--login-failures-total: "0\/1m" is not a limit/);
    assert.match((await start('--max-sessions', '0')).err, /--max-sessions must be a whole number of at least 1/);
    assert.match((await start('--max-sessions-per-token', 'two')).err, /--max-sessions-per-token must be a whole number/);
    assert.match((await start('--session-lifetime', '0')).err, /--session-lifetime must be a positive duration such as 12h/);
  });
});
