/** Kubernetes name rules that several parts of fedmesh check (cluster names, testbed clusters). */

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Why `name` is not a DNS-1123 label (lowercase alphanumerics and '-', 1–63 chars), or undefined if it is one. */
export function dns1123LabelError(name: string): string | undefined {
  if (name.length === 0) return 'must not be empty';
  if (name.length > 63) return `must be no more than 63 characters (has ${name.length})`;
  if (!dns1123Label.test(name)) {
    return "must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'east', 'us-west-2')";
  }
  return undefined;
}
