import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DiffResult, DiffState } from '../../shared/kube/resource-manager.ts';
import { chooseWrites } from './apply.ts';
import { pruneGate, pruneVerdict } from './prune.ts';
import { configMap } from './test-kit.ts';

const MAPPING = { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true };

function diff(name: string, state: DiffState): DiffResult {
  const object = configMap(name, {}, { namespace: 'apps' });
  return {
    planned: { object, mapping: MAPPING, ref: { group: '', version: 'v1', kind: 'ConfigMap', namespace: 'apps', name } },
    state,
    live: undefined,
    merged: undefined,
  };
}

const base = { selfHeal: true, applyOutOfSyncOnly: false, revisionChanged: false, syncRequested: false };
const sent = (choice: { toWrite: DiffResult[] }) => choice.toWrite.map((d) => d.planned.ref.name);

test('chooseWrites: which compared objects a sync sends', () => {
  const diffs = [diff('same', 'inSync'), diff('edited', 'drifted'), diff('deleted', 'missing')];
  assert.deepEqual(sent(chooseWrites(diffs, base)), ['edited', 'deleted'], 'same revision: only what differs');
  assert.deepEqual(
    sent(chooseWrites(diffs, { ...base, revisionChanged: true })),
    ['same', 'edited', 'deleted'],
    'new revision: everything',
  );
  assert.deepEqual(sent(chooseWrites(diffs, { ...base, revisionChanged: true, applyOutOfSyncOnly: true })), ['edited', 'deleted']);
  const noHeal = chooseWrites(diffs, { ...base, selfHeal: false });
  assert.deepEqual(sent(noHeal), []);
  assert.equal(noHeal.note?.reason, 'DriftDetected');
  assert.match(
    noHeal.note?.message ?? '',
    /^2 objects differ from Git: ConfigMap\/apps\/edited, ConfigMap\/apps\/deleted; selfHeal is off/,
  );
  assert.deepEqual(sent(chooseWrites(diffs, { ...base, selfHeal: false, syncRequested: true })), ['edited', 'deleted'], 'a request heals');
  assert.equal(chooseWrites([diff('same', 'inSync')], { ...base, selfHeal: false }).note, undefined);
});

test('pruneGate: an empty render blocks first, then prune: false, then a held write', () => {
  const options = { stale: 2, desired: 3, prune: true, allowEmpty: false, writeAllowed: true, plan: false };
  assert.equal(pruneGate(options).kind, 'prune');
  assert.equal(pruneGate({ ...options, desired: 0 }).kind, 'blockedEmpty');
  assert.equal(pruneGate({ ...options, desired: 0, allowEmpty: true }).kind, 'prune');
  assert.equal(pruneGate({ ...options, prune: false }).kind, 'off');
  assert.equal(pruneGate({ ...options, writeAllowed: false }).kind, 'held');
  assert.equal(pruneGate({ ...options, writeAllowed: false, plan: true }).kind, 'prune', 'a plan always says what a sync would prune');
});

test('pruneVerdict: only a live object that is ours and not pinned is deleted', () => {
  const owner = { namespace: 'agent', name: 'web' };
  const ours = configMap('a', {}, { namespace: 'apps', annotations: { 'tidemark.dev/owned-by': 'agent/web:/ConfigMap:apps/a' } });
  assert.equal(pruneVerdict(ours, owner), 'delete');
  assert.equal(pruneVerdict(undefined, owner), 'gone');
  assert.equal(pruneVerdict(ours, { namespace: 'agent', name: 'other' }), 'notOwned');
  // A copied annotation names another object: not ours.
  const copy = configMap('b', {}, { namespace: 'apps', annotations: { 'tidemark.dev/owned-by': 'agent/web:/ConfigMap:apps/a' } });
  assert.equal(pruneVerdict(copy, owner), 'notOwned');
  const pinned = {
    ...ours,
    metadata: { ...ours.metadata, annotations: { ...ours.metadata.annotations, 'tidemark.dev/prune': 'disabled' } },
  };
  assert.equal(pruneVerdict(pinned, owner), 'pruneDisabled');
});
