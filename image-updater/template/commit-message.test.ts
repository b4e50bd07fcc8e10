import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_COMMIT_TEMPLATE,
  TemplateError,
  buildCommitData,
  buildCommitMessage,
  parseImageRef,
  renderCommitMessage,
  validateCommitTemplate,
} from './index.ts';
import type { CommitChange } from './index.ts';

const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'app', namespace: 'default' };
const kustomization = { apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', name: '', namespace: '' };
const seedImage = '127.0.0.1:5000/app:master-abc-2';

const seedChange: CommitChange = {
  file: 'apps/app.yaml',
  object: deployment,
  oldValue: 'nginx',
  newValue: seedImage,
  setter: 'default:image-gitops',
  image: seedImage,
};
const automation = { namespace: 'default', name: 'image-gitops' };

test('the seed template renders exactly as Flux v1beta1 did, after the bot prefix', () => {
  const template = 'Image: {{range .Updated.Images}}{{println .}}{{end}}';
  const data = buildCommitData({ automation, changes: [seedChange] });
  assert.equal(renderCommitMessage(template, data), `Image: ${seedImage}\n`);
  assert.equal(buildCommitMessage({ automation, changes: [seedChange], template }), `Update image automatically.\nImage: ${seedImage}\n`);
});

test('the prefix and the template are one template (KubeVela): a leading {{- trims the newline', () => {
  const msg = buildCommitMessage({
    automation,
    changes: [seedChange],
    template: '{{- " " }}{{ len .Updated.Images }} image',
  });
  assert.equal(msg, 'Update image automatically. 1 image');
});

test('without a template the default lists each change under a blank line', () => {
  const changes: CommitChange[] = [
    seedChange,
    {
      file: 'apps/kustomization.yaml',
      object: kustomization,
      oldValue: 'v1',
      newValue: 'master-abc-2',
      setter: 'default:image-gitops:tag',
      image: seedImage,
    },
    {
      file: 'apps/app.yaml',
      object: { ...deployment, name: 'worker', namespace: '' },
      oldValue: 'a',
      newValue: 'b',
      setter: 'ns:p',
      image: 'x:b',
    },
  ];
  const expected = [
    'Update image automatically.',
    '',
    '- apps/app.yaml Deployment default/app: nginx -> 127.0.0.1:5000/app:master-abc-2',
    '- apps/app.yaml Deployment worker: a -> b',
    '- apps/kustomization.yaml Kustomization: v1 -> master-abc-2',
    '',
  ].join('\n');
  assert.equal(buildCommitMessage({ automation, changes }), expected);
  assert.equal(buildCommitMessage({ automation, changes, template: '' }), expected);
  assert.ok(DEFAULT_COMMIT_TEMPLATE.startsWith('\n'));
});

test("Flux's documented v1beta1 and v1beta2 templates render", () => {
  const changes: CommitChange[] = [
    seedChange,
    {
      file: 'apps/kustomization.yaml',
      object: kustomization,
      oldValue: 'v1',
      newValue: 'master-abc-2',
      setter: 'default:image-gitops:tag',
      image: seedImage,
    },
  ];
  const v1beta1 = `Automated image update

Automation name: {{ .AutomationObject }}

Files:
{{ range $filename, $_ := .Updated.Files -}}
- {{ $filename }}
{{ end -}}

Objects:
{{ range $resource, $_ := .Updated.Objects -}}
- {{ $resource.Kind }} {{ $resource.Name }}
{{ end -}}

Images:
{{ range .Updated.Images -}}
- {{.}}
{{ end -}}
`;
  assert.equal(
    renderCommitMessage(v1beta1, buildCommitData({ automation, changes })),
    `Automated image update

Automation name: default/image-gitops

Files:
- apps/app.yaml
- apps/kustomization.yaml
Objects:
- Deployment app
- Kustomization 
Images:
- ${seedImage}
`,
  );
  const v1beta2 = `{{- range $filename, $objects := .Changed.FileChanges -}}
- File: {{ $filename }}
{{- range $obj, $changes := $objects }}
  - Object: {{ $obj.Kind }}/{{ $obj.Namespace }}/{{ $obj.Name }}
    Changes:
{{- range $_ , $change := $changes }}
    - {{ $change.OldValue }} -> {{ $change.NewValue }}
{{ end -}}
{{ end -}}
{{ end -}}`;
  assert.equal(
    renderCommitMessage(v1beta2, buildCommitData({ automation, changes })),
    `- File: apps/app.yaml
  - Object: Deployment/default/app
    Changes:
    - nginx -> ${seedImage}
- File: apps/kustomization.yaml
  - Object: Kustomization//
    Changes:
    - v1 -> master-abc-2
`,
  );
});

test('data: Changed.Changes dedupes, Objects gathers, Values and AutomationObject fields', () => {
  const dup: CommitChange = { ...seedChange, file: 'other/app.yaml' };
  const data = buildCommitData({ automation, changes: [seedChange, dup], values: { env: 'prod' } });
  const t =
    '{{ len .Changed.Changes }} {{ range $o, $c := .Changed.Objects }}{{ $o.Name }}={{ len $c }}{{ end }} {{ .Values.env }} {{ .Values.none }} {{ .AutomationObject.Namespace }}/{{ .AutomationObject.Name }} {{ range .Changed.Changes }}{{ .Setter }}{{ end }}';
  assert.equal(renderCommitMessage(t, data), '1 app=2 prod <no value> default/image-gitops default:image-gitops');
  assert.equal(renderCommitMessage('{{ len .Updated.Images }} {{ len .Changed.ImageResult.Images }}', data), '1 1');
});

test('data: image references expose Flux ImageRef parts', () => {
  const changes: CommitChange[] = [
    { ...seedChange, image: 'nginx:1.2', setter: 'ns:web' },
    { ...seedChange, file: 'b.yaml', image: 'ghcr.io/org/app:v1@sha256:abc', setter: 'ns:app' },
  ];
  const t =
    '{{ range .Updated.Images }}{{ . }}|{{ .Registry }}|{{ .Repository }}|{{ .Identifier }}|{{ .Name }}|{{ .Tag }}|{{ .Digest }}|{{ .Policy }}|{{ .Policy.Name }}\n{{ end }}';
  assert.equal(
    renderCommitMessage(t, buildCommitData({ automation, changes })),
    [
      'nginx:1.2|index.docker.io|library/nginx|1.2|index.docker.io/library/nginx:1.2|1.2||ns/web|web',
      'ghcr.io/org/app:v1@sha256:abc|ghcr.io|org/app|sha256:abc|ghcr.io/org/app@sha256:abc|v1|sha256:abc|ns/app|app',
      '',
    ].join('\n'),
  );
});

test('data: object identifiers print and marshal like Flux ObjectIdentifier', () => {
  const data = buildCommitData({ automation, changes: [seedChange] });
  assert.equal(
    renderCommitMessage('{{ range $o, $_ := .Changed.Objects }}{{ $o }} {{ toJson $o }}{{ end }}', data),
    '{{{apps/v1 Deployment} {app default}}} {"apiVersion":"apps/v1","kind":"Deployment","name":"app","namespace":"default"}',
  );
  assert.equal(
    renderCommitMessage('{{ range .Changed.Changes }}{{ . }} {{ toJson . }}{{ end }}', data),
    `{nginx ${seedImage} default:image-gitops} {"OldValue":"nginx","NewValue":"${seedImage}","Setter":"default:image-gitops"}`,
  );
});

test('data: no changes gives empty collections, not errors', () => {
  const data = buildCommitData({ automation, changes: [] });
  assert.equal(renderCommitMessage('{{ len .Updated.Images }}{{ range .Changed.Changes }}x{{ else }} none{{ end }}', data), '0 none');
});

test('parseImageRef follows go-containerregistry defaults', () => {
  assert.deepEqual(parseImageRef('nginx'), {
    registry: 'index.docker.io',
    repository: 'library/nginx',
    tag: '',
    digest: '',
  });
  assert.deepEqual(parseImageRef('docker.io/org/app:1'), {
    registry: 'index.docker.io',
    repository: 'org/app',
    tag: '1',
    digest: '',
  });
  assert.deepEqual(parseImageRef('localhost/app'), { registry: 'localhost', repository: 'app', tag: '', digest: '' });
  assert.deepEqual(parseImageRef('127.0.0.1:5000/a/b:t@sha256:x'), {
    registry: '127.0.0.1:5000',
    repository: 'a/b',
    tag: 't',
    digest: 'sha256:x',
  });
});

test('template errors: terminal, with the user template line numbers', () => {
  assert.throws(
    () => buildCommitMessage({ automation, changes: [seedChange], template: 'ok\n{{ .Nope }}' }),
    (err: unknown) => {
      assert.ok(err instanceof TemplateError);
      assert.equal(err.code, 'CommitTemplateFailed');
      assert.equal(err.line, 2);
      assert.match(err.message, /^template: commit message:2:3: executing "commit message" at <\.Nope>: can't evaluate field Nope/);
      return true;
    },
  );
  assert.throws(
    () => validateCommitTemplate('{{ range .Updated.Images }}'),
    (err: unknown) => {
      assert.ok(err instanceof TemplateError);
      assert.equal(err.code, 'InvalidCommitTemplate');
      assert.equal(err.kind, 'terminal');
      return true;
    },
  );
  validateCommitTemplate('Image: {{range .Updated.Images}}{{println .}}{{end}}');
});
