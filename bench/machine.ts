// What the benchmark ran on: cores, CPU, memory, Node and RabbitMQ versions.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { rabbitmqVersion } from './broker.js';

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  node: string;
  rabbitmq: string;
  /** 1-minute load average when the run started (other work on a shared machine shows here). */
  loadAverage1m: number;
  /** Share of the last 60 s in which some task waited for a CPU / for I/O (Linux PSI), when the run started. */
  cpuPressure60s: number;
  ioPressure60s: number;
}

/** The `some avg60` figure of /proc/pressure/<what> in percent; NaN where PSI is not available. */
export function pressure(what: 'cpu' | 'io'): number {
  try {
    const m = /^some avg10=[\d.]+ avg60=([\d.]+)/m.exec(readFileSync(`/proc/pressure/${what}`, 'utf8'));
    return m ? Number(m[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

export async function machineInfo(): Promise<MachineInfo> {
  return {
    cores: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    rabbitmq: await rabbitmqVersion(),
    loadAverage1m: os.loadavg()[0] ?? Number.NaN,
    cpuPressure60s: pressure('cpu'),
    ioPressure60s: pressure('io'),
  };
}
