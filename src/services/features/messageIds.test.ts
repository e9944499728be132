import { describe, expect, it } from 'vitest';
import { MAX_ID_LENGTH, decodeMessage, encodeMessage } from '../../contract/wire.js';
import { RUN_TAG_ENTROPY_LIMIT, createIdGenerator, formatRunTag, newRunTag } from './messageIds.js';

describe('formatRunTag', () => {
  it('is the base36 start time followed by five base36 characters of entropy', () => {
    const start = Date.UTC(2025, 0, 2, 3, 4, 5, 678);
    const tag = formatRunTag(start, 36 ** 2 + 1);
    expect(tag).toMatch(/^[0-9a-z]+$/);
    expect(parseInt(tag.slice(0, -5), 36)).toBe(start);
    expect(parseInt(tag.slice(-5), 36)).toBe(36 ** 2 + 1);
    expect(tag.slice(-5)).toBe('00101');
  });

  it('differs for two runs started in the same millisecond with different entropy', () => {
    expect(formatRunTag(1_700_000_000_000, 1)).not.toBe(formatRunTag(1_700_000_000_000, 2));
  });

  it.each([
    [-1, 0],
    [1.5, 0],
    [0, -1],
    [0, RUN_TAG_ENTROPY_LIMIT],
  ])('refuses start %d with entropy %d', (start, entropy) => {
    expect(() => formatRunTag(start, entropy)).toThrow(RangeError);
  });
});

describe('createIdGenerator', () => {
  it('issues <run>-<seq> with seq counting from 1', () => {
    const ids = createIdGenerator('abc');
    expect([ids.next(), ids.next(), ids.next()]).toEqual(['abc-1', 'abc-2', 'abc-3']);
    expect(ids.issued).toBe(3);
    expect(ids.runTag).toBe('abc');
  });

  it('gives 1e6 distinct ids in a run, each accepted by the wire contract', () => {
    const ids = createIdGenerator();
    const seen = new Set<string>();
    let longest = 0;
    for (let i = 0; i < 1_000_000; i++) {
      const id = ids.next();
      seen.add(id);
      longest = Math.max(longest, id.length);
    }
    expect(seen.size).toBe(1_000_000);
    expect(longest).toBeLessThanOrEqual(MAX_ID_LENGTH);
    const last = `${ids.runTag}-1000000`;
    expect(seen.has(last)).toBe(true);
    const decoded = decodeMessage('y_true', encodeMessage(last, 151));
    expect(decoded).toEqual({ ok: true, message: { id: last, body: 151 } });
  });

  it('does not repeat ids across two runs', () => {
    const a = createIdGenerator();
    const b = createIdGenerator();
    expect(a.runTag).not.toBe(b.runTag);
    const fromA = new Set(Array.from({ length: 10_000 }, a.next));
    const overlap = Array.from({ length: 10_000 }, b.next).filter((id) => fromA.has(id));
    expect(overlap).toEqual([]);
  });

  it('keeps the longest possible id valid on the wire', () => {
    const tag = 'z'.repeat(32);
    const id = `${tag}-${Number.MAX_SAFE_INTEGER}`;
    expect(id.length).toBeLessThanOrEqual(MAX_ID_LENGTH);
    expect(decodeMessage('features', encodeMessage(id, [1])).ok).toBe(true);
    expect(createIdGenerator(tag).next()).toBe(`${tag}-1`);
  });

  it.each(['', 'ABC', 'a-b', 'a b', 'x'.repeat(33)])('refuses the run tag %j', (tag) => {
    expect(() => createIdGenerator(tag)).toThrow(/run tag must be 1 to 32 characters of 0-9 and a-z/);
  });

  it('draws a fresh tag per run from time and randomness', () => {
    const before = Date.now();
    const tag = newRunTag();
    const after = Date.now();
    const start = parseInt(tag.slice(0, -5), 36);
    expect(start).toBeGreaterThanOrEqual(before);
    expect(start).toBeLessThanOrEqual(after);
  });
});
