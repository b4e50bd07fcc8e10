import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REASONS } from './index.ts';

describe('reasons', () => {
  it('lists each reason once', () => {
    const duplicates = REASONS.filter((r, i) => REASONS.indexOf(r) !== i);
    assert.deepEqual(duplicates, []);
  });

  it('spells every reason in PascalCase, as Kubernetes condition and Event reasons are', () => {
    const bad = REASONS.filter((r) => !/^[A-Z][A-Za-z0-9]*$/.test(r));
    assert.deepEqual(bad, []);
  });
});
