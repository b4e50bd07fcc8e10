/**
 * The data both sides of the sync benchmarks apply: N objects as plain YAML files, the way a
 * Git repository of an application platform looks. One CustomResourceDefinition, then "apps" of
 * five objects each (two ConfigMaps, a Deployment, a Service, a custom resource), topped up with
 * ConfigMaps so the total is exactly N.
 *
 * Services are headless (`clusterIP: None`): the harness API server has a /24 service range, too
 * small for thousands of ClusterIPs. Ports carry `protocol: TCP` because the 1.20 API server
 * refuses server-side applied ports without it.
 */

export const CRD_GROUP = 'bench.tidemark.dev';
export const CRD_NAME = `widgets.${CRD_GROUP}`;
export const WIDGET_API_VERSION = `${CRD_GROUP}/v1`;

export type Files = Record<string, string>;

export interface ObjectCounts {
  total: number;
  files: number;
  crds: number;
  configMaps: number;
  deployments: number;
  services: number;
  widgets: number;
}

export function crdManifest(): string {
  return `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: ${CRD_NAME}
spec:
  group: ${CRD_GROUP}
  scope: Namespaced
  names:
    plural: widgets
    singular: widget
    kind: Widget
    listKind: WidgetList
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size:
                  type: integer
                color:
                  type: string
                tags:
                  type: array
                  items:
                    type: string
`;
}

const pad = (i: number): string => String(i).padStart(4, '0');

export function configMapManifest(name: string, seed: number): string {
  return `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}
  labels:
    app.kubernetes.io/part-of: bench
data:
  LOG_LEVEL: info
  FEATURE_FLAGS: "alpha,beta"
  REVISION: "${seed}"
  settings.json: |
    {"replicas": ${seed % 7}, "region": "eu-${seed % 3}", "cache": {"ttl": ${60 + (seed % 120)}}}
`;
}

export function deploymentManifest(app: string, seed: number): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${app}
  labels:
    app.kubernetes.io/name: ${app}
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: ${app}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: ${app}
    spec:
      containers:
        - name: main
          image: registry.example.test/team/${app}:1.${seed % 10}.0
          ports:
            - containerPort: 8080
              protocol: TCP
          env:
            - name: APP_NAME
              value: ${app}
          envFrom:
            - configMapRef:
                name: ${app}-config
          resources:
            requests:
              cpu: 10m
              memory: 32Mi
`;
}

export function serviceManifest(app: string): string {
  return `apiVersion: v1
kind: Service
metadata:
  name: ${app}
spec:
  clusterIP: None
  selector:
    app.kubernetes.io/name: ${app}
  ports:
    - name: http
      port: 80
      targetPort: 8080
      protocol: TCP
`;
}

export function widgetManifest(app: string, seed: number): string {
  return `apiVersion: ${WIDGET_API_VERSION}
kind: Widget
metadata:
  name: ${app}
spec:
  size: ${seed % 50}
  color: ${['red', 'green', 'blue'][seed % 3]}
  tags: [bench, ${app}]
`;
}

/**
 * Exactly `total` objects under `root` (a path prefix inside the repository, e.g. `deploy`).
 * Deterministic: the same arguments always give the same files.
 */
export function generateManifests(
  total: number,
  root = 'deploy',
  options: { withCrd?: boolean } = {},
): { files: Files; counts: ObjectCounts } {
  if (!Number.isInteger(total) || total < 1) throw new RangeError(`total must be a positive integer, got ${total}`);
  const withCrd = options.withCrd ?? true;
  const files: Files = {};
  const counts: ObjectCounts = { total, files: 0, crds: 0, configMaps: 0, deployments: 0, services: 0, widgets: 0 };
  let left = total;
  if (withCrd) {
    files[`${root}/crds/widgets.yaml`] = crdManifest();
    counts.crds = 1;
    left--;
  }
  const apps = Math.floor(left / 5);
  for (let i = 0; i < apps; i++) {
    const app = `app-${pad(i)}`;
    const dir = `${root}/apps/${app}`;
    // Two ConfigMaps in one multi-document file, as repositories often have.
    files[`${dir}/config.yaml`] = `${configMapManifest(`${app}-config`, i)}---\n${configMapManifest(`${app}-env`, i + 1)}`;
    files[`${dir}/deployment.yaml`] = deploymentManifest(app, i);
    files[`${dir}/service.yaml`] = serviceManifest(app);
    files[`${dir}/widget.yaml`] = widgetManifest(app, i);
  }
  counts.configMaps += 2 * apps;
  counts.deployments = apps;
  counts.services = apps;
  counts.widgets = apps;
  left -= 5 * apps;
  for (let i = 0; i < left; i++) {
    files[`${root}/extra/extra-${pad(i)}.yaml`] = configMapManifest(`extra-${pad(i)}`, i);
    counts.configMaps++;
  }
  counts.files = Object.keys(files).length;
  return { files, counts };
}

/** Splits `total` objects into `parts` near-equal shares, e.g. 1,000 over 20 deployments. */
export function shares(total: number, parts: number): number[] {
  const base = Math.floor(total / parts);
  const extra = total % parts;
  return Array.from({ length: parts }, (_, i) => base + (i < extra ? 1 : 0));
}
