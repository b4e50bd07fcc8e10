import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { kubectlTools } from '../../test/harness/tools.ts';
import type { RenderedObject, RenderOptions } from './index.ts';
import { renderPath } from './index.ts';

/**
 * Issue 21, items 5 and 13: a tenant's kustomization must not make the real kustomize read
 * another tenant's checkout, nor fetch anything (loopback included). Each attack is first shown
 * to work against the real kustomize (kubectl 1.35, kustomize 5.7.1) run as the agent runs it,
 * then shown refused by renderPath before kustomize starts.
 *
 * The agent keeps checkouts as <cache>/<hash of URL>/checkouts/<sha>; the attacker's checkout and
 * the victim's sit side by side here the same way.
 */

const ids = (objects: RenderedObject[]) => objects.map((o) => `${o.object.kind}/${o.object.metadata.name}`);
const rejectsWith =
  (code: string, ...patterns: RegExp[]) =>
  (err: unknown) => {
    const e = err as Error & { code?: string; kind?: string };
    assert.equal(e.code, code, e.message);
    assert.equal(e.kind, 'terminal', e.message);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  };
const cm = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n`;

const VICTIM = 'b'.repeat(24);
const VICTIM_SHA = '2'.repeat(40);
/** From <attacker checkout>/app to the victim's app directory. */
const TO_VICTIM = `../../../../${VICTIM}/checkouts/${VICTIM_SHA}/app`;

let cache: string;
let attacker: string;
let kubectl: string;
let server: Server;
let port: number;
const requests: string[] = [];

async function write(files: Record<string, string>, base = attacker): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(base, path)), { recursive: true });
    await writeFile(join(base, path), content);
  }
}

let next = 0;
/** A fresh directory in the attacker's checkout holding `files`; returns its checkout-relative path. */
async function app(files: Record<string, string>): Promise<string> {
  const dir = `app${next++}`;
  await write(Object.fromEntries(Object.entries(files).map(([p, c]) => [`${dir}/${p}`, c])));
  return dir;
}

/**
 * The real kustomize, run the way renderKustomization runs it, without our checks. (Not
 * spawnSync: the loopback server answering it lives in this process.)
 */
function kustomizeUnchecked(dir: string): Promise<{ status: number; stdout: string; stderr: string }> {
  const home = join(cache, 'home');
  const args = ['kustomize', '--load-restrictor', 'LoadRestrictionsRootOnly', '--', join(attacker, dir)];
  const env = {
    PATH: '',
    HOME: home,
    KUBECONFIG: '/dev/null',
    HTTP_PROXY: 'http://127.0.0.1:9',
    HTTPS_PROXY: 'http://127.0.0.1:9',
    NO_PROXY: '',
    KUSTOMIZE_PLUGIN_HOME: join(home, 'plugins'),
  };
  return new Promise((resolve) => {
    execFile(kubectl, args, { cwd: home, env, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

const withKubectl = (): RenderOptions => ({ kustomize: { command: [kubectl, 'kustomize'] } });
const render = (dir: string) => renderPath(attacker, dir, withKubectl());

before(async () => {
  kubectl = (await kubectlTools()).kubectl;
  cache = await mkdtemp(join(tmpdir(), 'tidemark-tenants-'));
  attacker = join(cache, 'a'.repeat(24), 'checkouts', '1'.repeat(40));
  await mkdir(join(cache, 'home'));
  await write(
    { 'kustomization.yaml': 'resources: [secret.yaml]\n', 'secret.yaml': cm('victim-secret'), 'cm.yaml': cm('victim-file') },
    join(cache, VICTIM, 'checkouts', VICTIM_SHA, 'app'),
  );
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    res.end(cm('from-loopback'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(cache, { recursive: true, force: true });
});

describe("render: a kustomization cannot reach another tenant's checkout (issue 21, item 5)", () => {
  it('a resource with a newline: kustomize cleans `x\\n/..` like any path; refused for the control character', async () => {
    const dir = await app({ 'kustomization.yaml': `resources:\n  - ${JSON.stringify(`x\n/../${TO_VICTIM}`)}\n` });
    const peer = await kustomizeUnchecked(dir);
    assert.equal(peer.status, 0, peer.stderr);
    assert.match(peer.stdout, /name: victim-secret/, 'the attack works against kustomize itself');
    await assert.rejects(
      render(dir),
      rejectsWith(
        'KustomizeBuildFailed',
        new RegExp(`^${dir}/kustomization\\.yaml: resource "x\\\\n/\\.\\./.*" contains the control character U\\+000A`),
      ),
    );
  });

  it('keys are matched as Go decodes them: `Resources`, and `reſources` with a long s, are resources', async () => {
    for (const key of ['Resources', 'RESOURCES', 're\u017Fources', 'bases', 'BASES']) {
      const dir = await app({ 'kustomization.yaml': `${key}:\n  - ${TO_VICTIM}\n` });
      const peer = await kustomizeUnchecked(dir);
      assert.match(peer.stdout, /name: victim-secret/, `kustomize reads ${key}: ${peer.stderr}`);
      await assert.rejects(
        render(dir),
        rejectsWith('PathOutsideCheckout', /: (resource|base) "\.\.\/\.\.\/\.\.\/\.\.\/b+\/checkouts/),
        key,
      );
    }
  });

  it('YAML tags: go-yaml decodes `!!binary` into the path, so tags that change a value are refused', async () => {
    const encoded = Buffer.from(TO_VICTIM).toString('base64');
    const dir = await app({ 'kustomization.yaml': `resources:\n  - !!binary ${encoded}\n` });
    const peer = await kustomizeUnchecked(dir);
    assert.match(peer.stdout, /name: victim-secret/, `kustomize decodes it: ${peer.stderr}`);
    await assert.rejects(
      render(dir),
      rejectsWith('KustomizeBuildFailed', /kustomization\.yaml:2:\d+: the YAML tag !!binary is not accepted here/),
    );
    const tagged = await app({ 'kustomization.yaml': 'resources:\n  - !custom cm.yaml\n', 'cm.yaml': cm('x') });
    await assert.rejects(render(tagged), rejectsWith('KustomizeBuildFailed', /the YAML tag !custom is not accepted/));
  });

  it('a transformer that parses as YAML for us but not for kustomize is still vetted as the path kustomize reads', async () => {
    // For us, a mapping {a: "b /../..."}; for kustomize no plugin configuration (no kind), so a path.
    const value = `a: b\n  /../${TO_VICTIM}`;
    const dir = await app({ 'kustomization.yaml': `transformers:\n  - ${JSON.stringify(value)}\n` });
    const peer = await kustomizeUnchecked(dir);
    // kustomize built the victim's directory and offered its ConfigMap as a plugin configuration.
    assert.match(peer.stderr, /unable to load external plugin 'ConfigMap'/, peer.stderr);
    await assert.rejects(
      render(dir),
      rejectsWith('PathOutsideCheckout', /: transformer "a: b\\n {2}\/\.\.\/\.\.\/.*" leads outside the repository checkout/),
    );
  });

  it('every field kustomize reads a path from is checked, with the file and field in the error', async () => {
    const secret = `${TO_VICTIM}/secret.yaml`;
    const cases: Array<[string, string]> = [
      [`components: [${TO_VICTIM}]`, 'component'],
      [`bases: [${TO_VICTIM}]`, 'base'],
      [`generators: [${secret}]`, 'generator'],
      [`transformers: [${secret}]`, 'transformer'],
      [`validators: [${secret}]`, 'validator'],
      [`patchesStrategicMerge: [${secret}]`, 'patch'],
      [`patches: [{path: ${secret}}]`, 'patch'],
      [`patchesJson6902: [{path: ${secret}, target: {kind: ConfigMap, name: x}}]`, 'patch'],
      [`replacements: [{path: ${secret}}]`, 'replacement'],
      [`crds: [${secret}]`, 'crd'],
      [`configurations: [${secret}]`, 'configuration'],
      [`openapi: {path: ${secret}}`, 'openapi'],
      [`configMapGenerator: [{name: x, files: [key=${secret}]}]`, 'configMapGenerator file'],
      [`secretGenerator: [{name: x, envs: [${secret}]}]`, 'secretGenerator env'],
      [`secretGenerator: [{name: x, env: ${secret}}]`, 'secretGenerator env'],
      [`helmGlobals: {chartHome: ${TO_VICTIM}}`, 'helm chart home'],
      [`helmCharts: [{name: x, valuesFile: ${secret}}]`, 'helm values'],
      [`Patches: [{Path: ${secret}}]`, 'patch'],
    ];
    for (const [line, field] of cases) {
      const dir = await app({ 'kustomization.yaml': `${line}\n` });
      await assert.rejects(
        render(dir),
        rejectsWith('PathOutsideCheckout', new RegExp(`^${dir}/kustomization\\.yaml: ${field} ".*" leads outside the repository`)),
        line,
      );
    }
  });

  it('control characters are refused in every path, but inline patches and transformers keep their newlines', async () => {
    for (const line of [
      'resources: ["cm.yaml\\t"]',
      'components: ["c\\u0085"]',
      'patches: [{path: "p.yaml\\r"}]',
      'configMapGenerator: [{name: x, files: ["a\\u0000b"]}]',
      'patchesStrategicMerge: ["p.yaml\\n"]',
    ]) {
      const dir = await app({ 'kustomization.yaml': `${line}\n`, 'cm.yaml': cm('x') });
      await assert.rejects(render(dir), rejectsWith('KustomizeBuildFailed', /contains the control character U\+00/), line);
    }
    const dir = await app({
      'kustomization.yaml': [
        'resources: [cm.yaml]',
        'patchesStrategicMerge:',
        '  - |-',
        '    apiVersion: v1',
        '    kind: ConfigMap',
        '    metadata: {name: x}',
        '    data: {patched: "yes"}',
        'transformers:',
        '  - |-',
        '    apiVersion: builtin',
        '    kind: PrefixSuffixTransformer',
        '    metadata: {name: prefix}',
        '    prefix: inline-',
        '    fieldSpecs: [{path: metadata/name}]',
        '',
      ].join('\n'),
      'cm.yaml': cm('x'),
    });
    const objects = await render(dir);
    assert.deepEqual(ids(objects), ['ConfigMap/inline-x']);
    assert.deepEqual(objects[0]!.object.data, { patched: 'yes' });
  });

  it('a path that escapes is refused even when nothing is there yet (a checkout may appear before kustomize runs)', async () => {
    const later = `../../../../${'c'.repeat(24)}/checkouts/${'3'.repeat(40)}/app`;
    const dir = await app({ 'kustomization.yaml': `resources: [${later}]\n` });
    await assert.rejects(render(dir), rejectsWith('PathOutsideCheckout', /resource "\.\.\/\.\.\/\.\.\/\.\.\/c+\/checkouts/));
  });

  it('a symlink that does not resolve is refused (its target could appear before kustomize runs)', async () => {
    const dir = await app({ 'kustomization.yaml': 'resources: [base]\n' });
    await symlink(join(cache, 'd'.repeat(24), 'checkouts', '4'.repeat(40), 'app'), join(attacker, dir, 'base'));
    await assert.rejects(render(dir), rejectsWith('PathOutsideCheckout', /resource "base" leads through a symlink that does not/));
    const inside = await app({ 'kustomization.yaml': 'resources: [base/sub]\n' });
    await symlink(join(cache, 'd'.repeat(24)), join(attacker, inside, 'base'));
    await assert.rejects(render(inside), rejectsWith('PathOutsideCheckout', /resource "base\/sub" leads through a symlink/));
  });

  it("files that only the build knows of (a plugin configuration's path) are kept in place by kustomize's load restrictor", async () => {
    // What the check relies on: with every directory kustomize builds inside the checkout, each
    // file it loads is resolved (symlinks included) and kept in or below its kustomization.
    const patch = (path: string) => `apiVersion: builtin\nkind: PatchTransformer\nmetadata: {name: p}\npath: ${path}\n`;
    const climbing = await app({ 'kustomization.yaml': 'resources: [cm.yaml]\ntransformers: [t.yaml]\n', 'cm.yaml': cm('x') });
    await write({ [`${climbing}/t.yaml`]: patch(`${TO_VICTIM}/secret.yaml`) });
    await assert.rejects(render(climbing), rejectsWith('KustomizeBuildFailed', /is not in or below/));
    const linked = await app({ 'kustomization.yaml': 'resources: [cm.yaml]\ntransformers: [t.yaml]\n', 'cm.yaml': cm('x') });
    await write({ [`${linked}/t.yaml`]: patch('leak.yaml') });
    await symlink(join(cache, VICTIM, 'checkouts', VICTIM_SHA, 'app', 'secret.yaml'), join(attacker, linked, 'leak.yaml'));
    await assert.rejects(render(linked), rejectsWith('KustomizeBuildFailed', /is not in or below/));
  });

  it('paths inside the checkout, through symlinks that stay inside, still build', async () => {
    await write({ 'shared/base/kustomization.yaml': 'resources: [cm.yaml]\n', 'shared/base/cm.yaml': cm('shared') });
    const relative = await app({ 'kustomization.yaml': 'resources: [../shared/x/../base]\n' });
    assert.deepEqual(ids(await render(relative)), ['ConfigMap/shared']);
    const linked = await app({ 'kustomization.yaml': 'resources: [base]\n' });
    await symlink('../shared/base', join(attacker, linked, 'base'));
    assert.deepEqual(ids(await render(linked)), ['ConfigMap/shared']);
  });
});

describe('render: kustomize never fetches, whatever the local files are called (issue 21, item 13)', () => {
  it('an http resource is refused even when a local file of the same name exists (kustomize fetches it from loopback)', async () => {
    const url = `http://127.0.0.1:${port}/cm.yaml`;
    const dir = await app({
      'kustomization.yaml': `resources: [${JSON.stringify(url)}]\n`,
      [`http:/127.0.0.1:${port}/cm.yaml`]: cm('local'),
    });
    const before = requests.length;
    const peer = await kustomizeUnchecked(dir);
    assert.match(peer.stdout, /name: from-loopback/, `kustomize fetches it through the proxy settings: ${peer.stderr}`);
    assert.equal(requests.length, before + 1);
    await assert.rejects(
      render(dir),
      rejectsWith('KustomizeBuildFailed', /remote resource "http:\/\/127\.0\.0\.1:\d+\/cm\.yaml" is not fetched/),
    );
    assert.equal(requests.length, before + 1, 'no request from the render');
  });

  it('the same for files a generator or a patch loads, any case of the scheme, and git repositories with a local twin', async () => {
    const cases: Array<[string, Record<string, string>, RegExp]> = [
      [
        `configMapGenerator: [{name: x, files: ["k=HTTP://localhost:${port}/cm.yaml"]}]`,
        { [`k=HTTP:/localhost:${port}/cm.yaml`]: 'x', [`HTTP:/localhost:${port}/cm.yaml`]: 'x' },
        /remote configMapGenerator file "HTTP:\/\/localhost:\d+\/cm\.yaml"/,
      ],
      [`patches: [{path: "https://127.0.0.1:${port}/p.yaml"}]`, { [`https:/127.0.0.1:${port}/p.yaml`]: cm('x') }, /remote patch/],
      [
        `resources: [github.com/org/repo]`,
        { 'github.com/org/repo/kustomization.yaml': 'resources: []\n' },
        /remote resource "github\.com\/org\/repo"/,
      ],
      [
        `components: ["git@localhost:org/repo.git"]`,
        { 'git@localhost:org/repo.git/kustomization.yaml': 'kind: Component\n' },
        /remote component/,
      ],
    ];
    const before = requests.length;
    for (const [line, files, pattern] of cases) {
      const dir = await app({ 'kustomization.yaml': `${line}\n`, ...files });
      await assert.rejects(
        render(dir),
        rejectsWith('KustomizeBuildFailed', pattern, /is not fetched: renders run without network access/),
        line,
      );
    }
    assert.equal(requests.length, before);
  });

  it('a component named like an https URL with a single segment is a local directory, as kustomize reads it', async () => {
    const dir = await app({
      'kustomization.yaml': `resources: [cm.yaml]\ncomponents: ["https://127.0.0.1:${port}/c"]\n`,
      'cm.yaml': cm('x'),
      [`https:/127.0.0.1:${port}/c/kustomization.yaml`]: 'kind: Component\nnamePrefix: c-\n',
    });
    const before = requests.length;
    assert.deepEqual(ids(await render(dir)), ['ConfigMap/c-x']);
    assert.equal(requests.length, before);
  });

  it('plugin configurations may not name remote files, inline or in a file; a directory of them is refused', async () => {
    const generator = (files: string) => `apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata: {name: loot}\nfiles: [${files}]\n`;
    const url = `http://127.0.0.1:${port}/cm.yaml`;
    const fromFile = await app({ 'kustomization.yaml': 'generators: [gen.yaml]\n', 'gen.yaml': generator(url) });
    const fromDir = await app({
      'kustomization.yaml': 'generators: [gen]\n',
      'gen/kustomization.yaml': 'resources: [gen.yaml]\n',
      'gen/gen.yaml': generator('cm.yaml'),
      'gen/cm.yaml': 'x',
    });
    const before = requests.length;
    assert.match((await kustomizeUnchecked(fromFile)).stdout, /from-loopback/, 'kustomize fetches what a configuration names');
    assert.equal(requests.length, before + 1);

    await assert.rejects(
      render(fromFile),
      rejectsWith(
        'KustomizeBuildFailed',
        /generator "gen\.yaml" names the remote file "http:\/\/127\.0\.0\.1:\d+\/cm\.yaml", which is not fetched/,
      ),
    );
    const inline = await app({ 'kustomization.yaml': `generators:\n  - ${JSON.stringify(generator(`"${url}"`))}\n` });
    await assert.rejects(
      render(inline),
      rejectsWith('KustomizeBuildFailed', /ConfigMapGenerator configuration of generator .* names the remote file/),
    );
    const replacement = await app({
      'kustomization.yaml': 'transformers: [t.yaml]\n',
      't.yaml': `apiVersion: builtin\nkind: ReplacementTransformer\nmetadata: {name: r}\nreplacements: [{Path: "https://[::1]:${port}/r"}]\n`,
    });
    await assert.rejects(render(replacement), rejectsWith('KustomizeBuildFailed', /names the remote file "https:/));
    await assert.rejects(
      render(fromDir),
      rejectsWith(
        'KustomizeBuildFailed',
        /generator "gen" is a directory: the plugin configurations a kustomization builds cannot be checked/,
      ),
    );
    assert.equal(requests.length, before + 1, 'no request from the renders');
  });
});
