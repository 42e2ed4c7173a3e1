/**
 * The one rule every harness follows when a provider refuses a request as too long: ask the session to compact the
 * history, then try once more with the compacted conversation.
 *
 * @module
 */

import type { Message } from "../model/message.ts";
import { isContextOverflowError } from "../model/context_overflow.ts";
import type { HarnessRequest } from "./harness.ts";

/** A model call's result and the conversation the harness continues from. */
export interface CompactedCall<T> {
  /** What the call returned. */
  reply: T;
  /** The conversation that was sent: the harness's own, or the compacted one that replaced it. */
  messages: Message[];
}

/**
 * Makes a model call; when the provider refuses it as too long, asks the session to compact (`onContextOverflow`) and
 * calls once more. Any other error, a second overflow, or a session that cannot compact rethrows the error.
 *
 * @example Wrap a model call
 * ```ts ignore
 * const { reply, messages: sent } = await callWithCompaction(request, messages, (conversation) =>
 *   model.complete({ messages: conversation, tools, signal }));
 * messages = sent;
 * ```
 *
 * @param request The harness request, for its `onContextOverflow`.
 * @param messages The conversation to send.
 * @param call Sends a conversation to the model.
 * @returns The reply and the conversation to continue from.
 */
export async function callWithCompaction<T>(
  request: Pick<HarnessRequest, "onContextOverflow">,
  messages: Message[],
  call: (messages: readonly Message[]) => Promise<T>,
): Promise<CompactedCall<T>> {
  try {
    return { reply: await call(messages), messages };
  } catch (error) {
    if (!request.onContextOverflow || !isContextOverflowError(error)) throw error;
    const compacted = await request.onContextOverflow();
    if (!compacted) throw error;
    const retried = compacted.slice();
    return { reply: await call(retried), messages: retried };
  }
}
