import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectorMatches } from '../kube/selector.ts';
import { parseSelector } from '../kube/selector.ts';
import { crossNamespaceDependencies, parsePointer, Problems, validateContinuousDeploymentSpec, type DeploymentConfig } from './index.ts';

const URL = 'https://git.example.com/org/config';

function read(extra: Record<string, unknown>): DeploymentConfig {
  const result = validateContinuousDeploymentSpec({ url: URL, ...extra });
  if (!result.ok) assert.fail(result.errors.map((e) => e.message).join('\n'));
  return result.value;
}

function problems(extra: Record<string, unknown>): string[] {
  const result = validateContinuousDeploymentSpec({ url: URL, ...extra });
  assert.equal(result.ok, false, 'expected problems');
  return result.ok ? [] : result.errors.map((e) => `${e.code} ${e.message}`);
}

test('dependsOn: deployments by name (namespace optional), objects by apiVersion and kind, readyExpr compiled', () => {
  const config = read({
    dependsOn: [
      { name: 'infra' },
      { name: 'crds', namespace: 'platform', readyExpr: "dep.status.health.status == 'Healthy'" },
      { apiVersion: 'apps/v1', kind: 'Deployment', name: 'db', namespace: 'data' },
      { apiVersion: 'tidemark.dev/v1alpha1', kind: 'ContinuousDeployment', name: 'net' },
    ],
  });
  const deps = config.dependsOn;
  assert.deepEqual(
    deps.map((d) => [d.at, d.object?.kind, d.name, d.namespace, d.readyExpr?.source]),
    [
      ['spec.dependsOn[0]', undefined, 'infra', undefined, undefined],
      ['spec.dependsOn[1]', undefined, 'crds', 'platform', "dep.status.health.status == 'Healthy'"],
      ['spec.dependsOn[2]', 'Deployment', 'db', 'data', undefined],
      // Naming our own kind is the same as naming a deployment.
      ['spec.dependsOn[3]', undefined, 'net', undefined, undefined],
    ],
  );
});

test('dependsOn: every problem at once, each with its field path', () => {
  const list = problems({
    dependsOn: [
      { namespace: 'x' },
      { name: 'Bad_Name' },
      { kind: 'Deployment', name: 'web' },
      { name: 'a', readyExpr: 'dep.status ==' },
      { name: 'a', extra: 1 },
      { name: 'b' },
      { name: 'b' },
      'c',
    ],
  });
  assert.deepEqual(list, [
    'InvalidSpec spec.dependsOn[0].name: is required',
    "InvalidSpec spec.dependsOn[1].name: \"Bad_Name\" is not a valid name (lowercase letters, digits, '-' and '.')",
    'InvalidSpec spec.dependsOn[2].apiVersion: is required with kind',
    list[3]!,
    'InvalidSpec spec.dependsOn[4].extra: unknown field',
    'InvalidSpec spec.dependsOn[6]: repeats spec.dependsOn[5]',
    'InvalidSpec spec.dependsOn[7]: must be an object, not string "c"',
  ]);
  assert.match(list[3]!, /^InvalidCELExpression spec\.dependsOn\[3\]\.readyExpr: /);
});

test('dependsOn under --no-cross-namespace-refs: another namespace is a problem of the spec', () => {
  const config = read({ dependsOn: [{ name: 'a' }, { name: 'b', namespace: 'team' }, { name: 'c', namespace: 'other' }] });
  const found = new Problems();
  crossNamespaceDependencies(found, config.dependsOn, 'team');
  assert.deepEqual(
    found.errors.map((e) => e.message),
    ['spec.dependsOn[2].namespace: "other" is another namespace, and cross-namespace references are disabled (--no-cross-namespace-refs)'],
  );
});

