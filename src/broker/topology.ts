// Declares the three queues, their dead-letter queues and exchange; falls back when a queue already exists otherwise.
import type { Connection } from 'rabbitmq-client';
import {
  QUEUES,
  deadLetterExchangeName,
  deadLetterQueueName,
  queueName,
  type QueueName,
} from '../contract/wire.js';
import type { Logger } from '../util/logger.js';

/** How a queue is declared; passed to the AMQP client so it redeclares the same way after a reconnect. */
export interface QueueDeclaration {
  queue: string;
  durable?: boolean;
  passive?: boolean;
  arguments?: Record<string, unknown>;
}

export type QueueMode =
  /** Durable, dead-lettering, as predstream declares it: the full guarantees. */
  | 'durable'
  /** Exactly as the original Python services declare it (not durable, no arguments). */
  | 'legacy'
  /** It exists with properties we cannot know; used as it is (passive declare). */
  | 'existing';

export interface QueueTopology<Q extends QueueName = QueueName> {
  logical: Q;
  name: string;
  declaration: QueueDeclaration;
  mode: QueueMode;
  deadLetterQueue: string;
}

export interface Topology {
  prefix: string;
  deadLetterExchange: string;
  queues: { [Q in QueueName]: QueueTopology<Q> };
  /** True when every queue has the full guarantees (durable, broker-side dead-lettering). */
  full: boolean;
}

export interface TopologyOptions {
  prefix: string;
  queueType: 'classic' | 'quorum';
  legacyQueues: boolean;
  /** Deliveries before a quorum queue dead-letters a message by itself. */
  maxAttempts: number;
  log: Logger;
}

export function durableDeclaration(
  name: string,
  opts: Pick<TopologyOptions, 'prefix' | 'queueType' | 'maxAttempts'>,
): QueueDeclaration {
  const args: Record<string, unknown> = {
    'x-dead-letter-exchange': deadLetterExchangeName(opts.prefix),
    'x-dead-letter-routing-key': deadLetterQueueName(name),
  };
  if (opts.queueType === 'quorum') {
    args['x-queue-type'] = 'quorum';
    args['x-delivery-limit'] = opts.maxAttempts;
  }
  return { queue: name, durable: true, arguments: args };
}

/** The original's `channel.queue_declare(queue=NAME)`. */
export function legacyDeclaration(name: string): QueueDeclaration {
  return { queue: name, durable: false };
}

function isPreconditionFailed(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'PRECONDITION_FAILED' || /PRECONDITION_FAILED|inequivalent arg/i.test(String(err));
}

async function tryDeclare(conn: Connection, decl: QueueDeclaration): Promise<boolean> {
  try {
    await conn.queueDeclare(decl);
    return true;
  } catch (err) {
    if (isPreconditionFailed(err)) return false;
    throw err;
  }
}

/**
 * Declares what predstream needs. A queue that already exists with other properties (for
 * example declared by the original Python services) is used as it is, with a warning, never a crash.
 */
export async function declareTopology(conn: Connection, opts: TopologyOptions): Promise<Topology> {
  const deadLetterExchange = deadLetterExchangeName(opts.prefix);
  await conn.exchangeDeclare({ exchange: deadLetterExchange, type: 'direct', durable: true });
  const queues = {} as Record<QueueName, QueueTopology>;
  for (const logical of QUEUES) {
    const name = queueName(opts.prefix, logical);
    const deadLetterQueue = deadLetterQueueName(name);
    // Dead letters live as long as the queue they come from: quorum (replicated) when it is.
    const deadDeclaration: QueueDeclaration = {
      queue: deadLetterQueue,
      durable: true,
      arguments: opts.queueType === 'quorum' ? { 'x-queue-type': 'quorum' } : {},
    };
    if (!(await tryDeclare(conn, deadDeclaration))) {
      await conn.queueDeclare({ queue: deadLetterQueue, passive: true });
    }
    await conn.queueBind({
      queue: deadLetterQueue,
      exchange: deadLetterExchange,
      routingKey: deadLetterQueue,
    });

    let declaration: QueueDeclaration;
    let mode: QueueMode;
    if (opts.legacyQueues) {
      declaration = legacyDeclaration(name);
      mode = 'legacy';
      if (!(await tryDeclare(conn, declaration))) {
        declaration = { queue: name, passive: true };
        mode = 'existing';
        await conn.queueDeclare(declaration);
      }
    } else if (await tryDeclare(conn, (declaration = durableDeclaration(name, opts)))) {
      mode = 'durable';
    } else if (await tryDeclare(conn, (declaration = legacyDeclaration(name)))) {
      mode = 'legacy';
    } else {
      declaration = { queue: name, passive: true };
      mode = 'existing';
      await conn.queueDeclare(declaration);
    }
    if (mode !== 'durable' && !opts.legacyQueues) {
      opts.log.warn(
        { queue: name, mode },
        `queue '${name}' already exists with other properties (${
          mode === 'legacy'
            ? 'not durable, no dead-lettering, as the original Python services declare it'
            : 'unknown'
        }); using it as it is. Guarantees are reduced: its messages do not survive a RabbitMQ restart and ` +
          `only predstream itself dead-letters bad input. To get them back, stop its users and delete it ` +
          `(rabbitmqctl delete_queue ${name}) so predstream declares it durable.`,
      );
    }
    queues[logical] = { logical, name, declaration, mode, deadLetterQueue };
  }
  const full = QUEUES.every((q) => queues[q].mode === 'durable');
  return { prefix: opts.prefix, deadLetterExchange, queues: queues as Topology['queues'], full };
}

/** Deletes every queue predstream declares under a prefix (tests and `dead-letters purge`). */
export async function deleteTopology(conn: Connection, prefix: string): Promise<void> {
  for (const logical of QUEUES) {
    const name = queueName(prefix, logical);
    await conn.queueDelete({ queue: name });
    await conn.queueDelete({ queue: deadLetterQueueName(name) });
  }
  await conn.exchangeDelete({ exchange: deadLetterExchangeName(prefix) });
}
