// Garbage of every kind on every queue while good rows flow: no crash, every good row once, every bad one dead-lettered.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HEADER_REASON, MAX_MESSAGE_BYTES } from '../../src/contract/wire.js';
import { closeConnection, openTestConnection } from '../support/broker.js';
import { publishedRows, readMetricCsv } from '../support/expected.js';
import { csvRowCount, isRunning, startCli, stopCli, waitFor } from '../support/processes.js';
import { brokerTestScope } from '../support/scope.js';

const GOOD_ROWS = 600;

interface Bad {
  kind: string;
  queue: 'features' | 'y_true' | 'y_pred';
  body: Buffer | string;
  contentType?: string;
  /** Part of the reason the dead letter must carry. */
  reason: RegExp;
}

const json = (v: unknown) => JSON.stringify(v);
const features10 = [0.01, -0.02, 0.03, 0.04, -0.05, 0.06, 0.07, -0.08, 0.09, 0.1];

/** Every kind is sent to every queue it makes sense for. */
function badMessages(): Bad[] {
  const anyQueue = (['features', 'y_true', 'y_pred'] as const).flatMap((queue): Bad[] => [
    { kind: 'not JSON', queue, body: 'hello, world', reason: /not valid JSON/ },
    { kind: 'empty body', queue, body: Buffer.alloc(0), reason: /empty body/ },
    {
      kind: 'huge body',
      queue,
      body: Buffer.alloc(MAX_MESSAGE_BYTES + 10, 0x20),
      reason: /exceeds the limit/,
    },
    { kind: 'missing id', queue, body: json({ body: 1 }), reason: /missing "id"/ },
    { kind: 'id of the wrong type', queue, body: json({ id: true, body: 1 }), reason: /bad "id"/ },
    { kind: 'id null', queue, body: json({ id: null, body: 1 }), reason: /bad "id"/ },
    { kind: 'id too long', queue, body: json({ id: 'x'.repeat(200), body: 1 }), reason: /longer than 128/ },
    { kind: 'id with control characters', queue, body: json({ id: 'a\u0007b', body: 1 }), reason: /control/ },
    {
      kind: 'NaN (as Python writes it)',
      queue,
      body: '{"id": 1.5, "body": NaN}',
      reason: /NaN and Infinity/,
    },
    {
      kind: 'nested garbage',
      queue,
      body: json({ id: 'n', body: { a: [1, { b: 2 }] } }),
      reason: /bad "body"/,
    },
    { kind: 'JSON array, not an object', queue, body: json([1, 2, 3]), reason: /JSON object/ },
    { kind: 'JSON null', queue, body: 'null', reason: /JSON object/ },
    {
      kind: 'invalid UTF-8',
      queue,
      body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
      reason: /UTF-8/,
    },
    {
      kind: 'wrong content type',
      queue,
      body: json({ id: 'ct', body: 1 }),
      contentType: 'application/xml',
      reason: /content type/,
    },
  ]);
  return [
    ...anyQueue,
    {
      kind: 'number as a string',
      queue: 'y_true',
      body: json({ id: 's', body: '151.0' }),
      reason: /bad "body"/,
    },
    { kind: 'Infinity', queue: 'y_pred', body: '{"id": 2, "body": Infinity}', reason: /NaN and Infinity/ },
    { kind: 'features not an array', queue: 'features', body: json({ id: 'f', body: 5 }), reason: /array/ },
    {
      kind: 'features with a string',
      queue: 'features',
      body: json({ id: 'g', body: [1, 'x'] }),
      reason: /bad "body"/,
    },
    { kind: 'empty features', queue: 'features', body: json({ id: 'h', body: [] }), reason: /empty/ },
    {
      kind: 'features of the wrong length',
      queue: 'features',
      body: json({ id: 'short', body: features10.slice(0, 9) }),
      reason: /9 values, the model expects 10/,
    },
  ];
}

