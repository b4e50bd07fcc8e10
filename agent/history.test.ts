import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ContinuousDeployment, SyncHistoryEntry } from '../shared/api/continuous-deployment.ts';
import { BOT_COMMIT_PREFIX } from '../shared/api/constants.ts';
import { TidemarkError } from '../shared/errors/index.ts';
import { HISTORY_LIMIT, syncTrigger, withEntry, type TriggerFacts } from './history.ts';
import { statusFromOutcome } from './status.ts';
import type { ReconcileOutcome } from './types.ts';

const T0 = Date.parse('2026-12-06T10:00:00Z');
const sha = (n: number) => String(n).repeat(40).slice(0, 40);
const rev = (n: number) => `main@sha1:${sha(n)}`;

function cd(status: ContinuousDeployment['status'] = {}, generation = 1): ContinuousDeployment {
  return {
    apiVersion: 'tidemark.dev/v1alpha1',
    kind: 'ContinuousDeployment',
    metadata: { name: 'web', namespace: 'apps', generation },
    spec: { url: 'https://git.example/web.git', path: '.' },
    status,
  };
}

function outcome(n: number, extra: Partial<ReconcileOutcome> = {}): ReconcileOutcome {
  return {
    resolved: { ref: 'main', sha: sha(n), revision: rev(n), verified: true },
    synced: true,
    changes: [{ ref: { group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'apps', name: 'web' }, action: 'configured' }],
    resources: [],
    sync: 'Synced',
    health: { status: 'Healthy' },
    diffs: [],
    pruneCandidates: [],
    notes: [],
    ...extra,
  };
}

const run = { startedMs: T0 - 5_000, trigger: 'Interval' as const, subject: 'bump web to 1.2' };
const ctx = (status: ContinuousDeployment['status'] = {}) => ({
  cd: cd(status),
  cluster: 'in-cluster',
  namespace: 'apps',
  nowMs: T0,
  handledRequest: undefined,
  run,
});

test('a sync that applies a revision enters the history with its subject, times and trigger', () => {
  const { status } = statusFromOutcome(outcome(1), ctx());
  assert.deepEqual(status.history, [
    {
      revision: rev(1),
      subject: 'bump web to 1.2',
      startedAt: '2026-12-06T09:59:55Z',
      finishedAt: '2026-12-06T10:00:00Z',
      trigger: 'Interval',
      result: 'Succeeded',
    },
  ]);
});

test('a no-op reconcile of the applied revision adds no entry', () => {
  const previous = statusFromOutcome(outcome(1), ctx()).status;
  const { status } = statusFromOutcome(outcome(1, { changes: [] }), ctx(previous));
  assert.equal(status.history?.length, 1);
});

test('a compare-only run (manual sync policy) adds no entry', () => {
  const { status } = statusFromOutcome(outcome(1, { synced: false, sync: 'OutOfSync' }), ctx());
  assert.equal(status.history, undefined);
});

test('the newest entry comes first', () => {
  const first = statusFromOutcome(outcome(1), ctx()).status;
  const { status } = statusFromOutcome(outcome(2), ctx(first));
  assert.deepEqual(
    status.history?.map((e) => e.revision),
    [rev(2), rev(1)],
  );
});

test('a failed apply is recorded with its reason; a failure before the fetch is not', () => {
  const error = new TidemarkError('ApplyFailed', 'admission webhook denied', { kind: 'transient' });
  const failed = statusFromOutcome(outcome(3, { error, failedPhase: 'apply', synced: false }), ctx()).status;
  assert.equal(failed.history?.[0]?.result, 'Failed');
  assert.equal(failed.history?.[0]?.reason, 'ApplyFailed');
  assert.match(failed.history?.[0]?.message ?? '', /admission webhook denied/);
  const unread = statusFromOutcome(outcome(3, { error, failedPhase: 'fetch', synced: false }), ctx()).status;
  assert.equal(unread.history, undefined);
});

test('retries of one broken revision keep one entry, so the good syncs stay in the list', () => {
  const error = new TidemarkError('ApplyFailed', 'denied', { kind: 'transient' });
  let status = statusFromOutcome(outcome(1), ctx()).status;
  for (let i = 0; i < 3; i++) status = statusFromOutcome(outcome(2, { error, failedPhase: 'apply', synced: false }), ctx(status)).status;
  assert.deepEqual(
    status.history?.map((e) => `${e.revision} ${e.result}`),
    [`${rev(2)} Failed`, `${rev(1)} Succeeded`],
  );
});

test('a superseded sync that wrote objects is recorded as Superseded', () => {
  const { status } = statusFromOutcome(outcome(1, { superseded: { by: 'a new commit', during: 'health' } }), ctx());
  assert.equal(status.history?.[0]?.result, 'Superseded');
  assert.match(status.history?.[0]?.message ?? '', /a new commit/);
});

test('the history keeps at most ten entries, dropping the oldest', () => {
  let history: SyncHistoryEntry[] = [];
  for (let n = 1; n <= HISTORY_LIMIT + 3; n++) {
    history = withEntry(history, { revision: `r${n}`, startedAt: '', finishedAt: '', result: 'Succeeded', trigger: 'Interval' });
  }
  assert.equal(history.length, HISTORY_LIMIT);
  assert.equal(history[0]?.revision, `r${HISTORY_LIMIT + 3}`);
  assert.equal(history.at(-1)?.revision, 'r4');
});

const facts = (extra: Partial<TriggerFacts>): TriggerFacts => ({
  syncRequested: false,
  requestedBy: undefined,
  generation: 2,
  observedGeneration: 2,
  revisionChanged: false,
  subject: undefined,
  ...extra,
});

test('trigger: a new bot commit is an image push even when a sync request came with it', () => {
  const subject = `${BOT_COMMIT_PREFIX} web to 1.3`;
  assert.deepEqual(syncTrigger(facts({ revisionChanged: true, subject, syncRequested: true })), { trigger: 'ImagePush' });
  // The same bot commit applied again (drift repair) is not a new image push.
  assert.deepEqual(syncTrigger(facts({ revisionChanged: false, subject })), { trigger: 'Interval' });
});

test('trigger: a receiver is a webhook, any other requester a sync request naming them', () => {
  assert.deepEqual(syncTrigger(facts({ syncRequested: true, requestedBy: 'receiver/github' })), {
    trigger: 'Webhook',
    requestedBy: 'receiver/github',
  });
  assert.deepEqual(syncTrigger(facts({ syncRequested: true, requestedBy: 'console/alice' })), {
    trigger: 'SyncRequest',
    requestedBy: 'console/alice',
  });
  assert.deepEqual(syncTrigger(facts({ syncRequested: true })), { trigger: 'SyncRequest' });
});

test('trigger: an unseen generation is a spec change; otherwise the interval', () => {
  assert.deepEqual(syncTrigger(facts({ generation: 3 })), { trigger: 'SpecChange' });
  assert.deepEqual(syncTrigger(facts({ observedGeneration: undefined })), { trigger: 'SpecChange' });
  assert.deepEqual(syncTrigger(facts({})), { trigger: 'Interval' });
});
