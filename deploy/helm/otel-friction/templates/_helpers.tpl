{{/* Names and labels. */}}
{{- define "otel-friction.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "otel-friction.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "otel-friction.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "otel-friction.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "otel-friction.selectorLabels" -}}
app.kubernetes.io/name: {{ include "otel-friction.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: {{ .Values.mode }}
{{- end }}

{{- define "otel-friction.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "otel-friction.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "otel-friction.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "otel-friction.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "otel-friction.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "otel-friction.validate" -}}
{{- if not (has .Values.mode (list "sidecar" "daemonset" "deployment")) }}
{{- fail (printf "mode must be sidecar, daemonset or deployment, got %q" .Values.mode) }}
{{- end }}
{{- end }}

{{/* resources.limits.memory in MiB (Ki/Mi/Gi/Ti, k/M/G/T or bytes); 0 when no limit is set. */}}
{{- define "otel-friction.memoryLimitMiB" -}}
{{- $m := toString (dig "limits" "memory" "" (.Values.resources | default dict)) }}
{{- if eq $m "" }}0
{{- else }}
{{- $num := regexFind "^[0-9]+(\\.[0-9]+)?" $m }}
{{- $unit := trimPrefix $num $m }}
{{- $factors := dict "" 1 "Ki" 1024 "Mi" 1048576 "Gi" 1073741824 "Ti" 1099511627776 "k" 1000 "M" 1000000 "G" 1000000000 "T" 1000000000000 }}
{{- if or (eq $num "") (not (hasKey $factors $unit)) }}
{{- fail (printf "resources.limits.memory: cannot read %q (use e.g. 512Mi or 1Gi)" $m) }}
{{- end }}
{{- divf (mulf (float64 $num) (get $factors $unit)) 1048576 | floor | int }}
{{- end }}
{{- end }}

{{/* config.shutdown_timeout in whole seconds (rounded up). */}}
{{- define "otel-friction.shutdownSeconds" -}}
{{- $t := toString (default "10s" .Values.config.shutdown_timeout) }}
{{- if not (regexMatch "^([0-9]+(\\.[0-9]+)?(ms|s|m|h|d))+$" $t) }}
{{- fail (printf "config.shutdown_timeout must be a literal duration such as 10s (the chart sizes terminationGracePeriodSeconds from it), got %q" $t) }}
{{- end }}
{{- $units := dict "ms" 0.001 "s" 1 "m" 60 "h" 3600 "d" 86400 }}
{{- $total := 0.0 }}
{{- range regexFindAll "[0-9.]+(ms|s|m|h|d)" $t -1 }}
{{- $n := regexFind "^[0-9.]+" . }}
{{- $total = addf $total (mulf (float64 $n) (get $units (trimPrefix $n .))) }}
{{- end }}
{{- ceil $total | int }}
{{- end }}

{{- define "otel-friction.terminationGracePeriodSeconds" -}}
{{- $shutdown := include "otel-friction.shutdownSeconds" . | int }}
{{- if kindIs "invalid" .Values.terminationGracePeriodSeconds }}
{{- add $shutdown 20 }}
{{- else if le (int .Values.terminationGracePeriodSeconds) (add $shutdown 4) }}
{{- fail (printf "terminationGracePeriodSeconds (%v) must exceed config.shutdown_timeout (%ds) by 5s or more, or Kubernetes kills otel-friction mid-drain" .Values.terminationGracePeriodSeconds $shutdown) }}
{{- else }}
{{- int .Values.terminationGracePeriodSeconds }}
{{- end }}
{{- end }}

{{/* The otel-friction container, shared by the DaemonSet, the Deployment and the sidecar notes. */}}
{{- define "otel-friction.container" -}}
{{- $memMiB := include "otel-friction.memoryLimitMiB" . | int }}
{{- $receiverHost := ternary "localhost" "0.0.0.0" (eq .Values.mode "sidecar") }}
name: otel-friction
image: {{ include "otel-friction.image" . }}
imagePullPolicy: {{ .Values.image.pullPolicy }}
# The image's entrypoint: tini -- node --max-semi-space-size=1 /app/dist/cli.js
args: ["run"]
env:
  - name: K8S_NODE_NAME
    valueFrom:
      fieldRef:
        fieldPath: spec.nodeName
  - name: K8S_POD_IP
    valueFrom:
      fieldRef:
        fieldPath: status.podIP
  - name: OTEL_FRICTION_GRPC_ENDPOINT
    value: {{ printf "%s:%d" $receiverHost (int .Values.ports.grpc) | quote }}
  - name: OTEL_FRICTION_HTTP_ENDPOINT
    value: {{ printf "%s:%d" $receiverHost (int .Values.ports.http) | quote }}
  - name: OTEL_FRICTION_ADMIN_ENDPOINT
    value: {{ printf "0.0.0.0:%d" (int .Values.ports.admin) | quote }}
  - name: OTEL_FRICTION_EXTERNAL_URL
    value: {{ printf "http://$(K8S_POD_IP):%d" (int .Values.ports.admin) | quote }}
  - name: OTEL_FRICTION_STATE_PATH
    value: /var/lib/otel-friction
  {{- if gt $memMiB 0 }}
  - name: NODE_OPTIONS
    value: {{ printf "--max-old-space-size=%d" (divf (mulf $memMiB .Values.heapPercentOfMemoryLimit) 100 | floor | int) | quote }}
  - name: OTEL_FRICTION_MAX_INFLIGHT_MIB
    value: {{ max 1 (divf (mulf $memMiB .Values.inflightPercentOfMemoryLimit) 100 | floor | int) | quote }}
  {{- end }}
  {{- with .Values.extraEnv }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
ports:
  {{- if ne .Values.mode "sidecar" }}
  - name: otlp-grpc
    containerPort: {{ .Values.ports.grpc }}
    protocol: TCP
    {{- if and (eq .Values.mode "daemonset") .Values.daemonset.hostPort }}
    hostPort: {{ .Values.ports.grpc }}
    {{- end }}
  - name: otlp-http
    containerPort: {{ .Values.ports.http }}
    protocol: TCP
    {{- if and (eq .Values.mode "daemonset") .Values.daemonset.hostPort }}
    hostPort: {{ .Values.ports.http }}
    {{- end }}
  {{- end }}
  - name: admin
    containerPort: {{ .Values.ports.admin }}
    protocol: TCP
startupProbe:
  httpGet:
    path: /readyz
    port: admin
  periodSeconds: 1
  failureThreshold: 30
livenessProbe:
  httpGet:
    path: /healthz
    port: admin
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
readinessProbe:
  httpGet:
    path: /readyz
    port: admin
  periodSeconds: 5
  timeoutSeconds: 3
  failureThreshold: 2
{{- with .Values.resources }}
resources:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.securityContext }}
securityContext:
  {{- toYaml . | nindent 2 }}
{{- end }}
volumeMounts:
  - name: otel-friction-config
    mountPath: /etc/otel-friction
    readOnly: true
  - name: otel-friction-state
    mountPath: /var/lib/otel-friction
  - name: otel-friction-tmp
    mountPath: /tmp
{{- end }}

{{/* Volumes of the container above; the state volume depends on the mode. */}}
{{- define "otel-friction.volumes" -}}
- name: otel-friction-config
  configMap:
    name: {{ include "otel-friction.fullname" . }}
- name: otel-friction-state
  {{- if eq .Values.mode "daemonset" }}
  hostPath:
    path: {{ printf "%s/%s" (trimSuffix "/" .Values.daemonset.statePath) .Release.Name }}
    type: DirectoryOrCreate
  {{- else }}
  emptyDir:
    sizeLimit: 256Mi
  {{- end }}
- name: otel-friction-tmp
  emptyDir:
    sizeLimit: 64Mi
{{- end }}

{{/* Pod spec fields common to the DaemonSet and the Deployment. */}}
{{- define "otel-friction.podSpec" -}}
serviceAccountName: {{ include "otel-friction.serviceAccountName" . }}
automountServiceAccountToken: false
terminationGracePeriodSeconds: {{ include "otel-friction.terminationGracePeriodSeconds" . }}
{{- with .Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if eq .Values.mode "daemonset" }}
initContainers:
  # hostPath directories are created root-owned; hand this one to the image's uid 1000.
  - name: state-permissions
    image: {{ include "otel-friction.image" . }}
    imagePullPolicy: {{ .Values.image.pullPolicy }}
    command: ["chown", "1000:1000", "/var/lib/otel-friction"]
    securityContext:
      runAsUser: 0
      runAsNonRoot: false
      allowPrivilegeEscalation: false
      capabilities:
        drop: [ALL]
        add: [CHOWN]
    resources:
      requests:
        cpu: 10m
        memory: 16Mi
      limits:
        cpu: 100m
        memory: 64Mi
    volumeMounts:
      - name: otel-friction-state
        mountPath: /var/lib/otel-friction
{{- end }}
containers:
  - {{ include "otel-friction.container" . | indent 4 | trim }}
volumes:
  {{- include "otel-friction.volumes" . | nindent 2 }}
{{- end }}

{{- define "otel-friction.podMetadata" -}}
labels:
  {{- include "otel-friction.selectorLabels" . | nindent 2 }}
  {{- with .Values.podLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
annotations:
  checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
  prometheus.io/scrape: "true"
  prometheus.io/port: {{ .Values.ports.admin | quote }}
  prometheus.io/path: /metrics
  {{- with .Values.podAnnotations }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}

{{/* Sidecar mode: what to add to an application's pod template (printed by NOTES.txt). */}}
{{- define "otel-friction.sidecarSnippet" -}}
# Add to the pod template (spec.template.spec) of your workload, in namespace {{ .Release.Namespace }}:
# Kubernetes stops native sidecars after the app containers, within the pod's one grace period:
# your app's own drain time + otel-friction's shutdown_timeout ({{ include "otel-friction.shutdownSeconds" . }}s) + a margin.
terminationGracePeriodSeconds: {{ add (include "otel-friction.terminationGracePeriodSeconds" . | int) 15 }}
initContainers:
  - {{ include "otel-friction.container" . | indent 4 | trim }}
    restartPolicy: Always
volumes:
  {{- include "otel-friction.volumes" . | nindent 2 }}
{{- end }}
