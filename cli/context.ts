import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { FIELD_MANAGER } from '../shared/api/constants.ts';
import { createKubeClient } from '../shared/kube/client.ts';
import { loadKubeconfig } from '../shared/kube/kubeconfig/index.ts';
import type { KubeClient } from '../shared/kube/client.ts';
import { systemClock } from '../shared/time/clock.ts';

/** Exit codes scripts can rely on. */
export const Exit = { ok: 0, difference: 1, failed: 1, usage: 2, notFound: 3 } as const;

export type Output = 'table' | 'json' | 'yaml';

export interface CliContext {
  kube: KubeClient;
  namespace: string;
  allNamespaces: boolean;
  output: Output;
  positionals: string[];
  flags: Record<string, string | boolean | undefined>;
  out: (text: string) => void;
  err: (text: string) => void;
  nowMs: () => number;
}

/** Flags every command takes, after flux and kubectl. */
export const COMMON_OPTIONS = {
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  'all-namespaces': { type: 'boolean', short: 'A' },
  output: { type: 'string', short: 'o' },
} as const satisfies ParseArgsConfig['options'];

export class UsageError extends Error {}

export interface IO {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Record<string, string | undefined>;
}

export function buildContext(argv: string[], extra: ParseArgsConfig['options'], io: IO): CliContext {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...COMMON_OPTIONS, ...extra }, allowPositionals: true, strict: true });
  } catch (err) {
    // Node goes on about `--` for positionals that start with a dash; the first sentence says it.
    throw new UsageError((err as Error).message.replace(/\. To specify a positional argument[\s\S]*$/, ''));
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const output = (values.output as string | undefined) ?? 'table';
  if (!['table', 'json', 'yaml'].includes(output)) throw new UsageError(`--output must be table, json or yaml, not ${output}`);
  const connection = loadKubeconfig({
    path: values.kubeconfig as string | undefined,
    context: values.context as string | undefined,
    env: io.env,
    prefer: 'home',
  });
  const namespace = (values.namespace as string | undefined) ?? connection.namespace ?? 'default';
  return {
    kube: createKubeClient(connection, { fieldManager: FIELD_MANAGER, clock: systemClock }),
    namespace,
    allNamespaces: values['all-namespaces'] === true,
    output: output as Output,
    positionals: parsed.positionals,
    flags: values,
    out: io.out,
    err: io.err,
    nowMs: () => Date.now(),
  };
}
