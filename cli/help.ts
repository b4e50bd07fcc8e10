/** Help texts: `tidemark --help` lists the commands, `tidemark <command> --help` describes one. */

export const COMMON_FLAGS = `Flags:
  --kubeconfig PATH     kubeconfig file (default: $KUBECONFIG's files merged, then ~/.kube/config,
                        then the pod's service account)
  --context NAME        kubeconfig context
  -n, --namespace NS    namespace (default: the context's, else default)
  -A, --all-namespaces  list across namespaces
  -o, --output FORMAT   table (default), json or yaml
  -h, --help            this help
`;

const PROGRAM_FLAGS = `Flags:
  --kubeconfig PATH   kubeconfig file (default: $KUBECONFIG's files merged, then the pod's service
                      account, then ~/.kube/config)
  --context NAME      kubeconfig context
  -n, --namespace NS  watch only this namespace (default: all)
  --health-addr ADDR  serve /healthz and /readyz on ADDR (e.g. :8080)
  --log-level LEVEL   debug, info, warn, error (default info)
  --workers N         objects reconciled at once, per kind
  --kube-api-qps N    Kubernetes API requests per second, client-side (default 250; 0: no limit)
  --kube-api-burst N  requests above that rate in a burst (default 500)
  --no-cross-namespace-refs
                      lockdown: every reference (Secrets, an automation's source, an ImagePolicy's
                      repository, image markers, a deployment's dependsOn) must stay in the
                      object's own namespace
  --allow-local-git   accept file:// repository URLs, read from this program's own filesystem
                      (tests and local demos; refused otherwise)
  --leader-elect      elect a leader on a Lease so several replicas can run: one works, the
                      others stand by (Ready) and take over when it stops renewing
  --leader-election-id NAME
                      the Lease's name (default tidemark-agent / tidemark-image-updater)
  --leader-election-namespace NS
                      where the Lease lives (default: the pod's namespace, else --namespace,
                      else default)
  --leader-election-lease-duration DUR
                      a standby takes over after the leader has not renewed for this (default 15s)
  --leader-election-renew-deadline DUR
                      a leader that could not renew for this stops and exits (default 10s)
  --leader-election-retry-period DUR
                      how often to renew or try to acquire (default 2s)
`;

export const EXIT_CODES = 'Exit codes: 0 ok, 1 difference found or sync failed, 2 usage or runtime error, 3 not found.\n';

