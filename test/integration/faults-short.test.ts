import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { useFaultEnv } from '../faults/case-env.ts';
import { testCluster } from '../harness/cluster.ts';
import { installCrds } from '../harness/tidemark.ts';
import { API_FAULTS, CRASH_POINTS, crashFault, runSyncFault } from '../faults/sync-faults.ts';
import { GIT_FAULTS, runGitFault } from '../faults/git-faults.ts';
import { GIT_SSH_FAULTS, runGitSshFault } from '../faults/git-ssh-faults.ts';
import { REGISTRY_FAULTS, runRegistryFault, startRegistryFaultEnv, type RegistryFaultEnv } from '../faults/registry-faults.ts';
import { runSecretScan } from '../faults/secrets-faults.ts';
import { BAD_INPUTS, runBadInput, startBadInputEnv, type BadInputEnv } from '../faults/bad-input-faults.ts';
import { BAD_POLICIES, runBadPolicy, startBadPolicyEnv, type BadPolicyEnv } from '../faults/bad-image-policy-faults.ts';
import { startGitServers } from '../harness/git.ts';
import { testClient } from '../harness/tidemark.ts';

/**
 * The short form of `npm run faults` that `npm test` runs: the agent killed in the middle of the
 * apply of a first sync and in the middle of a prune, API server errors during a sync, and an
 * image scan throttled with Retry-After and redirected to another host (about 10 s), and the Git
 * server down or answering non-Git bytes (about 16 s), sshd stopped and an impostor sshd with
 * another host key (about 30 s), the secret scan without the remote
 * cluster failures and the image automation, a YAML alias bomb beside a healthy deployment (about
 * 10 s with the agent's start), and two bad image policies (about 2 s). The full matrix is
 * `npm run faults`.
 */
const SHORT = [
  'agent SIGKILL during apply (250th write)',
  'agent SIGKILL during prune (50th delete)',
  'API server: 500 on every 7th request (40 times)',
];

const SHORT_GIT = ['Git server down (connection refused)', 'Git server answers non-Git bytes as a ref advertisement'];

const SHORT_GIT_SSH = ['Git over SSH: sshd stopped (connection refused)', 'Git over SSH: host key changed (another sshd at the address)'];

describe('faults (short form): a sync under faults', () => {
  const env = useFaultEnv();

  for (const fault of [...CRASH_POINTS.map(crashFault), ...API_FAULTS].filter((f) => SHORT.includes(f.name))) {
    it(`converges after ${fault.name}`, async () => {
      await runSyncFault(env(), fault);
    });
  }

  // The Git server down, and answering non-Git bytes (which once read as "branch not found"): ~9 s each.
  for (const fault of GIT_FAULTS.filter((f) => SHORT_GIT.includes(f.name))) {
    it(`keeps the last good state and syncs again after: ${fault.name}`, async () => {
      await runGitFault(env(), fault);
    });
  }

  // Over SSH, sshd stopped and an impostor's host key (refused, never trusted): ~15 s each.
  const sshSkip = process.getuid?.() === 0 ? false : 'needs root: sshd refuses to run otherwise';
  for (const fault of GIT_SSH_FAULTS.filter((f) => SHORT_GIT_SSH.includes(f.name))) {
    it(`keeps the last good state and syncs again after: ${fault.name}`, { skip: sshSkip }, async () => {
      await runGitSshFault(env(), fault);
    });
  }
});

const SHORT_REGISTRY = ['registry 429 with Retry-After: 2', 'registry redirect to another host'];

describe('faults (short form): image scans under registry faults', () => {
  let env: (RegistryFaultEnv & { stop(): Promise<void> }) | undefined;

  before(async () => {
    const cluster = await testCluster();
    await installCrds(cluster);
    env = await startRegistryFaultEnv(cluster);
  });

  after(async () => {
    await env?.stop();
  });

  REGISTRY_FAULTS.forEach((fault, index) => {
    if (!SHORT_REGISTRY.includes(fault.name)) return;
    it(`reports and recovers from ${fault.name}`, async () => {
      await runRegistryFault(env as RegistryFaultEnv, fault, index);
    });
  });
});

describe('faults (short form): known secrets in every output', () => {
  it('no log line, status, Event, metric or CLI output holds a known secret', async () => {
    const cluster = await testCluster();
    await installCrds(cluster);
    const result = await runSecretScan(cluster, { short: true });
    assert.deepEqual(result.hits, [], 'no output holds a known secret, whole or in part');
  });
});

const SHORT_BAD_INPUT = ['YAML alias bomb (9 levels of 9 aliases)'];

describe('faults (short form): bad input', { concurrency: 1 }, () => {
  let env: BadInputEnv | undefined;

  before(async () => {
    const cluster = await testCluster();
    await installCrds(cluster);
    const git = await startGitServers({ http: { allowAnonymousRead: true }, ssh: false });
    env = await startBadInputEnv({ cluster, admin: testClient(cluster), git });
  });

  after(async () => {
    await env?.stop();
  });

  BAD_INPUTS.forEach((input, index) => {
    if (!SHORT_BAD_INPUT.includes(input.name)) return;
    it(`reports, keeps the good state and serves the rest: ${input.name}`, async () => {
      await runBadInput(env as BadInputEnv, input, index);
    });
  });
});

const SHORT_BAD_POLICY = ['image policy: a regex with a backreference (not RE2)', 'image policy: a semver range beyond 64 bits'];

describe('faults (short form): bad image policies', { concurrency: 1 }, () => {
  let env: BadPolicyEnv | undefined;

  before(async () => {
    const cluster = await testCluster();
    await installCrds(cluster);
    env = await startBadPolicyEnv(cluster);
  });

  after(async () => {
    await env?.stop();
  });

  BAD_POLICIES.forEach((bad, index) => {
    if (!SHORT_BAD_POLICY.includes(bad.name)) return;
    it(`reports, keeps the last tag and serves the rest: ${bad.name}`, async () => {
      await runBadPolicy(env as BadPolicyEnv, bad, index);
    });
  });
});
