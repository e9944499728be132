// Cuts one process's TCP connections to RabbitMQ with `ss -K` (a reset, no AMQP close): the network failing under it.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** `ss -tnpH` lines: `0 0 127.0.0.1:48138 127.0.0.1:5672 users:(("node",pid=30864,fd=18))`. */
const SS_LINE = /^\S+\s+\S+\s+(\S+):(\d+)\s+(\S+):(\d+)\s+users:\(.*\bpid=(\d+),/;

export interface TcpConnection {
  localAddress: string;
  localPort: number;
  peerAddress: string;
  peerPort: number;
}

/** The connections of process `pid` in the output of `ss -tnpH`. */
export function connectionsOfPid(ssOutput: string, pid: number): TcpConnection[] {
  const found: TcpConnection[] = [];
  for (const line of ssOutput.split('\n')) {
    const m = SS_LINE.exec(line.trim());
    if (m && Number(m[5]) === pid) {
      found.push({
        localAddress: m[1] as string,
        localPort: Number(m[2]),
        peerAddress: m[3] as string,
        peerPort: Number(m[4]),
      });
    }
  }
  return found;
}

async function ss(args: readonly string[]): Promise<string> {
  try {
    return (await run('ss', [...args], { timeout: 10_000, killSignal: 'SIGKILL' })).stdout;
  } catch (err) {
    const e = err as { code?: unknown; message: string };
    throw new Error(
      e.code === 'ENOENT'
        ? 'ss is not installed (apt-get install iproute2): the chaos test cuts connections with it'
        : `ss ${args.join(' ')} failed: ${e.message.split('\n')[0]}`,
    );
  }
}

/**
 * Resets every established connection from `pid` to `brokerPort`; returns how many it cut (0 while the
 * process is not connected). Needs root and a kernel with socket destroy (CONFIG_INET_DIAG_DESTROY).
 */
export async function cutBrokerConnections(pid: number, brokerPort: number): Promise<number> {
  const listing = await ss(['-tnpH', 'state', 'established', `( dport = :${brokerPort} )`]);
  const mine = connectionsOfPid(listing, pid);
  for (const c of mine) {
    await ss([
      '-K',
      '-tn',
      'dst',
      c.peerAddress,
      'dport',
      '=',
      `:${c.peerPort}`,
      'sport',
      '=',
      `:${c.localPort}`,
    ]);
  }
  return mine.length;
}