export const HELP = {
  get: `Usage:
  tidemark get cd [NAME] [flags]   list ContinuousDeployments (name, health, sync, location, revision, updated)
  tidemark get images [flags]      image repositories and policies with their latest tags

${COMMON_FLAGS}`,
  status: `Usage: tidemark status NAME [flags]

The source, sync and health of a ContinuousDeployment, its resources and recent Events.
Exits 1 when it is not Ready.

${COMMON_FLAGS}`,
  sync: `Usage: tidemark sync NAME [--wait] [--timeout 5m] [flags]

Asks the agent to sync a ContinuousDeployment now (the tidemark.dev/requestedAt annotation).
  --wait          follow the sync to its end; exit 1 when it fails
  --timeout DUR   how long --wait waits, in seconds or minutes (90s, 5m; default 5m)

${COMMON_FLAGS}`,
  suspend: `Usage: tidemark suspend NAME [flags]

Stops applying and pruning for a ContinuousDeployment until it is resumed.

${COMMON_FLAGS}`,
  resume: `Usage: tidemark resume NAME [flags]

Resumes a suspended ContinuousDeployment and asks for a sync now.

${COMMON_FLAGS}`,
  diff: `Usage: tidemark diff NAME [flags]

What a sync of the ContinuousDeployment would change, computed as the agent does (fetch, render,
server-side dry-run) without writing. Exits 1 when something differs.

${COMMON_FLAGS}  --helm-binary PATH    helm executable for charts, as the agent's (default: helm on PATH)
`,
  dashboard: `Usage: tidemark dashboard [--port N] [flags]
       tidemark dashboard --in-cluster --host NAME [--port N] [flags]

Serves the web console for ContinuousDeployments. Kubernetes RBAC decides what each user sees
and may change: every request the console makes carries the user's own credentials. Without the
right to watch ContinuousDeployments in every namespace, the list shows one namespace.

Pages: the list (live), a deployment's details with its diff against Git (the plan tidemark diff
computes, Secret values masked), Create in KubeSphere's steps, Code Repositories (import with a
credential, kept in a Secret and never shown again) and Images.

Revert on a sync history entry pushes a git revert of its commit to the deployment's branch with
the deployment's own credentials (read with your rights; you must also be allowed to update the
deployment), with a Reverted-by trailer naming you, then requests a sync. Disabled, with the
reason, when the source is not a Git branch or the credential cannot push.

Local use (default): listens on 127.0.0.1 only and prints a login URL. Open it in a browser on
this machine: the link works once and becomes a session cookie for that browser. Requests use
this kubeconfig's credentials; the list shows the context's namespace when it cannot show all.

In-cluster use (--in-cluster; the Helm chart's console.enabled): listens on --listen (default
0.0.0.0) behind a Service or Ingress and answers only to the --host names. Users log in on its
page with a Kubernetes bearer token (kubectl create token NAME, or an OIDC id-token); the console
checks it by asking the API server as that user and keeps it in memory for the session only
(an HttpOnly SameSite=Strict cookie holds a random session id). Every API call of the session
uses that token; the console's own ServiceAccount needs no rights. Sessions end at Log out, after
--idle-timeout without use, or --session-lifetime after login however busy. Each token has at
most --max-sessions-per-token sessions (a new login ends its oldest), and a console full at
--max-sessions refuses new logins (503). Failed logins are limited per client address and in
total (429 with Retry-After), checked before the API server is asked. The details page compares
with Git as the user: the deployment's Git credentials are read with their token, so a user who
may not read that Secret is told so instead of getting a comparison.

Flags:
  --port N            listen on port N (default: a free port)
  --kubeconfig PATH   kubeconfig file (default: $KUBECONFIG's files merged, then ~/.kube/config)
  --context NAME      kubeconfig context
  --log-level LEVEL   debug, info, warn (default), error; logs go to stderr
  -h, --help          this help

In-cluster flags:
  --in-cluster        log users in with their bearer token instead of using a kubeconfig
  --host NAME         a Host header the console answers to (the Ingress host, or
                      SERVICE.NAMESPACE.svc:PORT); repeat for several; required
  --listen ADDR       address to listen on (default 0.0.0.0)
  --secure            browsers reach the console over https (TLS at the Ingress): Secure
                      __Host- cookie, https origin for the CSRF check
  --idle-timeout D    end a session unused this long (default 30m)
  --session-lifetime D
                      end a session this long after login, used or not (default 12h)
  --max-sessions N    sessions open at once; a login beyond is refused (default 200)
  --max-sessions-per-token N
                      sessions per token; a new one ends the oldest (default 5)
  --login-failures N/D
                      failed logins allowed per client address within D (default 10/5m)
  --login-failures-total N/D
                      failed logins allowed from all clients within D (default 100/1m)
  --trust-forwarded-for
                      count logins by the last X-Forwarded-For address (only behind an
                      Ingress or proxy that sets it; otherwise the TCP peer address)
  --cache-dir DIR     Git checkouts of the comparisons, one directory per session
                      (default $TMPDIR/tidemark-console)
  --api-server URL    the API server (default https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT)
  --api-ca FILE       its CA certificate (default the service account's ca.crt path)
`,
  agent: `Usage: tidemark agent [flags]

Runs the sync agent: keeps the cluster in the state each ContinuousDeployment's Git source describes.

${PROGRAM_FLAGS}  --cache-dir DIR     Git checkouts cache
  --kustomize PATH    kustomize or kubectl executable for kustomizations (default: kubectl on PATH)
  --helm-binary PATH  helm executable for charts, paths with Chart.yaml (default: helm on PATH)
  --render-max-files N
                      files and directories one render may read, or kustomizations one build
                      may include (default 10000)
  --render-max-bytes N
                      bytes one render may read or kustomize print (default 64Mi)
  --render-max-objects N
                      objects one render may produce (default 20000)
  --default-service-account NAME
                      lockdown: deployments that name no spec.serviceAccountName act as this
                      ServiceAccount of their own namespace (as Flux's flag of the same name)
  --agent-identity-namespaces NS[,NS...]
                      with --default-service-account: deployments in these namespaces that name
                      no ServiceAccount still act as the agent, with its cluster-wide rights
  --watch-label-selector SELECTOR
                      shard: reconcile only the ContinuousDeployments this label selector picks
                      (e.g. 'sharding.tidemark.dev/key in (shard1)', or '!sharding.tidemark.dev/key'
                      for the main agent)
  --shard-auto        automatic sharding: every replica works, each on the deployments that
                      rendezvous hashing gives it among the live replicas of its group; each
                      holds a member Lease (with the --leader-election-namespace and timings);
                      a replica that joins or leaves moves only its share (not with --leader-elect)
  --shard-group NAME  replicas of one group share its deployments (default tidemark-agent)
`,
  'image-updater': `Usage: tidemark image-updater [flags]

Runs the image updater: scans ImageRepositories, chooses images by ImagePolicy and commits them
to Git by ImageUpdateAutomation.

${PROGRAM_FLAGS}  -h, --help          this help
`,
  notification: `Usage: tidemark notification [flags]

Runs the notification program: serves webhook Receivers, so a Git push or an image push asks
the ContinuousDeployments and ImageRepositories they select to reconcile now.

${PROGRAM_FLAGS}  --receiver-addr ADDR
                      serve webhook receivers on ADDR, apart from health and metrics
                      (default :9292)
  -h, --help          this help
`,
  version: `Usage: tidemark version

Prints the version of tidemark.
`,
  help: `Usage: tidemark help [COMMAND]

Lists the commands, or describes one (the same as tidemark COMMAND --help).
`,
} as const;

/** True when the arguments ask for help (before a `--` that ends the flags). */
export function wantsHelp(args: readonly string[]): boolean {
  for (const arg of args) {
    if (arg === '--') return false;
    if (arg === '--help' || arg === '-h') return true;
  }
  return false;
}
