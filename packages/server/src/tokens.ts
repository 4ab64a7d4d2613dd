/**
 * Signed access tokens (JWT, signed with jose): the host's login code issues one for a caller,
 * the page or service presents it in its hello, and the server verifies it and sets
 * `ctx.caller` from it. The verifier pins its algorithms to the kind of key it holds, so a
 * token cannot choose how it is checked (no `none`, no HS/RS confusion).
 */
import type { Caller } from '@actorspace/core';
import { ActorSpaceError } from '@actorspace/core';
import {
  type CryptoKey,
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  importJWK,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
  type KeyObject,
  SignJWT,
} from 'jose';

/** A symmetric key: a string (UTF-8, at least 32 bytes), bytes, or a secret `KeyObject`. */
export type Secret = string | Uint8Array | KeyObject;

/** An asymmetric key: a WebCrypto key, a Node `KeyObject` or a JWK. */
export type AsymmetricKey = CryptoKey | KeyObject | JWK;

/** What a token says about its holder; `system` cannot be issued. */
export interface TokenCaller {
  /** The caller's id (`sub`). */
  id: string;
  /** The caller's type: a browser `client` or a `service` (agent, back office). */
  type: 'client' | 'service';
}

/** Options of {@link createAccessToken}. Give exactly one of `secret` and `privateKey`. */
export interface CreateAccessTokenOptions {
  /** Signs with HMAC (`HS256`). At least 32 bytes. */
  secret?: Secret;
  /** Signs with this private key (`ES256` unless `algorithm` says otherwise). */
  privateKey?: AsymmetricKey;
  /** The signature algorithm. @default 'HS256' with a secret, 'ES256' with a private key */
  algorithm?: string;
  /** The key id (`kid` header), for verifiers that hold several keys during a rotation. */
  kid?: string;
  /** Who the token is for. */
  caller: TokenCaller;
  /** Binds the token to one route: used for another, it is refused with 4403. */
  route?: string;
  /** Binds the token to one client root actor (the hello's actor id): elsewhere, 4403. */
  actor?: string;
  /** Lifetime: seconds, or a string such as `'15m'`, `'2h'`, `'7d'`. Required: tokens expire. */
  expiresIn: number | string;
  /** The audience (`aud`) the verifier expects. */
  audience?: string | string[];
  /** The issuer (`iss`) the verifier expects. */
  issuer?: string;
  /** More claims, given back as `caller.claims`. Registered names and `actorspace` are reserved. */
  claims?: Record<string, unknown>;
}

/**
 * How a server verifies tokens. Give exactly one of `secret`, `publicKey` and `jwks`; each
 * may be one key or several by key id (`kid`) for rotation.
 */
export interface VerifyAccessTokenOptions {
  /** HMAC keys (`HS256`, `HS384`, `HS512`): one, or several by `kid`. */
  secret?: Secret | Record<string, Secret>;
  /** Public keys (`ES256`, `RS256`, `EdDSA`...): one, or several by `kid`. */
  publicKey?: AsymmetricKey | Record<string, AsymmetricKey>;
  /** A JSON Web Key Set, or the URL it is fetched from (and refreshed by `kid`). */
  jwks?: JSONWebKeySet | string | URL;
  /**
   * The accepted algorithms, all of the key's kind.
   * @default ['HS256'] with `secret`, ['ES256'] with `publicKey` or `jwks`
   */
  algorithms?: string[];
  /** The audience the token must name. */
  audience?: string | string[];
  /** The issuer the token must name. */
  issuer?: string | string[];
  /** Clock skew allowed for `exp` and `nbf`: seconds, or a string such as `'30s'`. @default 0 */
  clockTolerance?: number | string;
}

/** A verified token: its caller, and the route and actor it is bound to, if any. */
export interface VerifiedToken extends Caller {
  /** The caller's type, from the token. */
  type: 'client' | 'service';
  /** The route the token is bound to. */
  route?: string;
  /** The client root actor the token is bound to. */
  actor?: string;
}

