// The ValidationContext of a running webhooks process: RemoteClusterConfiguration names from a list+watch (so a
// review never waits on kube-apiserver for them), and Secret existence asked at review time with a short timeout
// (metadata only: the Secret's data never reaches this process).

import { ResilientInformer } from '../core/kube/resilient-informer.js';
import { isStatus, type KubeRestClient } from '../core/kube/rest-client.js';
import type { Logger } from '../core/log/logger.js';
import { errorMessage } from '../core/log/logger.js';
import { rccGroup, rccPlural, rccVersion } from '../federation/index.js';
import type { ValidationContext } from './validation-context.js';

const SECRET_CHECK_TIMEOUT_MS = 1500;
const PARTIAL_METADATA = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';

export interface ClusterState extends ValidationContext {
  /** Settles after the first complete list of RCCs. */
  readonly synced: Promise<void>;
  readonly hasSynced: () => boolean;
  stop(): Promise<void>;
}

export function watchClusterState(o: {
  client: KubeRestClient;
  localCluster: string;
  accessSecretNamespace: string;
  log: Logger;
}): ClusterState {
  let names: Set<string> | undefined;
  const informer = new ResilientInformer<string>({
    client: o.client,
    path: `/apis/${rccGroup}/${rccVersion}/${rccPlural}`,
    convert: (raw) => raw.metadata?.name,
    handlers: {
      onList: (items) => {
        names = new Set(items.values());
      },
      onUpsert: (_key, name) => {
        names?.add(name);
      },
      onDelete: (key) => {
        names?.delete(key);
      },
      onPhase: (phase, failure) => {
        if (phase === 'failed') {
          o.log.warn(
            { verb: failure?.verb, err: errorMessage(failure?.error) },
            'RemoteClusterConfigurations: retrying',
          );
        }
      },
    },
  });
  informer.start();
  return {
    localCluster: o.localCluster,
    accessSecretNamespace: o.accessSecretNamespace,
    synced: informer.synced,
    hasSynced: () => informer.hasSynced,
    knownClusters: () => names,
    secretExists: async (namespace, name) => {
      try {
        await o.client.request(
          'GET',
          `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`,
          { accept: PARTIAL_METADATA, timeoutMs: SECRET_CHECK_TIMEOUT_MS },
        );
        return { exists: true };
      } catch (err) {
        if (isStatus(err, 404)) return { exists: false };
        return { error: errorMessage(err).slice(0, 200) };
      }
    },
    stop: () => informer.stop(),
  };
}
