/**
 * Capabilities: what a session's client root actor lets a `service` call, as the client
 * advertises them to its session's own actor (`$session`). They are descriptions, checked for
 * shape and size here; the client actor itself still refuses a caller its definition does not
 * list, so a page that lies about them gains nothing.
 */
import { type Actor, ActorSpaceError, type CallerType, type MessageDescription } from '@actorspace/core';
import type { Session } from './session.js';

/** The most message types one session may advertise. */
export const MAX_CAPABILITIES = 128;
/** The most bytes (as JSON) one session's capabilities may take. */
export const MAX_CAPABILITIES_BYTES = 64 * 1024;
const MAX_DESCRIPTION = 4096;
const CALLER_TYPES = new Set<CallerType>(['client', 'service', 'system']);

/**
 * The advertised list, checked and copied (only the known fields).
 * @throws ActorSpaceError `INVALID_MESSAGE` naming the first problem.
 */
export function checkCapabilities(value: unknown): MessageDescription[] {
  if (!Array.isArray(value)) throw invalid('capabilities must be an array');
  if (value.length > MAX_CAPABILITIES) throw invalid(`at most ${MAX_CAPABILITIES} capabilities`);
  const seen = new Set<string>();
  return value.map((entry, i) => {
    const e = entry as Partial<MessageDescription> | null;
    if (typeof e !== 'object' || e === null) throw invalid(`capability ${i} is not an object`);
    if (typeof e.type !== 'string' || e.type.length === 0 || e.type.length > 256)
      throw invalid(`capability ${i}: type must be a string of 1-256 characters`);
    if (seen.has(e.type)) throw invalid(`capability "${e.type.slice(0, 64)}" is listed twice`);
    seen.add(e.type);
    if (!Array.isArray(e.callers) || !e.callers.every((c) => CALLER_TYPES.has(c)))
      throw invalid(`capability "${e.type.slice(0, 64)}": callers must list caller types`);
    if (!e.callers.includes('service'))
      throw invalid(`capability "${e.type.slice(0, 64)}" does not let a service call it`);
    const out: MessageDescription = { type: e.type, callers: [...e.callers] };
    if (e.description !== undefined) {
      if (typeof e.description !== 'string' || e.description.length > MAX_DESCRIPTION)
        throw invalid(
          `capability "${e.type.slice(0, 64)}": description must be a string of at most ${MAX_DESCRIPTION}`,
        );
      out.description = e.description;
    }
    for (const key of ['input', 'output'] as const) {
      const schema = e[key];
      if (schema === undefined) continue;
      if (typeof schema !== 'object' || schema === null || Array.isArray(schema))
        throw invalid(`capability "${e.type.slice(0, 64)}": ${key} must be a JSON Schema object`);
      out[key] = schema;
    }
    return out;
  });
}

/** The session's own actor: its client tells it the capabilities (nobody else reaches it). */
export function sessionActor(session: Session): Actor {
  return {
    receive(type, data, ctx) {
      if (!ctx.channel) throw new ActorSpaceError('FORBIDDEN', 'the session actor is for the session peer');
      if (type !== 'capabilities')
        throw new ActorSpaceError(
          'INVALID_MESSAGE',
          `the session actor has no message "${type.slice(0, 64)}"`,
        );
      const capabilities = checkCapabilities(data);
      const text = JSON.stringify(capabilities);
      if (text.length > MAX_CAPABILITIES_BYTES) {
        throw new ActorSpaceError(
          'INVALID_MESSAGE',
          `capabilities take more than ${MAX_CAPABILITIES_BYTES} bytes`,
        );
      }
      session.advertised(capabilities, text);
      return true;
    },
  };
}

function invalid(message: string): ActorSpaceError {
  return new ActorSpaceError('INVALID_MESSAGE', message);
}
