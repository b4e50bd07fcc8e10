/**
 * The WebAssembly module against a native build of the same Go source (both from
 * scripts/build-template-wasm.sh): every template over every data set must give the same bytes,
 * or the same error. The templates are Flux's documented examples, Tidemark's own, and error cases.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { templateEngine } from '../../test/harness/template-engine.ts';
import { DEFAULT_COMMIT_TEMPLATE, DEFAULT_MAX_OUTPUT_BYTES, TemplateError, renderCommitMessage } from './index.ts';
import type { CommitChange, CommitDataInput } from './index.ts';

const engine = templateEngine();
const automation = { namespace: 'flux-system', name: 'apps' };
const app = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'app', namespace: 'default' };
const worker = { ...app, name: 'worker' };
const kustomization = { apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', name: '', namespace: '' };
const change = (
  file: string,
  object: CommitChange['object'],
  oldValue: string,
  newValue: string,
  setter: string,
  image: string,
): CommitChange => ({ file, object, oldValue, newValue, setter, image });

const DATA: Record<string, CommitDataInput> = {
  seed: {
    automation,
    changes: [change('apps/app.yaml', app, 'nginx', '127.0.0.1:5000/app:master-abc-2', 'default:app', '127.0.0.1:5000/app:master-abc-2')],
  },
  several: {
    automation,
    values: { cluster: 'prod', team: 'web' },
    changes: [
      change('apps/app.yaml', app, 'nginx:5.0.2', 'nginx:5.0.3', 'default:nginx', 'nginx:5.0.3'),
      change('apps/app.yaml', worker, '1.0', '1.1', 'default:worker:tag', 'ghcr.io/org/worker:1.1@sha256:' + 'a'.repeat(64)),
      change(
        'apps/app.yaml',
        worker,
        'ghcr.io/org/old',
        'ghcr.io/org/worker',
        'default:worker:name',
        'ghcr.io/org/worker:1.1@sha256:' + 'a'.repeat(64),
      ),
      change('apps/kustomization.yaml', kustomization, 'v1', 'v2', 'default:hub:tag', 'docker.io/org/hub:v2'),
      change('base/kustomization.yaml', kustomization, 'v1', 'v2', 'default:hub:tag', 'docker.io/org/hub:v2'),
      change('other/app.yaml', app, 'nginx:5.0.2', 'nginx:5.0.3', 'default:nginx', 'nginx:5.0.3'),
    ],
  },
  none: { automation, changes: [] },
};

const TEMPLATES = [
  'Image: {{range .Updated.Images}}{{println .}}{{end}}',
  DEFAULT_COMMIT_TEMPLATE,
  // Flux's ImageUpdateAutomation docs: the methods of .Changed, then template functions.
  `Automated image update

Automation name: {{ .AutomationObject }}

Files:
{{ range $filename, $_ := .Changed.FileChanges -}}
- {{ $filename }}
{{ end -}}

Objects:
{{ range $resource, $changes := .Changed.Objects -}}
- {{ $resource.Kind }} {{ $resource.Name }}
  Changes:
{{- range $_, $change := $changes }}
    - {{ $change.OldValue }} -> {{ $change.NewValue }}
{{ end -}}
{{ end -}}
`,
  `Objects:
{{ range $resource, $changes := .Changed.Objects -}}
- {{ $resource.Kind | lower }} {{ $resource.Name | lower }}
  Changes:
{{- range $_, $change := $changes }}
  {{ if contains "5.0.3" $change.NewValue -}}
    - {{ $change.OldValue }} -> {{ $change.NewValue }}
  {{ else -}}
    [skip ci] wrong image
  {{ end -}}
{{ end -}}
{{ end -}}
`,
  // The Gerrit example: a Change-Id from the printed data.
  `Automation name: {{ .AutomationObject }}

{{- $ChangeId := .AutomationObject -}}
{{- $ChangeId = printf "%s%s" $ChangeId ( .Changed.FileChanges | toString ) -}}
{{- $ChangeId = printf "%s%s" $ChangeId ( .Changed.Objects | toString ) -}}
{{- $ChangeId = printf "%s%s" $ChangeId ( .Changed.Changes | toString ) }}
Change-Id: {{ printf "I%s" ( sha256sum $ChangeId | trunc 40 ) }}`,
  '{{range .Changed.Changes}}{{print .OldValue}} -> {{println .NewValue}}{{end}}',
  'Automated image update by Flux for cluster {{ .Values.cluster }}.',
  // Flux's v1beta1 docs, over .Updated.
  `Files:
{{ range $filename, $_ := .Updated.Files -}}
- {{ $filename }}
{{ end -}}
Objects:
{{ range $resource, $_ := .Updated.Objects -}}
- {{ $resource.Kind }} {{ $resource.Name }}
{{ end -}}
Images:
{{ range .Updated.Images -}}
- {{.}} {{ .Repository }} {{ .Identifier }} {{ .Name }} {{ .Policy.Name }}
{{ end -}}`,
  '{{ .Values.missing }}|{{ index .Values "missing" }}|{{ .Values.missing | default "none" }}|{{ .Values }}',
  '{{ .AutomationObject }} {{ .Changed }} {{ .Updated }} {{ printf "%+v|%T|%v" .Changed.FileChanges .Changed.Objects .Updated.Objects }}',
  '{{ toJson .Changed.Changes }} {{ toJson .Updated.Images }} {{ toJson .AutomationObject }} {{ toJson .Changed.FileChanges }}',
  '{{ range $i, $img := .Updated.Images }}{{ $i }}:{{ $img.Registry }}/{{ $img.Repository }} {{ $img.Tag }}{{ $img.Digest }};{{ end }} ' +
    '{{ len .Changed.Objects }} {{ len .Updated.Objects }}',
  '{{ "Hello" | upper | repeat 2 }} {{ list 3 1 2 | sortAlpha | join "," }} {{ b64enc "x" }} {{ regexReplaceAll "a+" "caaat" "x" }} ' +
    '{{ dict "b" 1 "a" 2 | toJson }} {{ semverCompare ">=1.2" "1.3.0" }} {{ 3.0 }} {{ div 7 2 }} {{ 1e6 }} {{ add1 .Values.none }}',
  'a\r\n{{/* note */}}b é {{ "世界" }}\r\n{{- " trimmed" -}}  \n end',
  // Errors: parse, then execution, then the output cap.
  '{{ range .Updated.Images }}',
  '{{ .Updated | nope }}',
  '{{ end }}',
  'line one\n{{ .Nope }}',
  '{{ .Changed.Nope }}',
  '{{ index .Updated.Images 5 }}',
  '{{ fail "boom" }}',
  '{{ template "missing" }}',
  '{{ .Values.cluster.name }}',
  '{{ mustToJson .Changed.FileChanges }}',
  `{{ repeat ${DEFAULT_MAX_OUTPUT_BYTES + 1} "x" }}`,
];

