import type { LabelSelector, LabelSelectorRequirement } from '../selector/label-selector.js';

/**
 * Parses the string form of a Kubernetes label selector (`?labelSelector=`, `kubectl -l`): comma-separated
 * requirements `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`. The result is a LabelSelector
 * of matchExpressions, so it compiles into the same selector tree as every other selector in fedmesh.
 * `>`/`<` (Gt/Lt) exist only in this string form and are refused with a clear message.
 */
export class LabelSelectorParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabelSelectorParseError';
  }
}

const keyChars = /[A-Za-z0-9._\-/]/;
const valueChars = /[A-Za-z0-9._-]/;

export function parseLabelSelectorString(input: string): LabelSelector {
  const s = input;
  let i = 0;
  const reqs: LabelSelectorRequirement[] = [];
  const skipWs = () => {
    while (i < s.length && /\s/.test(s[i] ?? '')) i++;
  };
  const fail = (msg: string): never => {
    throw new LabelSelectorParseError(`unable to parse requirement: ${msg} (at position ${i} of "${input}")`);
  };
  const readWhile = (re: RegExp) => {
    const start = i;
    while (i < s.length && re.test(s[i] ?? '')) i++;
    return s.slice(start, i);
  };
  const readValues = (): string[] => {
    skipWs();
    if (s[i] !== '(') fail('expected "(" after in/notin');
    i++;
    const values: string[] = [];
    for (;;) {
      skipWs();
      const v = readWhile(valueChars);
      values.push(v);
      skipWs();
      if (s[i] === ',') {
        i++;
        continue;
      }
      if (s[i] === ')') {
        i++;
        break;
      }
      fail('expected "," or ")" in a value set');
    }
    return values;
  };
  skipWs();
  if (i >= s.length) return { matchExpressions: [] };
  for (;;) {
    skipWs();
    let negated = false;
    if (s[i] === '!') {
      negated = true;
      i++;
      skipWs();
    }
    const key = readWhile(keyChars);
    if (key === '') fail('expected a label key');
    skipWs();
    if (negated) {
      reqs.push({ key, operator: 'DoesNotExist' });
    } else if (i >= s.length || s[i] === ',') {
      reqs.push({ key, operator: 'Exists' });
    } else if (s.startsWith('==', i) || s[i] === '=') {
      i += s.startsWith('==', i) ? 2 : 1;
      skipWs();
      reqs.push({ key, operator: 'In', values: [readWhile(valueChars)] });
    } else if (s.startsWith('!=', i)) {
      i += 2;
      skipWs();
      reqs.push({ key, operator: 'NotIn', values: [readWhile(valueChars)] });
    } else if (s[i] === '>' || s[i] === '<') {
      fail('the numeric operators > and < are not supported here');
    } else {
      const word = readWhile(/[a-z]/);
      if (word === 'in') reqs.push({ key, operator: 'In', values: readValues() });
      else if (word === 'notin') reqs.push({ key, operator: 'NotIn', values: readValues() });
      else fail(`unknown operator "${word || s[i]}"`);
    }
    skipWs();
    if (i >= s.length) break;
    if (s[i] !== ',') fail('expected ","');
    i++;
  }
  return { matchExpressions: reqs };
}
