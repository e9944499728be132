import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../util/usageError.js';
import { startStatusServer, type StatusServer } from './statusServer.js';

describe('status server', () => {
  const servers: StatusServer[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });

  it('answers /healthz, /readyz (with the reason) and /metrics', async () => {
    let reason: string | undefined = 'not connected to RabbitMQ';
    const server = await startStatusServer({
      port: 0,
      registry: new Registry(),
      notReadyReason: () => reason,
    });
    servers.push(server);
    const base = `http://127.0.0.1:${server.port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({ status: 'not ready', reason: 'not connected to RabbitMQ' });
    reason = undefined;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect((await fetch(`${base}/metrics`)).headers.get('content-type')).toContain('text/plain');
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });

  it('refuses a port in use with a usage error (exit code 2) that names the option', async () => {
    const first = await startStatusServer({
      port: 0,
      registry: new Registry(),
      notReadyReason: () => undefined,
    });
    servers.push(first);
    const second = startStatusServer({
      port: first.port,
      registry: new Registry(),
      notReadyReason: () => undefined,
    });
    await expect(second).rejects.toBeInstanceOf(UsageError);
    await expect(second).rejects.toThrow(/--metrics-port/);
    await expect(second).rejects.toMatchObject({ exitCode: 2 });
  });
});
