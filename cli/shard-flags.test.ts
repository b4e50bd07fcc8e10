import assert from 'node:assert/strict';
import { it } from 'node:test';
import { main } from './main.ts';

async function run(...argv: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  // No kubeconfig anywhere: a program that got past its flags would fail to reach a cluster.
  const code = await main(argv, { out: () => undefined, err: (t) => void (err += t), env: { KUBECONFIG: '/nonexistent' } });
  return { code, err };
}

it('--shard-auto: refused with --leader-elect, on other programs, and with a group no Lease could be named by', async () => {
  for (const [argv, message] of [
    [['agent', '--shard-auto', '--leader-elect'], /--shard-auto and --leader-elect exclude each other/],
    [['image-updater', '--shard-auto'], /--shard-auto is a flag of tidemark agent/],
    [['agent', '--shard-group', 'agents'], /--shard-group needs --shard-auto/],
    [['agent', '--shard-auto', '--shard-group', 'Agents_1'], /--shard-group must be lower-case/],
    [
      ['agent', '--shard-auto', '--leader-election-lease-duration', '2s', '--leader-election-renew-deadline', '3s'],
      /renew-deadline must be shorter/,
    ],
  ] as const) {
    const { code, err } = await run(...argv);
    assert.equal(code, 2, `${argv.join(' ')}: ${err}`);
    assert.match(err, message);
  }
});
