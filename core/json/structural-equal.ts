/**
 * The one structural comparison of plain JSON-like data: same arrays in the same order, same object keys with
 * equal values, in any key order (the API server returns objects with their keys sorted, we build them in our
 * own order; neither is a change). `node:util`'s isDeepStrictEqual also compares prototypes and symbol keys,
 * which JSON data does not have. `ignoreTopLevel` names keys of the outermost object that do not count.
 */
export function structurallyEqual(a: unknown, b: unknown, ignoreTopLevel?: ReadonlySet<string>): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!structurallyEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  // An absent key and a key holding undefined are the same in JSON.
  let nb = 0;
  for (const k in rb) if (Object.hasOwn(rb, k) && rb[k] !== undefined && !ignoreTopLevel?.has(k)) nb++;
  let na = 0;
  for (const k in ra) {
    if (!Object.hasOwn(ra, k) || ra[k] === undefined || ignoreTopLevel?.has(k)) continue;
    na++;
    if (!Object.hasOwn(rb, k) || !structurallyEqual(ra[k], rb[k])) return false;
  }
  return na === nb;
}
