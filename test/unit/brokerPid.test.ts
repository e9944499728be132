// The bench measures the CPU of the RabbitMQ it talks to: the process listening on AMQP_URL's port.
import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { localBrokerPort } from '../../bench/broker.js';
import { listeningInodes, listeningPid } from '../../bench/proc.js';

// As Linux prints them: 0x1628 is 5672, 0x1629 is 5673; state 0A is LISTEN, 01 ESTABLISHED.
const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1628 00000000:0000 0A 00000000:00000000 00:00000000 00000000   107        0 21635 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1629 00000000:0000 0A 00000000:00000000 00:00000000 00000000   107        0 88001 1 0000000000000000 100 0 0 10 0
   2: 0100007F:1628 0100007F:A2B4 01 00000000:00000000 00:00000000 00000000   107        0 99123 1 0000000000000000 20 4 30 10 -1
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:1628 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000   107        0 21700 1 0000000000000000 100 0 0 10 0
`;

describe('listeningInodes', () => {
  it('takes the listening sockets on the port, not its connections nor other ports', () => {
    expect(listeningInodes(TCP, 5672)).toEqual(['21635']);
    expect(listeningInodes(TCP, 5673)).toEqual(['88001']);
    expect(listeningInodes(TCP6, 5672)).toEqual(['21700']);
    expect(listeningInodes(TCP, 5671)).toEqual([]);
    expect(listeningInodes('', 5672)).toEqual([]);
  });
});

describe('listeningPid', () => {
  it('finds the process listening on a port: this one, for a server it opened', async () => {
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('no TCP address');
      expect(listeningPid(address.port)).toBe(process.pid);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('localBrokerPort', () => {
  it("reads AMQP_URL's port when the broker is on this machine", () => {
    expect(localBrokerPort('amqp://guest:guest@127.0.0.1:5673')).toBe(5673);
    expect(localBrokerPort('amqp://guest:guest@localhost')).toBe(5672);
    expect(localBrokerPort('amqps://u:p@127.0.0.1')).toBe(5671);
    expect(localBrokerPort('amqp://u:p@rabbit.example:5672')).toBeUndefined();
    expect(localBrokerPort('not a url')).toBeUndefined();
  });
});
