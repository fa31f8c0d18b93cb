{{/*
Names, labels and the small pieces every template shares.
*/}}

{{/* The chart name, or nameOverride. */}}
{{- define "genesis-gateway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name of the release's resources: fullnameOverride, else "<release>-<chart>", or just the
release name when it already contains the chart name. Trimmed to 63 characters (DNS label).
*/}}
{{- define "genesis-gateway.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
"<fullname>-<component>", with the full name shortened first so the suffix survives the 63-character
limit (two components never collide on a long release name).
Usage: include "genesis-gateway.componentName" (dict "ctx" $ "component" "worker")
*/}}
{{- define "genesis-gateway.componentName" -}}
{{- $base := include "genesis-gateway.fullname" .ctx | trunc (int (sub 62 (len .component))) | trimSuffix "-" }}
{{- printf "%s-%s" $base .component }}
{{- end }}

{{/* "name-version" for the helm.sh/chart label. */}}
{{- define "genesis-gateway.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Selector labels of one component (gateway, worker, redis): stable across upgrades, since a
Deployment's selector cannot change.
Usage: include "genesis-gateway.selectorLabels" (dict "ctx" $ "component" "gateway")
*/}}
{{- define "genesis-gateway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "genesis-gateway.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/*
The recommended labels of one component.
Usage: include "genesis-gateway.labels" (dict "ctx" $ "component" "gateway")
*/}}
{{- define "genesis-gateway.labels" -}}
helm.sh/chart: {{ include "genesis-gateway.chart" .ctx }}
{{ include "genesis-gateway.selectorLabels" . }}
{{- with .ctx.Chart.AppVersion }}
app.kubernetes.io/version: {{ . | quote }}
{{- end }}
app.kubernetes.io/part-of: genesis-gateway
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
{{- end }}

{{/* The gateway image: repository@digest, or repository:tag (default: the chart's appVersion). */}}
{{- define "genesis-gateway.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag | toString) }}
{{- end }}
{{- end }}

{{/* The Secret the pods take their environment from: secrets.existingSecret or the chart's own. */}}
{{- define "genesis-gateway.secretName" -}}
{{- default (include "genesis-gateway.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{/* Where the gateway YAML is mounted; the Dockerfile's default CMD reads the same path. */}}
{{- define "genesis-gateway.configDir" -}}/etc/genesis{{- end }}
{{- define "genesis-gateway.configPath" -}}{{ include "genesis-gateway.configDir" . }}/gateway.yaml{{- end }}

{{/*
GATEWAY_REDIS_URL as one env entry: the bundled Redis, an external URL, or a key of an existing
Secret. Production runs several replicas that must share flags, the sample stream and the A/B
accumulators, so the chart refuses to render without Redis rather than deploy replicas that
silently disagree.
*/}}
{{- define "genesis-gateway.redisEnv" -}}
- name: GATEWAY_REDIS_URL
{{- if .Values.redis.enabled }}
  value: {{ printf "redis://%s:%d/0" (include "genesis-gateway.componentName" (dict "ctx" . "component" "redis")) (int .Values.redis.port) | quote }}
{{- else if .Values.redis.existingSecret }}
  valueFrom:
    secretKeyRef:
      name: {{ .Values.redis.existingSecret }}
      key: {{ .Values.redis.existingSecretKey }}
{{- else if .Values.redis.url }}
  value: {{ .Values.redis.url | quote }}
{{- else }}
{{- fail "genesis-gateway needs Redis in production: set redis.enabled=true (bundled), or redis.url / redis.existingSecret (external)" }}
{{- end }}
{{- end }}

{{/* The environment gateway and worker containers share: Redis, logging, extra variables. */}}
{{- define "genesis-gateway.commonEnv" -}}
{{ include "genesis-gateway.redisEnv" . }}
- name: GATEWAY_LOG_FORMAT
  value: {{ .Values.logFormat | quote }}
- name: GATEWAY_LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
{{- range $name, $value := .Values.env }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end }}

{{/* envFrom of gateway and worker containers: the Secret, then any extra sources. */}}
{{- define "genesis-gateway.envFrom" -}}
- secretRef:
    name: {{ include "genesis-gateway.secretName" . }}
{{- with .Values.extraEnvFrom }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Pod annotations that roll the pods when their inputs change: the config always, the Secret when the
chart owns it (an existingSecret is outside the release, so its changes need a restart of your own).
*/}}
{{- define "genesis-gateway.checksums" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
{{- if not .Values.secrets.existingSecret }}
checksum/secret: {{ include (print .Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end }}
{{- end }}

{{/* Volumes of gateway and worker pods: the config file and a writable /tmp. */}}
{{- define "genesis-gateway.volumes" -}}
- name: config
  configMap:
    name: {{ include "genesis-gateway.fullname" . }}
- name: tmp
  emptyDir:
    sizeLimit: 256Mi
{{- end }}

{{- define "genesis-gateway.volumeMounts" -}}
- name: config
  mountPath: {{ include "genesis-gateway.configDir" . }}
  readOnly: true
- name: tmp
  mountPath: /tmp
{{- end }}

{{/* The gateway config as a map, for checks (NOTES); empty when it is not a YAML mapping. */}}
{{- define "genesis-gateway.configData" -}}
{{- if kindIs "string" .Values.config }}
{{- .Values.config | fromYaml | toJson }}
{{- else }}
{{- .Values.config | toJson }}
{{- end }}
{{- end }}
