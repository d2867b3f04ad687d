// `fedmesh testbed deploy`, the admission part: one `fedmesh webhooks` process per cluster on the host, as its own
// ServiceAccount, registered with clientConfig.url (kube-apiserver calls the host process directly), and a check
// that kube-apiserver really calls it before deploy says it is done.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { servingDnsNames } from '../../apiserver/index.js';
import { applyManifest } from '../../core/kube/apply.js';
import { KubeApiError, type KubeRestClient } from '../../core/kube/rest-client.js';
import { readServiceAccountToken } from '../../core/kube/service-account-token.js';
import { FNP_API_VERSION, FNP_GROUP, FNP_KIND, FNP_PLURAL, fnpCrd } from '../../core/policy/index.js';
import { accessKubeconfig } from '../../federation/remote-access.js';
import {
  type FailurePolicy,
  prepareGeneratedCertificates,
  webhookConfigurationManifest,
  webhooksAccessManifests,
  webhooksServiceAccount,
  webhooksTokenSecret,
} from '../../webhooks/index.js';
import { freePort, isRunning, logTail, stopProcess } from './processes.js';
import { type TestbedState, writeState } from './state.js';
import { launchProcess, TestbedError } from './up.js';

export const webhooksService = { namespace: 'fedmesh-system', name: 'fedmesh-webhooks' } as const;
export const webhookConfigurationName = 'fedmesh';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The FNP CRD, installed with the others. */
export const policyCrds = [fnpCrd] as const;

export interface WebhookDeployOptions {
  readonly failurePolicy?: FailurePolicy;
  /** Extra flags for each `fedmesh webhooks` (e.g. short certificate lifetimes in a rotation test). */
  readonly extraArgs?: readonly string[];
}

export async function deployWebhooks(
  state: TestbedState,
  clients: ReadonlyMap<string, KubeRestClient>,
  fedmeshBin: string,
  version: string,
  report: (msg: string) => void,
  opts: WebhookDeployOptions = {},
): Promise<void> {
  const old = state.processes.filter((p) => p.component === 'fedmesh-webhooks');
  if (old.length > 0) {
    await Promise.all(old.map((p) => stopProcess(p)));
    state.processes = state.processes.filter((p) => p.component !== 'fedmesh-webhooks');
    writeState(state);
  }
  await Promise.all(
    state.clusters.map(async (c) => {
      const client = clients.get(c.name);
      if (!client) throw new Error('unreachable');
      const port = await freePort();
      const metricsPort = await freePort();
      const certDir = join(state.dir, 'fedmesh', c.name, 'webhook-certs');
      const caBundle = prepareGeneratedCertificates({
        dir: certDir,
        dnsNames: servingDnsNames(webhooksService.name, webhooksService.namespace),
        ipAddresses: ['127.0.0.1'],
        certValidityMs: 365 * 24 * 3600 * 1000,
        caValidityMs: 3650 * 24 * 3600 * 1000,
      });
      for (const m of [
        ...webhooksAccessManifests(webhooksService.namespace, {
          tokenSecret: true,
          webhookConfiguration: webhookConfigurationName,
        }),
        webhookConfigurationManifest({
          name: webhookConfigurationName,
          endpoint: { url: `https://127.0.0.1:${port}` },
          caBundlePem: caBundle.join(''),
          failurePolicy: opts.failurePolicy ?? 'Fail',
          excludedNamespaces: [webhooksService.namespace],
        }),
      ]) {
        await applyManifest(client, m);
      }
      const identity = await readServiceAccountToken(client, webhooksService.namespace, webhooksTokenSecret);
      const kubeconfig = join(state.dir, 'fedmesh', c.name, 'webhooks.kubeconfig');
      writeFileSync(
        kubeconfig,
        accessKubeconfig({ clusterName: c.name, server: c.server, ...identity, user: webhooksServiceAccount }),
        { mode: 0o600 },
      );
      launchProcess(state, {
        cluster: c.name,
        component: 'fedmesh-webhooks',
        port: metricsPort,
        version,
        argv: [
          process.execPath,
          fedmeshBin,
          'webhooks',
          `--cluster-name=${c.name}`,
          `--kubeconfig=${kubeconfig}`,
          `--bind-address=127.0.0.1:${port}`,
          `--metrics-bind-address=127.0.0.1:${metricsPort}`,
          `--cert-dir=${certDir}`,
          `--webhook-service=${webhooksService.namespace}/${webhooksService.name}`,
          `--webhook-configuration=${webhookConfigurationName}`,
          ...(opts.extraArgs ?? []),
        ],
      });
      await waitUntilCalled(state, client, c.name, 60_000);
      report(
        `${c.name}: fedmesh webhooks on 127.0.0.1:${port}, registered as ValidatingWebhookConfiguration ${webhookConfigurationName}`,
      );
    }),
  );
}

/** Waits until kube-apiserver calls the webhooks: a dry-run of an invalid FNP is denied by them. */
async function waitUntilCalled(state: TestbedState, client: KubeRestClient, cluster: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  const probe = {
    apiVersion: FNP_API_VERSION,
    kind: FNP_KIND,
    metadata: { name: 'fedmesh-deploy-probe', namespace: 'default' },
    spec: { selector: '(' },
  };
  let last = '';
  for (;;) {
    try {
      await client.request('POST', `/apis/${FNP_GROUP}/v1alpha1/namespaces/default/${FNP_PLURAL}?dryRun=All`, {
        body: probe,
        timeoutMs: 10_000,
      });
      last = 'an invalid FederatedNetworkPolicy was admitted';
    } catch (err) {
      if (err instanceof KubeApiError && /admission webhook ".*fedmesh.io" denied the request/.test(err.message))
        return;
      last = err instanceof Error ? err.message : String(err);
    }
    const proc = state.processes.find((p) => p.cluster === cluster && p.component === 'fedmesh-webhooks');
    if (proc && !isRunning(proc)) {
      throw new TestbedError(`fedmesh webhooks of ${cluster} exited. Last lines of its log:\n${logTail(proc.log)}`);
    }
    if (Date.now() > deadline) throw new TestbedError(`the webhooks of ${cluster} are not called: ${last}`);
    await sleep(200);
  }
}
