import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { unifiedDiff } from '../text-diff.ts';
import { maskSecrets, maskValues } from './secret-mask.ts';

const secret = (data: Record<string, string>, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 's', namespace: 'ns' },
  data,
  ...extra,
});

test('Secret values never reach the diff; changed keys say before/after, unchanged and one-sided keys ***', () => {
  const live = secret(
    { same: 'c2FtZQ==', changed: 'b2xkLXBhc3N3b3Jk', gone: 'Z29uZQ==' },
    { metadata: { name: 's', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"data":{"changed":"b2xk"}}' } } },
  );
  const git = secret({ same: 'c2FtZQ==', changed: 'bmV3LXBhc3N3b3Jk', added: 'YWRkZWQ=' }, { stringData: { plain: 'hunter2' } });
  const { before, after } = maskSecrets(live, git);
  assert.deepEqual(before?.data, { same: '***', changed: '***** (before)', gone: '***' });
  assert.deepEqual(after?.data, { same: '***', changed: '***** (after)', added: '***' });
  assert.deepEqual(after?.stringData, { plain: '***' });
  const text = unifiedDiff(stringify(before), stringify(after), { from: 'live', to: 'git' });
  for (const value of ['c2FtZQ==', 'b2xk', 'bmV3', 'Z29uZQ==', 'YWRkZWQ=', 'hunter2']) assert.ok(!text.includes(value), text);
  assert.match(text, /^- {2}changed: "\*\*\*\*\* \(before\)"$/m);
  assert.match(text, /^\+ {2}changed: "\*\*\*\*\* \(after\)"$/m);
  assert.match(text, /^- {2}gone: "\*\*\*"$/m);
  assert.match(text, /^\+ {2}added: "\*\*\*"$/m);
  assert.match(text, /^ {3}same: "\*\*\*"$/m);
  // The inputs are left as they were.
  assert.equal(live.data.changed, 'b2xkLXBhc3N3b3Jk');
});

test('a Secret being created is masked whole; other kinds pass through untouched', () => {
  const { before, after } = maskSecrets(undefined, secret({ token: 'dG9rZW4=' }));
  assert.equal(before, undefined);
  assert.deepEqual(after?.data, { token: '***' });
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { color: 'blue' } };
  assert.equal(maskSecrets(cm, cm).after, cm);
});

test('decrypted values and variables from Secrets are masked in any kind and field', () => {
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', annotations: { note: 'token=s3cret-token;region=eu' } },
    spec: {
      replicas: 7,
      template: {
        spec: {
          containers: [
            {
              env: [
                { name: 'TOKEN', value: 's3cret-token' },
                { name: 'N', value: 'public' },
              ],
            },
          ],
        },
      },
    },
  };
  const masked = maskValues(deployment, ['s3cret-token', '7', 's3cret']);
  const text = stringify(masked);
  assert.ok(!text.includes('s3cret'), text);
  assert.match(text, /note: token=\*\*\*;region=eu/);
  assert.match(text, /replicas: "\*\*\*"/);
  assert.match(text, /value: public/);
  assert.equal(deployment.spec.replicas, 7, 'the input is left as it was');
  assert.equal(maskValues(deployment, []), deployment);
});
