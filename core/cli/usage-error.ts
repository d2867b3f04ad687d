/** A mistake in how a command was called: the CLI prints the message and a pointer to --help, and exits 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}
