import type { KubeRestClient } from '../core/kube/rest-client.js';
import type { Logger } from '../core/log/logger.js';
import { type AuthenticationConfig, requestHeaderConfigFrom } from './auth/authenticator.js';
import { parseCertBundle } from './auth/client-cert.js';

/**
 * The cluster's trust for aggregated servers, from kube-system/extension-apiserver-authentication (AUTHN-01/02),
 * re-read every few seconds so that a rotated front-proxy CA is honoured without a restart. Until the first read
 * succeeds no certificate is trusted (fail closed) and readiness says why.
 */
export class AuthenticationConfigSource {
  private config: AuthenticationConfig = { requestHeader: undefined, clientCAs: [] };
  private lastResourceVersion = '';
  private loadedOnce = false;
  private lastError = 'not read yet';
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly kube: KubeRestClient,
    private readonly log: Logger,
    private readonly onChange: (cfg: AuthenticationConfig, pems: string[]) => void,
    private readonly intervalMs = 5000,
  ) {}

  current(): AuthenticationConfig {
    return this.config;
  }

  loaded(): { ok: boolean; message: string } {
    return { ok: this.loadedOnce, message: this.loadedOnce ? 'loaded' : this.lastError };
  }

  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async refresh(): Promise<void> {
    try {
      const cm = await this.kube.get<{ metadata: { resourceVersion: string }; data?: Record<string, string> }>(
        '/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication',
      );
      if (cm.metadata.resourceVersion === this.lastResourceVersion) return;
      const data = cm.data ?? {};
      const parsed = requestHeaderConfigFrom(data, parseCertBundle);
      this.config = parsed;
      const pems = [data['requestheader-client-ca-file'], data['client-ca-file']].filter((p): p is string => !!p);
      this.onChange(parsed, pems);
      if (this.loadedOnce) this.log.info('extension-apiserver-authentication changed: trust reloaded');
      this.lastResourceVersion = cm.metadata.resourceVersion;
      this.loadedOnce = true;
    } catch (err) {
      this.lastError = `cannot read kube-system/extension-apiserver-authentication: ${err instanceof Error ? err.message : String(err)}`;
      this.log.warn({ err: this.lastError }, 'authentication config');
    }
  }
}
