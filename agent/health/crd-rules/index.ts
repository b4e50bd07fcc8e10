import {
  analysisRunHealth,
  applicationHealth,
  applicationSetHealth,
  cronWorkflowHealth,
  experimentHealth,
  rolloutHealth,
  workflowHealth,
} from './argo.ts';
import { certificateHealth, certificateRequestHealth, issuerHealth } from './cert-manager.ts';
import {
  fluxHelmReleaseHealth,
  fluxHelmRepositoryHealth,
  fluxImagePolicyHealth,
  fluxImageRepositoryHealth,
  fluxReadyHealth,
  fluxSourceHealth,
} from './flux.ts';
import { clusterExternalSecretHealth, externalSecretsHealth, sealedSecretHealth } from './external-secrets.ts';
import { kedaHealth } from './keda.ts';
import type { HealthRule } from './rule.ts';

export type { HealthRule } from './rule.ts';

/**
 * Rules for custom resources whose projects do not follow kstatus closely enough for the generic
 * rule, keyed `group/Kind` like the built-in ones. Each family lives in its own file and names
 * the Argo CD rule it follows.
 */
export const CRD_RULES: Record<string, HealthRule> = {
  'argoproj.io/Workflow': workflowHealth,
  'argoproj.io/Application': applicationHealth,
  'argoproj.io/ApplicationSet': applicationSetHealth,
  'argoproj.io/Rollout': rolloutHealth,
  'argoproj.io/AnalysisRun': analysisRunHealth,
  'argoproj.io/Experiment': experimentHealth,
  'argoproj.io/CronWorkflow': cronWorkflowHealth,

  'cert-manager.io/Certificate': certificateHealth,
  'cert-manager.io/Issuer': issuerHealth,
  'cert-manager.io/ClusterIssuer': issuerHealth,
  'cert-manager.io/CertificateRequest': certificateRequestHealth,

  'source.toolkit.fluxcd.io/GitRepository': fluxSourceHealth,
  'source.toolkit.fluxcd.io/OCIRepository': fluxSourceHealth,
  'source.toolkit.fluxcd.io/Bucket': fluxSourceHealth,
  'source.toolkit.fluxcd.io/HelmChart': fluxSourceHealth,
  'source.toolkit.fluxcd.io/HelmRepository': fluxHelmRepositoryHealth,
  'helm.toolkit.fluxcd.io/HelmRelease': fluxHelmReleaseHealth,
  'kustomize.toolkit.fluxcd.io/Kustomization': fluxReadyHealth,
  'image.toolkit.fluxcd.io/ImagePolicy': fluxImagePolicyHealth,
  'image.toolkit.fluxcd.io/ImageRepository': fluxImageRepositoryHealth,
  'image.toolkit.fluxcd.io/ImageUpdateAutomation': fluxReadyHealth,
  'notification.toolkit.fluxcd.io/Receiver': fluxReadyHealth,

  'external-secrets.io/ExternalSecret': externalSecretsHealth,
  'external-secrets.io/SecretStore': externalSecretsHealth,
  'external-secrets.io/ClusterSecretStore': externalSecretsHealth,
  'external-secrets.io/PushSecret': externalSecretsHealth,
  'external-secrets.io/ClusterExternalSecret': clusterExternalSecretHealth,
  'bitnami.com/SealedSecret': sealedSecretHealth,

  'keda.sh/ScaledObject': kedaHealth,
  'keda.sh/ScaledJob': kedaHealth,
};
