import type { KubeObject } from '../../shared/kube/object.ts';

/** An object and where it came from, so errors can name the file. */
export interface RenderedObject {
  object: KubeObject;
  source: { file: string; document: number };
}
