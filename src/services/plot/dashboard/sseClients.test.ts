import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { SseClients, type SseSink } from './sseClients.js';

class FakeSink extends EventEmitter {
  written: string[] = [];
  ended = false;
  destroyed = false;
  writableLength = 0;
  write(text: string): boolean {
    this.written.push(text);
    return true;
  }
  end(): this {
    this.ended = true;
    this.emit('close');
    return this;
  }
  destroy(): this {
    this.destroyed = true;
    this.emit('close');
    return this;
  }
}

const sink = () => new FakeSink() as FakeSink & SseSink;

describe('SseClients', () => {
  it('sends the first message to the new connection only, then broadcasts to all', () => {
    const clients = new SseClients();
    const a = sink();
    const b = sink();
    clients.add(a, 'A-first');
    clients.add(b, 'B-first');
    expect(clients.broadcast('all')).toBe(2);
    expect(a.written).toEqual(['A-first', 'all']);
    expect(b.written).toEqual(['B-first', 'all']);
  });

  it('forgets a connection once it closes', () => {
    const clients = new SseClients();
    const a = sink();
    clients.add(a, 'x');
    a.emit('close');
    expect(clients.size).toBe(0);
    expect(clients.broadcast('y')).toBe(0);
  });

  it('drops a connection whose unsent bytes exceed the limit instead of buffering more', () => {
    const clients = new SseClients({ maxBufferedBytes: 100 });
    const slow = sink();
    const fast = sink();
    clients.add(slow, 'x');
    clients.add(fast, 'x');
    slow.writableLength = 101;
    expect(clients.broadcast('y')).toBe(1);
    expect(slow.destroyed).toBe(true);
    expect(slow.written).toEqual(['x']);
    expect(clients.size).toBe(1);
  });

  it('is full at maxClients and ends every connection on closeAll', () => {
    const clients = new SseClients({ maxClients: 2 });
    const a = sink();
    const b = sink();
    clients.add(a, 'x');
    expect(clients.full).toBe(false);
    clients.add(b, 'x');
    expect(clients.full).toBe(true);
    clients.closeAll();
    expect(a.ended && b.ended).toBe(true);
    expect(clients.size).toBe(0);
  });
});
