import assert from 'node:assert/strict';
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ImageRef } from '../../shared/api/image.ts';
import { TidemarkError } from '../../shared/errors/index.ts';
import { runUpdate, type PolicyView, type UpdateRunInput } from './update-run.ts';

const RUNS = new URL('./fixtures/runs/', import.meta.url).pathname;

interface Case {
  description: string;
  namespace: string;
  updatePath: string;
  policies: Record<string, ImageRef | null>;
  template: string | null;
  message: string | null;
  files: string[];
  problems?: Array<[string, string, number?]>;
}

async function tree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (path: string) => {
    for (const entry of (await readdir(path, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) await walk(full);
      else out.set(relative(dir, full), await readFile(full, 'utf8'));
    }
  };
  await walk(dir);
  return out;
}

const views = (policies: Record<string, ImageRef | null>): Map<string, PolicyView> =>
  new Map(Object.entries(policies).map(([name, ref]) => [name, { latestRef: ref ?? undefined }]));

describe('runUpdate (golden directories: <case>/original → <case>/expected)', () => {
  let scratch: string;
  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'tidemark-update-run-'));
  });
  after(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  const input = (workdir: string, c: Pick<Case, 'namespace' | 'updatePath' | 'policies' | 'template'>): UpdateRunInput => ({
    workdir,
    updatePath: c.updatePath,
    namespace: c.namespace,
    policies: views(c.policies),
    template: c.template ?? undefined,
    values: {},
    automation: { namespace: c.namespace, name: 'automation' },
  });

  for (const name of ['seed', 'problems', 'current', 'default-message']) {
    it(name, async () => {
      const c = JSON.parse(await readFile(join(RUNS, name, 'case.json'), 'utf8')) as Case;
      const work = join(scratch, name);
      await cp(join(RUNS, name, 'original'), work, { recursive: true });
      const result = await runUpdate(input(work, c));

      assert.equal(result.message, c.message, c.description);
      assert.deepEqual(result.files, c.files);
      assert.deepEqual(
        result.problems.map((p) => (p.line === undefined ? [p.file, p.code] : [p.file, p.code, p.line])),
        c.problems ?? [],
        JSON.stringify(result.problems, null, 1),
      );
      const actual = await tree(work);
      const expected = await tree(join(RUNS, name, 'expected'));
      assert.deepEqual([...actual.keys()], [...expected.keys()]);
      for (const [file, text] of expected) assert.equal(actual.get(file), text, `${name}: ${file}`);
      // Exactly one value per marker changed: every change is one line of the diff.
      for (const change of result.changes) assert.notEqual(change.oldValue, change.newValue);
    });
  }

  it('names the object, path and setter of each change', async () => {
    const c = JSON.parse(await readFile(join(RUNS, 'seed', 'case.json'), 'utf8')) as Case;
    const work = join(scratch, 'seed-changes');
    await cp(join(RUNS, 'seed', 'original'), work, { recursive: true });
    const result = await runUpdate(input(work, c));
    const mine = result.changes.find((ch) => ch.file === 'application/my-app.yaml');
    assert.deepEqual(
      { setter: mine?.setter, oldValue: mine?.oldValue, path: mine?.path, object: mine?.objectId, line: mine?.line },
      {
        setter: 'default:image-gitops',
        oldValue: 'nginx',
        path: 'spec.template.spec.containers[0].image',
        object: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'my-app', namespace: 'default' },
        line: 18,
      },
    );
  });

  it('never follows symlinks, and refuses an update path that leaves the checkout', async () => {
    const work = join(scratch, 'links');
    const outside = join(scratch, 'outside');
    await mkdir(join(work, 'apps'), { recursive: true });
    await mkdir(outside, { recursive: true });
    const marked = 'image: nginx # {"$imagepolicy": "default:app"}\n';
    await writeFile(join(outside, 'victim.yaml'), marked);
    await writeFile(join(work, 'apps', 'real.yaml'), marked);
    await symlink(join(outside, 'victim.yaml'), join(work, 'apps', 'link.yaml'));
    await symlink(outside, join(work, 'apps', 'dir-link'));
    await symlink(outside, join(work, 'escape'));
    const c = {
      namespace: 'default',
      updatePath: 'apps',
      policies: { app: { name: 'nginx', tag: '2' } },
      template: null,
    };

    const result = await runUpdate(input(work, c));
    assert.deepEqual(result.files, ['apps/real.yaml']);
    assert.equal(await readFile(join(outside, 'victim.yaml'), 'utf8'), marked, 'nothing outside was written');

    for (const updatePath of ['../outside', 'escape', '/../..']) {
      await assert.rejects(
        runUpdate(input(work, { ...c, updatePath })),
        (err: unknown) => err instanceof TidemarkError && err.code === 'PathOutsideCheckout' && err.kind === 'terminal',
      );
    }
    assert.equal(await readFile(join(outside, 'victim.yaml'), 'utf8'), marked);
  });

  it('a missing update path is a terminal error', async () => {
    const work = join(scratch, 'missing');
    await mkdir(work, { recursive: true });
    await assert.rejects(
      runUpdate(input(work, { namespace: 'default', updatePath: 'nope', policies: {}, template: null })),
      (err: unknown) => err instanceof TidemarkError && err.code === 'UpdatePathNotFound' && err.kind === 'terminal',
    );
  });

  it('a template that fails to render throws a terminal TemplateError', async () => {
    const work = join(scratch, 'bad-template');
    await mkdir(work, { recursive: true });
    await writeFile(join(work, 'a.yaml'), 'image: nginx # {"$imagepolicy": "default:app"}\n');
    await assert.rejects(
      runUpdate(
        input(work, {
          namespace: 'default',
          updatePath: '',
          policies: { app: { name: 'nginx', tag: '2' } },
          template: '{{.Nope.Deeper}}',
        }),
      ),
      (err: unknown) => err instanceof TidemarkError && err.kind === 'terminal' && /Template/.test(err.code),
    );
  });

  it('passes messageTemplateValues and the automation object to the template', async () => {
    const work = join(scratch, 'values');
    await mkdir(work, { recursive: true });
    await writeFile(join(work, 'a.yaml'), 'image: nginx # {"$imagepolicy": "default:app"}\n');
    const result = await runUpdate({
      ...input(work, {
        namespace: 'default',
        updatePath: '',
        policies: { app: { name: 'nginx', tag: '2' } },
        template: '[{{.Values.env}}] by {{.AutomationObject}}',
      }),
      values: { env: 'prod' },
    });
    assert.equal(result.message, 'Update image automatically.\n[prod] by default/automation');
  });
  it('writes each file over in place: a shorter value leaves no old bytes behind, a longer one none cut off', async () => {
    const work = join(scratch, 'lengths');
    await mkdir(work, { recursive: true });
    const marked = (image: string) => `# é 日本\nspec:\n  image: ${image} # {"$imagepolicy": "default:app"}\n  note: "the end, ü"\n`;
    await writeFile(join(work, 'shorter.yaml'), marked('registry.example.test/team/a-rather-long-name:1.0.0-rc.1'));
    await writeFile(join(work, 'longer.yaml'), marked('a:1'));
    const result = await runUpdate(
      input(work, { namespace: 'default', updatePath: '', policies: { app: { name: 'ghcr.io/ü/app', tag: '2' } }, template: null }),
    );
    assert.deepEqual(result.files, ['longer.yaml', 'shorter.yaml']);
    for (const file of result.files) assert.equal(await readFile(join(work, file), 'utf8'), marked('ghcr.io/ü/app:2'), file);
  });

  const root = process.getuid?.() === 0;
  it(
    'a file that may be read but not written is scanned, and writing it fails as before',
    { skip: root && 'root may write any file' },
    async () => {
      const work = join(scratch, 'read-only');
      await mkdir(work, { recursive: true });
      const marked = 'image: nginx # {"$imagepolicy": "default:app"}\n';
      await writeFile(join(work, 'current.yaml'), 'image: nginx:2 # {"$imagepolicy": "default:app"}\n');
      await chmod(join(work, 'current.yaml'), 0o444);
      const c = { namespace: 'default', updatePath: '', policies: { app: { name: 'nginx', tag: '2' } }, template: null };
      assert.deepEqual((await runUpdate(input(work, c))).changes, []);
      await writeFile(join(work, 'stale.yaml'), marked);
      await chmod(join(work, 'stale.yaml'), 0o444);
      await assert.rejects(runUpdate(input(work, c)), { code: 'EACCES' });
      assert.equal(await readFile(join(work, 'stale.yaml'), 'utf8'), marked);
    },
  );
});
