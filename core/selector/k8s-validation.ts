// Kubernetes' own rules for label keys and values (k8s.io/apimachinery/pkg/util/validation: IsQualifiedName,
// IsValidLabelValue, IsDNS1123Subdomain), with the same messages, so that an admission error reads like the API
// server's. Each returns the list of problems; empty means valid.

const QUALIFIED_NAME_FMT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const QUALIFIED_NAME = new RegExp(`^${QUALIFIED_NAME_FMT}$`);
const QUALIFIED_NAME_MAX = 63;
const QUALIFIED_NAME_MSG =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

const LABEL_VALUE_FMT = `(${QUALIFIED_NAME_FMT})?`;
const LABEL_VALUE = new RegExp(`^${LABEL_VALUE_FMT}$`);
const LABEL_VALUE_MAX = 63;
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

const DNS1123_LABEL_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const DNS1123_SUBDOMAIN = new RegExp(`^${DNS1123_SUBDOMAIN_FMT}$`);
const DNS1123_SUBDOMAIN_MAX = 253;
const DNS1123_SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";

// The regexes above, as loops over the characters: every key and value of every selector of every admission review
// is tested, and a short string is checked several times faster than a backtracking regex runs.

/** Whether `qualifiedNameErrors(value)` is empty, without building a message: the common case, tested first. */
export function isQualifiedName(value: string): boolean {
  const slash = value.indexOf('/');
  if (slash < 0) return !(value.length > QUALIFIED_NAME_MAX) && isNameRange(value, 0, value.length);
  if (slash === 0 || value.indexOf('/', slash + 1) >= 0) return false;
  return (
    !(slash > DNS1123_SUBDOMAIN_MAX) &&
    isDns1123SubdomainRange(value, 0, slash) &&
    !(value.length - slash - 1 > QUALIFIED_NAME_MAX) &&
    isNameRange(value, slash + 1, value.length)
  );
}

/** Whether `labelValueErrors(value)` is empty, without building a message. */
export function isLabelValue(value: string): boolean {
  return value.length === 0 || (!(value.length > LABEL_VALUE_MAX) && isNameRange(value, 0, value.length));
}

// [A-Za-z0-9]
function isAlphanumeric(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

// [a-z0-9]
function isLowerAlphanumeric(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a);
}

// QUALIFIED_NAME on value[from, to): non-empty, alphanumeric at both ends, alphanumeric, '-', '_' or '.' between.
function isNameRange(value: string, from: number, to: number): boolean {
  if (to <= from || !isAlphanumeric(value.charCodeAt(from)) || !isAlphanumeric(value.charCodeAt(to - 1))) return false;
  for (let i = from + 1; i < to - 1; i++) {
    const c = value.charCodeAt(i);
    if (!isAlphanumeric(c) && c !== 0x2d && c !== 0x5f && c !== 0x2e) return false;
  }
  return true;
}

// DNS1123_SUBDOMAIN on value[from, to): '.'-separated non-empty labels, each lower alphanumeric at both ends and
// lower alphanumeric or '-' between.
function isDns1123SubdomainRange(value: string, from: number, to: number): boolean {
  if (to <= from) return false;
  let start = from;
  for (let i = from; i <= to; i++) {
    if (i < to && value.charCodeAt(i) !== 0x2e) continue;
    if (i === start || !isLowerAlphanumeric(value.charCodeAt(start)) || !isLowerAlphanumeric(value.charCodeAt(i - 1))) {
      return false;
    }
    for (let j = start + 1; j < i - 1; j++) {
      const c = value.charCodeAt(j);
      if (!isLowerAlphanumeric(c) && c !== 0x2d) return false;
    }
    start = i + 1;
  }
  return true;
}

/** A label key: `name` or `prefix/name`, prefix a DNS-1123 subdomain. */
export function qualifiedNameErrors(value: string): string[] {
  const parts = value.split('/');
  if (parts.length > 2) {
    return [
      `a qualified name ${regexError(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, ['MyName', 'my.name', '123-abc'])} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  const errors: string[] = [];
  const name = parts.length === 2 ? parts[1]! : parts[0]!;
  if (parts.length === 2) {
    const prefix = parts[0]!;
    if (prefix === '') errors.push('prefix part must be non-empty');
    else errors.push(...dns1123SubdomainErrors(prefix).map((m) => `prefix part ${m}`));
  }
  if (name === '') errors.push('name part must be non-empty');
  else if (name.length > QUALIFIED_NAME_MAX)
    errors.push(`name part must be no more than ${QUALIFIED_NAME_MAX} characters`);
  if (!QUALIFIED_NAME.test(name)) {
    errors.push(`name part ${regexError(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, ['MyName', 'my.name', '123-abc'])}`);
  }
  return errors;
}

export function labelValueErrors(value: string): string[] {
  const errors: string[] = [];
  if (value.length > LABEL_VALUE_MAX) errors.push(`must be no more than ${LABEL_VALUE_MAX} characters`);
  if (!LABEL_VALUE.test(value)) {
    errors.push(regexError(LABEL_VALUE_MSG, LABEL_VALUE_FMT, ['MyValue', 'my_value', '12345']));
  }
  return errors;
}

export function dns1123SubdomainErrors(value: string): string[] {
  const errors: string[] = [];
  if (value.length > DNS1123_SUBDOMAIN_MAX) errors.push(`must be no more than ${DNS1123_SUBDOMAIN_MAX} characters`);
  if (!DNS1123_SUBDOMAIN.test(value)) {
    errors.push(regexError(DNS1123_SUBDOMAIN_MSG, DNS1123_SUBDOMAIN_FMT, ['example.com']));
  }
  return errors;
}

// Kubernetes' wording: "<msg> (e.g. 'a' or 'b', regex used for validation is '<fmt>')".
function regexError(msg: string, fmt: string, examples: readonly string[]): string {
  const shown = examples.map((e) => `'${e}', `).join(' or ');
  return `${msg} (e.g. ${shown}regex used for validation is '${fmt}')`;
}
