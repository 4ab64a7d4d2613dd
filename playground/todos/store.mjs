// @ts-check
// The shared todo store, one per playground server (a service). Flux, done right:
//   actions (from any session) → reduce() changes the state synchronously → every
//   subscriber gets the new state → the file is written later, in the background.
// Each session's server actor handles one message at a time (its mailbox), and reduce()
// never awaits, so two tabs can never interleave half-applied changes. Disk I/O stays out
// of the message path: writes are debounced and never block an action.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** @typedef {{ id: string, text: string, done: boolean }} Todo */
/**
 * @typedef {{ type: 'add', text: string }
 *   | { type: 'toggle', id: string }
 *   | { type: 'remove', id: string }
 *   | { type: 'clearDone' }} TodoAction
 */

/** The whole state is a list; returns a new one (or the same one when nothing changed). */
export function reduce(/** @type {Todo[]} */ todos, /** @type {TodoAction} */ action) {
  switch (action.type) {
    case 'add': {
      const text = String(action.text ?? '')
        .trim()
        .slice(0, 200);
      return text ? [...todos, { id: crypto.randomUUID(), text, done: false }] : todos;
    }
    case 'toggle':
      return todos.map((t) => (t.id === action.id ? { ...t, done: !t.done } : t));
    case 'remove':
      return todos.filter((t) => t.id !== action.id);
    case 'clearDone':
      return todos.filter((t) => !t.done);
    default:
      return todos;
  }
}

/**
 * Creates the store and loads `file` if it exists.
 * @param {{ file: string, writeDelay?: number }} options
 */
export async function createTodoStore({ file, writeDelay = 200 }) {
  /** @type {Todo[]} */
  let todos = [];
  try {
    todos = JSON.parse(await readFile(file, 'utf8')).todos ?? [];
  } catch (error) {
    if (/** @type {NodeJS.ErrnoException} */ (error).code !== 'ENOENT') throw error;
  }
  /** @type {Set<(todos: Todo[]) => void>} */
  const listeners = new Set();
  /** @type {ReturnType<typeof setTimeout> | null} */
  let timer = null;
  /** @type {Promise<void>} */
  let writing = Promise.resolve();

  // Write to a temporary file, then rename: a crash mid-write never leaves half a JSON file.
  const save = () => {
    timer = null;
    const json = JSON.stringify({ todos }, null, 2);
    writing = writing
      .then(async () => {
        await mkdir(dirname(file), { recursive: true });
        await writeFile(`${file}.tmp`, json);
        await rename(`${file}.tmp`, file);
      })
      .catch((error) => console.error(`todos: could not write ${file}:`, error));
  };

  return {
    get todos() {
      return todos;
    },
    /** Applies an action, tells every subscriber, and schedules a write. */
    dispatch(/** @type {TodoAction} */ action) {
      const next = reduce(todos, action);
      if (next === todos) return;
      todos = next;
      for (const listener of listeners) listener(todos);
      timer ??= setTimeout(save, writeDelay);
    },
    /** Calls `listener` on every change; returns the unsubscribe function. */
    subscribe(/** @type {(todos: Todo[]) => void} */ listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    /** Writes a pending change now; the server calls it when it shuts down. */
    async flush() {
      if (timer) {
        clearTimeout(timer);
        save();
      }
      await writing;
    },
  };
}

/** @typedef {Awaited<ReturnType<typeof createTodoStore>>} TodoStore */
