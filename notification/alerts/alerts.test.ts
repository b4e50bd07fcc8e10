import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateAlertSpec, type AlertConfig } from '../../shared/spec/alert.ts';
import { fromKubeEvent, type NotificationEvent } from './event.ts';
import { alertSelects, enrich, type CompiledAlert } from './match.ts';
import { ALERT_BURST, ALERT_REFILL_MS, DEDUPE_WINDOW_MS, Throttle } from './throttle.ts';

const event = (over: Partial<NotificationEvent> = {}): NotificationEvent => ({
  involvedObject: { apiVersion: 'tidemark.dev/v1alpha1', kind: 'ContinuousDeployment', name: 'web', namespace: 'apps' },
  severity: 'error',
  timestamp: '2026-12-06T10:00:00Z',
  message: 'sync failed: GitUnreachable: cannot reach git.example.com',
  reason: 'GitUnreachable',
  metadata: { revision: 'main@sha1:' + 'a'.repeat(40) },
  reportingController: 'tidemark-agent',
  ...over,
});

function alert(spec: Record<string, unknown>): CompiledAlert {
  const read = validateAlertSpec(
    { providerRef: { name: 'chat' }, eventSources: [{ kind: 'ContinuousDeployment', name: '*' }], ...spec },
    'apps',
  );
  assert.ok(read.ok, JSON.stringify(!read.ok && read.errors.map((e) => e.message)));
  const config: AlertConfig = read.value;
  return {
    namespace: 'apps',
    name: 'a',
    config,
    include: config.inclusionList.map((p) => new RegExp(p)),
    exclude: config.exclusionList.map((p) => new RegExp(p)),
  };
}

describe('alerts: which events an alert sends (Flux rules)', () => {
  it('error alerts send failures only; info alerts send everything', () => {
    assert.equal(alertSelects(alert({ eventSeverity: 'error' }), event({ severity: 'info' })), false);
    assert.equal(alertSelects(alert({ eventSeverity: 'error' }), event()), true);
    assert.equal(alertSelects(alert({}), event({ severity: 'info' })), true);
  });

  it('matches kind, namespace, name or * with labels', () => {
    const byName = alert({ eventSources: [{ kind: 'ContinuousDeployment', name: 'web' }] });
    assert.equal(alertSelects(byName, event()), true);
    assert.equal(alertSelects(byName, event({ involvedObject: { ...event().involvedObject, name: 'api' } })), false);
    assert.equal(alertSelects(byName, event({ involvedObject: { ...event().involvedObject, namespace: 'other' } })), false);
    assert.equal(alertSelects(byName, event({ involvedObject: { ...event().involvedObject, kind: 'ImagePolicy' } })), false);
    const byLabels = alert({ eventSources: [{ kind: 'ContinuousDeployment', name: '*', matchLabels: { team: 'a' } }] });
    assert.equal(alertSelects(byLabels, event(), { team: 'a', tier: 'web' }), true);
    assert.equal(alertSelects(byLabels, event(), { team: 'b' }), false);
    assert.equal(alertSelects(byLabels, event()), false);
    const elsewhere = alert({ eventSources: [{ kind: 'ContinuousDeployment', name: '*', namespace: 'other' }] });
    assert.equal(alertSelects(elsewhere, event({ involvedObject: { ...event().involvedObject, namespace: 'other' } })), true);
  });

  it('inclusion patterns must match one, exclusion patterns none; suspended alerts send nothing', () => {
    assert.equal(alertSelects(alert({ inclusionList: ['^sync failed'] }), event()), true);
    assert.equal(alertSelects(alert({ inclusionList: ['^pruned'] }), event()), false);
    assert.equal(alertSelects(alert({ exclusionList: ['git\\.example\\.com'] }), event()), false);
    assert.equal(alertSelects(alert({ suspend: true }), event()), false);
  });

  it("adds the alert's metadata and summary without overriding the event's own", () => {
    const sent = enrich(alert({ eventMetadata: { env: 'prod', revision: 'not this' }, summary: 'web is down' }), event());
    assert.deepEqual(sent.metadata, { env: 'prod', summary: 'web is down', revision: event().metadata.revision });
  });

  it('reads every problem of an alert spec at once, with field paths', () => {
    const read = validateAlertSpec(
      { eventSeverity: 'warning', eventSources: [{ kind: 'Pod', name: 'web', matchLabels: { a: 'b' } }], inclusionList: 'x', extra: 1 },
      'apps',
      { noCrossNamespaceRefs: true },
    );
    assert.equal(read.ok, false);
    const messages = !read.ok ? read.errors.map((e) => e.message.split(':')[0]) : [];
    assert.deepEqual(messages.sort(), [
      'spec.eventSeverity',
      'spec.eventSources[0].kind',
      'spec.eventSources[0].matchLabels',
      'spec.extra',
      'spec.inclusionList',
      'spec.providerRef',
    ]);
    const cross = validateAlertSpec(
      { providerRef: { name: 'p' }, eventSources: [{ kind: 'ContinuousDeployment', name: '*', namespace: 'other' }] },
      'apps',
      { noCrossNamespaceRefs: true },
    );
    assert.match(!cross.ok ? (cross.errors[0]?.message ?? '') : '', /^spec\.eventSources\[0\]\.namespace: "other" is another namespace/);
  });
});

