import type { KubeObject } from '../../../shared/kube/object.ts';
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
  capiClusterHealth,
  capiClusterResourceSetHealth,
  capiMachineDeploymentHealth,
  capiMachineHealth,
  capiMachineHealthCheckHealth,
  capiMachinePoolHealth,
} from './cluster-api.ts';
import {
  crossplaneCompositeHealth,
  crossplaneHealth,
  crossplaneProviderHealth,
  isCrossplaneComposite,
  upboundHealth,
} from './crossplane.ts';
import { clusterExternalSecretHealth, externalSecretsHealth, sealedSecretHealth } from './external-secrets.ts';
import {
  fluxHelmReleaseHealth,
  fluxHelmRepositoryHealth,
  fluxImagePolicyHealth,
  fluxImageRepositoryHealth,
  fluxReadyHealth,
  fluxSourceHealth,
} from './flux.ts';
import { istioOperatorHealth } from './istio.ts';
import { kedaHealth } from './keda.ts';
import { knativeOperatorHealth, knativeServiceHealth } from './knative.ts';
import { kyvernoPolicyHealth } from './kyverno.ts';
import { NO_STATUS_KINDS, noStatusByDesignHealth } from './no-status.ts';
import { prometheusOperatorHealth } from './prometheus.ts';
import type { HealthRule } from './rule.ts';
import { strimziHealth } from './strimzi.ts';
import { tektonRunHealth } from './tekton.ts';
import { veleroLocationHealth, veleroRunHealth, veleroScheduleHealth } from './velero.ts';

export type { HealthRule } from './rule.ts';

/**
 * Rules for custom resources whose projects do not follow kstatus closely enough for the generic
 * rule, keyed `group/Kind` like the built-in ones. Each family lives in its own file and names
 * the Argo CD rule it follows.
 */
const CRD_RULES: Record<string, HealthRule> = {
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

  'pkg.crossplane.io/Provider': crossplaneProviderHealth,

  'monitoring.coreos.com/Prometheus': prometheusOperatorHealth,
  'monitoring.coreos.com/PrometheusAgent': prometheusOperatorHealth,
  'monitoring.coreos.com/Alertmanager': prometheusOperatorHealth,
  'monitoring.coreos.com/ThanosRuler': prometheusOperatorHealth,

  'kafka.strimzi.io/Kafka': strimziHealth,
  'kafka.strimzi.io/KafkaBridge': strimziHealth,
  'kafka.strimzi.io/KafkaConnect': strimziHealth,
  'kafka.strimzi.io/KafkaConnector': strimziHealth,
  'kafka.strimzi.io/KafkaTopic': strimziHealth,
  'kafka.strimzi.io/KafkaUser': strimziHealth,

  'serving.knative.dev/Service': knativeServiceHealth,
  'operator.knative.dev/KnativeServing': knativeOperatorHealth,
  'operator.knative.dev/KnativeEventing': knativeOperatorHealth,

  'install.istio.io/IstioOperator': istioOperatorHealth,

  'cluster.x-k8s.io/Cluster': capiClusterHealth,
  'cluster.x-k8s.io/Machine': capiMachineHealth,
  'cluster.x-k8s.io/MachineDeployment': capiMachineDeploymentHealth,
  'cluster.x-k8s.io/MachineHealthCheck': capiMachineHealthCheckHealth,
  'cluster.x-k8s.io/MachinePool': capiMachinePoolHealth,
  'addons.cluster.x-k8s.io/ClusterResourceSet': capiClusterResourceSetHealth,

  'kyverno.io/Policy': kyvernoPolicyHealth,
  'kyverno.io/ClusterPolicy': kyvernoPolicyHealth,

  'velero.io/Backup': veleroRunHealth,
  'velero.io/Restore': veleroRunHealth,
  'velero.io/Schedule': veleroScheduleHealth,
  'velero.io/BackupStorageLocation': veleroLocationHealth,
  'velero.io/VolumeSnapshotLocation': veleroLocationHealth,

  'tekton.dev/PipelineRun': tektonRunHealth,
  'tekton.dev/TaskRun': tektonRunHealth,
  'tekton.dev/CustomRun': tektonRunHealth,

  ...Object.fromEntries(NO_STATUS_KINDS.map((key) => [key, noStatusByDesignHealth])),
};

/** Families whose every group and kind share one rule (Argo CD's `_.crossplane.io/_` folders). */
const GROUP_SUFFIX_RULES: [suffix: string, rule: HealthRule][] = [
  ['.crossplane.io', crossplaneHealth],
  ['.upbound.io', upboundHealth],
];

/** Kinds in groups of the user's choosing, recognised by the shape their controller gives them. */
const SHAPE_RULES: [test: (obj: KubeObject) => boolean, rule: HealthRule][] = [[isCrossplaneComposite, crossplaneCompositeHealth]];

/** The rule for a custom resource of `group`: by group and kind, then by group family, then by shape. */
export function crdRuleFor(obj: KubeObject, group: string): HealthRule | undefined {
  return (
    CRD_RULES[`${group}/${obj.kind}`] ??
    GROUP_SUFFIX_RULES.find(([suffix]) => group.endsWith(suffix))?.[1] ??
    SHAPE_RULES.find(([test]) => test(obj))?.[1]
  );
}
