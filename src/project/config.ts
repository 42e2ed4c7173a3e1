/**
 * Project configuration: the `"flue"` key of `deno.json`. Every key has a documented default; an unknown key is an
 * error naming the known ones.
 *
 * @module
 */

import { didYouMean } from "./nearest_name.ts";
import { join } from "node:path";
import { z } from "zod";
import { readDenoConfig } from "./deno_config.ts";
import type { McpServerConfig } from "../tools/mcp/mcp_servers.ts";
import { applyEnvironmentOverrides, readProcessVariable, type ReadVariable } from "./_config_environment.ts";

const providerSchema = z.strictObject({
  baseURL: z.url().optional(),
  apiKeyEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  supportsStructuredOutput: z.boolean().optional(),
  reasoning: z.enum(["reasoning_effort", "none"]).optional(),
  contextWindow: z.number().int().min(1_000).max(100_000_000).optional(),
  stream: z.boolean().optional(),
});

const mcpServerSchema = z.union([
  z.strictObject({
    command: z.string().min(1),
    secrets: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/)).optional(),
    tools: z.array(z.string().min(1)).optional(),
  }),
  z.strictObject({
    url: z.url({ protocol: /^https?$/ }),
    headers: z.record(z.string(), z.string()).optional(),
    tools: z.array(z.string().min(1)).optional(),
  }),
]);

const configSchema = z.strictObject({
  model: z.string().min(1).optional(),
  agent: z.string().min(1).optional(),
  instructions: z.string().optional(),
  harness: z.string().min(1).optional(),
  sandbox: z.string().min(1).optional(),
  seedFrom: z.string().min(1).optional(),
  allowWrite: z.boolean().optional(),
  allowShell: z.boolean().optional(),
  allowedCommands: z.array(z.string().min(1)).optional(),
  allowCompoundCommands: z.boolean().optional(),
  allowNet: z.boolean().optional(),
  allowInterpreters: z.boolean().optional(),
  unconfinedShell: z.boolean().optional(),
  allowProjectWrites: z.boolean().optional(),
  code: z.boolean().optional(),
  builtinTools: z.union([
    z.array(z.enum(["read", "write", "edit", "grep", "glob", "ls", "stat", "bash"])),
    z.literal(false),
  ]).optional(),
  stream: z.boolean().optional(),
  mcpServers: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9-]{0,31}$/), mcpServerSchema).optional(),
  thinkingLevel: z.enum(["off", "minimal", "low", "medium", "high", "xhigh"]).optional(),
  maxTurns: z.int().min(1).max(1000).optional(),
  maxTokens: z.int().positive().optional(),
  maxCostUsd: z.number().positive().optional(),
  timeoutMs: z.int().positive().optional(),
  toolTimeoutMs: z.int().positive().optional(),
  prices: z.record(
    z.string().min(1),
    z.strictObject({ inputPerMillion: z.number().min(0), outputPerMillion: z.number().min(0) }),
  ).optional(),
  typedRetries: z.int().min(0).max(1000).optional(),
  maxTaskDepth: z.int().min(0).max(32).optional(),
  skills: z.union([z.array(z.string().min(1)), z.literal(false)]).optional(),
  compaction: z.union([
    z.literal(false),
    z.strictObject({
      enabled: z.boolean().optional(),
      threshold: z.number().min(0.1).max(0.95).optional(),
      keepRecent: z.int().min(0).max(1000).optional(),
      maxToolResultChars: z.int().min(200).max(10_000_000).optional(),
    }),
  ]).optional(),
  telemetry: z.union([z.literal(false), z.strictObject({ recordContent: z.boolean().optional() })]).optional(),
  server: z.strictObject({
    bodyLimit: z.int().min(1024).max(1024 * 1024 * 1024).optional(),
    heartbeatMs: z.int().min(100).max(3_600_000).optional(),
    maxInstances: z.int().min(1).max(100_000).optional(),
    idleMs: z.int().min(1000).max(86_400_000).optional(),
    cors: z.strictObject({
      origins: z.union([z.literal("*"), z.array(z.string().regex(/^https?:\/\/[^/\s]+$/)).min(1)]),
      credentials: z.boolean().optional(),
      maxAgeSeconds: z.int().min(0).max(86_400).optional(),
    }).optional(),
    ui: z.boolean().optional(),
    worker: z.union([
      z.literal(false),
      z.strictObject({
        leaseMs: z.int().min(30).max(3_600_000).optional(),
        concurrency: z.int().min(1).max(1000).optional(),
        drainMs: z.int().min(0).max(3_600_000).optional(),
      }),
    ]).optional(),
  }).optional(),
  store: z.union([
    z.enum(["sqlite", "memory", "postgres", "kv"]),
    z.strictObject({ kind: z.literal("sqlite"), path: z.string().min(1).optional() }),
    z.strictObject({ kind: z.literal("kv"), path: z.string().min(1).optional() }),
    z.strictObject({ kind: z.literal("memory") }),
    z.strictObject({
      kind: z.literal("postgres"),
      url: z.string().min(1).optional(),
      schema: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/).optional(),
      maxConnections: z.int().min(1).max(1000).optional(),
    }),
  ]).optional(),
  stateDir: z.string().min(1).optional(),
  providers: z.record(z.string().regex(/^[a-z][a-z0-9_-]*$/), providerSchema).optional(),
});

