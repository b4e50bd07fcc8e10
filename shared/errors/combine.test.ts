import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { combineErrors } from './combine.ts';
import { terminal } from './index.ts';

describe('combineErrors', () => {
  it('counts and lists several problems, each with its hint, under InvalidSpec when their codes differ', () => {
    const combined = combineErrors([
      terminal('InvalidFilterPattern', 'spec.filterTags.pattern bad', 'fix it'),
      terminal('InvalidPolicy', 'spec.policy bad'),
    ]);
    assert.equal(combined.code, 'InvalidSpec');
    assert.equal(combined.message, '2 problems: spec.filterTags.pattern bad (fix it); spec.policy bad');
    assert.equal(combined.hint, undefined);
    assert.equal(combined.kind, 'terminal');
  });

  it('keeps a code all the problems share', () => {
    const combined = combineErrors([terminal('InvalidDuration', 'spec.interval: a'), terminal('InvalidDuration', 'spec.timeout: b')]);
    assert.equal(combined.code, 'InvalidDuration');
  });

  it('returns a single error as it is, and a generic one for none', () => {
    const only = terminal('InvalidPolicy', 'policy bad', 'fix it');
    assert.equal(combineErrors([only]), only);
    assert.equal(combineErrors([]).code, 'InvalidSpec');
  });
});
