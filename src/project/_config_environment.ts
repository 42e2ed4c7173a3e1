/**
 * `FLUE_*` environment variables that override configuration keys. Only keys that choose where and how an agent runs
 * can be overridden; policy keys (`allowWrite`, `allowShell`, ...) cannot, so the environment never widens what an
 * agent may do.
 *
 * @module
 */

/** A configuration key an environment variable overrides, and how its text becomes a value. */
interface EnvironmentOverride {
  /** The variable. */
  variable: string;
  /** The configuration key. */
  key: string;
  /** Turns the variable's text into the key's value (the configuration schema validates it afterwards). */
  parse(text: string): unknown;
}

const asText = (text: string): unknown => text;
const asInteger = (text: string): unknown => (/^-?\d+$/.test(text.trim()) ? Number(text.trim()) : text);

/** The overrides, in the order they are documented in `docs/configuration.md`. */
export const ENVIRONMENT_OVERRIDES: readonly EnvironmentOverride[] = [
  { variable: "FLUE_MODEL", key: "model", parse: asText },
  { variable: "FLUE_AGENT", key: "agent", parse: asText },
  { variable: "FLUE_HARNESS", key: "harness", parse: asText },
  { variable: "FLUE_SANDBOX", key: "sandbox", parse: asText },
  { variable: "FLUE_STORE", key: "store", parse: asText },
  { variable: "FLUE_STATE_DIR", key: "stateDir", parse: asText },
  { variable: "FLUE_THINKING_LEVEL", key: "thinkingLevel", parse: asText },
  { variable: "FLUE_MAX_TURNS", key: "maxTurns", parse: asInteger },
  { variable: "FLUE_TYPED_RETRIES", key: "typedRetries", parse: asInteger },
];

/** Reads one variable; `undefined` when unset, empty, or not readable under the process's permissions. */
export type ReadVariable = (name: string) => string | undefined;

/**
 * Reads a variable from the process environment. Without `--allow-env` for it, the variable counts as unset rather
 * than failing the whole configuration.
 *
 * @param name The variable.
 * @returns Its value, or `undefined`.
 */
export function readProcessVariable(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) return undefined;
    throw error;
  }
}

/**
 * Applies the `FLUE_*` overrides to a raw configuration object (before validation).
 *
 * @param raw The `"flue"` object from `deno.json`.
 * @param read Reads a variable.
 * @returns The object with overridden keys, and which variable set each key (for error messages).
 */
export function applyEnvironmentOverrides(
  raw: Record<string, unknown>,
  read: ReadVariable,
): { config: Record<string, unknown>; sources: Map<string, string> } {
  const config = { ...raw };
  const sources = new Map<string, string>();
  for (const override of ENVIRONMENT_OVERRIDES) {
    const text = read(override.variable);
    if (text === undefined) continue;
    config[override.key] = override.parse(text);
    sources.set(override.key, override.variable);
  }
  return { config, sources };
}
