import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { access, cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { kubectlTools } from '../../test/harness/tools.ts';
import type { RenderedObject } from './index.ts';
import { renderPath } from './index.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const fixture = (name: string) => join(FIXTURES, name);

const ids = (objects: RenderedObject[]) => objects.map((o) => `${o.object.kind}/${o.object.metadata.name}`);
const rejectsWith =
  (code: string, ...patterns: RegExp[]) =>
  (err: unknown) => {
    const e = err as Error & { code?: string; kind?: string };
    assert.equal(e.code, code, e.message);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  };

const temps: string[] = [];
async function tree(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'tidemark-render-'));
  temps.push(root);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return root;
}
after(async () => {
  await Promise.all(temps.map((t) => rm(t, { recursive: true, force: true })));
});

const cm = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n`;

describe('render: plain manifests', () => {
  it('walks nested directories in byte order, reads multi-document files, Lists and JSON, skips dot entries', async () => {
    const objects = await renderPath(fixture('plain'), './deploy');
    assert.deepEqual(ids(objects), [
      'Service/web', // B.json: "B" sorts before "a"
      'Deployment/web', // a/z.yml: the directory "a" sorts before "b.yaml"
      'ConfigMap/b1',
      'ConfigMap/b2',
      'Kustomization/apps', // flux/kustomization.yaml: a Flux object, not a kustomize config
      'ServiceAccount/web',
      'Role/web',
      'ConfigMap/scalars',
      'Widget/numbers',
    ]);
    const source = (kind: string, name: string) => objects.find((o) => o.object.kind === kind && o.object.metadata.name === name)?.source;
    assert.deepEqual(
      source('ConfigMap', 'b2'),
      { file: 'deploy/b.yaml', document: 5 },
      'empty, null and comment-only documents are skipped but counted',
    );
    assert.deepEqual(source('Role', 'web'), { file: 'deploy/list.yaml', document: 1, item: 2 });
    assert.deepEqual(source('Deployment', 'web'), { file: 'deploy/a/z.yml', document: 1 });
  });

  it('returns objects as written: no namespace defaulting, no source info inside the object', async () => {
    const objects = await renderPath(fixture('plain'), 'deploy');
    const b1 = objects.find((o) => o.object.metadata.name === 'b1')!.object;
    assert.deepEqual(b1, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b1' }, data: { color: 'blue' } });
    assert.equal(objects.find((o) => o.object.metadata.name === 'b2')!.object.metadata.namespace, 'shop');
  });

  it('the path defaults to the checkout root; a leading / means the checkout root too', async () => {
    const all = ids(await renderPath(fixture('plain')));
    assert.ok(all.includes('ConfigMap/outside-the-path') && all.includes('Service/web'));
    assert.deepEqual(ids(await renderPath(fixture('plain'), '/elsewhere')), ['ConfigMap/outside-the-path']);
  });

  it('reads scalars as kustomize does: yes/on/n stay strings, Go numbers, merge keys, timestamps kept', async () => {
    const objects = await renderPath(fixture('plain'), 'deploy');
    const data = objects.find((o) => o.object.metadata.name === 'scalars')!.object.data;
    assert.deepEqual(data, {
      tier: 'web',
      ENABLED: 'yes',
      MODE: 'on',
      SHORT: 'n',
      QUOTED: '0644',
      TIME: '12:30',
      DATE: '2024-01-01',
    });
    const spec = objects.find((o) => o.object.metadata.name === 'numbers')!.object.spec;
    assert.deepEqual(spec, {
      octal: 420,
      underscores: 1000,
      hex: 31,
      binary: 5,
      leadingZero: 89,
      float: 1500,
      bool: true,
      version: '1.25-alpine',
    });
  });

  it('a directory renders to the same objects with or without a kustomization listing its files', async () => {
    const { kubectl } = await kubectlTools();
    const root = await tree({});
    await cp(fixture('plain/deploy/scalars.yaml'), join(root, 'plain/scalars.yaml'));
    await cp(fixture('plain/deploy/scalars.yaml'), join(root, 'kustomized/scalars.yaml'));
    await writeFile(join(root, 'kustomized/kustomization.yaml'), 'resources:\n  - scalars.yaml\n');
    const plain = (await renderPath(root, 'plain')).map((o) => o.object);
    const built = (await renderPath(root, 'kustomized', { kustomize: { command: [kubectl, 'kustomize'] } })).map((o) => o.object);
    // The one documented difference: kustomize rewrites an unquoted date as a full timestamp.
    assert.equal((built[0]!.data as Record<string, string>).DATE, '2024-01-01T00:00:00Z');
    (built[0]!.data as Record<string, string>).DATE = '2024-01-01';
    assert.deepEqual(plain, built);
  });

  it('orders by the bytes of UTF-8 names, not by UTF-16 code units or locale', async () => {
    // U+FF21 is EF BC A1 in UTF-8, the emoji F0 9F 98 80: bytes put U+FF21 first, UTF-16 the emoji.
    const root = await tree({
      '\u{1F600}.yaml': cm('emoji'),
      '\uFF21.yaml': cm('fullwidth'),
      'Z.yaml': cm('upper'),
      'a.yaml': cm('lower'),
    });
    assert.deepEqual(ids(await renderPath(root, '.')), ['ConfigMap/upper', 'ConfigMap/lower', 'ConfigMap/fullwidth', 'ConfigMap/emoji']);
  });

  it('skips .git and other dot-directories', async () => {
    const root = await tree({
      'app/.git/config.yaml': cm('git'),
      'app/.flux.yaml': cm('dotfile'),
      'app/x.yaml': cm('x'),
    });
    assert.deepEqual(ids(await renderPath(root, 'app')), ['ConfigMap/x']);
  });

  it('broken YAML: ManifestParseFailed with file, line and the parser message; nothing else is returned', async () => {
    await assert.rejects(renderPath(fixture('broken'), '.'), rejectsWith('ManifestParseFailed', /^bad\.yaml:7:\d+: /));
    const root = await tree({ 'x.json': '{\n  "apiVersion": "v1",\n  "kind": "ConfigMap"\n  "metadata": {}\n}\n' });
    await assert.rejects(renderPath(root, '.'), rejectsWith('ManifestParseFailed', /^x\.json:\d+:\d+: /));
  });

  it('a number JSON cannot carry is refused with its line', async () => {
    await assert.rejects(
      renderPath(fixture('invalid'), 'inf'),
      rejectsWith('ManifestParseFailed', /^inf\/x\.yaml:6:\d+: \.inf is not a finite number/),
    );
  });

  it('nesting deeper than MAX_NESTING_DEPTH: ManifestParseFailed where it crosses the limit, not a stack overflow', async () => {
    const flow = (depth: number) => `${cm('deep-flow')}x: ${'['.repeat(depth)}${']'.repeat(depth)}\n`;
    const block = (depth: number) =>
      `${cm('deep-block')}x:\n${Array.from({ length: depth }, (_, i) => `${' '.repeat(i + 1)}a:`).join('\n')} 1\n`;
    // The top-level mapping is one level: 255 more fit, 256 more do not.
    const ok = await tree({ 'flow.yaml': flow(255), 'block/x.yaml': block(255) });
    assert.equal((await renderPath(ok, '.')).length, 2);
    const root = await tree({ 'flow.yaml': flow(10_000), 'block/x.yaml': block(1_000) });
    await assert.rejects(
      renderPath(root, '.'),
      rejectsWith('ManifestParseFailed', /^block\/x\.yaml:261:257: collections nest deeper than 256 levels$/),
    );
    await rm(join(root, 'block'), { recursive: true });
    await assert.rejects(
      renderPath(root, '.'),
      rejectsWith('ManifestParseFailed', /^flow\.yaml:5:259: collections nest deeper than 256 levels$/),
    );
  });

  it('a file that is not UTF-8: ManifestParseFailed at the first bad byte, never U+FFFD applied', async () => {
    const root = await tree({});
    await writeFile(join(root, 'x.yaml'), Buffer.concat([Buffer.from(`${cm('latin1')}data:\n  v: "caf`), Buffer.from([0xe9, 0x22, 0x0a])]));
    await assert.rejects(
      renderPath(root, '.'),
      rejectsWith('ManifestParseFailed', /^x\.yaml:6:10: the file is not valid UTF-8 \(byte 0xE9\)$/),
    );
    // Overlong and surrogate forms are refused too; four-byte characters are fine.
    await writeFile(
      join(root, 'x.yaml'),
      Buffer.concat([Buffer.from(`${cm('overlong')}data:\n  v: "`), Buffer.from([0xc0, 0xaf, 0x22, 0x0a])]),
    );
    await assert.rejects(renderPath(root, '.'), rejectsWith('ManifestParseFailed', /^x\.yaml:6:7: .*\(byte 0xC0\)$/));
    await writeFile(
      join(root, 'x.yaml'),
      Buffer.concat([Buffer.from(`${cm('surrogate')}data:\n  v: "`), Buffer.from([0xed, 0xa0, 0x80, 0x22, 0x0a])]),
    );
    await assert.rejects(renderPath(root, '.'), rejectsWith('ManifestParseFailed', /^x\.yaml:6:7: .*\(byte 0xED\)$/));
    await writeFile(join(root, 'x.yaml'), `${cm('emoji')}data:\n  v: "🌊 café"\n`);
    const [only] = await renderPath(root, '.');
    assert.deepEqual(only?.object['data'], { v: '🌊 café' });
  });

  it('a Git submodule in (or as) the rendered directory: GitSubmoduleUnsupported; one elsewhere is no concern', async () => {
    const gitmodules =
      '[submodule "vendored"]\n\tpath = apps/web/vendored\n\turl = ext::sh -c touch% /tmp/x\n[submodule "docs"]\n\tpath = "docs/theme"\n';
    const root = await tree({
      '.gitmodules': gitmodules,
      'apps/web/x.yaml': cm('web'),
      'apps/api/x.yaml': cm('api'),
      'docs/x.yaml': cm('docs'),
    });
    // The checkout leaves a submodule an empty directory.
    await mkdir(join(root, 'apps/web/vendored'));
    await mkdir(join(root, 'docs/theme'));
    const refused = /^apps\/web\/vendored is a Git submodule in (apps|apps\/web|apps\/web\/vendored); the agent does not fetch submodules/;
    for (const path of ['apps', 'apps/web', 'apps/web/vendored']) {
      await assert.rejects(renderPath(root, path), rejectsWith('GitSubmoduleUnsupported', refused));
    }
    await assert.rejects(renderPath(root, 'docs'), rejectsWith('GitSubmoduleUnsupported', /^docs\/theme is a Git submodule in docs;/));
    assert.deepEqual(ids(await renderPath(root, 'apps/api')), ['ConfigMap/api']);
  });

  it('a Git LFS pointer where a manifest should be: ManifestInvalid that names LFS', async () => {
    const pointer =
      'version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n';
    const root = await tree({ 'app/x.yaml': pointer });
    await assert.rejects(
      renderPath(root, 'app'),
      rejectsWith('ManifestInvalid', /^app\/x\.yaml is a Git LFS pointer, not a manifest: the agent does not fetch Git LFS content$/),
    );
  });

  it('objects without apiVersion, kind or metadata.name: ManifestInvalid naming file and document', async () => {
    await assert.rejects(
      renderPath(fixture('invalid'), 'missing-kind'),
      rejectsWith('ManifestInvalid', /missing-kind\/x\.yaml document 2 has no kind/),
    );
    await assert.rejects(
      renderPath(fixture('invalid'), 'list-item'),
      rejectsWith('ManifestInvalid', /list-item\/list\.yaml document 1 item 2 \(ConfigMap\) has no metadata\.name/),
    );
    await assert.rejects(
      renderPath(fixture('invalid'), 'not-a-mapping'),
      rejectsWith('ManifestInvalid', /not-a-mapping\/x\.yaml document 1 is not a mapping/),
    );
    const root = await tree({ 'x.yaml': 'kind: ConfigMap\nmetadata:\n  name: a\n' });
    await assert.rejects(renderPath(root, '.'), rejectsWith('ManifestInvalid', /x\.yaml document 1 has no apiVersion/));
  });

  it('generateName is read only on an Argo CD hook: it is named at sync time; anywhere else it is ManifestInvalid', async () => {
    const job = (annotations: string) => `apiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: schema-\n${annotations}spec: {}\n`;
    const hooks = await tree({
      'a.yaml': job('  annotations:\n    argocd.argoproj.io/hook: PreSync\n'),
      'b.yaml': job('  annotations:\n    argocd.argoproj.io/hook: PreSync\n'),
    });
    const rendered = await renderPath(hooks, '.');
    assert.deepEqual(
      rendered.map((r) => [r.object.metadata.name, r.object.metadata.generateName]),
      [
        ['', 'schema-'],
        ['', 'schema-'],
      ],
    );
    const plain = await tree({ 'x.yaml': job('') });
    await assert.rejects(renderPath(plain, '.'), rejectsWith('ManifestInvalid', /x\.yaml document 1 \(Job\) has no metadata\.name/));
  });

  it('the same group/kind/namespace/name twice: DuplicateObject naming both places', async () => {
    await assert.rejects(renderPath(fixture('duplicates'), 'team-a/..'), (err: unknown) => {
      const e = err as Error & { code?: string };
      assert.equal(e.code, 'DuplicateObject');
      // other-version.yaml sorts first: the same HPA under autoscaling/v2 and autoscaling/v1.
      assert.match(
        e.message,
        /HorizontalPodAutoscaler shop\/web is defined twice: other-version\.yaml document 1 and other-version\.yaml document 2/,
      );
      return true;
    });
    const root = await tree({});
    await cp(fixture('duplicates/team-a'), join(root, 'team-a'), { recursive: true });
    await cp(fixture('duplicates/team-b'), join(root, 'team-b'), { recursive: true });
    await assert.rejects(
      renderPath(root, '.'),
      rejectsWith(
        'DuplicateObject',
        /ConfigMap shop\/settings is defined twice: team-a\/settings\.yaml document 1 and team-b\/settings\.yaml document 1/,
      ),
    );
  });

  it('an empty directory renders an empty list', async () => {
    assert.deepEqual(await renderPath(fixture('empty'), '.'), []);
  });

  it('a kustomization below the path is refused, not read as plain files', async () => {
    await assert.rejects(
      renderPath(fixture('nested-kustomization'), '.'),
      rejectsWith('ManifestInvalid', /apps\/web\/kustomization\.yaml is a kustomization below the rendered path/),
    );
  });
});

