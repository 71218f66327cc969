import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ackOf, addressRequest } from '../../../../agent/os/rtnetlink.js';

describe('route netlink address requests', () => {
  it('encode RTM_NEWADDR as ip addr add does: create, exclusive, acked; the address as IFA_LOCAL and IFA_ADDRESS', () => {
    const b = addressRequest('add', '198.18.3.200', 24, 7, 42);
    expect(b.toString('hex')).toBe(
      [
        '28000000', '1400', '0506', '2a000000', '00000000', // nlmsghdr: len 40, RTM_NEWADDR, REQUEST|ACK|EXCL|CREATE, seq 42, pid 0
        '02', '18', '00', '00', '07000000', // ifaddrmsg: AF_INET, /24, flags, scope universe, index 7
        '0800', '0200', 'c61203c8', // IFA_LOCAL
        '0800', '0100', 'c61203c8', // IFA_ADDRESS
      ].join(''),
    );
    const d = addressRequest('del', '198.18.3.200', 24, 7, 43);
    expect(d.readUInt16LE(4)).toBe(21);
    expect(d.readUInt16LE(6)).toBe(0x5);
  });

  it('refuse what is no IPv4 address with a prefix', () => {
    expect(() => addressRequest('add', '198.18.3', 24, 1, 1)).toThrow(RangeError);
    expect(() => addressRequest('add', '198.18.3.256', 24, 1, 1)).toThrow(RangeError);
    expect(() => addressRequest('add', '198.18.3.1', 33, 1, 1)).toThrow(RangeError);
  });

  it('find the kernel answer to their own sequence number, and nothing in garbage', () => {
    const ack = (seq: number, error: number) => {
      const b = Buffer.alloc(36);
      b.writeUInt32LE(36, 0);
      b.writeUInt16LE(2, 4);
      b.writeUInt32LE(seq, 8);
      b.writeInt32LE(error, 16);
      return b;
    };
    expect(ackOf(ack(5, 0), 5)).toBe(0);
    expect(ackOf(ack(5, -17), 5)).toBe(-17);
    expect(ackOf(ack(4, 0), 5)).toBeNull();
    expect(ackOf(Buffer.concat([ack(4, -1), ack(5, -99)]), 5)).toBe(-99);
    // Any run of other well-formed messages before the answer is skipped; the answer is found.
    const other = (type: number, seq: number) => {
      const b = Buffer.alloc(20);
      b.writeUInt32LE(20, 0);
      b.writeUInt16LE(type, 4);
      b.writeUInt32LE(seq, 8);
      return b;
    };
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 3, max: 100 }), fc.nat()), { maxLength: 8 }), fc.nat(), fc.integer({ min: -133, max: 0 }), (before, seq, error) => {
        const buf = Buffer.concat([...before.map(([t, q]) => other(t, q)), ack(seq, error)]);
        expect(ackOf(buf, seq)).toBe(error);
        expect(ackOf(buf, seq + 1)).toBeNull();
      }),
    );
    // Garbage never throws, and answers only where an error message with that number is.
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), fc.nat(), (bytes, seq) => {
        const r = ackOf(Buffer.from(bytes), seq);
        if (r !== null) expect(Buffer.from(bytes).includes(Buffer.from([2, 0]))).toBe(true);
      }),
    );
  });
});
