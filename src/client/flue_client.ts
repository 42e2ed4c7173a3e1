/**
 * `FlueClient`: a typed client for a Flue server. Prompts, streams (typed events parsed from SSE), dispatches, runs
 * workflows, reads and follows runs, aborts; refusals become {@linkcode FlueClientError} with the server's envelope.
 *
 * @module
 */

import type { FlueEvent } from "../events/event_types.ts";
import type { PromptResponse } from "../session/session_types.ts";
import type { DispatchAttempt, DispatchError, DispatchStatus } from "../store/dispatch_queue.ts";
import type { HistoryEntry, RunRecord, RunStatus } from "../store/store.ts";
import type { WorkflowPayload, WorkflowResult, WorkflowShape, WorkflowTypes } from "./workflow_types.ts";
import type { ErrorEnvelope } from "../server/errors.ts";
import { errorFromResponse, FlueClientError } from "./client_error.ts";
import { readServerSentEvents } from "./_sse_reader.ts";

/** Options of {@linkcode FlueClient}. */
export interface FlueClientOptions {
  /** The server's base URL, such as `http://127.0.0.1:2024`. */
  baseUrl: string | URL;
  /** The bearer token (`FLUE_API_TOKEN` of the server). */
  token?: string;
  /** Extra headers sent with every request. */
  headers?: Record<string, string>;
  /** The fetch to use; the global one by default. */
  fetch?: typeof fetch;
}

/** Options of calls addressed to a session. */
export interface SessionCallOptions {
  /** The session name; `default` when omitted. */
  session?: string;
  /** Cancels the request. For a prompt it only stops waiting: use {@linkcode FlueClient.abort} to stop the work. */
  signal?: AbortSignal;
}

/** Options of {@linkcode FlueClient.dispatch}. */
export interface DispatchCallOptions extends SessionCallOptions {
  /** A repeat with the same key returns the first receipt instead of queueing the input twice. */
  idempotencyKey?: string;
}

/** What the server answers to a dispatch. */
export interface DispatchReceiptResponse {
  /** The dispatch id. */
  dispatchId: string;
  /** ISO 8601 admission time. */
  acceptedAt: string;
  /** False when an earlier dispatch with the same idempotency key was returned. */
  created: boolean;
  /** Where it stands. */
  status: DispatchStatus;
}

/** A dispatch as the server shows it. */
export interface DispatchView {
  /** The dispatch id. */
  dispatchId: string;
  /** The agent's name. */
  agent: string;
  /** The instance id. */
  id: string;
  /** The session name. */
  session: string;
  /** The input. */
  input: unknown;
  /** Where it stands. */
  status: DispatchStatus;
  /** Every attempt so far. */
  attempts: DispatchAttempt[];
  /** Attempts before it is dead. */
  maxAttempts: number;
  /** ISO 8601 admission time. */
  acceptedAt: string;
  /** ISO 8601 time before which it will not run. */
  availableAt: string;
  /** The idempotency key, if any. */
  idempotencyKey?: string;
  /** The result once done. */
  result?: unknown;
  /** The last error once failed or dead. */
  error?: DispatchError;
  /** ISO 8601 time it became done or dead. */
  finishedAt?: string;
}

/** A page of a session's history. */
export interface HistoryPage {
  /** The entries, in order. */
  entries: HistoryEntry[];
  /** Pass as `after` for the next page. */
  nextAfter: number;
  /** Whether more entries follow. */
  hasMore: boolean;
}

/** A page of a run's events. */
export interface RunEventsPage {
  /** The events, in order. */
  events: FlueEvent[];
  /** Pass as `after` for the next page. */
  nextAfter: number;
  /** Whether more events follow. */
  hasMore: boolean;
}

/** Filters of {@linkcode FlueClient.runEvents}. */
export interface RunEventsOptions {
  /** Only events after this `eventIndex`. */
  after?: number;
  /** At most this many (the server caps it at 1000). */
  limit?: number;
  /** Only events of these types. */
  types?: readonly string[];
}

/** The query of {@linkcode FlueClient.listRuns}. */
export interface ListRunsQuery {
  /** Only runs of this workflow. */
  workflow?: string;
  /** Only runs in these states. */
  status?: readonly RunStatus[];
  /** At most this many (1 to 1000; 50 by default). */
  limit?: number;
  /** The `nextCursor` of the previous page. */
  cursor?: string;
}

