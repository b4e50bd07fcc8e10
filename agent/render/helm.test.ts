import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TidemarkError } from '../../shared/errors/index.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import type { HelmSpec } from '../../shared/spec/helm.ts';
import { kubectlTools } from '../../test/harness/tools.ts';
import { hookOf } from '../argo-sync.ts';
import type { ChartSettings, RenderNote } from './index.ts';
import { emptyStats, renderPath } from './index.ts';
import { isPlainDirectory } from '../render-cache.ts';

/** The real helm (the version the integration tests use), on charts written here file by file. */

const work = mkdtempSync(join(tmpdir(), 'tidemark-helm-render-test-'));
after(() => rmSync(work, { recursive: true, force: true }));
let helm = '';
before(async () => {
  helm = (await kubectlTools()).helm;
});

let n = 0;
function repo(files: Record<string, string>): string {
  const root = join(work, `repo-${++n}`);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const CHART = {
  'app/Chart.yaml': 'apiVersion: v2\nname: app\nversion: 1.2.3\n',
  'app/values.yaml': 'greeting: hello\nreplicas: 1\n',
  'app/templates/cm.yaml': [
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata:',
    '  name: {{ .Release.Name }}-cm',
    '  namespace: {{ .Release.Namespace }}',
    'data:',
    '  greeting: {{ .Values.greeting | quote }}',
    '  replicas: {{ .Values.replicas | quote }}',
    '  kube: {{ .Capabilities.KubeVersion.Version | quote }}',
    '  monitoring: {{ .Capabilities.APIVersions.Has "monitoring.coreos.com/v1" | quote }}',
    '',
  ].join('\n'),
  'app/templates/hooks.yaml': [
    'apiVersion: batch/v1',
    'kind: Job',
    'metadata:',
    '  name: migrate',
    '  annotations:',
    '    helm.sh/hook: pre-install,pre-upgrade',
    '    helm.sh/hook-weight: "-5"',
    '    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded',
    'spec:',
    '  template:',
    '    spec:',
    '      restartPolicy: Never',
    '      containers: [{name: m, image: busybox}]',
    '---',
    'apiVersion: v1',
    'kind: Pod',
    'metadata:',
    '  name: {{ .Release.Name }}-test',
    '  annotations:',
    '    helm.sh/hook: test',
    'spec:',
    '  containers: [{name: t, image: busybox}]',
    '',
  ].join('\n'),
  'app/crds/widget.yaml': [
    'apiVersion: apiextensions.k8s.io/v1',
    'kind: CustomResourceDefinition',
    'metadata:',
    '  name: widgets.example.com',
    'spec:',
    '  group: example.com',
    '  names: {kind: Widget, plural: widgets}',
    '  scope: Namespaced',
    '  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}]',
    '',
  ].join('\n'),
  'values/prod.yaml': 'greeting: from-prod\nreplicas: 3\n',
};

const spec = (over: Partial<HelmSpec> = {}): HelmSpec => ({
  releaseName: undefined,
  namespace: undefined,
  valuesFiles: [],
  values: undefined,
  includeCRDs: true,
  kubeVersion: undefined,
  apiVersions: [],
  chart: undefined,
  ...over,
});

async function render(root: string, path: string, chart: ChartSettings, notes: RenderNote[] = []): Promise<KubeObject[]> {
  const rendered = await renderPath(root, path, { helm: { binary: helm }, chart, report: (note) => notes.push(note) });
  return rendered.map((r) => r.object);
}

const byName = (objects: KubeObject[], name: string) => objects.find((o) => o.metadata.name === name);

async function refused(promise: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof TidemarkError, String(err));
    assert.equal(err.code, code, err.message);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('helm charts', () => {
  it('renders a chart with the release name and namespace, CRDs included, values from the chart', async () => {
    const root = repo(CHART);
    const notes: RenderNote[] = [];
    const objects = await render(root, 'app', { spec: undefined, releaseName: 'web', namespace: 'apps' }, notes);
    const cm = byName(objects, 'web-cm');
    assert.deepEqual(cm?.metadata.namespace, 'apps');
    assert.equal((cm?.data as Record<string, string>).greeting, 'hello');
    assert.equal((cm?.data as Record<string, string>).monitoring, 'false');
    assert.ok(byName(objects, 'widgets.example.com'), 'crds/ rendered by default');
    assert.equal(notes.length, 1);
  });

  it('values files (relative to spec.path), then inline values; kubeVersion and apiVersions reach the templates', async () => {
    const root = repo(CHART);
    const objects = await render(root, 'app', {
      spec: spec({
        valuesFiles: ['../values/prod.yaml'],
        values: { replicas: 5, extra: '--set=evil' },
        kubeVersion: 'v1.31.2',
        apiVersions: ['monitoring.coreos.com/v1'],
        includeCRDs: false,
      }),
      releaseName: 'web',
      namespace: 'apps',
    });
    const data = byName(objects, 'web-cm')?.data as Record<string, string>;
    assert.deepEqual(data, { greeting: 'from-prod', replicas: '5', kube: 'v1.31.2', monitoring: 'true' });
    assert.equal(byName(objects, 'widgets.example.com'), undefined, 'includeCRDs: false leaves crds/ out');
  });

  it('maps pre-install,pre-upgrade to one PreSync hook with weight and delete policies; skips and reports a test hook', async () => {
    const root = repo(CHART);
    const notes: RenderNote[] = [];
    const objects = await render(root, 'app', { spec: undefined, releaseName: 'web', namespace: 'apps' }, notes);
    const job = byName(objects, 'migrate');
    assert.ok(job);
    const hook = hookOf(job);
    assert.ok(hook && hook !== 'skip');
    assert.deepEqual(hook.phases, ['PreSync']);
    assert.equal(hook.wave, -5);
    assert.deepEqual(hook.deletePolicies, ['BeforeHookCreation', 'HookSucceeded']);
    assert.equal(byName(objects, 'web-test'), undefined, 'a test hook is never applied');
    assert.deepEqual(notes, [
      {
        reason: 'HelmHookSkipped',
        message: 'skipped 1 Helm hook with no sync equivalent (test, rollback and pre-delete hooks are never run): Pod web-test (test)',
      },
    ]);
  });

  it('renders vendored dependencies and refuses one that would need a download, naming it', async () => {
    const files = {
      ...CHART,
      'app/Chart.yaml':
        'apiVersion: v2\nname: app\nversion: 1.2.3\ndependencies:\n  - name: sub\n    version: 0.1.0\n    repository: https://charts.example.com\n',
    };
    await refused(
      render(repo(files), 'app', { spec: undefined, releaseName: 'web', namespace: 'apps' }),
      'HelmDependencyMissing',
      /depends on sub 0\.1\.0 from https:\/\/charts\.example\.com, which is not in its charts\/ directory; the agent never downloads/,
    );
    const vendored = repo({
      ...files,
      'app/charts/sub/Chart.yaml': 'apiVersion: v2\nname: sub\nversion: 0.1.0\n',
      'app/charts/sub/templates/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-sub\n',
    });
    const objects = await render(vendored, 'app', { spec: undefined, releaseName: 'web', namespace: 'apps' });
    assert.ok(byName(objects, 'web-sub'));
  });

  it("a template error is terminal HelmTemplateFailed with helm's words, without our temp paths", async () => {
    const root = repo({ ...CHART, 'app/templates/bad.yaml': 'kind: {{ .Values.nope.deeper }}\n' });
    await refused(
      render(root, 'app', { spec: undefined, releaseName: 'web', namespace: 'apps' }),
      'HelmTemplateFailed',
      /^helm template of app failed: .*nil pointer evaluating interface \{\}\.deeper/,
    );
    try {
      await render(root, 'app', { spec: undefined, releaseName: 'web', namespace: 'apps' });
    } catch (err) {
      assert.doesNotMatch((err as Error).message, /tidemark-helm-/);
      assert.equal((err as TidemarkError).kind, 'terminal');
    }
  });

  it('never lets the chart read outside the repository: a link out is refused, a link inside followed', async () => {
    const root = repo(CHART);
    symlinkSync('/etc/hostname', join(root, 'app', 'host.txt'));
    await refused(
      render(root, 'app', { spec: undefined, releaseName: 'web', namespace: 'apps' }),
      'PathOutsideCheckout',
      /symlink app\/host\.txt/,
    );
    const inside = repo({
      ...CHART,
      'shared/note.txt': 'hi',
      'app/templates/note.yaml':
        'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: note}\ndata: {note: {{ .Files.Get "note.txt" | quote }}}\n',
    });
    symlinkSync('../shared/note.txt', join(inside, 'app', 'note.txt'));
    const objects = await render(inside, 'app', { spec: undefined, releaseName: 'web', namespace: 'apps' });
    assert.deepEqual(byName(objects, 'note')?.data, { note: 'hi' });
  });

  it('refuses values files outside the repository or missing, and spec.helm on a path without Chart.yaml', async () => {
    const root = repo(CHART);
    await refused(
      render(root, 'app', { spec: spec({ valuesFiles: ['../../../etc/passwd'] }), releaseName: 'web', namespace: 'apps' }),
      'PathOutsideCheckout',
      /leads outside the repository/,
    );
    await refused(
      render(root, 'app', { spec: spec({ valuesFiles: ['missing.yaml'] }), releaseName: 'web', namespace: 'apps' }),
      'PathNotFound',
      /app\/missing\.yaml does not exist/,
    );
    await refused(
      render(root, 'values', { spec: spec(), releaseName: 'web', namespace: 'apps' }),
      'PathNotFound',
      /spec\.helm is set, but "values" has no Chart\.yaml/,
    );
  });

  it('counts the chart against the render budget and is never taken for plain YAML by the render cache', async () => {
    const root = repo(CHART);
    const stats = emptyStats();
    await renderPath(root, 'app', { helm: { binary: helm }, stats, chart: { spec: undefined, releaseName: 'web', namespace: 'a' } });
    assert.ok(stats.files >= 5 && stats.objects === 4, JSON.stringify(stats));
    await refused(
      renderPath(root, 'app', {
        helm: { binary: helm },
        limits: { maxFiles: 3 },
        chart: { spec: undefined, releaseName: 'web', namespace: 'a' },
      }),
      'RenderTooLarge',
      /more than 3 files/,
    );
    assert.equal(await isPlainDirectory(root, 'app'), false);
    assert.equal(await isPlainDirectory(root, 'values'), true);
  });

  it('a helm binary that is not there is transient HelmUnavailable', async () => {
    const root = repo(CHART);
    await assert.rejects(
      renderPath(root, 'app', { helm: { binary: join(work, 'no-helm') }, chart: { spec: undefined, releaseName: 'web', namespace: 'a' } }),
      (err: unknown) => err instanceof TidemarkError && err.code === 'HelmUnavailable' && err.kind === 'transient',
    );
  });
});
