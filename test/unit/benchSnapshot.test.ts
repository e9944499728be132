// The bench's CPU windows: a child that exits between two snapshots never gives a negative figure.
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { snapshot, windowCost } from '../../bench/context.js';
import { sampleChildren, type Child } from '../../bench/processes.js';

/** A real process that keeps one core busy for `ms`, then exits. */
function spinner(ms: number): Child {
  const proc = spawn(process.execPath, ['-e', `const end = Date.now() + ${ms}; while (Date.now() < end);`], {
    stdio: 'ignore',
  });
  const exited = new Promise<number | string>((resolve) =>
    proc.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  return { name: 'spinner', pid: proc.pid!, proc, logFile: '', exited };
}

describe('bench CPU snapshots', () => {
  it('reads a child that exited after the first snapshot at no less than that snapshot', async () => {
    const child = spinner(600);
    await sleep(100);
    sampleChildren([child]); // the poll loop's sample, taken before the first snapshot
    await sleep(250); // the child burns CPU in between
    const from = snapshot([child], undefined);
    await child.exited;
    const to = snapshot([child], undefined);

    const earlier = child.last!.cpuSeconds;
    expect(from.children.get('spinner')!.cpuSeconds).toBeGreaterThanOrEqual(earlier);
    const cost = windowCost([child], from, to);
    expect(cost.processes['spinner']!.cpuSeconds).toBeGreaterThanOrEqual(0);
    expect(cost.processes['spinner']!.runQueueWaitSeconds).toBeGreaterThanOrEqual(0);
    expect(cost.seconds).toBeGreaterThan(0);
  });
});
