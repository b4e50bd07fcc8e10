import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { renderPath } from './index.ts';
import { RenderBudget, readFileWithin } from './limits.ts';
import { describeBytes, MAX_KUSTOMIZE_OUTPUT_BYTES, MAX_MANIFEST_FILE_BYTES } from './size-limits.ts';

const rejectsWith =
  (code: string, ...patterns: RegExp[]) =>
  (err: unknown) => {
    const e = err as Error & { code?: string; kind?: string; hint?: string };
    assert.equal(e.code, code, e.message);
    assert.equal(e.kind, 'terminal', e.message);
    assert.ok(e.hint, 'a terminal error says what to do');
    for (const p of patterns) assert.match(e.message, p);
    return true;
  };

const cm = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n`;

describe('render: size caps of one manifest stream', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'tidemark-size-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('the caps are 8 MiB per manifest file and 64 MiB per kustomize build', () => {
    assert.equal(describeBytes(MAX_MANIFEST_FILE_BYTES), '8 MiB');
    assert.equal(describeBytes(MAX_KUSTOMIZE_OUTPUT_BYTES), '64 MiB');
  });

  it('a manifest file over 8 MiB fails the render with ManifestTooLarge, naming the file; one at the cap is read', async () => {
    await mkdir(join(root, 'big/sub'), { recursive: true });
    await writeFile(join(root, 'big/a.yaml'), cm('a'));
    // Sparse: the size is what is checked, before a byte is read.
    await writeFile(join(root, 'big/sub/huge.yaml'), cm('huge'));
    await truncate(join(root, 'big/sub/huge.yaml'), MAX_MANIFEST_FILE_BYTES + 1);
    await assert.rejects(renderPath(root, 'big'), rejectsWith('ManifestTooLarge', /^big\/sub\/huge\.yaml is larger than 8 MiB$/));

    // Exactly at the cap: a comment pads the file, and its object is read.
    const padded = `${cm('edge')}#`;
    await writeFile(join(root, 'big/sub/huge.yaml'), padded + ' '.repeat(MAX_MANIFEST_FILE_BYTES - padded.length));
    const objects = await renderPath(root, 'big');
    assert.deepEqual(
      objects.map((o) => o.object.metadata.name),
      ['a', 'edge'],
    );
  });

  it('a kustomization file is held to the same cap', async () => {
    await mkdir(join(root, 'nested/inner'), { recursive: true });
    await writeFile(join(root, 'nested/inner/kustomization.yaml'), 'resources: []\n');
    await truncate(join(root, 'nested/inner/kustomization.yaml'), MAX_MANIFEST_FILE_BYTES + 1);
    await assert.rejects(renderPath(root, 'nested'), rejectsWith('ManifestTooLarge', /nested\/inner\/kustomization\.yaml/));
    // At the top of the path, before kustomize runs (the reference check reads it first).
    await assert.rejects(
      renderPath(root, 'nested/inner', { kustomize: { command: ['/nonexistent/kustomize'] } }),
      rejectsWith('ManifestTooLarge', /^nested\/inner\/kustomization\.yaml is larger than 8 MiB$/),
    );
  });

  it('a file is read up to its cap and refused one byte past it', async () => {
    const path = join(root, 'small.yaml');
    await writeFile(path, 'x'.repeat(100));
    assert.equal((await readFileWithin(path, new RenderBudget('.'), 'small.yaml', 100)).length, 100);
    await assert.rejects(
      readFileWithin(path, new RenderBudget('.'), 'small.yaml', 99),
      rejectsWith('ManifestTooLarge', /^small\.yaml is larger than 99 bytes$/),
    );
  });

  it('a kustomize build that never stops printing is killed at the cap', async () => {
    await mkdir(join(root, 'k'), { recursive: true });
    await writeFile(join(root, 'k/kustomization.yaml'), 'resources: []\n');
    // Prints forever: only the kill at the cap ends it (the timeout would say "took longer").
    const endless = [process.execPath, '-e', 'const b = "#".repeat(65536) + "\\n"; const w = () => process.stdout.write(b, w); w()', '--'];
    await assert.rejects(
      renderPath(root, 'k', { kustomize: { command: endless, maxOutputBytes: 1024 * 1024, timeoutMs: 60_000 } }),
      rejectsWith('ManifestTooLarge', /^the output of kustomize build of k is larger than 1 MiB$/),
    );
  });
});
