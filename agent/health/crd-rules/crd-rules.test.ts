import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import type { KubeObject } from '../../../shared/kube/object.ts';
import type { HealthResult } from '../index.ts';
import { assessHealth } from '../index.ts';

/**
 * Argo CD's resource customizations as the oracle for the custom-resource rules: every
 * `<group>/<kind>/health_test.yaml` copied into the fixture folder (see its README) is run
 * through `assessHealth`, and each expected status and message must come out, except where a
 * row in EXCEPTIONS says what we answer instead and why.
 */
const ROOT = join(import.meta.dirname, '..', 'fixtures', 'upstream', 'argo-cd');

/** Instants in the fixtures are years old; rules that read the clock must not depend on them. */
const ctx = { now: Date.parse('2026-06-01T00:00:00Z') };

interface UpstreamCase {
  /** `group/Kind/testdata/file.yaml`, as in the Argo CD repository under resource_customizations/. */
  id: string;
  kind: string;
  input: string;
  want: HealthResult;
}

interface Exception {
  want: HealthResult;
  why: string;
  /** Judge the fixture as it is, deletion mark included (see loadUpstream). */
  asLive?: boolean;
}

const OWN_DIR = join(import.meta.dirname, '..', 'fixtures', 'crd');

/** Kinds Argo CD has no script for, and edge cases its fixtures miss: our own fixtures, by family folder. */
const OWN: { file: string; want: HealthResult; now?: number }[] = [
  {
    file: 'cert-manager/certificaterequest-issued.yaml',
    want: { status: 'Healthy', message: 'Certificate fetched from issuer successfully' },
  },
  {
    file: 'cert-manager/certificaterequest-pending.yaml',
    want: { status: 'Progressing', message: 'Waiting on certificate issuance from order shop/shop-tls-1-3958296862: "pending"' },
  },
  {
    file: 'cert-manager/certificaterequest-failed.yaml',
    want: {
      status: 'Degraded',
      message:
        'Vault failed to sign certificate: failed to sign certificate by vault: ' +
        'Error making API request. Code: 403. Errors: * permission denied',
    },
  },
  {
    file: 'cert-manager/certificaterequest-denied.yaml',
    want: { status: 'Degraded', message: 'Denied by the approver-policy plugin: no policy matches the request' },
  },
  { file: 'cert-manager/certificaterequest-new.yaml', want: { status: 'Progressing', message: 'Waiting for the issuer' } },
  {
    file: 'flux/helmrelease-tested.yaml',
    want: { status: 'Healthy', message: 'TestSucceeded: Helm test succeeded for release shop/podinfo.v3 with chart podinfo@6.5.4' },
  },
  {
    file: 'flux/helmrelease-stale.yaml',
    want: { status: 'Progressing', message: 'Waiting for the controller to observe generation 4 (observed 3)' },
  },
  { file: 'crossplane/claim-creating.yaml', want: { status: 'Progressing', message: 'Provisioning ...' } },
  { file: 'crossplane/xr-v2-ready.yaml', want: { status: 'Healthy', message: 'Resource is up-to-date.' } },
  {
    file: 'crossplane/xr-sync-failed.yaml',
    want: {
      status: 'Degraded',
      message:
        'cannot compose resources: pipeline step "patch-and-transform" returned a fatal result: ' +
        'cannot render composed resource "rdsinstance": spec.forProvider.allocatedStorage: Invalid value',
    },
  },
  { file: 'crossplane/managed-no-status.yaml', want: { status: 'Progressing', message: 'Provisioning ...' } },
  { file: 'velero/backup-completed.yaml', want: { status: 'Healthy', message: 'Backup completed' } },
  { file: 'velero/backup-in-progress.yaml', want: { status: 'Progressing', message: 'Backup InProgress' } },
  { file: 'velero/backup-partially-failed.yaml', want: { status: 'Degraded', message: 'Backup PartiallyFailed' } },
  {
    file: 'velero/backup-failed.yaml',
    want: {
      status: 'Degraded',
      message:
        'Backup Failed: error checking if backup already exists in object storage: ' +
        'rpc error: code = Unknown desc = AccessDenied: Access Denied',
    },
  },
  { file: 'velero/schedule-enabled.yaml', want: { status: 'Healthy', message: 'Schedule is enabled' } },
  {
    file: 'velero/schedule-invalid.yaml',
    want: { status: 'Degraded', message: 'invalid schedule: expected exactly 5 fields, found 4: [0 2 * *]' },
  },
  {
    file: 'velero/bsl-unavailable.yaml',
    want: {
      status: 'Degraded',
      message:
        'BackupStorageLocation "default" is unavailable: rpc error: code = Unknown desc = ' +
        'NoSuchBucket: The specified bucket does not exist',
    },
  },
  {
    file: 'tekton/pipelinerun-succeeded.yaml',
    want: { status: 'Healthy', message: 'Tasks Completed: 3 (Failed: 0, Cancelled 0), Skipped: 0' },
  },
  {
    file: 'tekton/pipelinerun-failed.yaml',
    want: { status: 'Degraded', message: 'Tasks Completed: 2 (Failed: 1, Cancelled 0), Skipped: 1' },
  },
  {
    file: 'tekton/pipelinerun-running.yaml',
    want: { status: 'Progressing', message: 'Tasks Completed: 1 (Failed: 0, Cancelled 0), Incomplete: 2, Skipped: 0' },
  },
  { file: 'tekton/pipelinerun-pending.yaml', want: { status: 'Suspended', message: 'PipelineRun is pending' } },
  {
    file: 'tekton/taskrun-timeout.yaml',
    want: { status: 'Degraded', message: 'TaskRun "build-web-7qk2m-test" failed to finish within "10m0s"' },
  },
  // One second after creation: the generic rule would still wait for a status that never comes.
  { file: 'no-status/servicemonitor.yaml', want: { status: 'Healthy' }, now: Date.parse('2026-03-02T12:00:01Z') },
];

