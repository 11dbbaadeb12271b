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
const callbacks = new WeakMap<AbortSignal, Set<() => void>>();

/** Runs `fn` once when `signal` aborts; the function returned unregisters it (any number of calls). */
export function onAbort(signal: AbortSignal, fn: () => void): () => void {
  if (signal.aborted) return noop;
  let set = callbacks.get(signal);
  if (!set) {
    const fresh = new Set<() => void>();
    callbacks.set(signal, fresh);
    signal.addEventListener("abort", () => fire(signal, fresh), { once: true });
    set = fresh;
  }
  // A wrapper of its own: the same function registered twice runs twice and unregisters one at a time.
  const entry = () => fn();
  set.add(entry);
  const registered = set;
  return () => {
    registered.delete(entry);
  };
}

function fire(signal: AbortSignal, set: Set<() => void>): void {
  callbacks.delete(signal);
  const due = [...set];
  set.clear();
  for (const fn of due) {
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
