{{/* The chart name, or nameOverride. */}}
{{- define "source-aws-billing.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The resource name: fullnameOverride, else release name + chart name. */}}
{{- define "source-aws-billing.fullname" -}}
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

{{/* Labels of every resource. */}}
{{- define "source-aws-billing.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "source-aws-billing.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels that select the pod. */}}
{{- define "source-aws-billing.selectorLabels" -}}
app.kubernetes.io/name: {{ include "source-aws-billing.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The ServiceAccount's name. */}}
{{- define "source-aws-billing.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "source-aws-billing.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret holding the AWS keys: existingSecret, else the chart's own. */}}
{{- define "source-aws-billing.secretName" -}}
{{- default (include "source-aws-billing.fullname" .) .Values.aws.existingSecret }}
{{- end }}

{{/* The port of config.listen (host:port); 8080 when not set. The pod's probes and its Service
address this port, so it must be fixed: port 0 (any free port, chosen at start) and anything
that is not a port 1-65535 make the chart fail. */}}
{{- define "source-aws-billing.port" -}}
{{- $listen := default "0.0.0.0:8080" .Values.config.listen | toString }}
{{- $port := splitList ":" $listen | last }}
{{- if not (regexMatch "^[0-9]{1,5}$" $port) }}
{{- fail (printf "config.listen %q: the port must be a number 1-65535 (host:port), as the pod's probes and its Service address it" $listen) }}
{{- end }}
{{- if or (lt ($port | int) 1) (gt ($port | int) 65535) }}
{{- fail (printf "config.listen %q: port %s is not allowed, set a fixed port 1-65535 (port 0 means any free port, chosen when the service starts, but the pod's probes and its Service need to know the port)" $listen $port) }}
{{- end }}
{{- $port | int }}
{{- end }}

{{/* service.port as a number 1-65535; anything else makes the chart fail naming the value. */}}
{{- define "source-aws-billing.servicePort" -}}
{{- $port := toString .Values.service.port }}
{{- if not (regexMatch "^[0-9]{1,5}$" $port) }}
{{- fail (printf "service.port %q: must be a number 1-65535" $port) }}
{{- end }}
{{- if or (lt ($port | int) 1) (gt ($port | int) 65535) }}
{{- fail (printf "service.port %s: must be a number 1-65535" $port) }}
{{- end }}
{{- $port | int }}
{{- end }}
