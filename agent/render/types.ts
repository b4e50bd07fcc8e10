import type { KubeObject } from '../../shared/kube/object.ts';

/** Where an object came from, kept beside it (not in it) so errors can name the file. */
export interface ObjectSource {
  /** Path relative to the checkout root, `/`-separated; for kustomize output, the built directory. */
  file: string;
  /** 1-based document index in the file (or in the kustomize output). */
  document: number;
  /** 1-based position inside a `kind: List` document, when the object came from one. */
  item?: number;
}

export interface RenderedObject {
  object: KubeObject;
  source: ObjectSource;
}
