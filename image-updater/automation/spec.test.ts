import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { ContinuousDeployment } from '../../shared/api/continuous-deployment.ts';
import { TidemarkError } from '../../shared/errors/index.ts';
import { DEFAULT_AUTHOR, resolveTarget, validateAutomationSpec, type AutomationConfig } from './spec.ts';

const cd = (spec: Partial<ContinuousDeployment['spec']>): ContinuousDeployment => ({
  apiVersion: 'tidemark.dev/v1alpha1',
  kind: 'ContinuousDeployment',
  metadata: { name: 'app', namespace: 'team' },
  spec: { url: 'https://git.example/app.git', ...spec },
});

async function valid(spec: unknown): Promise<AutomationConfig> {
  const result = await validateAutomationSpec(spec);
  assert.ok(result.ok, result.ok ? '' : result.errors.map((e) => e.message).join('\n'));
  return result.value;
}

async function errors(spec: unknown): Promise<string[]> {
  const result = await validateAutomationSpec(spec);
  assert.equal(result.ok, false);
  return result.ok ? [] : result.errors.map((e) => e.message);
}

describe('validateAutomationSpec', () => {
  it('defaults everything but the source', async () => {
    assert.deepEqual(await valid({ sourceRef: { name: 'app' } }), {
      sourceName: 'app',
      checkoutBranch: undefined,
      pushBranch: undefined,
      author: DEFAULT_AUTHOR,
      messageTemplate: undefined,
      messageTemplateValues: {},
      signingKeySecret: undefined,
      updatePath: undefined,
      intervalMs: 5 * 60_000,
      suspend: false,
    });
  });

  it('reads a full spec', async () => {
    const config = await valid({
      sourceRef: { kind: 'ContinuousDeployment', name: 'app' },
      git: {
        checkout: { ref: { branch: 'main' } },
        push: { branch: 'tidemark/updates' },
        commit: {
          author: { name: 'Release Bot', email: 'bot@example.com' },
          messageTemplate: 'Image: {{range .Updated.Images}}{{println .}}{{end}}',
          messageTemplateValues: { env: 'prod' },
          signingKey: { secretRef: { name: 'signing' } },
        },
      },
      update: { path: './clusters/prod', strategy: 'Setters' },
      interval: '1m30s',
      suspend: true,
    });
    assert.deepEqual(config, {
      sourceName: 'app',
      checkoutBranch: 'main',
      pushBranch: 'tidemark/updates',
      author: { name: 'Release Bot', email: 'bot@example.com' },
      messageTemplate: 'Image: {{range .Updated.Images}}{{println .}}{{end}}',
      messageTemplateValues: { env: 'prod' },
      signingKeySecret: 'signing',
      updatePath: './clusters/prod',
      intervalMs: 90_000,
      suspend: true,
    });
  });

  it('reports every problem at once, naming the field', async () => {
    const messages = await errors({
      sourceRef: { kind: 'GitRepository', name: 'App' },
      git: {
        checkout: { ref: { branch: '-x' } },
        push: { branch: 'a..b' },
        commit: { author: { email: 'a <b>' }, messageTemplateValues: { n: 1 } },
      },
      update: { strategy: 'Regex' },
      interval: 'soon',
      extra: true,
    });
    const expected = [
      /spec\.sourceRef\.kind: "GitRepository" is not supported/,
      /spec\.sourceRef\.name: "App" is not a valid name/,
      /spec\.git\.checkout\.ref\.branch: "-x" is not a valid branch name: starts with "-"/,
      /spec\.git\.push\.branch: "a\.\.b" is not a valid branch name/,
      /spec\.git\.commit\.author\.email: must not be empty or contain </,
      /spec\.git\.commit\.messageTemplateValues\.n: must be a string/,
      /spec\.update\.strategy: "Regex" is not supported/,
      /spec\.interval: /,
      /spec\.extra: unknown field/,
    ];
    for (const pattern of expected)
      assert.ok(
        messages.some((m) => pattern.test(m)),
        `${pattern} in ${JSON.stringify(messages, null, 1)}`,
      );
    assert.equal(messages.length, expected.length, JSON.stringify(messages, null, 1));
  });

  it('requires the source and a parsable template', async () => {
    assert.match((await errors({}))[0] ?? '', /spec\.sourceRef: is required/);
    const result = await validateAutomationSpec({
      sourceRef: { name: 'app' },
      git: { commit: { messageTemplate: 'Image: {{range .Updated.Images}}' } },
    });
    assert.equal(result.ok, false);
    const error = result.ok ? undefined : result.errors[0];
    assert.equal(error?.code, 'InvalidCommitTemplate');
    assert.match(error?.message ?? '', /^spec\.git\.commit\.messageTemplate: /);
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

  it('reports an invalid source as SourceInvalid', () => {
    assert.throws(
      () => resolveTarget(config(), cd({ url: '' })),
      (err: unknown) => err instanceof TidemarkError && err.code === 'SourceInvalid',
    );
  });
});
