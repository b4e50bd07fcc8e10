/**
 * Ten people pushing to the branch while the image updater's bot updates it: each time the bot's
 * push reaches the real smart-HTTP server, all ten push a commit of their own first (racing each
 * other too, retrying as people do), so the bot's push lands on a moved branch. At the end every
 * human commit is in the branch's history and the bot's change is in it exactly once.
 */
import assert from 'node:assert/strict';
import { API_VERSION } from '../../shared/api/constants.ts';
import type { KubeClient } from '../../shared/kube/client.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import { startImageUpdater, type RunningImageUpdater } from '../../image-updater/index.ts';
import type { ClusterAccess } from '../harness/control-plane.ts';
import type { GitServers } from '../harness/git.ts';
import { waitFor } from '../harness/process.ts';
import type { TestRegistry } from '../harness/registry.ts';
import { applyCd, getObject, testLogger } from '../harness/tidemark.ts';
import type { FaultRow } from './report.ts';

export interface PushRaceEnv {
  cluster: ClusterAccess;
  admin: KubeClient;
  git: GitServers;
  registry: TestRegistry;
}

const PEOPLE = 10;
/** Bursts of ten human pushes, one per bot push that reaches the server. */
const BURSTS = 3;
const FILE = 'app/deploy.yaml';
const REPO_IMAGE = 'team/race';
const TAG = '1.1.0';
/** No human commit and no bot push for this long: the race is stuck (a lost wake-up, a hung push). */
const STALL_MS = 60_000;
/** However slowly the machine lets the race move, it ends within this. */
const LIMIT_MS = 5 * 60_000;

