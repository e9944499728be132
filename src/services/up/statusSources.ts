// The I/O behind the status block: a child's metrics port, and the metric service's status file.
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import type { MetricStatus } from '../../contract/status.js';
import { parsePrometheusText } from './promText.js';
import type { Scrape } from './statusTracker.js';

function get(url: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** The address to scrape a port bound to `host`: a wildcard bind is reached on loopback. */
export function scrapeHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** /readyz and /metrics of one child; undefined while it does not answer (starting, restarting, gone). */
export async function scrapeService(
  host: string,
  port: number,
  timeoutMs = 800,
): Promise<Scrape | undefined> {
  const base = `http://${scrapeHost(host)}:${port}`;
  try {
    const [ready, metrics] = await Promise.all([
      get(`${base}/readyz`, timeoutMs),
      get(`${base}/metrics`, timeoutMs),
    ]);
    if (metrics.status !== 200) return undefined;
    return { ready: ready.status === 200, samples: parsePrometheusText(metrics.body) };
  } catch {
    return undefined;
  }
}

/** The metric service's last status, or undefined when there is none yet (or it is half-read). */
export async function readMetricStatus(file: string): Promise<MetricStatus | undefined> {
  try {
    const status = JSON.parse(await readFile(file, 'utf8')) as MetricStatus;
    const ok =
      typeof status.updatedAt === 'number' &&
      typeof status.deadLetters === 'object' &&
      status.deadLetters !== null;
    return ok ? status : undefined;
  } catch {
    return undefined;
  }
}
