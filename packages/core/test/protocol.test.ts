import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CloseCode } from '../src/errors.js';
import { decodeMessage, Kind, ProtocolViolation } from '../src/protocol.js';

const MAX = 1024 * 1024;

function violationOf(message: string | Uint8Array, max = MAX): ProtocolViolation {
  try {
    decodeMessage(message, max);
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolViolation);
    return error as ProtocolViolation;
  }
  throw new Error('expected a violation');
}

describe('decodeMessage', () => {
  it('decodes single frames and batches', () => {
    expect(decodeMessage('[1,"a","ping",null]', MAX)).toEqual([[Kind.TELL, 'a', 'ping', null]]);
    expect(decodeMessage('[[2,1,"a","t",{}],[3,1,5]]', MAX)).toEqual([
      [Kind.ASK, 1, 'a', 't', {}],
      [Kind.RESOLVE, 1, 5],
    ]);
  });

  it('rejects garbage, unknown kinds and malformed frames with 4400', () => {
    for (const bad of [
      '',
      'nope',
      '{}',
      '[]',
      '[99]',
      '[1]',
      '[2,0,"a","t",1]',
      '[2,1.5,"a","t",1]',
      '[[[1]]]',
      '[1,"","t",1]',
      '[16,{"v":"1"}]',
      '[4,1,"x"]',
    ]) {
      expect(violationOf(bad).closeCode).toBe(CloseCode.BAD_FRAME);
    }
  });

  it('rejects binary frames with 4400', () => {
    expect(violationOf(new Uint8Array([1, 2, 3])).closeCode).toBe(CloseCode.BAD_FRAME);
  });

  it('rejects frames over maxPayload with 4413, counting UTF-8 bytes', () => {
    expect(violationOf(`[1,"a","t","${'x'.repeat(100)}"]`, 64).closeCode).toBe(CloseCode.PAYLOAD_TOO_LARGE);
    // 30 characters of 3 bytes each: 90+ bytes, although under 64 characters.
    expect(violationOf(`[1,"a","t","${'€'.repeat(30)}"]`, 64).closeCode).toBe(CloseCode.PAYLOAD_TOO_LARGE);
  });

  it('never throws anything but a ProtocolViolation on random input (property)', () => {
    const input = fc.oneof(
      fc.string(),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc
        .array(fc.oneof(fc.integer({ min: -2, max: 20 }), fc.string(), fc.jsonValue()), { maxLength: 8 })
        .map((v) => JSON.stringify(v)),
      fc.uint8Array(),
    );
    fc.assert(
      fc.property(input, (message) => {
        try {
          const frames = decodeMessage(message, MAX);
          expect(Array.isArray(frames)).toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolViolation);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
