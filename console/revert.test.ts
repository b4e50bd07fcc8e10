import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContinuousDeployment, SyncHistoryEntry } from '../shared/api/continuous-deployment.ts';
import { TidemarkError } from '../shared/errors/index.ts';
import type { GitCredentials, PushAccess, RevertRequest } from '../shared/git/index.ts';
import { KubeApiError } from '../shared/kube/errors.ts';
import { FakeKubePort } from '../shared/kube/fake-port.ts';
import { silentLogger } from '../shared/log/index.ts';
import type { ConsoleKube } from './kube.ts';
import { tokenSubject } from './kube.ts';
import { commitOfRevision, ConsoleReverter, entryProblem, sourceProblem } from './revert.ts';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);
const PASSWORD = 'pw-do-not-show';

function entry(revision: string, subject: string, extra: Partial<SyncHistoryEntry> = {}): SyncHistoryEntry {
  return { revision, subject, startedAt: 't', finishedAt: 't', result: 'Succeeded', trigger: 'Interval', ...extra };
}

function deployment(spec: Record<string, unknown> = {}, history?: SyncHistoryEntry[], tip = `main@sha1:${C}`): ContinuousDeployment {
  return {
    apiVersion: 'tidemark.dev/v1alpha1',
    kind: 'ContinuousDeployment',
    metadata: { name: 'web', namespace: 'apps' },
    spec: { url: 'https://git.example/shop.git', secretRef: 'shop-git', ...spec },
    status: {
      sync: { status: 'Synced', revision: tip },
      history: history ?? [
        entry(`main@sha1:${C}`, 'web: image 2'),
        entry(`main@sha1:${B}`, 'web: two replicas'),
        entry('1.2.0@sha256:' + 'd'.repeat(64), ''),
      ],
    },
  };
}

describe('which history entries can be reverted (pure)', () => {
  it('reads the commit of a revision, with a chart part or without a ref', () => {
    assert.deepEqual(commitOfRevision(`main@sha1:${A}`), { ref: 'main', sha: A });
    assert.deepEqual(commitOfRevision(`sha1:${A}`), { ref: '', sha: A });
    assert.deepEqual(commitOfRevision(`release/1@sha1:${A}+web-1.0.0@sha256:${'e'.repeat(64)}`), { ref: 'release/1', sha: A });
    assert.equal(commitOfRevision(`latest@sha256:${'e'.repeat(64)}`), undefined);
  });

  it('says plainly why a source cannot be reverted', () => {
    assert.equal(sourceProblem(deployment()), undefined);
    assert.match(sourceProblem(deployment({ repoType: 'oci', url: 'oci://r.example/x' })) ?? '', /OCI artifact, not Git/);
    assert.match(sourceProblem(deployment({ repoType: 'helm' })) ?? '', /Helm chart repository/);
    assert.match(sourceProblem(deployment({ git: { tag: 'v1' } })) ?? '', /follows tag v1, not a branch/);
    assert.match(sourceProblem(deployment({ git: { commit: A } })) ?? '', /pinned to one commit/);
    assert.match(sourceProblem(deployment({ secretRef: undefined })) ?? '', /No credentials/);
    assert.match(sourceProblem(deployment({ url: 'file:///srv/git/shop.git' })) ?? '', /local path/);
  });

  it('an entry without a commit, from another branch, or already reverted by the tip is disabled', () => {
    const cd = deployment();
    assert.equal(entryProblem(cd, entry(`main@sha1:${B}`, 'web: two replicas')), undefined);
    assert.match(entryProblem(cd, entry(`1.2.0@sha256:${'d'.repeat(64)}`, '')) ?? '', /names no Git commit/);
    assert.match(entryProblem(cd, entry(`old@sha1:${B}`, 'x')) ?? '', /deployed from old; the deployment now follows main/);
    const reverted = deployment({}, [entry(`main@sha1:${C}`, 'Revert "web: two replicas"'), entry(`main@sha1:${B}`, 'web: two replicas')]);
    assert.match(entryProblem(reverted, entry(`main@sha1:${B}`, 'web: two replicas')) ?? '', /Already reverted/);
    // The tip itself may be reverted (reverting the revert brings the change back).
    assert.equal(entryProblem(reverted, entry(`main@sha1:${C}`, 'Revert "web: two replicas"')), undefined);
  });
});