/**
 * Groups whose messages deliberately go on where Argo's stop: Argo CD reports a Flux object's
 * Ready reason alone ("GitOperationFailed"); we add the condition's text after a colon, because
 * that is what tells the user why. The status must still agree, and our message must begin with
 * Argo's.
 */
const MESSAGE_EXTENDED: ReadonlySet<string> = new Set([
  'source.toolkit.fluxcd.io',
  'helm.toolkit.fluxcd.io',
  'kustomize.toolkit.fluxcd.io',
  'image.toolkit.fluxcd.io',
  'notification.toolkit.fluxcd.io',
]);

/** Where we deliberately answer otherwise than Argo CD's Lua script. */
const EXCEPTIONS: Record<string, Exception> = {
  'batch/CronJob/testdata/suspended.yaml': {
    want: { status: 'Suspended', message: 'CronJob is suspended' },
    why: 'Suspended is what the status is for; Argo reports Healthy only until its issue #24428 is fixed',
  },
  'batch/CronJob/testdata/never-succeeded.yaml': {
    want: { status: 'Degraded', message: 'CronJob has never completed an execution successfully' },
    why: 'it was scheduled, nothing runs now and nothing ever succeeded: its runs failed',
  },
  'apiextensions.k8s.io/CustomResourceDefinition/testdata/crd-v1-terminating-timestamp-progressing.yaml': {
    want: { status: 'Progressing', message: 'Pending deletion' },
    why: "a CRD being deleted: Argo CD's engine answers before the script runs, as we do",
    asLive: true,
  },
};

function findTests(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...findTests(path));
    else if (entry.name === 'health_test.yaml') out.push(path);
  }
  return out.sort();
}

function readCases(): UpstreamCase[] {
  const cases: UpstreamCase[] = [];
  for (const file of findTests(ROOT)) {
    const dir = dirname(file);
    const kind = relative(ROOT, dir);
    const doc = parse(readFileSync(file, 'utf8')) as { tests: { inputPath: string; healthStatus: { status: string; message?: string } }[] };
    for (const t of doc.tests) {
      const want = { status: t.healthStatus.status, ...(t.healthStatus.message ? { message: t.healthStatus.message } : {}) };
      cases.push({ id: `${kind}/${t.inputPath}`, kind, input: join(dir, t.inputPath), want: want as HealthResult });
    }
  }
  return cases;
}

