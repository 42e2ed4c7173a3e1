/**
 * Turns SQLite's terse failures into messages that name the store file and say what to do.
 *
 * @module
 */

/**
 * Explains a failure of the sqlite store at `path`. Errors the store raised itself (bad input, unknown run) pass through
 * unchanged; SQLite and file system errors become an `Error` naming the file and the fix, with the original as `cause`.
 *
 * @param error What was thrown.
 * @param path The store file.
 * @param action What the store was doing, such as `append to session "a/b/c"`.
 * @param busyTimeoutMs How long SQLite waited for a lock.
 * @returns The error to throw.
 */
export function explainSqliteError(error: unknown, path: string, action: string, busyTimeoutMs: number): unknown {
  if (!(error instanceof Error) || !isSqliteOrFileError(error)) return error;
  const text = error.message;
  const file = `The store file "${path}"`;
  let message: string;
  if (/file is not a database|database disk image is malformed/.test(text)) {
    message = `${file} is not a valid SQLite database (${text}): move it aside, for example to "${path}.corrupt", ` +
      "and Flue creates a new one";
  } else if (/database is locked|database is busy|database table is locked/.test(text)) {
    message =
      `${file} stayed locked for more than ${busyTimeoutMs} ms, so Flue could not ${action}: another process holds ` +
      "it; let that process finish or stop it, or raise busyTimeoutMs";
  } else if (/readonly database|read-only file system/i.test(text)) {
    message = `${file} is read-only, so Flue could not ${action}: make the file and its folder writable or choose a ` +
      "writable store path";
  } else if (error.name === "NotCapable" || error.name === "PermissionDenied") {
    message =
      `${file} cannot be used, so Flue could not ${action} (${text}): allow read and write access to its folder ` +
      "(--allow-read and --allow-write) or choose a different store";
  } else if (/unable to open database file/.test(text)) {
    message = `${file} cannot be opened (${text}): its folder may be missing, read-only or not permitted; choose a ` +
      "writable store path";
  } else {
    message = `${file} failed to ${action}: ${text}`;
  }
  return new Error(message, { cause: error });
}

/** Whether `error` came from SQLite or the file system rather than from the store's own checks. */
function isSqliteOrFileError(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && code.startsWith("ERR_SQLITE")) return true;
  return error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied;
}