describe('alerts: a Kubernetes Event as a notification', () => {
  it('reads a Tidemark Event: Warning is an error, annotations under tidemark.dev/ are metadata', () => {
    const read = fromKubeEvent({
      involvedObject: { apiVersion: 'tidemark.dev/v1alpha1', kind: 'ContinuousDeployment', name: 'web', namespace: 'apps', uid: 'u1' },
      metadata: { annotations: { 'tidemark.dev/revision': 'main@sha1:abc', 'other.io/x': 'y' } },
      type: 'Warning',
      reason: 'GitUnreachable',
      message: 'cannot reach',
      lastTimestamp: '2026-12-06T10:00:00Z',
      reportingComponent: 'tidemark-agent',
    });
    assert.deepEqual(read, {
      involvedObject: { apiVersion: 'tidemark.dev/v1alpha1', kind: 'ContinuousDeployment', name: 'web', namespace: 'apps', uid: 'u1' },
      severity: 'error',
      timestamp: '2026-12-06T10:00:00Z',
      message: 'cannot reach',
      reason: 'GitUnreachable',
      metadata: { revision: 'main@sha1:abc' },
      reportingController: 'tidemark-agent',
    });
  });

  it('ignores Events about objects that are not Tidemark kinds, and malformed ones', () => {
    assert.equal(fromKubeEvent({ involvedObject: { apiVersion: 'v1', kind: 'Pod', name: 'p', namespace: 'a' } }), undefined);
    assert.equal(fromKubeEvent({ involvedObject: { apiVersion: 'tidemark.dev/v1alpha1', kind: 1 } }), undefined);
    assert.equal(fromKubeEvent({}), undefined);
  });
});

describe('alerts: repeats and storms', () => {
  it('sends a repeated message once per window, per object and revision', () => {
    const throttle = new Throttle();
    assert.equal(throttle.admit('apps/a', event(), 0), 'send');
    assert.equal(throttle.admit('apps/a', event(), 60_000), 'duplicate');
    assert.equal(throttle.admit('apps/b', event(), 60_000), 'send', 'another alert has its own memory');
    assert.equal(throttle.admit('apps/a', event({ metadata: { revision: 'main@sha1:' + 'b'.repeat(40) } }), 60_000), 'send');
    assert.equal(throttle.admit('apps/a', event(), DEDUPE_WINDOW_MS + 1), 'send');
  });

  it('lets a burst through, then one message per refill period', () => {
    const throttle = new Throttle();
    const distinct = (i: number) => event({ message: `failure ${i}` });
    const burst = Array.from({ length: ALERT_BURST + 5 }, (_, i) => throttle.admit('apps/a', distinct(i), 0));
    assert.equal(burst.filter((r) => r === 'send').length, ALERT_BURST);
    assert.equal(burst.filter((r) => r === 'rate-limited').length, 5);
    assert.equal(throttle.admit('apps/a', distinct(100), ALERT_REFILL_MS / 2), 'rate-limited');
    assert.equal(throttle.admit('apps/a', distinct(101), ALERT_REFILL_MS + 1), 'send');
  });
});
