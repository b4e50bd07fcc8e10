import assert from 'node:assert/strict';
import { it } from 'node:test';
import { main } from './main.ts';

async function run(...argv: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  // No kubeconfig anywhere: a program that got past its flags would fail to reach a cluster.
  const code = await main(argv, { out: () => undefined, err: (t) => void (err += t), env: { KUBECONFIG: '/nonexistent' } });
  return { code, err };
}

it('lockdown flags: names are checked before anything starts, and each flag only where it means something', async () => {
  for (const [argv, message] of [
    [['agent', '--default-service-account', 'Bad:Name'], /--default-service-account: "Bad:Name" is not a valid name/],
    [
      ['agent', '--default-service-account', 'default', '--agent-identity-namespaces', 'ok,Not_OK'],
      /--agent-identity-namespaces: "Not_OK"/,
    ],
    [['agent', '--agent-identity-namespaces', 'platform'], /--agent-identity-namespaces needs --default-service-account/],
    [['image-updater', '--default-service-account', 'default'], /flags of tidemark agent/],
  ] as const) {
    const { code, err } = await run(...argv);
    assert.equal(code, 2, `${argv.join(' ')}: ${err}`);
    assert.match(err, message);
  }
});
