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

/**
 * A worker keeps the process alive. `deno serve` stops its HTTP server on SIGTERM or SIGINT (Ctrl-C) and then waits
 * for the event loop, so the app drains and closes on both too; otherwise the process would never exit. After SIGINT,
 * whose default is to end the process, a process that something else still holds open (a `Deno.serve` of the
 * program's own) exits with 130 shortly after the drain; an unreferenced timer, so it never delays a natural exit.
 *
 * @param app The app; its `close` is read when the signal arrives.
 * @param shutdown Aborted when the app closes: the listeners are removed then.
 */
export function closeOnSignals(app: { close(): Promise<void> }, shutdown: AbortSignal): void {
  // Read `close` at signal time: `createProjectApp` wraps it to close its store as well.
  const onSigterm = () => void app.close();
  const onSigint = () => {
    void app.close().finally(() => Deno.unrefTimer(setTimeout(() => Deno.exit(130), 1000)));
  };
  const added: [Deno.Signal, () => void][] = [];
  if (addSignalListener("SIGTERM", onSigterm)) added.push(["SIGTERM", onSigterm]);
  if (addSignalListener("SIGINT", onSigint)) added.push(["SIGINT", onSigint]);
  shutdown.addEventListener("abort", () => {
    for (const [signal, handler] of added) removeSignalListener(signal, handler);
  }, { once: true });
}
