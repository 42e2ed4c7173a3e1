// Opens the sqlite store at `path` and prints the error message, if any, so a test can run it under other permissions.
// Usage: deno run <permissions> open_store.ts <path>
import { SqliteStore } from "../sqlite_store.ts";

try {
  await new SqliteStore({ path: Deno.args[0] }).close();
  console.log("opened");
} catch (error) {
  console.log((error as Error).message);
}
