import type { ContinuousDeployment } from '../../shared/api/continuous-deployment.ts';
import type { ImagePolicy, ImageRepository } from '../../shared/api/image.ts';
import type { KubeObject } from '../../shared/kube/object.ts';

export type RepositoryObject = ImageRepository & KubeObject;
export type PolicyObject = ImagePolicy & KubeObject;
export type DeploymentObject = ContinuousDeployment & KubeObject;
