/**
 * Spec readers, one per kind, shared by the agent and the image updater. Each checks every field
 * the CRD declares (and reports the ones it does not), applies the defaults, and returns either
 * the configuration or every problem at once, each naming its field path:
 * `spec.git.branch: must not start with "-"`. `combineErrors` makes them one condition message.
 */
export { combineErrors } from '../errors/combine.ts';
export { Problems, SPEC_PATHS, type FieldPaths, type Validated } from './problems.ts';
export {
  validateContinuousDeploymentSpec,
  CONTINUOUS_DEPLOYMENT_FIELDS,
  DEPLOYMENT_DEFAULTS,
  OCI_REF_FIELDS,
  REPO_TYPES,
  PROPAGATION_POLICIES,
  type DeploymentConfig,
  type RefKind,
  type RepoType,
  type OciRef,
} from './continuous-deployment.ts';
export {
  readHealthCheckExprs,
  readHealthChecks,
  HEALTH_CHECK_EXPR_FIELDS,
  HEALTH_CHECK_FIELDS,
  MAX_HEALTH_CHECK_EXPRS,
  MAX_HEALTH_CHECK_EXPR_CHARS,
  MAX_HEALTH_CHECKS,
  type HealthCheckExpr,
  type HealthCheckRef,
} from './health-checks.ts';
export {
  readDependsOn,
  crossNamespaceDependencies,
  deploymentDependencyKey,
  DEPENDS_ON_FIELDS,
  MAX_DEPENDS_ON,
  type Dependency,
} from './depends-on.ts';
export {
  readIgnore,
  parsePointer,
  IGNORE_FIELDS,
  IGNORE_TARGET_FIELDS,
  MAX_IGNORE_RULES,
  MAX_IGNORE_PATHS,
  type IgnoreRule,
  type IgnoreTarget,
} from './ignore.ts';
export {
  readPostBuild,
  readDecryption,
  POST_BUILD_FIELDS,
  SUBSTITUTE_FROM_FIELDS,
  DECRYPTION_FIELDS,
  MAX_SUBSTITUTE_FROM,
  MAX_SUBSTITUTE_VARIABLES,
  VARIABLE_NAME_PATTERN,
  type PostBuild,
  type SubstituteSource,
  type Decryption,
} from './post-build.ts';
export { readHelm, HELM_FIELDS, MAX_API_VERSIONS, MAX_INLINE_VALUES_BYTES, MAX_VALUES_FILES, type HelmSpec } from './helm.ts';
export { MAX_INTERVAL_MS, MAX_SCAN_TIMEOUT_MS, MAX_TIMEOUT_MS } from './limits.ts';
export { readSyncWindows, validateSyncWindows, MAX_WINDOW_DURATION_MS, MAX_WINDOWS, type CompiledWindow } from './sync-windows.ts';
export { plainCompilers, type CompiledForms, type ImageCompilers, type PlainForms } from './compile.ts';
export { validateImageRepositorySpec, IMAGE_REPOSITORY_FIELDS, type ImageRepositoryConfig } from './image-repository.ts';
export { validateImagePolicySpec, IMAGE_POLICY_FIELDS, type ImagePolicyConfig } from './image-policy.ts';
export { inlineToImageObjects, INLINE_IMAGE_FIELDS, type DerivedImageObjects } from './inline-image-automation.ts';
export {
  validateImageUpdateAutomationSpec,
  IMAGE_UPDATE_AUTOMATION_FIELDS,
  DEFAULT_AUTHOR,
  DEFAULT_AUTOMATION_INTERVAL,
  MESSAGE_TEMPLATE_PATH,
  messageTemplateOf,
  type AutomationConfig,
} from './image-update-automation.ts';
export {
  validateReceiverSpec,
  RECEIVER_FIELDS,
  RECEIVER_RESOURCE_FIELDS,
  MAX_RECEIVER_EVENTS,
  MAX_RECEIVER_RESOURCES,
  type ReceiverConfig,
  type ReceiverTarget,
} from './receiver.ts';
export {
  imageProblem,
  commitProblem,
  namespaceProblem,
  objectNameProblem,
  IMAGE_REPOSITORY_PATTERN,
  COMMIT_SHA_PATTERN,
  COMMIT_SHA_HINT,
} from './names.ts';
