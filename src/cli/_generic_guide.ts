/**
 * The guide `flue add <url> --category <kind>` writes for a provider Flue has no guide for: where its documentation
 * is, which Flue extension point that kind of connector plugs into, and how to test it, for a coding agent to follow.
 *
 * @module
 */

import { UsageError } from "./usage_error.ts";

/** A generic guide: its connector name and its `SKILL.md`. */
export interface GenericGuide {
  /** The connector's name, from the URL's host. */
  name: string;
  /** The skill file. */
  text: string;
}

const EXTENSION_POINTS: Readonly<Record<string, string>> = {
  sandbox: `Flue runs an agent's file tools and commands in a \`Sandbox\` (\`readFile\`, \`writeFile\`, \`stat\`,
\`readdir\`, \`exists\`, \`mkdir\`, \`remove\`, \`exec\`, \`close\`; the types are exported from \`flue\`). Write
\`src/sandboxes/<provider>.ts\` exporting a \`SandboxFactory\` that creates one remote machine per agent instance and
session (\`context.agent\`, \`context.instanceId\`, \`context.session\`), and register it before agents start:

\`\`\`ts ignore
import { registerSandbox, type SandboxFactory } from "flue";
export const providerSandbox: SandboxFactory = async (context) => { /* create or reconnect, return a Sandbox */ };
registerSandbox("<provider>", providerSandbox);
\`\`\`

Then choose it with \`"flue": { "sandbox": "<provider>" }\` in deno.json. Enforce \`context.policy\` before any call
reaches the provider: refuse writes without \`allowWrite\`, commands without \`allowShell\`, programs outside
\`allowedCommands\`, and \`;\`, \`&&\`, \`|\` without \`allowCompoundCommands\` (throw \`PolicyDeniedError\`); map
\`allowNet\` onto the provider's network controls, or document that it has none. Pass \`ExecOptions.env\` to that one
command only. Delete the remote machine in \`close()\` and never leak one.`,
  channel: `Flue receives chat and webhook deliveries at \`POST /webhooks/:name\` through \`webhookRoutes\`, passed as
the \`webhooks\` option of \`createProjectApp\` in \`server.ts\` (see docs/webhooks.md). If the provider signs with
HMAC-SHA256, use \`verify: "hmac"\` or the closest built-in verifier; otherwise mount your own Hono app that verifies
the provider's signature first (with \`crypto.subtle\`, comparing in constant time) and then calls \`dispatch()\`.
Give the agent \`replyTool()\` with a \`reply\` target so it can answer, and keep the target's host in
\`allowedHosts\`.`,
  store: `Flue keeps sessions, workflow runs and dispatches in a \`Store\` (the interface is exported from \`flue\`).
Implement it in \`src/stores/<provider>.ts\` and pass it as \`store\` to \`createProjectApp\`, \`serve\` or \`init\`.
Run the shared contract suite against it, which is exported from \`flue/testing\`:

\`\`\`ts ignore
import { defineStoreContractTests } from "flue/testing";
defineStoreContractTests("<provider>", async () => ({ store: new ProviderStore(/* ... */), cleanup: async () => {} }));
\`\`\``,
  telemetry: `Flue turns its events into OpenTelemetry spans (docs/telemetry.md). With \`OTEL_DENO=true\` Deno exports
them over OTLP to \`OTEL_EXPORTER_OTLP_ENDPOINT\`; most providers need only that endpoint and an authentication header
in \`OTEL_EXPORTER_OTLP_HEADERS\`. Otherwise build a tracer provider with the provider's exporter and pass its tracer
as \`telemetry: { tracer }\` to \`init\`, \`createAgent\` options or \`runWorkflow\`.`,
  tool: `Give agents the provider's capabilities as tools: \`defineTool({ name, description, input, run })\` with a zod
\`input\` schema, returned in the \`tools\` of \`createAgent\`. Read keys from \`ctx.env\` or \`Deno.env\` inside the
tool, so the model sees only the arguments and the result; give the agent a program through \`defineCommand\` when
the provider ships a command-line tool, so it runs in the sandbox under the policy.`,
  deploy: `A Flue project is a Deno program: \`main.ts\` serves it (\`serve({ platform: "auto" })\`) and
\`server.ts\` is the same app for \`deno serve\`. Set \`FLUE_API_TOKEN\` (every route but \`/health\` then needs it), the
model provider's key, and a store that survives restarts (\`sqlite\` on a persistent volume, \`postgres\` or \`kv\`).
Use \`/health\` as the platform's health check and let it stop the server with SIGTERM, which drains running work.
See docs/deploy.md.`,
};

/**
 * Builds the generic guide for a provider's documentation URL.
 *
 * @param input The URL as the user gave it.
 * @param category One of the guide categories.
 * @returns The guide.
 * @throws {UsageError} When the URL is not an http(s) URL without credentials or its host gives no usable name.
 */
export function genericGuide(input: string, category: string): GenericGuide {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new UsageError(`Invalid URL "${input}": give the provider's documentation page, such as https://example.com`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new UsageError(`Invalid URL "${input}": only http and https documentation pages are supported`);
  }
  if (url.username || url.password) {
    throw new UsageError(`Invalid URL "${input}": remove the user name and password from it`);
  }
  const name = providerName(url.hostname);
  if (!name) throw new UsageError(`Cannot name a connector after the host of "${input}": give the provider's own site`);
  const text = `---
name: add-${name}
description: ${JSON.stringify(`Connect ${name} (${category}) to this Flue project, following its documentation`)}
metadata:
  category: ${category}
  source: ${JSON.stringify(url.href)}
---
# Add ${name} (${category})

Flue has no built-in guide for this provider. Read its documentation at ${url.href}, then wire it in as described
below. Keep the change small and reviewed: one module, its test, and the configuration it needs.

## 1. Learn the provider

From the documentation, note: the npm package (pin an exact version in deno.json's "imports" as \`npm:<name>@<version>\`),
the environment variables that hold its credentials (add their names, without values, to \`.env.example\`), and the
endpoint or base URL option its SDK takes, so tests can point it at a local fake.

## 2. Wire it into Flue

${EXTENSION_POINTS[category]}

## 3. Test it

- Write \`*_test.ts\` beside the module. Point the SDK at a local fake of the provider's API on 127.0.0.1, port 0,
  implementing just the calls the module makes, including an error (401) and a timeout; never call the real service
  from tests.
- Run \`deno task test\`, then \`deno task run --prompt "..."\` with the real credentials set, and check the result.
- Record in AGENTS.md which variables the deployment needs.
`;
  return { name, text };
}

// "docs.acme-cloud.dev" → "acme-cloud": the registrable name, without the usual sub-domains.
function providerName(hostname: string): string {
  if (/^[\d.]+$/.test(hostname) || hostname.includes(":")) return ""; // an IP address names no provider
  const labels = hostname.toLowerCase().replace(/\.$/, "").split(".");
  while (labels.length > 2 && ["www", "docs", "doc", "api", "app", "developer", "developers"].includes(labels[0])) {
    labels.shift();
  }
  // "acme.co.uk": skip a second-level domain under a country code.
  if (labels.length > 2 && ["co", "com", "org", "net", "ac"].includes(labels[labels.length - 2])) labels.pop();
  const label = labels.length > 1 ? labels[labels.length - 2] : labels[0];
  return label.replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 60);
}