/** Settings of one provider in configuration, merged over the built-in table. */
export interface ProviderConfig {
  /** The OpenAI-compatible base URL. */
  baseURL?: string;
  /** The environment variable holding the key. */
  apiKeyEnv?: string;
  /** Extra HTTP headers. */
  headers?: Record<string, string>;
  /** Whether native JSON-schema output works. */
  supportsStructuredOutput?: boolean;
  /** How reasoning effort is sent. */
  reasoning?: "reasoning_effort" | "none";
  /** The context window of the provider's models, in tokens (see `docs/compaction.md`). */
  contextWindow?: number;
  /** `false` makes the provider's calls non-streaming (`docs/models.md`). */
  stream?: boolean;
}

/** The `server` key of the configuration. */
export interface FlueServerConfig {
  /** The largest request body in bytes; 1 MiB by default. */
  bodyLimit?: number;
  /** Milliseconds between SSE heartbeats; 15 000 by default. */
  heartbeatMs?: number;
  /** How many agent instances stay open; 64 by default. */
  maxInstances?: number;
  /** How long an idle agent instance stays open, in milliseconds; 10 minutes by default. */
  idleMs?: number;
  /** Browser origins allowed to call the server (CORS), applied before authentication; see `docs/server.md`. */
  cors?: { origins: "*" | string[]; credentials?: boolean; maxAgeSeconds?: number };
  /** Serve the development UI at `/` with `flue serve` too (`flue dev` always does); off by default. */
  ui?: boolean;
  /** The dispatch worker's lease, concurrency and drain deadline, or `false` to run no worker in this server. */
  worker?: false | { leaseMs?: number; concurrency?: number; drainMs?: number };
}

/** The `"flue"` key of `deno.json`. See `docs/configuration.md` for each key's default. */
export interface FlueConfig {
  /** The default model string. */
  model?: string;
  /** The agent `flue run --prompt` talks to when the project has several. */
  agent?: string;
  /** Instructions for agents that declare none. */
  instructions?: string;
  /** The harness name. */
  harness?: string;
  /** The sandbox name. */
  sandbox?: string;
  /** A directory seeding new virtual workspaces. */
  seedFrom?: string;
  /** Allow file writes. */
  allowWrite?: boolean;
  /** Allow commands. */
  allowShell?: boolean;
  /** Allowed programs. */
  allowedCommands?: string[];
  /** Allow compound shell syntax. */
  allowCompoundCommands?: boolean;
  /** Allow network for commands. */
  allowNet?: boolean;
  /** Allow listed programs that interpret code (`sh`, `python3`, `node` ...). */
  allowInterpreters?: boolean;
  /** Run commands without bubblewrap. */
  unconfinedShell?: boolean;
  /** With `local` and `allowWrite`, let the model change the project's instructions, configuration and source. */
  allowProjectWrites?: boolean;
  /** Offer the model the permission-less `code` tool. */
  code?: boolean;
  /** The file and shell tools offered (narrowing the policy), or `false` for none (see `docs/tools.md`). */
  builtinTools?: ("read" | "write" | "edit" | "grep" | "glob" | "ls" | "stat" | "bash")[] | false;
  /** `false` makes model calls non-streaming (see `docs/models.md`). */
  stream?: boolean;
  /** MCP servers whose tools agents may call, by server name (see `docs/mcp.md`). */
  mcpServers?: Record<string, McpServerConfig>;
  /** Reasoning effort. */
  thinkingLevel?: "off" | "minimal" | "low" | "medium" | "high" | "xhigh";
  /** Turn limit per operation. */
  maxTurns?: number;
  /** Token limit (input plus output) per operation. */
  maxTokens?: number;
  /** Cost limit per operation, in US dollars. */
  maxCostUsd?: number;
  /** Time limit per operation, in milliseconds. */
  timeoutMs?: number;
  /** Time limit per tool call, in milliseconds. */
  toolTimeoutMs?: number;
  /** Model prices in US dollars per million tokens, over the built-in table. */
  prices?: Record<string, { inputPerMillion: number; outputPerMillion: number }>;
  /** Re-prompts for typed results. */
  typedRetries?: number;
  /** How deep subagent tasks may nest. */
  maxTaskDepth?: number;
  /** The skills agents may use: names to keep, or `false` for none; all found by default. */
  skills?: string[] | false;
  /** Compaction settings, or `false` to turn automatic compaction off. */
  compaction?: false | { enabled?: boolean; threshold?: number; keepRecent?: number; maxToolResultChars?: number };
  /** Tracing settings (the tracer itself comes from OpenTelemetry), or `false` for no spans. */
  telemetry?: false | { recordContent?: boolean };
  /** Server settings for `flue serve`, `flue dev` and `createProjectApp` (see `docs/server.md`). */
  server?: FlueServerConfig;
  /** The store. */
  store?:
    | "sqlite"
    | "memory"
    | "postgres"
    | "kv"
    | { kind: "sqlite"; path?: string }
    | { kind: "kv"; path?: string }
    | { kind: "memory" }
    | { kind: "postgres"; url?: string; schema?: string; maxConnections?: number };
  /** The state directory. */
  stateDir?: string;
  /** Provider overrides and additions. */
  providers?: Record<string, ProviderConfig>;
}

