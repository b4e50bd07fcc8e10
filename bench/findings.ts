/**
 * What profiling (`--cpu-prof` on the agent and on the bench, heap figures from /proc) showed for
 * the items that miss their goal, and what would close each gap. The figures that prove a miss
 * are in the measurements; these are the causes, written down once they were found.
 */
export const GAP_NOTES: Record<string, string> = {
  '1':
    'The agent sends two requests per object on a first sync (a server-side dry-run of every object before anything is ' +
    'written, then the apply); kubectl sends one. The API server is the bottleneck: in a profiled 1,000-object sync it ' +
    "used 3.4–6.5 s of CPU against the agent's 1.5–1.8 s, so 8 requests in flight cannot hide the second round on two " +
    'cores. Closing it means fewer dry-runs: create objects a synced watch cache knows to be missing with one apply, ' +
    'and keep the all-or-nothing rule by dry-running only objects that exist (a failed create then stops the sync ' +
    'before anything else is written). At 100 objects a fixed part weighs more: the watch, the finalizer, ' +
    'ls-remote and a shallow fetch come before the first apply, where kubectl reads local files.',
  '2':
    'At 100 objects the fixed part dominates: kubectl needs only ~0.4 s there, while every no-op reconcile pays ' +
    '~50–60 ms whatever the size — one `git ls-remote` (a child process plus private askpass files, ~35 ms, item 4), ' +
    'the reads of the ContinuousDeployment and its Secret, and the status comparison. ' +
    'Asking the smart-HTTP endpoint for the ref directly (one request, no child process), as go-git does for Flux, ' +
    'would about halve it; at 1,000 and 5,000 objects the goal is met.',
  '5':
    'The listing is about 12 ms of it; the decision over 10,000 tags about 35 ms: every tag goes through two RE2 calls ' +
    'in the native addon (the exclusion list, then the filter; ~1.7 µs each, mostly handing the string to C++), ' +
    "in image-updater/policy. Tags change little between scans, so remembering each tag's filter result per policy " +
    '(only new tags reach RE2) would leave a rescan with the listing alone, well under skopeo. ' +
    '(distribution 2.8 ignores `n` and sends all 10,000 tags in one page, so neither side paginated here.)',
  '6':
    'Most of what is left is the commit message: the seed template runs in Go/WebAssembly over all 20,000 changes, ' +
    '~1.0–1.3 s of the run (the engine starts in ~0.2–0.5 s; the rest is Go decoding the change list as JSON and ' +
    "building Flux's template data from it). The files themselves (walk, read, line-level scan, rewrite, read-back " +
    'scan, write) take ~0.5–0.9 s, 1.5–3× reading them. Closing the gap means a compact change list for the engine ' +
    '(files and objects once, changes as indices) or starting the engine while the files are scanned.',
  '7':
    'Idle, the agent now holds ~116 MiB (~169 MiB before @kubernetes/client-node became a lazy import, loaded only ' +
    'for exec or auth-provider users; docs/adr/0006): undici ~28 MiB and TypeScript type stripping ~18 MiB of it. ' +
    'The working set on top is mostly V8 young-generation space that grows with the allocation rate of reconciles and ' +
    'is not given back (NODE_OPTIONS=--max-semi-space-size=4 took 1,000 objects in 20 CDs from ~330 to ~200 MiB in a ' +
    'trial, at some CPU cost). A semi-space cap in the chart and running compiled JavaScript instead of .ts ' +
    '(no type stripper) are the next steps.',
};

/** Perf fixes made while building the bench, with before → after figures on this machine. */
export const FIXES: string[] = [
  'agent: a render cache by commit and path (agent/render-cache.ts): a reconcile of a commit it has rendered before ' +
    'skips the checkout check and the YAML parse (plain directories only; kustomizations can pull remote bases). ' +
    'No-op resync of 1,000 objects: median 507 ms → 97 ms (10 reconciles each).',
  'image-updater/markers: one YAML parse per scan instead of two (the comments and the documents come from the same ' +
    'CST), an allocation-free comment walk, and a memo for the plain-scalar safety check (two YAML parses per new ' +
    'value). Update run over 2,000 files × 10 markers: 10.5 s → 6.6 s.',
  'image-updater/markers: a line-level fast path for the plain shape (`key: value # marker` in block mappings; the ' +
    'full parse for anything unusual and as the only source of truth, held equal on every oracle case), and the ' +
    'update run with eight files in flight and one open per file. Update run over 2,000 files × 10 markers: ' +
    '12.2 s → 1.9–3.1 s in four runs on a shared, loaded machine (23.9× → 4.5–18× reading the files, which took 173–397 ms).',
  'shared/kube/kubeconfig: a small kubeconfig loader in place of @kubernetes/client-node, which is now imported only ' +
    'for exec or auth-provider users. Idle agent 169 → 116 MiB; peak with 1,000 objects in 20 CDs 314 → 234 MiB.',
  'shared/controller/status-writer: owned status fields compared structurally with early exit instead of as ' +
    'canonical JSON strings, which had become the top self-time of a no-op resync (about 0.4 s of CPU per 5 s of ' +
    'no-op reconciles at 1,000 objects in a profile).',
];

/** Other things the bench brought to light. */
export const OBSERVATIONS: string[] = [
  'The default commit message lists every change: an update run that changes 20,000 values renders more than the ' +
    '1 MiB a message may have and fails with CommitTemplateFailed, committing nothing. ' +
    "Item 6 uses the seed's template (one line per image); the default could summarise beyond a few hundred changes.",
  "The no-op windows also hold the control plane's own traffic: writes for Endpoints, " +
    'namespace and token-controller housekeeping, and the controller manager re-listing ContinuousDeployments and ' +
    "namespaces a few times a second after namespaces were deleted — it goes on with the agent and the bench's watches " +
    'stopped. The zero-write check counts only the kinds the agent can write (what it applies, ContinuousDeployments, ' +
    'Events).',
];