const RESERVED = new Set(['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'actorspace']);
const HMAC = ['HS256', 'HS384', 'HS512'];
const ASYMMETRIC = [
  'ES256',
  'ES384',
  'ES512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'EdDSA',
  'Ed25519',
];
const MIN_SECRET_BYTES = 32;

/** The claim that carries what ActorSpace needs beyond `sub`. */
interface ActorSpaceClaim {
  type: 'client' | 'service';
  route?: string;
  actor?: string;
}

/**
 * Issues a signed access token for a caller, to hand to a page (`connect(url, { token })`) or
 * a service.
 *
 * @throws TypeError for a missing or weak key, a caller that is not `client` or `service`, a
 *   reserved claim name, or a missing `expiresIn`.
 * @example
 * app.post('/login', async (req, res) => {
 *   const user = await checkPassword(req.body);
 *   res.json({ token: await createAccessToken({
 *     secret: process.env.ACTORSPACE_SECRET, caller: { id: user.id, type: 'client' }, expiresIn: '1h',
 *   }) });
 * });
 */
export async function createAccessToken(options: CreateAccessTokenOptions): Promise<string> {
  const o = options ?? ({} as CreateAccessTokenOptions);
  const caller = o.caller;
  if (!caller || typeof caller.id !== 'string' || caller.id === '') {
    throw new TypeError('createAccessToken: caller.id must be a non-empty string');
  }
  if (caller.type !== 'client' && caller.type !== 'service') {
    throw new TypeError('createAccessToken: caller.type must be "client" or "service"');
  }
  if (o.expiresIn === undefined || (typeof o.expiresIn !== 'number' && typeof o.expiresIn !== 'string')) {
    throw new TypeError('createAccessToken: expiresIn is required (seconds, or a string such as "1h")');
  }
  const claims = o.claims ?? {};
  for (const name of Object.keys(claims)) {
    if (RESERVED.has(name)) throw new TypeError(`createAccessToken: claim "${name}" is reserved`);
  }
  const { key, alg } = await signingKey(o);
  const actorspace: ActorSpaceClaim = { type: caller.type };
  if (o.route !== undefined) actorspace.route = String(o.route);
  if (o.actor !== undefined) actorspace.actor = String(o.actor);
  const jwt = new SignJWT({ ...claims, actorspace })
    .setProtectedHeader(o.kid === undefined ? { alg, typ: 'JWT' } : { alg, typ: 'JWT', kid: o.kid })
    .setSubject(caller.id)
    .setIssuedAt()
    .setExpirationTime(typeof o.expiresIn === 'number' ? `${o.expiresIn}s` : o.expiresIn);
  if (o.audience !== undefined) jwt.setAudience(o.audience);
  if (o.issuer !== undefined) jwt.setIssuer(o.issuer);
  return jwt.sign(key);
}

async function signingKey(
  o: CreateAccessTokenOptions,
): Promise<{ key: CryptoKey | KeyObject | Uint8Array; alg: string }> {
  if ((o.secret === undefined) === (o.privateKey === undefined)) {
    throw new TypeError('createAccessToken: give exactly one of secret and privateKey');
  }
  if (o.secret !== undefined) {
    const alg = o.algorithm ?? 'HS256';
    if (!HMAC.includes(alg))
      throw new TypeError(`createAccessToken: a secret signs with HS256/384/512, not ${alg}`);
    return {
      key: isKeyObject(o.secret)
        ? (o.secret as KeyObject)
        : secretBytes(o.secret as string | Uint8Array, 'createAccessToken'),
      alg,
    };
  }
  const alg = o.algorithm ?? 'ES256';
  if (!ASYMMETRIC.includes(alg)) {
    throw new TypeError(`createAccessToken: a private key signs with an asymmetric algorithm, not ${alg}`);
  }
  return { key: await asKey(o.privateKey as AsymmetricKey, alg), alg };
}

function secretBytes(secret: string | Uint8Array, where: string): Uint8Array {
  const bytes = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  if (!(bytes instanceof Uint8Array) || bytes.byteLength < MIN_SECRET_BYTES) {
    throw new TypeError(`${where}: a secret must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  return bytes;
}

async function asKey(key: AsymmetricKey, alg: string): Promise<CryptoKey | KeyObject> {
  // A plain JWK object (not a CryptoKey, not a KeyObject) is imported first.
  if (typeof key === 'object' && key !== null && 'kty' in key && typeof (key as JWK).kty === 'string') {
    return (await importJWK(key as JWK, alg)) as CryptoKey;
  }
  return key as CryptoKey | KeyObject;
}

/**
 * A verifier for {@link verifyAccessToken}'s options, built once (keys imported, the remote
 * key set cached) and used for every hello.
 * @throws TypeError for options that do not name exactly one kind of key, or algorithms of
 *   another kind than the key.
 */
export function createTokenVerifier(
  options: VerifyAccessTokenOptions,
): (token: string) => Promise<VerifiedToken> {
  const o = options ?? ({} as VerifyAccessTokenOptions);
  const given = [o.secret, o.publicKey, o.jwks].filter((k) => k !== undefined).length;
  if (given !== 1) throw new TypeError('tokens: give exactly one of secret, publicKey and jwks');
  const family = o.secret !== undefined ? HMAC : ASYMMETRIC;
  const algorithms = o.algorithms ?? [o.secret !== undefined ? 'HS256' : 'ES256'];
  if (!Array.isArray(algorithms) || algorithms.length === 0 || !algorithms.every((a) => family.includes(a))) {
    throw new TypeError(
      `tokens: algorithms must be some of ${family.join(', ')} for ${o.secret !== undefined ? 'a secret' : 'public keys'}`,
    );
  }
  const getKey = keyResolver(o);
  const verifyOptions = {
    algorithms,
    requiredClaims: ['exp', 'sub'],
    ...(o.audience === undefined ? {} : { audience: o.audience }),
    ...(o.issuer === undefined ? {} : { issuer: o.issuer }),
    ...(o.clockTolerance === undefined ? {} : { clockTolerance: o.clockTolerance }),
  };
  return async (token) => {
    if (typeof token !== 'string' || token === '') throw refused('no token');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, getKey, verifyOptions));
    } catch (error) {
      // The key set could not be fetched: not the token's fault, and not final for the client.
      if (
        error instanceof errors.JWKSTimeout ||
        (error instanceof TypeError && /fetch/i.test(error.message))
      ) {
        throw new ActorSpaceError(
          'REMOTE_ERROR',
          'access token not checked: the key set could not be fetched',
          {
            cause: error,
          },
        );
      }
      throw refused(reasonOf(error), error);
    }
    return toCaller(payload);
  };
}

/**
 * Verifies an access token and returns its caller.
 *
 * @throws ActorSpaceError `UNAUTHORIZED` for a token that is malformed, forged, signed with
 *   another algorithm or key, expired, not yet valid, or for another audience or issuer
 *   (`details.reason` says which; the token itself is never in the error); TypeError for bad
 *   options.
 * @example
 * const caller = await verifyAccessToken(token, { secret: process.env.ACTORSPACE_SECRET });
 */
export function verifyAccessToken(token: string, options: VerifyAccessTokenOptions): Promise<VerifiedToken> {
  return createTokenVerifier(options)(token);
}

function keyResolver(o: VerifyAccessTokenOptions): JWTVerifyGetKey {
  if (o.jwks !== undefined) {
    const jwks = o.jwks;
    if (typeof jwks === 'string' || jwks instanceof URL) return createRemoteJWKSet(new URL(jwks));
    if (typeof jwks !== 'object' || !Array.isArray((jwks as JSONWebKeySet).keys)) {
      throw new TypeError('tokens: jwks must be a JSON Web Key Set ({ keys: [...] }) or its URL');
    }
    return createLocalJWKSet(jwks);
  }
  type Find = (alg: string) => Promise<CryptoKey | KeyObject | Uint8Array>;
  const byKid = new Map<string | undefined, Find>();
  const add = (kid: string | undefined, key: Secret | AsymmetricKey) => {
    if (o.secret !== undefined) {
      const material = isKeyObject(key)
        ? (key as KeyObject)
        : secretBytes(key as string | Uint8Array, 'tokens');
      byKid.set(kid, async () => material);
      return;
    }
    // A JWK becomes a key of one algorithm: imported once per algorithm it is used with.
    const imported = new Map<string, Promise<CryptoKey | KeyObject>>();
    byKid.set(kid, (alg) => {
      let found = imported.get(alg);
      if (!found) {
        found = asKey(key as AsymmetricKey, alg);
        imported.set(alg, found);
      }
      return found;
    });
  };
  const keys = (o.secret ?? o.publicKey) as Secret | AsymmetricKey | Record<string, Secret | AsymmetricKey>;
  const secret = o.secret !== undefined;
  if (isKeyMap(keys, secret)) {
    const entries = Object.entries(keys);
    if (entries.length === 0) throw new TypeError(`tokens: ${secret ? 'secret' : 'publicKey'} has no keys`);
    for (const [kid, key] of entries) add(kid, checkKey(key, secret, kid));
  } else {
    add(undefined, checkKey(keys as Secret | AsymmetricKey, secret, undefined));
  }
  const only = byKid.size === 1 ? [...byKid.values()][0] : undefined;
  return async (header) => {
    // By kid; a token without one (or with an unknown one) is tried against a single key only.
    const find = (header.kid === undefined ? undefined : byKid.get(header.kid)) ?? only;
    if (!find) throw new errors.JWKSNoMatchingKey();
    return find(header.alg);
  };
}

/** True for `{ kid: key, ... }` rather than one key. */
function isKeyMap(keys: unknown, secret: boolean): keys is Record<string, Secret | AsymmetricKey> {
  if (typeof keys !== 'object' || keys === null || keys instanceof Uint8Array || isKeyObject(keys))
    return false;
  if (secret) return true;
  // One asymmetric key is a CryptoKey, a KeyObject or a JWK (which has `kty`).
  return !('kty' in keys) && !('type' in keys && 'algorithm' in keys);
}

/** A Node `KeyObject` (secret, public or private). */
function isKeyObject(key: unknown): boolean {
  return typeof key === 'object' && key !== null && 'export' in key && 'type' in key && 'equals' in key;
}

/**
 * Refuses, when the server starts, a key the verifier could never use.
 * @throws TypeError naming the key.
 */
function checkKey<K extends Secret | AsymmetricKey>(key: K, secret: boolean, kid: string | undefined): K {
  const which = kid === undefined ? (secret ? 'secret' : 'publicKey') : `key "${kid}"`;
  if (secret) {
    if (typeof key === 'object' && key !== null && isKeyObject(key) && (key as KeyObject).type === 'secret')
      return key;
    if (typeof key !== 'string' && !(key instanceof Uint8Array)) {
      throw new TypeError(`tokens: ${which} must be a string, bytes or a secret KeyObject`);
    }
    secretBytes(key as string | Uint8Array, 'tokens');
    return key;
  }
  if (typeof key === 'string') {
    throw new TypeError(
      `tokens: ${which} is a string; import a PEM key first (jose importSPKI, or crypto.createPublicKey)`,
    );
  }
  const ok =
    typeof key === 'object' &&
    key !== null &&
    (typeof (key as JWK).kty === 'string' || isKeyObject(key) || ('type' in key && 'algorithm' in key));
  if (!ok) throw new TypeError(`tokens: ${which} must be a CryptoKey, a KeyObject or a JWK`);
  return key;
}

function toCaller(payload: JWTPayload): VerifiedToken {
  const claim = payload.actorspace as Partial<ActorSpaceClaim> | undefined;
  if (typeof claim !== 'object' || claim === null || (claim.type !== 'client' && claim.type !== 'service')) {
    throw refused('the token names no caller type');
  }
  if (typeof payload.sub !== 'string' || payload.sub === '') throw refused('the token names no caller');
  const claims: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(payload)) {
    if (!RESERVED.has(name) && name !== '__proto__') claims[name] = value;
  }
  const caller: VerifiedToken = { id: payload.sub, type: claim.type, claims };
  if (typeof claim.route === 'string') caller.route = claim.route;
  if (typeof claim.actor === 'string') caller.actor = claim.actor;
  return caller;
}

/** Why jose refused a token, in words that never quote it. */
function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return 'not valid yet';
    if (error.claim === 'iat') return 'issued in the future';
    return `wrong ${error.claim} claim`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'bad signature';
  if (error instanceof errors.JWKSNoMatchingKey) return 'no key matches it';
  if (error instanceof errors.JOSENotSupported) return 'unsupported algorithm';
  if (error instanceof errors.JWTInvalid || error instanceof errors.JWSInvalid) return 'malformed';
  return 'could not be verified';
}

function refused(reason: string, cause?: unknown): ActorSpaceError {
  return new ActorSpaceError('UNAUTHORIZED', `access token refused: ${reason}`, {
    details: { reason },
    ...(cause === undefined ? {} : { cause }),
  });
}
