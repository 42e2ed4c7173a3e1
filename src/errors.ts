/**
 * The error classes callers branch on. Each sets `name`, accepts `{ cause }` and carries the structured fields a caller
 * needs. Everything else throws the built-in error types (`TypeError`, `RangeError`, `SyntaxError`).
 *
 * @module
 */

/** A policy option denied an action: a write, a command, compound shell syntax, network or a path outside the workspace. */
export class PolicyDeniedError extends Error {
  /** What was denied, for example `write to "src/a.ts"` or `command "rm"`. */
  readonly denied: string;
  /** The option that would allow it, for example `allowWrite` or `allowedCommands`. */
  readonly option: string;

  /**
   * Creates the error.
   *
   * @param denied What was denied.
   * @param option The policy option that would allow it.
   * @param message The full message; a default naming both is built when omitted.
   * @param options Standard error options (`cause`).
   */
  constructor(denied: string, option: string, message?: string, options?: ErrorOptions) {
    super(message ?? `Policy denied ${denied}: set "${option}" to allow it`, options);
    this.name = "PolicyDeniedError";
    this.denied = denied;
    this.option = option;
  }
}

/** The sandbox needed for an operation is not available on this machine (for example bubblewrap is not installed). */
export class SandboxUnavailableError extends Error {
  /** A command that installs what is missing, when one is known. */
  readonly installCommand?: string;

  /**
   * Creates the error.
   *
   * @param message What is missing and why it is needed.
   * @param options `installCommand` and standard error options.
   */
  constructor(message: string, options?: ErrorOptions & { installCommand?: string }) {
    super(message, options);
    this.name = "SandboxUnavailableError";
    this.installCommand = options?.installCommand;
  }
}

/** A budget an operation may spend: model calls, tokens, dollars, or wall-clock time. */
export type BudgetName = "maxTurns" | "maxTokens" | "maxCostUsd" | "timeoutMs";

const BUDGET_UNITS: Record<BudgetName, string> = {
  maxTurns: "turns",
  maxTokens: "tokens",
  maxCostUsd: "USD",
  timeoutMs: "ms",
};

/**
 * An operation spent more than one of its budgets (`docs/budgets.md`) and was ended. What ran before the limit was
 * passed stays in the history; the operation's answer, if any, is not returned.
 */
export class BudgetExceededError extends Error {
  /** The budget that was exceeded, named as its option. */
  readonly budget: BudgetName;
  /** The limit that was set. */
  readonly limit: number;
  /** What the operation had spent of that budget when it was ended (turns, tokens, US dollars or milliseconds). */
  readonly spent: number;

  /**
   * Creates the error.
   *
   * @param budget The budget that was exceeded.
   * @param limit The limit that was set.
   * @param spent What was spent of it.
   * @param options Standard error options (`cause`).
   */
  constructor(budget: BudgetName, limit: number, spent: number, options?: ErrorOptions) {
    const unit = BUDGET_UNITS[budget];
    super(
      `The operation exceeded its "${budget}" budget: spent ${formatAmount(spent)} ${unit} of ${
        formatAmount(limit)
      }; raise "${budget}" or narrow the task`,
      options,
    );
    this.name = "BudgetExceededError";
    this.budget = budget;
    this.limit = limit;
    this.spent = spent;
  }
}

function formatAmount(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(6).replace(/0+$/, "");
}

/** One validation problem of a typed result: where it is and what was wrong. */
export interface ResultIssue {
  /** Path into the value, such as `["items", 0, "title"]`; empty for the root. */
  path: (string | number)[];
  /** What was wrong, in words. */
  message: string;
}

/** A typed call did not produce data matching its schema within the allowed retries. */
export class ResultValidationError extends Error {
  /** The model's last raw text. */
  readonly rawText: string;
  /** The validation issues of the last attempt. */
  readonly issues: ResultIssue[];
  /** How many attempts were made in all. */
  readonly attempts: number;