describe('render: paths stay inside the checkout', () => {
  it('`..` that climbs out, even through a directory that exists, is PathOutsideCheckout', async () => {
    for (const path of ['..', '../broken', 'deploy/../..', 'deploy/../../broken', '../../../../../../etc']) {
      await assert.rejects(renderPath(fixture('plain'), path), rejectsWith('PathOutsideCheckout'), path);
    }
  });

  it('a path that is missing or not a directory is PathNotFound', async () => {
    await assert.rejects(renderPath(fixture('plain'), 'nope'), rejectsWith('PathNotFound', /"nope" does not exist/));
    await assert.rejects(renderPath(fixture('plain'), 'deploy/b.yaml'), rejectsWith('PathNotFound', /is not a directory/));
  });

  it('a symlinked directory or file that leaves the checkout is refused, wherever it is in the walk', async () => {
    await assert.rejects(renderPath(fixture('symlink/escape-dir'), '.'), rejectsWith('PathOutsideCheckout', /symlink leak/));
    await assert.rejects(renderPath(fixture('symlink/escape-file'), '.'), rejectsWith('PathOutsideCheckout', /symlink leak\.yaml/));
    // The spec path itself through the link.
    await assert.rejects(renderPath(fixture('symlink/escape-dir'), 'leak'), rejectsWith('PathOutsideCheckout'));
  });

  it('symlinks that stay inside are followed; a link back to a directory being walked is not walked again', async () => {
    assert.deepEqual(ids(await renderPath(fixture('symlink/inside'), 'app')), ['ConfigMap/linked', 'ConfigMap/ok-app', 'ConfigMap/shared']);
    const root = await tree({ 'app/x.yaml': cm('x'), 'app/sub/y.yaml': cm('y') });
    await symlink('..', join(root, 'app/sub/loop'));
    await symlink('.', join(root, 'app/self'));
    assert.deepEqual(ids(await renderPath(root, 'app')), ['ConfigMap/y', 'ConfigMap/x']);
  });

  it('a dangling manifest symlink is PathNotFound', async () => {
    await assert.rejects(
      renderPath(fixture('symlink/dangling'), '.'),
      rejectsWith('PathNotFound', /gone\.yaml is a symlink to something that does not exist/),
    );
  });
});

