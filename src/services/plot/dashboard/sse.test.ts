import { describe, expect, it } from 'vitest';
import { sseComment, sseEvent, sseRetry } from './sse.js';
import { SseTestClient } from './sseTestClient.js';

describe('SSE framing', () => {
  it('frames one event as event/data lines ended by a blank line', () => {
    expect(sseEvent('update', '{"a":1}')).toBe('event: update\ndata: {"a":1}\n\n');
    expect(sseEvent('update', 'x', '7')).toBe('id: 7\nevent: update\ndata: x\n\n');
  });

  it('splits a payload with line breaks of any kind into data lines that a reader joins back with \\n', () => {
    const payload = 'first\nsecond\r\nthird\rfourth';
    const stream = sseEvent('snapshot', payload);
    expect(stream.split('\n').filter((l) => l.startsWith('data: '))).toHaveLength(4);
    const parsed = SseTestClient.parse(stream);
    expect(parsed.messages).toEqual([
      { event: 'snapshot', data: 'first\nsecond\nthird\nfourth', id: undefined },
    ]);
  });

  it('survives JSON with a leading space, colons and an empty line inside a string', () => {
    const value = { text: ' lead: colon\n\nafter blank', n: 3 };
    const parsed = SseTestClient.parse(sseEvent('update', JSON.stringify(value, null, 2)));
    expect(JSON.parse(parsed.messages[0]!.data)).toEqual(value);
  });

  it('keeps events apart in a stream with comments and a retry hint in between', () => {
    const stream = sseRetry(1000) + sseEvent('a', '1') + sseComment('keep-alive') + sseEvent('b', '2');
    const parsed = SseTestClient.parse(stream);
    expect(parsed.retry).toBe(1000);
    expect(parsed.comments).toBe(1);
    expect(parsed.messages.map((m) => [m.event, m.data])).toEqual([
      ['a', '1'],
      ['b', '2'],
    ]);
  });

  it('keeps a comment on one line, so its text cannot end the comment early and inject a field', () => {
    const parsed = SseTestClient.parse(sseComment('x\ndata: injected\n') + sseEvent('a', '1'));
    expect(parsed.messages.map((m) => m.data)).toEqual(['1']);
  });

  it('refuses event names and ids that would break the framing', () => {
    expect(() => sseEvent('two words', 'x')).toThrow(/event name/);
    expect(() => sseEvent('a\nb', 'x')).toThrow(/event name/);
    expect(() => sseEvent('', 'x')).toThrow(/event name/);
    expect(() => sseEvent('ok', 'x', 'a\nb')).toThrow(/id/);
    expect(() => sseRetry(-1)).toThrow(/retry/);
    expect(() => sseRetry(1.5)).toThrow(/retry/);
  });
});
