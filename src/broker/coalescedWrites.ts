// Coalesces the AMQP client's socket writes: everything written in one turn of the event loop leaves in
// one writev, so a group commit's hundreds of acks (or a burst of publishes) cost one syscall and a few
// TCP segments instead of one each, without Nagle's delay.
import type { Socket } from 'node:net';
import type { Connection } from 'rabbitmq-client';

const COALESCED = Symbol('predstream.coalescedWrites');

/** On a coalesced socket: sends what this turn has written so far, now, if the turn's cork is ours. */
type CoalescedSocket = Socket & { [COALESCED]?: { flush(): void } };

/**
 * Corks the socket at its first write in a turn of the event loop and uncorks it in the check phase
 * (setImmediate), after the I/O callbacks of that turn have queued their frames. Idempotent.
 * Backpressure is unchanged: a corked socket's write still returns false above its high-water mark.
 * Only our own cork is ever lifted: rabbitmq-client corks the socket itself while RabbitMQ blocks the
 * connection (connection.blocked), and Node counts corks, so that one stays.
 */
export function coalesceSocketWrites(socket: Socket): void {
  const s = socket as CoalescedSocket;
  if (s[COALESCED]) return;
  const write = socket.write;
  let corked = false;
  const flush = () => {
    if (!corked) return;
    corked = false;
    socket.uncork();
  };
  s[COALESCED] = { flush };
  socket.write = function coalescedWrite(this: Socket, ...args: Parameters<Socket['write']>) {
    if (!corked && !socket.destroyed) {
      corked = true;
      socket.cork();
      setImmediate(flush);
    }
    return write.apply(socket, args);
  } as Socket['write'];
}

/** Whether `coalesceSocketWrites` was applied to this socket. */
export function isCoalesced(socket: Socket): boolean {
  return (socket as CoalescedSocket)[COALESCED] !== undefined;
}

/**
 * The connection's current socket. rabbitmq-client 5 keeps it in a private field and makes a new one on
 * every reconnect; undefined if a later version moves it (then writes are simply not coalesced, and the
 * broker test that checks `isCoalesced` fails).
 */
export function socketOf(conn: Connection): Socket | undefined {
  const socket = (conn as unknown as { _socket?: unknown })._socket;
  return socket && typeof (socket as Socket).cork === 'function' ? (socket as Socket) : undefined;
}

/** Coalesces the writes of the connection's socket now and after every reconnect. */
export function coalesceConnectionWrites(conn: Connection): void {
  const apply = () => {
    const socket = socketOf(conn);
    if (socket) coalesceSocketWrites(socket);
  };
  conn.on('connection', apply);
  apply();
}

/**
 * Whether the connection is open and not blocked by RabbitMQ. Use this, not `conn.ready`: rabbitmq-client
 * reads any cork on its socket as "blocked", so during a turn that has written, our own cork would make
 * `conn.ready` false (a /readyz that flaps under load). The turn's frames are sent now instead, which
 * only costs that turn's coalescing.
 */
export function connectionReady(conn: Connection | undefined): boolean {
  if (!conn) return false;
  sendTurnNow(conn);
  return conn.ready;
}

/** `conn.onConnect` (which reads `conn.ready`), with this turn's cork lifted first; see `connectionReady`. */
export function whenConnected(conn: Connection, timeoutMs: number, disableAutoClose = false): Promise<void> {
  sendTurnNow(conn);
  return conn.onConnect(timeoutMs, disableAutoClose);
}

function sendTurnNow(conn: Connection): void {
  (socketOf(conn) as CoalescedSocket | undefined)?.[COALESCED]?.flush();
}
