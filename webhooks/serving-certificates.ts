// Where the webhooks' serving certificate comes from, and how it changes without a failed review:
//  - files (--tls-cert-file/--tls-private-key-file, e.g. cert-manager): re-read every few seconds; a new pair
//    that loads is served to new connections; cert-manager's cainjector keeps caBundle in sync.
//  - generated (--cert-dir): a CA and a serving certificate made with node-forge and kept in the directory (a
//    restart reuses them). The serving certificate is re-issued when a third of its life is left. The CA is
//    rotated when half of its life is left, in three steps, each taken only after the previous one is done: the new CA is added
//    to the webhook configuration's caBundle, then (after a grace period for kube-apiserver to see it) the serving
//    certificate is re-issued from it, and the old CA leaves the bundle when it expires.

import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { pino } from 'pino';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Logger } from '../core/log/logger.js';
import { errorMessage } from '../core/log/logger.js';
import { createCertificateAuthority, issueCertificate, type KeyPair } from '../core/tls/certificates.js';

export interface ServingPair {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface ServingCertificates {
  /** The pair to serve now. */
  current(): ServingPair;
  /** The CA certificates (PEM) kube-apiserver must trust now; empty for certificates from files. */
  caBundle(): readonly string[];
  stop(): void;
}

const DAY_MS = 24 * 3600 * 1000;

function notAfter(pem: string): number {
  return new Date(new X509Certificate(pem).validTo).getTime();
}

function notBefore(pem: string): number {
  return new Date(new X509Certificate(pem).validFrom).getTime();
}

function certMetrics(registry: Registry) {
  return {
    rotations: new Counter({
      name: 'fedmesh_webhook_certificate_rotations_total',
      help: 'Certificates replaced while running: serving (the serving certificate) or ca (the generated CA)',
      labelNames: ['certificate'],
      registers: [registry],
    }),
    expiry: new Gauge({
      name: 'fedmesh_webhook_serving_certificate_expiry_timestamp_seconds',
      help: 'When the serving certificate in use expires (Unix time)',
      registers: [registry],
    }),
  };
}

/** Loads a certificate and key pair from files and serves every readable change of them. */
export function fileServingCertificates(o: {
  certFile: string;
  keyFile: string;
  log: Logger;
  registry: Registry;
  onChange: (pair: ServingPair) => void;
  pollMs?: number;
}): ServingCertificates {
  const metrics = certMetrics(o.registry);
  const read = (): ServingPair => {
    const pair = { certPem: readFileSync(o.certFile, 'utf8'), keyPem: readFileSync(o.keyFile, 'utf8') };
    createSecureContext({ cert: pair.certPem, key: pair.keyPem }); // throws unless the key fits the certificate
    return pair;
  };
  let pair = read();
  metrics.expiry.set(notAfter(pair.certPem) / 1000);
  const timer = setInterval(() => {
    let next: ServingPair;
    try {
      next = read();
    } catch (err) {
      // A half-written pair (cert-manager writes two files) is tried again on the next poll.
      o.log.warn({ err: errorMessage(err) }, 'serving certificate files unreadable; still serving the previous pair');
      return;
    }
    if (next.certPem === pair.certPem && next.keyPem === pair.keyPem) return;
    pair = next;
    metrics.rotations.inc({ certificate: 'serving' });
    metrics.expiry.set(notAfter(pair.certPem) / 1000);
    o.onChange(pair);
    o.log.info({ notAfter: new Date(notAfter(pair.certPem)).toISOString() }, 'serving certificate reloaded from files');
  }, o.pollMs ?? 5000);
  timer.unref();
  return { current: () => pair, caBundle: () => [], stop: () => clearInterval(timer) };
}

export interface GeneratedCertificateOptions {
  readonly dir: string;
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  readonly certValidityMs: number;
  readonly caValidityMs: number;
  readonly log: Logger;
  readonly registry: Registry;
  /** Serves a new pair. */
  readonly onChange: (pair: ServingPair) => void;
  /** Makes kube-apiserver trust these CAs (merged into the webhook configuration); false while it cannot. */
  readonly publishCaBundle: (caPems: readonly string[]) => Promise<boolean>;
}

interface StoredCa extends KeyPair {
  readonly notBefore: number;
  readonly notAfter: number;
}

/** The generated CA and serving certificate, rotated before they expire (see the top of this file). */
export class GeneratedServingCertificates implements ServingCertificates {
  private ca!: StoredCa;
  private next: StoredCa | undefined;
  private previous: StoredCa | undefined;
  /** When the next CA was first published in the bundle. */
  private nextPublishedAt: number | undefined;
  private leaf!: KeyPair;
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private readonly metrics: ReturnType<typeof certMetrics>;
  private readonly paths;

  constructor(private readonly o: GeneratedCertificateOptions) {
    this.metrics = certMetrics(o.registry);
    const p = (f: string) => join(o.dir, f);
    this.paths = {
      ca: [p('ca.crt'), p('ca.key')],
      next: [p('next-ca.crt'), p('next-ca.key')],
      previous: [p('previous-ca.crt'), p('previous-ca.key')],
      leaf: [p('tls.crt'), p('tls.key')],
    } as const;
    mkdirSync(o.dir, { recursive: true, mode: 0o700 });
    this.ca = this.load('ca') ?? this.save('ca', this.newCa());
    this.next = this.load('next');
    this.previous = this.load('previous');
    const leaf = this.load('leaf');
    this.leaf = leaf !== undefined && this.issuedByCurrentCa(leaf.certPem) ? leaf : this.issueLeaf();
    this.metrics.expiry.set(notAfter(this.leaf.certPem) / 1000);
  }

