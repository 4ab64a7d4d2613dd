/**
 * What the Redis backplane puts on its channels and in its history lists, and how it reads them
 * back. Everything is text (Redis strings are UTF-8 here), fields separated by `\n`; the topic
 * name, which may hold any character, is length-prefixed. Whatever does not parse is someone
 * else's message (or garbage) and is dropped by the caller, never thrown.
 *
 * - to every node (`<prefix>:all`): `<sender node>\n<payload>`
 * - to one node (`<prefix>:n:<node>`): the payload as it is
 * - a topic event (`<prefix>:t`): `<seq>\n<epoch>\n<topic length>\n<topic><at>\n<payload>`
 * - a history entry (`<prefix>:h:<topic>`): `<seq>\n<at>\n<payload>`
 *
 * The Lua script that numbers events assembles the last two from the pieces built here
 * ({@link eventBody}, {@link topicHeader}): only it knows the epoch and the number.
 */
import type { BackplaneEvent } from '@actorspace/server';

/** The longest topic name the backplane accepts (in UTF-16 code units, as `string.length`). */
export const MAX_TOPIC = 256;

const SEQ = /^[1-9][0-9]{0,15}$/;
const AT = /^[0-9]{1,16}$/;
const LENGTH = /^[1-9][0-9]{0,2}$/;

/** A message to every node: the sender's id first, so it can skip its own. */
export function encodeBroadcast(node: string, payload: string): string {
  return `${node}\n${payload}`;
}

/** The sender and payload of a message to every node, or null when it is not one. */
export function decodeBroadcast(message: string): { node: string; payload: string } | null {
  const cut = message.indexOf('\n');
  if (cut <= 0) return null;
  return { node: message.slice(0, cut), payload: message.slice(cut + 1) };
}

/** What an event carries besides its topic and numbers: `<at>\n<payload>`. */
export function eventBody(at: number, payload: string): string {
  return `${at}\n${payload}`;
}

/** The topic's name, length-prefixed so that it may contain `\n` or anything else. */
export function topicHeader(topic: string): string {
  return `${topic.length}\n${topic}`;
}

/** A topic event as published on `<prefix>:t`, or null when the message is not one. */
export function decodeTopicEvent(message: string): { topic: string; event: BackplaneEvent } | null {
  const a = message.indexOf('\n');
  const b = a < 0 ? -1 : message.indexOf('\n', a + 1);
  const c = b < 0 ? -1 : message.indexOf('\n', b + 1);
  if (c < 0) return null;
  const seq = parseSeq(message.slice(0, a));
  const epoch = message.slice(a + 1, b);
  const length = message.slice(b + 1, c);
  if (seq === null || epoch === '' || !LENGTH.test(length)) return null;
  const size = Number(length);
  if (size > MAX_TOPIC) return null;
  const topic = message.slice(c + 1, c + 1 + size);
  if (topic.length !== size) return null;
  const rest = parseAtAndPayload(message.slice(c + 1 + size));
  if (!rest) return null;
  return { topic, event: { epoch, seq, prev: seq - 1, at: rest.at, payload: rest.payload } };
}

/** One entry of a topic's history list, or null when it is not one. */
export function decodeHistoryEntry(entry: string, epoch: string): BackplaneEvent | null {
  const cut = entry.indexOf('\n');
  if (cut < 0) return null;
  const seq = parseSeq(entry.slice(0, cut));
  const rest = parseAtAndPayload(entry.slice(cut + 1));
  if (seq === null || !rest) return null;
  return { epoch, seq, prev: seq - 1, at: rest.at, payload: rest.payload };
}

function parseSeq(text: string): number | null {
  if (!SEQ.test(text)) return null;
  const seq = Number(text);
  return Number.isSafeInteger(seq) ? seq : null;
}

function parseAtAndPayload(text: string): { at: number; payload: string } | null {
  const cut = text.indexOf('\n');
  if (cut < 0) return null;
  const at = text.slice(0, cut);
  if (!AT.test(at)) return null;
  return { at: Number(at), payload: text.slice(cut + 1) };
}
