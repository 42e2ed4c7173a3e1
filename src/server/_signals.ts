// Signal listeners are missing on some platforms (Windows has no SIGTERM; Deno Deploy has none): there, the server
// runs without them.

/**
 * Adds a signal listener where the platform has signals.
 *
 * @param signal The signal.
 * @param handler The listener.
 * @returns Whether it was added.
 */
export function addSignalListener(signal: Deno.Signal, handler: () => void): boolean {
  try {
    Deno.addSignalListener(signal, handler);
    return true;
  } catch {
    return false;
  }
}

/**
 * Removes a signal listener added by {@linkcode addSignalListener}.
 *
 * @param signal The signal.
 * @param handler The listener.
 */
export function removeSignalListener(signal: Deno.Signal, handler: () => void): void {
  try {
    Deno.removeSignalListener(signal, handler);
  } catch {
    // not supported, or already removed
  }
}
