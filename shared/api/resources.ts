import type { ResourceMapping } from '../kube/discovery.ts';
import { GROUP, Kinds, VERSION } from './constants.ts';

/** REST mappings of Tidemark's own kinds and of the built-in kinds controllers watch, known without discovery. */
export const Resources = {
  ContinuousDeployment: tidemark(Kinds.ContinuousDeployment),
  ImageRepository: tidemark(Kinds.ImageRepository),
  ImagePolicy: tidemark(Kinds.ImagePolicy),
  ImageUpdateAutomation: tidemark(Kinds.ImageUpdateAutomation),
  Provider: tidemark(Kinds.Provider),
  Alert: tidemark(Kinds.Alert),
  Event: { group: '', version: 'v1', kind: 'Event', plural: 'events', namespaced: true },
  Receiver: tidemark(Kinds.Receiver),
  Secret: { group: '', version: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true },
  ConfigMap: { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true },
  Namespace: { group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false },
  Deployment: { group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', namespaced: true },
} as const satisfies Record<string, ResourceMapping>;

function tidemark(kind: { kind: string; plural: string }): ResourceMapping {
  return { group: GROUP, version: VERSION, kind: kind.kind, plural: kind.plural, namespaced: true };
}
