// What can be checked of the Docker path without a Docker engine, and that the README tells the truth.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderOptionsTable } from '../../src/config/optionsTable.js';
import { buildProgram } from '../../src/program.js';
import { SERVICE_NODE_FLAGS } from '../../src/util/nodeFlags.js';
import { REPO_ROOT } from '../support/processes.js';

const read = (f: string) => readFileSync(path.join(REPO_ROOT, f), 'utf8');
const commands = () => buildProgram().commands.map((c) => c.name());

describe('docker-compose.yml and Dockerfile', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as {
    services: Record<
      string,
      {
        command?: string[];
        depends_on?: Record<string, { condition: string }>;
        restart?: string;
        image?: string;
        healthcheck?: unknown;
        volumes?: string[];
      }
    >;
  };

  it('runs RabbitMQ with a health check and the four services after it is healthy', () => {
    expect(compose.services.rabbitmq?.image).toMatch(/^rabbitmq:3-management/);
    expect(compose.services.rabbitmq?.healthcheck).toBeDefined();
    for (const name of ['features', 'model', 'metric', 'plot']) {
      const svc = compose.services[name];
      expect(svc, name).toBeDefined();
      expect(svc!.depends_on?.rabbitmq?.condition).toBe('service_healthy');
      expect(svc!.restart).toBe('unless-stopped');
    }
    expect(compose.services.metric?.volumes?.some((v) => v.endsWith(':/app/logs'))).toBe(true);
    expect(compose.services.plot?.volumes?.some((v) => v.endsWith(':/app/logs'))).toBe(true);
  });

  it('starts each service with a command the CLI has', () => {
    const known = commands();
    for (const [name, svc] of Object.entries(compose.services)) {
      if (
        !svc.command ||
        name === 'rabbitmq' ||
        svc.image?.startsWith('prom') ||
        svc.image?.startsWith('grafana')
      )
        continue;
      expect(known, `${name}: ${svc.command[0]}`).toContain(svc.command[0]);
    }
  });

  it('builds one image whose entry point is the CLI, run as a non-root user', () => {
    const dockerfile = read('Dockerfile');
    expect(dockerfile).toMatch(/^FROM node:20[^\n]* AS build/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", .*"\/app\/dist\/cli.js"\]$/m);
    // Everything the services read at run time is in the image.
    for (const dir of ['data', 'models', 'static', 'assets'])
      expect(dockerfile).toContain(`COPY ${dir} ./${dir}`);
  });
});

describe('how services are started', () => {
  const flags = SERVICE_NODE_FLAGS.join(' ');
  it('runs every service with the same V8 flags: the binary, npm start, the image (up and the bench import them)', () => {
    expect(read('src/cli.ts').split('\n')[0]).toBe(`#!/usr/bin/env -S node ${flags}`);
    expect(read('dist/cli.js').split('\n')[0]).toBe(`#!/usr/bin/env -S node ${flags}`);
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toBe(`node ${flags} dist/cli.js up`);
    const entrypoint = /^ENTRYPOINT (.+)$/m.exec(read('Dockerfile'))?.[1];
    expect(JSON.parse(entrypoint ?? '[]')).toEqual(['node', ...SERVICE_NODE_FLAGS, '/app/dist/cli.js']);
  });
  it('runs the built binary through its shebang, which prints the package version', () => {
    const pkg = JSON.parse(read('package.json')) as { version: string };
    const out = execFileSync(path.join(REPO_ROOT, 'dist', 'cli.js'), ['--version'], { encoding: 'utf8' });
    expect(out.trim()).toBe(pkg.version);
  });
});

describe('README', () => {
  const readme = read('README.md');
  it('lists every option exactly as --help knows them', () => {
    expect(readme).toContain(renderOptionsTable());
  });
  it('gives the two set-up commands', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm ci && npm test');
  });
  it('names every command the CLI has', () => {
    for (const c of commands()) expect(readme, c).toContain(`predstream ${c}`);
  });
});
