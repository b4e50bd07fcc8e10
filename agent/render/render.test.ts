import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { spawnSync } from 'node:child_process';
import { kubectlTools } from '../../test/harness/tools.ts';
import { renderPath } from './index.ts';

async function tree(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'tidemark-render-'));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return root;
}

const cm = (name: string, extra = '') => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${extra}data:\n  a: "1"\n`;
const names = (objects: Array<{ object: { kind: string; metadata: { name: string } } }>) => objects.map((o) => `${o.object.kind}/${o.object.metadata.name}`);

describe('render: plain YAML', () => {
  const roots: string[] = [];
  after(async () => Promise.all(roots.map((r) => rm(r, { recursive: true, force: true }))));
  const make = async (files: Record<string, string>) => {
    const root = await tree(files);
    roots.push(root);
    return root;
  };

  it('walks nested directories in byte order, reads multi-document files, lists and JSON, skips dot-dirs', async () => {
    const root = await make({
      'deploy/b.yaml': `${cm('b1')}---\n${cm('b2')}\n---\n`,
      'deploy/a/z.yml': cm('az'),
      'deploy/B.json': JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'json' } }),
      'deploy/list.yaml': `apiVersion: v1\nkind: List\nitems:\n  - ${JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'l1' } })}\n`,
      'deploy/.hidden/x.yaml': cm('hidden'),
      'deploy/notes.txt': 'not yaml',
      'elsewhere/x.yaml': cm('outside-path'),
    });
    const objects = await renderPath(root, './deploy');
    assert.deepEqual(names(objects), ['ConfigMap/json', 'ConfigMap/az', 'ConfigMap/b1', 'ConfigMap/b2', 'ConfigMap/l1']);
    assert.deepEqual(objects[2]!.source, { file: 'deploy/b.yaml', document: 1 });
  });

  it('reads YAML 1.2: `yes` stays a string', async () => {
    const root = await make({ 'cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  enabled: yes\n  port: "80"\n' });
    const [only] = await renderPath(root, '.');
    assert.deepEqual(only!.object.data, { enabled: 'yes', port: '80' });
  });

  it('broken YAML names the file and line', async () => {
    const root = await make({ 'ok.yaml': cm('ok'), 'bad.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n data: [unclosed\n' });
    await assert.rejects(renderPath(root, '.'), (err: Error & { code?: string }) => err.code === 'ManifestParseFailed' && /bad\.yaml:\d+:\d+/.test(err.message));
  });

  it('objects without apiVersion, kind or name are refused with the file and document', async () => {
    for (const [doc, what] of [['kind: ConfigMap\nmetadata: {name: a}\n', 'apiVersion'], ['apiVersion: v1\nmetadata: {name: a}\n', 'kind'], ['apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n', 'metadata.name'], ['- just\n- a list\n', 'mapping']] as const) {
      const root = await make({ 'x.yaml': `${cm('first')}---\n${doc}` });
      await assert.rejects(renderPath(root, '.'), (err: Error & { code?: string }) => err.code === 'ManifestInvalid' && err.message.includes('x.yaml document 2') && err.message.includes(what), what);
    }
  });

  it('duplicates across files are refused, naming both files', async () => {
    const root = await make({ 'a.yaml': cm('same', '  namespace: n\n'), 'b.yaml': cm('same', '  namespace: n\n') });
    await assert.rejects(renderPath(root, '.'), (err: Error & { code?: string }) => err.code === 'DuplicateObject' && err.message.includes('a.yaml') && err.message.includes('b.yaml'));
  });

  it('an empty directory renders no objects (the reconciler decides what that means)', async () => {
    const root = await make({ 'empty/.keep': '' });
    assert.deepEqual(await renderPath(root, 'empty'), []);
  });

  it('paths stay inside the checkout: `..`, absolute escapes and symlinks that leave are refused', async () => {
    const root = await make({ 'deploy/a.yaml': cm('a') });
    const outside = await make({ 'x.yaml': cm('secret') });
    await symlink(outside, join(root, 'deploy-link'));
    for (const path of ['../', '../../etc', 'deploy/../..', 'deploy-link']) {
      await assert.rejects(renderPath(root, path), (err: Error & { code?: string }) => err.code === 'PathOutsideCheckout', path);
    }
    await assert.rejects(renderPath(root, 'missing'), (err: Error & { code?: string }) => err.code === 'PathNotFound');
  });
});

describe('render: kustomize (the real executable)', () => {
  let kubectl: string;
  let root: string;
  before(async () => {
    kubectl = (await kubectlTools()).kubectl;
    root = await tree({
      'base/kustomization.yaml': 'resources:\n  - deploy.yaml\n  - svc.yaml\n',
      'base/deploy.yaml': 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n        - name: web\n          image: nginx:1.25\n',
      'base/svc.yaml': 'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n',
      'overlays/prod/kustomization.yaml': [
        'resources:\n  - ../../base',
        'namePrefix: prod-',
        'namespace: prod',
        'images:\n  - name: nginx\n    newTag: "1.27"',
        'configMapGenerator:\n  - name: settings\n    literals: [color=blue]',
        'patches:\n  - patch: |-\n      - op: add\n        path: /spec/replicas\n        value: 3\n    target: {kind: Deployment, name: web}',
        '',
      ].join('\n'),
      'broken/kustomization.yaml': 'resources:\n  - missing.yaml\n',
      'escape/kustomization.yaml': 'resources:\n  - ../base/deploy.yaml\n',
    });
  });
  after(async () => rm(root, { recursive: true, force: true }));

  it('renders bases, overlays, patches, images and generators exactly as `kubectl kustomize`', async () => {
    const ours = await renderPath(root, 'overlays/prod', { kustomize: { command: [kubectl, 'kustomize'] } });
    const peer = spawnSync(kubectl, ['kustomize', join(root, 'overlays/prod')], { encoding: 'utf8' });
    assert.equal(peer.status, 0, peer.stderr);
    const expected = parseAllDocuments(peer.stdout).map((d) => d.toJS());
    assert.deepEqual(ours.map((o) => o.object), expected);
    const deploy = ours.find((o) => o.object.kind === 'Deployment')!.object as unknown as { metadata: { name: string; namespace: string }; spec: { replicas: number; template: { spec: { containers: Array<{ image: string }> } } } };
    assert.equal(deploy.metadata.name, 'prod-web');
    assert.equal(deploy.metadata.namespace, 'prod');
    assert.equal(deploy.spec.replicas, 3);
    assert.equal(deploy.spec.template.spec.containers[0]!.image, 'nginx:1.27');
    assert.ok(ours.some((o) => o.object.kind === 'ConfigMap' && o.object.metadata.name.startsWith('prod-settings-')));
    assert.ok(parse('a: 1'));
  });

  it('a failing build and a load outside the kustomization root are KustomizeBuildFailed', async () => {
    await assert.rejects(renderPath(root, 'broken', { kustomize: { command: [kubectl, 'kustomize'] } }), (err: Error & { code?: string }) => err.code === 'KustomizeBuildFailed' && /missing\.yaml/.test(err.message));
    await assert.rejects(renderPath(root, 'escape', { kustomize: { command: [kubectl, 'kustomize'] } }), (err: Error & { code?: string }) => err.code === 'KustomizeBuildFailed');
  });
});
