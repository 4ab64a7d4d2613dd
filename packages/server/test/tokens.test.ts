// Access tokens as attackers would try them: every forged, stale or misdirected token is
// refused with UNAUTHORIZED and a reason, never with the token in the error.
import { ActorSpaceError } from '@actorspace/core';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createAccessToken, createTokenVerifier, verifyAccessToken } from '../src/tokens.js';

const SECRET = 'a-test-secret-that-is-long-enough-000';
const OTHER = 'another-secret-that-is-long-enough-111';
const alice = { id: 'alice', type: 'client' as const };

/** Verifying must refuse with UNAUTHORIZED and this reason, and never echo the token. */
async function expectRefused(promise: Promise<unknown>, token: string, reason: RegExp): Promise<void> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ActorSpaceError);
  const e = error as ActorSpaceError;
  expect(e.code).toBe('UNAUTHORIZED');
  expect((e.details as { reason: string }).reason).toMatch(reason);
  if (token) {
    expect(e.message).not.toContain(token);
    expect(JSON.stringify(e.details)).not.toContain(token);
  }
}

describe('createAccessToken and verifyAccessToken', () => {
  it('round-trips a caller with its claims, route and actor (HS256)', async () => {
    const token = await createAccessToken({
      secret: SECRET,
      caller: alice,
      route: '/todos',
      actor: 'page-1',
      expiresIn: '5m',
      audience: 'app',
      issuer: 'login',
      claims: { plan: 'pro', roles: ['admin'] },
    });
    expect(token.split('.')).toHaveLength(3);
    const caller = await verifyAccessToken(token, { secret: SECRET, audience: 'app', issuer: 'login' });
    expect(caller).toEqual({
      id: 'alice',
      type: 'client',
      claims: { plan: 'pro', roles: ['admin'] },
      route: '/todos',
      actor: 'page-1',
    });
  });

  it('signs and verifies ES256 with a key pair, a JWK, and a key set rotated by kid', async () => {
    const a = await generateKeyPair('ES256', { extractable: true });
    const b = await generateKeyPair('ES256', { extractable: true });
    const service = { id: 'billing', type: 'service' as const };
    const t1 = await createAccessToken({
      privateKey: a.privateKey,
      kid: 'k1',
      caller: service,
      expiresIn: 60,
    });
    const t2 = await createAccessToken({
      privateKey: await exportJWK(b.privateKey),
      kid: 'k2',
      caller: service,
      expiresIn: 60,
    });
    expect((await verifyAccessToken(t1, { publicKey: a.publicKey })).type).toBe('service');
    expect((await verifyAccessToken(t2, { publicKey: await exportJWK(b.publicKey) })).id).toBe('billing');
    // During a rotation the verifier holds both keys, found by kid, as a map or as a JWKS.
    const byKid = { k1: a.publicKey, k2: b.publicKey };
    const jwks = {
      keys: [
        { ...(await exportJWK(a.publicKey)), kid: 'k1', alg: 'ES256' },
        { ...(await exportJWK(b.publicKey)), kid: 'k2', alg: 'ES256' },
      ],
    };
    for (const options of [{ publicKey: byKid }, { jwks }]) {
      const verify = createTokenVerifier(options);
      expect((await verify(t1)).id).toBe('billing');
      expect((await verify(t2)).id).toBe('billing');
    }
    // Secrets rotate the same way.
    const s1 = await createAccessToken({ secret: SECRET, kid: 'old', caller: alice, expiresIn: 60 });
    const s2 = await createAccessToken({ secret: OTHER, kid: 'new', caller: alice, expiresIn: 60 });
    const verify = createTokenVerifier({ secret: { old: SECRET, new: OTHER } });
    expect((await verify(s1)).id).toBe('alice');
    expect((await verify(s2)).id).toBe('alice');
  });

  it('refuses a token signed with another key', async () => {
    const token = await createAccessToken({ secret: OTHER, caller: alice, expiresIn: 60 });
    await expectRefused(verifyAccessToken(token, { secret: SECRET }), token, /bad signature/);
    const a = await generateKeyPair('ES256');
    const b = await generateKeyPair('ES256');
    const signed = await createAccessToken({ privateKey: a.privateKey, caller: alice, expiresIn: 60 });
    await expectRefused(verifyAccessToken(signed, { publicKey: b.publicKey }), signed, /bad signature/);
  });

  it('refuses alg none', async () => {
    const token = new UnsecuredJWT({ actorspace: { type: 'service' } })
      .setSubject('mallory')
      .setExpirationTime('1h')
      .encode();
    await expectRefused(
      verifyAccessToken(token, { secret: SECRET }),
      token,
      /algorithm not allowed|malformed/,
    );
  });

  it('refuses algorithm confusion: an HS256 token keyed with the public key', async () => {
    const { publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = await exportJWK(publicKey);
    // The attacker knows the public key and signs with it as an HMAC secret.
    const forged = await new SignJWT({ actorspace: { type: 'service' } })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('mallory')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(JSON.stringify(jwk)));
    await expectRefused(verifyAccessToken(forged, { publicKey }), forged, /algorithm not allowed/);
    await expectRefused(
      verifyAccessToken(forged, { jwks: { keys: [jwk] } }),
      forged,
      /algorithm not allowed|no key/,
    );
    // And the options cannot be talked into it.
    expect(() => createTokenVerifier({ publicKey, algorithms: ['HS256'] })).toThrow(TypeError);
    expect(() => createTokenVerifier({ secret: SECRET, algorithms: ['RS256'] })).toThrow(TypeError);
  });

  it('refuses expired and not-yet-valid tokens, and tokens with no expiry', async () => {
    const expired = await new SignJWT({ actorspace: { type: 'client' } })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(new TextEncoder().encode(SECRET));
    await expectRefused(verifyAccessToken(expired, { secret: SECRET }), expired, /expired/);
    const early = await new SignJWT({ actorspace: { type: 'client' } })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .setNotBefore('10m')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(SECRET));
    await expectRefused(verifyAccessToken(early, { secret: SECRET }), early, /not valid yet/);
    const forever = await new SignJWT({ actorspace: { type: 'client' } })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .sign(new TextEncoder().encode(SECRET));
    await expectRefused(verifyAccessToken(forever, { secret: SECRET }), forever, /exp/);
  });

  it('refuses the wrong audience or issuer', async () => {
    const token = await createAccessToken({
      secret: SECRET,
      caller: alice,
      expiresIn: 60,
      audience: 'other-app',
      issuer: 'elsewhere',
    });
    await expectRefused(verifyAccessToken(token, { secret: SECRET, audience: 'app' }), token, /aud/);
    await expectRefused(verifyAccessToken(token, { secret: SECRET, issuer: 'login' }), token, /iss/);
  });

  it('refuses a tampered payload: a client that makes itself a service', async () => {
    const token = await createAccessToken({ secret: SECRET, caller: alice, expiresIn: 60 });
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    claims.actorspace.type = 'service';
    const tampered = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    await expectRefused(verifyAccessToken(tampered, { secret: SECRET }), tampered, /bad signature/);
    await expectRefused(verifyAccessToken('not.a.token', { secret: SECRET }), 'not.a.token', /malformed/);
    await expectRefused(verifyAccessToken('', { secret: SECRET }), '', /no token/);
  });

  it('refuses a validly signed token that names no caller type, or system', async () => {
    for (const actorspace of [undefined, { type: 'system' }, { type: 'admin' }]) {
      const token = await new SignJWT(actorspace ? { actorspace } : {})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('x')
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode(SECRET));
      await expectRefused(verifyAccessToken(token, { secret: SECRET }), token, /caller type/);
    }
  });

  it('refuses to issue what it could not verify or should not exist', async () => {
    const base = { secret: SECRET, caller: alice, expiresIn: 60 };
    await expect(createAccessToken({ ...base, secret: 'short' })).rejects.toThrow(TypeError);
    await expect(
      createAccessToken({ ...base, caller: { id: 'x', type: 'system' as never } }),
    ).rejects.toThrow(TypeError);
    await expect(createAccessToken({ ...base, caller: { id: '', type: 'client' } })).rejects.toThrow(
      TypeError,
    );
    await expect(createAccessToken({ ...base, claims: { sub: 'root' } })).rejects.toThrow(/reserved/);
    await expect(createAccessToken({ ...base, expiresIn: undefined as never })).rejects.toThrow(/expiresIn/);
    await expect(createAccessToken({ ...base, algorithm: 'none' })).rejects.toThrow(TypeError);
    const { privateKey } = await generateKeyPair('ES256');
    await expect(createAccessToken({ ...base, privateKey })).rejects.toThrow(/exactly one/);
    expect(() => createTokenVerifier({})).toThrow(/exactly one/);
    expect(() => createTokenVerifier({ secret: 'short' })).toThrow(/32 bytes/);
  });

  it('refuses at start keys it could never use, and accepts a secret KeyObject', async () => {
    expect(() => createTokenVerifier({ secret: {} })).toThrow(/no keys/);
    expect(() => createTokenVerifier({ publicKey: '-----BEGIN PUBLIC KEY-----\nabc' as never })).toThrow(
      /PEM/,
    );
    expect(() => createTokenVerifier({ publicKey: { k1: 42 } as never })).toThrow(/key "k1"/);
    const { createSecretKey } = await import('node:crypto');
    const key = createSecretKey(Buffer.from(SECRET));
    const token = await createAccessToken({ secret: SECRET, caller: alice, expiresIn: 60 });
    expect((await createTokenVerifier({ secret: key })(token)).id).toBe('alice');
  });

  it('says REMOTE_ERROR, not UNAUTHORIZED, when the key set cannot be fetched', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const token = await createAccessToken({ privateKey, caller: alice, expiresIn: 60 });
    const error = await verifyAccessToken(token, { jwks: 'http://127.0.0.1:1/jwks.json' }).catch((e) => e);
    expect(error).toMatchObject({ code: 'REMOTE_ERROR' });
    expect(String(error.message)).not.toContain(token);
  });

  it('finds the key by kid among several, and refuses a token whose kid matches none', async () => {
    const verify = createTokenVerifier({ secret: { old: SECRET, new: OTHER } });
    const unknown = await createAccessToken({
      secret: SECRET,
      kid: 'elsewhere',
      caller: alice,
      expiresIn: 60,
    });
    await expectRefused(verify(unknown), unknown, /no key/);
    const none = await createAccessToken({ secret: SECRET, caller: alice, expiresIn: 60 });
    await expectRefused(verify(none), none, /no key/);
  });

  it('drops a __proto__ claim instead of making it the prototype of claims', async () => {
    const token = await new SignJWT(JSON.parse('{"actorspace":{"type":"client"},"__proto__":{"admin":true}}'))
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(SECRET));
    const caller = await verifyAccessToken(token, { secret: SECRET });
    expect((caller.claims as { admin?: boolean }).admin).toBeUndefined();
    expect(Object.getPrototypeOf(caller.claims)).toBe(Object.prototype);
  });
});
