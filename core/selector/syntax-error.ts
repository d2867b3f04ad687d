/**
 * A selector that Calico's parser would reject. `position` is the 0-based index into the selector string (UTF-16
 * units, as JavaScript indexes strings) where `expected` was wanted; `message` says both what was expected and what
 * was found there.
 */
export class SelectorSyntaxError extends Error {
  constructor(
    readonly position: number,
    readonly expected: string,
    found: string,
  ) {
    super(`expected ${expected}, found ${found}`);
    this.name = 'SelectorSyntaxError';
  }
}
