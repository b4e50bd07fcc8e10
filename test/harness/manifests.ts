/** Manifest text for tests, written as a person would write it in Git. */

export function configMapYaml(
  name: string,
  data: Record<string, string>,
  options: { namespace?: string | undefined; extra?: string | undefined } = {},
): string {
  const ns = options.namespace ? `  namespace: ${options.namespace}\n` : '';
  const body = Object.entries(data)
    .map(([k, v]) => `  ${k}: "${v}"`)
    .join('\n');
  return `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${ns}data:\n${body}\n${options.extra ?? ''}`;
}

/**
 * `offNode`: its Pods match no node (a nodeSelector no node has), so a test that plays the kubelet
 * through the status subresource is never overruled by the harness's real node, which would pull
 * the image and report its own status.
 */
export function deploymentYaml(name: string, image = 'nginx:1.25', options: { offNode?: boolean } = {}): string {
  const offNode = options.offNode ? '      nodeSelector: {tidemark.dev/test-node: none}\n' : '';
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: 1
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
${offNode}      containers:
        - name: main
          image: ${image}
`;
}