  /**
   * Creates the error.
   *
   * @param rawText The model's last raw text.
   * @param issues The validation issues of the last attempt.
   * @param attempts How many attempts were made.
   * @param options Standard error options (`cause`).
   */
  constructor(rawText: string, issues: ResultIssue[], attempts: number, options?: ErrorOptions) {
    const summary = issues.slice(0, 5).map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`).join(
      "; ",
    );
    super(`Model output did not match the result schema after ${attempts} attempt(s): ${summary}`, options);
    this.name = "ResultValidationError";
    this.rawText = rawText;
    this.issues = issues;
    this.attempts = attempts;
  }
}

/** A workflow's input did not match the `payload` schema it exports; nothing ran. */
export class PayloadValidationError extends TypeError {
  /** The workflow's name. */
  readonly workflow: string;
  /** The validation issues. */
  readonly issues: ResultIssue[];

  /**
   * Creates the error.
   *
   * @param workflow The workflow's name.
   * @param issues The validation issues.
   * @param options Standard error options (`cause`).
   */
  constructor(workflow: string, issues: ResultIssue[], options?: ErrorOptions) {
    const summary = issues.slice(0, 5).map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`).join(
      "; ",
    );
    super(`Invalid payload for workflow "${workflow}": ${summary}`, options);
    this.name = "PayloadValidationError";
    this.workflow = workflow;
    this.issues = issues;
  }
}

/** A model provider request failed. */
export class ModelError extends Error {
  /** The HTTP status, when the provider answered. */
  readonly status?: number;
  /** Whether retrying the same request may succeed (429, 5xx, network errors, timeouts). */
  readonly isRetryable: boolean;
  /** The provider name from the model string. */
  readonly provider?: string;
  /** Whether the provider refused the request for its length; a session then compacts its history and retries once. */
  readonly isContextOverflow: boolean;

  /**
   * Creates the error.
   *
   * @param message What failed.
   * @param options Status, retryability, provider, whether the context overflowed, and standard error options.
   */
  constructor(
    message: string,
    options?: ErrorOptions & { status?: number; isRetryable?: boolean; provider?: string; isContextOverflow?: boolean },
  ) {
    super(message, options);
    this.name = "ModelError";
    this.status = options?.status;
    this.isRetryable = options?.isRetryable ?? false;
    this.provider = options?.provider;
    this.isContextOverflow = options?.isContextOverflow ?? false;
  }
}

/** An operation was cancelled by `abort()`, a `CallHandle`, or an `AbortSignal`. */
export class AbortError extends Error {
  /** The reason given to `abort(reason)`, if any. */
  readonly reason?: unknown;
  /** What the cancelled work produced before it stopped, such as a command's output so far. */
  readonly partial?: unknown;

  /**
   * Creates the error.
   *
   * @param message What was aborted.
   * @param options The abort reason, the partial result, and standard error options.
   */
  constructor(message = "The operation was aborted", options?: ErrorOptions & { reason?: unknown; partial?: unknown }) {
    super(message, options);
    this.name = "AbortError";
    this.reason = options?.reason;
    this.partial = options?.partial;
  }
}

/** A named thing (agent, workflow, skill, session, run) does not exist. */
export class NotFoundError extends Error {
  /** The kind of thing, such as `workflow`. */
  readonly kind: string;
  /** The name that was looked up. */
  readonly lookedUp: string;

  /**
   * Creates the error.
   *
   * @param kind The kind of thing.
   * @param lookedUp The name that was looked up.
   * @param message The full message; a default is built when omitted.
   * @param options Standard error options (`cause`).
   */
  constructor(kind: string, lookedUp: string, message?: string, options?: ErrorOptions) {
    super(message ?? `No ${kind} named "${lookedUp}"`, options);
    this.name = "NotFoundError";
    this.kind = kind;
    this.lookedUp = lookedUp;
  }
}

/**
 * Turns an abort signal's reason into an {@linkcode AbortError}, keeping one that already is.
 *
 * @param signal The aborted signal.
 * @returns The error to throw.
 */
export function abortErrorFrom(signal: AbortSignal): AbortError {
  const reason = signal.reason;
  if (reason instanceof AbortError) return reason;
  const text = reason instanceof Error ? reason.message : reason === undefined ? undefined : String(reason);
  return new AbortError(text ? `The operation was aborted: ${text}` : undefined, { reason, cause: reason });
}