function load(path: string): KubeObject {
  return parse(readFileSync(path, 'utf8'), { uniqueKeys: false }) as KubeObject;
}

/**
 * Argo CD's script tests run the Lua script alone, without the "being deleted → Progressing"
 * rule that precedes every script (in Argo CD as here), and some Strimzi fixtures were captured
 * from objects being deleted: the upstream cases are judged without that mark.
 */
function loadUpstream(path: string): KubeObject {
  const obj = load(path);
  delete obj.metadata.deletionTimestamp;
  return obj;
}

function agrees(got: HealthResult, want: HealthResult): boolean {
  return got.status === want.status && (want.message === undefined || got.message === want.message);
}

/** Argo's message, or (for MESSAGE_EXTENDED groups) Argo's message followed by ": " and more. */
function messageMatches(kind: string, got: string | undefined, want: string): boolean {
  if (got === want) return true;
  return MESSAGE_EXTENDED.has(kind.split('/')[0]!) && got !== undefined && got.startsWith(`${want}: `);
}

const CASES = readCases();

describe("health: against Argo CD's resource customizations", () => {
  for (const c of CASES) {
    const exception = EXCEPTIONS[c.id];
    it(`${c.id} → ${exception ? `${exception.want.status} (differs from Argo: ${exception.why})` : c.want.status}`, () => {
      assert.ok(existsSync(c.input), `${c.input} is missing`);
      const got = assessHealth(exception?.asLive ? load(c.input) : loadUpstream(c.input), ctx);
      const want = exception?.want ?? c.want;
      assert.equal(got.status, want.status);
      if (want.message !== undefined) assert.ok(messageMatches(c.kind, got.message, want.message), `message ${got.message}`);
    });
  }

  for (const c of OWN) {
    it(`own fixture ${c.file} → ${c.want.status}`, () => {
      assert.deepEqual(assessHealth(load(join(OWN_DIR, c.file)), { now: c.now ?? ctx.now }), c.want);
    });
  }

  it('every own fixture has a row', () => {
    const rows = new Set(OWN.map((c) => c.file));
    const files = readdirSync(OWN_DIR, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.yaml'));
    assert.deepEqual(
      files.filter((f) => !rows.has(f)),
      [],
    );
  });

  it('every exception names a case that exists and really differs from Argo', () => {
    const byId = new Map(CASES.map((c) => [c.id, c]));
    for (const [id, e] of Object.entries(EXCEPTIONS)) {
      const c = byId.get(id);
      assert.ok(c, `${id}: no such upstream case`);
      assert.ok(!agrees(e.want, c.want), `${id}: listed as an exception but agrees with Argo`);
    }
  });

  it('agreement per kind: exact, same status with a longer message, or a listed exception', (t) => {
    const perKind = new Map<string, { exact: number; status: number; total: number }>();
    for (const c of CASES) {
      const row = perKind.get(c.kind) ?? { exact: 0, status: 0, total: 0 };
      const got = assessHealth(loadUpstream(c.input), ctx);
      row.total++;
      if (agrees(got, c.want)) row.exact++;
      else if (got.status === c.want.status && c.want.message !== undefined && messageMatches(c.kind, got.message, c.want.message))
        row.status++;
      perKind.set(c.kind, row);
    }
    const sum = (key: 'exact' | 'status') => [...perKind.values()].reduce((n, r) => n + r[key], 0);
    const exceptions = Object.keys(EXCEPTIONS).length;
    t.diagnostic(
      `${perKind.size} kinds, ${CASES.length} fixtures: ${sum('exact')} agree exactly, ` +
        `${sum('status')} agree in status with a longer message, ${exceptions} listed exceptions`,
    );
    for (const [kind, r] of perKind) if (r.exact < r.total) t.diagnostic(`${kind}: ${r.exact} exact + ${r.status} status of ${r.total}`);
    assert.equal(sum('exact') + sum('status') + exceptions, CASES.length);
  });
});
