import { describe, expect, it } from 'vitest';
import { CompensatedSum } from './compensatedSum.js';

describe('CompensatedSum', () => {
  it('keeps small terms that a plain sum loses next to a large one', () => {
    const sum = new CompensatedSum();
    let plain = 0;
    for (const x of [1e16, 1, 1, 1, 1, -1e16]) {
      sum.add(x);
      plain += x;
    }
    expect(plain).not.toBe(4); // the naive sum really does lose them
    expect(sum.value).toBe(4);
  });

  it('sums 0.1 ten million times to the correctly rounded result', () => {
    // The double nearest 0.1 is 0.1000000000000000055511...; ten million of them make
    // 1000000.0000000000555..., whose nearest double is 1e6 (doubles near 1e6 are 1.2e-10 apart).
    const sum = new CompensatedSum();
    let plain = 0;
    for (let i = 0; i < 10_000_000; i++) {
      sum.add(0.1);
      plain += 0.1;
    }
    expect(Math.abs(plain - 1e6)).toBeGreaterThan(1e-6);
    expect(sum.value).toBe(1e6);
  });

  it('resets to zero', () => {
    const sum = new CompensatedSum();
    sum.add(3);
    sum.reset();
    expect(sum.value).toBe(0);
  });
});
