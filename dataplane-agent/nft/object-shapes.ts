// The shape of a set, map or chain: what an object of that name must be for a full sync to refill it rather than
// replace it. A set's key types and flags, a map's key and value types, a chain's hook. Compared between what the
// agent declares and what the kernel holds (terse JSON read-back), so that an object of the right name and the
// wrong shape (left by another version of fedmesh, or made by hand) is recreated. Without this, `add set` would be
// refused on every full sync (the node stuck on its last ruleset), and a chain `forward` without its hook would
// never see a packet (every pod unfiltered).

/** One object as `nft -t -j list table` prints it (the fields read here). */
export interface ReadBackObject {
  readonly type?: string | readonly string[];
  readonly flags?: readonly string[];
  readonly map?: string;
  readonly hook?: string;
  readonly policy?: string;
}

function setShape(types: readonly string[], flags: readonly string[], mapTo?: string): string {
  const f = flags.length === 0 ? '' : ` flags ${[...flags].sort().join(',')}`;
  return `${types.join(' . ')}${mapTo === undefined ? '' : ` : ${mapTo}`}${f}`;
}

/**
 * A declaration body as the renderer writes it: `type ipv4_addr . mark; flags interval; auto-merge;` (a set) or
 * `type ipv4_addr : verdict;` (a map). `auto-merge` is left out: nft does not print it back.
 */
export function declaredShape(declaration: string): string {
  let types: string[] = [];
  let mapTo: string | undefined;
  let flags: string[] = [];
  for (const statement of declaration.split(';')) {
    const s = statement.trim();
    if (s.startsWith('type ')) {
      const [key, value] = s.slice(5).split(':');
      types = (key ?? '').split('.').map((t) => t.trim());
      mapTo = value?.trim();
    } else if (s.startsWith('flags ')) {
      flags = s
        .slice(6)
        .split(',')
        .map((f) => f.trim());
    }
  }
  return setShape(types, flags, mapTo);
}

/** A set or map as read back. */
export function readBackShape(o: ReadBackObject): string {
  const types = typeof o.type === 'string' ? [o.type] : [...(o.type ?? [])];
  return setShape(types, o.flags ?? [], o.map);
}

/** A chain's hook as the renderer writes it (`type filter hook forward priority filter; policy accept;`). */
export function declaredChainShape(hook: string | undefined): string {
  if (hook === undefined) return 'regular';
  const m = /type (\S+) hook (\S+) priority [^;]+;\s*policy (\S+);/.exec(hook);
  return m ? `${m[1]} hook ${m[2]} policy ${m[3]}` : `unparsed ${hook}`;
}

/** A chain as read back. */
export function readBackChainShape(o: ReadBackObject): string {
  if (o.hook === undefined) return 'regular';
  return `${typeof o.type === 'string' ? o.type : '?'} hook ${o.hook} policy ${o.policy ?? 'accept'}`;
}
