// The face of the test harness: real servers on loopback for integration tests.
export { freePort, freePorts, isPortFree, LOOPBACK } from './ports.ts';
export { ManagedProcess, startProcess, waitFor, onShutdown, liveProcesses } from './process.ts';
export type { ExitInfo, StartProcessOptions, WaitOptions, ShutdownHook } from './process.ts';
export {
  startControlPlane,
  ensureControlPlaneBinaries,
  controlPlaneBinaries,
  createClusterAccess,
  kubeconfigYaml,
  cacheDir,
  SPARE_USERS,
  ADMIN_USER,
  KUBERNETES_VERSION,
} from './control-plane.ts';
export type {
  ControlPlane,
  ControlPlaneOptions,
  ClusterAccess,
  ClusterInfo,
  UserSpec,
  StartupTimings,
  ControlPlaneBinaries,
} from './control-plane.ts';
export { testCluster, readClusterInfo, parseClusterInfo, writeClusterInfo, CLUSTER_INFO_ENV, KUBECONFIG_ENV } from './cluster.ts';
export { kubectlTools } from './tools.ts';
export type { KubectlTools } from './tools.ts';
export { startNode, ensureNodeBinaries, nodeBinaries, nodeUnavailableReason, NODE_BUILD_RECIPE } from './node.ts';
export type { TestNode, StartNodeOptions, NodeBinaries, NodeStartupTimings } from './node.ts';
export { pushAppImage, buildAppImage, buildPauseImage, APP_REPO, APP_TAG, APP_PORT, PAUSE_REPO, PAUSE_TAG } from './node-images.ts';
export { startNodeAccess, NODE_INFO_ENV, NODE_OPT_IN } from './cluster.ts';
export type { NodeAccess, NodeInfo } from './cluster.ts';
