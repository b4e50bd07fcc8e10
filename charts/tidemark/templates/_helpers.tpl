{{/* Names are cut to 63 characters: they become label values and DNS names. */}}
{{- define "tidemark.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
"<release>-<chart>", or the release name alone when it already contains the chart name.
Cluster-scoped objects (ClusterRoles, bindings) carry it, so two releases never share one.
Kept to 45 characters so "-image-updater-secrets" still fits in 63.
*/}}
{{- define "tidemark.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 45 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 45 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 45 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "tidemark.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Common labels; call with (dict "root" $ "component" "agent"). */}}
{{- define "tidemark.labels" -}}
helm.sh/chart: {{ include "tidemark.chart" .root }}
{{ include "tidemark.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: tidemark
{{- end }}

{{- define "tidemark.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tidemark.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "tidemark.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "tidemark.agent.serviceAccountName" -}}
{{- if .Values.agent.serviceAccount.create }}
{{- default (printf "%s-agent" (include "tidemark.fullname" .)) .Values.agent.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.agent.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "tidemark.imageUpdater.serviceAccountName" -}}
{{- if .Values.imageUpdater.serviceAccount.create }}
{{- default (printf "%s-image-updater" (include "tidemark.fullname" .)) .Values.imageUpdater.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.imageUpdater.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "tidemark.notification.serviceAccountName" -}}
{{- if .Values.notification.serviceAccount.create }}
{{- default (printf "%s-notification" (include "tidemark.fullname" .)) .Values.notification.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.notification.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Namespaces where notification may read Receivers' Secrets, as a list. */}}
{{- define "tidemark.notification.secretNamespaces" -}}
{{- if .Values.notification.rbac.secretNamespaces }}
{{- .Values.notification.rbac.secretNamespaces | uniq | toJson }}
{{- else }}
{{- list (default .Release.Namespace .Values.notification.watchNamespace) | toJson }}
{{- end }}
{{- end }}

{{/* The namespace the agent watches; "" = all. Namespace-restricted RBAC implies one namespace. */}}
{{- define "tidemark.agent.watchNamespace" -}}
{{- if .Values.agent.watchNamespace }}
{{- .Values.agent.watchNamespace }}
{{- else if .Values.agent.rbac.namespaces }}
{{- .Release.Namespace }}
{{- end }}
{{- end }}

{{/* Namespaces where the image updater may read Secrets, as a list; empty = cluster-wide. */}}
{{- define "tidemark.imageUpdater.secretNamespaces" -}}
{{- if .Values.imageUpdater.rbac.clusterWideSecrets }}
{{- list | toJson }}
{{- else if .Values.imageUpdater.rbac.secretNamespaces }}
{{- .Values.imageUpdater.rbac.secretNamespaces | uniq | toJson }}
{{- else }}
{{- list (default .Release.Namespace .Values.imageUpdater.watchNamespace) | toJson }}
{{- end }}
{{- end }}

{{/* PodDisruptionBudget moved to policy/v1 in Kubernetes 1.21. */}}
{{- define "tidemark.pdbApiVersion" -}}
{{- if semverCompare ">=1.21-0" .Capabilities.KubeVersion.Version }}policy/v1{{ else }}policy/v1beta1{{ end }}
{{- end }}

{{/*
A quantity from values, quoted: a number (YAML gives Helm a float64) is written as a whole number,
never as 1.048576e+06.
*/}}
{{- define "tidemark.quantity" -}}
{{- if kindIs "float64" . }}{{ int64 . | toString | quote }}{{ else }}{{ toString . | quote }}{{ end }}
{{- end }}

{{/*
The pod spec both programs share. Call with
(dict "root" $ "component" "agent" "program" "agent" "config" .Values.agent "serviceAccountName" "..." "args" (list ...)),
and "receiverPort" for the program that serves webhooks.
*/}}
{{- define "tidemark.podTemplate" -}}
{{- $root := .root }}
{{- $config := .config -}}
metadata:
  labels:
    {{- include "tidemark.labels" (dict "root" $root "component" .component) | nindent 4 }}
    {{- with $config.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with $config.podAnnotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  serviceAccountName: {{ .serviceAccountName }}
  {{- with $root.Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- toYaml $root.Values.podSecurityContext | nindent 4 }}
  {{- with $config.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  containers:
    - name: {{ .component }}
      image: {{ include "tidemark.image" $root | quote }}
      imagePullPolicy: {{ $root.Values.image.pullPolicy }}
      args:
        - {{ .program }}
        - --health-addr=:{{ $root.Values.healthPort }}
        - --log-level={{ $root.Values.logLevel }}
        - --cache-dir={{ $config.cacheDir }}
        - --workers={{ $config.workers }}
        {{- with .receiverPort }}
        - --receiver-addr=:{{ . }}
        {{- end }}
        {{- with .watchNamespace }}
        - --namespace={{ . }}
        {{- end }}
        {{- with .watchLabelSelector }}
        - {{ printf "--watch-label-selector=%s" . | quote }}
        {{- end }}
        {{- if $root.Values.lockdown.enabled }}
        - --no-cross-namespace-refs
        {{- if eq .program "agent" }}
        - --default-service-account={{ $root.Values.lockdown.defaultServiceAccount }}
        {{- with $root.Values.lockdown.agentIdentityNamespaces }}
        - --agent-identity-namespaces={{ join "," . }}
        {{- end }}
        {{- end }}
        {{- end }}
        {{- /* Receivers hold no state a second replica could contradict: no Lease for notification. */}}
        {{- if and (eq .program "agent") $root.Values.agent.autoSharding.enabled }}
        {{- /* Every replica works, on its share; the member Leases take leader election's timings. */}}
        - --shard-auto
        - --shard-group={{ printf "%s-%s" (include "tidemark.fullname" $root) .component | trunc 63 | trimSuffix "-" }}
        - --leader-election-namespace={{ $root.Release.Namespace }}
        - --leader-election-lease-duration={{ $root.Values.leaderElection.leaseDuration }}
        - --leader-election-renew-deadline={{ $root.Values.leaderElection.renewDeadline }}
        - --leader-election-retry-period={{ $root.Values.leaderElection.retryPeriod }}
        {{- else if and $root.Values.leaderElection.enabled (ne .program "notification") }}
        - --leader-elect
        - --leader-election-id={{ include "tidemark.fullname" $root }}-{{ .component }}
        - --leader-election-namespace={{ $root.Release.Namespace }}
        - --leader-election-lease-duration={{ $root.Values.leaderElection.leaseDuration }}
        - --leader-election-renew-deadline={{ $root.Values.leaderElection.renewDeadline }}
        - --leader-election-retry-period={{ $root.Values.leaderElection.retryPeriod }}
        {{- end }}
        {{- range $config.extraArgs }}
        - {{ . | quote }}
        {{- end }}
      env:
        # git, ssh and gpg write under $HOME; only /tmp and the cache are writable.
        - name: HOME
          value: /tmp
        {{- with $config.nodeOptions }}
        - name: NODE_OPTIONS
          value: {{ . | quote }}
        {{- end }}
        {{- with $config.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      ports:
        - name: http
          containerPort: {{ $root.Values.healthPort }}
          protocol: TCP
        {{- with .receiverPort }}
        - name: receiver
          containerPort: {{ . }}
          protocol: TCP
        {{- end }}
      livenessProbe:
        httpGet:
          path: /healthz
          port: http
        initialDelaySeconds: 10
        periodSeconds: 20
        timeoutSeconds: 5
        failureThreshold: 3
      readinessProbe:
        httpGet:
          path: /readyz
          port: http
        periodSeconds: 10
        timeoutSeconds: 5
        failureThreshold: 3
      resources:
        {{- toYaml $config.resources | nindent 8 }}
      securityContext:
        {{- toYaml $root.Values.securityContext | nindent 8 }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
        - name: cache
          mountPath: {{ $config.cacheDir }}
  volumes:
    {{- /* Every emptyDir has a sizeLimit (values.schema.json requires one): past it the kubelet
    evicts the pod instead of letting a hostile repository fill the node's disk. */}}
    - name: tmp
      emptyDir:
        sizeLimit: {{ include "tidemark.quantity" $config.tmpSizeLimit }}
    - name: cache
      emptyDir:
        sizeLimit: {{ include "tidemark.quantity" $config.cacheSizeLimit }}
  {{- with $config.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $config.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $config.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
