import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isTidemarkError } from '../../shared/errors/index.ts';
import { compareDecimals, NumericalPolicy, parseDecimal, type Decimal } from './numerical.ts';
import type { Candidate } from './types.ts';

const table = JSON.parse(readFileSync(new URL('./fixtures/numerical.json', import.meta.url), 'utf8')) as {
  ordered: string[][];
  invalid: string[];
};

function decimal(text: string): Decimal {
  const parsed = parseDecimal(text);
  assert.ok(parsed, `${JSON.stringify(text)} should parse`);
  return parsed;
}

function sign(n: number) {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

test('decimals compare exactly: any length, fractions, signs, equal spellings', () => {
  const ranks = table.ordered.flatMap((group, rank) => group.map((text) => ({ text, rank })));
  for (const a of ranks) {
    for (const b of ranks) {
      assert.equal(sign(compareDecimals(decimal(a.text), decimal(b.text))), sign(a.rank - b.rank), `${a.text} vs ${b.text}`);
    }
  }
});

test('only plain decimals are numbers (exponents, Inf, NaN, hex, separators are refused)', () => {
  for (const text of table.invalid) assert.equal(parseDecimal(text), undefined, JSON.stringify(text));
});

function candidates(...values: string[]): Candidate[] {
  return values.map((value) => ({ tag: `build-${value}`, value }));
}

test('asc picks the largest, desc the smallest', () => {
  const list = candidates('3', '10', '2', '-4', '7.5');
  assert.deepEqual(new NumericalPolicy({ order: 'asc' }).select(list), { tag: 'build-10', value: '10' });
  assert.deepEqual(new NumericalPolicy({}).select(list), { tag: 'build-10', value: '10' });
  assert.deepEqual(new NumericalPolicy(undefined).select(list), { tag: 'build-10', value: '10' });
  assert.deepEqual(new NumericalPolicy({ order: 'desc' }).select(list), { tag: 'build--4', value: '-4' });
});

test('20-digit build numbers that are equal as float64 are still told apart', () => {
  // Both are 20240101123456790000 as a float64, so Flux cannot order them.
  assert.equal(Number('20240101123456789012'), Number('20240101123456789013'));
  const list = candidates('20240101123456789013', '20240101123456789012', '20240101123456789011');
  assert.equal(new NumericalPolicy({ order: 'asc' }).select(list)?.value, '20240101123456789013');
  assert.equal(new NumericalPolicy({ order: 'desc' }).select(list)?.value, '20240101123456789011');
  const reversed = [...list].reverse();
  assert.equal(new NumericalPolicy({ order: 'asc' }).select(reversed)?.value, '20240101123456789013');
});

test('decimal values order by value, not by text', () => {
  const list = candidates('1.9', '1.10', '1.09', '0.999');
  assert.equal(new NumericalPolicy({ order: 'asc' }).select(list)?.value, '1.9');
  assert.equal(new NumericalPolicy({ order: 'desc' }).select(list)?.value, '0.999');
});

test('equal numbers tie-break on the tag that sorts last in byte order', () => {
  const list: Candidate[] = [
    { tag: 'b-010', value: '010' },
    { tag: 'a-10', value: '10' },
    { tag: 'c-10.0', value: '10.0' },
  ];
  assert.equal(new NumericalPolicy({ order: 'asc' }).select(list)?.tag, 'c-10.0');
  assert.equal(new NumericalPolicy({ order: 'asc' }).select([...list].reverse())?.tag, 'c-10.0');
});

test('an empty list selects nothing', () => {
  assert.equal(new NumericalPolicy({ order: 'asc' }).select([]), null);
});

test('one non-numeric value fails the policy with InvalidNumericalValue naming the tag', () => {
  const list: Candidate[] = [
    { tag: 'main-1700000000', value: '1700000000' },
    { tag: 'main-1e5', value: '1e5' },
  ];
  assert.throws(
    () => new NumericalPolicy({ order: 'asc' }).select(list),
    (err: unknown) =>
      isTidemarkError(err) &&
      err.code === 'InvalidNumericalValue' &&
      err.kind === 'terminal' &&
      err.message.includes('"main-1e5"') &&
      err.message.includes('"1e5"'),
  );
});

test('an order other than asc or desc is InvalidPolicy at construction', () => {
  for (const spec of [{ order: 'ascending' }, { order: 'ASC' }, { ordr: 'asc' }, 'asc']) {
    assert.throws(
      () => new NumericalPolicy(spec as never),
      (err: unknown) => isTidemarkError(err) && err.code === 'InvalidPolicy',
      JSON.stringify(spec),
    );
  }
});
