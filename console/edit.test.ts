import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import type { ContinuousDeployment } from '../shared/api/continuous-deployment.ts';
import { KubeApiError } from '../shared/kube/errors.ts';
import { apiServerProblems, editableYaml, informationPatch, readEditedYaml } from './edit.ts';

const cd: ContinuousDeployment = {
  apiVersion: 'tidemark.dev/v1alpha1',
  kind: 'ContinuousDeployment',
  metadata: {
    name: 'web',
    namespace: 'apps',
    uid: 'u-1',
    resourceVersion: '42',
    generation: 3,
    managedFields: [{ manager: 'kubectl' }],
    annotations: { 'kubesphere.io/alias-name': 'Web' },
  },
  spec: { url: 'https://git.example/site.git', path: 'deploy' },
  status: { sync: { status: 'Synced' } },
};
const target = { namespace: 'apps', name: 'web' };

describe('Edit YAML', () => {
  it('shows the spec and the metadata a user owns, with the resourceVersion, without status', () => {
    assert.deepEqual(parse(editableYaml(cd)), {
      apiVersion: 'tidemark.dev/v1alpha1',
      kind: 'ContinuousDeployment',
      metadata: { name: 'web', namespace: 'apps', resourceVersion: '42', annotations: { 'kubesphere.io/alias-name': 'Web' } },
      spec: { url: 'https://git.example/site.git', path: 'deploy' },
    });
  });

  it('reads its own output back unchanged', () => {
    const read = readEditedYaml(editableYaml(cd), target);
    assert.ok(read.ok);
    assert.deepEqual(read.object.spec, cd.spec);
    assert.equal(read.object.metadata.resourceVersion, '42');
  });

  it('reports every problem at once, each by field', () => {
    const text = [
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata:',
      '  name: other',
      '  namespace: elsewhere',
      'spec:',
      '  path: deploy',
      '  pullInterval: often',
      '  colour: blue',
    ].join('\n');
    const read = readEditedYaml(text, target);
    assert.ok(!read.ok);
    const fields = read.problems.map((p) => p.field);
    for (const field of ['apiVersion', 'kind', 'metadata.name', 'metadata.namespace', 'spec.url', 'spec.pullInterval', 'spec.colour'])
      assert.ok(fields.includes(field), `${field} in ${JSON.stringify(read.problems)}`);
  });

  it('refuses text that is not one YAML mapping', () => {
    for (const text of ['a: [', '', 'a: 1\n---\nb: 2\n', '- 1\n']) {
      const read = readEditedYaml(text, target);
      assert.ok(!read.ok, JSON.stringify(text));
      assert.equal(read.problems[0]?.field, '');
    }
  });

  it("splits the API server's 422 message into fields", () => {
    const causes = [
      'spec.pullInterval: Invalid value: "x": spec.pullInterval in body should match \'^...$\'',
      'spec.prune: Invalid value: "string": spec.prune in body must be of type boolean: "string"',
    ];
    const err = new KubeApiError(422, 'Invalid', `ContinuousDeployment.tidemark.dev "web" is invalid: [${causes.join(', ')}]`);
    assert.deepEqual(
      apiServerProblems(err).map((p) => p.field),
      ['spec.pullInterval', 'spec.prune'],
    );
    assert.deepEqual(apiServerProblems(new KubeApiError(400, 'BadRequest', 'the body is bad')), [
      { field: '', message: 'the body is bad' },
    ]);
  });
});

describe('Edit Information', () => {
  it('sets the alias and description annotations; empty removes them', () => {
    assert.deepEqual(informationPatch({ alias: ' Web shop ', description: '' }), {
      ok: true,
      patch: { metadata: { annotations: { 'kubesphere.io/alias-name': 'Web shop', 'kubesphere.io/description': null } } },
    });
  });

  it("keeps KubeSphere's limits", () => {
    const result = informationPatch({ alias: 'x'.repeat(64), description: 7 });
    assert.deepEqual(result, {
      ok: false,
      problems: [
        { field: 'alias', message: 'must be at most 63 characters' },
        { field: 'description', message: 'must be text' },
      ],
    });
  });
});
