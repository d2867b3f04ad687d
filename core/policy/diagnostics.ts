// What the policy compiler says about an object: errors (the object is refused) and warnings (legal, probably
// wrong). Each names the field path in the object, as the API server words its own validation errors.

export interface Diagnostic {
  /** e.g. `spec.ingress[2].from[0].podSelector.matchExpressions[0]`. */
  readonly path: string;
  readonly message: string;
  /** The offending text with a caret under the position (selectors), two lines; absent otherwise. */
  readonly excerpt?: string;
}

/** `path: message`, then the excerpt's lines, for a terminal or an admission denial. */
export function formatDiagnostic(d: Diagnostic): string {
  const head = d.path === '' ? d.message : `${d.path}: ${d.message}`;
  return d.excerpt === undefined ? head : `${head}\n${d.excerpt}`;
}

/** Collects errors and warnings while a policy compiles. */
export class Diagnostics {
  readonly errors: Diagnostic[] = [];
  readonly warnings: Diagnostic[] = [];
  /** Whether some part could not be read at all (then there is no normalized policy to enforce). */
  unreadable = false;

  /** An error whose part still has a clear meaning (the object is refused; a stored one can still be enforced). */
  error(path: string, message: string, excerpt?: string): void {
    this.errors.push(excerpt === undefined ? { path, message } : { path, message, excerpt });
  }

  /** An error that leaves the part without meaning (a selector that does not parse, a malformed CIDR). */
  fail(path: string, message: string, excerpt?: string): void {
    this.error(path, message, excerpt);
    this.unreadable = true;
  }

  warn(path: string, message: string): void {
    this.warnings.push({ path, message });
  }
}

/** Appends a child field to a path: `at('spec', 'ingress')` is `spec.ingress`. */
export function at(path: string, field: string): string {
  return path === '' ? field : `${path}.${field}`;
}

/** Appends an index: `item('spec.ingress', 2)` is `spec.ingress[2]`. */
export function item(path: string, index: number): string {
  return `${path}[${index}]`;
}
