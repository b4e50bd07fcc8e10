/**
 * Hostile commit message templates (a tenant writes them): each ends at one of the engine's limits
 * (memory, time, Go's template depth, the output cap) as the automation's CommitTemplateFailed
 * condition, and this process renders the next template as if nothing happened.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { templateEngine } from '../../test/harness/template-engine.ts';
import { nextAutomationStatus } from '../automation/status.ts';
import { buildCommitMessage, renderCommitMessage, TemplateError } from './index.ts';
import type { EngineOptions } from './index.ts';

const { skip } = templateEngine();
const automation = { namespace: 'tenant', name: 'app' };

const HOSTILE: Array<{ what: string; template: string; options: EngineOptions; message: RegExp }> = [
  {
    what: 'a gigabyte string',
    template: '{{ len (repeat 1000000000 "x") }}',
    options: {},
    message: /the template engine failed: the Go program exited, most likely out of its 256 MiB/,
  },
  {
    what: 'a template that calls itself',
    template: '{{ define "loop" }}{{ template "loop" . }}{{ end }}{{ template "loop" . }}',
    options: {},
    message: /executing "loop" at <\{\{template "loop" \.\}\}>: exceeded maximum template depth \(1000\)/,
  },
  {
    // 10^10 lines of 64 bytes, from two small lists (one `until 1000000000` is itself 8 GB).
    what: 'gigabytes printed',
    template: `{{ range until 100000 }}{{ range until 100000 }}${'x'.repeat(63)}
{{ end }}{{ end }}`,
    options: {},
    message: /output exceeds 1048576 bytes/,
  },
  {
    what: 'ten billion loop turns',
    template: '{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}',
    options: { timeoutMs: 1500 },
    message: /the template engine took longer than 1500 ms/,
  },
];

for (const hostile of HOSTILE) {
  test(`${hostile.what}: a CommitTemplateFailed condition and Event, and the next render works`, { skip }, async () => {
    const heapBefore = process.memoryUsage().heapUsed;
    const error = await buildCommitMessage({ automation, changes: [], template: hostile.template }, hostile.options).then(
      () => assert.fail('the hostile template rendered'),
      (err: unknown) => err,
    );
    assert.ok(error instanceof TemplateError, String(error));
    assert.equal(error.code, 'CommitTemplateFailed');
    assert.equal(error.kind, 'terminal');

    const { status, events } = nextAutomationStatus(undefined, { kind: 'failed', error }, { generation: 1, nowMs: 0 });
    const ready = status.conditions?.find((c) => c.type === 'Ready');
    assert.deepEqual([ready?.status, ready?.reason], ['False', 'CommitTemplateFailed']);
    assert.match(ready?.message ?? '', hostile.message);
    assert.equal(status.conditions?.find((c) => c.type === 'Stalled')?.status, 'True', 'only a template change helps');
    assert.deepEqual(
      events.map((e) => [e.type, e.reason]),
      [['Warning', 'CommitTemplateFailed']],
    );

    // The work happened in the worker's Go heap, not ours; the next automation's template renders.
    const grewMiB = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
    assert.ok(grewMiB < 64, `this process's heap grew by ${grewMiB.toFixed(0)} MiB`);
    assert.equal(await renderCommitMessage('{{ .AutomationObject.Name }}', { automation, changes: [] }), 'app');
  });
}