interface World {
  kube: ConsoleKube;
  fake: FakeKubePort;
  patches: Array<Record<string, unknown>>;
  probes: Array<{ url: string; creds: GitCredentials | undefined }>;
  reverts: RevertRequest[];
  secret: { version: string; forbidden: boolean; exists: boolean };
}

function world(cd: ContinuousDeployment, access: PushAccess = { writable: true, reason: undefined }) {
  const fake = new FakeKubePort();
  const w: World = {
    fake,
    patches: [],
    probes: [],
    reverts: [],
    secret: { version: '7', forbidden: false, exists: true },
    kube: undefined as unknown as ConsoleKube,
  };
  const unused = () => Promise.reject(new Error('unused'));
  w.kube = {
    port: fake,
    getCd: (ns, name) => Promise.resolve(ns === 'apps' && name === 'web' ? cd : undefined),
    patchCd: (_ns, _name, patch) => {
      w.patches.push(patch);
      return Promise.resolve();
    },
    deleteCd: unused,
    createCd: unused,
    replaceCd: unused,
    listRepositories: unused,
    listTidemark: unused,
    createSecret: unused,
    events: unused,
    readSecret: (ns, name) => {
      if (w.secret.forbidden) return Promise.reject(new KubeApiError(403, 'Forbidden', `secrets "${name}" is forbidden`));
      if (!w.secret.exists || ns !== 'apps' || name !== 'shop-git') return Promise.resolve(undefined);
      return Promise.resolve({ data: { username: 'deployer', password: PASSWORD }, resourceVersion: w.secret.version });
    },
    whoAmI: () => Promise.resolve('alice'),
  };
  let now = 1_000;
  const reverter = new ConsoleReverter({
    clock: { now: () => (now += 1_000) } as never,
    log: silentLogger,
    localUser: 'local',
    probe: (url, creds) => {
      w.probes.push({ url, creds });
      return Promise.resolve(access);
    },
    revert: (request) => {
      w.reverts.push(request);
      return Promise.resolve({ commit: 'f'.repeat(40), base: C, attempts: 1 });
    },
  });
  return { w, reverter };
}

