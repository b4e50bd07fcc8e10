/**
 * Alert message templates: rendered by the real engine (Go's text/template as WebAssembly) over the
 * event, sent in each provider's payload; a failing template sends the plain message and says why
 * on the Alert; a template Go cannot parse is a spec problem with its field path.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { API_VERSION } from '../../shared/api/constants.ts';
import { Resources } from '../../shared/api/resources.ts';
import type { Condition } from '../../shared/conditions/index.ts';
import { FakeKubePort } from '../../shared/kube/fake-port.ts';
import { silentLogger } from '../../shared/log/index.ts';
import { MAX_ALERT_TEMPLATE_BYTES, validateAlertSpec } from '../../shared/spec/alert.ts';
import { FakeClock } from '../../shared/time/fake-clock.ts';
import { templateEngine } from '../../test/harness/template-engine.ts';
import { providerRequest, type ResolvedProvider } from '../providers/payloads.ts';
import { AlertController, MESSAGE_TEMPLATE_CONDITION } from './controllers.ts';
import type { NotificationEvent } from './event.ts';
import { templatedEvent, validateAlertTemplate } from './message.ts';

const { skip } = templateEngine();
const NS = 'apps';

const event: NotificationEvent = {
  involvedObject: { apiVersion: 'tidemark.dev/v1alpha1', kind: 'ContinuousDeployment', name: 'web', namespace: NS },
  severity: 'error',
  timestamp: '2026-12-06T10:04:05Z',
  message: 'sync failed: GitUnreachable: cannot reach git.example.com',
  reason: 'GitUnreachable',
  metadata: { revision: 'main@sha1:abc', env: 'prod' },
  reportingController: 'tidemark-agent',
};

const TEMPLATE =
  '[{{ .Metadata.env | upper }}] {{ .InvolvedObject.Kind }} {{ .InvolvedObject.Namespace }}/{{ .InvolvedObject.Name }} ' +
  '{{ .Reason }} at {{ .Timestamp.Format "15:04:05" }} by {{ .ReportingController }}: {{ .Message | trunc 11 }}';
const RENDERED = '[PROD] ContinuousDeployment apps/web GitUnreachable at 10:04:05 by tidemark-agent: sync failed';

test('the rendered message is what each provider sends; the rest of the event is unchanged', { skip }, async () => {
  const { event: sent, error } = await templatedEvent(TEMPLATE, event);
  assert.equal(error, undefined);
  assert.deepEqual(sent, { ...event, message: RENDERED });
  const provider = (type: ResolvedProvider['type']): ResolvedProvider => ({ type, address: 'https://hooks.example.com/x', token: 'k' });
  const generic = JSON.parse(providerRequest(provider('generic-hmac'), sent)?.body ?? '{}') as NotificationEvent;
  assert.equal(generic.message, RENDERED);
  assert.equal(generic.reason, 'GitUnreachable');
  const slack = JSON.parse(providerRequest(provider('slack'), sent)?.body ?? '{}') as { attachments: Array<{ text: string }> };
  assert.equal(slack.attachments[0]?.text, RENDERED);
  const teams = JSON.parse(providerRequest(provider('msteams'), sent)?.body ?? '{}') as { sections: Array<{ text: string }> };
  assert.equal(teams.sections[0]?.text, RENDERED);
});

test('no template: the event as it is, without the engine', async () => {
  assert.deepEqual(await templatedEvent(undefined, event), { event });
});

test('a template that fails for an event: the plain message, and AlertTemplateFailed with Go’s words', { skip }, async () => {
  const { event: sent, error } = await templatedEvent('{{ .Metadata.env.nope }}', event);
  assert.deepEqual(sent, event);
  assert.equal(error?.code, 'AlertTemplateFailed');
  assert.equal(error?.kind, 'terminal');
  assert.match(
    error?.message ?? '',
    /^template: alert message:1:12: executing "alert message" at <\.Metadata\.env\.nope>: can't evaluate field nope/,
  );
  const loop = await templatedEvent('{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}', event, { timeoutMs: 1000 });
  assert.deepEqual([loop.event, loop.error?.code], [event, 'AlertTemplateFailed']);
  assert.match(loop.error?.message ?? '', /took longer than 1000 ms/);
});

test('spec.messageTemplate: read as text with a size limit; empty means none', () => {
  const base = { providerRef: { name: 'chat' }, eventSources: [{ kind: 'ContinuousDeployment', name: '*' }] };
  const read = (messageTemplate: unknown) => validateAlertSpec({ ...base, messageTemplate }, NS);
  const ok = read(TEMPLATE);
  assert.equal(ok.ok && ok.value.messageTemplate, TEMPLATE);
  const empty = read('');
  assert.equal(empty.ok && empty.value.messageTemplate, undefined);
  const long = read('x'.repeat(MAX_ALERT_TEMPLATE_BYTES + 1));
  assert.deepEqual(!long.ok && long.errors.map((e) => [e.code, e.message]), [
    ['InvalidSpec', `spec.messageTemplate: is longer than ${MAX_ALERT_TEMPLATE_BYTES} bytes`],
  ]);
  const notText = read(3);
  assert.deepEqual(!notText.ok && notText.errors.map((e) => e.message.split(':')[0]), ['spec.messageTemplate']);
});

function setup(spec: Record<string, unknown>) {
  const kube = new FakeKubePort([Resources.Alert]);
  const alert = kube.seed({
    apiVersion: API_VERSION,
    kind: 'Alert',
    metadata: { name: 'chat', namespace: NS, generation: 1 },
    spec: { providerRef: { name: 'chat' }, eventSources: [{ kind: 'ContinuousDeployment', name: '*' }], ...spec },
  });
  const events: string[] = [];
  const recorder = {
    record: (object: { kind: string; name: string }, type: string, reason: string, message: string) => {
      events.push(`${type} ${reason} ${object.kind}/${object.name}: ${message}`);
      return Promise.resolve();
    },
  };
  const controller = new AlertController({
    port: kube,
    clock: new FakeClock(Date.UTC(2026, 11, 6)),
    log: silentLogger,
    workers: 1,
    events: recorder,
  });
  const conditions = () =>
    (kube.peek(API_VERSION, 'Alert', NS, 'chat') as { status?: { conditions?: Condition[] } } | undefined)?.status?.conditions ?? [];
  const condition = (type: string) => conditions().find((c) => c.type === type);
  return { kube, controller, alert: alert, events, condition };
}

test(
  'a template Go cannot parse: Ready=False InvalidAlertTemplate at spec.messageTemplate, and the Alert is not used',
  { skip },
  async () => {
    const { controller, alert, condition } = setup({ messageTemplate: '{{ .Message ' });
    await controller.reconcile(alert);
    const ready = condition('Ready');
    assert.deepEqual([ready?.status, ready?.reason], ['False', 'InvalidAlertTemplate']);
    assert.match(ready?.message ?? '', /^spec\.messageTemplate: template: alert message:1: unclosed action$/);
    assert.equal(controller.get(NS, 'chat'), undefined);
  },
);

test('a send whose template failed: MessageTemplate=False and a Warning Event; a later success clears it', { skip }, async () => {
  const { controller, alert, events, condition } = setup({ messageTemplate: '{{ .Metadata.env.nope }}' });
  await controller.reconcile(alert);
  assert.equal(condition('Ready')?.status, 'True');
  const { error } = await templatedEvent(controller.get(NS, 'chat')?.config.messageTemplate, event);
  await controller.messageTemplateOutcome(NS, 'chat', error);
  const failed = condition(MESSAGE_TEMPLATE_CONDITION);
  assert.deepEqual([failed?.status, failed?.reason], ['False', 'AlertTemplateFailed']);
  assert.match(failed?.message ?? '', /^the plain event message was sent: template: alert message:1:12: /);
  assert.equal(condition('Ready')?.status, 'True', 'the Alert still sends');
  assert.equal(events.length, 1);
  assert.match(
    events[0] ?? '',
    /^Warning AlertTemplateFailed Alert\/chat: spec\.messageTemplate: template: alert message:1:12: .*; the plain event message was sent$/,
  );
  await controller.messageTemplateOutcome(NS, 'chat', undefined);
  assert.equal(condition(MESSAGE_TEMPLATE_CONDITION), undefined);
  assert.equal(condition('Ready')?.status, 'True');
});

test('a new generation of the Alert drops the MessageTemplate condition of the old template', { skip }, async () => {
  const { controller, alert, condition } = setup({ messageTemplate: '{{ .Metadata.env.nope }}' });
  await controller.reconcile(alert);
  const { error } = await templatedEvent(controller.get(NS, 'chat')?.config.messageTemplate, event);
  await controller.messageTemplateOutcome(NS, 'chat', error);
  assert.equal(condition(MESSAGE_TEMPLATE_CONDITION)?.status, 'False');
  await controller.reconcile(alert);
  assert.equal(condition(MESSAGE_TEMPLATE_CONDITION)?.status, 'False', 'a resync of the same generation keeps it');
  const spec = (alert as { spec?: object }).spec;
  const edited = { ...alert, metadata: { ...alert.metadata, generation: 2 }, spec: { ...spec, messageTemplate: '{{ .Message }}' } };
  await controller.reconcile(edited);
  assert.equal(condition(MESSAGE_TEMPLATE_CONDITION), undefined);
  assert.equal(condition('Ready')?.observedGeneration, 2);
});

test('what Go said of a template is remembered: a resync or a shared template does not start the engine again', { skip }, async () => {
  const nowhere = { moduleDir: '/nonexistent/engine' };
  await validateAlertTemplate('{{ .Reason }} remembered');
  await validateAlertTemplate('{{ .Reason }} remembered', nowhere);
  await assert.rejects(validateAlertTemplate('{{ .Reason ', {}), (err: Error & { code?: string }) => err.code === 'InvalidAlertTemplate');
  await assert.rejects(
    validateAlertTemplate('{{ .Reason ', nowhere),
    (err: Error & { code?: string }) => err.code === 'InvalidAlertTemplate',
  );
  // Not parsed before: the engine is asked, and an engine failure is not remembered.
  await assert.rejects(
    validateAlertTemplate('{{ .Reason }} new', nowhere),
    (err: Error & { code?: string }) => err.code === 'CommitTemplateEngineMissing',
  );
  await validateAlertTemplate('{{ .Reason }} new');
});