interface Outcome {
  output?: string;
  code?: string;
  error?: string;
}

test('the WebAssembly module renders every case exactly as the native build', { skip: engine.skip }, async () => {
  const cases = TEMPLATES.flatMap((template) => Object.entries(DATA).map(([name, data]) => ({ template, name, data })));
  const requests = cases.map(({ template, data: { automation: a, changes, values } }) => ({
    template,
    data: { automation: a, changes, values },
    maxOutput: DEFAULT_MAX_OUTPUT_BYTES,
  }));
  const native = spawnSync(join(engine.dir ?? '', 'commit-template'), {
    input: JSON.stringify(requests),
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  assert.equal(native.status, 0, native.stderr);
  const expected = (JSON.parse(native.stdout) as Array<{ output?: string; stage?: string; error?: string }>).map((r): Outcome =>
    r.error === undefined
      ? { output: r.output ?? '' }
      : { code: r.stage === 'parse' ? 'InvalidCommitTemplate' : 'CommitTemplateFailed', error: r.error },
  );
  // All at once: they queue for one worker.
  const actual = await Promise.all(
    cases.map(({ template, data }) =>
      renderCommitMessage(template, data).then(
        (output): Outcome => ({ output }),
        (err: unknown): Outcome => (err instanceof TemplateError ? { code: err.code, error: err.message } : { error: String(err) }),
      ),
    ),
  );
  for (const [i, c] of cases.entries())
    assert.deepEqual(actual[i], expected[i], `${JSON.stringify(c.template.slice(0, 60))} over ${c.name}`);
  const failures = expected.filter((e) => e.error !== undefined).length;
  assert.ok(failures >= 30 && failures < expected.length - 30, `${failures} of ${expected.length} cases fail: the table lost its balance`);
});
