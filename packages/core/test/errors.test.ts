import { ActorSpaceError, CloseCode, type ErrorCode, errorCodeForClose, isErrorCode } from '@actorspace/core';
import { describe, expect, it } from 'vitest';
import { fromWireError, toWireError } from '../src/errors.js';

const CODES: ErrorCode[] = [
  'TIMEOUT',
  'ABORTED',
  'NO_SUCH_ACTOR',
  'CHANNEL_CLOSED',
  'REMOTE_ERROR',
  'MAILBOX_FULL',
  'PAYLOAD_TOO_LARGE',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'INVALID_MESSAGE',
  'PROTOCOL',
];

describe('errors', () => {
  it('round-trips every code across the wire', () => {
    for (const code of CODES) {
      const back = fromWireError(
        JSON.parse(JSON.stringify(toWireError(new ActorSpaceError(code, `m ${code}`), false))),
        'ask',
      );
      expect(back.code).toBe(code);
      expect(isErrorCode(code)).toBe(true);
    }
    expect(isErrorCode('NOPE')).toBe(false);
  });

  it('turns foreign errors and thrown non-errors into REMOTE_ERROR', () => {
    expect(fromWireError(toWireError('a string', false), 'ask').details).toMatchObject({
      message: 'a string',
    });
    expect(fromWireError({ code: 'WHATEVER', message: 5 }, 'ask').code).toBe('REMOTE_ERROR');
    expect(fromWireError(null, 'ask').code).toBe('REMOTE_ERROR');
  });

  it('maps handshake close codes to error codes', () => {
    expect(errorCodeForClose(CloseCode.UNAUTHENTICATED)).toBe('UNAUTHORIZED');
    expect(errorCodeForClose(CloseCode.FORBIDDEN)).toBe('FORBIDDEN');
    expect(errorCodeForClose(CloseCode.PAYLOAD_TOO_LARGE)).toBe('PAYLOAD_TOO_LARGE');
    for (const code of [
      CloseCode.BAD_FRAME,
      CloseCode.UNKNOWN_ROUTE,
      CloseCode.TIMEOUT,
      CloseCode.RATE_LIMITED,
      1006,
    ]) {
      expect(errorCodeForClose(code)).toBe('PROTOCOL');
    }
  });

  it('keeps the cause', () => {
    const cause = new Error('root');
    expect(new ActorSpaceError('TIMEOUT', 'x', { cause }).cause).toBe(cause);
  });
});
