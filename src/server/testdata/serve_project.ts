// Serves a project until SIGTERM: prints the URL once listening and "stopped" after a graceful shutdown.
// Usage: deno run -A serve_project.ts <project dir>
import { serve } from "../serve.ts";

const server = await serve({ dir: Deno.args[0], port: 0 });
console.log(server.url);
await server.finished;
console.log("stopped");
