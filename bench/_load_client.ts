/**
 * The load generator of `server_load.ts`, run in a Web Worker so that sending requests does not compete with the
 * server for the main thread: concurrent clients, each sending its next request as soon as the last one answered.
 */

/** What the worker is asked to do. */
export interface LoadRequest {
  /** The URL to POST to. */
  url: string;
  /** How many clients send at once. */
  concurrency: number;
  /** How many requests in all. */
  requests: number;
  /** Whether each client uses its own session (the body then names it). */
  sessions: boolean;
  /** Distinguishes the sessions of different rounds and targets. */
  label: string;
}

/** What the worker reports. */
export interface LoadResult {
  /** Milliseconds from the first request to the last answer. */
  elapsedMs: number;
  /** Each request's latency in milliseconds. */
  latencies: number[];
  /** Requests that failed or answered anything but 200 with a JSON body. */
  errors: number;
  /** The first failure, to say what went wrong. */
  firstError?: string;
}

async function runLoad(request: LoadRequest): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let next = 0;
  const client = async (index: number) => {
    while (next < request.requests) {
      const sequence = next++;
      const body = JSON.stringify(
        request.sessions
          ? { message: `Prompt ${sequence}`, session: `${request.label}-client-${index}` }
          : { message: `Prompt ${sequence}` },
      );
      const started = performance.now();
      try {
        const response = await fetch(request.url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        });
        const text = await response.text();
        if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${text.slice(0, 200)}`);
        JSON.parse(text);
      } catch (error) {
        errors++;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
      latencies.push(performance.now() - started);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: request.concurrency }, (_, index) => client(index)));
  return { elapsedMs: performance.now() - started, latencies, errors, firstError };
}

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<LoadRequest>) => void) | null;
  postMessage(message: LoadResult): void;
};
scope.onmessage = async (event) => scope.postMessage(await runLoad(event.data));
