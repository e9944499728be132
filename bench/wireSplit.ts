// `npm run bench:wire -- CAPTURE.pcap`: where a message's time goes at the broker, from a capture of its port.
import { readFileSync } from 'node:fs';
import { wireMessages } from './wire/amqpMessages.js';
import { PcapError, tcpSegments } from './wire/pcap.js';
import { splitAtBroker, type QueueSplit } from './wire/wireSplit.js';

const HELP = `usage: npm run bench:wire -- CAPTURE.pcap [--port N] [--after-seq N]

Splits each message's publish-to-delivery time at the broker, from a packet capture of its port:
publish time (the x-predstream-published-at header) -> the publish on the wire -> the delivery on the
wire. What is left of a consumer's own receipt time (the bench's stages) is the consumer's side.

Capture a bench run (as root; -B keeps the kernel from dropping packets):
  tcpdump -i lo -s 0 -B 131072 -w /tmp/bench.pcap 'tcp port 5672' &
  npm run bench -- --only latency; sleep 2; kill %1
  npm run bench:wire -- /tmp/bench.pcap --after-seq 5000

  --port N        the broker's port (default 5672)
  --after-seq N   leave out ids <tag>-<seq> with seq <= N (the bench's warm-up rows: 5000)
  -h, --help      this text`;

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

function main(argv: string[]): void {
  let file: string | undefined;
  let port = 5672;
  let afterSeq = 0;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-h' || a === '--help') {
      process.stdout.write(`${HELP}\n`);
      return;
    }
    if (a === '--port' || a === '--after-seq') {
      const n = Number(argv[++i]);
      const max = a === '--port' ? 65535 : Number.MAX_SAFE_INTEGER;
      const min = a === '--port' ? 1 : 0;
      if (!Number.isInteger(n) || n < min || n > max)
        fail(`${a} needs a whole number from ${min} to ${max}, got '${argv[i] ?? ''}'\n\n${HELP}`);
      if (a === '--port') port = n;
      else afterSeq = n;
    } else if (a.startsWith('-')) fail(`unknown option ${a}\n\n${HELP}`);
    else if (file === undefined) file = a;
    else fail(`one capture file at a time, got '${file}' and '${a}'`);
  }
  if (file === undefined) fail(HELP);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    fail(`cannot read ${file}: ${(err as Error).message}`);
  }
  let capture;
  try {
    capture = wireMessages(tcpSegments(bytes), port);
  } catch (err) {
    if (err instanceof PcapError) fail(`${file}: ${err.message}`);
    throw err;
  }
  const split = splitAtBroker(capture.messages, { afterSeq });
  if (split.length === 0)
    fail(
      `${file}: no message both published and delivered with a publish-time header on port ${port} ` +
        `(${capture.messages.length} messages seen): capture from before the services start`,
    );
  process.stdout.write(`${formatSplit(split)}\n`);
  for (const s of capture.skipped) process.stdout.write(`skipped ${s.stream}: ${s.problem}\n`);
}

function formatSplit(split: readonly QueueSplit[]): string {
  const f = (x: number) => x.toFixed(1).padStart(6);
  const cell = (s: QueueSplit['toBroker']) => `${f(s.p50Ms)} ${f(s.p99Ms)} ${f(s.maxMs)}`;
  const width = Math.max(5, ...split.map((s) => s.queue.length));
  const group = (title: string) => title.padStart(20);
  const sub = `${'p50'.padStart(6)} ${'p99'.padStart(6)} ${'max'.padStart(6)}`;
  const lead = `${''.padEnd(width)} ${''.padStart(6)}`;
  const lines = [
    `${lead}  ${group('to broker (ms)')}  ${group('in broker (ms)')}  ${group('to consumer (ms)')}`,
    `${'queue'.padEnd(width)} ${'rows'.padStart(6)}  ${sub}  ${sub}  ${sub}`,
    ...split.map(
      (s) =>
        `${s.queue.padEnd(width)} ${String(s.toConsumer.rows).padStart(6)}  ${cell(s.toBroker)}  ${cell(s.inBroker)}  ${cell(s.toConsumer)}`,
    ),
  ];
  return lines.join('\n');
}

main(process.argv.slice(2));
