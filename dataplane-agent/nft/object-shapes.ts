// The shape of a set, map or chain: what an object of that name must be for a full sync to refill it rather than
// replace it. A set's key types and flags, a map's key and value types, a chain's hook. Compared between what the
// agent declares and what the kernel holds (the terse JSON read-back, driver.ts), so that an object of the right name
// and the wrong shape (left by another version of fedmesh, or made by hand) is recreated. Without this, `add set`
// would be refused on every full sync (the node stuck on its last ruleset), and a chain `forward` without its hook
// would never see a packet (every pod unfiltered).

/** One object as nft prints it in JSON (`list sets`, `list maps`, `list chains`): unchecked, from another process. */
export type ReadBackObject = Readonly<Record<string, unknown>>;

const isStrings = (v: unknown): v is readonly string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
const isOptionalString = (v: unknown): v is string | undefined => v === undefined || typeof v === 'string';

/**
 * The shape of an object whose fields read here are not of the types nft prints: equal to no declared shape, so that
 * the object is made anew rather than trusted.
 */
function unreadable(o: ReadBackObject): string {
  return `unreadable ${JSON.stringify(o)}`;
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

/** A set or map as read back: `type` (one type or a list), `flags`, `map` (a map's value type). */
export function readBackShape(o: ReadBackObject): string {
  const { type, flags, map } = o;
  const types = typeof type === 'string' ? [type] : type === undefined ? [] : isStrings(type) ? type : undefined;
  if (types === undefined || !(flags === undefined || isStrings(flags)) || !isOptionalString(map)) return unreadable(o);
  return setShape(types, flags ?? [], map);
}

/** A chain's hook as the renderer writes it (`type filter hook forward priority filter; policy accept;`). */
export function declaredChainShape(hook: string | undefined): string {
  if (hook === undefined) return 'regular';
  const m = /type (\S+) hook (\S+) priority [^;]+;\s*policy (\S+);/.exec(hook);
  return m ? `${m[1]} hook ${m[2]} policy ${m[3]}` : `unparsed ${hook}`;
}

/** A chain as read back: a base chain has `hook`, `type` and `policy`. */
export function readBackChainShape(o: ReadBackObject): string {
  const { hook, type, policy } = o;
  if (hook === undefined) return 'regular';
  if (typeof hook !== 'string' || !isOptionalString(policy)) return unreadable(o);
  return `${typeof type === 'string' ? type : '?'} hook ${hook} policy ${policy ?? 'accept'}`;
}
