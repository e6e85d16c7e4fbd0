// Calls in flight per caller signal, behind ONE abort listener per signal. A host hands the
// same signal to every request of a mount or connection, and a listener per call piled up
// past Node's limit (issue 9: MaxListenersExceededWarning under NFS load; the NFS client's
// calls on one signal did the same). Shared by the deadline layer and the RPC client.

/** What a signal's abort reaches: a listener object, so no closure per call. */
export interface AbortWaiter {
  handleEvent(): void;
}

const waiting = new WeakMap<AbortSignal, Set<AbortWaiter>>();

function onAbortFanOut(this: AbortSignal): void {
  const set = waiting.get(this);
  waiting.delete(this);
  if (set) for (const c of [...set]) c.handleEvent();
}

/** Adds a call to its signal's waiting set (adding the one listener when it is the first). */
export function listenAbort(signal: AbortSignal, c: AbortWaiter): void {
  let set = waiting.get(signal);
  if (!set) {
    set = new Set();
    waiting.set(signal, set);
    signal.addEventListener('abort', onAbortFanOut, { once: true });
  }
  set.add(c);
}

/**
 * Takes a call out of its signal's waiting set. The signal's one listener stays: calls on
 * one signal (a mount's, a connection's) mostly come one after another, and adding and
 * removing an EventTarget listener per call cost more than the rest of the call's wrapper
 * (measured on the NFS host's reads). It holds only the empty set, weakly keyed by the signal.
 */
export function unlistenAbort(signal: AbortSignal, c: AbortWaiter): void {
  waiting.get(signal)?.delete(c);
}
