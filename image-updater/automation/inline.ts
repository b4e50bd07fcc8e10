import { Annotations, API_VERSION, Kinds } from '../../shared/api/constants.ts';
import type { ContinuousDeployment } from '../../shared/api/continuous-deployment.ts';
import { isObject } from '../../shared/kube/object.ts';
import { DEPLOYMENT_DEFAULTS } from '../../shared/spec/index.ts';
import { DEFAULT_AUTHOR } from './spec.ts';
import type { ImageUpdateAutomation, ImageUpdateAutomationSpec } from './types.ts';

/**
 * The ImageUpdateAutomation the seed's inline `imageRepository` block implies (KubeVela's addon
 * always creates one): named after the ContinuousDeployment, over its own repository, branch and
 * path — those stay unset, so they follow the deployment when it changes — with the block's
 * `commitMessage` as the template (the default listing without one) and the deployment's pull
 * interval (its default when unset). `undefined` without a block.
 * The block itself is validated by the ImageRepository/ImagePolicy deriver; this only reads it.
 */
export function inlineToImageUpdateAutomation(cd: ContinuousDeployment): ImageUpdateAutomation | undefined {
  const block: unknown = cd.spec?.imageRepository;
  if (!isObject(block)) return undefined;
  const name = cd.metadata.name;
  const namespace = cd.metadata.namespace ?? 'default';
  const commit: NonNullable<NonNullable<ImageUpdateAutomationSpec['git']>['commit']> = {
    author: { ...DEFAULT_AUTHOR },
  };
  if (typeof block.commitMessage === 'string' && block.commitMessage.trim() !== '') commit.messageTemplate = block.commitMessage;
  const spec: ImageUpdateAutomationSpec = {
    sourceRef: { kind: 'ContinuousDeployment', name },
    git: { commit },
    update: { strategy: 'Setters' },
  };
  // Every interval follows pullInterval, as in KubeVela's component: this one, the derived
  // ImageRepository's scan (unless the block sets its own) and the source's, which is the
  // deployment itself.
  spec.interval =
    typeof cd.spec.pullInterval === 'string' && cd.spec.pullInterval !== '' ? cd.spec.pullInterval : DEPLOYMENT_DEFAULTS.pullInterval;
  return {
    apiVersion: API_VERSION,
    kind: Kinds.ImageUpdateAutomation.kind,
    metadata: { name, namespace, annotations: { [Annotations.owner]: `${namespace}/${name}` } },
    spec,
  };
}