  current(): ServingPair {
    return this.leaf;
  }

  caBundle(): readonly string[] {
    return [this.ca, this.next, this.previous].flatMap((c) => (c === undefined ? [] : [c.certPem]));
  }

  /** Publishes the bundle, then checks on a timer (a fraction of the shortest lifetime). */
  async start(): Promise<void> {
    await this.tick();
    const every = Math.max(200, Math.min(60_000, this.o.certValidityMs / 20, this.o.caValidityMs / 20));
    this.timer = setInterval(() => void this.tick(), every);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One check: publish, rotate what is due. Never throws (a failure is logged and retried on the next tick). */
  async tick(now = Date.now()): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      await this.step(now);
    } catch (err) {
      this.o.log.error({ err: errorMessage(err) }, 'certificate rotation step failed; retrying');
    } finally {
      this.ticking = false;
    }
  }

  private async step(now: number): Promise<void> {
    if (this.previous !== undefined && this.previous.notAfter <= now) {
      this.previous = undefined;
      this.remove('previous');
    }
    // Due when half the configured lifetime is left (certificates are back-dated a little for clock skew): the old
    // CA must outlive publishing the new one, the grace period and the switch, even on a starved machine.
    if (this.next === undefined && this.ca.notAfter - now < this.o.caValidityMs / 2) {
      this.next = this.save('next', this.newCa());
      this.nextPublishedAt = undefined;
      this.o.log.info(
        { notAfter: new Date(this.next.notAfter).toISOString() },
        'new CA generated; adding it to caBundle',
      );
    }
    const published = await this.o.publishCaBundle(this.caBundle());
    if (this.next !== undefined && published) this.nextPublishedAt ??= now;
    // kube-apiserver reads webhook configurations through an informer: give it time to see the new CA first.
    const grace = Math.min(10_000, this.o.caValidityMs / 10);
    if (this.next !== undefined && this.nextPublishedAt !== undefined && now - this.nextPublishedAt >= grace) {
      this.previous = this.save('previous', this.ca);
      this.ca = this.save('ca', this.next);
      this.next = undefined;
      this.remove('next');
      this.metrics.rotations.inc({ certificate: 'ca' });
      this.o.log.info({ notAfter: new Date(this.ca.notAfter).toISOString() }, 'CA rotated');
      this.serve(this.issueLeaf());
      return;
    }
    if (notAfter(this.leaf.certPem) - now < this.o.certValidityMs / 3) this.serve(this.issueLeaf());
  }

  private serve(leaf: KeyPair): void {
    this.leaf = leaf;
    this.metrics.rotations.inc({ certificate: 'serving' });
    this.metrics.expiry.set(notAfter(leaf.certPem) / 1000);
    this.o.onChange(leaf);
    this.o.log.info({ notAfter: new Date(notAfter(leaf.certPem)).toISOString() }, 'serving certificate rotated');
  }

  private newCa(): KeyPair {
    // A name of its own per CA, so that the old and the new one in a bundle are told apart (also by people).
    return createCertificateAuthority(`fedmesh-webhooks-ca-${Date.now()}`, this.o.caValidityMs / DAY_MS);
  }

  private issuedByCurrentCa(leafPem: string): boolean {
    try {
      return new X509Certificate(leafPem).checkIssued(new X509Certificate(this.ca.certPem));
    } catch {
      return false;
    }
  }

  // Never outlives its CA: a serving certificate valid after its CA expired would fail verification anyway.
  private issueLeaf(): KeyPair {
    const validMs = Math.min(this.o.certValidityMs, this.ca.notAfter - Date.now());
    const leaf = issueCertificate(this.ca, {
      commonName: this.o.dnsNames[0] ?? 'fedmesh-webhooks',
      dnsNames: this.o.dnsNames,
      ipAddresses: this.o.ipAddresses,
      usage: 'server',
      validDays: validMs / DAY_MS,
    });
    const [cert, key] = this.paths.leaf;
    writeFileSync(key, leaf.keyPem, { mode: 0o600 });
    writeFileSync(cert, leaf.certPem);
    return leaf;
  }

  private load(which: keyof typeof this.paths): StoredCa | undefined {
    const [cert, key] = this.paths[which];
    if (!existsSync(cert) || !existsSync(key)) return undefined;
    const certPem = readFileSync(cert, 'utf8');
    return { certPem, keyPem: readFileSync(key, 'utf8'), notBefore: notBefore(certPem), notAfter: notAfter(certPem) };
  }

  private save(which: keyof typeof this.paths, pair: KeyPair): StoredCa {
    const [cert, key] = this.paths[which];
    writeFileSync(key, pair.keyPem, { mode: 0o600 });
    writeFileSync(cert, pair.certPem);
    return { ...pair, notBefore: notBefore(pair.certPem), notAfter: notAfter(pair.certPem) };
  }

  private remove(which: keyof typeof this.paths): void {
    for (const f of this.paths[which]) rmSync(f, { force: true });
  }
}

/**
 * Makes (or reads) the generated CA and serving certificate in `dir` before the webhooks start, and returns the CAs
 * to register in caBundle: for an installer that writes the webhook configuration before the process runs.
 */
export function prepareGeneratedCertificates(
  o: Pick<GeneratedCertificateOptions, 'dir' | 'dnsNames' | 'ipAddresses' | 'certValidityMs' | 'caValidityMs'>,
): string[] {
  const certs = new GeneratedServingCertificates({
    ...o,
    log: pino({ enabled: false }),
    registry: new Registry(),
    onChange: () => {},
    publishCaBundle: async () => false,
  });
  return [...certs.caBundle()];
}
