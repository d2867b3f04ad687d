// The real uid of a local Service, which the ownerReference of its EndpointSlices needs and the mesh cache does
// not keep (it keeps one derived from it). Known from the slices already written (a restart asks nothing); else
// the federated Services of the namespace are listed once for all those missing at the same time, so that the
// first sync of a thousand federated Services costs a list per namespace rather than a GET each.
import { isStatus, type KubeRestClient } from '../../core/kube/rest-client.js';
import type { MeshService } from '../mesh-types.js';
import { stableUid } from '../stable-uid.js';
import { federationAnnotationOf } from './federated-service.js';

const pageSize = 500;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export class LocalServiceUids {
  /** Real uid by the mesh's derived uid, of federated Services only. */
  private readonly known = new Map<string, string>();
  private readonly listing = new Map<string, Promise<void>>();

  constructor(
    private readonly client: KubeRestClient,
    private readonly localCluster: string,
  ) {}

  /** The Service's real uid, or undefined when it is gone or recreated (its mesh event brings the caller back). */
  async of(svc: MeshService, candidates: Iterable<string>): Promise<string | undefined> {
    const known = this.known.get(svc.uid);
    if (known) return known;
    for (const uid of candidates) {
      if (uid && this.meshUid(uid) === svc.uid) {
        this.known.set(svc.uid, uid);
        return uid;
      }
    }
    const joined = this.listing.has(svc.namespace);
    await this.list(svc.namespace);
    const listed = this.known.get(svc.uid);
    // A list begun before this Service was created may not hold it: ask for it alone.
    return listed ?? (joined ? await this.get(svc) : undefined);
  }

  forget(meshUid: string): void {
    this.known.delete(meshUid);
  }

  private meshUid(uid: string): string {
    return stableUid(this.localCluster, 'Service', uid);
  }

  private remember(raw: unknown): void {
    const m = isRecord(raw) && isRecord(raw.metadata) ? raw.metadata : undefined;
    const annotations = m && isRecord(m.annotations) ? m.annotations : {};
    const strings: Record<string, string> = {};
    for (const [k, v] of Object.entries(annotations)) if (typeof v === 'string') strings[k] = v;
    if (typeof m?.uid === 'string' && m.uid && federationAnnotationOf({ annotations: strings }) !== undefined) {
      this.known.set(this.meshUid(m.uid), m.uid);
    }
  }

  /** One list of the namespace's Services at a time, shared by every sync waiting for it. */
  private list(namespace: string): Promise<void> {
    let p = this.listing.get(namespace);
    if (!p) {
      p = this.listPages(namespace).finally(() => this.listing.delete(namespace));
      this.listing.set(namespace, p);
    }
    return p;
  }

  private async listPages(namespace: string): Promise<void> {
    let next = '';
    do {
      const page = await this.client.get<{ items?: unknown; metadata?: { continue?: unknown } }>(
        `/api/v1/namespaces/${encodeURIComponent(namespace)}/services?limit=${pageSize}${next ? `&continue=${encodeURIComponent(next)}` : ''}`,
      );
      for (const item of Array.isArray(page.items) ? page.items : []) this.remember(item);
      next = typeof page.metadata?.continue === 'string' ? page.metadata.continue : '';
    } while (next);
  }

  private async get(svc: MeshService): Promise<string | undefined> {
    let body: unknown;
    try {
      body = await this.client.get(
        `/api/v1/namespaces/${encodeURIComponent(svc.namespace)}/services/${encodeURIComponent(svc.name)}`,
      );
    } catch (err) {
      if (isStatus(err, 404)) return undefined;
      throw err;
    }
    this.remember(body);
    return this.known.get(svc.uid);
  }
}
