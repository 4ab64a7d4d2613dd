// The React page: the same pairing as plain.ts inside a component. The effect connects once
// per mount and closes the session on unmount (StrictMode mounts twice in development).
import { type Actor, connect, defineActor, type SessionStatus } from '@actorspace/browser';
import { type FormEvent, StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import type { Todo, TodosActor } from '../server/todos.mjs'; // types only: nothing of the server is bundled

/** Pairs a root actor with the server's /todos route; `connect<TodosActor>` types `session.server`. */
const pair = (actor: Actor) => connect<TodosActor>('/actorspace', { route: '/todos', actor });
type TodosSession = Awaited<ReturnType<typeof pair>>;

function App() {
  const [todos, setTodos] = useState<Todo[]>([]);
  const [status, setStatus] = useState<SessionStatus | `failed: ${string}`>('connecting');
  const [session, setSession] = useState<TodosSession | null>(null);
  const [text, setText] = useState('');
  const [answer, setAnswer] = useState('');

  useEffect(() => {
    // The page's root actor: the server tells it `changed` with the whole list.
    const actor = defineActor({ changed: (list: Todo[]) => setTodos(list) });
    let mounted = true;
    let current: TodosSession | null = null;
    pair(actor).then(
      (paired) => {
        current = paired;
        if (!mounted) return void paired.close(); // unmounted while connecting
        setStatus(paired.status); // 'open' already: connect() resolves once paired
        paired.on('status', setStatus);
        setSession(paired);
      },
      (error) => setStatus(`failed: ${error.code}`), // refused or unreachable: see docs/guide/errors.md
    );
    return () => {
      mounted = false;
      void current?.close();
    };
  }, []);

  function add(event: FormEvent) {
    event.preventDefault();
    session?.server
      .api()
      .add({ text }) // typed from the server's handlers: Promise<Todo>
      .then(
        (todo) => {
          setAnswer(`added #${todo.id}`);
          setText('');
        },
        (error) => setAnswer(`add failed: ${error.code}`), // an ActorSpaceError's code
      );
  }

  return (
    <main>
      <h1>
        Todos <small>React</small>
      </h1>
      <p>
        Session: <output data-testid="status">{status}</output>
      </p>
      <form onSubmit={add}>
        <input
          aria-label="New todo"
          placeholder="Buy milk"
          required
          value={text}
          onChange={(event) => setText(event.target.value)}
        />
        <button type="submit" disabled={!session}>
          Add
        </button>
      </form>
      <p data-testid="answer">{answer}</p>
      <ul data-testid="todos">
        {todos.map((todo) => (
          <li key={todo.id}>{todo.text}</li>
        ))}
      </ul>
      <p>
        <a href="/">The same list without a framework</a>
      </p>
    </main>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
