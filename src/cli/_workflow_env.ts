/**
 * The `ctx.env` a workflow run from the CLI receives: the process environment without the standard system variables.
 * A run redacts every `ctx.env` value from its events and record, so passing `PATH`, `HOME` or `PWD` would blank out
 * ordinary paths in every log; none of them is a secret a workflow hands to its agents.
 *
 * @module
 */

const SYSTEM_VARIABLES = new Set([
  "PATH",
  "HOME",
  "PWD",
  "OLDPWD",
  "SHELL",
  "USER",
  "LOGNAME",
  "LANG",
  "LANGUAGE",
  "TERM",
  "COLORTERM",
  "SHLVL",
  "HOSTNAME",
  "TMPDIR",
  "TEMP",
  "TMP",
  "TZ",
  "NO_COLOR",
  "EDITOR",
  "VISUAL",
  "PAGER",
  "MAIL",
  "_",
]);
const SYSTEM_PREFIXES = ["LC_", "XDG_", "TERM_", "DENO_", "NODE_", "npm_", "SSH_", "DBUS_"];

/**
 * Whether a variable is a standard system variable rather than a value a workflow may need.
 *
 * @param name The variable's name.
 * @returns Whether it is left out of `ctx.env`.
 */
export function isSystemVariable(name: string): boolean {
  return SYSTEM_VARIABLES.has(name) || SYSTEM_PREFIXES.some((prefix) => name.startsWith(prefix));
}

/**
 * The environment handed to a workflow as `ctx.env`.
 *
 * @param environment The process environment.
 * @returns It, without the system variables.
 */
export function workflowEnvironment(environment: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(environment).filter(([name]) => !isSystemVariable(name)));
}
