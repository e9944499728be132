import { describe, expect, it } from 'vitest';
import { connectionsOfPid } from './connectionCut.js';

describe('connectionsOfPid', () => {
  it("picks the process's connections out of `ss -tnpH` output, IPv4 and IPv6", () => {
    const output = [
      '0      0      127.0.0.1:48138 127.0.0.1:5672 users:(("node",pid=30864,fd=18))',
      '0      0      127.0.0.1:48184 127.0.0.1:5672 users:(("node",pid=3086,fd=18))',
      '0      0      [::1]:40000 [::1]:5672 users:(("node",pid=30864,fd=21)) ',
      'garbage',
      '',
    ].join('\n');
    expect(connectionsOfPid(output, 30864)).toEqual([
      { localAddress: '127.0.0.1', localPort: 48138, peerAddress: '127.0.0.1', peerPort: 5672 },
      { localAddress: '[::1]', localPort: 40000, peerAddress: '[::1]', peerPort: 5672 },
    ]);
    expect(connectionsOfPid(output, 1)).toEqual([]);
  });
});
