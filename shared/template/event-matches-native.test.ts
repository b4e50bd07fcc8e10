/**
 * The event model (Alert message templates) through the WebAssembly module against the native
 * build of the same Go source, as image-updater/template/wasm-matches-native.test.ts does for
 * commit messages: the same bytes, or the same error, for every template over every event.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { templateEngine } from '../../test/harness/template-engine.ts';
import { ALERT_MESSAGE, DEFAULT_MAX_OUTPUT_BYTES, TemplateError, runTemplate } from './index.ts';

const engine = templateEngine();
const involvedObject = { apiVersion: 'tidemark.dev/v1alpha1', kind: 'ContinuousDeployment', name: 'web', namespace: 'apps', uid: 'u-1' };
const EVENTS: Record<string, object> = {
  failure: {
    involvedObject,
    severity: 'error',
    timestamp: '2026-12-06T10:04:05Z',
    message: 'sync failed: GitUnreachable: cannot reach git.example.com\nsecond line',
    reason: 'GitUnreachable',
    metadata: { revision: 'main@sha1:' + 'a'.repeat(40), env: 'prod', summary: 'web is down' },
    reportingController: 'tidemark-agent',
    reportingInstance: 'agent-0',
  },
  sparse: {
    involvedObject: { ...involvedObject, uid: undefined },
    severity: 'info',
    timestamp: '',
    message: '',
    reason: 'X',
    metadata: {},
  },
  offset: { involvedObject, severity: 'info', timestamp: '2026-12-06T12:00:00+02:00', message: 'é 世界', reason: 'Y', metadata: {} },
};
const TEMPLATES = [
  '{{ .InvolvedObject.Kind }}/{{ .InvolvedObject.Namespace }}/{{ .InvolvedObject.Name }} {{ .Severity }}: {{ .Message }}',
  '{{ .Timestamp }}|{{ .Timestamp.UTC.Format "2006-01-02T15:04:05Z07:00" }}|{{ .Timestamp.Unix }}|{{ .Timestamp.IsZero }}',
  '{{ range $k, $v := .Metadata }}{{ $k }}={{ $v }};{{ end }}{{ .Metadata.missing }}|{{ index .Metadata "env" | default "none" }}',
  '{{ . }}',
  '{{ toJson .InvolvedObject }} {{ .ReportingController }} {{ .ReportingInstance }} {{ .InvolvedObject.UID }}',
  '{{ .Message | splitList "\\n" | first | upper | trunc 20 }}{{ if eq .Severity "error" }} :red_circle:{{ end }}',
  // Errors: parse, execution, the output cap.
  '{{ .Message ',
  '{{ .Nope }}',
  '{{ .Metadata.env.nope }}',
  `{{ repeat ${DEFAULT_MAX_OUTPUT_BYTES + 1} "x" }}`,
];

interface Outcome {
  output?: string;
  code?: string;
  error?: string;
}

test('alert messages: the WebAssembly module renders every case exactly as the native build', { skip: engine.skip }, async () => {
  const cases = TEMPLATES.flatMap((template) => Object.entries(EVENTS).map(([name, data]) => ({ template, name, data })));
  const requests = cases.map(({ template, data }) => ({
    template,
    data,
    maxOutput: DEFAULT_MAX_OUTPUT_BYTES,
    name: ALERT_MESSAGE.name,
    model: ALERT_MESSAGE.model,
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
      : { code: r.stage === 'parse' ? ALERT_MESSAGE.codes.parse : ALERT_MESSAGE.codes.execute, error: r.error },
  );
  const actual = await Promise.all(
    cases.map(({ template, data }) =>
      runTemplate(ALERT_MESSAGE, { template, data }).then(
        (output): Outcome => ({ output }),
        (err: unknown): Outcome => (err instanceof TemplateError ? { code: err.code, error: err.message } : { error: String(err) }),
      ),
    ),
  );
  for (const [i, c] of cases.entries())
    assert.deepEqual(actual[i], expected[i], `${JSON.stringify(c.template.slice(0, 60))} over ${c.name}`);
  const failures = expected.filter((e) => e.error !== undefined).length;
  assert.ok(failures >= 10 && failures < expected.length - 10, `${failures} of ${expected.length} cases fail: the table lost its balance`);
  // A few outputs by value, so both builds agreeing on something wrong shows too.
  assert.equal(
    actual[0]?.output,
    'ContinuousDeployment/apps/web error: sync failed: GitUnreachable: cannot reach git.example.com\nsecond line',
  );
  assert.equal(actual[3]?.output, '2026-12-06 10:04:05 +0000 UTC|2026-12-06T10:04:05Z|1796551445|false');
});
