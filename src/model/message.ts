/**
 * The provider-neutral conversation format that sessions store and harnesses send.
 *
 * @module
 */

/** A tool call the model asked for. `arguments` is the raw JSON text the model produced, unparsed. */
export interface ToolCall {
  /** The provider's id for this call, echoed in the tool's reply. */
  id: string;
  /** The tool's name. */
  name: string;
  /** The arguments as raw JSON text. */
  arguments: string;
}

/** One message of a conversation. */
export type Message =
  | { role: "system"; content: string }
  | { role: "user"; content: string }
  | { role: "assistant"; content: string; toolCalls?: ToolCall[] }
  | { role: "tool"; toolCallId: string; name: string; content: string; isError?: boolean };

/** Token counts of one or more model calls. */
export interface Usage {
  /** Prompt tokens. */
  inputTokens: number;
  /** Completion tokens. */
  outputTokens: number;
  /** Prompt plus completion tokens. */
  totalTokens: number;
  /** What the tokens cost in US dollars, when the model's price is known (`docs/budgets.md`). */
  costUsd?: number;
}

/**
 * An empty usage record.
 *
 * @returns Usage with every count at zero.
 */
export function emptyUsage(): Usage {
  return { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
}

/**
 * Adds `more` into `total` in place.
 *
 * @param total The running total, changed in place.
 * @param more The usage to add.
 * @returns `total`.
 */
export function addUsage(total: Usage, more: Usage): Usage {
  total.inputTokens += more.inputTokens;
  total.outputTokens += more.outputTokens;
  total.totalTokens += more.totalTokens;
  if (more.costUsd !== undefined) total.costUsd = (total.costUsd ?? 0) + more.costUsd;
  return total;
}
