// One describe block's own queue prefix and logs folder, both deleted after it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { cleanupPrefix, uniquePrefix } from './broker.js';

/** Call inside `describe`: the prefix's queues and exchanges and the folder go in its `afterAll`. */
export function brokerTestScope(name: string): { prefix: string; logs: string } {
  const prefix = uniquePrefix(name);
  const logs = mkdtempSync(path.join(tmpdir(), `predstream-${name}-`));
  afterAll(async () => {
    await cleanupPrefix(prefix);
    rmSync(logs, { recursive: true, force: true });
  });
  return { prefix, logs };
}
