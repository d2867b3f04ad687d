// The aggregated API federation.fedmesh.io is served: discovery lists its three resources, and a list answers.
const gv = '/apis/federation.fedmesh.io/v1alpha1';
const discovery = await kube('GET', gv);
if (discovery.status !== 200) {
  fail(`GET ${gv} answered ${discovery.status}: ${discovery.text.slice(0, 300)} (is the APIService Available? kubectl get apiservice v1alpha1.federation.fedmesh.io)`);
}
const served = (discovery.json?.resources ?? []).map((r) => r.name);
for (const want of ['remoteworkloads', 'federatedendpoints', 'remotenodes']) {
  if (!served.includes(want)) fail(`discovery of ${gv} lacks ${want} (it lists: ${served.join(', ')})`);
}
const list = await kube('GET', `${gv}/namespaces/${namespace}/remoteworkloads?limit=1`);
if (list.status !== 200 || list.json?.kind !== 'RemoteWorkloadList') {
  fail(`listing remoteworkloads answered ${list.status}: ${list.text.slice(0, 300)}`);
}
console.log(`ok: ${gv} serves ${served.join(', ')}`);
