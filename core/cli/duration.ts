// Durations as Kubernetes and its tools write them (Go's time.ParseDuration, the units people use).

const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go-style duration (`90s`, `5m`, `1h30m`, `500ms`) in milliseconds, or undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m?.[1] || !m[2]) return undefined;
    total += Number(m[1]) * (unitMs[m[2]] ?? 0);
    pos = re.lastIndex;
  }
  return pos === 0 ? undefined : Math.round(total);
}
