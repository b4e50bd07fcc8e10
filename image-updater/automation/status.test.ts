import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { terminal, transient } from '../../shared/errors/index.ts';
import { MARKERS_CONDITION, nextAutomationStatus } from './status.ts';
import type { ImageUpdateAutomationStatus } from './types.ts';
import type { RunProblem } from './update-run.ts';

const T0 = Date.parse('2025-01-01T00:00:00Z');
const ctx = (nowMs = T0, handledRequest?: string) => ({ generation: 3, nowMs, handledRequest });
const policies = { 'team/app': { name: '127.0.0.1:5000/app', tag: 'master-abc-2' } };
const problem: RunProblem = {
  code: 'MarkerUnknownPolicy',
  file: 'apps/a.yaml',
  line: 4,
  message: 'no ImagePolicy team:nope',
};
const condition = (status: ImageUpdateAutomationStatus, type: string) => status.conditions?.find((c) => c.type === type);

describe('nextAutomationStatus', () => {
  it('records a push: commit, time, policies, Ready and an Event with the message', () => {
    const { status, events } = nextAutomationStatus(
      undefined,
      {
        kind: 'done',
        pushed: {
          commit: 'a'.repeat(40),
          branch: 'image',
          message: 'Update image automatically.\nImage: x',
          changes: 1,
        },
        problems: [],
        observedPolicies: policies,
      },
      ctx(T0, 'req-1'),
    );
    assert.equal(status.lastPushCommit, 'a'.repeat(40));
    assert.equal(status.lastPushTime, '2025-01-01T00:00:00Z');
    assert.equal(status.lastAutomationRunTime, '2025-01-01T00:00:00Z');
    assert.equal(status.lastHandledRequestedAt, 'req-1');
    assert.equal(status.observedGeneration, 3);
    assert.deepEqual(status.observedPolicies, policies);
    assert.deepEqual(
      status.conditions?.map((c) => [c.type, c.status, c.reason]),
      [['Ready', 'True', 'ReconciliationSucceeded']],
    );
    assert.match(condition(status, 'Ready')?.message ?? '', /pushed commit aaaaaaaaaaaa to branch image/);
    assert.deepEqual(
      events.map((e) => [e.type, e.reason]),
      [['Normal', 'PushSucceeded']],
    );
    assert.match(events[0]?.message ?? '', /Image: x/);
  });

  it('a run with nothing to do keeps the last push and moves only the run time', () => {
    const first = nextAutomationStatus(
      undefined,
      {
        kind: 'done',
        pushed: { commit: 'b'.repeat(40), branch: 'main', message: 'm', changes: 1 },
        problems: [],
        observedPolicies: policies,
      },
      ctx(),
    );
    const { status, events } = nextAutomationStatus(
      first.status,
      { kind: 'done', unchanged: 'no-change', problems: [], observedPolicies: policies },
      ctx(T0 + 60_000),
    );
    assert.equal(status.lastPushCommit, 'b'.repeat(40));
    assert.equal(status.lastPushTime, '2025-01-01T00:00:00Z');
    assert.equal(status.lastAutomationRunTime, '2025-01-01T00:01:00Z');
    assert.match(condition(status, 'Ready')?.message ?? '', /no updates made/);
    assert.equal(condition(status, 'Ready')?.lastTransitionTime, '2025-01-01T00:00:00Z', 'no transition');
    assert.deepEqual(events, []);
  });

  it('terminal errors stall, transient ones do not; both are Warning Events', () => {
    const denied = nextAutomationStatus(
      undefined,
      {
        kind: 'failed',
        error: terminal('GitPermissionDenied', 'git push failed: 403', 'the credentials lack write access'),
      },
      ctx(),
    );
    assert.deepEqual(
      denied.status.conditions?.map((c) => [c.type, c.status, c.reason]),
      [
        ['Ready', 'False', 'GitPermissionDenied'],
        ['Stalled', 'True', 'GitPermissionDenied'],
      ],
    );
    assert.match(condition(denied.status, 'Ready')?.message ?? '', /403 \(the credentials lack write access\)/);
    assert.deepEqual(
      denied.events.map((e) => [e.type, e.reason]),
      [['Warning', 'GitPermissionDenied']],
    );

    const moved = nextAutomationStatus(denied.status, { kind: 'failed', error: transient('GitPushRejected', 'branch kept moving') }, ctx());
    assert.deepEqual(
      moved.status.conditions?.map((c) => [c.type, c.status, c.reason]),
      [['Ready', 'False', 'GitPushRejected']],
    );
  });

  it('reports marker problems in their own condition and announces them once', () => {
    const first = nextAutomationStatus(
      undefined,
      { kind: 'done', unchanged: 'no-change', problems: [problem], observedPolicies: policies },
      ctx(),
    );
    const markers = condition(first.status, MARKERS_CONDITION);
    assert.deepEqual([markers?.status, markers?.reason], ['False', 'MarkerUnknownPolicy']);
    assert.equal(markers?.message, '1 marker problem: apps/a.yaml:4: no ImagePolicy team:nope');
    assert.equal(condition(first.status, 'Ready')?.status, 'True', 'problems are not fatal');
    assert.deepEqual(
      first.events.map((e) => [e.type, e.reason, e.message]),
      [['Warning', 'MarkerUnknownPolicy', 'apps/a.yaml:4: no ImagePolicy team:nope']],
    );

    const again = nextAutomationStatus(
      first.status,
      { kind: 'done', unchanged: 'no-change', problems: [problem], observedPolicies: policies },
      ctx(T0 + 1000),
    );
    assert.deepEqual(again.events, [], 'the same problems are not announced again');

    const fixed = nextAutomationStatus(
      again.status,
      { kind: 'done', unchanged: 'no-change', problems: [], observedPolicies: policies },
      ctx(T0 + 2000),
    );
    assert.deepEqual(
      [condition(fixed.status, MARKERS_CONDITION)?.status, condition(fixed.status, MARKERS_CONDITION)?.reason],
      ['True', 'AllMarkersResolved'],
    );
  });

  it('lists at most ten problems and counts the rest', () => {
    const many = Array.from({ length: 13 }, (_, i): RunProblem => ({
      code: 'MarkerInvalid',
      file: `f${i}.yaml`,
      message: 'bad JSON',
    }));
    const { status, events } = nextAutomationStatus(
      undefined,
      { kind: 'done', unchanged: 'no-change', problems: many, observedPolicies: {} },
      ctx(),
    );
    assert.match(
      condition(status, MARKERS_CONDITION)?.message ?? '',
      /^13 marker problems: f0\.yaml: bad JSON; .*f9\.yaml: bad JSON; and 3 more$/,
    );
    assert.equal(events.length, 10);
  });
});