export async function runPushRace(env: PushRaceEnv): Promise<FaultRow> {
  const { cluster, admin, git, registry } = env;
  const name = `ten people pushing while the bot updates the branch (${PEOPLE} × ${BURSTS} human commits)`;
  const ns = await cluster.createNamespace('pushrace');
  const repo = `pushrace-${ns.slice(-6)}`;
  const image = `${registry.host}/${REPO_IMAGE}`;
  let updater: RunningImageUpdater | undefined;
  const humans: string[] = [];
  let bursts = 0;
  let botPushes = 0;
  try {
    await admin.rest.request({
      method: 'POST',
      path: `/api/v1/namespaces/${ns}/secrets`,
      body: {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'git-writer' },
        stringData: { username: git.http!.writer.username, password: git.http!.writer.password },
      },
    });
    const manifest = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  image: nginx # {"$imagepolicy": "${ns}:app"}\n`;
    await git.repos.createRepo(repo, { [FILE]: manifest }, { branch: 'main' });
    await registry.pushImage(REPO_IMAGE, ['1.0.0', TAG]);

    const person = async (i: number, round: number): Promise<void> => {
      // A person whose push is rejected fetches and tries again, as `git pull --rebase && git push` does.
      for (let attempt = 1; ; attempt++) {
        try {
          humans.push(
            await git.repos.commitFiles(repo, 'main', { [`people/p${i}.txt`]: `round ${round}\n` }, `person ${i}, round ${round}`),
          );
          return;
        } catch (err) {
          if (attempt >= 100) throw err;
        }
      }
    };
    git.http!.setBeforeRequest(async (req) => {
      if (req.method !== 'POST' || req.service !== 'git-receive-pack' || !req.path.includes(repo)) return;
      botPushes++;
      if (bursts >= BURSTS) return;
      const round = ++bursts;
      await Promise.all(Array.from({ length: PEOPLE }, (_, i) => person(i, round)));
    });

    updater = await startImageUpdater({
      allowLocalGit: true,
      kubeconfigPath: cluster.kubeconfigPath,
      namespace: ns,
      log: testLogger(),
      workers: 2,
    });
    await applyCd(admin, {
      metadata: { name: 'app', namespace: ns },
      spec: {
        url: git.http!.url(repo),
        secretRef: 'git-writer',
        pullInterval: '1h',
        path: './app',
        imageRepository: { image, insecure: true, interval: '1s', policy: { semver: { range: '>=1.0.0' } } },
      },
    });

    const want = `image: ${image}:${TAG} # {"$imagepolicy": "${ns}:app"}`;
    let log = await git.repos.readLog(repo, 'main');
    await whileProgressing(
      async () => {
        log = await git.repos.readLog(repo, 'main');
        return (
          bursts >= BURSTS && humans.length === PEOPLE * BURSTS && (await git.repos.readFile(repo, 'main', FILE))?.includes(want) === true
        );
      },
      () => humans.length + botPushes,
      'the bot change on the branch after the bursts',
    ).catch(async (err: unknown) => {
      const statuses = await Promise.all(
        ['imagerepositories', 'imagepolicies', 'imageupdateautomations'].map(async (plural) => [
          plural,
          (await getObject(admin, `/apis/${API_VERSION}/namespaces/${ns}/${plural}/app`))?.['status'],
        ]),
      );
      const messages = JSON.stringify(log.map((e) => e.message));
      const detail = `bursts ${bursts}, bot pushes ${botPushes}, log: ${messages}, ${JSON.stringify(statuses)}`;
      throw new Error(`${(err as Error).message}; ${detail}`, { cause: err });
    });
    // A later run must not add a second copy: let the automation run again on the quiet branch.
    const automation = `/apis/${API_VERSION}/namespaces/${ns}/imageupdateautomations/app`;
    const runs = async () =>
      ((await getObject(admin, automation)) as (KubeObject & { status?: { lastAutomationRunTime?: string } }) | undefined)?.status
        ?.lastAutomationRunTime;
    const seen = await runs();
    await waitFor(async () => (await runs()) !== seen, { timeoutMs: 15_000, intervalMs: 200, what: 'another automation run' }).catch(
      () => undefined,
    );

    log = await git.repos.readLog(repo, 'main');
    const history = new Set(log.map((e) => e.sha));
    const lostCommits = humans.filter((sha) => !history.has(sha)).length;
    const botCommits = log.filter((e) => e.files.includes(FILE) && e.message !== 'Initial commit');
    assert.equal(humans.length, PEOPLE * BURSTS, 'every person pushed every round');
    assert.equal(lostCommits, 0, 'every human commit is in the history');
    assert.equal(botCommits.length, 1, `exactly one copy of the bot's change: ${JSON.stringify(botCommits.map((e) => e.message))}`);
    assert.ok(botPushes > BURSTS, `the bot's push was overtaken ${BURSTS} times and landed after (bot pushes: ${botPushes})`);
    return { fault: name, converged: true, lostObjects: 0, orphans: 0, lostCommits };
  } finally {
    git.http!.setBeforeRequest(undefined);
    await updater?.stop();
    await cluster.deleteNamespace(ns).catch(() => undefined);
  }
}

/**
 * Waits for `probe` as long as `progress` keeps changing: fails after a whole STALL_MS in which it
 * did not, or after LIMIT_MS in all. The bursts alone (ten people cloning afresh and retrying until
 * each lands, about 45 refused pushes a burst) took most of a fixed 60 s on a loaded 2-core machine,
 * which then read as an automation that never ran again while its push was still held by a burst.
 */
async function whileProgressing(probe: () => Promise<boolean>, progress: () => number, what: string): Promise<void> {
  const started = Date.now();
  for (;;) {
    const before = progress();
    const left = LIMIT_MS - (Date.now() - started);
    try {
      await waitFor(probe, { timeoutMs: Math.max(0, Math.min(STALL_MS, left)), intervalMs: 200, what });
      return;
    } catch (err) {
      const elapsed = Date.now() - started;
      if (elapsed >= LIMIT_MS) throw new Error(`still waiting for ${what} after ${elapsed} ms`, { cause: err });
      if (progress() === before) {
        throw new Error(`no human commit or bot push for ${STALL_MS} ms while waiting for ${what} (${elapsed} ms in all)`, { cause: err });
      }
    }
  }
}
