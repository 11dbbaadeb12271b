/**
 * Abort callbacks on a long-lived, shared signal (the daemon's stop signal, a project's lease) without a listener
 * per callback. Node's EventTarget keeps a signal's listeners in a list and walks it on every add (to drop
 * duplicates) and every remove, so N waiters each adding and removing their own listener cost O(N²): one cron tick
 * of 5,000 projects spent 1.8 s of its CPU in `addEventListener`/`removeEventListener` on the stop signal, from the
 * cycles waiting for a slot (docs/benchmarks.md §7). Here a signal gets one listener, the first time a callback is
 * registered on it, and the callbacks sit in a Set: registering and unregistering are O(1).
 *
 * Same contract as `addEventListener("abort", fn, { once: true })`: nothing happens for a signal that has already
 * aborted (callers check `signal.aborted` first), callbacks run in registration order, each at most once, and one
 * that throws does not stop the others (the error is rethrown on its own, as an EventTarget reports it).
 */
interface Entry {
  readonly fn: () => void;
}

const callbacks = new WeakMap<AbortSignal, Set<Entry>>();

/**
 * Runs `fn` once when `signal` aborts; the function returned unregisters it (any number of calls). No signal: nothing
 * to wait for, and the function returned does nothing.
 */
export function onAbort(signal: AbortSignal | undefined, fn: () => void): () => void {
  if (!signal || signal.aborted) return noop;
  const set = callbacksOf(signal);
  // An entry of its own: the same function registered twice runs twice and unregisters one at a time.
  const entry = { fn };
  set.add(entry);
  return () => {
    set.delete(entry);
  };
}

/**
 * The signal's callbacks, with its one listener added the first time. A function of its own: the listener lives as
 * long as the signal, and a closure created inside onAbort would share onAbort's context and so keep the first
 * registrant's callback (and all it holds) alive with it.
 */
function callbacksOf(signal: AbortSignal): Set<Entry> {
  const known = callbacks.get(signal);
  if (known) return known;
  const set = new Set<Entry>();
  callbacks.set(signal, set);
  signal.addEventListener("abort", () => fire(signal, set), { once: true });
  return set;
}

function fire(signal: AbortSignal, set: Set<Entry>): void {
  callbacks.delete(signal);
  const due = [...set];
  set.clear();
  for (const { fn } of due) {
    try {
      fn();
    } catch (err) {
      queueMicrotask(() => {
        throw err;
      });
    }
  }
}

function noop(): void {}
