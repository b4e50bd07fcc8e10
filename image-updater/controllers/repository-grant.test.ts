import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AccessFrom } from '../../shared/spec/image-repository.ts';
import { repositoryAccessProblem } from './repository-grant.ts';

const repository = { namespace: 'owner', name: 'shared' };
const grant: AccessFrom = { namespaceSelectors: [{ matchLabels: { team: 'a', env: 'prod' } }, { matchLabels: { tier: 'free' } }] };
// No default for accessFrom: an explicit undefined is the case "no grant".
const check = (policyNamespace: string, labels: Record<string, string>, accessFrom: AccessFrom | undefined, digest = false) =>
  repositoryAccessProblem({ policyNamespace, repository, accessFrom, labels, digestReflection: digest });

test('the same namespace needs no grant; another needs a selector whose every label matches', () => {
  assert.equal(check('owner', {}, undefined, true), undefined);
  assert.equal(check('team-a', { team: 'a', env: 'prod', extra: 'x' }, grant), undefined);
  assert.equal(check('free', { tier: 'free' }, grant), undefined);
  const cases: Array<[string, Record<string, string>, AccessFrom | undefined]> = [
    ['team-a', { team: 'a', env: 'prod' }, undefined],
    ['team-a', { team: 'a' }, grant],
    ['team-b', { team: 'b', env: 'prod' }, grant],
    ['empty', {}, { namespaceSelectors: [] }],
  ];
  for (const [ns, labels, accessFrom] of cases) {
    const err = check(ns, labels, accessFrom);
    assert.equal(err?.code, 'AccessDenied', `${ns} ${JSON.stringify(labels)}`);
    assert.equal(err?.kind, 'terminal');
    assert.match(err?.message ?? '', new RegExp(`ImageRepository owner/shared does not grant access to ImagePolicies in namespace ${ns}`));
    assert.match(err?.hint ?? '', /accessFrom\.namespaceSelectors/);
  }
  // {matchLabels: {}} is every namespace, as in Flux.
  assert.equal(check('anyone', {}, { namespaceSelectors: [{ matchLabels: {} }] }), undefined);
});

test("granted, but a digest lookup would use the owner's pull secret: refused", () => {
  const err = check('team-a', { team: 'a', env: 'prod' }, grant, true);
  assert.equal(err?.code, 'AccessDenied');
  assert.match(err?.message ?? '', /digestReflectionPolicy would look up digests with ImageRepository owner\/shared's credentials/);
  assert.match(err?.hint ?? '', /digestReflectionPolicy: Never/);
});
