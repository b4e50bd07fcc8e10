import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { ContinuousDeployment } from '../../shared/api/continuous-deployment.ts';
import { TidemarkError } from '../../shared/errors/index.ts';
import { templateEngine } from '../../test/harness/template-engine.ts';
import { DEFAULT_AUTHOR, resolveTarget, validateAutomationSpec, type AutomationConfig } from './spec.ts';

const cd = (spec: Partial<ContinuousDeployment['spec']>): ContinuousDeployment => ({
  apiVersion: 'tidemark.dev/v1alpha1',
  kind: 'ContinuousDeployment',
  metadata: { name: 'app', namespace: 'team' },
  spec: { url: 'https://git.example/app.git', ...spec },
});

const { skip } = templateEngine();

async function valid(spec: unknown): Promise<AutomationConfig> {
  const result = await validateAutomationSpec(spec);
  assert.ok(result.ok, result.ok ? '' : result.errors.map((e) => e.message).join('\n'));
  return result.value;
}

describe('validateAutomationSpec (with the commit template check)', () => {
  it('reports a template that does not compile with the other problems, naming the field', { skip }, async () => {
    const result = await validateAutomationSpec({
      sourceRef: { name: 'app' },
      git: { commit: { messageTemplate: 'Image: {{range .Updated.Images}}' } },
      interval: 'soon',
    });
    assert.equal(result.ok, false);
    const errors = result.ok ? [] : result.errors;
    assert.deepEqual(
      errors.map((e) => e.code),
      ['InvalidDuration', 'InvalidCommitTemplate'],
    );
    assert.match(errors[1]?.message ?? '', /^spec\.git\.commit\.messageTemplate: /);
  });

  it('reads a spec whose template compiles', { skip }, async () => {
    const config = await valid({
      sourceRef: { name: 'app' },
      git: { commit: { messageTemplate: 'Image: {{range .Updated.Images}}{{println .}}{{end}}' } },
    });
    assert.equal(config.messageTemplate, 'Image: {{range .Updated.Images}}{{println .}}{{end}}');
    assert.deepEqual(config.author, DEFAULT_AUTHOR);
  });
});

describe('resolveTarget', () => {
  let base: AutomationConfig;
  before(async () => {
    base = await valid({ sourceRef: { name: 'app' } });
  });
  const config = (overrides: Partial<AutomationConfig> = {}): AutomationConfig => ({ ...base, ...overrides });

  it('takes the repository, Secret, branch and path from the source', () => {
    assert.deepEqual(resolveTarget(config(), cd({ secretRef: 'git-creds', git: { branch: 'image' }, path: './application' })), {
      url: 'https://git.example/app.git',
      secretRef: 'git-creds',
      insecure: false,
      checkoutBranch: 'image',
      pushBranch: 'image',
      updatePath: './application',
      pushesSourceBranch: true,
    });
  });

  it("uses the agent's defaults: branch main, the repository root", () => {
    const target = resolveTarget(config(), cd({}));
    assert.equal(target.checkoutBranch, 'main');
    assert.equal(target.updatePath, './');
  });

  it('lets the automation choose its branches and path; a separate push branch is not the deployed one', () => {
    const target = resolveTarget(
      config({ checkoutBranch: 'main', pushBranch: 'bot', updatePath: 'apps' }),
      cd({ git: { branch: 'main' }, path: 'deploy' }),
    );
    assert.deepEqual(
      [target.checkoutBranch, target.pushBranch, target.updatePath, target.pushesSourceBranch],
      ['main', 'bot', 'apps', false],
    );
  });

  it('needs a branch when the source follows a tag, semver range or commit', () => {
    for (const git of [{ tag: 'v1' }, { semver: '>=1.0.0' }, { commit: 'a'.repeat(40) }]) {
      assert.throws(
        () => resolveTarget(config(), cd({ git })),
        (err: unknown) => err instanceof TidemarkError && err.code === 'SourceBranchUnknown' && err.kind === 'terminal',
      );
      assert.equal(resolveTarget(config({ checkoutBranch: 'main' }), cd({ git })).pushesSourceBranch, false);
    }
  });

  it('refuses an OCI source: there is no Git repository to write to', () => {
    assert.throws(
      () => resolveTarget(config({ checkoutBranch: 'main' }), cd({ repoType: 'oci', url: 'oci://ghcr.io/org/manifests' })),
      (err: unknown) => err instanceof TidemarkError && err.code === 'SourceInvalid' && /reads an OCI artifact/.test(err.message),
    );
  });

  it('reports an invalid source as SourceInvalid, with every problem', () => {
    assert.throws(
      () => resolveTarget(config(), cd({ url: '', git: { commit: 'abc1234' } })),
      (err: unknown) =>
        err instanceof TidemarkError &&
        err.code === 'SourceInvalid' &&
        err.message ===
          'the source ContinuousDeployment app is invalid: 2 problems: ' +
            'spec.url: must not be empty (set spec.url to the Git repository, e.g. https://git.example.com/org/config.git); ' +
            'spec.git.commit: "abc1234" is an abbreviated commit SHA; the full SHA is needed to fetch it ' +
            '(give the full commit SHA: 40 hex digits (SHA-1) or 64 (SHA-256), as `git rev-parse <ref>` prints it)',
    );
  });
});