/** A page of {@linkcode FlueClient.listRuns}. */
export interface RunsPage {
  /** The runs, newest first. */
  runs: RunRecord[];
  /** Pass as `cursor` for the next page; absent on the last page. */
  nextCursor?: string;
}

/** Options of {@linkcode FlueClient.followRun}. */
export interface FollowRunOptions {
  /** Resume after this `eventIndex`; from the start when omitted. */
  after?: number;
  /** Stops following. */
  signal?: AbortSignal;
  /** Reconnections allowed when the stream drops before `run_end` (the server restarted); 5 by default. */
  maxReconnects?: number;
}

/** A streamed prompt: its events as they happen, and its result. */
export interface ClientEventStream extends AsyncIterable<FlueEvent> {
  /** The prompt's result; rejects with {@linkcode FlueClientError} when it failed. */
  readonly result: Promise<PromptResponse>;
}

const RECONNECT_DELAY_MS = 250;

/**
 * A client for a Flue server.
 *
 * @example Prompt an agent and follow a workflow run
 * ```ts ignore
 * import { FlueClient } from "flue";
 *
 * const client = new FlueClient({ baseUrl: "http://127.0.0.1:2024", token: Deno.env.get("FLUE_API_TOKEN") });
 * const { text } = await client.prompt("assistant", "user-1", "Hello");
 * const { runId } = await client.startWorkflow("summarize", { text });
 * for await (const event of client.followRun(runId)) console.log(event.type);
 * ```
 *
 * @example Typed by the workflow modules: payloads are checked and results typed
 * ```ts ignore
 * import { FlueClient } from "flue";
 * import type * as summarize from "./src/workflows/summarize.ts";
 *
 * const client = new FlueClient<{ summarize: typeof summarize }>({ baseUrl: "http://127.0.0.1:2024" });
 * const { result } = await client.runWorkflow("summarize", { text: "..." });
 * console.log(result.summary); // typed by summarize.run's return type
 * ```
 *
 * @typeParam Workflows The workflow modules' types by name; `runWorkflow` and `startWorkflow` then take only those
 * names, check the payload against each module's `payload` schema (or its `ctx.payload` type) and type the result.
 */
export class FlueClient<Workflows extends WorkflowTypes = Record<string, WorkflowShape>> {
  readonly #base: URL;
  readonly #headers: Record<string, string>;
  readonly #fetch: typeof fetch;

  /**
   * Creates a client. No request is made until a method is called.
   *
   * @param options The server's URL, the token and extra headers.
   */
  constructor(options: FlueClientOptions) {
    let base: URL;
    try {
      base = new URL(String(options?.baseUrl));
    } catch {
      throw new TypeError(
        `Invalid baseUrl ${JSON.stringify(options?.baseUrl)}: use a URL such as http://127.0.0.1:2024`,
      );
    }
    if (base.protocol !== "http:" && base.protocol !== "https:") {
      throw new TypeError(`Invalid baseUrl "${base}": use http: or https:`);
    }
    if (!base.pathname.endsWith("/")) base.pathname += "/";
    this.#base = base;
    this.#headers = { ...options.headers };
    if (options.token !== undefined) this.#headers.authorization = `Bearer ${options.token}`;
    this.#fetch = options.fetch ?? fetch;
  }

  /**
   * Checks the server is up.
   *
   * @returns Whether it answered `/health`.
   */
  async health(): Promise<boolean> {
    const body = await this.#json<{ ok: boolean }>("GET", "health");
    return body.ok === true;
  }

