import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isTidemarkError } from '../../shared/errors/index.ts';
import { parseSemverRange, rewriteHyphenRanges, satisfies } from './semver-range.ts';
import { parseTagVersion } from './semver-version.ts';

type Row = [range: string, version: string, expected: boolean];

function load<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as T;
}

const masterminds = load<{ check: Row[]; valid: string[]; invalid: string[]; rewrite: [string, string][] }>('masterminds-constraints.json');
const ours = load<{ check: Row[]; invalid: string[] }>('semver-ranges.json');

function checkRows(rows: Row[]) {
  for (const [range, text, expected] of rows) {
    const version = parseTagVersion(text);
    assert.ok(version, `version ${text}`);
    assert.equal(satisfies(parseSemverRange(range), version), expected, `${JSON.stringify(range)} with ${text}`);
  }
}

test("Masterminds' own constraint tables agree", () => {
  assert.ok(masterminds.check.length > 200);
  checkRows(masterminds.check);
});

test('the range forms Flux users write (pre-releases per || alternative, comma AND, hyphen, wildcards)', () => {
  checkRows(ours.check);
});

test('valid ranges parse', () => {
  for (const range of masterminds.valid) assert.doesNotThrow(() => parseSemverRange(range), range);
});

test('invalid ranges are terminal InvalidSemverRange errors that quote the range', () => {
  for (const range of [...masterminds.invalid, ...ours.invalid, `>=${'1'.repeat(600)}`, Array(40).fill('1.0.0').join('||')]) {
    assert.throws(
      () => parseSemverRange(range),
      (err: unknown) =>
        isTidemarkError(err) &&
        err.code === 'InvalidSemverRange' &&
        err.kind === 'terminal' &&
        err.message.includes(JSON.stringify(range)) &&
        Boolean(err.hint),
      JSON.stringify(range),
    );
  }
});

test('errors say which part is wrong', () => {
  const message = (range: string) => {
    try {
      parseSemverRange(range);
    } catch (err) {
      return (err as Error).message;
    }
    return '';
  };
  assert.match(message('>=1.0.0 <<2.0.0'), /expected a version in "<<2\.0\.0"/);
  assert.match(message('>=1.0.0<2.0.0'), /unexpected "<2\.0\.0" after ">=1\.0\.0"/);
  assert.match(message('>=1.0.0,'), /trailing comma/);
  assert.match(message('1.0.0 ||'), /empty alternative/);
  assert.match(message('1.2.3-01'), /leading zero/);
});

test('hyphen ranges are rewritten as Masterminds does', () => {
  for (const [input, output] of masterminds.rewrite) assert.equal(rewriteHyphenRanges(input), output, input);
});
