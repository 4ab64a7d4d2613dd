import {
  ActorSpaceError,
  CloseCode,
  closeCodeFor,
  type ErrorCode,
  errorCodeForClose,
  httpStatusFor,
  isErrorCode,
} from '@actorspace/core';
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

  it('maps each error code to one close code and HTTP status, and close codes back', () => {
    const rows: Array<[ErrorCode, number, number]> = [
      ['TIMEOUT', 4408, 504],
      ['NO_SUCH_ACTOR', 4404, 404],
      ['CHANNEL_CLOSED', 1001, 503],
      ['REMOTE_ERROR', 1011, 502],
      ['MAILBOX_FULL', 4429, 429],
      ['PAYLOAD_TOO_LARGE', 4413, 413],
      ['UNAUTHORIZED', 4401, 401],
      ['FORBIDDEN', 4403, 403],
      ['PROTOCOL', 4400, 400],
      ['INVALID_MESSAGE', 4400, 400],
    ];
    for (const [code, close, status] of rows) {
      expect(closeCodeFor(code), code).toBe(close);
      expect(httpStatusFor(code), code).toBe(status);
      if (code !== 'INVALID_MESSAGE') expect(errorCodeForClose(close), String(close)).toBe(code);
    }
    expect(httpStatusFor('ABORTED')).toBe(499);
    // A 4400 reads back as PROTOCOL; codes the table does not have as PROTOCOL too.
    expect(errorCodeForClose(CloseCode.BAD_FRAME)).toBe('PROTOCOL');
    expect(errorCodeForClose(1006)).toBe('PROTOCOL');
    expect(errorCodeForClose(1000)).toBe('PROTOCOL');
  });

  it('keeps the cause', () => {
    const cause = new Error('root');
    expect(new ActorSpaceError('TIMEOUT', 'x', { cause }).cause).toBe(cause);
  });
});
