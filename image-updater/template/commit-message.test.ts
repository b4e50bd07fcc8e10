import { test } from 'node:test';
import assert from 'node:assert/strict';
import { templateEngine } from '../../test/harness/template-engine.ts';
import { DEFAULT_COMMIT_TEMPLATE, TemplateError, buildCommitMessage, renderCommitMessage, validateCommitTemplate } from './index.ts';
import type { CommitChange, CommitDataInput } from './index.ts';

const { skip } = templateEngine();

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

test('the seed template renders exactly as Flux v1beta1 did, after the bot prefix', { skip }, async () => {
  const template = 'Image: {{range .Updated.Images}}{{println .}}{{end}}';
  const data: CommitDataInput = { automation, changes: [seedChange] };
  assert.equal(await renderCommitMessage(template, data), `Image: ${seedImage}\n`);
  assert.equal(
    await buildCommitMessage({ automation, changes: [seedChange], template }),
    `Update image automatically.\nImage: ${seedImage}\n`,
  );
});

test('the prefix and the template are one template (KubeVela): a leading {{- trims the newline', { skip }, async () => {
  const msg = await buildCommitMessage({ automation, changes: [seedChange], template: '{{- " " }}{{ len .Updated.Images }} image' });
  assert.equal(msg, 'Update image automatically. 1 image');
});

test('without a template the default lists each change under a blank line', { skip }, async () => {
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
  assert.equal(await buildCommitMessage({ automation, changes }), expected);
  assert.equal(await buildCommitMessage({ automation, changes, template: '' }), expected);
  assert.ok(DEFAULT_COMMIT_TEMPLATE.startsWith('\n'));
});

test("Flux's documented v1beta1 and v1beta2 templates render", { skip }, async () => {
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
    await renderCommitMessage(v1beta1, { automation, changes }),
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
    await renderCommitMessage(v1beta2, { automation, changes }),
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

test('data: Changed.Changes dedupes, Objects gathers, Values and AutomationObject fields', { skip }, async () => {
  const dup: CommitChange = { ...seedChange, file: 'other/app.yaml' };
  const data: CommitDataInput = { automation, changes: [seedChange, dup], values: { env: 'prod' } };
  const t =
    '{{ len .Changed.Changes }} {{ range $o, $c := .Changed.Objects }}{{ $o.Name }}={{ len $c }}{{ end }} ' +
    '{{ .Values.env }} {{ .Values.none }} {{ .AutomationObject.Namespace }}/{{ .AutomationObject.Name }} ' +
    '{{ range .Changed.Changes }}{{ .Setter }}{{ end }}';
  assert.equal(await renderCommitMessage(t, data), '1 app=2 prod <no value> default/image-gitops default:image-gitops');
  assert.equal(await renderCommitMessage('{{ len .Updated.Images }} {{ len .Changed.ImageResult.Images }}', data), '1 1');
  assert.equal(await renderCommitMessage('{{ .Values.none }}|{{ .Values }}', { automation, changes: [] }), '<no value>|map[]');
});

test('data: image references expose Flux ImageRef parts, with go-containerregistry defaults', { skip }, async () => {
  const changes: CommitChange[] = [
    { ...seedChange, image: 'nginx:1.2', setter: 'ns:web' },
    { ...seedChange, file: 'b.yaml', image: 'ghcr.io/org/app:v1@sha256:abc', setter: 'ns:app' },
    { ...seedChange, file: 'c.yaml', image: 'docker.io/org/app', setter: 'ns:hub:tag' },
    // Like go-containerregistry (and unlike Docker), only a host with "." or ":" is a registry.
    { ...seedChange, file: 'd.yaml', image: 'localhost/app:1', setter: 'ns:local' },
    { ...seedChange, file: 'e.yaml', image: '127.0.0.1:5000/a/b:t@sha256:x', setter: 'ns:port' },
  ];
  const t =
    '{{ range .Updated.Images }}{{ . }}|{{ .Registry }}|{{ .Repository }}|{{ .Identifier }}|{{ .Name }}|' +
    '{{ .Tag }}|{{ .Digest }}|{{ .Policy }}|{{ .Policy.Name }}\n{{ end }}';
  assert.equal(
    await renderCommitMessage(t, { automation, changes }),
    [
      'nginx:1.2|index.docker.io|library/nginx|1.2|index.docker.io/library/nginx:1.2|1.2||ns/web|web',
      'ghcr.io/org/app:v1@sha256:abc|ghcr.io|org/app|sha256:abc|ghcr.io/org/app@sha256:abc|v1|sha256:abc|ns/app|app',
      'docker.io/org/app|index.docker.io|org/app|latest|index.docker.io/org/app:latest|||ns/hub|hub',
      'localhost/app:1|index.docker.io|localhost/app|1|index.docker.io/localhost/app:1|1||ns/local|local',
      '127.0.0.1:5000/a/b:t@sha256:x|127.0.0.1:5000|a/b|sha256:x|127.0.0.1:5000/a/b@sha256:x|t|sha256:x|ns/port|port',
      '',
    ].join('\n'),
  );
});

test('data: object identifiers, changes and images print and marshal as in Flux', { skip }, async () => {
  const data: CommitDataInput = { automation, changes: [seedChange] };
  assert.equal(
    await renderCommitMessage('{{ range $o, $_ := .Changed.Objects }}{{ $o }} {{ toJson $o }}{{ end }}', data),
    '{{{apps/v1 Deployment} {app default}}} {"apiVersion":"apps/v1","kind":"Deployment","name":"app","namespace":"default"}',
  );
  assert.equal(
    await renderCommitMessage('{{ range .Changed.Changes }}{{ . }} {{ toJson . }}{{ end }}', data),
    `{nginx ${seedImage} default:image-gitops} {"OldValue":"nginx","NewValue":"${seedImage}","Setter":"default:image-gitops"}`,
  );
  // Flux's ImageRef embeds the name.Reference interface: toJson shows it as a field.
  assert.equal(
    await renderCommitMessage('{{ .Updated.Images }} {{ toJson .Updated.Images }} {{ printf "%T" .Updated.Images }}', data),
    `[${seedImage}] [{"Reference":"${seedImage}"}] []update.ImageRef`,
  );
});

test('data: no changes gives empty collections, not errors', { skip }, async () => {
  const data: CommitDataInput = { automation, changes: [] };
  assert.equal(await renderCommitMessage('{{ len .Updated.Images }}{{ range .Changed.Changes }}x{{ else }} none{{ end }}', data), '0 none');
});

test('template errors: terminal, with the user template line numbers', { skip }, async () => {
  await assert.rejects(buildCommitMessage({ automation, changes: [seedChange], template: 'ok\n{{ .Nope }}' }), (err: unknown) => {
    assert.ok(err instanceof TemplateError);
    assert.equal(err.code, 'CommitTemplateFailed');
    assert.equal(err.kind, 'terminal');
    assert.equal(
      err.message,
      'template: commit message:2:3: executing "commit message" at <.Nope>: can\'t evaluate field Nope in type update.TemplateData',
    );
    return true;
  });
  await assert.rejects(validateCommitTemplate('{{ range .Updated.Images }}'), (err: unknown) => {
    assert.ok(err instanceof TemplateError);
    assert.equal(err.code, 'InvalidCommitTemplate');
    assert.equal(err.kind, 'terminal');
    assert.equal(err.message, 'template: commit message:1: unexpected EOF');
    return true;
  });
  await validateCommitTemplate('Image: {{range .Updated.Images}}{{println .}}{{end}}');
});
