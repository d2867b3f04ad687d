// Source creation times in the slim cache as whole seconds since 2020-01-01: a small integer, which V8 keeps in the
// object itself, where a millisecond timestamp (a double) would cost a separate 16-byte box per object. Kubernetes
// timestamps have whole seconds anyway. 0 means unknown (an object created at exactly the epoch reads as unknown,
// which only makes its served time the time it was first seen).

const epochMs = Date.UTC(2020, 0, 1);

/** metadata.creationTimestamp (a string in the raw JSON, whatever the client types say) in createdSeconds form. */
export function createdSeconds(timestamp: unknown): number {
  const ms =
    typeof timestamp === 'string' ? Date.parse(timestamp) : timestamp instanceof Date ? timestamp.getTime() : NaN;
  return Number.isFinite(ms) ? Math.floor((ms - epochMs) / 1000) : 0;
}

/** The RFC 3339 timestamp (whole seconds, as Kubernetes writes it), or undefined when unknown. */
export function creationTimestamp(created: number): string | undefined {
  return created === 0 ? undefined : `${new Date(epochMs + created * 1000).toISOString().slice(0, 19)}Z`;
}
