// The webhooks answer through the API server: a NetworkPolicy whose podSelector names another cluster (only local
// pods can be selected there) is refused by the webhook, in a dry run that stores nothing.
const other = `not-${process.env.CLUSTER_NAME}`.slice(0, 63);
const policyNamespace = process.env.POLICY_NAMESPACE;
const policy = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'fedmesh-helm-test-bad-policy', namespace: policyNamespace },
  spec: { podSelector: { matchLabels: { 'fedmesh.io/cluster': other } }, policyTypes: ['Ingress'] },
};
const path = `/apis/networking.k8s.io/v1/namespaces/${policyNamespace}/networkpolicies?dryRun=All`;
const res = await kube('POST', path, policy);
const message = res.json?.message ?? res.text.slice(0, 300);
if (res.status === 201 || res.status === 200) {
  fail('the API server accepted a NetworkPolicy whose podSelector names another cluster: the webhooks did not check it');
}
if (!/denied the request/.test(message)) {
  fail(`the webhooks did not answer (${res.status}): ${message}`);
}
console.log(`ok: the webhooks refused the bad policy: ${message}`);
