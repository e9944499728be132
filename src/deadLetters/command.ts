// `predstream dead-letters list|replay|purge`: inspect dead-lettered messages and send them back after a fix.
import { Argument, type Command } from 'commander';
import type { Channel, SyncMessage } from 'rabbitmq-client';
import { connectBroker } from '../broker/connection.js';
import { rawBody } from '../broker/deadLetters.js';
import { createConfirmPublisher } from '../broker/publisher.js';
import { declareTopology } from '../broker/topology.js';
import { addOptions } from '../config/parse.js';
import type { ConfigOf } from '../config/options.js';
import {
  HEADER_ATTEMPTS,
  HEADER_ORIGIN_QUEUE,
  HEADER_REASON,
  QUEUES,
  type QueueName,
} from '../contract/wire.js';
import type { Logger } from '../util/logger.js';
import type { Shutdown } from '../util/shutdown.js';
import type { runService as RunService } from '../program.js';

type Action = 'list' | 'replay' | 'purge';

function preview(msg: SyncMessage, max = 120): string {
  const text = rawBody(msg).toString('utf8').replace(/\s+/g, ' ');
  return text.length > max ? `${text.slice(0, max)}... (${text.length} chars)` : text;
}

async function drain(ch: Channel, queue: string, limit: number): Promise<SyncMessage[]> {
  const messages: SyncMessage[] = [];
  while (messages.length < limit) {
    const msg = await ch.basicGet({ queue, noAck: false });
    if (!msg) break;
    messages.push(msg);
  }
  return messages;
}

export async function runDeadLetters(
  action: Action,
  config: ConfigOf<'dead-letters'>,
  log: Logger,
  shutdown: Shutdown,
  out: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<void> {
  const conn = await connectBroker({
    url: config.amqpUrl,
    connectTimeout: config.connectTimeout,
    connectionName: 'predstream-dead-letters',
    log,
  });
  shutdown.add('connection', () => conn.close());
  const topology = await declareTopology(conn, {
    prefix: config.queuePrefix,
    queueType: config.queueType,
    legacyQueues: config.legacyQueues,
    maxAttempts: 5,
    log,
  });
  const selected: QueueName[] = config.deadLetterQueue ? [config.deadLetterQueue] : [...QUEUES];
  const ch = await conn.acquire();
  const publisher = createConfirmPublisher(conn);
  try {
    for (const logical of selected) {
      const q = topology.queues[logical];
      if (action === 'purge') {
        const { messageCount } = await ch.queuePurge({ queue: q.deadLetterQueue });
        out(`${q.deadLetterQueue}: purged ${messageCount} message(s)`);
        continue;
      }
      const messages = await drain(ch, q.deadLetterQueue, config.limit);
      if (action === 'list') {
        const remaining = messages.length > 0 ? messages[messages.length - 1]!.messageCount : 0;
        out(`${q.deadLetterQueue}: ${messages.length + remaining} message(s)`);
        for (const msg of messages) {
          const headers = (msg.headers ?? {}) as Record<string, unknown>;
          const reason = headers[HEADER_REASON] ?? describeBrokerDeath(headers);
          out(`  reason: ${String(reason)}`);
          out(`    at: ${String(headers['x-predstream-dead-lettered-at'] ?? '?')}  body: ${preview(msg)}`);
        }
        // Listing must not consume: everything goes back, in order.
        if (messages.length > 0) ch.basicNack({ deliveryTag: messages.at(-1)!.deliveryTag, multiple: true });
        continue;
      }
      let replayed = 0;
      for (const msg of messages) {
        const headers = { ...((msg.headers ?? {}) as Record<string, unknown>) };
        const origin = String(headers[HEADER_ORIGIN_QUEUE] ?? q.name);
        for (const h of [
          HEADER_REASON,
          HEADER_ORIGIN_QUEUE,
          HEADER_ATTEMPTS,
          'x-predstream-dead-lettered-at',
          'x-death',
        ])
          delete headers[h];
        await publisher.publish(origin, rawBody(msg), { headers, contentType: msg.contentType ?? '' });
        ch.basicAck({ deliveryTag: msg.deliveryTag });
        replayed += 1;
      }
      out(`${q.deadLetterQueue}: replayed ${replayed} message(s) to ${q.name}`);
    }
  } finally {
    await publisher.close();
    await ch.close();
  }
}

function describeBrokerDeath(headers: Record<string, unknown>): string {
  const reason = headers['x-first-death-reason'];
  return reason ? `dead-lettered by RabbitMQ (${String(reason)})` : 'unknown';
}

export function addDeadLettersCommand(program: Command, runService: typeof RunService): void {
  const cmd = program
    .command('dead-letters')
    .description('list, replay (send back to their queue) or purge dead-lettered messages')
    .addArgument(new Argument('<action>', 'what to do').choices(['list', 'replay', 'purge']));
  addOptions(cmd, 'dead-letters');
  cmd.action(async (action: Action) => {
    await runService(
      'dead-letters',
      cmd,
      async () => (config, log, shutdown) => runDeadLetters(action, config, log, shutdown),
    );
  });
}