/** The configuration keys, for documentation and error messages. */
export const CONFIG_KEYS: readonly string[] = Object.keys(configSchema.shape);

/**
 * Validates a configuration object.
 *
 * @param value The value of the `"flue"` key.
 * @param source Where it came from, for error messages.
 * @param variables Which environment variable set each overridden key, for error messages.
 * @returns The configuration.
 */
export function parseConfig(
  value: unknown,
  source = "deno.json",
  variables: ReadonlyMap<string, string> = new Map(),
): FlueConfig {
  const parsed = configSchema.safeParse(value ?? {});
  if (parsed.success) return parsed.data as FlueConfig;
  const problems = parsed.error.issues.map((issue) => {
    const at = issue.path.length ? `"flue.${issue.path.join(".")}"` : `"flue"`;
    if (issue.code === "unrecognized_keys") {
      const where = issue.path.length ? `"flue.${issue.path.join(".")}"` : `"flue"`;
      const known = issue.path.length === 0 ? `: known keys are ${CONFIG_KEYS.join(", ")}` : "";
      const siblings = issue.path.length === 0 ? CONFIG_KEYS : knownKeysAt(issue.path);
      return `unknown key${issue.keys.length > 1 ? "s" : ""} ${
        issue.keys.map((key) => `"${key}"`).join(", ")
      } in ${where}${didYouMean(issue.keys[0], siblings)}${known}`;
    }
    const variable = issue.path.length ? variables.get(String(issue.path[0])) : undefined;
    if (issue.path.length === 1 && issue.path[0] === "store" && issue.code === "invalid_union") {
      const given = (value as { store?: unknown }).store;
      const kind = typeof given === "string" ? given : (given as { kind?: unknown } | null)?.kind;
      const kinds = ["sqlite", "memory", "postgres", "kv"];
      const unknown = typeof kind === "string" && !kinds.includes(kind);
      return `${at}${variable ? ` (set by ${variable})` : ""}: ${
        unknown ? `unknown store "${kind}"${didYouMean(kind, kinds)}` : "invalid store settings"
      }: use one of ${kinds.join(", ")}, or { "kind", ... } with the keys docs/configuration.md lists`;
    }
    return `${at}${variable ? ` (set by ${variable})` : ""}: ${issue.message}`;
  });
  throw new TypeError(`Invalid configuration in ${source}: ${problems.join("; ")}`);
}

// The keys a nested object of the configuration accepts, for suggestions.
function knownKeysAt(path: readonly PropertyKey[]): readonly string[] {
  let schema: unknown = configSchema;
  for (const part of path) {
    let shape = (schema as { shape?: Record<string, unknown> }).shape;
    if (!shape) {
      // An optional or union member: look for an object schema inside it.
      const inner = (schema as { unwrap?: () => unknown }).unwrap?.() ??
        (schema as { options?: unknown[] }).options?.find((option) => (option as { shape?: unknown }).shape);
      shape = (inner as { shape?: Record<string, unknown> } | undefined)?.shape;
    }
    schema = shape?.[String(part)];
    if (schema === undefined) return [];
  }
  const unwrapped = (schema as { unwrap?: () => unknown }).unwrap?.() ?? schema;
  const shape = (unwrapped as { shape?: Record<string, unknown> }).shape ??
    ((unwrapped as { options?: unknown[] }).options?.find((option) => (option as { shape?: unknown }).shape) as
      | { shape?: Record<string, unknown> }
      | undefined)?.shape;
  return shape ? Object.keys(shape) : [];
}

/**
 * Reads the `"flue"` key of `<projectDir>/deno.json` (or `deno.jsonc`; both may hold comments and trailing commas),
 * then applies the `FLUE_*` environment overrides (see `docs/configuration.md`). A project without a configuration
 * file or without the key has the default configuration.
 *
 * @param projectDir The project directory.
 * @param read Reads an environment variable; the process environment by default.
 * @returns The configuration.
 */
export async function loadConfig(projectDir: string, read: ReadVariable = readProcessVariable): Promise<FlueConfig> {
  const found = await readDenoConfig(projectDir);
  const raw: unknown = found?.config.flue ?? {};
  const path = found?.path ?? join(projectDir, "deno.json");
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return parseConfig(raw, path);
  const { config, sources } = applyEnvironmentOverrides(raw as Record<string, unknown>, read);
  return parseConfig(config, path, sources);
}
