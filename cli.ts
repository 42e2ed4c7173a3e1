/**
 * The `flue` command-line interface: `init`, `run`, `help` and `--version`. Run it with
 * `deno run -A jsr:@flue/cli/cli <command>`, or compile it with `deno compile -A jsr:@flue/cli/cli`.
 *
 * @example Usage
 * ```ts
 * import { main } from "./cli.ts";
 *
 * const status = await main(["help"]);
 * if (status !== 0) throw new Error("unexpected");
 * ```
 *
 * @module
 */

import { main, runMain } from "./src/cli/main.ts";

export { main };
export type { CliIo } from "./src/cli/terminal.ts";

if (import.meta.main) Deno.exit(await runMain(Deno.args));
