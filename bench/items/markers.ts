/**
 * Item 6: one update run of the image automation (`runUpdate`: walk, screen, parse, rewrite in
 * place, write back, render the commit message) over 2,000 YAML files with 10 markers each, where
 * every marker gets a new value — against reading every one of those files once, the floor any
 * tool that looks at every file must pay. Both walk the same directory in the same process.
 */
import { readdir, readFile } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { runUpdate } from '../../image-updater/index.ts';
import type { PolicyView } from '../../image-updater/index.ts';
import type { BenchEnv } from '../lib/env.ts';
import { writeFiles } from '../lib/env.ts';
import type { Files } from '../lib/manifests.ts';

const NAMESPACE = 'apps';
const SEED_TEMPLATE = 'Image: {{range .Updated.Images}}{{println .}}{{end}}';

/** A Deployment with `markers` containers, each image marked for its own policy. */
export function markedFile(i: number, markers: number): string {
  const containers = Array.from(
    { length: markers },
    (_, k) => `        - name: svc-${k}
          image: registry.example.test/team/svc-${k}:1.0.0 # {"$imagepolicy": "${NAMESPACE}:svc-${k}"}
          ports:
            - containerPort: ${8000 + k}
              protocol: TCP
          env:
            - name: SERVICE_INDEX
              value: "${k}"
          resources:
            requests: {cpu: 10m, memory: 16Mi}
`,
  ).join('');
  return `# Service ${i}: ten sidecars, each image tracked by an ImagePolicy
apiVersion: apps/v1
kind: Deployment
metadata:
  name: service-${i}
  labels:
    app.kubernetes.io/name: service-${i}
spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/name: service-${i}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: service-${i}
    spec:
      containers:
${containers}`;
}

export interface MarkersResult {
  files: number;
  markersPerFile: number;
  bytes: number;
  oursMs: number[];
  peerMs: number[];
  changesPerRun: number;
  filesWrittenPerRun: number;
  messageBytes: number;
}

function policies(tag: string, markers: number): Map<string, PolicyView> {
  return new Map(
    Array.from({ length: markers }, (_, k) => [`svc-${k}`, { latestRef: { name: `registry.example.test/team/svc-${k}`, tag } }]),
  );
}

async function readEveryFile(dir: string): Promise<number> {
  let bytes = 0;
  const visit = async (path: string): Promise<void> => {
    for (const entry of (await readdir(path, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) await visit(full);
      else if (entry.isFile()) bytes += (await readFile(full, 'utf8')).length;
    }
  };
  await visit(dir);
  return bytes;
}

export async function runMarkers(
  env: BenchEnv,
  options: { files: number; markers: number; reps: number; warmup: number },
): Promise<MarkersResult> {
  const root = await mkdtemp(join(env.workDir, 'markers-'));
  const files: Files = {};
  for (let i = 0; i < options.files; i++)
    files[`apps/team-${String(i % 40).padStart(2, '0')}/service-${i}.yaml`] = markedFile(i, options.markers);
  await writeFiles(root, files);
  const bytes = Object.values(files).reduce((n, t) => n + t.length, 0);

  let round = 0;
  let last = { changes: 0, files: 0, message: 0 };
  const ours = async () => {
    // Every run moves every marker to a new tag, so every file is rewritten.
    const tag = `1.0.${++round}`;
    const start = performance.now();
    const result = await runUpdate({
      workdir: root,
      updatePath: './',
      namespace: NAMESPACE,
      policies: policies(tag, options.markers),
      // The seed's template: the default one lists every change, which for 20,000 changes is
      // more than the 1 MiB a commit message may have (the run fails with CommitTemplateFailed).
      template: SEED_TEMPLATE,
      values: {},
      automation: { namespace: NAMESPACE, name: 'bench' },
    });
    const ms = performance.now() - start;
    if (result.changes.length !== options.files * options.markers) {
      const problems = JSON.stringify(result.problems.slice(0, 3));
      throw new Error(`update run changed ${result.changes.length} values, expected ${options.files * options.markers}: ${problems}`);
    }
    last = { changes: result.changes.length, files: result.files.length, message: result.message?.length ?? 0 };
    return ms;
  };
  const peer = async () => {
    const start = performance.now();
    const read = await readEveryFile(root);
    if (read < bytes) throw new Error(`read ${read} bytes, expected at least ${bytes}`);
    return performance.now() - start;
  };

  for (let i = 0; i < options.warmup; i++) {
    await ours();
    await peer();
  }
  const oursMs: number[] = [];
  const peerMs: number[] = [];
  for (let i = 0; i < options.reps; i++) {
    if (i % 2 === 0) {
      oursMs.push(await ours());
      peerMs.push(await peer());
    } else {
      peerMs.push(await peer());
      oursMs.push(await ours());
    }
  }
  return {
    files: options.files,
    markersPerFile: options.markers,
    bytes,
    oursMs,
    peerMs,
    changesPerRun: last.changes,
    filesWrittenPerRun: last.files,
    messageBytes: last.message,
  };
}
