/**
 * The options of `init()` and of the configuration `createAgent` returns.
 *
 * @module
 */

import type { PriceTable } from "../model/prices.ts";
import type { EventCallback } from "../events/event_types.ts";
import type { ChatModel, ThinkingLevel } from "../model/chat_model.ts";
import type { ProviderSettings } from "../model/providers.ts";
import type { SandboxFactory } from "../sandbox/sandbox.ts";
import type { StoreSpec } from "../store/create_store.ts";
import type { TelemetryOptions } from "../telemetry/tracing.ts";
import type { CodeToolOptions } from "../tools/code/code_tool.ts";
import type { FlueCommand } from "../tools/define_command.ts";
import type { FlueTool } from "../tools/tool.ts";
import type { McpServerConfig } from "../tools/mcp/mcp_servers.ts";
import type { CompactionOptions } from "../session/compaction.ts";
import type { RoleDefinition } from "../project/roles.ts";
import type { SubagentProfile } from "../session/subagent_profile.ts";

/** The options of an agent. Every policy option denies by default. */
export interface AgentOptions {
  /** The agent's name: a letter, then letters, digits, `_` or `-`. `default` when omitted. */
  name?: string;
  /** The instance id, any non-empty text. `default` when omitted. */
  id?: string;
  /** The model: `provider:model` (such as `openai:gpt-5.5`), `test` for the key-less test model, or a `ChatModel`. */
  model?: string | ChatModel;
  /** What the agent is for; the start of its system prompt. */
  instructions?: string;
  /** The harness running the model loop; `flue` (built in) by default. */
  harness?: string;
  /** The sandbox: `virtual` (default), `local`, `memory`, a registered name, or a factory. */
  sandbox?: string | SandboxFactory;
  /** A directory whose files seed a new virtual workspace. */
  seedFrom?: string;
  /** Allow creating, changing and deleting files in the sandbox. */
  allowWrite?: boolean;
  /** Allow running commands in the sandbox (the model then gets the `bash` tool). */
  allowShell?: boolean;
  /** Programs, or a program and subcommand (`"git status"`), that commands may run. */
  allowedCommands?: string[];
  /** Allow `;`, `&&`, `|`, redirections and substitutions in commands. */
  allowCompoundCommands?: boolean;
  /** Allow commands to reach the network. */
  allowNet?: boolean;
  /**
   * Allow listed programs that interpret code (`sh`, `python3`, `node`, `perl`, `vim`, `make`, awk programs that call
   * `system()` ...); off by default, because such a program can run any program in the sandbox. See docs/security.md.
   */
  allowInterpreters?: boolean;
  /** Run commands without OS isolation when bubblewrap is missing; off by default. */
  unconfinedShell?: boolean;
  /**
   * With the `local` sandbox and `allowWrite`, let the model change the project's instructions, configuration and
   * source (`.agents/`, `AGENTS.md`, `CLAUDE.md`, `deno.json(c)`, `src/`, `agents/`, `workflows/`), which are otherwise
   * read-only to it. Default false.
   */
  allowProjectWrites?: boolean;
  /** Secret values by name: never put in prompts, events, logs, history or traces; granted per call by `secrets`. */
  env?: Record<string, string>;
  /** Extra tools the model may call. Built-in names (`read`, `bash`, ...) are reserved. */
  tools?: FlueTool<unknown>[];
  /**
   * Which of the file and shell tools (`read`, `write`, `edit`, `grep`, `glob`, `ls`, `stat`, `bash`) the model is
   * offered: all the policy allows when omitted, only those listed, or none with `false` (an agent that needs only its
   * own `tools`). It only narrows: `write`/`edit` still need `allowWrite`, `bash` needs `allowShell`.
   */
  builtinTools?: string[] | false;
  /** Structured commands (from `defineCommand`) offered to the model as tools, run in the sandbox under the policy. */
  // deno-lint-ignore no-explicit-any -- commands of any argument type; each validates its own arguments
  commands?: FlueCommand<any>[];
  /**
   * Model Context Protocol servers whose tools the model may call, by server name (`docs/mcp.md`): `{ command }` for
   * a server started confined like a shell command (its program must pass `allowedCommands`), `{ url }` for a
   * streamable HTTP server. Their tools appear as `<server>__<tool>`, limited to `tools` when given.
   */
  mcpServers?: Record<string, McpServerConfig>;
  /**
   * Offer the model the `code` tool: JavaScript or TypeScript snippets run in a Deno subprocess with no permissions, a
   * timeout and a memory cap. Off by default; `true` or options turn it on.
   */
  code?: boolean | CodeToolOptions;
  /**
   * Which skills of the project's `.agents/skills/` the agent has: all of them when omitted, none with `false`, or
   * only the names listed (each must exist).
   */
  skills?: string[] | false;
  /**
   * Roles declared in code, by name (lower-kebab-case), besides the project's `.agents/roles/<name>.md` files. A
   * session (`agent.session(name, { role })`) or one call (`{ role }`) runs as a role.
   */
  roles?: Record<string, RoleDefinition>;
  /** Subagent profiles, by name: the kinds of child session `session.task` and the model's `task` tool can run. */
  subagents?: Record<string, SubagentProfile>;
  /** How deep subagent tasks may nest (a task's task is depth 2); 4 by default, 0 for no tasks. */
  maxTaskDepth?: number;
  /**
   * Record every model exchange of the agent to this cassette file (as `FLUE_RECORD` does), for `ReplayModel` and
   * `FLUE_REPLAY` to replay key-less (`docs/record_replay.md`).
   */
  record?: string;
  /** Reasoning effort hint. */
  thinkingLevel?: ThinkingLevel;
  /**
   * `false` makes every model call non-streaming (`stream: false`): replies arrive whole, and each reply's text comes
   * as one `text_delta`. A provider's `stream` setting applies when omitted, and a call's `stream` option wins.
   */
  stream?: boolean;
  /** The most model calls one operation may make; 20 by default. */
  maxTurns?: number;
  /** The most tokens (input plus output) one operation may use; no limit by default (`docs/budgets.md`). */
  maxTokens?: number;
  /** The most US dollars one operation may spend, priced by `prices` and the built-in table; no limit by default. */
  maxCostUsd?: number;
  /** The most milliseconds one operation may take; no limit by default. */
  timeoutMs?: number;
  /** The most milliseconds one tool call may take, its output so far returned when stopped; no limit by default. */
  toolTimeoutMs?: number;
  /** Model prices in US dollars per million tokens, over the built-in table, for reported cost and `maxCostUsd`. */
  prices?: PriceTable;
  /** Re-prompts allowed after invalid typed output; 3 by default. */
  typedRetries?: number;
  /**
   * When history is summarised to stay inside the model's context window, and how large one tool result may be
   * (`docs/compaction.md`). On by default; `false` turns automatic compaction off.
   */
  compaction?: CompactionOptions | false;
  /** Where history and runs are kept; `sqlite` at `.flue/flue.db` by default. */
  store?: StoreSpec;
  /** The project directory; the current directory by default. */
  projectDir?: string;
  /** The state directory; `<projectDir>/.flue` by default. */
  stateDir?: string;
  /** Provider overrides and additions, merged over the built-in table. */
  providers?: Record<string, Partial<ProviderSettings>>;
  /** Receives every event of the agent. */
  onEvent?: EventCallback;
  /**
   * OpenTelemetry tracing: `{ tracer, recordContent }`, or `false` for none. On by default with the global tracer
   * (`@flue/cli`), which records nothing until a tracer provider is registered (`OTEL_DENO=true` registers one).
   * Inside a workflow run the run's `telemetry` option applies instead.
   */
  telemetry?: TelemetryOptions | false;
}
