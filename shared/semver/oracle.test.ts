import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { compareVersions } from './compare.ts';
import { compileRange, satisfies, type SemverRange } from './range.ts';
import { RangeSyntaxError } from './range-syntax.ts';
import { parseTagVersion, parseVersion, type Version } from './version.ts';

/** [major, minor, patch, prerelease, metadata], numbers as decimal strings. */
type Parts = [string, string, string, string, string];

interface Fixture {
  library: string;
  counts: { tags: number; ranges: number; checks: number; checkVersions: number };
  checkVersions: string[];
  tags: { input: string; flux: Parts | null; lenient: Parts | null }[];
  order: string[][];
  ranges: { range: string; error: string | null; matches?: string; newest?: string | null }[];
}

// Produced by oracle/generate.sh from Masterminds/semver itself; see oracle/main.go.
const fixture = JSON.parse(readFileSync(new URL('./fixtures/masterminds.json', import.meta.url), 'utf8')) as Fixture;

function parts(v: Version | undefined): Parts | null {
  return v ? [String(v.major), String(v.minor), String(v.patch), v.prerelease, v.metadata] : null;
}

function compile(range: string): SemverRange | RangeSyntaxError {
  try {
    return compileRange(range);
  } catch (err) {
    if (err instanceof RangeSyntaxError) return err;
    throw err;
  }
}

/** Collects every disagreement, so one run shows them all instead of the first. */
function agree(what: string, mismatches: string[]): void {
  assert.deepEqual(mismatches.slice(0, 25), [], `${mismatches.length} ${what} disagree with Masterminds`);
}

test('the fixture comes from the Masterminds line Flux uses (v3.4)', () => {
  assert.match(fixture.library, /^github\.com\/Masterminds\/semver\/v3 v3\.4\./);
  assert.ok(fixture.counts.checks > 100_000, 'the oracle judged a real number of cases');
});

test('tags are versions exactly when Flux reads them as versions (version.ParseVersion), with the same parts', () => {
  const mismatches: string[] = [];
  for (const tag of fixture.tags) {
    const ours = parts(parseTagVersion(tag.input));
    if (JSON.stringify(ours) !== JSON.stringify(tag.flux))
      mismatches.push(`${JSON.stringify(tag.input)}: ${JSON.stringify(ours)} ≠ ${JSON.stringify(tag.flux)}`);
  }
  agree('tag readings', mismatches);
});

test('the lenient reading (NewVersion, used inside ranges) agrees too', () => {
  const mismatches: string[] = [];
  for (const tag of fixture.tags) {
    const ours = parts(parseVersion(tag.input));
    if (JSON.stringify(ours) !== JSON.stringify(tag.lenient))
      mismatches.push(`${JSON.stringify(tag.input)}: ${JSON.stringify(ours)} ≠ ${JSON.stringify(tag.lenient)}`);
  }
  agree('NewVersion readings', mismatches);
});

test('precedence orders the tags as Compare does', () => {
  const classOf = new Map<string, number>();
  fixture.order.forEach((tags, i) => tags.forEach((tag) => classOf.set(tag, i)));
  const tags = [...classOf.keys()];
  const versions = tags.map((tag) => parseTagVersion(tag));
  const mismatches: string[] = [];
  for (let i = 0; i < tags.length; i++) {
    for (let j = 0; j < tags.length; j++) {
      const a = versions[i];
      const b = versions[j];
      if (!a || !b) continue;
      const expected = Math.sign((classOf.get(tags[i] as string) ?? 0) - (classOf.get(tags[j] as string) ?? 0));
      if (compareVersions(a, b) !== expected) mismatches.push(`${tags[i]} vs ${tags[j]}: ${compareVersions(a, b)} ≠ ${expected}`);
    }
  }
  agree('comparisons', mismatches);
});

test('ranges are valid exactly when NewConstraint accepts them', () => {
  const mismatches: string[] = [];
  for (const { range, error } of fixture.ranges) {
    const ours = compile(range);
    const valid = !(ours instanceof RangeSyntaxError);
    if (valid !== (error === null)) {
      mismatches.push(`${JSON.stringify(range)}: ${valid ? 'accepted' : `refused (${ours.message})`}, Masterminds ${error ?? 'accepts'}`);
    }
  }
  agree('range verdicts', mismatches);
});

test('every valid range admits exactly the versions Check admits', () => {
  const versions = fixture.checkVersions.map((text) => {
    const version = parseVersion(text);
    assert.ok(version, text);
    return version;
  });
  const mismatches: string[] = [];
  let checked = 0;
  for (const { range, matches } of fixture.ranges) {
    const compiled = compile(range);
    if (matches === undefined || compiled instanceof RangeSyntaxError) continue;
    versions.forEach((version, i) => {
      checked++;
      const expected = matches[i] === '1';
      if (satisfies(compiled, version) !== expected)
        mismatches.push(`${JSON.stringify(range)} with ${fixture.checkVersions[i]}: Masterminds says ${expected}`);
    });
  }
  agree('checks', mismatches);
  assert.equal(checked, fixture.counts.checks);
});

test('the newest tag within each range ranks with the one image-reflector-controller picks', () => {
  const tags = fixture.tags.flatMap((t) => {
    const version = parseTagVersion(t.input);
    return version ? [version] : [];
  });
  const mismatches: string[] = [];
  for (const { range, newest } of fixture.ranges) {
    const compiled = compile(range);
    if (newest === undefined || compiled instanceof RangeSyntaxError) continue;
    let best: Version | undefined;
    for (const tag of tags) if (satisfies(compiled, tag) && (!best || compareVersions(tag, best) > 0)) best = tag;
    const flux = newest === null ? undefined : parseTagVersion(newest);
    const same = best === undefined || flux === undefined ? best === flux : compareVersions(best, flux) === 0;
    if (!same) mismatches.push(`${JSON.stringify(range)}: ${best?.original} ≠ ${newest}`);
  }
  agree('picks', mismatches);
});
