import { appendFile, mkdtemp, rename, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TailFollower, type ResetReason } from './tailFollower.js';

interface Recorder {
  events: (string | { reset: ResetReason })[];
  errors: Error[];
  lines(): string[];
}

function recorder(): Recorder {
  const events: Recorder['events'] = [];
  const errors: Error[] = [];
  return {
    events,
    errors,
    lines: () => events.filter((e): e is string => typeof e === 'string'),
  };
}

function follow(
  file: string,
  rec: Recorder,
  extra: { readChunkBytes?: number; pollIntervalMs?: number } = {},
) {
  return new TailFollower(file, {
    onLines: (lines) => rec.events.push(...lines),
    onReset: (reason) => rec.events.push({ reset: reason }),
    onError: (err) => rec.errors.push(err),
    ...extra,
  });
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('TailFollower', () => {
  let dir: string;
  let file: string;
  const followers: TailFollower[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'predstream-tail-'));
    file = path.join(dir, 'metric_log.csv');
  });
  afterEach(async () => {
    await Promise.all(followers.splice(0).map((f) => f.close()));
    await rm(dir, { recursive: true, force: true });
  });

  it('waits for the file, then delivers appended complete lines once each, holding back a partial line', async () => {
    const rec = recorder();
    const f = follow(file, rec);
    followers.push(f);
    await f.poll();
    expect(rec.events).toEqual([]);
    await writeFile(file, 'id,y_true,y_pred,absolute_error\n1,2,3,1\n"a,b",1,');
    await f.poll();
    expect(rec.lines()).toEqual(['id,y_true,y_pred,absolute_error', '1,2,3,1']);
    await f.poll(); // nothing new: nothing delivered again
    expect(rec.lines()).toHaveLength(2);
    await appendFile(file, '2,1\n3,3,3,0\n');
    await f.poll();
    expect(rec.lines()).toEqual(['id,y_true,y_pred,absolute_error', '1,2,3,1', '"a,b",1,2,1', '3,3,3,0']);
    expect(f.offset).toBe(
      Buffer.byteLength('id,y_true,y_pred,absolute_error\n1,2,3,1\n"a,b",1,2,1\n3,3,3,0\n'),
    );
    expect(rec.errors).toEqual([]);
  });

  it('reads a backlog larger than its buffer in pieces without breaking lines', async () => {
    const rows = Array.from({ length: 500 }, (_, i) => `id-${i},${i},${i + 1},1`);
    await writeFile(file, rows.join('\n') + '\n');
    const rec = recorder();
    const f = follow(file, rec, { readChunkBytes: 7 });
    followers.push(f);
    await f.poll();
    expect(rec.lines()).toEqual(rows);
  });

  it('starts over from byte 0 after truncation, and says so first', async () => {
    await writeFile(file, 'old-1,1,1,0\nold-2,1,1,0\n');
    const rec = recorder();
    const f = follow(file, rec);
    followers.push(f);
    await f.poll();
    await truncate(file, 0);
    await appendFile(file, 'new,1,2,1\n');
    await f.poll();
    expect(rec.events).toEqual(['old-1,1,1,0', 'old-2,1,1,0', { reset: 'truncated' }, 'new,1,2,1']);
  });

  it('drops a held-back partial line on truncation', async () => {
    await writeFile(file, 'a,1,1,0\nhalf-writ');
    const rec = recorder();
    const f = follow(file, rec);
    followers.push(f);
    await f.poll();
    await writeFile(file, 'b,1\n'); // shorter than what was read: a truncation
    await f.poll();
    expect(rec.events).toEqual(['a,1,1,0', { reset: 'truncated' }, 'b,1']);
  });

  it('follows a replacement (rename over the path) from byte 0', async () => {
    await writeFile(file, 'a,1,1,0\n');
    const rec = recorder();
    const f = follow(file, rec);
    followers.push(f);
    await f.poll();
    const replacement = path.join(dir, 'next.csv');
    await writeFile(replacement, 'b,1,1,0\nc,1,1,0\n');
    await rename(replacement, file);
    await f.poll();
    expect(rec.events).toEqual(['a,1,1,0', { reset: 'replaced' }, 'b,1,1,0', 'c,1,1,0']);
  });

  it('waits while the file is deleted, and reads the recreated one from 0', async () => {
    await writeFile(file, 'a,1,1,0\n');
    const rec = recorder();
    const f = follow(file, rec);
    followers.push(f);
    await f.poll();
    await unlink(file);
    await f.poll();
    expect(rec.events).toEqual(['a,1,1,0']);
    await writeFile(file, 'z,1,1,0\n');
    await f.poll();
    expect(rec.events).toEqual(['a,1,1,0', { reset: 'replaced' }, 'z,1,1,0']);
    expect(rec.errors).toEqual([]);
  });

  it('polls on its own after start(), and stops after close()', async () => {
    const rec = recorder();
    const f = follow(file, rec, { pollIntervalMs: 20 }).start();
    followers.push(f);
    await writeFile(file, 'a,1,1,0\n');
    await waitFor(() => rec.lines().length === 1, 'the first line');
    await appendFile(file, 'b,1,1,0\n');
    await waitFor(() => rec.lines().length === 2, 'the appended line');
    await f.close();
    await appendFile(file, 'c,1,1,0\n');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(rec.lines()).toEqual(['a,1,1,0', 'b,1,1,0']);
  });

  it('reports a callback that throws and goes on', async () => {
    const errors: Error[] = [];
    const seen: string[] = [];
    const f = new TailFollower(file, {
      onLines: (lines) => {
        seen.push(...lines);
        throw new Error('consumer failed');
      },
      onError: (err) => errors.push(err),
    });
    followers.push(f);
    await writeFile(file, 'a,1,1,0\n');
    await f.poll();
    await appendFile(file, 'b,1,1,0\n');
    await f.poll();
    expect(seen).toEqual(['a,1,1,0', 'b,1,1,0']);
    expect(errors.map((e) => e.message)).toEqual(['consumer failed', 'consumer failed']);
  });
});
