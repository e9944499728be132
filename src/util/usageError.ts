// An error the user fixes with another option value (a port in use, an address not on this machine).

/** Makes the CLI exit with code 2, like a bad option, so `up` stops instead of restarting the service. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly exitCode = 2;
}
