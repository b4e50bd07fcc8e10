import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import type { KubeObject } from '../../shared/kube/object.ts';
import { validateContinuousDeploymentSpec, type HealthCheckExpr } from '../../shared/spec/index.ts';
import type { HealthResult } from './index.ts';
import { assessHealth } from './index.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const load = (file: string): KubeObject => parse(readFileSync(join(FIXTURES, file), 'utf8')) as KubeObject;
const NOW = Date.parse('2026-06-01T00:00:00Z');

/** Read through the spec reader, as the agent reads them. */
function exprs(entries: unknown[]): HealthCheckExpr[] {
  const read = validateContinuousDeploymentSpec({ url: 'file:///repo', healthCheckExprs: entries });
  if (!read.ok) assert.fail(read.errors.map((e) => e.message).join('\n'));
  return read.value.healthCheckExprs;
}

const CHECKS = exprs([
  // Flux's documentation example, verbatim.
  {
    apiVersion: 'bitnami.com/v1alpha1',
    kind: 'SealedSecret',
    failed: "status.conditions.filter(e, e.type == 'Synced').all(e, e.status == 'False')",
    current: "status.conditions.filter(e, e.type == 'Synced').all(e, e.status == 'True')",
  },
  {
    apiVersion: 'example.com/v1',
    kind: 'Widget',
    inProgress: "status.phase == 'Retrying'",
    failed: 'has(status.lastError)',
    current: "status.phase == 'Ready'",
  },
  { apiVersion: 'example.com/v1', current: 'status.ready' },
]);

const CASES: Array<{ file: string; status: HealthResult['status']; message: string }> = [
  { file: 'cel/sealedsecret-synced.yaml', status: 'Healthy', message: 'spec.healthCheckExprs[0].current is true' },
  { file: 'cel/sealedsecret-failed.yaml', status: 'Degraded', message: 'spec.healthCheckExprs[0].failed is true' },
  // An expression over a field that does not exist yet cannot be evaluated: Unknown, and the wait goes on (Flux).
  { file: 'cel/sealedsecret-no-status.yaml', status: 'Unknown', message: 'spec.healthCheckExprs[0].failed: no such key: status' },
  // The generation test comes before any expression, even a true `current`.
  {
    file: 'cel/sealedsecret-stale-generation.yaml',
    status: 'Progressing',
    message: 'Waiting for the controller to observe generation 2 (observed 1)',
  },
  { file: 'cel/widget-working-and-failing.yaml', status: 'Progressing', message: 'spec.healthCheckExprs[1].inProgress is true' },
  // example.com/v2: the entry written for v1 covers it; none of its expressions is true → Progressing.
  { file: 'cel/widget-pending.yaml', status: 'Progressing', message: 'spec.healthCheckExprs[1]: no expression is true yet' },
  { file: 'cel/widget-string-generation.yaml', status: 'Healthy', message: 'spec.healthCheckExprs[1].current is true' },
  { file: 'cel/gadget-ready.yaml', status: 'Healthy', message: 'spec.healthCheckExprs[2].current is true' },
];

describe('health: spec.healthCheckExprs, evaluated as Flux evaluates them', () => {
  for (const c of CASES) {
    it(`${c.file} → ${c.status}`, () => {
      assert.deepEqual(assessHealth(load(c.file), { now: NOW, exprs: CHECKS }), { status: c.status, message: c.message });
    });
  }

  it('every fixture has a case', () => {
    const covered = new Set(CASES.map((c) => c.file));
    const files = readdirSync(join(FIXTURES, 'cel')).map((f) => `cel/${f}`);
    assert.deepEqual(
      files.filter((f) => !covered.has(f)),
      [],
    );
  });

  it('the order: inProgress, then failed, then current — each only when given', () => {
    const widget = load('cel/widget-pending.yaml');
    const rate = (entry: Record<string, string>) =>
      assessHealth(widget, { now: NOW, exprs: exprs([{ apiVersion: 'example.com/v1', kind: 'Widget', ...entry }]) }).status;
    assert.equal(rate({ inProgress: 'true', failed: 'true', current: 'true' }), 'Progressing');
    assert.equal(rate({ failed: 'true', current: 'true' }), 'Degraded');
    assert.equal(rate({ inProgress: 'false', failed: 'false', current: 'true' }), 'Healthy');
    assert.equal(rate({ current: 'false' }), 'Progressing');
    // An error stops the evaluation where it happens: a later true expression does not count.
    assert.equal(rate({ failed: 'status.missing', current: 'true' }), 'Unknown');
    assert.equal(rate({ current: "status.phase == 'Pending' ? 'yes' : 'no'" }), 'Unknown');
  });

  it('the variables are the top-level fields of the object', () => {
    const widget = load('cel/widget-pending.yaml');
    const current = "apiVersion == 'example.com/v2' && kind == 'Widget' && metadata.name == 'blue' && status.phase == 'Pending'";
    const got = assessHealth(widget, { now: NOW, exprs: exprs([{ apiVersion: 'example.com/v1', kind: 'Widget', current }]) });
    assert.equal(got.status, 'Healthy');
  });

  it('take precedence over the built-in rule of the kind, and a kind entry over the group entry', () => {
    const deployment = load('deployment-progressing.yaml');
    assert.equal(assessHealth(deployment, { now: NOW }).status, 'Progressing');
    const override = exprs([{ apiVersion: 'apps/v1', kind: 'Deployment', current: 'true' }]);
    assert.equal(assessHealth(deployment, { now: NOW, exprs: override }).status, 'Healthy');

    const gadget = load('cel/gadget-ready.yaml');
    const both = exprs([
      { apiVersion: 'example.com/v1', current: 'true' },
      { apiVersion: 'example.com/v1', kind: 'Gadget', current: 'false', failed: 'status.ready' },
    ]);
    assert.deepEqual(assessHealth(gadget, { now: NOW, exprs: both }), {
      status: 'Degraded',
      message: 'spec.healthCheckExprs[1].failed is true',
    });
  });

  it('leave other groups and kinds to the built-in rules, and an object being deleted Progressing', () => {
    const failed = load('cel/sealedsecret-failed.yaml');
    const other = exprs([{ apiVersion: 'example.com/v1', current: 'false' }]);
    // The built-in sealed-secrets rule (after Argo CD's): Synced=False → Degraded.
    assert.equal(assessHealth(failed, { now: NOW, exprs: other }).status, 'Degraded');
    const deleting = { ...load('cel/sealedsecret-synced.yaml') };
    deleting.metadata = { ...deleting.metadata, deletionTimestamp: '2026-03-02T12:00:00Z' };
    assert.deepEqual(assessHealth(deleting, { now: NOW, exprs: CHECKS }), { status: 'Progressing', message: 'Pending deletion' });
  });
});
