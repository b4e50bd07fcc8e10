import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import { describeError } from '../errors/index.ts';
import { combineErrors, validateContinuousDeploymentSpec, type DeploymentConfig, type Validated } from './index.ts';

function fixture(name: string): unknown {
  return yaml.load(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
}

function ok(result: Validated<DeploymentConfig>): DeploymentConfig {
  if (!result.ok) assert.fail(result.errors.map((e) => `${e.code}: ${e.message}`).join('\n'));
  return result.value;
}

function problems(spec: unknown): string[] {
  const result = validateContinuousDeploymentSpec(spec);
  assert.equal(result.ok, false, 'expected problems');
  if (result.ok) return [];
  for (const err of result.errors) assert.equal(err.kind, 'terminal');
  return result.errors.map((e) => `${e.code} ${e.message}`);
}

function assertHas(list: string[], pattern: RegExp) {
  assert.ok(
    list.some((line) => pattern.test(line)),
    `no problem matching ${pattern} in:\n${list.join('\n')}`,
  );
}

test('the seed properties block reads with defaults', () => {
  const config = ok(
    validateContinuousDeploymentSpec({
      repoType: 'git',
      url: 'https://git.example.com/org/config',
      secretRef: 'git-secret',
      pullInterval: '10m',
      git: { branch: 'infra' },
      path: './infrastructure',
      prune: true,
    }),
  );
  assert.equal(config.intervalMs, 600_000);
  assert.deepEqual(config.ref, { kind: 'branch', value: 'infra' });
  assert.equal(config.path, './infrastructure');
  assert.equal(config.secretRef, 'git-secret');
  assert.equal(config.policy.propagation, 'background');
  assert.equal(config.policy.selfHeal, true);
});

test('defaults: branch main, path ./, interval 5m, timeout from the interval, prune and self-heal on', () => {
  assert.deepEqual(ok(validateContinuousDeploymentSpec({ url: 'file:///repo' })), {
    repoType: 'git',
    url: 'file:///repo',
    secretRef: undefined,
    insecure: false,
    intervalMs: 300_000,
    timeoutMs: 300_000,
    ref: { kind: 'branch', value: 'main' },
    ociRef: undefined,
    path: './',
    prune: true,
    suspend: false,
    force: false,
    targetNamespace: undefined,
    serviceAccountName: undefined,
    kubeConfig: undefined,
    policy: {
      manual: false,
      selfHeal: true,
      skipSchemaValidation: false,
      createNamespace: false,
      pruneLast: false,
      applyOutOfSyncOnly: false,
      replace: false,
      allowEmpty: false,
      propagation: 'background',
      windows: [],
    },
    healthCheckExprs: [],
    healthChecks: [],
    dependsOn: [],
    ignore: [],
    postBuild: undefined,
    decryption: undefined,
    helm: undefined,
  });
  // The timeout follows the interval within [30s, 5m]; empty strings mean unset, as they always have.
  const fast = ok(
    validateContinuousDeploymentSpec({ url: 'file:///repo', pullInterval: '5s', secretRef: '', targetNamespace: '', path: '' }),
  );
  assert.equal(fast.timeoutMs, 30_000);
  assert.deepEqual([fast.secretRef, fast.targetNamespace, fast.path], [undefined, undefined, './']);
  assert.equal(ok(validateContinuousDeploymentSpec({ url: 'file:///repo', pullInterval: '1h' })).timeoutMs, 300_000);
});

test('every field read', () => {
  const config = ok(validateContinuousDeploymentSpec(fixture('continuous-deployment-full.yaml')));
  // The windows arrive compiled (schedule and zone parsed); their own tests are in sync-windows.test.ts.
  const windows = config.policy.windows.map((w) => ({ ...w.window, durationMs: w.durationMs, zone: w.schedule.zone.name }));
  assert.deepEqual(
    { ...config, policy: { ...config.policy, windows } },
    {
      repoType: 'git',
      url: 'ssh://git@git.example.com:2222/org/config.git',
      secretRef: 'git-credentials',
      insecure: true,
      intervalMs: 600_000,
      timeoutMs: 120_000,
      ref: { kind: 'tag', value: 'v1.4.0' },
      ociRef: undefined,
      path: './clusters/prod',
      prune: false,
      suspend: true,
      force: true,
      targetNamespace: 'apps',
      serviceAccountName: 'deployer',
      kubeConfig: { name: 'prod-kubeconfig', key: 'config.yaml' },
      policy: {
        manual: true,
        selfHeal: false,
        skipSchemaValidation: true,
        createNamespace: true,
        pruneLast: true,
        applyOutOfSyncOnly: true,
        replace: true,
        allowEmpty: true,
        propagation: 'foreground',
        windows: [
          {
            kind: 'deny',
            schedule: '0 22 * * *',
            duration: '8h',
            manualSync: true,
            timeZone: 'Europe/Berlin',
            durationMs: 28_800_000,
            zone: 'Europe/Berlin',
          },
          { kind: 'allow', schedule: '0 6 * * 1-5', duration: '12h', durationMs: 43_200_000, zone: 'UTC' },
        ],
      },
      healthCheckExprs: [],
      healthChecks: [],
      dependsOn: [],
      ignore: [],
      postBuild: undefined,
      decryption: undefined,
      helm: undefined,
    },
  );
});

test('each ref kind; a commit is kept in lower case', () => {
  const ref = (git: unknown) => ok(validateContinuousDeploymentSpec({ url: 'file:///repo', git })).ref;
  assert.deepEqual(ref({ branch: 'release/1.x' }), { kind: 'branch', value: 'release/1.x' });
  assert.deepEqual(ref({ tag: 'v1.2.3' }), { kind: 'tag', value: 'v1.2.3' });
  assert.deepEqual(ref({ semver: '>=1.0.0 <2.0.0' }), { kind: 'semver', value: '>=1.0.0 <2.0.0' });
  assert.deepEqual(ref({ commit: 'A'.repeat(40) }), { kind: 'commit', value: 'a'.repeat(40) });
  assert.deepEqual(ref({ commit: 'b'.repeat(64) }), { kind: 'commit', value: 'b'.repeat(64) });
  assert.deepEqual(ref({}), { kind: 'branch', value: 'main' });
});

test('all problems reported at once, each naming its field', () => {
  const list = problems(fixture('continuous-deployment-broken.yaml'));
  const expected = [
    /^InvalidSpec spec\.repoType: "svn" is not supported/,
    /^InvalidSpec spec\.url: must not start with "-"/,
    /^InvalidSpec spec\.secretRef: "Git_Credentials" is not a valid name/,
    /^InvalidDuration spec\.pullInterval: invalid duration "ten minutes"/,
    /^InvalidSpec spec\.timeout: "10ms" is shorter than 1s/,
    /^InvalidSpec spec\.git\.ref: unknown field/,
    /^InvalidSpec spec\.git\.branch: must not start with "-"/,
    /^InvalidSpec spec\.git\.commit: "abc1234" is an abbreviated commit SHA/,
    /^InvalidSpec spec\.git: sets branch and commit; set only one/,
    /^InvalidSpec spec\.path: "\.\.\/\.\.\/etc" leads outside the repository/,
    /^InvalidSpec spec\.prune: must be true or false, not string "yes"/,
    /^InvalidSpec spec\.targetNamespace: "Apps" is not a valid namespace/,
    /^InvalidSpec spec\.kubeConfig\.secretRef\.name: is required/,
    /^InvalidSpec spec\.kubeConfig\.secretRef\.key: "" is not a valid Secret key/,
    /^InvalidSpec spec\.syncPolicy\.selfheal: unknown field/,
    /^InvalidSpec spec\.syncPolicy\.prunePropagationPolicy: "sideways" is not one of foreground, background, orphan/,
    /^InvalidSyncWindow spec\.syncPolicy\.windows\[0\]\.kind: "sometimes" is not allow or deny/,
    /^InvalidSyncWindow spec\.syncPolicy\.windows\[0\]\.schedule: must not be empty/,
    /^InvalidSyncWindow spec\.syncPolicy\.windows\[0\]\.duration: "0s" is not above zero/,
    /^InvalidSyncWindow spec\.syncPolicy\.windows\[0\]\.timeZone: unknown time zone "Mars\/Olympus"/,
    /^InvalidSpec spec\.imageRepository: must be an object, not string/,
    /^InvalidSpec spec\.sourceRef: unknown field/,
  ];
  for (const pattern of expected) assertHas(list, pattern);
  assert.equal(list.length, expected.length, list.join('\n'));
});

test('one message for the condition and the Event: counted, each problem with its hint', () => {
  const result = validateContinuousDeploymentSpec({ pullInterval: 'soon', git: { branch: '-x' } });
  assert.equal(result.ok, false);
  if (result.ok) return;
  const error = combineErrors(result.errors);
  assert.equal(error.code, 'InvalidSpec');
  assert.equal(error.kind, 'terminal');
  assert.equal(
    describeError(error),
    '3 problems: spec.url: is required (set spec.url to the Git repository, e.g. https://git.example.com/org/config.git); ' +
      'spec.pullInterval: invalid duration "soon" (use Go duration syntax such as 90s, 5m or 1h30m); ' +
      'spec.git.branch: must not start with "-"',
  );
  // One problem keeps its own code and hint.
  const one = validateContinuousDeploymentSpec({ url: 'file:///repo', pullInterval: 'soon' });
  assert.equal(one.ok ? undefined : combineErrors(one.errors).code, 'InvalidDuration');
});

for (const [name, spec, pattern] of [
  ['a missing spec', undefined, /^InvalidSpec spec: is required/],
  ['a spec that is not an object', 'x', /^InvalidSpec spec: must be an object, not string "x"/],
  ['a URL git would run a command for', { url: 'ext::sh' }, /^InvalidSpec spec\.url: .*transport that is not allowed/],
  ['a URL with a password', { url: 'https://u:hunter2@host/repo.git' }, /^InvalidSpec spec\.url: the repository URL carries a password/],
  ['an empty URL', { url: ' ' }, /^InvalidSpec spec\.url: must not be empty/],
  ['a URL that is not a string', { url: 42 }, /^InvalidSpec spec\.url: must be a string, not number 42$/],
  [
    'a branch git misreads',
    { url: 'file:///r', git: { branch: 'a..b' } },
    /spec\.git\.branch: "a\.\.b" is not a valid branch name: contains "\.\."/,
  ],
  ['an option-like tag', { url: 'file:///r', git: { tag: '--force' } }, /spec\.git\.tag: must not start with "-"/],
  ['an empty ref', { url: 'file:///r', git: { tag: '' } }, /spec\.git\.tag: must not be empty/],
  [
    'a bad semver range',
    { url: 'file:///r', git: { semver: '>=1 <<2' } },
    /^InvalidSemverRange spec\.git\.semver ">=1 <<2" is not a valid range/,
  ],
  ['a short commit', { url: 'file:///r', git: { commit: 'a'.repeat(39) } }, /spec\.git\.commit: .*abbreviated commit SHA/],
  ['a kubeConfig without a Secret', { url: 'file:///r', kubeConfig: {} }, /spec\.kubeConfig\.secretRef: is required/],
  [
    'a window without a duration',
    { url: 'file:///r', syncPolicy: { windows: [{ kind: 'allow', schedule: '* * * * *' }] } },
    /windows\[0\]\.duration: is required/,
  ],
  ['windows that are not a list', { url: 'file:///r', syncPolicy: { windows: {} } }, /spec\.syncPolicy\.windows: must be a list/],
  ['a timeout of 0', { url: 'file:///r', timeout: '0' }, /spec\.timeout: "0" is shorter than 1s/],
] as const) {
  test(`refused: ${name}`, () => assertHas(problems(spec), pattern));
}

test('the commit hint says what a full SHA is', () => {
  const result = validateContinuousDeploymentSpec({ url: 'file:///r', git: { commit: 'abc1234' } });
  assert.equal(result.ok, false);
  if (!result.ok) assert.match(result.errors[0]?.hint ?? '', /40 hex digits \(SHA-1\) or 64 \(SHA-256\)/);
});

test('insecure: the opt-in to send Git credentials over plain http:// is a boolean, off by default', () => {
  assert.equal(ok(validateContinuousDeploymentSpec({ url: 'http://git.example/r', insecure: true })).insecure, true);
  const read = validateContinuousDeploymentSpec({ url: 'http://git.example/r', insecure: 'yes' });
  assert.equal(read.ok, false);
  assert.match(read.ok ? '' : read.errors.map((e) => e.message).join('\n'), /spec\.insecure/);
});

test('healthCheckExprs: compiled per group and kind, the version ignored, empty optional expressions absent', () => {
  const config = ok(
    validateContinuousDeploymentSpec({
      url: 'https://git.example.com/org/config',
      healthCheckExprs: [
        { apiVersion: 'bitnami.com/v1alpha1', kind: 'SealedSecret', current: "status.conditions.all(c, c.status == 'True')", failed: '' },
        { apiVersion: 'example.com/v2', current: 'true', inProgress: 'false' },
      ],
      healthChecks: [
        { kind: 'Deployment', name: 'web' },
        { apiVersion: 'example.com/v1', kind: 'Widget', name: 'w', namespace: 'other' },
      ],
    }),
  );
  const [sealed, group] = config.healthCheckExprs;
  assert.equal(sealed?.at, 'spec.healthCheckExprs[0]');
  assert.equal(sealed?.group, 'bitnami.com');
  assert.equal(sealed?.kind, 'SealedSecret');
  assert.equal(sealed?.current.source, "status.conditions.all(c, c.status == 'True')");
  assert.equal(sealed?.failed, undefined);
  assert.equal(group?.kind, undefined);
  assert.equal(group?.inProgress?.source, 'false');
  assert.deepEqual(config.healthChecks, [
    { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: undefined },
    { apiVersion: 'example.com/v1', kind: 'Widget', name: 'w', namespace: 'other' },
  ]);
  assert.deepEqual(ok(validateContinuousDeploymentSpec({ url: 'file:///repo' })).healthCheckExprs, []);
});

test('healthCheckExprs and healthChecks: every problem at once, each with its field path; a bad expression is InvalidCELExpression', () => {
  const found = problems({
    url: 'https://git.example.com/org/config',
    healthCheckExprs: [
      { apiVersion: 'example.com/v1', kind: 'Widget', current: 'status.ready ==' },
      { kind: 'Gadget', current: 'true', failed: '((' },
      { apiVersion: 'example.com/v1beta1', kind: 'Widget', current: 'true' },
      { apiVersion: 'example.com/v2', kind: 'Widget', current: 'true', wait: true },
      { apiVersion: 'example.com/v1', kind: 'Thing' },
    ],
    healthChecks: [{ kind: 'Deployment' }, { kind: 'Deployment', name: 'a/b', namespace: 'Bad_NS' }, 'web'],
  });
  assertHas(found, /^InvalidCELExpression spec\.healthCheckExprs\[0\]\.current: invalid CEL expression: 1:\d+: /);
  assertHas(found, /^InvalidSpec spec\.healthCheckExprs\[1\]\.apiVersion: is required/);
  assertHas(found, /^InvalidCELExpression spec\.healthCheckExprs\[1\]\.failed: invalid CEL expression/);
  assertHas(found, /^InvalidSpec spec\.healthCheckExprs\[3\]\.wait: unknown field/);
  assertHas(found, /^InvalidSpec spec\.healthCheckExprs\[4\]\.current: is required/);
  assertHas(found, /^InvalidSpec spec\.healthChecks\[0\]\.name: is required/);
  assertHas(found, /^InvalidSpec spec\.healthChecks\[1\]\.name: "a\/b" is not a valid object name/);
  assertHas(found, /^InvalidSpec spec\.healthChecks\[1\]\.namespace: "Bad_NS" is not a valid namespace/);
  assertHas(found, /^InvalidSpec spec\.healthChecks\[2\]: must be an object/);
  // v1beta1 and v1 of one group and kind are the same entry: Flux refuses the second.
  assertHas(
    found,
    /^InvalidSpec spec\.healthCheckExprs\[2\]: repeats healthCheckExprs\[0\]: both are for kind Widget of group "example\.com"/,
  );
  assertHas(found, /^InvalidSpec spec\.healthCheckExprs\[3\]: repeats healthCheckExprs\[0\]/);
  assert.equal(found.length, 11, found.join('\n'));
});

test('healthCheckExprs: the expressions of one deployment are bounded together', () => {
  const long = `${'true && '.repeat(500)}true`;
  const entries = Array.from({ length: 9 }, (_, i) => ({ apiVersion: `g${i}.example.com/v1`, current: long }));
  assertHas(
    problems({ url: 'file:///repo', healthCheckExprs: entries }),
    /^InvalidSpec spec\.healthCheckExprs: has 36036 characters of expressions; at most 32768/,
  );
  assert.ok(validateContinuousDeploymentSpec({ url: 'file:///repo', healthCheckExprs: entries.slice(0, 8) }).ok);
});

test('repoType oci: oci:// URL, ref tag (default latest), semver or digest', () => {
  const digest = `sha256:${'a'.repeat(64)}`;
  const read = (ref?: unknown) =>
    ok(validateContinuousDeploymentSpec({ repoType: 'oci', url: 'oci://127.0.0.1:5000/team/manifests', ...(ref ? { ref } : {}) }));
  assert.deepEqual(read().ociRef, { kind: 'tag', value: 'latest' });
  assert.equal(read().repoType, 'oci');
  assert.deepEqual(read({ tag: 'v1.2.0' }).ociRef, { kind: 'tag', value: 'v1.2.0' });
  assert.deepEqual(read({ semver: '>=1.0.0 <2.0.0' }).ociRef, { kind: 'semver', value: '>=1.0.0 <2.0.0' });
  assert.deepEqual(read({ digest }).ociRef, { kind: 'digest', value: digest });
  assert.equal(ok(validateContinuousDeploymentSpec({ url: 'file:///repo' })).ociRef, undefined);
});

test('repoType oci: every bad field is listed at once', () => {
  const found = problems({
    repoType: 'oci',
    url: 'oci://ghcr.io/Org/app:v1',
    git: { branch: 'main' },
    ref: { tag: '-bad', digest: 'sha256:1234', semver: 'not a range', branch: 'x' },
  });
  assertHas(found, /spec\.url: invalid image reference/);
  assertHas(found, /spec\.git: applies to repoType git only/);
  assertHas(found, /spec\.ref\.branch: unknown field/);
  assertHas(found, /spec\.ref\.tag: "-bad" is not a valid tag/);
  assertHas(found, /spec\.ref\.digest: "sha256:1234" is not a digest/);
  assertHas(found, /spec\.ref\.semver/);
  assertHas(found, /spec\.ref: sets tag and semver and digest; set only one/);
  assertHas(
    problems({ repoType: 'oci', url: 'https://ghcr.io/org/app' }),
    /spec\.url: "https:\/\/ghcr.io\/org\/app" does not start with oci:\/\//,
  );
  assertHas(problems({ repoType: 'oci', url: 'oci://ghcr.io/org/app:v1' }), /spec\.url: must not carry a tag or digest/);
  assertHas(problems({ repoType: 'oci' }), /spec\.url: is required/);
  assertHas(problems({ url: 'https://git.example/c', ref: { tag: 'v1' } }), /spec\.ref: applies to repoType oci only/);
});

test('repoType helm: the chart alone, from spec.url (an https repository or an oci:// path)', () => {
  const read = (url: string) =>
    ok(validateContinuousDeploymentSpec({ repoType: 'helm', url, helm: { chart: { name: 'podinfo', version: '^6' }, values: { a: 1 } } }));
  const https = read('https://charts.example.com/stable');
  assert.equal(https.repoType, 'helm');
  assert.equal(https.url, 'https://charts.example.com/stable');
  assert.deepEqual(https.helm?.chart, {
    repository: 'https://charts.example.com/stable',
    name: 'podinfo',
    version: '^6',
    secretRef: undefined,
  });
  assert.deepEqual(https.helm?.values, { a: 1 });
  assert.equal(read('oci://127.0.0.1:5000/charts').helm?.chart?.repository, 'oci://127.0.0.1:5000/charts');
});

test('repoType helm: every problem at once, each at its field', () => {
  const found = problems({
    repoType: 'helm',
    url: 'ssh://git@example.com/charts',
    path: './deploy',
    git: { branch: 'main' },
    helm: { valuesFiles: ['values-prod.yaml'], chart: { repository: 'https://x.example', secretRef: 'creds', version: 'not a range' } },
  });
  assertHas(found, /spec\.url: "ssh:\/\/git@example.com\/charts" is not an http\(s\) URL of a Helm repository/);
  assertHas(found, /spec\.path: applies to a Git repository or OCI artifact only/);
  assertHas(found, /spec\.git: applies to repoType git only/);
  assertHas(found, /spec\.helm\.valuesFiles: needs a Git repository/);
  assertHas(found, /spec\.helm\.chart\.repository: applies to repoType git only/);
  assertHas(found, /spec\.helm\.chart\.secretRef: applies to repoType git only/);
  assertHas(found, /spec\.helm\.chart\.name: is required/);
  assertHas(found, /spec\.helm\.chart\.version/);
  assert.ok(!found.some((p) => /spec\.helm\.chart\.repository: "/.test(p)), 'the URL is reported once, under spec.url');
  assertHas(problems({ repoType: 'helm', url: 'https://charts.example.com' }), /spec\.helm: is required/);
  assertHas(problems({ repoType: 'helm', url: 'https://charts.example.com', helm: {} }), /spec\.helm\.chart: is required/);
});
