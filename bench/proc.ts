// Reads a process's CPU time and memory from /proc (Linux), and finds the RabbitMQ VM's pid.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

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

/** The Erlang VM running RabbitMQ on this machine (beam.smp), if there is one we can see. */
export function findBrokerPid(): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (comm === 'beam.smp') return Number(entry);
    } catch {
      // gone while we looked
    }
  }
  return undefined;
}
