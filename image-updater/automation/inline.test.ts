import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import type { ContinuousDeployment } from '../../shared/api/continuous-deployment.ts';
import type { DerivedTarget } from '../controllers/index.ts';
import { automationDeriver } from './deriver.ts';
import { inlineToImageUpdateAutomation } from './inline.ts';
import { resolveTarget, validateAutomationSpec } from './spec.ts';

const SEED = new URL('./fixtures/seed-continuous-deployment.yaml', import.meta.url);

async function seed(): Promise<ContinuousDeployment> {
  return parse(await readFile(SEED, 'utf8')) as ContinuousDeployment;
}

describe('inlineToImageUpdateAutomation', () => {
  it("turns the seed's inline block into one automation over the deployment's own repository, branch and path", async () => {
    const cd = await seed();
    const automation = inlineToImageUpdateAutomation(cd);
    assert.ok(automation);
    assert.equal(automation.metadata.name, cd.metadata.name);
    assert.equal(automation.metadata.namespace, cd.metadata.namespace ?? 'default');
    assert.deepEqual(automation.spec.sourceRef, { kind: 'ContinuousDeployment', name: cd.metadata.name });
    assert.equal(automation.spec.git?.commit?.messageTemplate, cd.spec.imageRepository?.commitMessage);
    assert.equal(automation.spec.git?.checkout, undefined, "follows the deployment's branch");
    assert.equal(automation.spec.update?.path, undefined, "follows the deployment's path");

    const config = await validateAutomationSpec(automation.spec);
    assert.ok(config.ok, config.ok ? '' : config.errors.map((e) => e.message).join('; '));
    const target = resolveTarget(config.value, cd);
    assert.equal(target.url, cd.spec.url);
    assert.equal(target.checkoutBranch, cd.spec.git?.branch);
    assert.equal(target.pushBranch, cd.spec.git?.branch);
    assert.equal(target.updatePath, cd.spec.path);
    assert.equal(target.secretRef, cd.spec.secretRef);
    assert.equal(target.pushesSourceBranch, true);
    assert.equal(config.value.author.name, 'tidemark-bot');
  });

  it('uses the pull interval, and the default message without commitMessage', async () => {
    const cd = await seed();
    cd.spec.pullInterval = '2m';
    delete cd.spec.imageRepository?.commitMessage;
    const automation = inlineToImageUpdateAutomation(cd);
    assert.equal(automation?.spec.interval, '2m');
    assert.equal(automation?.spec.git?.commit?.messageTemplate, undefined);
  });

  it("keeps pullInterval's default when the deployment leaves it unset, and ignores the block's scan interval", async () => {
    const cd = await seed();
    delete cd.spec.pullInterval;
    assert.equal(inlineToImageUpdateAutomation(cd)?.spec.interval, '5m');
    cd.spec.pullInterval = '1m';
    (cd.spec.imageRepository as Record<string, unknown>).interval = '10s';
    assert.equal(inlineToImageUpdateAutomation(cd)?.spec.interval, '1m', 'the block interval is the registry scan, not the automation');
  });

  it('derives nothing without a block', async () => {
    const cd = await seed();
    delete cd.spec.imageRepository;
    assert.equal(inlineToImageUpdateAutomation(cd), undefined);
    const target: DerivedTarget = {
      apiVersion: 'tidemark.dev/v1alpha1',
      kind: 'ImageUpdateAutomation',
      plural: 'imageupdateautomations',
      lookup: () => undefined,
      ready: () => true,
    };
    assert.deepEqual(automationDeriver(target).derive(cd as never), { kind: 'none' });
  });

  it('is a deriver whose objects are of its target kind', async () => {
    const target: DerivedTarget = {
      apiVersion: 'tidemark.dev/v1alpha1',
      kind: 'ImageUpdateAutomation',
      plural: 'imageupdateautomations',
      lookup: () => undefined,
      ready: () => true,
    };
    const derivation = automationDeriver(target).derive((await seed()) as never);
    assert.equal(derivation.kind, 'objects');
    const objects = derivation.kind === 'objects' ? derivation.objects : [];
    assert.deepEqual(
      objects.map((o) => [o.apiVersion, o.kind]),
      [['tidemark.dev/v1alpha1', 'ImageUpdateAutomation']],
    );
  });
});
