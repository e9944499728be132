// The per-service HTTP port: /metrics (Prometheus text), /healthz (alive) and /readyz (connected and working).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { UsageError } from '../util/usageError.js';

export interface StatusServer {
  port: number;
  close(): Promise<void>;
}

export interface StatusServerOptions {
  host?: string;
  port: number;
  registry: Registry;
  /** Called before each scrape, to refresh gauges that are cheaper to read than to track. */
  beforeScrape?(): void;
  /** Returns why the service is not ready, or undefined when it is. */
  notReadyReason(): string | undefined;
}

export async function startStatusServer(opts: StatusServerOptions): Promise<StatusServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      opts.beforeScrape?.();
      opts.registry
        .metrics()
        .then((body) => {
          res.writeHead(200, { 'content-type': opts.registry.contentType });
          res.end(body);
        })
        .catch((err: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(String(err));
        });
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'ok' }));
      return;
    }
    if (path === '/readyz') {
      const reason = opts.notReadyReason();
      res.writeHead(reason ? 503 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(reason ? { status: 'not ready', reason } : { status: 'ready' }));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found: try /metrics, /healthz or /readyz\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new UsageError(
              `metrics port ${opts.port} is already in use: pass another --metrics-port (0 = off)`,
            )
          : err,
      ),
    );
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
  });
  server.unref();
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
