{{/*
Names are fixed: the APIService v1alpha1.federation.fedmesh.io is one per cluster, so there is one release per
cluster, and the objects keep the names that `fedmesh server` and `fedmesh webhooks` default to.
*/}}

{{/* Labels on every object. Usage: include "fedmesh.labels" (dict "root" $ "component" "server") */}}
{{- define "fedmesh.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: fedmesh
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: fedmesh
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
{{- end }}

{{/* Labels that select a component's pods. Usage: include "fedmesh.selectorLabels" (dict "root" $ "component" "server") */}}
{{- define "fedmesh.selectorLabels" -}}
app.kubernetes.io/name: fedmesh
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* The image reference: by digest when image.digest is set, else by tag (default: appVersion). */}}
{{- define "fedmesh.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end }}

{{/* The required cluster name, checked once with a message that says how to fix it. */}}
{{- define "fedmesh.clusterName" -}}
{{- $name := .Values.cluster.name -}}
{{- if not $name -}}
{{- fail "cluster.name is required: the name of this cluster in the mesh, a DNS-1123 label (e.g. --set cluster.name=east). The other clusters name their RemoteClusterConfiguration for this cluster the same." -}}
{{- end -}}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" $name) -}}
{{- fail (printf "cluster.name %q is not a DNS-1123 label: use lowercase letters, digits and '-', starting and ending with a letter or digit, no dots" $name) -}}
{{- end -}}
{{- $name -}}
{{- end }}

{{/* DNS names of a Service's serving certificate. Usage: include "fedmesh.dnsNames" (dict "root" $ "service" "fedmesh-api") */}}
{{- define "fedmesh.dnsNames" -}}
{{- $ns := .root.Release.Namespace -}}
{{- list (printf "%s.%s.svc" .service $ns) (printf "%s.%s.svc.cluster.local" .service $ns) (printf "%s.%s" .service $ns) .service | toJson -}}
{{- end }}

{{/* Secret names holding the serving certificates (tls.crt, tls.key). */}}
{{- define "fedmesh.apiTLSSecret" -}}
{{- if eq .Values.tls.mode "provided" }}{{ .Values.tls.provided.apiSecretName }}{{ else }}fedmesh-api-tls{{ end -}}
{{- end }}
{{- define "fedmesh.webhooksTLSSecret" -}}
{{- if eq .Values.tls.mode "provided" }}{{ .Values.tls.provided.webhooksSecretName }}{{ else }}fedmesh-webhooks-tls{{ end -}}
{{- end }}

{{/*
In tls.mode=generated: one CA and both serving certificates, computed once per render and kept in the root
context, so that the Secrets, the APIService and the webhook configuration all see the same CA (each template
that needs it calls this first; don't compute it per template). On upgrade the existing Secrets are reused when
both are there and carry the same CA, so an upgrade does not rotate the CA under running pods.
*/}}
{{- define "fedmesh.tls.generate" -}}
{{- if not (hasKey . "fedmeshGeneratedTLS") -}}
{{- $ns := .Release.Namespace -}}
{{- $api := lookup "v1" "Secret" $ns "fedmesh-api-tls" -}}
{{- $wh := lookup "v1" "Secret" $ns "fedmesh-webhooks-tls" -}}
{{- $tls := dict -}}
{{- if and $api $wh $api.data $wh.data (hasKey $api.data "ca.crt") (eq (index $api.data "ca.crt") (index $wh.data "ca.crt" | default "")) -}}
{{- $tls = dict "ca" (index $api.data "ca.crt" | b64dec) "apiCert" (index $api.data "tls.crt" | b64dec) "apiKey" (index $api.data "tls.key" | b64dec) "webhooksCert" (index $wh.data "tls.crt" | b64dec) "webhooksKey" (index $wh.data "tls.key" | b64dec) -}}
{{- else -}}
{{- $days := int .Values.tls.generated.validityDays -}}
{{- $ca := genCA "fedmesh-ca" $days -}}
{{- $apiNames := include "fedmesh.dnsNames" (dict "root" . "service" "fedmesh-api") | fromJsonArray -}}
{{- $whNames := include "fedmesh.dnsNames" (dict "root" . "service" "fedmesh-webhooks") | fromJsonArray -}}
{{- $apiLeaf := genSignedCert (first $apiNames) nil $apiNames $days $ca -}}
{{- $whLeaf := genSignedCert (first $whNames) nil $whNames $days $ca -}}
{{- $tls = dict "ca" $ca.Cert "apiCert" $apiLeaf.Cert "apiKey" $apiLeaf.Key "webhooksCert" $whLeaf.Cert "webhooksKey" $whLeaf.Key -}}
{{- end -}}
{{- $_ := set . "fedmeshGeneratedTLS" $tls -}}
{{- end -}}
{{- end }}

{{/* The caBundle (base64) of the APIService and webhooks; empty in cert-manager mode (cainjector fills it in). */}}
{{- define "fedmesh.caBundle" -}}
{{- if eq .Values.tls.mode "generated" -}}
{{- include "fedmesh.tls.generate" . -}}
{{- .fedmeshGeneratedTLS.ca | b64enc -}}
{{- else if eq .Values.tls.mode "provided" -}}
{{- required "tls.provided.caBundle is required with tls.mode=provided: the PEM of the CA that signed the certificates in tls.provided.apiSecretName and tls.provided.webhooksSecretName (--set-file tls.provided.caBundle=ca.crt)" .Values.tls.provided.caBundle | b64enc -}}
{{- end -}}
{{- end }}

{{/* cert-manager's CA injection annotation. Usage: include "fedmesh.injectCA" (dict "root" $ "certificate" "fedmesh-api") */}}
{{- define "fedmesh.injectCA" -}}
{{- if eq .root.Values.tls.mode "cert-manager" }}
annotations:
  cert-manager.io/inject-ca-from: {{ .root.Release.Namespace }}/{{ .certificate }}
{{- end }}
{{- end }}

{{/* One generated rule set (files/generated/rbac.yaml, from the TypeScript manifests). Usage: include "fedmesh.rules" (dict "root" $ "set" "serverCluster") */}}
{{- define "fedmesh.rules" -}}
{{- $sets := .root.Files.Get "files/generated/rbac.yaml" | fromYaml -}}
{{- if not (hasKey $sets .set) -}}
{{- fail (printf "internal: no rule set %s in files/generated/rbac.yaml (run npm run chart:generate)" .set) -}}
{{- end -}}
{{- toYaml (index $sets .set) -}}
{{- end }}

{{/*
The ServiceAccount token as a projected volume (the ServiceAccounts set automountServiceAccountToken: false):
a short-lived, audience-bound token that the kubelet rotates, the cluster CA and the namespace, at the usual path.
*/}}
{{- define "fedmesh.tokenVolume" -}}
- name: kube-api-access
  projected:
    defaultMode: 0444
    sources:
      - serviceAccountToken:
          path: token
          expirationSeconds: 3607
      - configMap:
          name: kube-root-ca.crt
          items:
            - key: ca.crt
              path: ca.crt
      - downwardAPI:
          items:
            - path: namespace
              fieldRef:
                fieldPath: metadata.namespace
{{- end }}
{{- define "fedmesh.tokenMount" -}}
- name: kube-api-access
  mountPath: /var/run/secrets/kubernetes.io/serviceaccount
  readOnly: true
{{- end }}

{{/* The container security context of the server, the webhooks and the tests: no privileges at all. */}}
{{- define "fedmesh.restrictedSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Default anti-affinity: prefer replicas of a component on different nodes. Usage: include "fedmesh.affinity" (dict "root" $ "component" "server" "affinity" .Values.server.affinity) */}}
{{- define "fedmesh.affinity" -}}
{{- if .affinity -}}
{{ toYaml .affinity }}
{{- else -}}
podAntiAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      podAffinityTerm:
        topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            {{- include "fedmesh.selectorLabels" . | nindent 12 }}
{{- end -}}
{{- end }}