describe('render: kustomize (the real executable)', () => {
  let kubectl: string;
  const checkout = fixture('kustomize');
  const withKubectl = () => ({ kustomize: { command: [kubectl, 'kustomize'] } });
  before(async () => {
    kubectl = (await kubectlTools()).kubectl;
  });

  it('base + overlay with patches, images, configMapGenerator and namePrefix: the same objects as `kubectl kustomize`', async () => {
    const ours = await renderPath(checkout, 'overlays/prod', withKubectl());
    const peer = spawnSync(kubectl, ['kustomize', join(checkout, 'overlays/prod')], { encoding: 'utf8' });
    assert.equal(peer.status, 0, peer.stderr);
    const expected = parseAllDocuments(peer.stdout).map((d) => d.toJS() as unknown);
    assert.equal(ours.length, 3);
    assert.deepEqual(
      ours.map((o) => o.object),
      expected,
    );
    assert.deepEqual(
      ours.map((o) => o.source),
      [1, 2, 3].map((document) => ({ file: 'overlays/prod (kustomize build)', document })),
    );

    const deployment = ours.find((o) => o.object.kind === 'Deployment')!.object as unknown as {
      metadata: { name: string; namespace: string };
      spec: {
        replicas: number;
        template: {
          spec: { containers: Array<{ image: string; envFrom: Array<{ configMapRef: { name: string } }> }> };
        };
      };
    };
    assert.equal(deployment.metadata.name, 'prod-web');
    assert.equal(deployment.metadata.namespace, 'shop-prod');
    assert.equal(deployment.spec.replicas, 3);
    const container = deployment.spec.template.spec.containers[0]!;
    assert.equal(container.image, 'registry.example.com/shop/web:1.9.0');
    assert.match(container.envFrom[0]!.configMapRef.name, /^prod-settings-[a-z0-9]{10}$/);
    assert.equal(
      ours.find((o) => o.object.kind === 'Service')!.object.spec &&
        (ours.find((o) => o.object.kind === 'Service')!.object.spec as { type: string }).type,
      'LoadBalancer',
    );
  });

  it("a missing resource is KustomizeBuildFailed with kustomize's reason, without our absolute paths", async () => {
    await assert.rejects(renderPath(checkout, 'broken', withKubectl()), (err: unknown) => {
      const e = err as Error & { code?: string; kind?: string };
      assert.equal(e.code, 'KustomizeBuildFailed');
      assert.equal(e.kind, 'terminal');
      assert.match(e.message, /^kustomize build of broken failed: .*missing\.yaml/);
      assert.ok(!e.message.includes(FIXTURES), e.message);
      return true;
    });
  });

  it("a file outside the kustomization's directory is refused by kustomize's load restrictor", async () => {
    await assert.rejects(renderPath(checkout, 'escape-file', withKubectl()), rejectsWith('KustomizeBuildFailed', /is not in or below/));
  });

  it('a base directory outside the checkout is refused before kustomize runs (kustomize would read it)', async () => {
    await assert.rejects(
      renderPath(checkout, 'escape-checkout', withKubectl()),
      rejectsWith('PathOutsideCheckout', /escape-checkout\/kustomization\.yaml: resource "\.\.\/\.\.\/plain\/deploy"/),
    );
    await assert.rejects(
      renderPath(checkout, 'leak', withKubectl()),
      rejectsWith('PathOutsideCheckout', /configMapGenerator file "secret\.yaml"/),
    );
  });

  it('remote resources are refused without touching the network', async () => {
    await assert.rejects(
      renderPath(checkout, 'remote', withKubectl()),
      rejectsWith('KustomizeBuildFailed', /remote resource "https:\/\/raw\.githubusercontent\.com\/.*" is not fetched/),
    );
    for (const remote of [
      'github.com/example/manifests//deploy?ref=v1.0.0',
      'git@github.com:example/manifests.git',
      'ssh://git@example.com/manifests.git',
    ]) {
      const root = await tree({ 'k/kustomization.yaml': `resources:\n  - ${remote}\n` });
      await assert.rejects(renderPath(root, 'k', withKubectl()), rejectsWith('KustomizeBuildFailed', /is not fetched/), remote);
    }
  });

  it('the kustomizations a build rests on are checked too', async () => {
    const root = await tree({
      'outside/kustomization.yaml': 'resources: [cm.yaml]\n',
      'outside/cm.yaml': cm('outside'),
      'repo/app/kustomization.yaml': 'resources: [../base]\n',
      'repo/base/kustomization.yaml': 'resources: [../../outside]\n',
    });
    await assert.rejects(
      renderPath(join(root, 'repo'), 'app', withKubectl()),
      rejectsWith('PathOutsideCheckout', /base\/kustomization\.yaml: resource "\.\.\/\.\.\/outside"/),
    );
    await mkdir(join(root, 'repo/linked'));
    await symlink('../../outside/kustomization.yaml', join(root, 'repo/linked/kustomization.yaml'));
    await assert.rejects(
      renderPath(join(root, 'repo'), 'linked', withKubectl()),
      rejectsWith('PathOutsideCheckout', /linked\/kustomization\.yaml leads outside/),
    );
  });

  it('runs with a scrubbed environment and the load restrictor pinned, and leaves no temp HOME behind', async () => {
    process.env.TIDEMARK_TEST_SECRET = 'must-not-leak';
    let env: Record<string, string>;
    let args: string[];
    const root = await tree({ 'k/kustomization.yaml': 'resources: []\n' });
    try {
      const script =
        'process.stdout.write("apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: env}\\ndata: " + ' +
        'JSON.stringify({ env: JSON.stringify(process.env), args: JSON.stringify(process.argv.slice(1)) }) + "\\n")';
      const [only] = await renderPath(root, 'k', { kustomize: { command: [process.execPath, '-e', script, '--'] } });
      const data = only!.object.data as { env: string; args: string };
      env = JSON.parse(data.env) as Record<string, string>;
      args = JSON.parse(data.args) as string[];
    } finally {
      delete process.env.TIDEMARK_TEST_SECRET;
    }
    assert.deepEqual(Object.keys(env).sort(), [
      'HOME',
      'HTTPS_PROXY',
      'HTTP_PROXY',
      'KUBECONFIG',
      'KUSTOMIZE_PLUGIN_HOME',
      'NO_PROXY',
      'PATH',
    ]);
    assert.equal(env.PATH, '');
    assert.deepEqual(args.slice(-4), ['--load-restrictor', 'LoadRestrictionsRootOnly', '--', join(root, 'k')]);
    await assert.rejects(access(env.HOME!), { code: 'ENOENT' }, 'the throw-away HOME is removed');
  });

  it('a build that runs too long, prints too much, or is aborted is stopped', async () => {
    const root = await tree({ 'k/kustomization.yaml': 'resources: []\n' });
    const hang = [process.execPath, '-e', 'setTimeout(() => {}, 60_000)', '--'];
    await assert.rejects(
      renderPath(root, 'k', { kustomize: { command: hang, timeoutMs: 300 } }),
      rejectsWith('KustomizeBuildFailed', /took longer than 0\.3s/),
    );
    const flood = [process.execPath, '-e', 'process.stdout.write("#".repeat(1 << 20))', '--'];
    await assert.rejects(
      renderPath(root, 'k', { kustomize: { command: flood, maxOutputBytes: 4096 } }),
      rejectsWith('ManifestTooLarge', /output of kustomize build of k is larger than 4 KiB/),
    );
    const controller = new AbortController();
    const pending = renderPath(root, 'k', { kustomize: { command: hang, signal: controller.signal } });
    setTimeout(() => controller.abort(new Error('reconcile cancelled')), 50);
    await assert.rejects(pending, /reconcile cancelled/);
  });

  it('a kustomize command that cannot be found is a transient KustomizeUnavailable', async () => {
    await assert.rejects(
      renderPath(checkout, 'overlays/prod', {
        kustomize: { command: ['no-such-kustomize-binary'], searchPath: '/nonexistent' },
      }),
      (err: unknown) => {
        const e = err as Error & { code?: string; kind?: string };
        assert.equal(e.code, 'KustomizeUnavailable');
        assert.equal(e.kind, 'transient');
        return true;
      },
    );
  });
});
