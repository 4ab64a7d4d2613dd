import { resolveSocketUrl } from '@actorspace/browser';
import { describe, expect, it } from 'vitest';

describe('resolveSocketUrl', () => {
  it('maps page-relative paths to ws: or wss: on the page origin', () => {
    expect(resolveSocketUrl('/actorspace', 'http://localhost:8080/todos')).toBe(
      'ws://localhost:8080/actorspace',
    );
    expect(resolveSocketUrl('/actorspace', 'https://app.example/x')).toBe('wss://app.example/actorspace');
    expect(resolveSocketUrl('ws://other:1/p', 'https://app.example/')).toBe('ws://other:1/p');
  });

  it('refuses a relative path without a page with TypeError', () => {
    expect(() => resolveSocketUrl('/actorspace', undefined)).toThrow(TypeError);
  });
});
