import type { DerivedTarget, InlineDeriver } from '../controllers/index.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import { inlineToImageUpdateAutomation } from './inline.ts';

/**
 * The InlineController deriver for the automation the inline `imageRepository` block implies.
 * The block's own problems are reported by the image-objects deriver, so an invalid block still
 * yields the automation; it has nothing to do until a policy of that name chooses an image.
 */
export function automationDeriver(target: DerivedTarget): InlineDeriver {
  return {
    name: 'image-update-automation',
    targets: [target],
    derive(cd) {
      const automation = inlineToImageUpdateAutomation(cd);
      if (automation === undefined) return { kind: 'none' };
      return { kind: 'objects', objects: [automation as unknown as KubeObject] };
    },
  };
}
