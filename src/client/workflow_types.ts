/**
 * Types that carry a workflow's payload and result across HTTP: `FlueClient<Workflows>` takes the workflow modules'
 * types (`typeof import("./workflows/summarize.ts")`), so `runWorkflow` checks the payload and returns the result type.
 *
 * @module
 */

/** The shape of a workflow module as the client sees it: its `run`, and optionally its `payload` schema. */
export interface WorkflowShape {
  /**
   * Runs the workflow.
   *
   * @param context The workflow's context; only its `payload` type matters here.
   * @returns The result.
   */
  // deno-lint-ignore no-explicit-any -- any context type must be accepted, whatever payload it declares
  run(context: any): unknown;
  /** The payload schema, when the module exports one; its input type is what clients send. */
  payload?: { readonly _input?: unknown };
}

/** The workflows a client knows, by name. Without a type argument every workflow takes and returns `unknown`. */
export type WorkflowTypes = Record<string, WorkflowShape>;

/** The payload a workflow accepts: its schema's input type, else the type its `run(ctx)` declares for `ctx.payload`. */
export type WorkflowPayload<Module extends WorkflowShape> = Module extends { payload: { readonly _input: infer Input } }
  ? Input
  : Parameters<Module["run"]>[0] extends { readonly payload: infer Payload } ? Payload
  : unknown;

/** The result a workflow returns, as JSON gives it back. */
export type WorkflowResult<Module extends WorkflowShape> = Awaited<ReturnType<Module["run"]>>;
