import { describe, expect, it } from 'vitest';
import { applyMessage, expire, type LabelMessage } from './join.js';
import { MemoryJoinStore } from './memoryJoinStore.js';

const T0 = 1_700_000_000_000;
const yTrue = (id: number | string, value: number, receivedAt = T0): LabelMessage => ({
  queue: 'y_true',
  id,
  value,
  receivedAt,
});
const yPred = (id: number | string, value: number, receivedAt = T0): LabelMessage => ({
  queue: 'y_pred',
  id,
  value,
  receivedAt,
});

describe('applyMessage', () => {
  it('looks a pair up three times, not four: a key found pending is never also done', () => {
    const store = new MemoryJoinStore();
    const lookups: string[] = [];
    const getPending = store.getPending.bind(store);
    const getDone = store.getDone.bind(store);
    store.getPending = (key) => (lookups.push(`pending ${key}`), getPending(key));
    store.getDone = (key) => (lookups.push(`done ${key}`), getDone(key));
    applyMessage(store, yTrue(7, 151));
    expect(applyMessage(store, yPred(7, 140)).kind).toBe('matched');
    expect(lookups).toEqual(['pending 7', 'done 7', 'pending 7']);
    // A redelivery after the row was written still finds it done.
    expect(applyMessage(store, yPred(7, 140))).toEqual({ kind: 'duplicate', key: '7', of: 'written' });
  });

  it('joins y_true then y_pred into one row', () => {
    const store = new MemoryJoinStore();
    expect(applyMessage(store, yTrue(7, 151))).toEqual({ kind: 'pending', key: '7' });
    expect(store.pendingCount()).toBe(1);
    const out = applyMessage(store, yPred(7, 140.25));
    expect(out).toEqual({
      kind: 'matched',
      key: '7',
      row: { id: 7, yTrue: 151, yPred: 140.25, absoluteError: 10.75 },
    });
    expect(store.pendingCount()).toBe(0);
    expect(store.getDone('7')).toEqual({ yTrue: 151, yPred: 140.25 });
  });

  it('joins y_pred then y_true, putting each value in its own column', () => {
    const store = new MemoryJoinStore();
    expect(applyMessage(store, yPred('a', 3)).kind).toBe('pending');
    const out = applyMessage(store, yTrue('a', 10));
    expect(out.kind === 'matched' && out.row).toEqual({ id: 'a', yTrue: 10, yPred: 3, absoluteError: 7 });
  });

  it('keeps the number 151 and the string "151" apart', () => {
    const store = new MemoryJoinStore();
    expect(applyMessage(store, yTrue(151, 1)).kind).toBe('pending');
    expect(applyMessage(store, yPred('151', 2)).kind).toBe('pending');
    expect(store.pendingCount()).toBe(2);
  });

  it('counts the same half with the same value as a duplicate of the pending one', () => {
    const store = new MemoryJoinStore();
    applyMessage(store, yTrue(1, 5));
    expect(applyMessage(store, yTrue(1, 5, T0 + 10))).toEqual({ kind: 'duplicate', key: '1', of: 'pending' });
    expect(store.pendingCount()).toBe(1);
    // The first receipt time is kept: a redelivery does not extend the half's life.
    expect(store.getPending('1')?.receivedAt).toBe(T0);
  });

  it('reports a different value on the same queue as a conflict, leaving the pending half as it was', () => {
    const store = new MemoryJoinStore();
    applyMessage(store, yTrue('x', 151));
    expect(applyMessage(store, yTrue('x', 152))).toEqual({
      kind: 'conflict',
      key: '"x"',
      reason: 'duplicate id "x" on y_true with a different value (151 vs 152)',
    });
    expect(store.getPending('"x"')?.value).toBe(151);
    const out = applyMessage(store, yPred('x', 150));
    expect(out.kind === 'matched' && out.row.yTrue).toBe(151);
  });

  it('never writes a second row for an id already written', () => {
    const store = new MemoryJoinStore();
    applyMessage(store, yTrue(9, 1.5));
    applyMessage(store, yPred(9, 2));
    expect(applyMessage(store, yTrue(9, 1.5))).toEqual({ kind: 'duplicate', key: '9', of: 'written' });
    expect(applyMessage(store, yPred(9, 2))).toEqual({ kind: 'duplicate', key: '9', of: 'written' });
    expect(store.pendingCount()).toBe(0);
    const conflict = applyMessage(store, yPred(9, 3));
    expect(conflict.kind).toBe('conflict');
    expect(conflict.kind === 'conflict' && conflict.reason).toContain(
      'on y_pred with a different value (2 vs 3)',
    );
    expect(store.pendingCount()).toBe(0);
  });

  it('treats any half of an id imported without readable values as a duplicate', () => {
    const store = new MemoryJoinStore();
    store.markDone('4', { yTrue: null, yPred: null });
    expect(applyMessage(store, yTrue(4, 99)).kind).toBe('duplicate');
  });
});

describe('expire', () => {
  it('drops only halves older than the TTL, and counts them', () => {
    const store = new MemoryJoinStore();
    applyMessage(store, yTrue(1, 1, T0));
    applyMessage(store, yPred(2, 1, T0 + 1000));
    applyMessage(store, yTrue(3, 1, T0 + 5000));
    expect(expire(store, T0 + 6000, 2000)).toBe(2);
    expect([...store.pending.keys()]).toEqual(['3']);
    // An expired half's partner now waits on its own rather than joining with nothing.
    expect(applyMessage(store, yPred(1, 1, T0 + 6000)).kind).toBe('pending');
  });

  it('removes at most `limit` halves per call, oldest first', () => {
    const store = new MemoryJoinStore();
    for (let i = 0; i < 10; i++) applyMessage(store, yTrue(i, i, T0 + (10 - i)));
    expect(expire(store, T0 + 100, 0, 3)).toBe(3);
    expect([7, 8, 9].every((i) => store.getPending(String(i)) === undefined)).toBe(true);
    expect(store.pendingCount()).toBe(7);
  });

  it('refuses a negative TTL', () => {
    expect(() => expire(new MemoryJoinStore(), T0, -1)).toThrow(/ttlMs/);
  });
});
