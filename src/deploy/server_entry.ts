/**
 * The server entry (`main.ts`) that `flue init` writes and every deployment target runs: Deno Deploy, the container
 * image of `docker`, `fly`, `railway` and `render`.
 *
 * @module
 */

/** The text of `main.ts`. */
export const SERVER_ENTRY_TS: string =
  `// The server entry for Deno Deploy and containers (docs/deploy.md); \`deno run -A main.ts\` runs it locally too. Set
// FLUE_API_TOKEN and the model provider's key, such as OPENAI_API_KEY, in the deployment's environment. On Deploy
// (DENO_DEPLOYMENT_ID is set) platform "auto" keeps sessions and dispatches in Deno KV and workspaces in memory, as
// Deploy has no writable disk and no subprocesses.
import { serve } from "flue";

if (!Deno.env.get("FLUE_API_TOKEN")) {
  throw new Error("Set FLUE_API_TOKEN: a deployed server must require a bearer token");
}

await serve({
  dir: import.meta.dirname!,
  platform: "auto",
  // Deploy routes requests to the isolate whatever the address; elsewhere FLUE_HOSTNAME and PORT choose it.
  hostname: Deno.env.get("FLUE_HOSTNAME") ?? "0.0.0.0",
  port: Number(Deno.env.get("PORT") ?? 8000),
  onListen: ({ hostname, port }) => console.log(\`Listening on http://\${hostname}:\${port}/\`),
});
`;
