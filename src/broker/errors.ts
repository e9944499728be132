// Typed errors of the broker edge, each saying what happened and how to fix it.

/** The first connection to RabbitMQ could not be made in time. The service exits with code 3. */
export class BrokerUnreachableError extends Error {
  override readonly name = 'BrokerUnreachableError';
  constructor(maskedUrl: string, seconds: number, cause: string) {
    super(
      `RabbitMQ is not reachable at ${maskedUrl} after ${seconds} s (${cause}). ` +
        `Start it (Debian: 'rabbitmq-server -detached' or 'systemctl start rabbitmq-server'; ` +
        `Docker: 'docker compose up -d rabbitmq'), or point AMQP_URL / --amqp-url at a running broker.`,
    );
  }
}

/** Extracts a short cause from an error thrown by the AMQP client or the socket. */
export function causeOf(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { code?: unknown; message?: unknown };
    const code = typeof e.code === 'string' ? e.code : undefined;
    const message = typeof e.message === 'string' ? e.message : String(err);
    if (code === 'ACCESS_REFUSED' || /ACCESS_REFUSED|authentication/i.test(message))
      return `${code ?? 'ACCESS_REFUSED'}: wrong user or password in AMQP_URL`;
    return code && !message.includes(code) ? `${code}: ${message}` : message;
  }
  return String(err);
}