describe('the console’s Revert', () => {
  it('offers each entry with a commit; the probe is asked once per Secret version', async () => {
    const { w, reverter } = world(deployment());
    const answer = await reverter.choices(w.kube, 'apps', 'web');
    assert.equal(answer.status, 200);
    assert.deepEqual(
      (answer.body.entries as Array<{ reason: string | undefined }>).map((e) => e.reason === undefined),
      [true, true, false],
    );
    assert.equal(answer.body.branch, 'main');
    await reverter.choices(w.kube, 'apps', 'web');
    assert.equal(w.probes.length, 1, 'cached');
    w.secret.version = '8';
    await reverter.choices(w.kube, 'apps', 'web');
    assert.equal(w.probes.length, 2, 'a changed Secret is probed again');
    assert.deepEqual(w.probes[0], { url: 'https://git.example/shop.git', creds: { username: 'deployer', password: PASSWORD } });
    assert.ok(!JSON.stringify(answer.body).includes(PASSWORD));
  });

  it('a read-only credential, an unreadable Secret, or no right to change the deployment: every entry says why', async () => {
    const readOnly = world(deployment(), {
      writable: false,
      reason: 'the credential may read the repository but not push to it (HTTP 403)',
    });
    const body = (await readOnly.reverter.choices(readOnly.w.kube, 'apps', 'web')).body;
    assert.match(String(body.reason), /cannot push: the credential may read the repository but not push/);
    assert.ok((body.entries as Array<{ reason: string }>).every((e) => e.reason === body.reason));

    const hidden = world(deployment());
    hidden.w.secret.forbidden = true;
    assert.match(
      String((await hidden.reverter.choices(hidden.w.kube, 'apps', 'web')).body.reason),
      /may not read the Secret apps\/shop-git/,
    );
    assert.equal(hidden.w.probes.length, 0);

    const gone = world(deployment());
    gone.w.secret.exists = false;
    assert.match(String((await gone.reverter.choices(gone.w.kube, 'apps', 'web')).body.reason), /does not exist/);

    const reader = world(deployment());
    reader.w.fake.deny({ verb: 'update', kind: 'ContinuousDeployment' });
    const refused = await reader.reverter.revert(reader.w.kube, 'apps', 'web', { revision: `main@sha1:${B}` });
    assert.deepEqual([refused.status, refused.body.reason], [403, 'Forbidden']);
    assert.match(String(refused.body.error), /may not change this deployment/);
    assert.equal(reader.w.reverts.length, 0, 'nothing pushed');
  });

  it('reverts the entry’s commit on the followed branch for the user, then requests a sync', async () => {
    const { w, reverter } = world(deployment({ git: { branch: 'main' }, insecure: true }));
    const answer = await reverter.revert(w.kube, 'apps', 'web', { revision: `main@sha1:${B}` });
    assert.equal(answer.status, 200);
    assert.equal(w.reverts.length, 1);
    const request = w.reverts[0]!;
    assert.deepEqual(
      [request.url, request.branch, request.sha, request.requestedBy, request.allowInsecureHttp],
      ['https://git.example/shop.git', 'main', B, 'alice', true],
    );
    assert.deepEqual(request.credentials, { username: 'deployer', password: PASSWORD });
    const annotations = (w.patches[0]?.metadata as { annotations: Record<string, string> }).annotations;
    assert.equal(annotations['tidemark.dev/requestedBy'], 'console/alice');
    assert.ok(annotations['tidemark.dev/requestedAt']);
    assert.ok(!JSON.stringify(answer.body).includes(PASSWORD));

    // A sync request refused after the push: the revert is in Git all the same, and the answer says so.
    w.kube.patchCd = () => Promise.reject(new KubeApiError(403, 'Forbidden', 'cannot patch'));
    const unsynced = await reverter.revert(w.kube, 'apps', 'web', { revision: `main@sha1:${B}` });
    assert.equal(unsynced.status, 200);
    assert.match(String(unsynced.body.syncProblem), /sync request failed \(cannot patch\); the agent deploys it at its next poll/);

    const missing = await reverter.revert(w.kube, 'apps', 'web', { revision: `main@sha1:${A}` });
    assert.equal(missing.status, 422);
    const chart = await reverter.revert(w.kube, 'apps', 'web', { revision: `1.2.0@sha256:${'d'.repeat(64)}` });
    assert.match(String(chart.body.error), /names no Git commit/);
    assert.equal(w.reverts.length, 2);
  });

  it('a conflict comes back as 409 with its hint, and no sync is requested', async () => {
    const { w, reverter } = world(deployment());
    const conflicting = new ConsoleReverter({
      clock: { now: () => 0 } as never,
      log: silentLogger,
      localUser: undefined,
      probe: () => Promise.resolve({ writable: true, reason: undefined }),
      revert: () =>
        Promise.reject(
          new TidemarkError('GitRevertConflict', 'reverting bbbb does not apply', { kind: 'terminal', hint: 'revert it by hand' }),
        ),
    });
    const answer = await conflicting.revert(w.kube, 'apps', 'web', { revision: `main@sha1:${B}` });
    assert.deepEqual([answer.status, answer.body.reason, answer.body.hint], [409, 'GitRevertConflict', 'revert it by hand']);
    assert.equal(w.patches.length, 0);
    assert.ok(reverter);
  });

  it('a JWT names its user; other tokens name nobody', () => {
    const jwt = (claims: object) => `x.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;
    assert.equal(tokenSubject(jwt({ sub: 'system:serviceaccount:apps:alice' })), 'system:serviceaccount:apps:alice');
    assert.equal(tokenSubject(jwt({ sub: '123', email: 'a@example.test' })), 'a@example.test');
    assert.equal(tokenSubject('static-token'), undefined);
  });
});
