import { assertCustomToolName, validateBuiltinTools } from "../tools/sandbox_tools.ts";
import { validateTelemetryOptions } from "../telemetry/tracing.ts";
import { validateCompactionOption } from "../session/compaction.ts";
import type { AgentOptions } from "./agent_options.ts";
import { validateMcpServers } from "../tools/mcp/mcp_servers.ts";
import { validateBudgetLimits } from "../session/operation_budget.ts";

const KNOWN_OPTIONS: readonly (keyof AgentOptions)[] = [
  "name",
  "id",
  "model",
  "instructions",
  "harness",
  "sandbox",
  "seedFrom",
  "allowWrite",
  "allowShell",
  "allowedCommands",
  "allowCompoundCommands",
  "allowNet",
  "allowInterpreters",
  "unconfinedShell",
  "allowProjectWrites",
  "env",
  "tools",
  "builtinTools",
  "commands",
  "mcpServers",
  "code",
  "skills",
  "roles",
  "subagents",
  "maxTaskDepth",
  "thinkingLevel",
  "stream",
  "record",
  "maxTurns",
  "maxTokens",
  "maxCostUsd",
  "timeoutMs",
  "toolTimeoutMs",
  "prices",
  "typedRetries",
  "compaction",
  "store",
  "projectDir",
  "stateDir",
  "providers",
  "onEvent",
  "telemetry",
];

const AGENT_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const BOOLEAN_OPTIONS = [
  "allowWrite",
  "allowShell",
  "allowCompoundCommands",
  "allowNet",
  "allowInterpreters",
  "unconfinedShell",
  "allowProjectWrites",
] as const;
const THINKING_LEVELS = ["off", "minimal", "low", "medium", "high", "xhigh"];

/**
 * Checks agent options at the boundary, so a misspelt policy option is an error rather than a silent denial.
 *
 * @param options The options given to `init()` or returned by `createAgent`.
 */
export function validateAgentOptions(options: AgentOptions): void {
  if (options === null || typeof options !== "object") throw new TypeError("Agent options must be an object");
  for (const key of Object.keys(options)) {
    if (!(KNOWN_OPTIONS as readonly string[]).includes(key)) {
      throw new TypeError(`Unknown agent option "${key}": known options are ${KNOWN_OPTIONS.join(", ")}`);
    }
  }
  if (options.name !== undefined && !AGENT_NAME.test(options.name)) {
    throw new TypeError(`Invalid agent name "${options.name}": use a letter, then letters, digits, "_" or "-"`);
  }
  if (options.id !== undefined && (typeof options.id !== "string" || options.id === "" || options.id.length > 256)) {
    throw new TypeError(`Invalid instance id "${options.id}": use 1 to 256 characters`);
  }
  for (const key of BOOLEAN_OPTIONS) {
    if (options[key] !== undefined && typeof options[key] !== "boolean") {
      throw new TypeError(`Option "${key}" must be true or false, got ${JSON.stringify(options[key])}`);
    }
  }
  if (
    options.allowedCommands !== undefined &&
    (!Array.isArray(options.allowedCommands) ||
      options.allowedCommands.some((entry) => typeof entry !== "string" || entry.trim() === ""))
  ) {
    throw new TypeError(`Option "allowedCommands" must be a list of programs, such as ["git", "ls"]`);
  }
  for (const key of ["maxTurns", "typedRetries"] as const) {
    const value = options[key];
    if (value !== undefined && (!Number.isInteger(value) || value < (key === "maxTurns" ? 1 : 0) || value > 1000)) {
      throw new TypeError(`Option "${key}" must be a whole number from ${key === "maxTurns" ? 1 : 0} to 1000`);
    }
  }
  validateBudgetLimits(options);
  validatePrices(options.prices);
  if (
    options.maxTaskDepth !== undefined &&
    (!Number.isInteger(options.maxTaskDepth) || options.maxTaskDepth < 0 || options.maxTaskDepth > 32)
  ) {
    throw new TypeError(`Option "maxTaskDepth" must be a whole number from 0 to 32, got ${options.maxTaskDepth}`);
  }
  for (const key of ["roles", "subagents"] as const) {
    const value = options[key];
    if (value !== undefined && (value === null || typeof value !== "object" || Array.isArray(value))) {
      throw new TypeError(
        `Option "${key}" must map names to definitions, such as { reviewer: { description: "..." } }`,
      );
    }
  }
  if (options.thinkingLevel !== undefined && !THINKING_LEVELS.includes(options.thinkingLevel)) {
    throw new TypeError(
      `Invalid thinkingLevel "${options.thinkingLevel}": use one of ${THINKING_LEVELS.join(", ")}`,
    );
  }
  validateCompactionOption(options.compaction);
  if (options.env !== undefined) {
    for (const [name, value] of Object.entries(options.env)) {
      if (typeof value !== "string") throw new TypeError(`env value "${name}" must be a string`);
    }
  }
  if (
    options.skills !== undefined && options.skills !== false &&
    (!Array.isArray(options.skills) || options.skills.some((name) => typeof name !== "string"))
  ) {
    throw new TypeError(`Option "skills" must be a list of skill names, such as ["triage"], or false for none`);
  }
  validateTelemetryOptions(options.telemetry);
  if (options.builtinTools !== undefined) validateBuiltinTools(options.builtinTools, "Option");
  if (options.stream !== undefined && typeof options.stream !== "boolean") {
    throw new TypeError(`Option "stream" must be true or false, got ${JSON.stringify(options.stream)}`);
  }
  if (options.tools !== undefined && !Array.isArray(options.tools)) {
    throw new TypeError(`Option "tools" must be a list of tools made by defineTool()`);
  }
  if (options.commands !== undefined && !Array.isArray(options.commands)) {
    throw new TypeError(`Option "commands" must be a list of commands made by defineCommand()`);
  }
  const names = new Set<string>();
  for (const tool of [...(options.tools ?? []), ...(options.commands ?? [])]) {
    assertCustomToolName(tool.name);
    if (names.has(tool.name)) {
      throw new TypeError(`Tool name "${tool.name}" is used twice: give each tool its own name`);
    }
    names.add(tool.name);
  }
  if (options.record !== undefined && (typeof options.record !== "string" || options.record === "")) {
    throw new TypeError(`Option "record" must be a cassette file path, such as "tests/cassettes/triage.json"`);
  }
  if (options.mcpServers !== undefined) validateMcpServers(options.mcpServers, options.env ?? {});
}

function validatePrices(prices: AgentOptions["prices"]): void {
  if (prices === undefined) return;
  if (prices === null || typeof prices !== "object" || Array.isArray(prices)) {
    throw new TypeError(`Option "prices" must map model names to { inputPerMillion, outputPerMillion }`);
  }
  for (const [model, price] of Object.entries(prices)) {
    const valid = price !== null && typeof price === "object" &&
      [price.inputPerMillion, price.outputPerMillion].every((value) => typeof value === "number" && value >= 0);
    if (!valid) {
      throw new TypeError(
        `Price of "${model}" must be { inputPerMillion, outputPerMillion } in US dollars, got ${JSON.stringify(price)}`,
      );
    }
  }
}
