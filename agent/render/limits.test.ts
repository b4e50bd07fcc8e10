import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { kubectlTools } from '../../test/harness/tools.ts';
import type { RenderedObject, RenderOptions } from './index.ts';
import { emptyStats, renderPath } from './index.ts';

/**
 * Issue 21, item 4: what a render costs is bounded by the repository's real files, and by limits
 * on files, bytes, objects and time. Counters, never clocks: the deadline runs on a fake clock.
 */

const ids = (objects: RenderedObject[]) => objects.map((o) => `${o.object.kind}/${o.object.metadata.name}`);
const rejectsWith =
  (code: string, ...patterns: RegExp[]) =>
  (err: unknown) => {
    const e = err as Error & { code?: string; kind?: string; hint?: string };
    assert.equal(e.code, code, e.message);
    assert.equal(e.kind, 'terminal', e.message);
    for (const p of patterns) assert.match(`${e.message} (${e.hint})`, p);
    return true;
  };
const cm = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n`;

const temps: string[] = [];
async function tree(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'tidemark-limits-'));
  temps.push(root);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return root;
}
after(async () => {
  await Promise.all(temps.map((t) => rm(t, { recursive: true, force: true })));
});

const LEVELS = 19;
const FANOUT = 8;
const level = (i: number) => `d${String(i).padStart(2, '0')}`;

/**
 * The attack: 19 directories, each holding one manifest and FANOUT symlinks to the next level.
 * A few dozen kilobytes on disk; FANOUT^18 paths through the links (1.8e16 here), each of which a
 * walk that only stops cycles would visit.
 */
async function symlinkLattice(): Promise<string> {
  const root = await tree({});
  for (let i = 0; i < LEVELS; i++) {
    await mkdir(join(root, level(i)));
    await writeFile(join(root, level(i), 'level.yaml'), cm(`level-${i}`));
    if (i + 1 === LEVELS) continue;
    for (let link = 0; link < FANOUT; link++) await symlink(`../${level(i + 1)}`, join(root, level(i), `link${link}`));
  }
  return root;
}

describe('render: plain directories cost what their real files cost (issue 21, item 4)', () => {
  it('a lattice of symlinks: each real directory walked once, each real file read and rendered once', async () => {
    const root = await symlinkLattice();
    const stats = emptyStats();
    const objects = await renderPath(root, level(0), { stats });
    assert.equal(objects.length, LEVELS);
    assert.deepEqual(new Set(ids(objects)), new Set(Array.from({ length: LEVELS }, (_, i) => `ConfigMap/level-${i}`)));
    assert.equal(stats.directories, LEVELS);
    assert.equal(stats.files, LEVELS);
    assert.equal(stats.entries, (LEVELS - 1) * (FANOUT + 1) + 1, 'each real directory listed once');
    // The objects of a directory appear where the walk first met it, under that name.
    const deepest = objects.find((o) => o.object.metadata.name === `level-${LEVELS - 1}`)!;
    assert.equal(deepest.source.file, `${level(0)}/${'link0/'.repeat(LEVELS - 1)}level.yaml`);
  });

  it('a file reached by several names renders once, where the walk first meets it', async () => {
    const root = await tree({ 'app/b.yaml': cm('b'), 'app/sub/c.yaml': cm('c') });
    await symlink('b.yaml', join(root, 'app/a.yaml'));
    await symlink('sub', join(root, 'app/again'));
    await symlink('../app', join(root, 'app/sub/up'));
    const stats = emptyStats();
    const objects = await renderPath(root, 'app', { stats });
    assert.deepEqual(ids(objects), ['ConfigMap/b', 'ConfigMap/c']);
    assert.deepEqual(
      objects.map((o) => o.source.file),
      ['app/a.yaml', 'app/again/c.yaml'],
    );
    assert.equal(stats.files, 2);
    assert.equal(stats.directories, 2);
  });

  it('a kustomization reached under a second name is still refused, whatever name read it first', async () => {
    const root = await tree({ 'app/x.yaml': 'resources: []\n' });
    await mkdir(join(root, 'app/sub'));
    await symlink('../x.yaml', join(root, 'app/sub/kustomization.yaml'));
    await assert.rejects(renderPath(root, 'app'), rejectsWith('ManifestInvalid', /sub\/kustomization\.yaml is a kustomization below/));
  });

  it('more files and directories than maxFiles: RenderTooLarge, stopped at the limit', async () => {
    const root = await tree(Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`app/f${i}.yaml`, cm(`f${i}`)])));
    const stats = emptyStats();
    await assert.rejects(
      renderPath(root, 'app', { limits: { maxFiles: 10 }, stats }),
      rejectsWith('RenderTooLarge', /^app holds more than 10 files and directories/, /--render-max-files/),
    );
    assert.equal(stats.entries, 11);
    assert.equal(stats.files, 0, 'nothing read');
    assert.equal((await renderPath(root, 'app', { limits: { maxFiles: 30 } })).length, 30);
  });

  it('more bytes than maxBytes: RenderTooLarge before the file that would pass it is read', async () => {
    const big = `${cm('big')}data:\n  x: "${'#'.repeat(600)}"\n`;
    const root = await tree({ 'a.yaml': big, 'b.yaml': big.replace('big', 'big2') });
    const stats = emptyStats();
    await assert.rejects(
      renderPath(root, '.', { limits: { maxBytes: 1000 }, stats }),
      rejectsWith('RenderTooLarge', /add up to more than 1000 bytes/, /--render-max-bytes/),
    );
    assert.equal(stats.files, 1);
    assert.ok(stats.bytes <= 1000);
  });

  it('more objects than maxObjects: RenderTooLarge', async () => {
    const root = await tree({ 'many.yaml': Array.from({ length: 5 }, (_, i) => cm(`c${i}`)).join('---\n') });
    await assert.rejects(
      renderPath(root, '.', { limits: { maxObjects: 3 } }),
      rejectsWith('RenderTooLarge', /^\. renders more than 3 objects/, /--render-max-objects/),
    );
    assert.equal((await renderPath(root, '.', { limits: { maxObjects: 5 } })).length, 5);
  });

  it('past the deadline (the deployment timeout): RenderTooLarge; counted on a fake clock, not waited for', async () => {
    const root = await symlinkLattice();
    let now = 0;
    const clock = { now: () => (now += 1000) }; // every look at the clock costs a second
    const stats = emptyStats();
    await assert.rejects(
      renderPath(root, level(0), { limits: { timeoutMs: 5000 }, clock, stats }),
      rejectsWith('RenderTooLarge', /^rendering d00 took longer than 5s/, /spec\.timeout/),
    );
    assert.ok(stats.directories < LEVELS, `stopped early: ${stats.directories} directories`);
  });

  it('an aborted render stops with the abort reason', async () => {
    const root = await tree({ 'a.yaml': cm('a') });
    const controller = new AbortController();
    controller.abort(new Error('reconcile cancelled'));
    await assert.rejects(renderPath(root, '.', { signal: controller.signal }), /reconcile cancelled/);
  });
});

describe('render: kustomize builds are bounded too (issue 21, item 4)', () => {
  let kubectl: string;
  const withKubectl = (options: RenderOptions = {}): RenderOptions => ({ ...options, kustomize: { command: [kubectl, 'kustomize'] } });
  before(async () => {
    kubectl = (await kubectlTools()).kubectl;
  });

  it('a lattice of bases (each level including both of the next) is refused before kustomize runs', async () => {
    // 2 × 19 kustomizations on disk; a build would instantiate 2^20 of them.
    const files: Record<string, string> = {};
    for (let i = 0; i < LEVELS; i++) {
      for (const side of ['a', 'b']) {
        const next = i + 1 < LEVELS ? `resources: [../${level(i + 1)}a, ../${level(i + 1)}b]\n` : `resources: [cm.yaml]\n`;
        files[`${level(i)}${side}/kustomization.yaml`] = `namePrefix: ${side}-\n${next}`;
      }
    }
    files[`${level(LEVELS - 1)}a/cm.yaml`] = cm('leaf');
    files[`${level(LEVELS - 1)}b/cm.yaml`] = cm('leaf');
    const root = await tree(files);
    const stats = emptyStats();
    await assert.rejects(
      renderPath(root, `${level(0)}a`, withKubectl({ stats })),
      rejectsWith('RenderTooLarge', /builds more than 10000 kustomizations/, /--render-max-files/),
    );
    assert.ok(stats.kustomizations > 10_000);
    assert.ok(stats.files <= 2 * LEVELS - 1, `each kustomization file read at most once: ${stats.files}`);
    const small = await renderPath(root, `${level(LEVELS - 3)}a`, withKubectl({ stats: emptyStats() }));
    assert.equal(small.length, 4, 'a small corner of the lattice still builds');
  });

  it("kustomize's output counts against maxObjects", async () => {
    const root = await tree({ 'k/kustomization.yaml': 'resources: [cms.yaml]\n', 'k/cms.yaml': [cm('a'), cm('b'), cm('c')].join('---\n') });
    await assert.rejects(
      renderPath(root, 'k', withKubectl({ limits: { maxObjects: 2 } })),
      rejectsWith('RenderTooLarge', /renders more than 2 objects/),
    );
    assert.equal((await renderPath(root, 'k', withKubectl({ limits: { maxObjects: 3 } }))).length, 3);
  });

  it("kustomize's output counts against maxBytes (the build is stopped once it prints more)", async () => {
    const root = await tree({ 'k/kustomization.yaml': 'resources: []\n' });
    const flood = [process.execPath, '-e', 'process.stdout.write("#".repeat(1 << 20))', '--'];
    await assert.rejects(
      renderPath(root, 'k', { kustomize: { command: flood }, limits: { maxBytes: 4096 } }),
      rejectsWith('RenderTooLarge', /add up to more than 4096 bytes/),
    );
  });
});