describe('bad input while good rows flow (real RabbitMQ)', () => {
  const { prefix, logs } = brokerTestScope('bad');

  it(
    'dead-letters each bad message with its reason and still writes every good row once',
    { timeout: 150_000 },
    async () => {
      const common = ['--queue-prefix', prefix, '--metrics-port', '0'];
      const metric = startCli('metric', ['metric', ...common, '--logs', logs]);
      const model = startCli('model', ['model', ...common]);
      const journal = path.join(logs, 'published.log');
      const features = startCli('features', [
        'features',
        ...common,
        '--rate',
        '200',
        '--count',
        String(GOOD_ROWS),
        '--published-log',
        journal,
      ]);
      const conn = await openTestConnection();
      try {
        await waitFor('the first rows', () => csvRowCount(path.join(logs, 'metric_log.csv')) > 20, 30_000);
        const ch = await conn.acquire();
        const bad = badMessages();
        for (const b of bad) {
          await ch.basicPublish(
            { routingKey: `${prefix}${b.queue}`, contentType: b.contentType },
            Buffer.isBuffer(b.body) ? b.body : Buffer.from(b.body, 'utf8'),
          );
        }
        // A formula-like id is valid: it must land, written so no spreadsheet runs it.
        const formulaId = '=HYPERLINK("http://x","y")';
        await ch.basicPublish(
          { routingKey: `${prefix}y_true` },
          Buffer.from(json({ id: formulaId, body: 100 })),
        );
        await ch.basicPublish(
          { routingKey: `${prefix}y_pred` },
          Buffer.from(json({ id: formulaId, body: 90.5 })),
        );
        // The same id twice on y_true with another value: the second is a conflict.
        await ch.basicPublish(
          { routingKey: `${prefix}y_true` },
          Buffer.from(json({ id: 'dup-1', body: 100 })),
        );
        await ch.basicPublish(
          { routingKey: `${prefix}y_true` },
          Buffer.from(json({ id: 'dup-1', body: 200 })),
        );
        // ... and the same pair twice (a redelivery): one row only.
        for (let i = 0; i < 2; i++) {
          await ch.basicPublish(
            { routingKey: `${prefix}y_true` },
            Buffer.from(json({ id: 'twice', body: 10 })),
          );
          await ch.basicPublish(
            { routingKey: `${prefix}y_pred` },
            Buffer.from(json({ id: 'twice', body: 12 })),
          );
        }

        const { code } = await features.exited;
        expect(code, features.output()).toBe(0);
        const expectedRows = GOOD_ROWS + 2; // + the formula-like id + 'twice'
        await waitFor(
          `${expectedRows} rows`,
          () => csvRowCount(path.join(logs, 'metric_log.csv')) >= expectedRows,
          60_000,
        ).catch((err: Error) => {
          throw new Error(
            `${err.message}\n--- metric\n${metric.output().slice(-3000)}\n--- model\n${model.output().slice(-3000)}`,
          );
        });
        expect(isRunning(metric), metric.output()).toBe(true);
        expect(isRunning(model), model.output()).toBe(true);

        // Every bad message is in its queue's dead-letter queue, with a reason that says why.
        const expectations = bad.map((b) => ({ queue: b.queue, reason: b.reason, kind: b.kind }));
        expectations.push({
          queue: 'y_true',
          reason: /duplicate id "dup-1" on y_true with a different value/,
          kind: 'conflict',
        });
        for (const queue of ['features', 'y_true', 'y_pred'] as const) {
          const wanted = expectations.filter((e) => e.queue === queue);
          const reasons: string[] = [];
          for (let tries = 0; reasons.length < wanted.length && tries < 100; tries++) {
            const msg = await conn.basicGet({ queue: `${prefix}${queue}.dead`, noAck: true });
            if (!msg) {
              await new Promise((r) => setTimeout(r, 100));
              continue;
            }
            reasons.push(String((msg.headers as Record<string, unknown>)?.[HEADER_REASON]));
          }
          expect(reasons, `dead letters of ${queue}`).toHaveLength(wanted.length);
          for (const w of wanted) {
            expect(
              reasons.some((r) => w.reason.test(r)),
              `${queue}: no dead letter for '${w.kind}' in ${JSON.stringify(reasons)}`,
            ).toBe(true);
          }
        }

        const rows = readMetricCsv(path.join(logs, 'metric_log.csv'));
        expect(rows).toHaveLength(expectedRows);
        const ids = rows.map((r) => r.id);
        expect(new Set(ids).size).toBe(ids.length);
        const published = publishedRows(journal);
        expect(ids.filter((id) => published.has(id))).toHaveLength(GOOD_ROWS);
        expect(ids).toContain(`'${formulaId}`);
        expect(ids.filter((id) => id === 'twice')).toHaveLength(1);
      } finally {
        await closeConnection(conn);
        const exits = await Promise.all([stopCli(features), stopCli(model), stopCli(metric)]);
        expect(exits.map((e) => e.code)).toEqual([0, 0, 0]);
      }
    },
  );
});
