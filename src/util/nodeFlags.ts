// V8 settings every service process runs with: `up`, the Docker image, the `predstream` binary's shebang
// and the bench all start services with these, so what is measured is what users run.

/**
 * A young generation of 8 MB semi-spaces instead of V8's 16 MB: messages are small and short-lived, so
 * the smaller nursery costs no throughput, and it keeps the metric service's peak RSS at max rate near
 * 120 MB instead of 140-156 MB (bench run 2).
 */
export const SERVICE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8'];
