import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../shared/kube/object.ts';
import { collectVariables, secretValues, substituteObjects } from './index.ts';

const deployment = (extra: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web-${env}', namespace: 'apps', annotations: { ...extra } },
  spec: { replicas: '${replicas}' as unknown as number, template: { spec: { containers: [{ name: 'c', image: 'nginx:${tag:=1.27}' }] } } },
});

describe('substituteObjects: on the serialized object, as Flux', () => {
  it('fills strings and lets a variable set a number', () => {
    const variables = collectVariables([], { env: 'prod', replicas: '3' });
    const [out] = substituteObjects([deployment()], variables, { strict: true });
    assert.equal(out?.metadata.name, 'web-prod');
    assert.equal((out?.spec as { replicas: unknown }).replicas, 3);
    assert.deepEqual(
      (out?.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]?.image,
      'nginx:1.27',
    );
  });

  it('a missing variable names itself and the object', () => {
    const variables = collectVariables([], { env: 'prod' });
    assert.throws(
      () => substituteObjects([deployment()], variables, { strict: true }),
      (err: Error & { code?: string; hint?: string }) =>
        err.code === 'SubstitutionFailed' &&
        /Deployment\/apps\/web-\$\{env\}/.test(err.message) &&
        /"replicas"/.test(err.message) &&
        /replicas/.test(err.hint ?? ''),
    );
  });

  it('an object opts out with the Flux annotation or ours, or a label', () => {
    const variables = collectVariables([], {});
    for (const key of ['kustomize.toolkit.fluxcd.io/substitute', 'tidemark.dev/substitute']) {
      const obj = deployment({ [key]: 'disabled' });
      assert.equal(substituteObjects([obj], variables, { strict: true })[0], obj);
    }
    const labelled: KubeObject = {
      ...deployment(),
      metadata: { name: '${x}', labels: { 'kustomize.toolkit.fluxcd.io/substitute': 'disabled' } },
    };
    assert.equal(substituteObjects([labelled], variables, { strict: true })[0], labelled);
  });

  it('sources in order, inline values last; Secret-sourced values are remembered for masking', () => {
    const variables = collectVariables(
      [
        { kind: 'ConfigMap', name: 'a', data: { env: 'dev', region: 'eu' } },
        { kind: 'Secret', name: 'b', data: { token: 's3cr\net', env: 'staging' } },
      ],
      { region: 'us' },
    );
    assert.equal(variables.values.get('env'), 'staging');
    assert.equal(variables.values.get('region'), 'us');
    assert.equal(variables.values.get('token'), 's3cret', 'line breaks are removed, as Flux does');
    assert.deepEqual(secretValues(variables).sort(), ['s3cret', 'staging']);
  });

  it('a source key that is no variable name is refused', () => {
    assert.throws(() => collectVariables([{ kind: 'ConfigMap', name: 'a', data: { 'bad-key': 'x' } }], {}), /ConfigMap a: key "bad-key"/);
  });

  it('a value that breaks the YAML is refused without quoting it', () => {
    const variables = collectVariables([{ kind: 'Secret', name: 's', data: { v: '[unclosed' } }], {});
    const obj: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { a: '${v}' } };
    assert.throws(
      () => substituteObjects([obj], variables, { strict: true }),
      (err: Error & { code?: string }) => err.code === 'SubstitutionFailed' && !err.message.includes('unclosed'),
    );
  });

  it('objects without a $ come back untouched (same reference)', () => {
    const obj: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { a: 'b' } };
    assert.equal(substituteObjects([obj], collectVariables([], {}), { strict: true })[0], obj);
  });
});
