import type { Condition } from '../../shared/conditions/index.ts';
import type { ObjectMeta } from '../../shared/api/continuous-deployment.ts';
import type { ImageRef } from '../../shared/api/image.ts';

/** `ImageUpdateAutomation.spec` (tidemark.dev/v1alpha1), as the CRD declares it. */
export interface ImageUpdateAutomationSpec {
  /** The ContinuousDeployment (same namespace) whose repository, credentials, branch and path are used. */
  sourceRef: { kind?: 'ContinuousDeployment'; name: string };
  git?: {
    checkout?: { ref?: { branch?: string } };
    /** A branch other than the checkout branch is owned by the bot: rebuilt from the base each run. */
    push?: { branch?: string };
    commit?: {
      author?: { name?: string; email?: string };
      messageTemplate?: string;
      messageTemplateValues?: Record<string, string>;
      signingKey?: { secretRef: { name: string } };
    };
  };
  update?: { path?: string; strategy?: 'Setters' };
  interval?: string;
  suspend?: boolean;
}

export interface ImageUpdateAutomationStatus {
  lastAutomationRunTime?: string;
  lastPushCommit?: string;
  lastPushTime?: string;
  /** The reference each visible policy (`<namespace>/<name>`) pointed at in the last run. */
  observedPolicies?: Record<string, ImageRef>;
  observedGeneration?: number;
  lastHandledRequestedAt?: string;
  conditions?: Condition[];
}

export interface ImageUpdateAutomation {
  apiVersion: string;
  kind: 'ImageUpdateAutomation';
  metadata: ObjectMeta;
  spec: ImageUpdateAutomationSpec;
  status?: ImageUpdateAutomationStatus;
}
