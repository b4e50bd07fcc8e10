/**
 * Hostile commit message templates (a tenant writes them): each ends at the engine's memory or time
 * limit as the automation's CommitTemplateFailed condition, and this process renders the next
 * template as if nothing happened.
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
