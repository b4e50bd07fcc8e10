import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { combineErrors } from './combine.ts';
import { terminal } from './index.ts';

describe('combineErrors', () => {
  it('keeps the first code and hint and every message', () => {
    const combined = combineErrors([terminal('InvalidFilterPattern', 'pattern bad', 'fix it'), terminal('InvalidPolicy', 'policy bad')]);
    assert.equal(combined.code, 'InvalidFilterPattern');
    assert.equal(combined.message, 'pattern bad; policy bad');
    assert.equal(combined.hint, 'fix it');
    assert.equal(combined.kind, 'terminal');
  });

  it('returns a single error as it is, and a generic one for none', () => {
    const only = terminal('InvalidPolicy', 'policy bad');
    assert.equal(combineErrors([only]), only);
    assert.equal(combineErrors([]).code, 'InvalidSpec');
  });
});
