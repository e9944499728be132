// V8 settings every service process runs with: `up`, the Docker image, the `predstream` binary's shebang
// and the bench all start services with these, so what is measured is what users run.

/**
 * A young generation of 8 MB semi-spaces instead of V8's 16 MB: messages are small and short-lived, so
 * the smaller nursery costs no throughput, and it keeps the metric service's peak RSS at max rate near
 * 120 MB instead of 140-156 MB (bench run 2).
 */
/**
 * Young-generation GCs (scavenges) on the main thread alone, not split across V8's helper threads. The
 * services share a few cores with RabbitMQ and with each other: a parallel scavenge's pause lasts until
 * its helper tasks have had a core, so on this 2-core machine a scavenge of the 8 MB nursery paused a
 * consumer for 15 ms on average and up to 116 ms. On the main thread alone it takes ~4 ms, and no
 * helper thread has to be woken. Over one latency run (`--trace-gc`, 19 s), the pauses added up to:
 *
 * | process | pauses, parallel | pauses, main thread only |
 * |---|---|---|
 * | metric | 1,492 ms | 307-311 ms |
 * | model | 837 ms | 214-216 ms |
 * | bench's joiner | 1,050-1,122 ms | 278-316 ms |
 *
 * Over seven interleaved latency pairs, the median p99 fell from 54 to 41 ms on the pipeline's side and
 * from 25 to 21 ms on the ceiling's (NOTES.md, ninth session).
 */
export const SERVICE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8', '--no-parallel-scavenge'];
