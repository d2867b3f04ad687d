// How a request target becomes the path our servers route on, shared by the API server and the plain metrics port.

/**
 * The request target as a URL, or undefined when it is not a path (`*`, absolute form). As Go's ParseRequestURI,
 * everything after the first `/` is path: `//x/apis` names no host, and `//` is a path, not an exception.
 */
export function requestUrl(target: string): URL | undefined {
  if (!target.startsWith('/')) return undefined;
  try {
    return new URL(`https://fedmesh.invalid${target}`);
  } catch {
    return undefined;
  }
}

/**
 * The path without trailing slashes, by a backward scan: `/\/+$/` retries from every slash of a run, so a path of
 * thousands of slashes before one letter (even under /healthz, which needs no credentials) blocked the process.
 */
export function withoutTrailingSlashes(path: string): string {
  let end = path.length;
  while (end > 0 && path[end - 1] === '/') end -= 1;
  return path.slice(0, end) || '/';
}
