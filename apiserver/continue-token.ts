import type { ResourceName } from './resources.js';
import { badRequest } from './status.js';

/**
 * What a continue token carries: the list it continues (resource), the snapshot its pages come from (the
 * resourceVersion of the first page, or `latest` after an inconsistent continue), the last key returned, and a
 * digest of the rest of that snapshot as the request selects it. Another replica, or this one after the
 * snapshot is gone, continues consistently when its own rest has the same digest.
 */
export type ContinueToken =
  | {
      readonly resource: ResourceName;
      readonly rv: bigint;
      readonly lastKey: string;
      readonly rest: string;
    }
  | { readonly resource: ResourceName; readonly rv: 'latest'; readonly lastKey: string };

/** Keys are `namespace/name` (≤ 63 + 1 + 253); with the digest and version a token stays well under this. */
export const maxContinueTokenLength = 1024;

const invalid = (why: string) =>
  badRequest(`invalid continue token: ${why}; start a new list without the continue parameter`);

export function encodeContinue(t: ContinueToken): string {
  const body =
    t.rv === 'latest'
      ? { v: 2, r: t.resource, rv: 'latest', k: t.lastKey }
      : { v: 2, r: t.resource, rv: t.rv.toString(), k: t.lastKey, d: t.rest };
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

/**
 * Decodes a token sent with a list of `resource` in `namespace` (undefined: all namespaces or cluster-scoped).
 * Anything but a token of that same list is 400 BadRequest: a token cannot move a list to another resource or
 * namespace.
 */
export function decodeContinue(token: string, resource: ResourceName, namespace: string | undefined): ContinueToken {
  if (token.length > maxContinueTokenLength) throw invalid('it is longer than any token this server issues');
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw invalid('it is not one this server issued');
  let d: unknown;
  try {
    d = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalid('it is not one this server issued');
  }
  if (typeof d !== 'object' || d === null) throw invalid('it is not one this server issued');
  const { v, r, rv, k, d: rest } = d as Record<string, unknown>;
  if (v !== 2 || typeof r !== 'string' || typeof rv !== 'string' || typeof k !== 'string' || k === '') {
    throw invalid('it is not one this server issued');
  }
  if (r !== resource) throw invalid(`it continues a list of ${r}, not of ${resource}`);
  if (namespace !== undefined && !k.startsWith(`${namespace}/`)) {
    throw invalid(`it continues a list of another namespace than "${namespace}"`);
  }
  if (rv === 'latest') return { resource, rv: 'latest', lastKey: k };
  if (!/^\d{1,40}$/.test(rv) || typeof rest !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(rest)) {
    throw invalid('it is not one this server issued');
  }
  return { resource, rv: BigInt(rv), lastKey: k, rest };
}