test('ignore: pointers decoded, managers kept, target patterns anchored, selectors parsed', () => {
  const config = read({
    ignore: [
      {
        paths: ['/spec/replicas', '/metadata/annotations/a~1b~0c'],
        target: { kind: 'Deployment|StatefulSet', name: 'web-.*', labelSelector: 'app=web,tier notin (db)' },
      },
      { managedFieldsManagers: ['kube-controller-manager'] },
    ],
  });
  const [first, second] = config.ignore;
  assert.deepEqual(first!.paths, [
    ['spec', 'replicas'],
    ['metadata', 'annotations', 'a/b~c'],
  ]);
  assert.equal(first!.target!.kind!.test('Deployment'), true);
  assert.equal(first!.target!.kind!.test('DeploymentX'), false);
  assert.equal(first!.target!.name!.test('web-1'), true);
  assert.equal(first!.target!.name!.test('x-web-1'), false);
  assert.equal(selectorMatches(first!.target!.labelSelector!, { app: 'web' }), true);
  assert.equal(selectorMatches(first!.target!.labelSelector!, { app: 'web', tier: 'db' }), false);
  assert.deepEqual(second, { at: 'spec.ignore[1]', paths: [], managers: ['kube-controller-manager'], target: undefined });
});

test('ignore: every problem at once, each with its field path', () => {
  const list = problems({
    ignore: [
      { paths: ['spec/replicas', '/a~2', '/metadata', '/kind', '/metadata/labels/tidemark.dev~1name'] },
      {},
      { managedFieldsManagers: ['tidemark', ''] },
      { paths: ['/spec'], target: { name: '(', labelSelector: 'a in b', other: 'x' } },
      { paths: 'x' },
    ],
  });
  assert.deepEqual(list, [
    'InvalidSpec spec.ignore[0].paths[0]: "spec/replicas" is not a JSON pointer (it starts with "/")',
    'InvalidSpec spec.ignore[0].paths[1]: "/a~2" has "~" not followed by 0 or 1 (write ~0 for "~", ~1 for "/")',
    'InvalidSpec spec.ignore[0].paths[2]: "/metadata" would remove metadata.name, which every applied object needs',
    'InvalidSpec spec.ignore[0].paths[3]: "/kind" would remove kind, which every applied object needs',
    'InvalidSpec spec.ignore[0].paths[4]: "/metadata/labels/tidemark.dev~1name" would remove metadata.labels.tidemark.dev/name, ' +
      'which every applied object needs',
    'InvalidSpec spec.ignore[1]: names no field',
    'InvalidSpec spec.ignore[2].managedFieldsManagers[0]: "tidemark" is the agent\'s own field manager',
    'InvalidSpec spec.ignore[2].managedFieldsManagers[1]: must not be empty',
    'InvalidSpec spec.ignore[3].target.other: unknown field',
    list[9]!,
    'InvalidSpec spec.ignore[3].target.labelSelector: "a in b" is not a requirement ' +
      '(key=value, key!=value, key in (a,b), key notin (a,b), key, !key)',
    'InvalidSpec spec.ignore[4].paths: must be a list of strings, not string "x"',
  ]);
  assert.match(list[9]!, /^InvalidSpec spec\.ignore\[3\]\.target\.name: "\(" is not a valid RE2 pattern/);
});

test('JSON pointers: RFC 6901 escapes', () => {
  assert.deepEqual(parsePointer('/spec/template/spec/containers/0/image'), {
    tokens: ['spec', 'template', 'spec', 'containers', '0', 'image'],
  });
  assert.deepEqual(parsePointer('/data/~01'), { tokens: ['data', '~1'] });
});

test('label selectors: Kubernetes semantics for each operator', () => {
  const sel = (text: string) => {
    const parsed = parseSelector(text);
    if ('problem' in parsed) assert.fail(parsed.problem);
    return parsed.selector;
  };
  const labels = { app: 'web', env: 'prod' };
  assert.equal(selectorMatches(sel('app=web'), labels), true);
  assert.equal(selectorMatches(sel('app==web,env!=dev'), labels), true);
  assert.equal(selectorMatches(sel('env in (dev, test)'), labels), false);
  assert.equal(selectorMatches(sel('env notin (dev,test),app'), labels), true);
  assert.equal(selectorMatches(sel('!legacy'), labels), true);
  assert.equal(selectorMatches(sel('!app'), labels), false);
  assert.equal(selectorMatches(sel('missing!=x'), labels), true);
  assert.equal(selectorMatches(sel('missing=x'), undefined), false);
  assert.ok('problem' in parseSelector('a=b,,c'));
});
