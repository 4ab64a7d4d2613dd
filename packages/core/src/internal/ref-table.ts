/**
 * Actor references crossing one channel. An outgoing reference travels as the guid to
 * address: a local actor's own guid (remembered: only those may come back "home"), the
 * peer's own guid marked as coming home, or a forwarder made for a third party. An incoming
 * reference becomes a working reference, and one that claims to come home must name a guid
 * this channel gave out: a peer cannot forge a reference to an actor it was never given.
 */
import { type ActorRef, Ref, type Router } from '../actor-ref.js';
import type { RefExporter, RefImporter, WireRef } from '../codec.js';
import { newId } from './id.js';

/** What the table needs from its channel. */
export interface RefHost {
  /** The space's router: a reference routed by it is a local actor. */
  readonly router: Router;
  /** A reference to a local actor by guid. */
  localRef(guid: string): ActorRef;
  /** A reference to the peer's actor `guid`. */
  makeRemote(guid: string): ActorRef;
}

export class RefTable implements RefExporter, RefImporter {
  readonly #host: RefHost;
  readonly #channel: Router;
  /** The local root named in the handshake, and other local guids given to the peer. */
  #root: string | null = null;
  #given: Set<string> | null = null;
  // Forwarders for references to third parties: id → reference, and back.
  #forwarders: Map<string, Ref> | null = null;
  #forwarderIds: Map<Ref, string> | null = null;

  /** `channel` is the router of references to the peer's actors. */
  constructor(host: RefHost, channel: Router) {
    this.#host = host;
    this.#channel = channel;
  }

  /** Marks the local root actor named in the handshake as given to the peer. */
  giveRoot(guid: string): void {
    this.#root = guid;
  }

  #give(guid: string): void {
    if (guid !== this.#root) (this.#given ??= new Set()).add(guid);
  }

  /** The third-party reference a forwarder id stands for. */
  forwarder(id: string): Ref | undefined {
    return this.#forwarders?.get(id);
  }

  /** Codec hook: how a reference in outgoing data travels. */
  exportRef(ref: unknown): WireRef {
    if (ref instanceof Ref) {
      if (ref.router === this.#host.router) {
        this.#give(ref.guid);
        return { g: ref.guid };
      }
      if (ref.router === this.#channel) return { g: ref.guid, y: 1 };
    }
    // The codec only asks for references (REF_MARK): ActorSpace's own Ref.
    const key = ref as Ref;
    this.#forwarderIds ??= new Map();
    this.#forwarders ??= new Map();
    let id = this.#forwarderIds.get(key);
    if (id === undefined) {
      id = `fwd.${newId()}`;
      this.#forwarderIds.set(key, id);
      this.#forwarders.set(id, key);
    }
    return { g: id };
  }

  /** Codec hook: a working reference for an incoming wire reference. */
  importRef(wire: WireRef): ActorRef {
    if (typeof wire !== 'object' || wire === null || typeof wire.g !== 'string' || wire.g.length === 0) {
      throw new TypeError('malformed actor reference');
    }
    if (wire.y !== 1) return this.#host.makeRemote(wire.g);
    const forwarded = this.#forwarders?.get(wire.g);
    if (forwarded) return forwarded;
    if (wire.g !== this.#root && !this.#given?.has(wire.g)) {
      throw new TypeError(`reference to actor ${wire.g.slice(0, 64)} was never given to this peer`);
    }
    return this.#host.localRef(wire.g);
  }

  /** Forgets every forwarder and given guid but the root (the session ended). */
  clear(): void {
    this.#given = null;
    this.#forwarders = null;
    this.#forwarderIds = null;
  }
}
