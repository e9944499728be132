// Reads a process's CPU time and memory from /proc (Linux), and finds the pid of the RabbitMQ VM the bench uses.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

export interface ProcSample {
  pid: number;
  /** User + system CPU seconds since the process started. */
  cpuSeconds: number;
  /** Resident set now, MB (MiB). */
  rssMb: number;
  /** Peak resident set so far (VmHWM), MB (MiB). */
  peakRssMb: number;
  /**
   * Seconds its main thread (a Node process's event loop) has been runnable but waiting for a core, from
   * /proc/<pid>/schedstat; NaN where that file is missing, 0 where the kernel keeps no such account
   * (it then prints zeros).
   */
  runQueueWaitSeconds: number;
}

function runQueueWaitSeconds(pid: number): number {
  try {
    // "<ns on a CPU> <ns waiting on a run queue> <time slices>", for the thread whose id is the pid.
    const waitedNs = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(' ')[1];
    return waitedNs === undefined ? Number.NaN : Number(waitedNs) / 1e9;
  } catch {
    return Number.NaN;
  }
}

/** Reads /proc/<pid>/stat and /proc/<pid>/status; undefined once the process is gone. */
export function sampleProcess(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return {
      pid,
      cpuSeconds: (utime + stime) / clockTicks(),
      rssMb: kib('VmRSS') / 1024,
      peakRssMb: kib('VmHWM') / 1024,
      runQueueWaitSeconds: runQueueWaitSeconds(pid),
    };
  } catch {
    return undefined;
  }
}

/**
 * The socket inodes listening on `port` in a /proc/net/tcp or /proc/net/tcp6 table. Each data line is
 * "sl local_address rem_address st ... uid timeout inode ...", with the local port in hex after the colon
 * and state 0A for LISTEN.
 */
export function listeningInodes(table: string, port: number): string[] {
  const inodes: string[] = [];
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    const local = f[1];
    const inode = f[9];
    if (local === undefined || inode === undefined || f[3] !== '0A') continue;
    if (Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port && inode !== '0')
      inodes.push(inode);
  }
  return inodes;
}

function numericDirs(dir: string): string[] {
  return readdirSync(dir).filter((e) => /^\d+$/.test(e));
}

/** The process holding one of these socket inodes open, if we may look at its descriptors. */
function socketOwner(inodes: readonly string[]): number | undefined {
  const wanted = new Set(inodes.map((i) => `socket:[${i}]`));
  for (const pid of numericDirs('/proc')) {
    let fds: string[];
    try {
      fds = numericDirs(`/proc/${pid}/fd`);
    } catch {
      continue; // gone, or not ours to look at
    }
    for (const fd of fds) {
      try {
        if (wanted.has(readlinkSync(`/proc/${pid}/fd/${fd}`))) return Number(pid);
      } catch {
        // closed while we looked
      }
    }
  }
  return undefined;
}

/** The process's command name; undefined once it is gone. */
function commOf(pid: number | string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function beamPids(): number[] {
  return numericDirs('/proc')
    .filter((entry) => commOf(entry) === 'beam.smp')
    .map(Number);
}

/**
 * The Erlang VM (beam.smp) of the RabbitMQ the bench talks to: the one listening on `port` on this
 * machine. Where the descriptors cannot be read (another user's process, without root), the only
 * beam.smp there is; undefined when there is none, or several and no way to tell which.
 */
export function findBrokerPid(port: number): number | undefined {
  const owner = listeningPid(port);
  if (owner !== undefined && commOf(owner) === 'beam.smp') return owner;
  const beams = beamPids();
  return beams.length === 1 ? beams[0] : undefined;
}

/** The process listening on TCP `port` here, if we may look at its descriptors. */
export function listeningPid(port: number): number | undefined {
  const inodes: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    try {
      inodes.push(...listeningInodes(readFileSync(table, 'utf8'), port));
    } catch {
      // no IPv6, say
    }
  }
  return inodes.length > 0 ? socketOwner(inodes) : undefined;
}