  /**
   * Checks the server can serve: its store answers.
   *
   * @returns Whether it is ready (`false` for 503 `store_unavailable`).
   */
  async ready(): Promise<boolean> {
    try {
      return (await this.#json<{ ok: boolean }>("GET", "ready")).ok === true;
    } catch (error) {
      if (error instanceof FlueClientError && error.status === 503) return false;
      throw error;
    }
  }

  /**
   * Reads the server's manifest: its agents, workflows and routes.
   *
   * @returns The manifest.
   */
  manifest(): Promise<{ agents: { name: string }[]; workflows: { name: string }[]; routes: unknown[] }> {
    return this.#json("GET", "agents");
  }

  /**
   * Prompts an agent instance and waits for the answer.
   *
   * @param agent The agent's name.
   * @param id The instance id.
   * @param message The message.
   * @param options The session and a signal.
   * @returns The answer.
   */
  async prompt(agent: string, id: string, message: string, options: SessionCallOptions = {}): Promise<PromptResponse> {
    const body = await this.#json<{ result: PromptResponse }>("POST", agentPath(agent, id), {
      body: { message, session: options.session },
      signal: options.signal,
    });
    return body.result;
  }

  /**
   * Prompts an agent instance and yields its events as they happen (server-sent events, parsed and typed).
   * Leaving the loop early stops reading; the prompt itself keeps running on the server (use `abort` to stop it).
   *
   * @param agent The agent's name.
   * @param id The instance id.
   * @param message The message.
   * @param options The session and a signal.
   * @returns The events and the result.
   */
  stream(agent: string, id: string, message: string, options: SessionCallOptions = {}): ClientEventStream {
    const result = Promise.withResolvers<PromptResponse>();
    result.promise.catch(() => {}); // observed by whoever reads it; not an unhandled rejection meanwhile
    const open = () =>
      this.#request("POST", agentPath(agent, id), {
        body: { message, session: options.session },
        signal: options.signal,
        accept: "text/event-stream",
      });
    const events = async function* (): AsyncGenerator<FlueEvent> {
      let settled = false;
      try {
        const response = await open();
        for await (const message of readServerSentEvents(response.body!)) {
          if (message.event === "result") {
            result.resolve((JSON.parse(message.data) as { result: PromptResponse }).result);
            settled = true;
          } else if (message.event === "failed") {
            result.reject(new FlueClientError(0, JSON.parse(message.data) as ErrorEnvelope));
            settled = true;
          } else {
            yield JSON.parse(message.data) as FlueEvent;
          }
        }
        if (!settled) {
          result.reject(new Error("The event stream ended before the prompt's result: the connection was cut"));
          settled = true;
        }
      } catch (error) {
        if (!settled) result.reject(error);
        settled = true;
        throw error;
      } finally {
        if (!settled) result.reject(new Error("Stopped reading the event stream before the prompt's result"));
      }
    };
    let started: AsyncGenerator<FlueEvent> | undefined;
    return {
      result: result.promise,
      [Symbol.asyncIterator]: () => {
        if (started) throw new TypeError("A client event stream can be iterated once");
        started = events();
        return started;
      },
    };
  }

  /**
   * Queues an input durably; the server answers once it is stored.
   *
   * @param agent The agent's name.
   * @param id The instance id.
   * @param message The message.
   * @param options The session, an idempotency key and a signal.
   * @returns The receipt.
   */
  dispatch(
    agent: string,
    id: string,
    message: string,
    options: DispatchCallOptions = {},
  ): Promise<DispatchReceiptResponse> {
    return this.#json("POST", `${agentPath(agent, id)}/dispatch`, {
      body: { message, session: options.session },
      signal: options.signal,
      headers: options.idempotencyKey === undefined ? undefined : { "idempotency-key": options.idempotencyKey },
    });
  }

  /**
   * Reads a dispatch's state and attempts.
   *
   * @param dispatchId The dispatch.
   * @returns The dispatch.
   */
  getDispatch(dispatchId: string): Promise<DispatchView> {
    return this.#json("GET", `dispatches/${encodeURIComponent(dispatchId)}`);
  }

  /**
   * Lists dispatches, such as the dead letters.
   *
   * @param query States and a limit.
   * @returns The dispatches, oldest first.
   */
  async listDispatches(query: { status?: readonly DispatchStatus[]; limit?: number } = {}): Promise<DispatchView[]> {
    const params = new URLSearchParams();
    if (query.status?.length) params.set("status", query.status.join(","));
    if (query.limit !== undefined) params.set("limit", String(query.limit));
    const body = await this.#json<{ dispatches: DispatchView[] }>("GET", withQuery("dispatches", params));
    return body.dispatches;
  }

  /**
   * Puts a dead dispatch back in the queue.
   *
   * @param dispatchId The dispatch.
   * @returns The dispatch as queued again.
   */
  replayDispatch(dispatchId: string): Promise<DispatchView> {
    return this.#json("POST", `dispatches/${encodeURIComponent(dispatchId)}/replay`);
  }

  /**
   * Waits until a dispatch is done or dead, polling its state.
   *
   * @param dispatchId The dispatch.
   * @param options Poll interval and a signal.
   * @returns The finished dispatch.
   */
  async waitForDispatch(
    dispatchId: string,
    options: { pollMs?: number; signal?: AbortSignal } = {},
  ): Promise<DispatchView> {
    while (true) {
      const view = await this.getDispatch(dispatchId);
      if (view.status === "done" || view.status === "dead") return view;
      await delay(options.pollMs ?? 100, options.signal);
    }
  }

  /**
   * Cancels what a session runs on the server.
   *
   * @param agent The agent's name.
   * @param id The instance id.
   * @param options The session.
   * @returns Whether anything was running.
   */
  async abort(agent: string, id: string, options: SessionCallOptions = {}): Promise<boolean> {
    const body = await this.#json<{ aborted: boolean }>("POST", `${agentPath(agent, id)}/abort`, {
      body: { session: options.session },
      signal: options.signal,
    });
    return body.aborted;
  }

  /**
   * Reads a page of a session's stored history.
   *
   * @param agent The agent's name.
   * @param id The instance id.
   * @param options The session, and where the page starts.
   * @returns The page.
   */
  history(
    agent: string,
    id: string,
    options: { session?: string; after?: number; limit?: number } = {},
  ): Promise<HistoryPage> {
    const params = new URLSearchParams();
    if (options.session !== undefined) params.set("session", options.session);
    if (options.after !== undefined) params.set("after", String(options.after));
    if (options.limit !== undefined) params.set("limit", String(options.limit));
    return this.#json("GET", withQuery(`${agentPath(agent, id)}/history`, params));
  }

  /**
   * Lists an agent instance's stored sessions.
   *
   * @param agent The agent's name.
   * @param id The instance id.
   * @returns The session names, sorted.
   */
  async sessions(agent: string, id: string): Promise<string[]> {
    const body = await this.#json<{ sessions: string[] }>("GET", `${agentPath(agent, id)}/sessions`);
    return body.sessions;
  }

  /**
   * Lists runs, newest first.
   *
   * @param query Filters, the page size, and the `nextCursor` of the previous page.
   * @returns The page: runs and, when more follow, `nextCursor`.
   */
  listRuns(query: ListRunsQuery = {}): Promise<RunsPage> {
    const params = new URLSearchParams();
    if (query.workflow !== undefined) params.set("workflow", query.workflow);
    if (query.status?.length) params.set("status", query.status.join(","));
    if (query.limit !== undefined) params.set("limit", String(query.limit));
    if (query.cursor !== undefined) params.set("cursor", query.cursor);
    return this.#json("GET", withQuery("runs", params));
  }

  /**
   * Starts a workflow run and returns at once.
   *
   * @param name The workflow.
   * @param payload Its input.
   * @param options The instance id.
   * @returns The run id.
   */
  startWorkflow<Name extends keyof Workflows & string>(
    name: Name,
    payload?: WorkflowPayload<Workflows[Name]>,
    options: { id?: string } = {},
  ): Promise<{ runId: string }> {
    return this.#json("POST", withQuery(workflowPath(name), idParams(options.id)), { body: payload });
  }

  /**
   * Runs a workflow and waits for its result. A failed run rejects with the server's envelope.
   *
   * @param name The workflow.
   * @param payload Its input.
   * @param options The instance id and a signal.
   * @returns The result and the run id.
   */
  runWorkflow<Name extends keyof Workflows & string>(
    name: Name,
    payload?: WorkflowPayload<Workflows[Name]>,
    options: { id?: string; signal?: AbortSignal } = {},
  ): Promise<{ result: WorkflowResult<Workflows[Name]>; runId: string }> {
    const params = idParams(options.id);
    params.set("wait", "result");
    return this.#json("POST", withQuery(workflowPath(name), params), { body: payload, signal: options.signal });
  }

  /**
   * Reads a run's record.
   *
   * @param runId The run.
   * @returns The record.
   */
  getRun(runId: string): Promise<RunRecord> {
    return this.#json("GET", `runs/${encodeURIComponent(runId)}`);
  }

  /**
   * Reads a page of a run's stored events.
   *
   * @param runId The run.
   * @param options Where the page starts, its size and event types.
   * @returns The page.
   */
  runEvents(runId: string, options: RunEventsOptions = {}): Promise<RunEventsPage> {
    const params = new URLSearchParams();
    if (options.after !== undefined) params.set("after", String(options.after));
    if (options.limit !== undefined) params.set("limit", String(options.limit));
    if (options.types?.length) params.set("types", options.types.join(","));
    return this.#json("GET", withQuery(`runs/${encodeURIComponent(runId)}/events`, params));
  }

  /**
   * Follows a run's events live until `run_end`, also for a run that already ended. When the connection drops
   * before the end (the server restarted), it reconnects and resumes after the last event it saw.
   *
   * @param runId The run.
   * @param options Where to resume, a signal, and how many reconnections are allowed.
   * @returns The events, in order, without repeats.
   */
  async *followRun(runId: string, options: FollowRunOptions = {}): AsyncGenerator<FlueEvent> {
    let after = options.after ?? -1;
    let reconnects = 0;
    while (true) {
      let response: Response;
      try {
        response = await this.#request("GET", `runs/${encodeURIComponent(runId)}/stream`, {
          signal: options.signal,
          accept: "text/event-stream",
          headers: { "last-event-id": String(after) },
        });
      } catch (error) {
        if (error instanceof FlueClientError || options.signal?.aborted) throw error;
        if (++reconnects > (options.maxReconnects ?? 5)) throw error;
        await delay(RECONNECT_DELAY_MS * reconnects, options.signal);
        continue;
      }
      try {
        for await (const message of readServerSentEvents(response.body!)) {
          const event = JSON.parse(message.data) as FlueEvent;
          if (event.eventIndex <= after) continue;
          after = event.eventIndex;
          reconnects = 0;
          yield event;
          if (event.type === "run_end") return;
        }
      } catch (error) {
        if (options.signal?.aborted) throw error;
      }
      if (++reconnects > (options.maxReconnects ?? 5)) {
        throw new Error(`The stream of run "${runId}" ended before run_end, after ${reconnects - 1} reconnections`);
      }
      await delay(RECONNECT_DELAY_MS * reconnects, options.signal);
    }
  }

  /**
   * Waits for a run to end, following its events.
   *
   * @param runId The run.
   * @param options A signal.
   * @returns The run's final record.
   */
  async waitForRun(runId: string, options: { signal?: AbortSignal } = {}): Promise<RunRecord> {
    for await (const _event of this.followRun(runId, { signal: options.signal })) {
      // Following to run_end is the wait.
    }
    return await this.getRun(runId);
  }

  /**
   * Cancels a run executing in the server.
   *
   * @param runId The run.
   * @returns Whether it was running there.
   */
  async abortRun(runId: string): Promise<boolean> {
    const body = await this.#json<{ aborted: boolean }>("POST", `runs/${encodeURIComponent(runId)}/abort`);
    return body.aborted;
  }

  async #json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.#request(method, path, options);
    return await response.json() as T;
  }

  async #request(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { ...this.#headers, ...options.headers };
    if (options.accept) headers.accept = options.accept;
    let body: string | undefined;
    if (options.body !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(options.body);
    }
    const response = await this.#fetch(new URL(path, this.#base), { method, headers, body, signal: options.signal });
    if (response.status >= 400) throw await errorFromResponse(response);
    return response;
  }
}

interface RequestOptions {
  body?: unknown;
  signal?: AbortSignal;
  accept?: string;
  headers?: Record<string, string>;
}

function agentPath(agent: string, id: string): string {
  return `agents/${encodeURIComponent(agent)}/${encodeURIComponent(id)}`;
}

function workflowPath(name: string): string {
  return `workflows/${encodeURIComponent(name)}`;
}

function idParams(id: string | undefined): URLSearchParams {
  const params = new URLSearchParams();
  if (id !== undefined) params.set("id", id);
  return params;
}

function withQuery(path: string, params: URLSearchParams): string {
  const query = params.toString();
  return query ? `${path}?${query}` : path;
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
